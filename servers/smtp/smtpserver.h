#pragma once

#include "smtpconnection.h"

#include <QHash>
#include <QSet>
#include <QSslConfiguration>
#include <QTcpServer>

class SmtpBackend;

// Open connections in all and per client address, shared by every listener
// of the server (SPEC: 1024 in all, 64 per address).
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

// Accepts SMTP clients: a QSslSocket per connection (STARTTLS upgrades it
// later; with implicit TLS it handshakes at once), within the total and
// per-address connection limits.
class SmtpServer : public QTcpServer
{
    Q_OBJECT
public:
    SmtpServer(const SmtpConnection::Options &options, const QSslConfiguration &tls, SmtpBackend *backend,
               ConnectionLimiter *limiter, int maxConnections, QObject *parent = nullptr);

    void shutDown();
    [[nodiscard]] int connectionCount() const { return int(m_connections.size()); }

Q_SIGNALS:
    void allConnectionsClosed();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    SmtpConnection::Options m_options;
    QSslConfiguration m_tls;
    SmtpBackend *m_backend;
    ConnectionLimiter *m_limiter;
    QSet<SmtpConnection *> m_connections;
    bool m_shuttingDown = false;
};
