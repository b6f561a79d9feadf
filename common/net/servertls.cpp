#include "servertls.h"

#include "connectionlistener.h"

#include <QSslSocket>

namespace {
// RFC 8446 §5.1 (and every TLS version before it): a handshake record's
// content type.
constexpr char HandshakeRecord = 0x16;
} // namespace

ServerTls::ServerTls(QSslSocket *socket, int handshakeTimeoutMs, const QLoggingCategory &category,
                     QString peerAddress, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_category(category)
    , m_peerAddress(std::move(peerAddress))
    , m_peerPort(socket->peerPort())
{
    m_deadline.setSingleShot(true);
    m_deadline.setInterval(handshakeTimeoutMs);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        handshakeFailed(tlsHandshakeFailureReason(m_socket, QAbstractSocket::SocketTimeoutError, m_deadline.interval()));
    });
    connect(m_socket, &QSslSocket::encrypted, this, [this] {
        m_deadline.stop();
        Q_EMIT established();
    });
    connect(m_socket, &QIODevice::readyRead, this, [this] {
        if (m_awaitingFirstByte)
            checkFirstByte();
    });
    // A record that fails to decrypt, or garbage where a handshake belongs,
    // leaves a TLS session that can never carry anything again: QSslSocket
    // reports it and keeps the connection open, which would hold its slot
    // until the idle timeout. RFC 8446 §5.2: terminate.
    connect(m_socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        // Any error before the handshake is done ends it, the client
        // closing too: one line that says so.
        if (isHandshaking()) {
            handshakeFailed(tlsHandshakeFailureReason(m_socket, error, m_deadline.interval()));
            return;
        }
        if (error != QAbstractSocket::SslInternalError && error != QAbstractSocket::SslHandshakeFailedError
            && error != QAbstractSocket::SslInvalidUserDataError)
            return;
        qCInfo(m_category).noquote() << m_peerAddress << "TLS failed:" << m_socket->errorString();
        Q_EMIT failed();
        m_socket->abort();
    });
}

void ServerTls::startHandshake(FirstByte firstByte)
{
    m_deadline.start();
    if (firstByte == FirstByte::Any) {
        m_socket->startServerEncryption();
        return;
    }
    m_awaitingFirstByte = true;
    checkFirstByte(); // it may have come with the accept
}

void ServerTls::checkFirstByte()
{
    char first = 0;
    if (m_socket->peek(&first, 1) != 1)
        return;
    m_awaitingFirstByte = false;
    if (first != HandshakeRecord) {
        handshakeFailed(QStringLiteral("not TLS (its first byte cannot begin a handshake)"));
        return;
    }
    m_socket->startServerEncryption();
}

void ServerTls::handshakeFailed(const QString &reason)
{
    logTlsHandshakeFailure(m_category, m_peerAddress, m_peerPort, reason);
    m_deadline.stop();
    m_awaitingFirstByte = false;
    Q_EMIT failed();
    m_socket->abort();
}
