#include "connectionlistener.h"

#include "clientaddress.h"

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

ConnectionListener::ConnectionListener(Factory factory, Refusals refusals, ConnectionLimiter *limiter,
                                       int maxConnections, const QLoggingCategory &category, QObject *parent)
    : QTcpServer(parent)
    , m_factory(std::move(factory))
    , m_refusals(std::move(refusals))
    , m_limiter(limiter)
    , m_category(category)
{
    setMaxPendingConnections(maxConnections);
    // The kernel's accept queue must hold a burst of new clients; with the
    // default of 50 the rest of a burst waits out SYN retransmits (1 s, 3 s, ...).
    setListenBacklogSize(std::max(maxConnections, 128));
}

void ConnectionListener::incomingConnection(qintptr socketDescriptor)
{
    auto *socket = new QSslSocket;
    if (!socket->setSocketDescriptor(socketDescriptor)) {
        delete socket;
        return;
    }
    const QString address = clientAddressText(socket->peerAddress());
    if (m_shuttingDown || !m_limiter->tryAcquire(address)) {
        qCInfo(m_category).noquote() << address << "refused:" << (m_shuttingDown ? "shutting down" : "too many connections");
        socket->write(m_shuttingDown ? m_refusals.shuttingDown : m_refusals.tooManyConnections);
        socket->disconnectFromHost();
        connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
        return;
    }
    ServerConnection *connection = m_factory(socket, this);
    m_connections.insert(connection);
    connect(connection, &ServerConnection::finished, this, [this, connection, address] {
        m_connections.remove(connection);
        m_limiter->release(address);
        if (m_connections.isEmpty())
            Q_EMIT allConnectionsClosed();
    });
    connection->start();
}

void ConnectionListener::shutDown()
{
    m_shuttingDown = true;
    close();
    for (ServerConnection *connection : std::as_const(m_connections))
        connection->shutDown();
    if (m_connections.isEmpty())
        Q_EMIT allConnectionsClosed();
}
