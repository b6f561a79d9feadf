#pragma once

#include <QHash>
#include <QLoggingCategory>
#include <QObject>
#include <QSet>
#include <QTcpServer>

#include <functional>

class QSslSocket;

// Open connections in all and per client address, shared by every listener
// of one server (SPEC: 1024 in all, 64 per address).
class ConnectionLimiter
{
public:
    ConnectionLimiter(int total, int perAddress);
    [[nodiscard]] bool tryAcquire(const QString &address);
    void release(const QString &address);

private:
    int m_total;
    int m_perAddress;
    int m_open = 0;
    QHash<QString, int> m_byAddress;
};

// One client of a line-protocol server (SMTP, POP3): it owns its socket and
// says finished() once, when it is done.
class ServerConnection : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    virtual void start() = 0;
    // Stop serving: finish what is in flight, say so and close.
    virtual void shutDown() = 0;

Q_SIGNALS:
    void finished();
};

// Accepts clients of a STARTTLS or implicit-TLS line protocol: a QSslSocket
// per connection (the connection upgrades it later, or handshakes at once),
// within the shared connection limits. Beyond them, or while shutting down,
// a client gets the protocol's refusal line (in plain text only: with
// implicit TLS there is no way to say it) and is closed.
class ConnectionListener : public QTcpServer
{
    Q_OBJECT
public:
    using Factory = std::function<ServerConnection *(QSslSocket *socket, QObject *parent)>;
    struct Refusals
    {
        QByteArray tooManyConnections; // empty: close without a word
        QByteArray shuttingDown;
    };

    ConnectionListener(Factory factory, Refusals refusals, ConnectionLimiter *limiter, int maxConnections,
                       const QLoggingCategory &category, QObject *parent = nullptr);

    void shutDown();
    [[nodiscard]] int connectionCount() const { return int(m_connections.size()); }

Q_SIGNALS:
    void allConnectionsClosed();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    Factory m_factory;
    Refusals m_refusals;
    ConnectionLimiter *m_limiter;
    const QLoggingCategory &m_category;
    QSet<ServerConnection *> m_connections;
    bool m_shuttingDown = false;
};
