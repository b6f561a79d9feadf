#include "webserver.h"

#include "eventhub.h"
#include "webapi.h"
#include "weblogging.h"

WebServer::WebServer(const QSslConfiguration &tls, WebApi *api, const Options &options, QObject *parent)
    : QObject(parent)
    , m_limiter(std::make_unique<ConnectionLimiter>(options.maxConnections, options.maxConnectionsPerAddress))
    , m_threads(std::make_unique<NetworkThreads>(1))
{
    if (!api->eventHub()) {
        m_eventHub = std::make_unique<EventHub>(api->config(), options.eventKeepAliveMs);
        QString error;
        if (m_eventHub->start(&error))
            api->setEventHub(m_eventHub.get());
        else
            qCWarning(lcWeb).noquote() << "event streams are unavailable:" << error;
    }
    const WebConnection::Options connection{options.limits, options.keepAliveMs, options.handshakeTimeoutMs,
                                            api->config().limits.maxMessageBytes};
    const auto factory = [tls, api, connection](QSslSocket *socket, QObject *parent) -> ServerConnection * {
        return new WebConnection(socket, tls, api, connection, parent);
    };
    // With implicit TLS a refusal cannot be said: the client is closed unanswered.
    m_listener = new ConnectionListener(factory, {}, m_limiter.get(), options.maxConnections, *m_threads, lcWeb(), this);
    connect(m_listener, &ConnectionListener::allConnectionsClosed, this, &WebServer::allConnectionsClosed);
}

WebServer::~WebServer()
{
    // The connections (the listener's children here) go before the limiter they give their slots back to.
    delete m_listener;
    m_threads.reset();
}

bool WebServer::listen(const QHostAddress &address, quint16 port)
{
    return m_listener->listen(address, port);
}
