#pragma once

#include "connectionlistener.h"
#include "httpmessage.h"

#include <QHash>
#include <QSet>
#include <QSslServer>

class WebApi;
class WebConnection;

// The HTTPS listener: QSslServer handshakes each client (with a timeout, and
// enough pending slots that clients stuck in their handshake delay no one,
// QT64-NOTES), then hands the encrypted socket to a WebConnection.
class WebServer : public QSslServer
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
    };
    WebServer(const QSslConfiguration &tls, WebApi *api, const Options &options, QObject *parent = nullptr);

    void shutDown();
    [[nodiscard]] int connectionCount() const { return int(m_connections.size()); }

Q_SIGNALS:
    void allConnectionsClosed();

protected:
    void incomingConnection(qintptr socketDescriptor) override;

private:
    void acceptPending();

    WebApi *m_api;
    Options m_options;
    QSet<WebConnection *> m_connections;
    // Per client address, from the accept to the socket's end, handshake
    // included: one address cannot take every slot.
    ConnectionLimiter m_perAddress;
    // Clients in their handshake: their address and port as accepted, for
    // the log line of a failure (QSslServer reports a timeout after closing
    // the socket, when the socket no longer knows its peer).
    struct Handshake
    {
        QString address;
        quint16 port = 0;
    };
    QHash<const QObject *, Handshake> m_handshakes;
    QObject m_slotContext;
};
