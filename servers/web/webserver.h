#pragma once

#include "connectionlistener.h"
#include "webconnection.h"

#include <QObject>
#include <QSslConfiguration>

#include <memory>

class EventHub;
class WebApi;

// The HTTPS port of mailroom-webd on one thread, serving one WebApi, for a
// program that embeds it (the tests). Made of the server core's parts, as
// WebDaemon is: the ConnectionListener (limits checked at the accept, per
// client address too, handshakes included) and WebConnections.
class WebServer : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        HttpLimits limits;
        int keepAliveMs = 60000;
        int handshakeTimeoutMs = 10000;
        int maxConnections = 1024;
        int maxConnectionsPerAddress = 64;
        int eventKeepAliveMs = 25000;
    };
    WebServer(const QSslConfiguration &tls, WebApi *api, const Options &options, QObject *parent = nullptr);
    ~WebServer() override;

    bool listen(const QHostAddress &address, quint16 port);
    [[nodiscard]] quint16 serverPort() const { return m_listener->serverPort(); }
    [[nodiscard]] QString errorString() const { return m_listener->errorString(); }
    // Stops accepting; the open connections go on.
    void close() { m_listener->close(); }
    // Stops accepting, answers what is in flight, closes every connection.
    void shutDown() { m_listener->shutDown(); }
    [[nodiscard]] int connectionCount() const { return m_listener->connectionCount(); }

Q_SIGNALS:
    void allConnectionsClosed();

private:
    std::unique_ptr<ConnectionLimiter> m_limiter;
    std::unique_ptr<NetworkThreads> m_threads;
    std::unique_ptr<EventHub> m_eventHub;
    ConnectionListener *m_listener = nullptr;
};
