#pragma once

#include "backendreply.h"
#include "clientaddress.h"
#include "connectioncloser.h"
#include "connectionlistener.h"
#include "idledeadline.h"
#include "servertls.h"

#include <QByteArray>
#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QSslSocket>

// One client of a line protocol whose dialogue is a byte-level session
// (SmtpSession, Pop3Session): owns the socket, feeds what it reads to the
// session, writes its output with back-pressure, hands its requests to
// serveRequest(), upgrades to TLS (STARTTLS/STLS, or implicit TLS at once)
// and closes when the session says so. This part knows the socket and the
// timers; SessionConnection<Session> below ties it to a session type.
class SessionConnectionBase : public ServerConnection
{
public:
    struct Timeouts
    {
        int idleMs = 300000;
        int handshakeMs = 10000;
    };

    void start() override;
    // Stop serving: finish what is in flight, then say so and close.
    void shutDown() override;

    [[nodiscard]] QString peerAddress() const { return m_peerAddress; }

    // Output the server sends on its own, not as a reply to a command line
    // (IMAP's untagged updates, IDLE; RFC 9051 §7): any time, on the
    // connection's thread. It goes out after everything said before it and
    // before anything said after it, never inside a reply. While the client
    // does not read (the write backlog is full) or a TLS handshake runs, it
    // waits here; false, and nothing queued, when that would hold more than
    // MaxHeldOutput: the protocol then coalesces its updates or closes.
    bool pushOutput(const QByteArray &bytes);
    static constexpr qint64 MaxHeldOutput = 256 * 1024;
    // Output not yet handed to the kernel: the socket's write buffer and
    // what is held behind it.
    [[nodiscard]] qint64 outputBacklog() const;

protected:
    SessionConnectionBase(QSslSocket *socket, const QSslConfiguration &tls, bool implicitTls, Timeouts timeouts,
                          const QLoggingCategory &category, QObject *parent);

    // The session is waiting for its request (takeRequest()) to be served;
    // call requestAnswered() once the answer was given to the session
    // (backends answer through answerOn(this, ...)).
    virtual void serveRequest() = 0;
    void requestAnswered();
    // Our turn, not the client's: the idle timeout does not run.
    void requestStarted() { m_idleDeadline.stop(); }
    // A phase with a timeout of its own (IMAP's IDLE: 30 minutes); from the
    // next start of the timer on.
    void setIdleTimeout(int milliseconds) { m_idleDeadline.setInterval(milliseconds); }

    // Called after every step of the session (what it was fed, an answer, a
    // timer), before its output is written: a protocol keeps the timers of
    // its own phases in step with the session here (SMTP's DATA deadline).
    virtual void sessionStepped() {}
    // After telling the session something on our own (a timer, an update
    // for IDLE): writes what it says, closes if it asks to.
    void sessionChanged() { afterSession(); }

private:
    // The session, as seen from here (SessionConnection<Session> forwards).
    virtual void sessionStart() = 0;
    virtual void sessionReceive(QByteArrayView bytes) = 0;
    virtual void sessionResume() = 0;
    virtual void sessionTlsEstablished() = 0;
    virtual void sessionTimedOut() = 0;
    virtual void sessionShuttingDown() = 0;
    virtual void sessionStopTakingCommands() = 0;
    [[nodiscard]] virtual QByteArray sessionTakeOutput() = 0;
    [[nodiscard]] virtual bool sessionWaiting() const = 0;
    [[nodiscard]] virtual bool sessionHoldingInput() const = 0;
    [[nodiscard]] virtual bool sessionHasPendingInput() const = 0;
    [[nodiscard]] virtual bool sessionReadingLiteral() const = 0;
    [[nodiscard]] virtual bool sessionStartTlsRequested() const = 0;
    [[nodiscard]] virtual bool sessionCloseRequested() const = 0;
    [[nodiscard]] virtual bool sessionQuitReceived() const = 0;

    // What is read from the socket at once; together with QSslSocket's read
    // buffer limit, this bounds the memory a connection can make us hold.
    static constexpr qint64 ReadChunk = 64 * 1024;
    static constexpr qint64 ReadBufferLimit = 256 * 1024;
    // A client that sends commands but never reads the replies is not read
    // from until its replies have drained.
    static constexpr qint64 WriteBacklogLimit = 256 * 1024;

    void readAvailable();
    void afterSession();
    // Every byte to the client goes through here, in order.
    void send(const QByteArray &bytes);
    void flushHeld(bool evenIfFull = false);
    [[nodiscard]] bool mayWriteNow() const;
    // Bytes handed to the socket and not yet to the kernel, encrypted or not.
    [[nodiscard]] qint64 unsentBytes() const;
    void beginTls();
    void closeSoon();

    QSslSocket *m_socket = nullptr;
    bool m_implicitTls = false;
    QString m_peerAddress;
    const QLoggingCategory &m_category;
    IdleDeadline m_idleDeadline;
    ServerTls m_tls;
    ConnectionCloser m_closer{m_socket};
    QByteArray m_heldOutput; // waits for the backlog to drain or the handshake to end
    bool m_closing = false;
    bool m_shutdownRequested = false;
};

// SessionConnectionBase for one session type. The Session offers start(),
// receive(), resume(), isHoldingInput(), hasPendingInput(), state() with
// State::Waiting, startTlsRequested(), closeRequested(), quitReceived(),
// takeOutput(), tlsEstablished(), timedOut(), shuttingDown() and
// stopTakingCommands(); and, if it reads literals (CommandLineBuffer),
// isReadingLiteral(): a read that brings literal bytes then restarts the
// idle timeout like a whole command line does.
template<typename Session>
class SessionConnection : public SessionConnectionBase
{
protected:
    SessionConnection(QSslSocket *socket, const QSslConfiguration &tls, bool implicitTls, Timeouts timeouts,
                      Session session, const QLoggingCategory &category, QObject *parent)
        : SessionConnectionBase(socket, tls, implicitTls, timeouts, category, parent)
        , m_session(std::move(session))
    {
    }

    Session m_session;

private:
    void sessionStart() override { m_session.start(); }
    void sessionReceive(QByteArrayView bytes) override { m_session.receive(bytes); }
    void sessionResume() override { m_session.resume(); }
    void sessionTlsEstablished() override { m_session.tlsEstablished(); }
    void sessionTimedOut() override { m_session.timedOut(); }
    void sessionShuttingDown() override { m_session.shuttingDown(); }
    void sessionStopTakingCommands() override { m_session.stopTakingCommands(); }
    QByteArray sessionTakeOutput() override { return m_session.takeOutput(); }
    bool sessionWaiting() const override { return m_session.state() == Session::State::Waiting; }
    bool sessionHoldingInput() const override { return m_session.isHoldingInput(); }
    bool sessionHasPendingInput() const override { return m_session.hasPendingInput(); }
    bool sessionReadingLiteral() const override
    {
        if constexpr (requires(const Session &s) { s.isReadingLiteral(); })
            return m_session.isReadingLiteral();
        else
            return false;
    }
    bool sessionStartTlsRequested() const override { return m_session.startTlsRequested(); }
    bool sessionCloseRequested() const override { return m_session.closeRequested(); }
    bool sessionQuitReceived() const override { return m_session.quitReceived(); }
};
