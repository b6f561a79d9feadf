#pragma once

#include "commandlinebuffer.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>
#include <span>
#include <variant>

// What a session is configured with (docs/protocol/pop3.md).
struct Pop3SessionSettings
{
    bool implicitTls = false; // --listen-tls: encrypted from the first byte
    int maxErrors = 10;
    int maxAuthFailures = 3;
    QString domain = QStringLiteral("project.com");

    // docs/PROTOCOL.md: the same limits as SMTP. RFC 2449 allows 255 octets for commands,
    // but an AUTH PLAIN line with a long password needs more.
    static constexpr int MaxCommandLine = 512;
};

// One message of the maildrop: the inbox entry and its stored size.
struct Pop3Message
{
    qint64 entryId = 0;
    qint64 size = 0; // octets of the stored RFC 5322 bytes (CRLF line ends)

    friend bool operator==(const Pop3Message &, const Pop3Message &) = default;
};

// Work that takes time: password checking, reading a message, committing
// deletions. The session makes at most one request at a time and reads no
// further input until it is answered, so pipelined commands (RFC 2449
// PIPELINING) are answered in order.
struct Pop3LoginRequest
{
    QString username; // as given (the backend normalizes; a bad name is a failed login)
    QString password;
};

struct Pop3FetchRequest
{
    qint64 entryId = 0;
    std::optional<int> bodyLines; // TOP: the headers and this many body lines; RETR: unset
};

struct Pop3CommitRequest
{
    qint64 accountId = 0;
    QList<qint64> deletedEntryIds; // in one transaction (RFC 1939 UPDATE state)
};

using Pop3Request = std::variant<Pop3LoginRequest, Pop3FetchRequest, Pop3CommitRequest>;

enum class Pop3LoginOutcome { Accepted, Rejected, Throttled, Failed };

// The POP3 dialogue of docs/PROTOCOL.md as a state machine over bytes: no sockets, no
// clock, no database. RFC 1939 (POP3), RFC 2595 (STLS), RFC 2449 (CAPA,
// RESP-CODES, PIPELINING), RFC 3206 (SYS and AUTH codes), RFC 5034 with
// RFC 4616 (AUTH PLAIN). The connection feeds what it reads to receive(),
// writes takeOutput(), serves takeRequest() and reports back, and upgrades
// or closes when asked.
class Pop3Session
{
public:
    enum class State {
        Authorization, // before login (RFC 1939 §4)
        AuthResponse,  // AUTH PLAIN sent "+ ": waiting for the response line
        Transaction,   // logged in, the maildrop fixed
        Waiting,       // a request is out; input is held
        Closed,
    };

    Pop3Session(Pop3SessionSettings settings, QString clientAddress);

    // Replies held before the session stops taking commands.
    static constexpr qsizetype MaxPendingOutput = 64 * 1024;

    void start(); // the greeting
    void receive(QByteArrayView bytes);
    // Goes on with input already received, after the output was taken.
    void resume();
    [[nodiscard]] bool hasPendingInput() const { return !m_input.isEmpty(); }
    [[nodiscard]] bool isHoldingInput() const { return m_holdingInput; }
    // Shutdown: finish what is in flight, take no further command.
    void stopTakingCommands() { m_stopping = true; }

    // After startTlsRequested(): the handshake is done.
    void tlsEstablished();
    // The maildrop is the inbox at this moment, oldest first (message 1).
    void loginFinished(Pop3LoginOutcome outcome, qint64 accountId = 0, const QList<Pop3Message> &maildrop = {});
    // The stored bytes (a TOP request: already cut to the headers and lines
    // asked for); unset when the entry is gone meanwhile.
    void fetchFinished(const std::optional<QByteArray> &message);
    void commitFinished(bool committed);
    void timedOut();     // close, nothing deleted (RFC 1939 §3)
    void shuttingDown(); // -ERR [SYS/TEMP] and close, nothing deleted

    [[nodiscard]] QByteArray takeOutput();
    [[nodiscard]] std::optional<Pop3Request> takeRequest();
    // Entries RETR sent in full: the connection marks them seen.
    [[nodiscard]] QList<qint64> takeRetrieved();
    // The connection must write the output, drop anything the client sent
    // that was not yet read (STLS injection), and start TLS.
    [[nodiscard]] bool startTlsRequested() const { return m_startTlsRequested; }
    [[nodiscard]] bool closeRequested() const { return m_state == State::Closed; }
    // The close was the client's own QUIT, so it sends nothing more.
    [[nodiscard]] bool quitReceived() const { return m_quitReceived; }

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isEncrypted() const { return m_encrypted; }
    [[nodiscard]] qint64 accountId() const { return m_accountId; }
    [[nodiscard]] const QList<Pop3Message> &maildrop() const { return m_maildrop; }

    // RFC 1939 §3: lines starting with "." get another, and the response
    // ends with ".CRLF". `message` has CRLF line ends.
    [[nodiscard]] static QByteArray dotStuffed(QByteArrayView message);
    // TOP: the header section, the empty line, and the first `lines` lines of the body.
    [[nodiscard]] static QByteArray topOf(QByteArrayView message, int lines);

private:
    // RFC 1939 §3: the states a command is valid in.
    enum class Phase { Authorization, Transaction, Any };
    struct Command
    {
        QByteArrayView verb; // upper case
        Phase phase;
        void (Pop3Session::*run)(const QByteArray &argument);
    };
    // Every verb the server knows, in one table; a verb that is not there,
    // or not valid in the state, is an unknown command.
    [[nodiscard]] static std::span<const Command> commands();

    void process();
    void processCommandLine(const QByteArray &line);
    void processAuthResponse(const QByteArray &line);

    void capa(const QByteArray &);
    void quit(const QByteArray &);
    void noop(const QByteArray &);
    void stls(const QByteArray &argument);
    void user(const QByteArray &argument);
    void pass(const QByteArray &argument);
    void auth(const QByteArray &argument);
    void apop(const QByteArray &);
    void stat(const QByteArray &);
    void list(const QByteArray &argument);
    void uidl(const QByteArray &argument);
    void listing(const QByteArray &argument, bool uidl);
    void retr(const QByteArray &argument);
    void top(const QByteArray &argument);
    void dele(const QByteArray &argument);
    void rset(const QByteArray &);

    void requestLogin(const QString &username, const QString &password);
    // After -ERR [AUTH]: too many, and the session ends.
    void countAuthFailure();
    // The message number in the argument, 1-based, valid and not deleted; or -ERR and unset.
    std::optional<qsizetype> messageIndex(const QByteArray &argument);
    void ok(QStringView text);
    void err(QStringView text); // counts toward maxErrors
    void multiline(QStringView first, const QList<QByteArray> &lines);
    void close();

    Pop3SessionSettings m_settings;
    QString m_clientAddress;
    State m_state = State::Authorization;
    State m_resumeState = State::Authorization; // where Waiting returns to
    CommandLineBuffer m_input{Pop3SessionSettings::MaxCommandLine};
    QByteArray m_output;
    std::optional<Pop3Request> m_request;
    QList<qint64> m_retrieved;
    bool m_startTlsRequested = false;
    bool m_encrypted = false;
    bool m_holdingInput = false;
    bool m_stopping = false;
    bool m_quitReceived = false;
    int m_errors = 0;
    int m_authFailures = 0;

    QString m_user; // USER, until PASS
    qint64 m_accountId = 0;
    QList<Pop3Message> m_maildrop;
    QList<bool> m_deleted;
    std::optional<qint64> m_fetching; // the entry of a RETR (not TOP) under way
};
