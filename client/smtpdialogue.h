#pragma once

#include "smtpreply.h"

#include <QByteArray>
#include <QList>
#include <QSet>
#include <QString>

#include <optional>

// What the client was doing when a reply came: the error mapping needs it
// (535 means one thing to AUTH, 550 another to RCPT than to REG).
enum class SmtpStage {
    Connect,
    Greeting,
    Hello,
    StartTls,
    Handshake,
    Auth,
    Register,
    LookUp,
    Ping,
    MailFrom,
    RcptTo,
    Data,
    Message,
    Quit,
};

// One command and the reply code that means it worked.
struct SmtpStep
{
    SmtpStage stage = SmtpStage::Greeting;
    QByteArray command;  // without CRLF; empty for the greeting and the message
    int expect = 250;    // an SmtpCode
    QString argument;    // what the step is about, e.g. the recipient
    bool secret = false; // the argument is a credential: never logged
};

// Why a dialogue failed: the stage, and either the server's reply or a
// protocol error (a malformed reply, no STARTTLS offered, data before TLS).
struct SmtpFailure
{
    SmtpStage stage = SmtpStage::Greeting;
    QString argument;
    std::optional<SmtpReply> reply;
    QString protocolError;
    // RFC 1870: the message (messageSize bytes) is larger than the SIZE the
    // server announced (sizeLimit), so MAIL FROM was never sent.
    qint64 messageSize = 0;
    qint64 sizeLimit = 0;

    [[nodiscard]] bool isOverSizeLimit() const { return sizeLimit > 0; }
};

// The client side of one SMTP submission conversation (RFC 5321, STARTTLS
// RFC 3207, AUTH PLAIN RFC 4954) as a state machine over bytes: give it what
// the server sent, it says what to write, when to start TLS, when the result
// is final and when to close. No sockets here, so every reply split and every
// server misbehaviour can be tested with byte strings. Commands go one at a
// time; a reply other than the step's expected code ends the dialogue.
class SmtpDialogue
{
public:
    struct Events
    {
        QByteArray send;       // write these bytes
        bool startTls = false; // the 220 to STARTTLS came and nothing after it: start the handshake
        bool finished = false; // every step up to QUIT worked: the result is final
        bool close = false;    // close the connection after writing `send`
        std::optional<SmtpFailure> failure;
        QList<QByteArray> log; // what was sent, as the wire log may show it (credentials redacted)
        bool message = false;  // `send` is the DATA payload (a writer may pace it and show progress)
    };

    // The greeting, EHLO, STARTTLS, EHLO again, AUTH PLAIN when credentials
    // are given, then `steps`, then QUIT. `message` is the DATA payload as
    // dataPayload() makes it, sent after a step of stage Data.
    SmtpDialogue(const QString &heloName, const QString &username, const QString &password,
                 QList<SmtpStep> steps, QByteArray message = {});

    // The name EHLO gives (RFC 5321 §4.1.1.1: a domain or an address literal).
    void setHeloName(const QString &name);

    [[nodiscard]] Events received(QByteArrayView bytes);
    // The TLS handshake finished: say EHLO again (RFC 3207 §4.2).
    [[nodiscard]] Events encrypted();

    [[nodiscard]] SmtpStage stage() const;
    // Every step up to QUIT worked (QUIT itself may still be unanswered).
    [[nodiscard]] bool isFinished() const
    {
        return m_state != State::Failed && m_current >= m_steps.size() - 1;
    }
    // The reply to the last step before QUIT (e.g. "250 2.0.0 OK: queued as 7").
    [[nodiscard]] const SmtpReply &result() const { return m_result; }
    // RFC 1870: the largest message the server takes, as its EHLO over TLS
    // announced it in SIZE (a plaintext EHLO may be anyone's); 0 for "SIZE",
    // "SIZE 0" or no SIZE (no fixed limit); unset before that EHLO's reply.
    // A MAIL FROM whose SIZE= is larger is never sent: the dialogue fails
    // with SmtpFailure::isOverSizeLimit() instead.
    [[nodiscard]] std::optional<qint64> maxMessageSize() const { return m_maxMessageSize; }
    // The command line of the current step as the wire log may show it.
    [[nodiscard]] QByteArray loggableCommand(const SmtpStep &step) const;
    [[nodiscard]] const SmtpStep *currentStep() const;

    // RFC 5321 §4.5.2: SmtpDotStuffing::stuff(), the DATA payload.
    [[nodiscard]] static QByteArray dataPayload(QByteArrayView message);
    // RFC 1870 §6: SmtpDotStuffing::messageSize(), what MAIL FROM's SIZE= says.
    [[nodiscard]] static qint64 messageSize(QByteArrayView payload);

private:
    Events advance();
    Events fail(SmtpFailure failure);

    enum class State {
        AwaitingReply, // one command (or the greeting) is unanswered
        WaitingForTls, // STARTTLS was accepted; nothing may arrive until the handshake
        Closed,        // QUIT answered
        Failed,
    };

    QList<SmtpStep> m_steps;
    qsizetype m_current = 0;
    QByteArray m_message;
    SmtpReplyParser m_parser;
    SmtpReply m_result;
    QSet<QString> m_extensions; // the EHLO keywords, upper case
    std::optional<qint64> m_maxMessageSize;
    State m_state = State::AwaitingReply;
};
