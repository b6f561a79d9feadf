#include "smtpdialogue.h"

using namespace Qt::StringLiterals;

SmtpDialogue::SmtpDialogue(const QString &heloName, const QString &username, const QString &password,
                           QList<SmtpStep> steps, QByteArray message)
    : m_message(std::move(message))
{
    const QByteArray ehlo = "EHLO " + heloName.toUtf8();
    m_steps.append({SmtpStage::Greeting, {}, 220, {}, false});
    m_steps.append({SmtpStage::Hello, ehlo, 250, {}, false});
    m_steps.append({SmtpStage::StartTls, "STARTTLS"_ba, 220, {}, false});
    m_steps.append({SmtpStage::Hello, ehlo, 250, {}, false});
    if (!username.isEmpty()) {
        // RFC 4616: authzid NUL authcid NUL passwd, as the initial response
        const QByteArray plain = '\0' + username.toUtf8() + '\0' + password.toUtf8();
        m_steps.append({SmtpStage::Auth, "AUTH PLAIN " + plain.toBase64(), 235, username, true});
    }
    m_steps.append(steps);
    m_steps.append({SmtpStage::Quit, "QUIT"_ba, 221, {}, false});
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
    Events events;
    if (m_failed || m_current >= m_steps.size())
        return events;
    m_parser.append(bytes);
    while (!m_failed && m_current < m_steps.size()) {
        std::optional<SmtpReply> reply = m_parser.next();
        if (!reply) {
            if (m_parser.hasError()) {
                Events failure = fail({stage(), currentStep()->argument, std::nullopt, m_parser.errorString()});
                failure.send.prepend(events.send);
                return failure;
            }
            return events;
        }
        if (m_waitingForTls) {
            return fail({SmtpStage::StartTls, {}, reply, u"the server replied again before the TLS handshake"_s});
        }
        const SmtpStep &step = m_steps.at(m_current);
        if (step.stage == SmtpStage::Quit) {
            events.close = true;
            ++m_current;
            return events;
        }
        const bool accepted = reply->code == step.expect || (step.stage == SmtpStage::RcptTo && reply->code == 251);
        if (!accepted) {
            Events failure = fail({step.stage, step.argument, reply, {}});
            failure.send.prepend(events.send);
            return failure;
        }
        // RFC 3207 §4: never send a password where STARTTLS was not offered
        if (step.stage == SmtpStage::Hello && m_current == 1) {
            const bool offersTls = std::any_of(reply->lines.cbegin(), reply->lines.cend(), [](const QString &line) {
                return line.trimmed().compare(u"STARTTLS"_s, Qt::CaseInsensitive) == 0;
            });
            if (!offersTls)
                return fail({SmtpStage::StartTls, {}, reply, u"the server does not offer STARTTLS"_s});
        }
        if (step.stage == SmtpStage::StartTls && m_parser.bufferedBytes() > 0) {
            // What came with the 220 would be read as if it had come over TLS
            // (the STARTTLS injection of CVE-2011-0411, server to client).
            return fail({SmtpStage::StartTls, {}, reply, u"the server sent data after its STARTTLS reply"_s});
        }
        m_result = *reply;
        ++m_current;
        if (step.stage == SmtpStage::StartTls) {
            m_waitingForTls = true;
            events.startTls = true;
            return events;
        }
        const Events next = advance();
        events.send += next.send;
        events.finished = events.finished || next.finished;
    }
    return events;
}

SmtpDialogue::Events SmtpDialogue::encrypted()
{
    if (!m_waitingForTls || m_failed)
        return {};
    m_waitingForTls = false;
    return advance();
}

SmtpDialogue::Events SmtpDialogue::advance()
{
    Events events;
    const SmtpStep &step = m_steps.at(m_current);
    if (step.stage == SmtpStage::Quit) {
        m_finished = true;
        events.finished = true;
    }
    if (step.stage == SmtpStage::Message)
        events.send = m_message;
    else
        events.send = step.command + "\r\n";
    return events;
}

SmtpDialogue::Events SmtpDialogue::fail(SmtpFailure failure)
{
    m_failed = true;
    Events events;
    // A polite QUIT where the server still listens; 421 means it is closing.
    const bool serverClosing = failure.reply && failure.reply->code == 421;
    if (failure.protocolError.isEmpty() && !serverClosing && !m_waitingForTls)
        events.send = "QUIT\r\n"_ba;
    events.close = true;
    events.failure = std::move(failure);
    m_current = m_steps.size();
    return events;
}

QByteArray SmtpDialogue::dataPayload(QByteArrayView message)
{
    QByteArray out;
    out.reserve(message.size() + message.size() / 32 + 5);
    bool lineStart = true;
    for (qsizetype i = 0; i < message.size(); ++i) {
        const char c = message.at(i);
        if (c == '\r' || c == '\n') {
            out += "\r\n";
            if (c == '\r' && i + 1 < message.size() && message.at(i + 1) == '\n')
                ++i;
            lineStart = true;
            continue;
        }
        if (lineStart && c == '.')
            out += '.';
        out += c;
        lineStart = false;
    }
    if (!lineStart)
        out += "\r\n";
    out += ".\r\n";
    return out;
}
