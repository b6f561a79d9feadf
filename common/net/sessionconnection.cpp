#include "sessionconnection.h"

SessionConnectionBase::SessionConnectionBase(QSslSocket *socket, const QSslConfiguration &tls, bool implicitTls,
                                             Timeouts timeouts, const QLoggingCategory &category, QObject *parent)
    : ServerConnection(parent)
    , m_socket(socket)
    , m_implicitTls(implicitTls)
    , m_peerAddress(clientAddressText(socket->peerAddress()))
    , m_category(category)
    , m_idleDeadline(timeouts.idleMs, [this] {
        qCInfo(m_category).noquote() << m_peerAddress << "timed out";
        sessionTimedOut();
        afterSession();
    })
    , m_tls(socket, timeouts.handshakeMs, category, m_peerAddress)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(ReadBufferLimit);
    m_socket->setSslConfiguration(tls);
    QObject::connect(m_socket, &QSslSocket::readyRead, this, [this] { readAvailable(); });
    // A client reading a long answer (a 25 MiB RETR on a slow link) is
    // active, though it sends nothing until the end: what leaves the
    // socket, encrypted or not, restarts the timers.
    const auto progress = [this] {
        if (m_closing) {
            m_closer.progressed();
            return;
        }
        if (m_idleDeadline.isActive())
            m_idleDeadline.start();
    };
    // Over TLS, bytesWritten comes as soon as a reply is encrypted; the
    // backlog drains as encryptedBytesWritten says.
    const auto drained = [this, progress] {
        progress();
        if (m_closing)
            return;
        flushHeld();
        if (outputBacklog() < WriteBacklogLimit / 2)
            readAvailable();
    };
    QObject::connect(m_socket, &QSslSocket::encryptedBytesWritten, this, drained);
    QObject::connect(m_socket, &QSslSocket::bytesWritten, this, drained);
    QObject::connect(m_socket, &QSslSocket::encrypted, this, [this] {
        flushHeld(); // pushed during the handshake: before what the session says now
        if (m_implicitTls)
            sessionStart(); // the greeting goes over TLS
        else
            sessionTlsEstablished();
        afterSession();
    });
    QObject::connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        qCInfo(m_category).noquote() << m_peerAddress << "TLS errors" << errors;
    });
    // A failed handshake or a broken TLS session (logged by m_tls, then
    // aborted): one line that says so, and no "disconnected".
    QObject::connect(&m_tls, &ServerTls::failed, this, [this] {
        m_closing = true;
        m_idleDeadline.stop();
    });
    QObject::connect(m_socket, &QSslSocket::disconnected, this, [this] {
        if (!m_closing)
            qCInfo(m_category).noquote() << m_peerAddress << "disconnected";
        m_closing = true;
        m_idleDeadline.stop();
        Q_EMIT finished();
        deleteLater();
    });
}

void SessionConnectionBase::start()
{
    qCInfo(m_category).noquote() << m_peerAddress << (m_implicitTls ? "connected (TLS)" : "connected");
    m_idleDeadline.start();
    if (m_implicitTls) {
        m_tls.startHandshake();
        return;
    }
    sessionStart();
    afterSession();
}

void SessionConnectionBase::shutDown()
{
    m_shutdownRequested = true;
    sessionStopTakingCommands();
    if (!sessionWaiting())
        afterSession();
}

void SessionConnectionBase::requestAnswered()
{
    m_idleDeadline.start();
    afterSession();
    readAvailable();
}

bool SessionConnectionBase::pushOutput(const QByteArray &bytes)
{
    if (m_closing)
        return false;
    if (m_heldOutput.isEmpty() && mayWriteNow()) {
        m_socket->write(bytes);
        return true;
    }
    if (m_heldOutput.size() + bytes.size() > MaxHeldOutput)
        return false;
    m_heldOutput += bytes;
    return true;
}

qint64 SessionConnectionBase::outputBacklog() const
{
    return unsentBytes() + m_heldOutput.size();
}

qint64 SessionConnectionBase::unsentBytes() const
{
    // Over TLS, bytesToWrite() counts only what is not yet encrypted: what
    // the client has not taken waits encrypted, in the TCP socket below.
    return m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite();
}

bool SessionConnectionBase::mayWriteNow() const
{
    if (m_tls.isHandshaking() || (m_implicitTls && !m_socket->isEncrypted()))
        return false;
    return unsentBytes() < WriteBacklogLimit;
}

void SessionConnectionBase::send(const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    // Replies are bounded by the session (it stops taking commands while
    // they pile up) and go out at once; only behind held output do they wait.
    if (m_closing || (m_heldOutput.isEmpty() && mayWriteNow())) {
        m_socket->write(bytes);
        return;
    }
    m_heldOutput += bytes;
}

void SessionConnectionBase::flushHeld(bool evenIfFull)
{
    if (m_heldOutput.isEmpty() || (!evenIfFull && !mayWriteNow()))
        return;
    m_socket->write(std::exchange(m_heldOutput, {}));
}

void SessionConnectionBase::readAvailable()
{
    if (m_closer.isLingering()) {
        m_closer.discardInput();
        return;
    }
    if (m_closing || sessionWaiting() || sessionStartTlsRequested())
        return;
    if (m_implicitTls && !m_socket->isEncrypted())
        return;
    // Commands held back while replies piled up go first; until they are
    // answered nothing more is read, so memory stays bounded however much
    // a client that does not read sends.
    if (sessionHoldingInput()) {
        if (outputBacklog() >= WriteBacklogLimit)
            return;
        sessionResume();
        afterSession();
        if (m_closing || sessionWaiting() || sessionStartTlsRequested() || sessionHoldingInput())
            return;
    }
    while (m_socket->bytesAvailable() > 0 && !sessionHoldingInput() && !sessionWaiting() && !sessionCloseRequested()
           && !sessionStartTlsRequested() && outputBacklog() < WriteBacklogLimit) {
        // Literal bytes are data, like an SMTP message's: a read that
        // brings some is progress even though no command is complete.
        const bool literalData = sessionReadingLiteral();
        sessionReceive(m_socket->read(ReadChunk));
        // The idle timeout is per command and per data chunk
        // (docs/PROTOCOL.md): a read that completes a command, or brings
        // message data, restarts it. Bytes of a command still unfinished do
        // not, or a client dribbling a byte a second (slowloris) would be
        // kept forever. Before afterSession(), which stops it for a request
        // it starts.
        if (literalData || !sessionHasPendingInput())
            m_idleDeadline.start();
        afterSession();
    }
}

void SessionConnectionBase::afterSession()
{
    sessionStepped();
    const QByteArray output = sessionTakeOutput();
    if (sessionCloseRequested() || sessionStartTlsRequested()) {
        // The last words in clear (or at all) go out whole before the
        // upgrade or the close, held output first.
        flushHeld(true);
        if (!output.isEmpty())
            m_socket->write(output);
    } else {
        send(output);
    }
    if (sessionCloseRequested()) {
        closeSoon();
        return;
    }
    if (sessionStartTlsRequested()) {
        beginTls();
        return;
    }
    if (sessionWaiting()) {
        if (m_shutdownRequested) {
            // Work pipelined behind what was in flight at shutdown:
            // refused, not started.
            sessionShuttingDown();
            afterSession();
            return;
        }
        serveRequest();
        return;
    }
    if (m_shutdownRequested) {
        sessionShuttingDown();
        afterSession();
    }
}

void SessionConnectionBase::beginTls()
{
    // RFC 3207 §4 and RFC 2595 §4: plaintext the client sent after the
    // command (already in the socket's buffer) must never be read as if it
    // came over TLS.
    if (m_socket->bytesAvailable() > 0) {
        qCInfo(m_category).noquote() << m_peerAddress << "dropped" << m_socket->bytesAvailable()
                                     << "bytes pipelined before TLS";
        m_socket->skip(m_socket->bytesAvailable());
    }
    m_tls.startHandshake();
}

void SessionConnectionBase::closeSoon()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleDeadline.stop();
    qCInfo(m_category).noquote() << m_peerAddress << "closing";
    // A client that never reads would keep the last write, and the
    // connection, forever: a few seconds without progress, then it is cut.
    if (sessionQuitReceived()) {
        m_closer.closeAfterWrite(); // after the last reply is written
        return;
    }
    // Closing on our own (timeout, errors, shutdown), the client may still
    // be sending, e.g. the rest of a message. A socket closed with unread
    // input is reset by the kernel, and the reset can destroy our last
    // reply before the client reads it; so what still comes is read and
    // dropped until the client closes or has been quiet for a moment.
    m_closer.closeLingering();
}
