#include "smtpconnection.h"

#include "smtpbackend.h"
#include "smtplogging.h"

#include "clientaddress.h"

#include <QSslSocket>

namespace {
// What is read from the socket at once; together with QSslSocket's read
// buffer limit, this bounds the memory a connection can make us hold.
constexpr qint64 ReadChunk = 64 * 1024;
constexpr qint64 ReadBufferLimit = 256 * 1024;
// A client that sends commands but never reads the replies is not read
// from until its replies have drained.
constexpr qint64 WriteBacklogLimit = 256 * 1024;
constexpr int CloseGraceMs = 5000;

} // namespace

SmtpConnection::SmtpConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options,
                               SmtpBackend *backend, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_tls(tls)
    , m_options(options)
    , m_backend(backend)
    , m_peerAddress(clientAddressText(socket->peerAddress()))
    , m_session(options.session, backend, m_peerAddress)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(ReadBufferLimit);
    m_socket->setSslConfiguration(m_tls);
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_options.idleTimeoutMs);
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        qCInfo(lcSmtp).noquote() << m_peerAddress << "timed out";
        m_session.timedOut();
        afterSession();
    });
    m_handshakeTimer.setSingleShot(true);
    m_handshakeTimer.setInterval(m_options.handshakeTimeoutMs);
    connect(&m_handshakeTimer, &QTimer::timeout, this, [this] {
        qCInfo(lcSmtp).noquote() << m_peerAddress << "TLS handshake timed out";
        m_socket->abort();
    });
    connect(m_socket, &QSslSocket::readyRead, this, &SmtpConnection::readAvailable);
    connect(m_socket, &QSslSocket::bytesWritten, this, [this] {
        if (m_socket->bytesToWrite() < WriteBacklogLimit / 2)
            readAvailable();
    });
    connect(m_socket, &QSslSocket::encrypted, this, [this] {
        m_handshakeTimer.stop();
        if (m_options.session.implicitTls)
            m_session.start(); // the greeting goes over TLS
        else
            m_session.tlsEstablished();
        afterSession();
    });
    connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        qCInfo(lcSmtp).noquote() << m_peerAddress << "TLS errors" << errors;
    });
    connect(m_socket, &QSslSocket::disconnected, this, [this] {
        if (!m_closing)
            qCInfo(lcSmtp).noquote() << m_peerAddress << "disconnected";
        m_closing = true;
        m_idleTimer.stop();
        Q_EMIT finished();
        deleteLater();
    });
}

void SmtpConnection::start()
{
    qCInfo(lcSmtp).noquote() << m_peerAddress << "connected" << (m_options.session.implicitTls ? "(TLS)" : "");
    m_idleTimer.start();
    if (m_options.session.implicitTls) {
        m_handshakeTimer.start();
        m_socket->startServerEncryption();
        return;
    }
    m_session.start();
    afterSession();
}

void SmtpConnection::readAvailable()
{
    if (m_closing || m_session.state() == SmtpSession::State::Waiting || m_session.startTlsRequested())
        return;
    if (m_options.session.implicitTls && !m_socket->isEncrypted())
        return;
    // Commands held back while replies piled up go first; until they are
    // answered nothing more is read, so memory stays bounded however much a
    // client that does not read sends.
    if (m_session.isHoldingInput()) {
        if (m_socket->bytesToWrite() >= WriteBacklogLimit)
            return;
        m_session.resume();
        afterSession();
        if (m_closing || m_session.state() == SmtpSession::State::Waiting || m_session.startTlsRequested()
            || m_session.isHoldingInput())
            return;
    }
    while (m_socket->bytesAvailable() > 0 && !m_session.isHoldingInput() && m_session.state() != SmtpSession::State::Waiting
           && !m_session.closeRequested() && !m_session.startTlsRequested()
           && m_socket->bytesToWrite() < WriteBacklogLimit) {
        m_idleTimer.start(); // per command and per data chunk
        m_session.receive(m_socket->read(ReadChunk));
        afterSession();
    }
}

void SmtpConnection::afterSession()
{
    const QByteArray output = m_session.takeOutput();
    if (!output.isEmpty())
        m_socket->write(output);
    if (m_session.closeRequested()) {
        closeSoon();
        return;
    }
    if (m_session.startTlsRequested()) {
        beginTls();
        return;
    }
    if (m_session.state() == SmtpSession::State::Waiting) {
        if (m_shutdownRequested) {
            // A transaction pipelined behind the one in flight at shutdown:
            // refused, not started.
            m_session.shuttingDown();
            afterSession();
            return;
        }
        serveRequest();
        return;
    }
    if (m_shutdownRequested) {
        m_session.shuttingDown();
        afterSession();
    }
}

void SmtpConnection::serveRequest()
{
    std::optional<SmtpRequest> request = m_session.takeRequest();
    if (!request)
        return;
    m_idleTimer.stop(); // our turn, not the client's
    const auto resume = [this] {
        m_idleTimer.start();
        afterSession();
        readAvailable();
    };
    if (const auto *login = std::get_if<SmtpLoginRequest>(&*request)) {
        m_backend->login(*login, m_peerAddress, this, [this, resume](LoginOutcome outcome, qint64 id) {
            m_session.loginFinished(outcome, id);
            resume();
        });
    } else if (const auto *registration = std::get_if<SmtpRegisterRequest>(&*request)) {
        m_backend->registerAccount(*registration, m_peerAddress, this, [this, resume](RegisterOutcome outcome) {
            m_session.registrationFinished(outcome);
            resume();
        });
    } else if (const auto *delivery = std::get_if<SmtpDeliveryRequest>(&*request)) {
        m_backend->deliver(*delivery, this, [this, resume](DeliveryOutcome outcome) {
            m_session.deliveryFinished(outcome);
            resume();
        });
    }
}

void SmtpConnection::beginTls()
{
    // RFC 3207 §4: plaintext the client sent after STARTTLS (already in the
    // socket's buffer) must never be read as if it came over TLS.
    if (m_socket->bytesAvailable() > 0) {
        qCInfo(lcSmtp).noquote() << m_peerAddress << "dropped" << m_socket->bytesAvailable() << "bytes pipelined after STARTTLS";
        m_socket->skip(m_socket->bytesAvailable());
    }
    m_handshakeTimer.start();
    m_socket->startServerEncryption();
}

void SmtpConnection::closeSoon()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    qCInfo(lcSmtp).noquote() << m_peerAddress << "closing";
    m_socket->disconnectFromHost(); // after the last reply is written
    // A client that never reads would keep that write, and the connection,
    // forever: it gets a few seconds, then the connection is cut.
    QTimer::singleShot(CloseGraceMs, m_socket, [socket = m_socket] {
        if (socket->state() != QAbstractSocket::UnconnectedState)
            socket->abort();
    });
}

void SmtpConnection::shutDown()
{
    m_shutdownRequested = true;
    m_session.stopTakingCommands();
    if (m_session.state() != SmtpSession::State::Waiting)
        afterSession();
}
