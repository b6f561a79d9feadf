#include "smtpsession.h"

#include "mailaddress.h"
#include "maildate.h"
#include "mailheaders.h"
#include "passwords.h"
#include "smtplogging.h"
#include "username.h"

#include <QDateTime>
#include <QRandomGenerator>

namespace {

std::optional<QByteArray> decodeBase64Strictly(const QByteArray &text)
{
    const auto result = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return std::nullopt;
    return result.decoded;
}

// "<path> [PARAM=VALUE ...]" after "FROM:" or "TO:" (RFC 5321 §4.1.2).
struct PathArgument
{
    QByteArray address;
    QList<QByteArray> parameters;
};

std::optional<PathArgument> parsePath(const QByteArray &argument, QByteArrayView keyword)
{
    if (!argument.startsWith(keyword.toByteArray().toUpper()) && !argument.toUpper().startsWith(keyword.toByteArray()))
        return std::nullopt;
    const QByteArray rest = argument.mid(keyword.size()).trimmed();
    if (!rest.startsWith('<'))
        return std::nullopt;
    const qsizetype close = rest.indexOf('>');
    if (close < 0)
        return std::nullopt;
    PathArgument path;
    path.address = rest.mid(1, close - 1).trimmed();
    // RFC 5321 §4.1.2 source route "@a,@b:user@host": only the mailbox counts.
    if (path.address.startsWith('@')) {
        const qsizetype colon = path.address.indexOf(':');
        path.address = colon < 0 ? QByteArray() : path.address.mid(colon + 1);
    }
    for (const QByteArray &parameter : rest.mid(close + 1).split(' ')) {
        if (!parameter.isEmpty())
            path.parameters.append(parameter);
    }
    return path;
}

QByteArray printableOnly(const QByteArray &text, qsizetype maxLength)
{
    QByteArray out = text.left(maxLength);
    for (char &c : out) {
        if (c < 33 || c > 126)
            c = '?';
    }
    return out;
}

QString newQueueId()
{
    quint32 random[2];
    QRandomGenerator::system()->fillRange(random);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex().toUpper());
}

} // namespace

SmtpSession::SmtpSession(SmtpSessionSettings settings, SmtpDirectory *directory, QString clientAddress)
    : m_settings(std::move(settings))
    , m_directory(directory)
    , m_clientAddress(std::move(clientAddress))
    , m_encrypted(m_settings.implicitTls)
{
}

void SmtpSession::start()
{
    reply(220, nullptr, m_settings.hostname + QStringLiteral(" ESMTP Mailroom"));
}

QString SmtpSession::address(const QString &username) const
{
    return username + u'@' + m_settings.domain;
}

void SmtpSession::reply(int code, const char *enhanced, const QString &text)
{
    m_output += QByteArray::number(code) + ' ';
    if (enhanced)
        m_output += QByteArray(enhanced) + ' ';
    m_output += text.toUtf8() + "\r\n";
}

void SmtpSession::replyLines(int code, const QStringList &lines)
{
    for (qsizetype i = 0; i < lines.size(); ++i)
        m_output += QByteArray::number(code) + (i + 1 < lines.size() ? '-' : ' ') + lines.at(i).toUtf8() + "\r\n";
}

void SmtpSession::error(int code, const char *enhanced, const QString &text)
{
    reply(code, enhanced, text);
    if (++m_errors >= m_settings.maxErrors) {
        reply(421, "4.7.0", QStringLiteral("Too many errors"));
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
            error(500, "5.5.2", QStringLiteral("Line too long"));
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

bool SmtpSession::processCommandLine(QByteArray line)
{
    const qsizetype space = line.indexOf(' ');
    const QByteArray verb = (space < 0 ? line : line.left(space)).toUpper();
    const QByteArray argument = space < 0 ? QByteArray() : line.mid(space + 1).trimmed();

    if (verb == "EHLO" || verb == "HELO")
        ehlo(argument, verb == "EHLO");
    else if (verb == "MAIL")
        mailFrom(argument);
    else if (verb == "RCPT")
        rcptTo(argument);
    else if (verb == "DATA")
        data(argument);
    else if (verb == "AUTH")
        auth(argument);
    else if (verb == "STARTTLS")
        startTls(argument);
    else if (verb == "REG")
        reg(argument);
    else if (verb == "GETUSER")
        getUser(argument);
    else if (verb == "PING")
        reply(250, "2.0.0", QStringLiteral("PONG"));
    else if (verb == "RSET") {
        resetTransaction();
        reply(250, "2.0.0", QStringLiteral("OK"));
    } else if (verb == "NOOP")
        reply(250, "2.0.0", QStringLiteral("OK"));
    else if (verb == "VRFY")
        reply(252, "2.5.0", QStringLiteral("Cannot VRFY user"));
    else if (verb == "HELP")
        reply(214, "2.0.0", QStringLiteral("Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP VRFY HELP QUIT PING REG GETUSER"));
    else if (verb == "QUIT") {
        m_quitReceived = true;
        reply(221, "2.0.0", QStringLiteral("Bye"));
        close();
    } else
        error(500, "5.5.2", QStringLiteral("Command unrecognized"));
    return true;
}

void SmtpSession::ehlo(const QByteArray &argument, bool extended)
{
    if (argument.isEmpty()) {
        error(501, "5.5.4", extended ? QStringLiteral("Syntax: EHLO hostname") : QStringLiteral("Syntax: HELO hostname"));
        return;
    }
    resetTransaction();
    m_helo = QString::fromLatin1(printableOnly(argument.split(' ').first(), 255));
    m_extended = extended;
    if (!extended) {
        reply(250, nullptr, m_settings.hostname);
        return;
    }
    QStringList lines{m_settings.hostname, QStringLiteral("PIPELINING"),
                      QStringLiteral("SIZE %1").arg(m_settings.maxMessageBytes), QStringLiteral("8BITMIME"),
                      QStringLiteral("ENHANCEDSTATUSCODES")};
    lines.append(m_encrypted ? QStringLiteral("AUTH PLAIN LOGIN") : QStringLiteral("STARTTLS"));
    replyLines(250, lines);
}

void SmtpSession::startTls(const QByteArray &argument)
{
    if (m_encrypted) {
        error(503, "5.5.1", QStringLiteral("TLS already active"));
        return;
    }
    if (!argument.isEmpty()) {
        error(501, "5.5.4", QStringLiteral("Syntax: STARTTLS"));
        return;
    }
    reply(220, "2.0.0", QStringLiteral("Ready to start TLS"));
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

void SmtpSession::auth(const QByteArray &argument)
{
    if (!m_encrypted) {
        error(538, "5.7.11", QStringLiteral("Encryption required"));
        return;
    }
    if (m_accountId) {
        error(503, "5.5.1", QStringLiteral("Already authenticated"));
        return;
    }
    if (m_mailGiven) {
        error(503, "5.5.1", QStringLiteral("AUTH not allowed inside a transaction"));
        return;
    }
    const QList<QByteArray> words = argument.split(' ');
    const QByteArray mechanism = words.value(0).toUpper();
    const QByteArray initial = words.value(1);
    if (words.size() > 2 || mechanism.isEmpty()) {
        error(501, "5.5.4", QStringLiteral("Syntax: AUTH mechanism [initial-response]"));
        return;
    }
    if (mechanism == "PLAIN") {
        if (initial.isEmpty()) {
            reply(334, nullptr, QString());
            m_state = State::AuthPlain;
        } else {
            m_state = State::AuthPlain;
            processAuthResponse(initial == "=" ? QByteArray() : initial);
        }
    } else if (mechanism == "LOGIN") {
        if (initial.isEmpty()) {
            reply(334, nullptr, QStringLiteral("VXNlcm5hbWU6")); // "Username:"
            m_state = State::AuthLoginUser;
        } else {
            m_state = State::AuthLoginUser;
            processAuthResponse(initial);
        }
    } else {
        error(504, "5.5.4", QStringLiteral("Unrecognized authentication mechanism"));
    }
}

void SmtpSession::processAuthResponse(const QByteArray &line)
{
    const State state = m_state;
    m_state = State::Command;
    if (line == "*") {
        error(501, "5.7.0", QStringLiteral("Authentication canceled"));
        return;
    }
    const auto decoded = decodeBase64Strictly(line);
    if (!decoded) {
        error(501, "5.5.2", QStringLiteral("Invalid base64 data"));
        return;
    }
    if (state == State::AuthPlain) {
        // RFC 4616: authzid NUL authcid NUL passwd
        const QList<QByteArray> parts = decoded->split('\0');
        if (parts.size() != 3) {
            error(501, "5.5.2", QStringLiteral("Invalid PLAIN response"));
            return;
        }
        requestLogin(parts.at(0), QString::fromUtf8(parts.at(1)), QString::fromUtf8(parts.at(2)));
    } else if (state == State::AuthLoginUser) {
        m_authLoginName = QString::fromUtf8(*decoded);
        reply(334, nullptr, QStringLiteral("UGFzc3dvcmQ6")); // "Password:"
        m_state = State::AuthLoginPassword;
    } else {
        requestLogin({}, std::exchange(m_authLoginName, {}), QString::fromUtf8(*decoded));
    }
}

void SmtpSession::requestLogin(const QByteArray &authorizationId, const QString &loginName, const QString &password)
{
    const std::optional<QString> name = Username::fromLogin(loginName, m_settings.domain);
    // Acting for another identity than one's own is not offered.
    const bool foreignAuthorization = !authorizationId.isEmpty()
        && Username::fromLogin(QString::fromUtf8(authorizationId), m_settings.domain) != name;
    // Every attempt goes through the backend, so that failures with
    // malformed names count for throttling like any other.
    m_pendingLoginName = name.value_or(loginName.toLower().left(Username::MaxLength + 100));
    m_request = SmtpLoginRequest{m_pendingLoginName, foreignAuthorization ? QString() : password};
    m_state = State::Waiting;
}

void SmtpSession::loginFinished(LoginOutcome outcome, qint64 accountId)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    switch (outcome) {
    case LoginOutcome::Accepted:
        m_accountId = accountId;
        m_accountName = m_pendingLoginName;
        qCInfo(lcSmtp).noquote() << m_clientAddress << "authenticated as" << m_accountName;
        reply(235, "2.7.0", QStringLiteral("Authentication successful"));
        break;
    case LoginOutcome::Throttled:
        reply(454, "4.7.0", QStringLiteral("Too many failed logins, try later"));
        break;
    case LoginOutcome::Unavailable:
        reply(454, "4.7.0", QStringLiteral("Temporary authentication failure, try again later"));
        break;
    case LoginOutcome::Rejected:
        // A name that is no valid username may be a password typed in the
        // wrong field: never log it.
        qCInfo(lcSmtp).noquote() << m_clientAddress << "failed to authenticate as"
                                 << (Username::isValid(m_pendingLoginName) ? m_pendingLoginName : QStringLiteral("<invalid name>"));
        if (++m_authFailures >= m_settings.maxAuthFailures) {
            reply(535, "5.7.8", QStringLiteral("Authentication credentials invalid"));
            reply(421, "4.7.0", QStringLiteral("Too many failed authentications"));
            close();
            return;
        }
        reply(535, "5.7.8", QStringLiteral("Authentication credentials invalid"));
        break;
    }
    m_pendingLoginName.clear();
    process();
}

void SmtpSession::reg(const QByteArray &argument)
{
    if (!m_encrypted) {
        error(538, "5.7.11", QStringLiteral("Encryption required"));
        return;
    }
    if (m_settings.registration == Registration::Closed) {
        error(550, "5.7.1", QStringLiteral("Registration is closed"));
        return;
    }
    const auto decoded = decodeBase64Strictly(argument);
    const qsizetype nul = decoded ? decoded->indexOf('\0') : -1;
    if (!decoded || argument.isEmpty() || nul < 0) {
        error(501, "5.5.4", QStringLiteral("Syntax: REG base64(username NUL password)"));
        return;
    }
    const auto username = Username::normalize(QString::fromUtf8(decoded->left(nul)));
    if (!username) {
        error(553, "5.1.3", QStringLiteral("Invalid username"));
        return;
    }
    const QString password = QString::fromUtf8(decoded->mid(nul + 1));
    switch (Passwords::checkStrength(password)) {
    case Passwords::Strength::TooShort:
        error(550, "5.7.1", QStringLiteral("Password too weak"));
        return;
    case Passwords::Strength::TooLong:
        error(550, "5.7.1", QStringLiteral("Password too long"));
        return;
    case Passwords::Strength::ControlCharacter:
        error(550, "5.7.1", QStringLiteral("Password must not contain control characters"));
        return;
    case Passwords::Strength::Acceptable:
        break;
    }
    const AccountLookup existing = m_directory->lookUpAccount(*username);
    if (existing.result == AccountLookup::Result::Unavailable) {
        error(451, "4.3.0", QStringLiteral("Temporary lookup failure, try again later"));
        return;
    }
    if (existing.found()) {
        error(550, "5.1.0", QStringLiteral("Username already taken"));
        return;
    }
    m_pendingLoginName = *username;
    m_request = SmtpRegisterRequest{*username, password};
    m_state = State::Waiting;
}

void SmtpSession::registrationFinished(RegisterOutcome outcome)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    const QString username = std::exchange(m_pendingLoginName, {});
    switch (outcome) {
    case RegisterOutcome::Created:
        qCInfo(lcSmtp).noquote() << m_clientAddress << "registered" << username;
        reply(250, "2.0.0", QStringLiteral("Account %1 created").arg(address(username)));
        break;
    case RegisterOutcome::Taken:
        error(550, "5.1.0", QStringLiteral("Username already taken"));
        break;
    case RegisterOutcome::RateLimited:
        reply(450, "4.7.1", QStringLiteral("Too many registrations from your address, try later"));
        break;
    case RegisterOutcome::Failed:
        reply(451, "4.3.0", QStringLiteral("Local error in processing, try later"));
        break;
    }
    process();
}

void SmtpSession::getUser(const QByteArray &argument)
{
    if (!m_accountId) {
        error(530, "5.7.0", QStringLiteral("Authentication required"));
        return;
    }
    if (argument.isEmpty()) {
        error(501, "5.5.4", QStringLiteral("Syntax: GETUSER username"));
        return;
    }
    const auto name = Username::fromLogin(QString::fromUtf8(argument), m_settings.domain);
    const AccountLookup account = name ? m_directory->lookUpAccount(*name) : AccountLookup{};
    if (account.result == AccountLookup::Result::Unavailable) {
        error(451, "4.3.0", QStringLiteral("Temporary lookup failure, try again later"));
        return;
    }
    if (!account.found()) {
        error(550, "5.1.1", QStringLiteral("No such user"));
        return;
    }
    reply(250, "2.1.5", QStringLiteral("%1 %2").arg(account.id).arg(address(*name)));
}

void SmtpSession::mailFrom(const QByteArray &argument)
{
    if (!m_encrypted) {
        error(530, "5.7.0", QStringLiteral("Must issue a STARTTLS command first"));
        return;
    }
    if (!m_accountId) {
        error(530, "5.7.0", QStringLiteral("Authentication required"));
        return;
    }
    if (m_mailGiven) {
        error(503, "5.5.1", QStringLiteral("Nested MAIL command"));
        return;
    }
    const auto path = parsePath(argument, "FROM:");
    if (!path) {
        error(501, "5.5.4", QStringLiteral("Syntax: MAIL FROM:<address>"));
        return;
    }
    for (const QByteArray &parameter : path->parameters) {
        const qsizetype equals = parameter.indexOf('=');
        const QByteArray key = (equals < 0 ? parameter : parameter.left(equals)).toUpper();
        const QByteArray value = equals < 0 ? QByteArray() : parameter.mid(equals + 1);
        if (key == "SIZE") {
            bool ok = false;
            const qint64 size = value.toLongLong(&ok);
            if (!ok || size < 0) {
                error(501, "5.5.4", QStringLiteral("Syntax: SIZE=number"));
                return;
            }
            if (size > m_settings.maxMessageBytes) {
                error(552, "5.3.4", QStringLiteral("Message size exceeds fixed maximum message size"));
                return;
            }
        } else if (key == "BODY") {
            const QByteArray body = value.toUpper();
            if (body != "7BIT" && body != "8BITMIME") {
                error(501, "5.5.4", QStringLiteral("Syntax: BODY=7BIT or BODY=8BITMIME"));
                return;
            }
        } else if (key != "AUTH") { // RFC 4954 §5: AUTH= is accepted and not needed
            error(555, "5.5.4", QStringLiteral("Unsupported parameter %1").arg(QString::fromLatin1(printableOnly(key, 32))));
            return;
        }
    }
    if (QString::fromUtf8(path->address).compare(address(m_accountName), Qt::CaseInsensitive) != 0) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: MAIL FROM"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(553, "5.7.1", QStringLiteral("Sender address not owned by you"));
        return;
    }
    m_mailGiven = true;
    reply(250, "2.1.0", QStringLiteral("OK"));
}

void SmtpSession::rcptTo(const QByteArray &argument)
{
    if (!m_mailGiven) {
        error(503, "5.5.1", QStringLiteral("Need MAIL before RCPT"));
        return;
    }
    const auto path = parsePath(argument, "TO:");
    if (!path || path->address.isEmpty()) {
        error(501, "5.5.4", QStringLiteral("Syntax: RCPT TO:<address>"));
        return;
    }
    if (!path->parameters.isEmpty()) {
        error(555, "5.5.4", QStringLiteral("Unsupported parameter"));
        return;
    }
    const QString recipient = QString::fromUtf8(path->address);
    const qsizetype at = recipient.lastIndexOf(u'@');
    if (at <= 0 || recipient.sliced(at + 1).compare(m_settings.domain, Qt::CaseInsensitive) != 0) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: relaying to"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(550, "5.7.1", QStringLiteral("no such recipient exists (relaying denied)"));
        return;
    }
    const auto name = Username::normalize(recipient.first(at));
    const AccountLookup account = name ? m_directory->lookUpAccount(*name) : AccountLookup{};
    if (account.result == AccountLookup::Result::Unavailable) {
        error(451, "4.3.0", QStringLiteral("Temporary lookup failure, try again later"));
        return;
    }
    const std::optional<qint64> id = account.found() ? std::optional<qint64>(account.id) : std::nullopt;
    if (!id) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: no local user"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(550, "5.1.1", QStringLiteral("No such user here"));
        return;
    }
    if (m_recipients.size() >= m_settings.maxRecipients) {
        reply(452, "4.5.3", QStringLiteral("Too many recipients"));
        return;
    }
    if (!m_recipients.contains(*id))
        m_recipients.append(*id);
    reply(250, "2.1.5", QStringLiteral("OK"));
}

void SmtpSession::data(const QByteArray &argument)
{
    if (!argument.isEmpty()) {
        error(501, "5.5.4", QStringLiteral("Syntax: DATA"));
        return;
    }
    if (!m_mailGiven || m_recipients.isEmpty()) {
        error(503, "5.5.1", QStringLiteral("No valid recipients"));
        return;
    }
    reply(354, nullptr, QStringLiteral("End data with <CR><LF>.<CR><LF>"));
    m_state = State::Data;
    ++m_dataStarts;
    m_message.clear();
    m_partialLine.clear();
    m_partialLastByte = 0;
    m_lastLineEndedWithCrlf = true;
    m_tooBig = false;
    m_badLineEnd = false;
    m_lineTooLong = false;
    m_headerMeter = HeaderSectionMeter(HeaderBlock::FirstLine::IsHeader);
    m_headerTooBig = false;
    m_queueId = newQueueId();
}

// RFC 5321 §4.1.1.4 and §4.5.2. The data ends only at exactly CRLF "." CRLF:
// a "." line ended by a bare LF, or after a line ended by a bare LF, is
// content (SMTP smuggling, CVE-2023-51764/5/6). Bare LF ends a line and is
// stored as CRLF; a bare CR or a NUL anywhere gets the message refused.
void SmtpSession::processDataBytes()
{
    QByteArray &input = m_input.unread();
    qsizetype pos = 0;
    while (m_state == State::Data) {
        const qsizetype lf = input.indexOf('\n', pos);
        if (lf < 0) {
            // Keep at most one line's worth; a longer line is refused anyway.
            const qsizetype room = SmtpSessionSettings::MaxDataLine + 1 - m_partialLine.size();
            if (input.size() - pos > room)
                m_lineTooLong = true;
            m_partialLine.append(QByteArrayView(input).sliced(pos, std::min(room, input.size() - pos)));
            if (input.size() > pos)
                m_partialLastByte = input.back();
            pos = input.size();
            break;
        }
        // Whether the line ended in CRLF is read from the bytes as they came,
        // not from the kept part: an overlong line's CR lies beyond it, and
        // losing it would move the end of the data.
        const char lastByte = lf > pos ? input.at(lf - 1) : m_partialLastByte;
        const bool crlf = lastByte == '\r';
        const qsizetype room = SmtpSessionSettings::MaxDataLine + 1 - m_partialLine.size();
        if (lf - pos > room)
            m_lineTooLong = true;
        const QByteArrayView rest = QByteArrayView(input).sliced(pos, std::min(room, lf - pos));
        // A line that came whole in this read (nearly all of them) is looked
        // at where it lies: no allocation per line of a large message.
        QByteArray joined;
        QByteArrayView line = rest;
        if (!m_partialLine.isEmpty()) {
            joined = m_partialLine + rest;
            line = joined;
        }
        m_partialLine.clear();
        m_partialLastByte = 0;
        pos = lf + 1;
        if (crlf && line.endsWith('\r'))
            line.chop(1);
        if (crlf && m_lastLineEndedWithCrlf && line == ".") {
            finishData();
            break;
        }
        // Dot-unstuffing only for a line that begins after a CRLF: after a
        // bare LF the client did not stuff (curl -T of a Unix text file sends
        // ".line" as written), just as such a "." never ends the data.
        const bool startsAfterCrlf = std::exchange(m_lastLineEndedWithCrlf, crlf);
        if (line.contains('\r') || line.contains('\0'))
            m_badLineEnd = true;
        if (line.size() + 2 > SmtpSessionSettings::MaxDataLine)
            m_lineTooLong = true;
        if (startsAfterCrlf && line.size() > 1 && line.startsWith('.'))
            line = line.sliced(1);
        if (m_tooBig || m_headerTooBig)
            continue;
        if (m_message.size() + line.size() + 2 > m_settings.maxMessageBytes) {
            m_tooBig = true;
            m_message = QByteArray(); // read on to the end, keep nothing
            continue;
        }
        // The header section is measured line by line as it is stored
        // (unstuffed, CRLF), never by rescanning what was kept: one past the
        // limit is dropped at once and the rest only read (SPEC "Mailbox
        // model": a To: of millions of addresses costs nothing more).
        if (!m_headerMeter.isComplete()) {
            m_headerMeter.addLine(line, 2);
            if (m_headerMeter.size() > m_settings.maxHeaderBytes) {
                m_headerTooBig = true;
                m_message = QByteArray();
                continue;
            }
        }
        m_message.append(line).append("\r\n", 2);
    }
    input.remove(0, pos);
}

namespace {

// RFC 5321 §4.4: the final delivery may remove Return-Path fields before
// adding its own, and does: a client's own would stand beside ours and
// name a forged envelope sender to whoever reads the wrong one. Drops each
// such field with its continuation lines; the rest stays as sent.
QByteArray withoutReturnPathFields(const QByteArray &message, qsizetype headerEnd)
{
    static constexpr QByteArrayView Name = "return-path";
    QByteArray kept;
    kept.reserve(message.size());
    bool dropping = false;
    for (qsizetype position = 0; position < headerEnd;) {
        const qsizetype newline = message.indexOf('\n', position);
        const qsizetype end = newline < 0 || newline >= headerEnd ? headerEnd : newline + 1;
        const QByteArrayView line(message.constData() + position, end - position);
        if (line.isEmpty() || (line.front() != ' ' && line.front() != '\t')) {
            // Obsolete syntax allows white space before the colon (RFC 5322 §4.5).
            qsizetype colon = Name.size();
            while (colon < line.size() && (line.at(colon) == ' ' || line.at(colon) == '\t'))
                ++colon;
            dropping = line.size() > colon && line.at(colon) == ':'
                && line.first(Name.size()).compare(Name, Qt::CaseInsensitive) == 0;
        }
        if (!dropping)
            kept.append(line);
        position = end;
    }
    kept.append(message.constData() + headerEnd, message.size() - headerEnd);
    return kept;
}

} // namespace

void SmtpSession::finishData()
{
    m_state = State::Command;
    m_lastLineEndedWithCrlf = true;
    m_partialLine.clear();
    const QString sender = address(m_accountName);
    const auto refuse = [this](int code, const char *enhanced, const QString &text) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "refused:" << code << text;
        reply(code, enhanced, text);
        resetTransaction();
    };
    if (m_tooBig) {
        refuse(552, "5.3.4", QStringLiteral("Message too big"));
        return;
    }
    if (m_headerTooBig) {
        refuse(552, "5.3.4", QStringLiteral("Header section too large"));
        return;
    }
    if (m_badLineEnd || m_lineTooLong) {
        refuse(550, "5.6.0", m_lineTooLong ? QStringLiteral("Line longer than 1000 octets")
                                           : QStringLiteral("Bare CR or NUL in message data"));
        return;
    }
    const HeaderBlock headers = HeaderBlock::parse(m_message, HeaderBlock::FirstLine::IsHeader);
    const QList<QByteArray> fromFields = headers.values("From");
    if (!fromFields.isEmpty()) {
        const AddressList from = MailAddresses::parseList(fromFields.first());
        const bool own = fromFields.size() == 1 && from.complete && from.addresses.size() == 1
            && from.addresses.first().address.compare(sender, Qt::CaseInsensitive) == 0;
        if (!own) {
            refuse(550, "5.7.1", QStringLiteral("From: header address not owned by you"));
            return;
        }
    }
    if (headers.contains("Return-Path"))
        m_message = withoutReturnPathFields(m_message, headers.bodyOffset());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    // EHLO is not required; without it the client is "unknown" (Postfix's word).
    const QByteArray helo = m_helo.isEmpty() ? QByteArrayLiteral("unknown") : m_helo.toLatin1();
    // RFC 5321 §4.4: the final delivery records the envelope sender (MAIL
    // FROM, which is the account's own address; "<>" for a null sender).
    QByteArray top = "Return-Path: <" + sender.toUtf8() + ">\r\n";
    top += "Received: from " + helo + " ([" + m_clientAddress.toLatin1() + "])\r\n by "
        + m_settings.hostname.toLatin1() + " (Mailroom) with ESMTPSA id " + m_queueId.toLatin1() + ";\r\n "
        + MailDate::format(now) + "\r\n";
    if (fromFields.isEmpty())
        top += "From: " + sender.toUtf8() + "\r\n";
    if (!headers.contains("Message-ID"))
        top += "Message-ID: <" + m_queueId.toLatin1() + '.' + QByteArray::number(now.toMSecsSinceEpoch()) + '@'
            + m_settings.hostname.toLatin1() + ">\r\n";
    if (!headers.contains("Date"))
        top += "Date: " + MailDate::format(now) + "\r\n";
    // A message without any header fields starts with its body: keep it the
    // body by putting the empty line that ends our fields before it.
    if (headers.fields().isEmpty() && !m_message.startsWith("\r\n"))
        top += "\r\n";
    m_request = SmtpDeliveryRequest{m_queueId, m_accountId, m_recipients, top + std::exchange(m_message, {})};
    m_state = State::Waiting;
}

void SmtpSession::deliveryFinished(DeliveryOutcome outcome)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    switch (outcome) {
    case DeliveryOutcome::Stored:
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "delivered to"
                       << m_recipients.size() << "recipients";
        reply(250, "2.0.0", QStringLiteral("OK: queued as %1").arg(m_queueId));
        break;
    case DeliveryOutcome::DiskFull:
        reply(452, "4.3.1", QStringLiteral("Insufficient system storage"));
        break;
    case DeliveryOutcome::RecipientGone:
    case DeliveryOutcome::Failed:
        reply(451, "4.3.0", QStringLiteral("Local error in processing, try later"));
        break;
    }
    if (outcome != DeliveryOutcome::Stored)
        qCWarning(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "not stored";
    resetTransaction();
    process();
}

void SmtpSession::timedOut()
{
    if (m_state == State::Closed)
        return;
    reply(421, "4.4.2", QStringLiteral("Timeout"));
    close();
}

void SmtpSession::dataTimedOut()
{
    if (m_state != State::Data)
        return;
    qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId
                             << "refused: DATA went on past its deadline";
    reply(421, "4.4.2", QStringLiteral("Message data took too long, closing connection"));
    close();
}

void SmtpSession::shuttingDown()
{
    if (m_state == State::Closed)
        return;
    reply(421, "4.3.2", QStringLiteral("Service shutting down"));
    close();
}
