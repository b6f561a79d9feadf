#pragma once

#include "smtpconnection.h"

#include <QHash>
#include <QSet>
#include <QSslConfiguration>
#include <QTcpServer>

class SmtpBackend;

// Accepts SMTP clients: a QSslSocket per connection (STARTTLS upgrades it
// later; with implicit TLS it handshakes at once), within the total and
// per-address connection limits.
class SmtpServer : public QTcpServer
{
    Q_OBJECT
public:
    SmtpServer(const SmtpConnection::Options &options, const QSslConfiguration &tls, SmtpBackend *backend,
               int maxConnections, int maxConnectionsPerAddress, QObject *parent = nullptr);

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
    int m_maxConnections;
    int m_maxConnectionsPerAddress;
    QSet<SmtpConnection *> m_connections;
    QHash<QString, int> m_perAddress;
    bool m_shuttingDown = false;
};
