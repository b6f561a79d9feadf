#pragma once

#include "authenticator.h"
#include "commandlinebuffer.h"
#include "config.h"
#include "mailheaders.h"
#include "smtpcodes.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>
#include <span>
#include <variant>

// What a session is configured with (docs/PROTOCOL.md, SMTP).
struct SmtpSessionSettings
{
    QString hostname = QStringLiteral("localhost");
    QString domain = QStringLiteral("project.com");
    qint64 maxMessageBytes = 25 * 1024 * 1024;
    qint64 maxHeaderBytes = 256 * 1024; // the client's header section (HeaderSectionMeter)
    int maxRecipients = 100;
    bool implicitTls = false; // --listen-tls: encrypted from the first byte
    Registration registration = Registration::Open;
    int maxErrors = 10;
    int maxAuthFailures = 3;

    static constexpr int MaxCommandLine = 512; // octets with CRLF, RFC 5321 §4.5.3.1.4
    static constexpr int MaxDataLine = 1000;   // octets with CRLF, RFC 5321 §4.5.3.1.6
};

// What a look-up of an account name found. Unavailable: the store cannot
// answer now (a database that is down), which is no answer about the name:
// the session says 451, never "no such user", so that senders try again.
struct AccountLookup
{
    enum class Result { Found, NoSuchAccount, Unavailable };
    Result result = Result::NoSuchAccount;
    qint64 id = 0;

    [[nodiscard]] bool found() const { return result == Result::Found; }
};

// Quick, synchronous questions the session asks (a store lookup each).
class SmtpDirectory
{
public:
    virtual ~SmtpDirectory() = default;
    // The name is normalized.
    virtual AccountLookup lookUpAccount(const QString &username) = 0;
};

// Work that takes time (password hashing, a durable commit). The session
// makes at most one request at a time and reads no further input until it
// is answered, so replies to pipelined commands stay in order.
struct SmtpLoginRequest
{
    QString username; // normalized; as typed (lower-cased) when it is no valid name, so the failure still counts
    QString password;
};

struct SmtpRegisterRequest
{
    QString username; // normalized and valid
    QString password; // of an acceptable length
};

struct SmtpDeliveryRequest
{
    QString queueId;
    qint64 senderId = 0;
    QList<qint64> recipientIds;
    QByteArray message; // as stored: our Return-Path: and Received: on top, CRLF line ends
};

using SmtpRequest = std::variant<SmtpLoginRequest, SmtpRegisterRequest, SmtpDeliveryRequest>;

enum class RegisterOutcome { Created, Taken, RateLimited, Failed };
enum class DeliveryOutcome { Stored, RecipientGone, DiskFull, Failed };

// The ESMTP dialogue of docs/PROTOCOL.md (SMTP) as a state machine over
// bytes: no sockets, no clock, no database. The connection feeds what it
// reads to receive(), writes takeOutput(), serves takeRequest() and reports
// back, and upgrades or closes when asked. Commands go through one table
// (verb, what it needs, handler); every reply is one of SmtpReplies. RFC 5321, RFC 3207 (STARTTLS), RFC 4954 (AUTH),
// RFC 3463 (enhanced codes), RFC 2920 (PIPELINING), RFC 1870 (SIZE).
class SmtpSession
{
public:
    enum class State {
        Command,       // reading command lines
        AuthPlain,     // waiting for the AUTH PLAIN response line
        AuthLoginUser, // AUTH LOGIN: waiting for the user name
        AuthLoginPassword,
        Data,          // reading the message after 354
        Waiting,       // a request is out; input is held
        Closed,
    };

    SmtpSession(SmtpSessionSettings settings, SmtpDirectory *directory, QString clientAddress);

    // Replies held before the session stops taking commands (see resume()).
    static constexpr qsizetype MaxPendingOutput = 64 * 1024;

    void start(); // the greeting
    void receive(QByteArrayView bytes);
    // Goes on with input already received, after the output was taken.
    void resume();
    [[nodiscard]] bool hasPendingInput() const { return !m_input.isEmpty(); }
    // Whole commands are held because replies wait to be written: the
    // connection reads no more from the client until they are answered.
    // (Not so while only the rest of a line is awaited.)
    [[nodiscard]] bool isHoldingInput() const { return m_holdingInput; }
    // Shutdown: finish what is in flight, take no further command.
    void stopTakingCommands() { m_stopping = true; }
    [[nodiscard]] bool isStopping() const { return m_stopping; }

    // After startTlsRequested(): the handshake is done (the session resets).
    void tlsEstablished();
    void loginFinished(LoginOutcome outcome, qint64 accountId = 0);
    void registrationFinished(RegisterOutcome outcome);
    void deliveryFinished(DeliveryOutcome outcome);
    void timedOut();    // 421 4.4.2 and close
    // The connection's deadline for DATA as a whole (started when the
    // session enters State::Data, stopped when it leaves) has passed: 421
    // 4.4.2, nothing stored, close. Nothing happens outside DATA.
    void dataTimedOut();
    void shuttingDown(); // 421 4.3.2 and close

    [[nodiscard]] QByteArray takeOutput();
    [[nodiscard]] std::optional<SmtpRequest> takeRequest();
    // The connection must write the output, drop anything the client sent
    // that was not yet read (STARTTLS injection), and start TLS.
    [[nodiscard]] bool startTlsRequested() const { return m_startTlsRequested; }
    [[nodiscard]] bool closeRequested() const { return m_state == State::Closed; }
    // The close was the client's own QUIT, so it sends nothing more.
    [[nodiscard]] bool quitReceived() const { return m_quitReceived; }

    [[nodiscard]] State state() const { return m_state; }
    // How many times DATA was answered 354: a new count is a new DATA, whose
    // deadline starts afresh (pipelined messages may follow each other
    // within one receive()).
    [[nodiscard]] quint64 dataStarts() const { return m_dataStarts; }
    [[nodiscard]] bool isEncrypted() const { return m_encrypted; }
    [[nodiscard]] qint64 accountId() const { return m_accountId; }
    [[nodiscard]] QString accountName() const { return m_accountName; }

private:
    // What a verb needs of the session before its handler runs; each unmet
    // need has its own reply (meets()).
    enum class Needs {
        Nothing,
        Plaintext,          // STARTTLS: not yet encrypted
        Encryption,         // AUTH, REG
        EncryptionAndLogin, // MAIL
        Login,              // GETUSER
        Transaction,        // RCPT: after MAIL
    };
    using Handler = void (SmtpSession::*)(const QByteArray &argument);
    struct Command
    {
        QByteArrayView verb; // upper case
        Needs needs = Needs::Nothing;
        Handler handler = nullptr;
    };
    [[nodiscard]] static std::span<const Command> commands();
    [[nodiscard]] static const Command *findCommand(QByteArrayView verb);
    [[nodiscard]] bool meets(Needs needs);

    void process();
    void processCommandLine(const QByteArray &line);
    void processAuthResponse(const QByteArray &line);
    void processDataBytes();
    void finishData();

    // The command handlers (the table is in smtpsession.cpp).
    void ehlo(const QByteArray &argument);
    void helo(const QByteArray &argument);
    void hello(const QByteArray &argument, bool extended);
    void auth(const QByteArray &argument);
    void reg(const QByteArray &argument);
    void getUser(const QByteArray &argument);
    void mailFrom(const QByteArray &argument);
    void rcptTo(const QByteArray &argument);
    void data(const QByteArray &argument);
    void startTls(const QByteArray &argument);
    void ping(const QByteArray &argument);
    void rset(const QByteArray &argument);
    void noop(const QByteArray &argument);
    void vrfy(const QByteArray &argument);
    void help(const QByteArray &argument);
    void quit(const QByteArray &argument);
    void requestLogin(const QByteArray &authorizationId, const QString &loginName, const QString &password);

    template<typename... Args>
    void reply(const SmtpServerReply &what, const Args &...arguments)
    {
        m_output += what.toBytes(arguments...);
    }
    // A reply that counts toward maxErrors.
    template<typename... Args>
    void error(const SmtpServerReply &what, const Args &...arguments)
    {
        reply(what, arguments...);
        countError();
    }
    void countError();
    void replyLines(int code, const QStringList &lines);
    void close();
    void resetTransaction();
    // For the log: at most maxLength bytes, anything but printable ASCII as "?".
    [[nodiscard]] static QByteArray printableOnly(const QByteArray &text, qsizetype maxLength);
    [[nodiscard]] QString address(const QString &username) const;

    SmtpSessionSettings m_settings;
    SmtpDirectory *m_directory = nullptr;
    QString m_clientAddress;
    State m_state = State::Command;
    CommandLineBuffer m_input{SmtpSessionSettings::MaxCommandLine};
    QByteArray m_output;
    std::optional<SmtpRequest> m_request;
    bool m_startTlsRequested = false;
    bool m_encrypted = false;
    bool m_holdingInput = false;
    bool m_stopping = false;
    bool m_quitReceived = false;
    int m_errors = 0;
    int m_authFailures = 0;

    QString m_helo;
    bool m_extended = false;
    qint64 m_accountId = 0;
    QString m_accountName;
    QString m_authLoginName; // AUTH LOGIN: the name while the password is asked
    QString m_pendingLoginName; // the name of the login or registration being checked

    // The transaction.
    bool m_mailGiven = false;
    QList<qint64> m_recipients;

    // DATA: the message as it arrives, bounded by maxMessageBytes.
    QByteArray m_message;
    QByteArray m_partialLine;
    char m_partialLastByte = 0; // the last byte received of the partial line, kept or not
    bool m_lastLineEndedWithCrlf = true; // the DATA command's own CRLF
    bool m_tooBig = false;
    bool m_badLineEnd = false; // bare CR or NUL
    bool m_lineTooLong = false;
    quint64 m_dataStarts = 0;
    HeaderSectionMeter m_headerMeter{HeaderBlock::FirstLine::IsHeader}; // the same rule as finishData()'s parse
    bool m_headerTooBig = false;
    QString m_queueId;
};
