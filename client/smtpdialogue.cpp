#include "smtpdialogue.h"

#include "saslplain.h"

#include "smtpcodes.h"
#include "smtpdotstuffing.h"

#include <QSet>

using namespace Qt::StringLiterals;

SmtpDialogue::SmtpDialogue(const QString &heloName, const QString &username, const QString &password,
                           QList<SmtpStep> steps, QByteArray message)
    : m_message(std::move(message))
{
    const QByteArray ehlo = "EHLO " + heloName.toUtf8();
    m_steps.append({SmtpStage::Greeting, {}, SmtpCode::ServiceReady, {}, false});
    m_steps.append({SmtpStage::Hello, ehlo, SmtpCode::Ok, {}, false});
    m_steps.append({SmtpStage::StartTls, "STARTTLS"_ba, SmtpCode::ServiceReady, {}, false});
    m_steps.append({SmtpStage::Hello, ehlo, SmtpCode::Ok, {}, false});
    if (!username.isEmpty()) {
        // RFC 4616: authzid NUL authcid NUL passwd, as the initial response
        const QByteArray plain = SaslPlain::encode(username, password);
        m_steps.append({SmtpStage::Auth, "AUTH PLAIN " + plain.toBase64(), SmtpCode::AuthSucceeded, username, true});
    }
    m_steps.append(steps);
    m_steps.append({SmtpStage::Quit, "QUIT"_ba, SmtpCode::ServiceClosing, {}, false});
}

void SmtpDialogue::setHeloName(const QString &name)
{
    for (SmtpStep &step : m_steps) {
        if (step.stage == SmtpStage::Hello)
            step.command = "EHLO " + name.toUtf8();
    }
}

SmtpStage SmtpDialogue::stage() const
{
    const SmtpStep *step = currentStep();
    return step ? step->stage : SmtpStage::Quit;
}

const SmtpStep *SmtpDialogue::currentStep() const
{
    return m_current < m_steps.size() ? &m_steps.at(m_current) : nullptr;
}

QByteArray SmtpDialogue::loggableCommand(const SmtpStep &step) const
{
    if (!step.secret)
        return step.command;
    const qsizetype lastSpace = step.command.lastIndexOf(' ');
    return step.command.left(lastSpace) + " <redacted>";
}

SmtpDialogue::Events SmtpDialogue::received(QByteArrayView bytes)
{
    if (m_state == State::Failed || m_state == State::Closed)
        return {};
    if (m_state == State::WaitingForTls) {
        // Nothing may come between the 220 and the handshake: it would be
        // taken for TLS-protected (the STARTTLS injection of CVE-2011-0411,
        // server to client), complete replies and fragments alike.
        return fail({SmtpStage::StartTls, {}, std::nullopt, u"the server sent data before the TLS handshake"_s});
    }
    m_parser.append(bytes);
    std::optional<SmtpReply> reply = m_parser.next();
    if (!reply) {
        if (m_parser.hasError())
            return fail({stage(), currentStep()->argument, std::nullopt, m_parser.errorString()});
        return {};
    }
    const SmtpStep &step = m_steps.at(m_current);
    // Commands go one at a time: a second reply, or the start of one, before
    // the next command is even written answers nothing we asked.
    const bool more = m_parser.bufferedBytes() > 0;
    if (step.stage == SmtpStage::Quit) {
        m_state = State::Closed;
        ++m_current;
        Events events;
        events.close = true;
        return events;
    }
    const bool accepted = reply->code == step.expect || (step.stage == SmtpStage::RcptTo && reply->code == SmtpCode::UserNotLocalWillForward);
    if (!accepted)
        return fail({step.stage, step.argument, reply, {}});
    if (more) {
        return fail({step.stage, step.argument, reply,
                     step.stage == SmtpStage::StartTls ? u"the server sent data after its STARTTLS reply"_s
                                                       : u"the server sent a reply to a command not yet sent"_s});
    }
    if (step.stage == SmtpStage::Hello) {
        QSet<QString> extensions;
        qint64 maxSize = 0;
        for (qsizetype i = 1; i < reply->lines.size(); ++i) { // line 0 is the greeting name
            const QString keyword = reply->lines.at(i).section(u' ', 0, 0).toUpper();
            extensions.insert(keyword);
            if (keyword == u"SIZE") // RFC 1870 §4: "SIZE" [SP number]; 0 or none: no fixed limit
                maxSize = std::max<qint64>(0, reply->lines.at(i).section(u' ', 1, 1, QString::SectionSkipEmpty).toLongLong());
        }
        // RFC 3207 §4: never send a password where STARTTLS was not offered.
        if (m_current == 1 && !extensions.contains(u"STARTTLS"_s))
            return fail({SmtpStage::StartTls, {}, reply, u"the server does not offer STARTTLS"_s});
        m_extensions = extensions;
        if (m_current > 1)
            m_maxMessageSize = maxSize;
    }
    m_result = *reply;
    ++m_current;
    if (step.stage == SmtpStage::StartTls) {
        m_state = State::WaitingForTls;
        Events events;
        events.startTls = true;
        return events;
    }
    return advance();
}

SmtpDialogue::Events SmtpDialogue::encrypted()
{
    if (m_state != State::WaitingForTls)
        return {};
    m_state = State::AwaitingReply;
    return advance();
}

SmtpDialogue::Events SmtpDialogue::advance()
{
    Events events;
    const SmtpStep &step = m_steps.at(m_current);
    if (step.stage == SmtpStage::Quit)
        events.finished = true;
    if (step.stage == SmtpStage::Message) {
        events.send = m_message;
        events.message = true;
        events.log.append("<message, " + QByteArray::number(m_message.size()) + " bytes>");
        return events;
    }
    QByteArray command = step.command;
    const qsizetype sizeParameter = step.stage == SmtpStage::MailFrom ? command.indexOf(" SIZE=") : -1;
    if (sizeParameter > 0) {
        if (!m_extensions.contains(u"SIZE"_s)) {
            command.truncate(sizeParameter); // RFC 1870: SIZE= only where the server announced it
        } else {
            // RFC 1870 §6.1: a message the server said it would refuse is not
            // offered; the user learns why before a byte of it is sent.
            const qint64 size = command.mid(sizeParameter + 6).split(' ').first().toLongLong();
            const qint64 limit = m_maxMessageSize.value_or(0);
            if (limit > 0 && size > limit)
                return fail({step.stage, step.argument, std::nullopt, {}, size, limit});
        }
    }
    events.send = command + "\r\n";
    events.log.append(step.secret ? loggableCommand(step) : command);
    return events;
}

SmtpDialogue::Events SmtpDialogue::fail(SmtpFailure failure)
{
    // A polite QUIT where the server still listens and is still trusted;
    // 421 means it is closing, a protocol error that it cannot be trusted.
    const bool serverClosing = failure.reply && failure.reply->code == SmtpCode::ServiceNotAvailable;
    Events events;
    if (failure.protocolError.isEmpty() && !serverClosing && m_state == State::AwaitingReply) {
        events.send = "QUIT\r\n"_ba;
        events.log.append("QUIT"_ba);
    }
    m_state = State::Failed;
    events.close = true;
    events.failure = std::move(failure);
    m_current = m_steps.size();
    return events;
}

qint64 SmtpDialogue::messageSize(QByteArrayView payload)
{
    return SmtpDotStuffing::messageSize(payload);
}

QByteArray SmtpDialogue::dataPayload(QByteArrayView message)
{
    return SmtpDotStuffing::stuff(message);
}
