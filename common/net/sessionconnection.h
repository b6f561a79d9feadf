#pragma once

#include "clientaddress.h"
#include "connectionlistener.h"

#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTimer>

#include <sys/socket.h>

// One client of a line protocol whose dialogue is a byte-level Session
// (SmtpSession, Pop3Session): owns the socket and the session, feeds what it
// reads to the session, writes its output, hands its requests to
// serveRequest(), and upgrades to TLS (STARTTLS/STLS, or implicit TLS at
// once) or closes when the session says so. The Session offers start(),
// receive(), resume(), isHoldingInput(), hasPendingInput(), State::Waiting, startTlsRequested(),
// closeRequested(), takeOutput(), tlsEstablished(), timedOut(),
// shuttingDown() and stopTakingCommands().
template<typename Session>
class SessionConnection : public ServerConnection
{
public:
    struct Timeouts
    {
        int idleMs = 300000;
        int handshakeMs = 10000;
    };

    void start() override
    {
        qCInfo(m_category).noquote() << m_peerAddress << (m_implicitTls ? "connected (TLS)" : "connected");
        m_idleTimer.start();
        if (m_implicitTls) {
            m_handshakeTimer.start();
            m_socket->startServerEncryption();
            return;
        }
        m_session.start();
        afterSession();
    }

    // Stop serving: finish what is in flight, then say so and close.
    void shutDown() override
    {
        m_shutdownRequested = true;
        m_session.stopTakingCommands();
        if (m_session.state() != Session::State::Waiting)
            afterSession();
    }

    [[nodiscard]] QString peerAddress() const { return m_peerAddress; }

protected:
    SessionConnection(QSslSocket *socket, const QSslConfiguration &tls, bool implicitTls, Timeouts timeouts,
                      Session session, const QLoggingCategory &category, QObject *parent)
        : ServerConnection(parent)
        , m_session(std::move(session))
        , m_socket(socket)
        , m_implicitTls(implicitTls)
        , m_peerAddress(clientAddressText(socket->peerAddress()))
        , m_peerPort(socket->peerPort())
        , m_category(category)
    {
        m_socket->setParent(this);
        m_socket->setReadBufferSize(ReadBufferLimit);
        m_socket->setSslConfiguration(tls);
        m_idleTimer.setSingleShot(true);
        m_idleTimer.setInterval(timeouts.idleMs);
        QObject::connect(&m_idleTimer, &QTimer::timeout, this, [this] {
            qCInfo(m_category).noquote() << m_peerAddress << "timed out";
            m_session.timedOut();
            afterSession();
        });
        m_closeTimer.setSingleShot(true);
        m_closeTimer.setInterval(CloseGraceMs);
        QObject::connect(&m_closeTimer, &QTimer::timeout, this, [this] {
            if (m_socket->state() == QAbstractSocket::UnconnectedState)
                return;
            // Given up on: a reset, not a close, or the kernel would go on
            // trying to deliver what the client does not read.
            const linger resetOnClose{1, 0};
            ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &resetOnClose,
                         sizeof resetOnClose);
            m_socket->abort();
        });
        m_lingerQuietTimer.setSingleShot(true);
        m_lingerQuietTimer.setInterval(LingerQuietMs);
        QObject::connect(&m_lingerQuietTimer, &QTimer::timeout, this, [this] {
            m_lingering = false;
            m_socket->disconnectFromHost();
        });
        m_handshakeTimer.setSingleShot(true);
        m_handshakeTimer.setInterval(timeouts.handshakeMs);
        QObject::connect(&m_handshakeTimer, &QTimer::timeout, this, [this] {
            handshakeFailed(tlsHandshakeFailureReason(m_socket, QAbstractSocket::SocketTimeoutError,
                                                      m_handshakeTimer.interval()));
        });
        QObject::connect(m_socket, &QSslSocket::readyRead, this, [this] { readAvailable(); });
        // A client reading a long answer (a 25 MiB RETR on a slow link) is
        // active, though it sends nothing until the end: what leaves the
        // socket, encrypted or not, restarts the timers.
        const auto progress = [this] {
            if (m_closing) {
                if (m_closeTimer.isActive())
                    m_closeTimer.start();
                return;
            }
            if (m_idleTimer.isActive())
                m_idleTimer.start();
        };
        QObject::connect(m_socket, &QSslSocket::encryptedBytesWritten, this, progress);
        QObject::connect(m_socket, &QSslSocket::bytesWritten, this, [this, progress] {
            progress();
            if (!m_closing && m_socket->bytesToWrite() < WriteBacklogLimit / 2)
                readAvailable();
        });
        QObject::connect(m_socket, &QSslSocket::encrypted, this, [this] {
            m_handshakeTimer.stop();
            if (m_implicitTls)
                m_session.start(); // the greeting goes over TLS
            else
                m_session.tlsEstablished();
            afterSession();
        });
        QObject::connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            qCInfo(m_category).noquote() << m_peerAddress << "TLS errors" << errors;
        });
        // A record that fails to decrypt, or garbage where a handshake
        // belongs, leaves a TLS session that can never carry anything again:
        // QSslSocket reports it and keeps the connection open, which would
        // hold its slot until the idle timeout. RFC 8446 §5.2: terminate.
        QObject::connect(m_socket, &QAbstractSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
            // Any error before the handshake is done ends it, the client
            // closing too: one line that says so, and no "disconnected".
            if (m_handshakeTimer.isActive()) {
                handshakeFailed(tlsHandshakeFailureReason(m_socket, error, m_handshakeTimer.interval()));
                return;
            }
            if (error != QAbstractSocket::SslInternalError && error != QAbstractSocket::SslHandshakeFailedError
                && error != QAbstractSocket::SslInvalidUserDataError)
                return;
            qCInfo(m_category).noquote() << m_peerAddress << "TLS failed:" << m_socket->errorString();
            m_closing = true;
            m_idleTimer.stop();
            m_handshakeTimer.stop();
            m_socket->abort();
        });
        QObject::connect(m_socket, &QSslSocket::disconnected, this, [this] {
            if (!m_closing)
                qCInfo(m_category).noquote() << m_peerAddress << "disconnected";
            m_closing = true;
            m_idleTimer.stop();
            Q_EMIT finished();
            deleteLater();
        });
    }

    // The session is waiting for its request (takeRequest()) to be served;
    // call requestAnswered() once the answer was given to the session.
    virtual void serveRequest() = 0;

    void requestAnswered()
    {
        m_idleTimer.start();
        afterSession();
        readAvailable();
    }

    // Our turn, not the client's: the idle timeout does not run.
    void requestStarted() { m_idleTimer.stop(); }

    // Called after every step of the session (what it was fed, an answer, a
    // timer), before its output is written: a protocol keeps the timers of
    // its own phases in step with the session here (SMTP's DATA deadline).
    virtual void sessionStepped() {}
    // For such a timer, after telling the session: writes what it says,
    // closes if it asks to.
    void sessionChanged() { afterSession(); }

    Session m_session;

private:
    // What is read from the socket at once; together with QSslSocket's read
    // buffer limit, this bounds the memory a connection can make us hold.
    static constexpr qint64 ReadChunk = 64 * 1024;
    static constexpr qint64 ReadBufferLimit = 256 * 1024;
    // A client that sends commands but never reads the replies is not read
    // from until its replies have drained.
    static constexpr qint64 WriteBacklogLimit = 256 * 1024;
    static constexpr int CloseGraceMs = 5000;
    static constexpr int LingerQuietMs = 1000;

    [[nodiscard]] bool waiting() const { return m_session.state() == Session::State::Waiting; }

    void readAvailable()
    {
        if (m_lingering) {
            m_socket->skip(m_socket->bytesAvailable());
            m_lingerQuietTimer.start();
            return;
        }
        if (m_closing || waiting() || m_session.startTlsRequested())
            return;
        if (m_implicitTls && !m_socket->isEncrypted())
            return;
        // Commands held back while replies piled up go first; until they are
        // answered nothing more is read, so memory stays bounded however much
        // a client that does not read sends.
        if (m_session.isHoldingInput()) {
            if (m_socket->bytesToWrite() >= WriteBacklogLimit)
                return;
            m_session.resume();
            afterSession();
            if (m_closing || waiting() || m_session.startTlsRequested() || m_session.isHoldingInput())
                return;
        }
        while (m_socket->bytesAvailable() > 0 && !m_session.isHoldingInput() && !waiting()
               && !m_session.closeRequested() && !m_session.startTlsRequested()
               && m_socket->bytesToWrite() < WriteBacklogLimit) {
            m_session.receive(m_socket->read(ReadChunk));
            // The idle timeout is per command and per data chunk (SPEC): a
            // read that completes a command, or brings message data, restarts
            // it. Bytes of a command still unfinished do not, or a client
            // dribbling a byte a second (slowloris) would be kept forever.
            // Before afterSession(), which stops it for a request it starts.
            if (!m_session.hasPendingInput())
                m_idleTimer.start();
            afterSession();
        }
    }

    void afterSession()
    {
        sessionStepped();
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
        if (waiting()) {
            if (m_shutdownRequested) {
                // Work pipelined behind what was in flight at shutdown:
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

    void beginTls()
    {
        // RFC 3207 §4 and RFC 2595 §4: plaintext the client sent after the
        // command (already in the socket's buffer) must never be read as if
        // it came over TLS.
        if (m_socket->bytesAvailable() > 0) {
            qCInfo(m_category).noquote() << m_peerAddress << "dropped" << m_socket->bytesAvailable()
                                         << "bytes pipelined before TLS";
            m_socket->skip(m_socket->bytesAvailable());
        }
        m_handshakeTimer.start();
        m_socket->startServerEncryption();
    }

    void handshakeFailed(const QString &reason)
    {
        logTlsHandshakeFailure(m_category, m_peerAddress, m_peerPort, reason);
        m_closing = true;
        m_idleTimer.stop();
        m_handshakeTimer.stop();
        m_socket->abort();
    }

    void closeSoon()
    {
        if (m_closing)
            return;
        m_closing = true;
        m_idleTimer.stop();
        qCInfo(m_category).noquote() << m_peerAddress << "closing";
        // A client that never reads would keep the last write, and the
        // connection, forever: a few seconds without progress, then it is cut.
        m_closeTimer.start();
        if (m_session.quitReceived()) {
            m_socket->disconnectFromHost(); // after the last reply is written
            return;
        }
        // Closing on our own (timeout, errors, shutdown), the client may still
        // be sending, e.g. the rest of a message. A socket closed with unread
        // input is reset by the kernel, and the reset can destroy our last
        // reply before the client reads it; so what still comes is read and
        // dropped until the client closes or has been quiet for a moment.
        m_lingering = true;
        m_lingerQuietTimer.start();
        readAvailable();
    }

    QSslSocket *m_socket = nullptr;
    bool m_implicitTls = false;
    QString m_peerAddress;
    quint16 m_peerPort = 0;
    const QLoggingCategory &m_category;
    QTimer m_idleTimer;
    QTimer m_handshakeTimer;
    QTimer m_closeTimer;
    QTimer m_lingerQuietTimer;
    bool m_closing = false;
    bool m_lingering = false;
    bool m_shutdownRequested = false;
};
