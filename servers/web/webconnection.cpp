#include "webconnection.h"

#include "eventhub.h"
#include "webapi.h"
#include "weblogging.h"

#include "clientaddress.h"
#include "connectioncloser.h"
#include "servertls.h"

#include <QSslSocket>

#include <atomic>

namespace {
constexpr qint64 ReadChunk = 64 * 1024;
constexpr qint64 WriteBacklogLimit = 1024 * 1024;
// Uploads are held whole until answered: all connections of the process
// together hold at most this much of them (more wait: 503).
constexpr qint64 UploadBudgetBytes = 128 * 1024 * 1024;
std::atomic<qint64> uploadBytesHeld{0};
} // namespace

WebConnection::WebConnection(QSslSocket *socket, const QSslConfiguration &tls, WebApi *api, const Options &options,
                             QObject *parent)
    : ServerConnection(parent)
    , m_socket(socket)
    , m_api(api)
    , m_parser(options.limits)
    , m_peerAddress(clientAddressText(socket->peerAddress()))
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(ReadChunk * 4);
    if (options.maxUploadBytes > 0) {
        m_parser.setUploadRule(options.maxUploadBytes, [this](const HttpRequest &head, qint64 length) {
            // Only where an upload is taken, and from a client that says
            // who it is (the token is checked once the body is in).
            if (head.method != "POST" || !WebApi::takesUpload(head.path) || !head.hasHeader("authorization"))
                return HttpRequestParser::Upload::None;
            if (uploadBytesHeld.fetch_add(length) + length > std::max(UploadBudgetBytes, length)) {
                uploadBytesHeld.fetch_sub(length);
                return HttpRequestParser::Upload::Busy;
            }
            m_uploadBytes += length;
            return HttpRequestParser::Upload::Admitted;
        });
    }
    m_socket->setSslConfiguration(tls);
    m_tls = new ServerTls(m_socket, options.handshakeTimeoutMs, lcWeb(), m_peerAddress, this);
    m_closer = new ConnectionCloser(m_socket, this);
    m_idleDeadline = new IdleDeadline(options.keepAliveMs, [this] {
        if (m_parser.bufferedBytes() > 0 && !m_busy) {
            // A request begun and never finished: say so before closing.
            send(HttpResponse::error({408, "timeout", QStringLiteral("The request was not completed in time.")}), nullptr, false);
            return;
        }
        closeAfterWrite();
    }, this);
    connect(m_tls, &ServerTls::established, this, [this] {
        m_idleDeadline->start();
        readAvailable(); // the handshake may have brought data already
    });
    connect(m_tls, &ServerTls::failed, this, [this] {
        m_closing = true;
        m_idleDeadline->stop();
    });
    connect(m_socket, &QSslSocket::readyRead, this, &WebConnection::readAvailable);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, m_closer, &ConnectionCloser::progressed);
    connect(m_socket, &QSslSocket::bytesWritten, this, [this] {
        m_closer->progressed();
        if (writeBacklog() < WriteBacklogLimit / 2)
            readAvailable();
    });
    connect(m_socket, &QSslSocket::disconnected, this, [this] {
        m_closing = true;
        m_idleDeadline->stop();
        if (m_streamTicket && m_api->eventHub())
            m_api->eventHub()->release(std::exchange(m_streamTicket, 0));
        Q_EMIT finished();
        deleteLater();
    });
}

qint64 WebConnection::writeBacklog() const
{
    // bytesToWrite() is only what waits to be encrypted: the TLS layer moves
    // it on at once, into what waits for the network.
    return m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite();
}

void WebConnection::releaseUpload()
{
    if (m_uploadBytes)
        uploadBytesHeld.fetch_sub(std::exchange(m_uploadBytes, 0));
}

WebConnection::~WebConnection()
{
    releaseUpload();
    // A stream's place is given back however the connection ends.
    if (m_streamTicket && m_api->eventHub())
        m_api->eventHub()->release(m_streamTicket);
}

void WebConnection::start()
{
    // QSslServer's rule, kept: a client whose first byte cannot begin a
    // handshake is closed without a word.
    m_tls->startHandshake(ServerTls::FirstByte::MustBeginHandshake);
}

void WebConnection::readAvailable()
{
    if (m_closer->isLingering()) {
        m_closer->discardInput();
        return;
    }
    if (m_closing || !m_socket->isEncrypted())
        return;
    if (m_streamTicket) {
        // A stream takes no more requests: what the client sends is dropped.
        m_socket->skip(m_socket->bytesAvailable());
        return;
    }
    while (m_socket->bytesAvailable() > 0 && m_parser.bufferedBytes() < m_parser.bufferLimit()
           && writeBacklog() < WriteBacklogLimit) {
        // The timeout runs from a request's first byte to its end (408 when
        // it is not complete by then): restarting it on every read would let
        // a client dribbling a byte a second keep the connection (slowloris).
        const bool beginsRequest = m_parser.bufferedBytes() == 0;
        m_parser.feed(m_socket->read(ReadChunk));
        if (!m_busy && beginsRequest)
            m_idleDeadline->start();
    }
    processNext();
}

void WebConnection::processNext()
{
    if (m_busy || m_closing)
        return;
    HttpRequest request;
    HttpError error;
    switch (m_parser.next(&request, &error)) {
    case HttpRequestParser::Status::NeedMore:
        return;
    case HttpRequestParser::Status::Failed:
        send(HttpResponse::error(error), nullptr, false, Close::Lingering);
        return;
    case HttpRequestParser::Status::Complete:
        break;
    }
    m_busy = true;
    m_idleDeadline->stop();
    m_requestTimer.start();
    m_api->handle(request, m_peerAddress, this, [this, request](HttpResponse response) {
        m_busy = false;
        releaseUpload();
        if (response.streamTicket)
            return beginEventStream(response, request);
        send(response, &request, request.keepAlive && !m_shutdownRequested);
        if (!m_closing) {
            m_idleDeadline->start();
            readAvailable();
        }
    });
}

void WebConnection::send(const HttpResponse &response, const HttpRequest *request, bool keepAlive, Close close)
{
    const bool head = request && request->method == "HEAD";
    m_socket->write(response.serialize(keepAlive, head));
    // One access-log line per request: never headers, so never a token.
    qCInfo(lcWeb).noquote() << m_peerAddress << (request ? QString::fromLatin1(request->method) : QStringLiteral("-"))
                            << (request ? request->path : QStringLiteral("-")) << response.status << response.body.size()
                            << QStringLiteral("%1ms").arg(m_requestTimer.isValid() ? m_requestTimer.elapsed() : 0);
    if (keepAlive)
        return;
    if (close == Close::Lingering)
        closeLingering();
    else
        closeAfterWrite();
}

void WebConnection::beginEventStream(const HttpResponse &head, const HttpRequest &request)
{
    EventHub *hub = m_api->eventHub();
    if (m_shutdownRequested || !hub) {
        if (hub)
            hub->release(head.streamTicket);
        HttpResponse refusal = HttpResponse::error(
            {503, "unavailable", QStringLiteral("The server is shutting down, try again shortly.")});
        return send(refusal, &request, false);
    }
    m_streamTicket = head.streamTicket;
    m_idleDeadline->stop();
    m_socket->write(head.serialize(false));
    qCInfo(lcWeb).noquote() << m_peerAddress << "GET" << request.path << head.status << "stream begins";
    QPointer<WebConnection> self(this);
    hub->attach(m_streamTicket,
                {this,
                 [self](const QByteArray &bytes) {
                     if (!self || self->m_closing)
                         return;
                     // A reader that does not read is dropped before its
                     // backlog passes the limit; the others go on.
                     if (self->writeBacklog() + bytes.size() > EventHub::MaxBacklogBytes) {
                         qCInfo(lcWeb).noquote() << self->m_peerAddress << "event stream dropped: not read";
                         self->m_closing = true;
                         self->m_socket->abort();
                         return;
                     }
                     self->m_socket->write(bytes);
                 },
                 [self] {
                     if (self)
                         self->closeAfterWrite();
                 }});
}

void WebConnection::closeLingering()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleDeadline->stop();
    m_closer->closeLingering();
}

void WebConnection::closeAfterWrite()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleDeadline->stop();
    m_closer->closeAfterWrite();
}

void WebConnection::shutDown()
{
    m_shutdownRequested = true;
    if (m_tls->isHandshaking()) {
        m_closing = true;
        m_socket->abort();
        return;
    }
    if (!m_busy || m_streamTicket)
        closeAfterWrite();
}
