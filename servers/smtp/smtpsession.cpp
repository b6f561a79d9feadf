#include "smtpsession.h"

#include "smtplogging.h"

// The session's core: input, the command table, replies, STARTTLS and the
// commands that change no state. AUTH, REG and GETUSER are in
// smtpsessionauth.cpp; the envelope and DATA in smtpsessionmail.cpp.

SmtpSession::SmtpSession(SmtpSessionSettings settings, SmtpDirectory *directory, QString clientAddress)
    : m_settings(std::move(settings))
    , m_directory(directory)
    , m_clientAddress(std::move(clientAddress))
    , m_encrypted(m_settings.implicitTls)
{
}

void SmtpSession::start()
{
    reply(SmtpReplies::Greeting, m_settings.hostname);
}

QString SmtpSession::address(const QString &username) const
{
    return username + u'@' + m_settings.domain;
}

QByteArray SmtpSession::printableOnly(const QByteArray &text, qsizetype maxLength)
{
    QByteArray out = text.left(maxLength);
    for (char &c : out) {
        if (c < 33 || c > 126)
            c = '?';
    }
    return out;
}

void SmtpSession::replyLines(int code, const QStringList &lines)
{
    for (qsizetype i = 0; i < lines.size(); ++i)
        m_output += QByteArray::number(code) + (i + 1 < lines.size() ? '-' : ' ') + lines.at(i).toUtf8() + "\r\n";
}

void SmtpSession::countError()
{
    if (++m_errors >= m_settings.maxErrors) {
        reply(SmtpReplies::TooManyErrors);
        qCInfo(lcSmtp).noquote() << m_clientAddress << "closed after" << m_errors << "errors";
        close();
    }
}

void SmtpSession::close()
{
    m_state = State::Closed;
    m_input.clear();
    m_message.clear();
    m_request.reset();
}

void SmtpSession::resetTransaction()
{
    m_mailGiven = false;
    m_recipients.clear();
    m_message.clear();
    m_partialLine.clear();
}

QByteArray SmtpSession::takeOutput()
{
    return std::exchange(m_output, {});
}

std::optional<SmtpRequest> SmtpSession::takeRequest()
{
    return std::exchange(m_request, std::nullopt);
}

void SmtpSession::resume()
{
    if (m_state != State::Closed && !m_startTlsRequested)
        process();
}

void SmtpSession::receive(QByteArrayView bytes)
{
    if (m_state == State::Closed || m_startTlsRequested)
        return; // after STARTTLS's 220, plaintext is never read (RFC 3207 §4.2... and CVE-2011-0411)
    m_input.append(bytes);
    process();
}

void SmtpSession::process()
{
    // A client that pipelines commands but does not read the replies: stop
    // taking commands until the connection has written these out.
    while (m_state != State::Closed && m_state != State::Waiting && !m_startTlsRequested
           && m_output.size() < MaxPendingOutput && !(m_stopping && m_state == State::Command)) {
        if (m_state == State::Data) {
            processDataBytes();
            if (m_state == State::Data)
                return; // everything read, the end not yet seen
            continue;
        }
        const std::optional<CommandLineBuffer::Line> line = m_input.takeLine();
        if (!line)
            break;
        if (line->tooLong) {
            if (m_state != State::Command)
                m_state = State::Command; // an overlong AUTH response ends the exchange
            error(SmtpReplies::LineTooLong);
            continue;
        }
        if (m_state == State::Command)
            processCommandLine(line->text);
        else
            processAuthResponse(line->text);
    }
    if (m_startTlsRequested || m_state == State::Closed)
        m_input.clear(); // whatever was pipelined after STARTTLS is dropped, never executed
    m_holdingInput = m_output.size() >= MaxPendingOutput && m_input.hasWholeLine();
}

std::span<const SmtpSession::Command> SmtpSession::commands()
{
    // In the order HELP lists them.
    static const Command table[] = {
        {"EHLO", Needs::Nothing, &SmtpSession::ehlo},
        {"HELO", Needs::Nothing, &SmtpSession::helo},
        {"STARTTLS", Needs::Plaintext, &SmtpSession::startTls},
        {"AUTH", Needs::Encryption, &SmtpSession::auth},
        {"MAIL", Needs::EncryptionAndLogin, &SmtpSession::mailFrom},
        {"RCPT", Needs::Transaction, &SmtpSession::rcptTo},
        {"DATA", Needs::Nothing, &SmtpSession::data}, // its syntax is checked before the transaction
        {"RSET", Needs::Nothing, &SmtpSession::rset},
        {"NOOP", Needs::Nothing, &SmtpSession::noop},
        {"VRFY", Needs::Nothing, &SmtpSession::vrfy},
        {"HELP", Needs::Nothing, &SmtpSession::help},
        {"QUIT", Needs::Nothing, &SmtpSession::quit},
        {"PING", Needs::Nothing, &SmtpSession::ping},
        {"REG", Needs::Encryption, &SmtpSession::reg},
        {"GETUSER", Needs::Login, &SmtpSession::getUser},
    };
    return table;
}

const SmtpSession::Command *SmtpSession::findCommand(QByteArrayView verb)
{
    for (const Command &command : commands()) {
        if (command.verb == verb)
            return &command;
    }
    return nullptr;
}

bool SmtpSession::meets(Needs needs)
{
    switch (needs) {
    case Needs::Nothing:
        return true;
    case Needs::Plaintext:
        if (m_encrypted)
            error(SmtpReplies::TlsAlreadyActive);
        return !m_encrypted;
    case Needs::Encryption:
        if (!m_encrypted)
            error(SmtpReplies::EncryptionRequired);
        return m_encrypted;
    case Needs::EncryptionAndLogin:
        if (!m_encrypted) {
            error(SmtpReplies::StartTlsFirst);
            return false;
        }
        return meets(Needs::Login);
    case Needs::Login:
        if (!m_accountId)
            error(SmtpReplies::AuthRequired);
        return m_accountId != 0;
    case Needs::Transaction:
        if (!m_mailGiven)
            error(SmtpReplies::NeedMail);
        return m_mailGiven;
    }
    return false;
}

void SmtpSession::processCommandLine(const QByteArray &line)
{
    const qsizetype space = line.indexOf(' ');
    const QByteArray verb = (space < 0 ? line : line.left(space)).toUpper();
    const QByteArray argument = space < 0 ? QByteArray() : line.mid(space + 1).trimmed();
    const Command *command = findCommand(verb);
    if (!command) {
        error(SmtpReplies::CommandUnrecognized);
        return;
    }
    if (meets(command->needs))
        (this->*command->handler)(argument);
}

void SmtpSession::ehlo(const QByteArray &argument)
{
    hello(argument, true);
}

void SmtpSession::helo(const QByteArray &argument)
{
    hello(argument, false);
}

void SmtpSession::hello(const QByteArray &argument, bool extended)
{
    if (argument.isEmpty()) {
        error(extended ? SmtpReplies::EhloSyntax : SmtpReplies::HeloSyntax);
        return;
    }
    resetTransaction();
    m_helo = QString::fromLatin1(printableOnly(argument.split(' ').first(), 255));
    m_extended = extended;
    if (!extended) {
        reply(SmtpReplies::HeloOk, m_settings.hostname);
        return;
    }
    QStringList lines{m_settings.hostname, QStringLiteral("PIPELINING"),
                      QStringLiteral("SIZE %1").arg(m_settings.maxMessageBytes), QStringLiteral("8BITMIME"),
                      QStringLiteral("ENHANCEDSTATUSCODES")};
    lines.append(m_encrypted ? QStringLiteral("AUTH PLAIN LOGIN") : QStringLiteral("STARTTLS"));
    replyLines(SmtpCode::Ok, lines);
}

void SmtpSession::startTls(const QByteArray &argument)
{
    if (!argument.isEmpty()) {
        error(SmtpReplies::StartTlsSyntax);
        return;
    }
    reply(SmtpReplies::ReadyToStartTls);
    m_startTlsRequested = true;
}

void SmtpSession::tlsEstablished()
{
    // RFC 3207 §4.2: forget everything learnt before TLS; the client says EHLO again.
    m_startTlsRequested = false;
    m_encrypted = true;
    m_helo.clear();
    m_extended = false;
    resetTransaction();
    m_state = State::Command;
    m_input.clear();
}

void SmtpSession::ping(const QByteArray &)
{
    reply(SmtpReplies::Pong);
}

void SmtpSession::rset(const QByteArray &)
{
    resetTransaction();
    reply(SmtpReplies::Ok);
}

void SmtpSession::noop(const QByteArray &)
{
    reply(SmtpReplies::Ok);
}

void SmtpSession::vrfy(const QByteArray &)
{
    reply(SmtpReplies::CannotVerify);
}

void SmtpSession::help(const QByteArray &)
{
    QByteArrayList verbs;
    for (const Command &command : commands())
        verbs.append(command.verb.toByteArray());
    reply(SmtpReplies::Help, QString::fromLatin1(verbs.join(' ')));
}

void SmtpSession::quit(const QByteArray &)
{
    m_quitReceived = true;
    reply(SmtpReplies::Bye);
    close();
}

void SmtpSession::timedOut()
{
    if (m_state == State::Closed)
        return;
    reply(SmtpReplies::Timeout);
    close();
}

void SmtpSession::shuttingDown()
{
    if (m_state == State::Closed)
        return;
    reply(SmtpReplies::ShuttingDown);
    close();
}
