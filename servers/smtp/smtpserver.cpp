#include "smtpserver.h"

#include "clientaddress.h"
#include "smtplogging.h"

#include <QSslSocket>

ConnectionLimiter::ConnectionLimiter(int total, int perAddress)
    : m_total(total)
    , m_perAddress(perAddress)
{
}

bool ConnectionLimiter::tryAcquire(const QString &address)
{
    if (m_open >= m_total || m_byAddress.value(address) >= m_perAddress)
        return false;
    ++m_open;
    ++m_byAddress[address];
    return true;
}

void ConnectionLimiter::release(const QString &address)
{
    --m_open;
    auto it = m_byAddress.find(address);
    if (it != m_byAddress.end() && --*it <= 0)
        m_byAddress.erase(it);
}

SmtpServer::SmtpServer(const SmtpConnection::Options &options, const QSslConfiguration &tls, SmtpBackend *backend,
                       ConnectionLimiter *limiter, int maxConnections, QObject *parent)
    : QTcpServer(parent)
    , m_options(options)
    , m_tls(tls)
    , m_backend(backend)
    , m_limiter(limiter)
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
    const QString address = clientAddressText(socket->peerAddress());
    if (m_shuttingDown || !m_limiter->tryAcquire(address)) {
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
    connect(connection, &SmtpConnection::finished, this, [this, connection, address] {
        m_connections.remove(connection);
        m_limiter->release(address);
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
