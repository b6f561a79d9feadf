#include "webserver.h"

#include "webconnection.h"
#include "weblogging.h"

#include <QSslSocket>

WebServer::WebServer(const QSslConfiguration &tls, WebApi *api, const Options &options, QObject *parent)
    : QSslServer(parent)
    , m_api(api)
    , m_options(options)
{
    setSslConfiguration(tls);
    setHandshakeTimeout(options.handshakeTimeoutMs);
    // Connections still in their handshake count as pending in Qt 6.4: with
    // the default of 30, a few silent clients would stall everyone.
    setMaxPendingConnections(options.maxConnections);
    setListenBacklogSize(std::max(options.maxConnections, 128));
    // newConnection comes before the handshake in 6.4; this one after it.
    connect(this, &QTcpServer::pendingConnectionAvailable, this, &WebServer::acceptPending);
    connect(this, &QSslServer::errorOccurred, this, [](QSslSocket *socket, QAbstractSocket::SocketError) {
        qCInfo(lcWeb).noquote() << socket->peerAddress().toString() << "TLS handshake failed:" << socket->errorString();
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
