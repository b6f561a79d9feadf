#include "pop3session.h"

#include "saslplain.h"
#include "username.h"

using namespace Qt::StringLiterals;

namespace {

// RFC 1939 §3: a message number is a positive decimal, digits only.
std::optional<qint64> positiveNumber(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 9)
        return std::nullopt;
    qint64 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// Replies said in more than one place (RFC 2449 §8 and RFC 3206 response codes).
namespace Reply {
constexpr QStringView EncryptionRequired = u"[AUTH] Encryption required: use STLS first";
constexpr QStringView InvalidCredentials = u"[AUTH] Invalid credentials";
constexpr QStringView UnknownCommand = u"Unknown command";
constexpr QStringView UnknownBeforeLogin = u"Unknown command, or not before login";
constexpr QStringView Bye = u"Bye";
// Said before closing, outside the error count.
constexpr QByteArrayView TooManyFailedLogins = "-ERR [SYS/TEMP] Too many failed logins\r\n";
} // namespace Reply

} // namespace

Pop3Session::Pop3Session(Pop3SessionSettings settings, QString clientAddress)
    : m_settings(std::move(settings))
    , m_clientAddress(std::move(clientAddress))
    , m_encrypted(m_settings.implicitTls)
{
}

void Pop3Session::start()
{
    ok(u"Mailroom POP3 ready"_s);
}

QByteArray Pop3Session::takeOutput()
{
    QByteArray output;
    output.swap(m_output);
    return output;
}

std::optional<Pop3Request> Pop3Session::takeRequest()
{
    return std::exchange(m_request, std::nullopt);
}

QList<qint64> Pop3Session::takeRetrieved()
{
    return std::exchange(m_retrieved, {});
}

void Pop3Session::resume()
{
    process();
}

void Pop3Session::receive(QByteArrayView bytes)
{
    if (m_state == State::Closed || m_startTlsRequested)
        return; // after STLS's +OK, plaintext is never read (RFC 2595 §4)
    m_input.append(bytes);
    process();
}

void Pop3Session::process()
{
    // A client that pipelines but does not read: stop taking commands until
    // the connection has written the replies out.
    while (m_state != State::Closed && m_state != State::Waiting && !m_startTlsRequested
           && m_output.size() < MaxPendingOutput && !m_stopping) {
        const std::optional<CommandLineBuffer::Line> line = m_input.takeLine();
        if (!line)
            break;
        if (line->tooLong) {
            if (m_state == State::AuthResponse)
                m_state = State::Authorization; // an overlong AUTH response ends the exchange
            err(u"Line too long"_s);
            continue;
        }
        if (m_state == State::AuthResponse)
            processAuthResponse(line->text);
        else
            processCommandLine(line->text);
    }
    if (m_startTlsRequested || m_state == State::Closed)
        m_input.clear(); // whatever was pipelined after STLS is dropped, never executed
    m_holdingInput = m_output.size() >= MaxPendingOutput && m_input.hasWholeLine();
}

std::span<const Pop3Session::Command> Pop3Session::commands()
{
    using enum Phase;
    static constexpr Command table[] = {
        {"CAPA", Any, &Pop3Session::capa},
        {"QUIT", Any, &Pop3Session::quit},
        {"APOP", Any, &Pop3Session::apop},
        {"STLS", Authorization, &Pop3Session::stls},
        {"USER", Authorization, &Pop3Session::user},
        {"PASS", Authorization, &Pop3Session::pass},
        {"AUTH", Authorization, &Pop3Session::auth},
        {"NOOP", Transaction, &Pop3Session::noop},
        {"STAT", Transaction, &Pop3Session::stat},
        {"LIST", Transaction, &Pop3Session::list},
        {"UIDL", Transaction, &Pop3Session::uidl},
        {"RETR", Transaction, &Pop3Session::retr},
        {"TOP", Transaction, &Pop3Session::top},
        {"DELE", Transaction, &Pop3Session::dele},
        {"RSET", Transaction, &Pop3Session::rset},
    };
    return table;
}

void Pop3Session::processCommandLine(const QByteArray &line)
{
    const qsizetype space = line.indexOf(' ');
    const QByteArray verb = (space < 0 ? line : line.left(space)).toUpper();
    const QByteArray argument = space < 0 ? QByteArray() : line.mid(space + 1);
    const bool transaction = m_state == State::Transaction;

    for (const Command &command : commands()) {
        if (command.verb != verb)
            continue;
        if (command.phase == Phase::Any || (command.phase == Phase::Transaction) == transaction) {
            (this->*command.run)(argument);
            return;
        }
        break; // known, but not in this state: as unknown
    }
    err(transaction || verb.isEmpty() ? Reply::UnknownCommand : Reply::UnknownBeforeLogin);
}

void Pop3Session::noop(const QByteArray &)
{
    ok({});
}

void Pop3Session::apop(const QByteArray &)
{
    err(u"APOP is not offered; use USER and PASS or AUTH PLAIN over TLS");
}

void Pop3Session::capa(const QByteArray &)
{
    QList<QByteArray> lines;
    if (!m_encrypted)
        lines.append("STLS"_ba);
    lines += {"USER"_ba, "SASL PLAIN"_ba, "UIDL"_ba, "TOP"_ba, "PIPELINING"_ba, "RESP-CODES"_ba, "AUTH-RESP-CODE"_ba,
              "IMPLEMENTATION Mailroom"_ba};
    multiline(u"Capability list follows"_s, lines);
}

void Pop3Session::stls(const QByteArray &argument)
{
    if (m_encrypted) {
        err(u"Command not permitted when TLS active"_s);
        return;
    }
    if (!argument.isEmpty()) {
        err(u"STLS takes no argument"_s);
        return;
    }
    ok(u"Begin TLS negotiation"_s);
    m_startTlsRequested = true;
}

void Pop3Session::tlsEstablished()
{
    m_startTlsRequested = false;
    m_encrypted = true;
    m_user.clear(); // RFC 2595 §4: forget what was said in clear
}

void Pop3Session::user(const QByteArray &argument)
{
    if (!m_encrypted) {
        err(Reply::EncryptionRequired);
        return;
    }
    if (argument.trimmed().isEmpty()) {
        err(u"USER needs a name"_s);
        return;
    }
    m_user = QString::fromUtf8(argument.trimmed());
    ok(u"Send the password"_s);
}

void Pop3Session::pass(const QByteArray &argument)
{
    if (!m_encrypted) {
        err(Reply::EncryptionRequired);
        return;
    }
    if (m_user.isEmpty()) {
        err(u"USER first"_s);
        return;
    }
    // RFC 1939 §7: the rest of the line is the password, spaces included.
    requestLogin(std::exchange(m_user, {}), QString::fromUtf8(argument));
}

void Pop3Session::auth(const QByteArray &argument)
{
    if (!m_encrypted) {
        err(Reply::EncryptionRequired);
        return;
    }
    const QList<QByteArray> words = argument.trimmed().split(' ');
    if (words.value(0).isEmpty()) {
        multiline(u"Mechanisms follow"_s, {"PLAIN"_ba});
        return;
    }
    if (words.value(0).toUpper() != "PLAIN") {
        err(u"Unsupported mechanism; PLAIN is offered"_s);
        return;
    }
    if (words.size() > 1) {
        processAuthResponse(words.at(1));
        return;
    }
    m_output += "+ \r\n";
    m_state = State::AuthResponse;
}

void Pop3Session::processAuthResponse(const QByteArray &line)
{
    m_state = State::Authorization;
    if (line == "*") {
        err(u"[AUTH] Authentication cancelled"_s);
        return;
    }
    const std::optional<SaslPlain::Message> plain = SaslPlain::parseLogin(line, m_settings.domain);
    if (!plain) {
        err(Reply::InvalidCredentials);
        countAuthFailure();
        return;
    }
    requestLogin(plain->loginName, plain->password);
}

void Pop3Session::countAuthFailure()
{
    if (++m_authFailures >= m_settings.maxAuthFailures) {
        m_output.append(Reply::TooManyFailedLogins);
        close();
    }
}

void Pop3Session::requestLogin(const QString &username, const QString &password)
{
    m_request = Pop3LoginRequest{username, password};
    m_resumeState = State::Authorization;
    m_state = State::Waiting;
}

void Pop3Session::loginFinished(Pop3LoginOutcome outcome, qint64 accountId, const QList<Pop3Message> &maildrop)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Authorization;
    switch (outcome) {
    case Pop3LoginOutcome::Accepted:
        m_accountId = accountId;
        m_maildrop = maildrop;
        m_deleted = QList<bool>(maildrop.size(), false);
        m_state = State::Transaction;
        ok(u"Logged in, %1 messages"_s.arg(maildrop.size()));
        break;
    case Pop3LoginOutcome::Throttled:
        m_output += "-ERR [SYS/TEMP] Too many failed logins, try later\r\n";
        close();
        break;
    case Pop3LoginOutcome::Failed:
        m_output += "-ERR [SYS/TEMP] The mailbox cannot be opened now, try later\r\n";
        break;
    case Pop3LoginOutcome::Rejected:
        // Not an error of the client's: outside the error count.
        m_output += "-ERR " + Reply::InvalidCredentials.toUtf8() + "\r\n";
        countAuthFailure();
        break;
    }
    process();
}

void Pop3Session::stat(const QByteArray &)
{
    qint64 count = 0;
    qint64 octets = 0;
    for (qsizetype i = 0; i < m_maildrop.size(); ++i) {
        if (!m_deleted.at(i)) {
            ++count;
            octets += m_maildrop.at(i).size;
        }
    }
    ok(u"%1 %2"_s.arg(count).arg(octets));
}

std::optional<qsizetype> Pop3Session::messageIndex(const QByteArray &argument)
{
    const std::optional<qint64> number = positiveNumber(argument.trimmed());
    if (!number || *number < 1 || *number > m_maildrop.size()) {
        err(u"No such message"_s);
        return std::nullopt;
    }
    const qsizetype index = qsizetype(*number - 1);
    if (m_deleted.at(index)) {
        err(u"Message %1 already deleted"_s.arg(*number));
        return std::nullopt;
    }
    return index;
}

void Pop3Session::list(const QByteArray &argument)
{
    listing(argument, false);
}

void Pop3Session::uidl(const QByteArray &argument)
{
    listing(argument, true);
}

void Pop3Session::listing(const QByteArray &argument, bool uidl)
{
    // UIDL: the entry id, unique and stable across sessions (RFC 1939 §7).
    const auto value = [&](qsizetype i) {
        return uidl ? QByteArray::number(m_maildrop.at(i).entryId) : QByteArray::number(m_maildrop.at(i).size);
    };
    if (!argument.trimmed().isEmpty()) {
        if (const auto index = messageIndex(argument))
            ok(u"%1 %2"_s.arg(*index + 1).arg(QString::fromLatin1(value(*index))));
        return;
    }
    QList<QByteArray> lines;
    for (qsizetype i = 0; i < m_maildrop.size(); ++i) {
        if (!m_deleted.at(i))
            lines.append(QByteArray::number(i + 1) + ' ' + value(i));
    }
    multiline(uidl ? u"Unique ids follow"_s : u"%1 messages"_s.arg(lines.size()), lines);
}

void Pop3Session::retr(const QByteArray &argument)
{
    const auto index = messageIndex(argument);
    if (!index)
        return;
    m_fetching = m_maildrop.at(*index).entryId;
    m_request = Pop3FetchRequest{m_maildrop.at(*index).entryId, std::nullopt};
    m_resumeState = State::Transaction;
    m_state = State::Waiting;
}

void Pop3Session::top(const QByteArray &argument)
{
    const QList<QByteArray> words = argument.trimmed().split(' ');
    const std::optional<qint64> lines = words.size() == 2 ? positiveNumber(words.at(1)) : std::nullopt;
    if (words.size() != 2 || !lines) {
        err(u"Usage: TOP message lines"_s);
        return;
    }
    const auto index = messageIndex(words.at(0));
    if (!index)
        return;
    m_fetching.reset();
    m_request = Pop3FetchRequest{m_maildrop.at(*index).entryId, int(std::min<qint64>(*lines, 1 << 30))};
    m_resumeState = State::Transaction;
    m_state = State::Waiting;
}

void Pop3Session::fetchFinished(const std::optional<QByteArray> &message)
{
    if (m_state != State::Waiting)
        return;
    m_state = m_resumeState;
    const std::optional<qint64> retrieved = std::exchange(m_fetching, std::nullopt);
    if (!message) {
        // Deleted meanwhile by another client (the web API): gone for this session too.
        err(u"[SYS/TEMP] The message is no longer there"_s);
    } else {
        m_output += retrieved ? "+OK " + QByteArray::number(message->size()) + " octets\r\n" : "+OK\r\n"_ba;
        m_output += dotStuffed(*message);
        if (retrieved)
            m_retrieved.append(*retrieved);
    }
    process();
}

void Pop3Session::dele(const QByteArray &argument)
{
    const auto index = messageIndex(argument);
    if (!index)
        return;
    m_deleted[*index] = true;
    ok(u"Message %1 deleted"_s.arg(*index + 1));
}

void Pop3Session::rset(const QByteArray &)
{
    m_deleted.fill(false);
    ok(u"%1 messages"_s.arg(m_maildrop.size()));
}

void Pop3Session::quit(const QByteArray &)
{
    m_quitReceived = true;
    if (m_state != State::Transaction) {
        ok(Reply::Bye);
        close();
        return;
    }
    // RFC 1939 §6: the UPDATE state, all deletions or none.
    QList<qint64> deleted;
    for (qsizetype i = 0; i < m_maildrop.size(); ++i) {
        if (m_deleted.at(i))
            deleted.append(m_maildrop.at(i).entryId);
    }
    if (deleted.isEmpty()) {
        ok(Reply::Bye);
        close();
        return;
    }
    m_request = Pop3CommitRequest{m_accountId, deleted};
    m_resumeState = State::Closed;
    m_state = State::Waiting;
}

void Pop3Session::commitFinished(bool committed)
{
    if (m_state != State::Waiting)
        return;
    if (committed) {
        const qsizetype count = m_deleted.count(true);
        m_output += "+OK Bye, " + QByteArray::number(count) + " messages deleted\r\n";
    } else {
        m_output += "-ERR [SYS/TEMP] The deletions could not be saved; nothing was deleted\r\n";
    }
    close();
}

void Pop3Session::timedOut()
{
    if (m_state == State::Closed)
        return;
    m_output += "-ERR [SYS/TEMP] Idle timeout, nothing deleted\r\n";
    close();
}

void Pop3Session::shuttingDown()
{
    if (m_state == State::Closed)
        return;
    m_output += "-ERR [SYS/TEMP] Server shutting down, nothing deleted\r\n";
    close();
}

void Pop3Session::ok(QStringView text)
{
    m_output += text.isEmpty() ? "+OK\r\n"_ba : "+OK " + text.toUtf8() + "\r\n";
}

void Pop3Session::err(QStringView text)
{
    m_output += "-ERR " + text.toUtf8() + "\r\n";
    if (++m_errors >= m_settings.maxErrors) {
        m_output += "-ERR [SYS/TEMP] Too many errors\r\n";
        close();
    }
}

void Pop3Session::multiline(QStringView first, const QList<QByteArray> &lines)
{
    m_output += "+OK " + first.toUtf8() + "\r\n";
    for (const QByteArray &line : lines)
        m_output += (line.startsWith('.') ? "." + line : line) + "\r\n";
    m_output += ".\r\n";
}

void Pop3Session::close()
{
    m_state = State::Closed;
    m_request.reset();
}

QByteArray Pop3Session::dotStuffed(QByteArrayView message)
{
    QByteArray out;
    out.reserve(message.size() + message.size() / 64 + 8);
    bool lineStart = true;
    for (qsizetype i = 0; i < message.size(); ++i) {
        const char c = message.at(i);
        if (lineStart && c == '.')
            out += '.';
        out += c;
        lineStart = c == '\n';
    }
    if (!out.isEmpty() && !out.endsWith("\r\n"))
        out += "\r\n";
    out += ".\r\n";
    return out;
}

QByteArray Pop3Session::topOf(QByteArrayView message, int lines)
{
    // RFC 5322 §3.5: no header fields at all is a message starting with the empty line.
    const qsizetype headerEnd = message.startsWith("\r\n") ? -2 : message.indexOf("\r\n\r\n");
    if (headerEnd == -1)
        return message.toByteArray(); // all header: nothing to cut
    qsizetype end = headerEnd + 4;
    for (int line = 0; line < lines && end < message.size(); ++line) {
        const qsizetype next = message.indexOf('\n', end);
        end = next < 0 ? message.size() : next + 1;
    }
    return message.first(end).toByteArray();
}
