#include "smtpserver.h"

#include "smtplogging.h"

#include <QSslSocket>

SmtpServer::SmtpServer(const SmtpConnection::Options &options, const QSslConfiguration &tls, SmtpBackend *backend,
                       int maxConnections, int maxConnectionsPerAddress, QObject *parent)
    : QTcpServer(parent)
    , m_options(options)
    , m_tls(tls)
    , m_backend(backend)
    , m_maxConnections(maxConnections)
    , m_maxConnectionsPerAddress(maxConnectionsPerAddress)
{
    setMaxPendingConnections(maxConnections);
    // The kernel's accept queue must hold a burst of new clients; with the
    // default of 50 the rest of a burst waits out SYN retransmits (1 s, 3 s, ...).
    setListenBacklogSize(std::max(maxConnections, 128));
}

void SmtpServer::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QSslSocket;
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        delete socket;
        return;
    }
    const QString address = socket->peerAddress().toString();
    if (m_shuttingDown || m_connections.size() >= m_maxConnections
        || m_perAddress.value(address) >= m_maxConnectionsPerAddress) {
        qCInfo(lcSmtp).noquote() << address << "refused: too many connections";
        // With implicit TLS there is no way to say it in plain text.
        if (!m_options.session.implicitTls)
            socket->write(m_shuttingDown ? "421 4.3.2 Service shutting down\r\n" : "421 4.7.0 Too many connections\r\n");
        socket->disconnectFromHost();
        connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
        return;
    }
    auto *connection = new SmtpConnection(socket, m_tls, m_options, m_backend, this);
    m_connections.insert(connection);
    ++m_perAddress[address];
    connect(connection, &SmtpConnection::finished, this, [this, connection, address] {
        m_connections.remove(connection);
        if (--m_perAddress[address] <= 0)
            m_perAddress.remove(address);
        if (m_connections.isEmpty())
            Q_EMIT allConnectionsClosed();
    });
    connection->start();
}

void SmtpServer::shutDown()
{
    m_shuttingDown = true;
    close();
    for (SmtpConnection *connection : std::as_const(m_connections))
        connection->shutDown();
    if (m_connections.isEmpty())
        Q_EMIT allConnectionsClosed();
}
