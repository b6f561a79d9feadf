#include "webserver.h"

#include "webconnection.h"
#include "weblogging.h"

#include "clientaddress.h"

#include <QSslSocket>

#include <algorithm>
#include <limits>
#include <memory>

#include <unistd.h>

WebServer::WebServer(const QSslConfiguration &tls, WebApi *api, const Options &options, QObject *parent)
    : QSslServer(parent)
    , m_api(api)
    , m_options(options)
    , m_perAddress(std::numeric_limits<int>::max(), options.maxConnectionsPerAddress) // the total: maxPendingConnections
{
    setSslConfiguration(tls);
    setHandshakeTimeout(options.handshakeTimeoutMs);
    // Connections still in their handshake count as pending in Qt 6.4: with
    // the default of 30, a few silent clients would stall everyone.
    setMaxPendingConnections(options.maxConnections);
    setListenBacklogSize(std::max(options.maxConnections, 128));
    // newConnection comes before the handshake in 6.4; this one after it.
    connect(this, &QTcpServer::pendingConnectionAvailable, this, &WebServer::acceptPending);
    // Once per client: QSslServer deletes the socket after its first error.
    connect(this, &QSslServer::errorOccurred, this, [this](QSslSocket *socket, QAbstractSocket::SocketError error) {
        const auto handshake = m_handshakes.constFind(socket);
        if (handshake == m_handshakes.cend())
            return;
        logTlsHandshakeFailure(lcWeb(), handshake->address, handshake->port,
                               tlsHandshakeFailureReason(socket, error, handshakeTimeout()));
        m_handshakes.erase(handshake);
    });
}

void WebServer::incomingConnection(qintptr socketDescriptor)
{
    const QString address = clientAddressOfSocket(socketDescriptor);
    if (address.isEmpty() || !m_perAddress.tryAcquire(address)) {
        // Nothing can be said before a handshake we do not want to spend.
        if (!address.isEmpty())
            qCInfo(lcWeb).noquote() << address << "refused: too many connections from this address";
        ::close(int(socketDescriptor));
        return;
    }
    QSslServer::incomingConnection(socketDescriptor);
    // QSslServer made a child socket of it (6.4 gives no signal with it
    // here); the slot is the address's until that socket disconnects or is
    // deleted (a failed handshake), whichever comes first.
    const auto handshaking = findChildren<QSslSocket *>(Qt::FindDirectChildrenOnly);
    const auto made = std::find_if(handshaking.cbegin(), handshaking.cend(), [socketDescriptor](QSslSocket *socket) {
        return socket->socketDescriptor() == socketDescriptor;
    });
    if (made == handshaking.cend()) {
        m_perAddress.release(address);
        return;
    }
    const auto releaseOnce = [this, address, released = std::make_shared<bool>(false)] {
        if (!std::exchange(*released, true))
            m_perAddress.release(address);
    };
    // Not `this` as the context: QSslServer cuts every connection between
    // the socket and itself when the handshake ends.
    connect(*made, &QAbstractSocket::disconnected, &m_slotContext, releaseOnce);
    connect(*made, &QObject::destroyed, &m_slotContext, releaseOnce);

    m_handshakes.insert(*made, Handshake{address, (*made)->peerPort()});
    connect(*made, &QSslSocket::encrypted, &m_slotContext, [this, socket = *made] { m_handshakes.remove(socket); });
    // Closed without an error (QSslServer drops a client whose first byte
    // cannot begin a TLS handshake, plain HTTP say, without a word).
    connect(*made, &QObject::destroyed, &m_slotContext, [this](QObject *socket) {
        const auto handshake = m_handshakes.constFind(socket);
        if (handshake == m_handshakes.cend())
            return;
        logTlsHandshakeFailure(lcWeb(), handshake->address, handshake->port,
                               QStringLiteral("not TLS (its first byte cannot begin a handshake)"));
        m_handshakes.erase(handshake);
    });
}

void WebServer::acceptPending()
{
    while (QTcpSocket *pending = nextPendingConnection()) {
        auto *socket = qobject_cast<QSslSocket *>(pending);
        if (!socket || m_connections.size() >= m_options.maxConnections) {
            pending->abort();
            pending->deleteLater();
            continue;
        }
        // Each answer is written whole at once. Nagle's algorithm would hold
        // the first one back until the client acknowledged the session
        // tickets sent after the handshake: a delayed ACK, 40 ms.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto *connection = new WebConnection(socket, m_api, m_options.limits, m_options.keepAliveMs, this);
        m_connections.insert(connection);
        connect(connection, &WebConnection::finished, this, [this, connection] {
            m_connections.remove(connection);
            if (m_connections.isEmpty())
                Q_EMIT allConnectionsClosed();
        });
        connection->start();
    }
}

void WebServer::shutDown()
{
    close();
    for (WebConnection *connection : std::as_const(m_connections))
        connection->shutDown();
    if (m_connections.isEmpty())
        Q_EMIT allConnectionsClosed();
}
