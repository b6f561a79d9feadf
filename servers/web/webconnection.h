#pragma once

#include "connectionlistener.h"
#include "httpmessage.h"
#include "idledeadline.h"

#include <QElapsedTimer>
#include <QSslConfiguration>

class ConnectionCloser;
class QSslSocket;
class ServerTls;
class WebApi;

// One HTTPS client (implicit TLS): after the handshake, reads requests with
// the parser, answers them one at a time and in order (pipelined ones wait
// their turn), keeps the connection alive unless asked not to, and closes
// it after the keep-alive timeout. The TLS side and the closing are the
// server core's (ServerTls, ConnectionCloser).
class WebConnection : public ServerConnection
{
    Q_OBJECT
public:
    struct Options
    {
        HttpLimits limits;
        int keepAliveMs = 60000;
        int handshakeTimeoutMs = 10000;
        // An append's message (docs/protocol/web.md §1) may be this large.
        qint64 maxUploadBytes = 0;
    };

    // `api` lives on this connection's thread.
    WebConnection(QSslSocket *socket, const QSslConfiguration &tls, WebApi *api, const Options &options,
                  QObject *parent = nullptr);
    ~WebConnection() override;
    void start() override;
    // The request being answered, if any, is answered (with "Connection:
    // close"); then the connection closes.
    void shutDown() override;

private:
    void readAvailable();
    void processNext();
    enum class Close { AfterWrite, Lingering };
    void send(const HttpResponse &response, const HttpRequest *request, bool keepAlive, Close close = Close::AfterWrite);
    void closeAfterWrite();
    void closeLingering();
    // After the head of an event stream: the connection writes what the
    // hub sends until either side ends it (docs/protocol/web.md §6).
    void beginEventStream(const HttpResponse &head, const HttpRequest &request);

    QSslSocket *m_socket = nullptr;
    WebApi *m_api = nullptr;
    ServerTls *m_tls = nullptr;
    ConnectionCloser *m_closer = nullptr;
    HttpRequestParser m_parser;
    IdleDeadline *m_idleDeadline = nullptr;
    QElapsedTimer m_requestTimer;
    QString m_peerAddress;
    quint64 m_streamTicket = 0;
    qint64 m_uploadBytes = 0; // of the process's upload budget, held until answered
    void releaseUpload();
    // Bytes written and not yet sent: plain and encrypted.
    [[nodiscard]] qint64 writeBacklog() const;
    bool m_busy = false;
    bool m_closing = false;
    bool m_shutdownRequested = false;
};
