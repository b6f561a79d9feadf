#include "connectionlistener.h"

#include "clientaddress.h"

#include <QHostAddress>
#include <QMutexLocker>
#include <QSslSocket>

#include <algorithm>

#include <unistd.h>

void logTlsHandshakeFailure(const QLoggingCategory &category, const QString &address, quint16 port,
                            const QString &reason)
{
    qCInfo(category).noquote() << address << QStringLiteral("TLS handshake failed (client port %1):").arg(port)
                               << reason;
}

QString tlsHandshakeFailureReason(const QSslSocket *socket, QAbstractSocket::SocketError error, int timeoutMs)
{
    switch (error) {
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("no handshake within %1 s").arg(timeoutMs / 1000.0);
    case QAbstractSocket::RemoteHostClosedError:
        return QStringLiteral("the client closed the connection");
    default:
        break;
    }
    // QSslServer reports some errors without setting the socket's own: its
    // text would then be "Unknown error".
    if (socket && socket->error() == error)
        return socket->errorString();
    return QStringLiteral("socket error %1").arg(int(error));
}

ConnectionLimiter::ConnectionLimiter(int total, int perAddress)
    : m_total(total)
    , m_perAddress(perAddress)
{
}

bool ConnectionLimiter::tryAcquire(const QString &address)
{
    QMutexLocker lock(&m_mutex);
    if (m_open >= m_total || m_byAddress.value(address) >= m_perAddress)
        return false;
    ++m_open;
    ++m_byAddress[address];
    return true;
}

void ConnectionLimiter::release(const QString &address)
{
    QMutexLocker lock(&m_mutex);
    --m_open;
    auto it = m_byAddress.find(address);
    if (it != m_byAddress.end() && --*it <= 0)
        m_byAddress.erase(it);
}

NetworkThreads::NetworkThreads(int count)
{
    if (count <= 1) {
        m_threads.append(QThread::currentThread());
        return;
    }
    for (int i = 0; i < count; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("network-%1").arg(i + 1));
        thread->start();
        m_threads.append(thread.get());
        m_owned.push_back(std::move(thread));
    }
}

NetworkThreads::~NetworkThreads()
{
    for (const auto &thread : m_owned)
        thread->quit();
    for (const auto &thread : m_owned)
        thread->wait();
}

int NetworkThreads::resolveCount(int requested)
{
    if (requested > 0)
        return requested;
    return std::clamp(QThread::idealThreadCount(), 1, 8);
}

ConnectionListener::ConnectionListener(Factory factory, Refusals refusals, ConnectionLimiter *limiter,
                                       int maxConnections, const NetworkThreads &threads,
                                       const QLoggingCategory &category, QObject *parent)
    : QTcpServer(parent)
    , m_refusals(std::move(refusals))
    , m_limiter(limiter)
    , m_category(category)
{
    setMaxPendingConnections(maxConnections);
    // The kernel's accept queue must hold a burst of new clients; with the
    // default of 50 the rest of a burst waits out SYN retransmits (1 s, 3 s, ...).
    setListenBacklogSize(std::max(maxConnections, 128));
    const QList<QThread *> list = threads.threads();
    for (int i = 0; i < list.size(); ++i) {
        auto *host = new ConnectionHost(factory, limiter);
        if (list.at(i) == thread()) {
            host->setParent(this);
        } else {
            host->moveToThread(list.at(i));
            // Its connections are deleted with it, on their own thread, when
            // the thread stops.
            connect(list.at(i), &QThread::finished, host, &QObject::deleteLater, Qt::DirectConnection);
        }
        connect(host, &ConnectionHost::released, this, [this, i] { released(i); });
        m_hosts.push_back(Host{host, 0});
    }
}

void ConnectionListener::incomingConnection(qintptr socketDescriptor)
{
    // Admission happens here, in the order clients arrive; the threads only
    // serve who was let in (deciding there, a later client on an idle thread
    // could take the last slot of an earlier one).
    const QString address = clientAddressOfSocket(socketDescriptor);
    if (address.isEmpty()) {
        ::close(int(socketDescriptor)); // gone already
        return;
    }
    if (m_shuttingDown || !m_limiter->tryAcquire(address)) {
        qCInfo(m_category).noquote() << address << "refused:" << (m_shuttingDown ? "shutting down" : "too many connections");
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(socketDescriptor)) {
            delete socket;
            return;
        }
        socket->write(m_shuttingDown ? m_refusals.shuttingDown : m_refusals.tooManyConnections);
        socket->disconnectFromHost();
        connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
        return;
    }
    const auto least = std::min_element(m_hosts.begin(), m_hosts.end(),
                                        [](const Host &a, const Host &b) { return a.open < b.open; });
    ++least->open;
    ++m_open;
    QMetaObject::invokeMethod(least->host, [host = least->host, socketDescriptor, address] {
        if (host)
            host->accept(socketDescriptor, address);
    });
}

void ConnectionListener::released(int hostIndex)
{
    --m_hosts[hostIndex].open;
    if (--m_open == 0)
        Q_EMIT allConnectionsClosed();
}

void ConnectionListener::shutDown()
{
    m_shuttingDown = true;
    close();
    for (const Host &entry : m_hosts) {
        QMetaObject::invokeMethod(entry.host, [host = entry.host] {
            if (host)
                host->shutDown();
        });
    }
    if (m_open == 0)
        Q_EMIT allConnectionsClosed();
}

ConnectionHost::ConnectionHost(ConnectionListener::Factory factory, ConnectionLimiter *limiter)
    : m_factory(std::move(factory))
    , m_limiter(limiter)
{
}

void ConnectionHost::accept(qintptr socketDescriptor, const QString &address)
{
    auto *socket = new QSslSocket;
    // Unbuffered: what TLS makes of a reply goes to the kernel at once,
    // rather than into a buffer the event loop writes out later (turning
    // the socket's write notifier on and off for every reply).
    if (!socket->setSocketDescriptor(socketDescriptor, QAbstractSocket::ConnectedState,
                                     QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        delete socket;
        m_limiter->release(address);
        Q_EMIT released();
        return;
    }
    // Replies are written whole: Nagle would hold the first one after a TLS
    // handshake until the client acknowledged the session tickets (40 ms).
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    ServerConnection *connection = m_factory(socket, this);
    m_connections.insert(connection);
    connect(connection, &ServerConnection::finished, this, [this, connection, address] {
        m_connections.remove(connection);
        m_limiter->release(address);
        Q_EMIT released();
    });
    connection->start();
}

void ConnectionHost::shutDown()
{
    // A copy: a connection may finish, and leave the set, as it is told.
    const QSet<ServerConnection *> connections = m_connections;
    for (ServerConnection *connection : connections)
        connection->shutDown();
}
