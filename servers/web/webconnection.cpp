#include "webconnection.h"

#include "webapi.h"
#include "weblogging.h"

#include "clientaddress.h"

#include <QSslSocket>

namespace {
constexpr qint64 ReadChunk = 64 * 1024;
constexpr qint64 WriteBacklogLimit = 1024 * 1024;
constexpr qint64 LingerMaxBytes = 32 * 1024 * 1024;

} // namespace

WebConnection::WebConnection(QSslSocket *socket, WebApi *api, HttpLimits limits, int keepAliveMs, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_api(api)
    , m_parser(limits)
    , m_peerAddress(clientAddressText(socket->peerAddress()))
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(ReadChunk * 4);
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(keepAliveMs);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (m_parser.bufferedBytes() > 0 && !m_busy) {
            // A request begun and never finished: say so before closing.
            send(HttpResponse::error({408, "timeout", QStringLiteral("The request was not completed in time.")}), nullptr, false);
            return;
        }
        closeAfterWrite();
    });
    // Lingering after an error: close once the client has been quiet for a
    // second, or after five seconds at most.
    m_lingerQuietTimer.setSingleShot(true);
    m_lingerQuietTimer.setInterval(1000);
    connect(&m_lingerQuietTimer, &QTimer::timeout, this, &WebConnection::abortNow);
    m_lingerDeadline.setSingleShot(true);
    m_lingerDeadline.setInterval(5000);
    connect(&m_lingerDeadline, &QTimer::timeout, this, &WebConnection::abortNow);
    connect(m_socket, &QSslSocket::readyRead, this, &WebConnection::readAvailable);
    connect(m_socket, &QSslSocket::bytesWritten, this, [this] {
        if (m_socket->bytesToWrite() < WriteBacklogLimit / 2)
            readAvailable();
    });
    // A record that fails to decrypt leaves a TLS session that can never
    // carry anything again: QSslSocket reports it and keeps the connection
    // open, which would hold its slot until the idle timeout. RFC 8446 §5.2:
    // terminate.
    connect(m_socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error != QAbstractSocket::SslInternalError && error != QAbstractSocket::SslInvalidUserDataError)
            return;
        qCInfo(lcWeb).noquote() << m_peerAddress << "TLS failed:" << m_socket->errorString();
        m_closing = true;
        m_idleTimer.stop();
        m_lingerQuietTimer.stop();
        m_lingerDeadline.stop();
        m_socket->abort();
    });
    connect(m_socket, &QSslSocket::disconnected, this, [this] {
        m_closing = true;
        m_idleTimer.stop();
        Q_EMIT finished();
        deleteLater();
    });
}

void WebConnection::start()
{
    m_idleTimer.start();
    readAvailable(); // the handshake may have brought data already
}

void WebConnection::readAvailable()
{
    if (m_lingering) {
        // RFC 9112 §9.6: after an error answer, read and drop what the client
        // still sends (the body of a refused upload), so that it gets to read
        // the answer instead of a reset; bounded in bytes and time.
        m_discarded += m_socket->skip(m_socket->bytesAvailable());
        if (m_discarded > LingerMaxBytes)
            abortNow();
        else
            m_lingerQuietTimer.start();
        return;
    }
    if (m_closing)
        return;
    while (m_socket->bytesAvailable() > 0 && m_parser.bufferedBytes() < m_parser.bufferLimit()
           && m_socket->bytesToWrite() < WriteBacklogLimit) {
        // The timeout runs from a request's first byte to its end (408 when
        // it is not complete by then): restarting it on every read would let
        // a client dribbling a byte a second keep the connection (slowloris).
        const bool beginsRequest = m_parser.bufferedBytes() == 0;
        m_parser.feed(m_socket->read(ReadChunk));
        if (!m_busy && beginsRequest)
            m_idleTimer.start();
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
    m_idleTimer.stop();
    m_requestTimer.start();
    const bool keepAlive = request.keepAlive;
    m_api->handle(request, m_peerAddress, this, [this, request, keepAlive](HttpResponse response) {
        m_busy = false;
        send(response, &request, keepAlive);
        if (!m_closing) {
            m_idleTimer.start();
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
        startLingering();
    else
        closeAfterWrite();
}

void WebConnection::startLingering()
{
    m_lingering = true;
    m_idleTimer.stop();
    m_lingerQuietTimer.start();
    m_lingerDeadline.start();
    readAvailable();
}

void WebConnection::abortNow()
{
    m_lingerQuietTimer.stop();
    m_lingerDeadline.stop();
    m_lingering = false;
    closeAfterWrite();
}

void WebConnection::closeAfterWrite()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_socket->disconnectFromHost();
}

void WebConnection::shutDown()
{
    if (!m_busy)
        closeAfterWrite();
}
