#pragma once

#include <QHash>
#include <QLoggingCategory>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTcpServer>
#include <QThread>

#include <functional>
#include <memory>
#include <vector>

class QSslSocket;

// Logs a TLS handshake that failed or timed out, in one form for every
// server: "ADDRESS TLS handshake failed (client port N): REASON". Give the
// address and port taken at accept time: once the socket is closed they
// are gone.
void logTlsHandshakeFailure(const QLoggingCategory &category, const QString &address, quint16 port,
                            const QString &reason);
// Why a handshake failed, from the error the socket or QSslServer reported:
// a timeout, the client closing, or the TLS library's own message.
[[nodiscard]] QString tlsHandshakeFailureReason(const QSslSocket *socket, QAbstractSocket::SocketError error,
                                                int timeoutMs);

// Open connections in all and per client address, shared by every listener
// and network thread of one server (docs/PROTOCOL.md: 1024 in all, 64 per
// address).
// Thread-safe.
class ConnectionLimiter
{
public:
    ConnectionLimiter(int total, int perAddress);
    [[nodiscard]] bool tryAcquire(const QString &address);
    void release(const QString &address);

private:
    QMutex m_mutex;
    int m_total;
    int m_perAddress;
    int m_open = 0;
    QHash<QString, int> m_byAddress;
};

// One client of a line-protocol server (SMTP, POP3): it owns its socket and
// says finished() once, when it is done. Its parent is the ConnectionHost of
// its thread.
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

// The event-loop threads a server spreads its connections over. With one,
// connections are served on the thread that made it and no thread is
// started. Destroying it stops the threads, after what they were serving.
class NetworkThreads
{
public:
    explicit NetworkThreads(int count);
    ~NetworkThreads();
    NetworkThreads(const NetworkThreads &) = delete;
    NetworkThreads &operator=(const NetworkThreads &) = delete;

    [[nodiscard]] QList<QThread *> threads() const { return m_threads; }
    // 0 asks for one per CPU core, at most 8.
    [[nodiscard]] static int resolveCount(int requested);

private:
    std::vector<std::unique_ptr<QThread>> m_owned;
    QList<QThread *> m_threads;
};

class ConnectionHost;

// Accepts clients of a STARTTLS or implicit-TLS line protocol within the
// shared connection limits, and hands each to the least busy network thread,
// where a QSslSocket is made for it (the connection upgrades it later, or
// handshakes at once). Beyond the limits, or while shutting down, a client gets the
// protocol's refusal line (in plain text only: with implicit TLS there is no
// way to say it) and is closed.
class ConnectionListener : public QTcpServer
{
    Q_OBJECT
public:
    // Called on the network thread; `parent` is that thread's host.
    using Factory = std::function<ServerConnection *(QSslSocket *socket, QObject *parent)>;
    struct Refusals
    {
        QByteArray tooManyConnections; // empty: close without a word
        QByteArray shuttingDown;
    };

    ConnectionListener(Factory factory, Refusals refusals, ConnectionLimiter *limiter, int maxConnections,
                       const NetworkThreads &threads, const QLoggingCategory &category, QObject *parent = nullptr);

    void shutDown();
    // Clients handed to the threads and not done with yet.
    [[nodiscard]] int connectionCount() const { return m_open; }

Q_SIGNALS:
    void allConnectionsClosed();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    struct Host
    {
        QPointer<ConnectionHost> host;
        int open = 0;
    };
    void released(int hostIndex);

    Refusals m_refusals;
    ConnectionLimiter *m_limiter;
    const QLoggingCategory &m_category;
    std::vector<Host> m_hosts;
    int m_open = 0;
    bool m_shuttingDown = false;
};

// The connections of one listener on one network thread.
class ConnectionHost : public QObject
{
    Q_OBJECT
public:
    ConnectionHost(ConnectionListener::Factory factory, ConnectionLimiter *limiter);

    // On the host's thread. The client at `address` holds a slot of the
    // limiter already; it is given back when the connection finishes.
    void accept(qintptr socketDescriptor, const QString &address);
    void shutDown();

Q_SIGNALS:
    // A client handed over is done with (its connection finished).
    void released();

private:
    ConnectionListener::Factory m_factory;
    ConnectionLimiter *m_limiter;
    QSet<ServerConnection *> m_connections;
};
