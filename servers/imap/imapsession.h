#pragma once

#include "imapcommandreader.h"
#include "imapmailboxstate.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>
#include <variant>

// What a session is configured with (docs/protocol/imap.md).
struct ImapSessionSettings
{
    bool implicitTls = false; // --listen-tls: encrypted from the first byte
    QString domain = QStringLiteral("project.com");
    qint64 appendLimit = 25 * 1024 * 1024; // the largest message (APPENDLIMIT)
    int maxErrors = 20;      // BAD replies before the server gives up on a client
    int maxAuthFailures = 3; // failed logins on one connection
};

// Work that takes time, served by the connection's backend. The session
// makes one request at a time and reads no further command until it is
// answered, so pipelined commands are answered in order.
struct ImapLoginRequest
{
    QString username; // as given (the backend normalizes; a bad name is a failed login)
    QString password;
};

// A command of the authenticated or selected state, run by ImapMailbox on
// a worker against the store with the session's mailbox state; a command
// whose output is long (FETCH of many messages) is run in steps, each a
// request of its own (ImapMailboxState::continuation).
struct ImapMailboxRequest
{
    ImapCommandReader::Command command;
    std::shared_ptr<ImapMailboxState> state;
};

// IDLE, or news of a change while nothing else is asked: only the untagged
// updates of the selected folder (RFC 9051 §7.5).
struct ImapUpdateRequest
{
    std::shared_ptr<ImapMailboxState> state;
};

using ImapRequest = std::variant<ImapLoginRequest, ImapMailboxRequest, ImapUpdateRequest>;

enum class ImapLoginOutcome { Accepted, Rejected, Throttled, Failed };

// The IMAP dialogue of docs/protocol/imap.md as a state machine over bytes:
// no sockets, no clock, no database. It frames commands (ImapCommandReader),
// answers those of the not-authenticated state and the ones that need no
// store (CAPABILITY, NOOP before login, LOGOUT, STARTTLS, AUTHENTICATE,
// LOGIN, ENABLE, ID, IDLE), and hands every other command to the backend
// as a request, with the mailbox state it keeps for the connection.
class ImapSession
{
public:
    enum class State {
        NotAuthenticated,
        Authenticated, // the selected state too: mailboxState()->selected says which
        AuthResponse,  // AUTHENTICATE PLAIN sent "+ ": waiting for the response line
        Idling,        // IDLE: waiting for DONE; updates go out as they come
        Waiting,       // a request is out; input is held
        Closed,
    };

    ImapSession(ImapSessionSettings settings, QString clientAddress);

    // Replies held before the session stops taking commands.
    static constexpr qsizetype MaxPendingOutput = 256 * 1024;

    void start(); // the greeting
    void receive(QByteArrayView bytes);
    // Goes on with input already received (and a long command's next step),
    // after the output was taken.
    void resume();
    [[nodiscard]] bool hasPendingInput() const { return !m_reader.isBetweenCommands() || m_hasInput; }
    [[nodiscard]] bool isHoldingInput() const { return m_holdingInput; }
    [[nodiscard]] bool isReadingLiteral() const { return !m_reader.isBetweenCommands(); }
    void stopTakingCommands() { m_stopping = true; }

    void tlsEstablished();
    void loginFinished(ImapLoginOutcome outcome, qint64 accountId = 0, const QString &username = {});
    // A mailbox request is answered: its output (untagged responses, and
    // the tagged completion unless the command goes on in another step).
    void mailboxFinished(const QByteArray &output);
    // Something changed in the account (another session, a delivery): in
    // IDLE the updates are asked for at once; otherwise they go out with
    // the next command's reply.
    void accountChanged(qint64 modseq);
    void timedOut();
    void shuttingDown();
    // The client does not read what it is sent (IDLE updates pile up): BYE and close.
    void dropUnreadClient();

    [[nodiscard]] QByteArray takeOutput();
    [[nodiscard]] std::optional<ImapRequest> takeRequest();
    [[nodiscard]] bool startTlsRequested() const { return m_startTlsRequested; }
    [[nodiscard]] bool closeRequested() const { return m_state == State::Closed; }
    [[nodiscard]] bool quitReceived() const { return m_logoutReceived; }

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isEncrypted() const { return m_encrypted; }
    [[nodiscard]] bool isIdling() const { return m_state == State::Idling || m_idleUpdateOut; }
    [[nodiscard]] qint64 accountId() const { return m_mailbox ? m_mailbox->accountId : 0; }
    [[nodiscard]] const std::shared_ptr<ImapMailboxState> &mailboxState() const { return m_mailbox; }
    // What the client said it is (ID), for the log.
    [[nodiscard]] QString clientName() const { return m_clientName; }

    // The capabilities as the CAPABILITY response lists them, now.
    [[nodiscard]] QByteArray capabilities() const;

private:
    void process();
    void processEvent(const ImapCommandReader::Event &event);
    void processCommand(const ImapCommandReader::Command &command);
    void processAuthResponse(const QByteArray &line);
    void processIdleLine(const QByteArray &line);

    void capability(const ImapCommandReader::Command &command);
    void logout(const ImapCommandReader::Command &command);
    void starttls(const ImapCommandReader::Command &command);
    void authenticate(const ImapCommandReader::Command &command);
    void login(const ImapCommandReader::Command &command);
    void enable(const ImapCommandReader::Command &command);
    void id(const ImapCommandReader::Command &command);
    void idle(const ImapCommandReader::Command &command);

    void requestLogin(const QString &username, const QString &password);
    void requestMailbox(const ImapCommandReader::Command &command);
    void requestUpdate();
    void countAuthFailure();
    void tagged(const QByteArray &tag, const QByteArray &status, const QByteArray &text);
    void bad(const QByteArray &tag, const QByteArray &text); // counts toward maxErrors
    void bye(const QByteArray &text);
    void close();

    ImapSessionSettings m_settings;
    QString m_clientAddress;
    ImapCommandReader::Limits m_limits;
    ImapCommandReader m_reader;
    State m_state = State::NotAuthenticated;
    QByteArray m_output;
    std::optional<ImapRequest> m_request;
    std::shared_ptr<ImapMailboxState> m_mailbox; // after login
    QByteArray m_pendingTag; // of the command a request or an exchange is for
    bool m_hasInput = false; // bytes received that no event took yet
    bool m_startTlsRequested = false;
    bool m_encrypted = false;
    bool m_holdingInput = false;
    bool m_stopping = false;
    bool m_logoutReceived = false;
    bool m_idleUpdateOut = false;   // the request out is IDLE's update
    qint64 m_heardWhileWaiting = 0; // accountChanged() while the worker held the state
    bool m_requestOut = false;      // a mailbox or update request holds the state (even once Closed)
    int m_errors = 0;
    int m_authFailures = 0;
    QString m_clientName;
};
