#include "imapsession.h"

#include "imaparguments.h"
#include "imapresponse.h"
#include "saslplain.h"
#include "username.h"

#include <QLoggingCategory>

// The dialogue line by line, for debugging a client: off unless asked for
// (QT_LOGGING_RULES="mailroom.imap.wire.debug=true"). Credentials never
// appear: LOGIN's password and every AUTHENTICATE response are replaced.
Q_LOGGING_CATEGORY(lcImapWire, "mailroom.imap.wire", QtInfoMsg)

namespace {

// The commands this class answers itself, and the states they are valid in;
// every other command name goes to the backend once logged in.
bool isSessionCommand(const QByteArray &name)
{
    static const QByteArray names[] = {"CAPABILITY", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
                                       "ENABLE",     "ID",     "IDLE"};
    for (const QByteArray &known : names) {
        if (name == known)
            return true;
    }
    return false;
}

// The commands of the authenticated and selected states (RFC 9051 §6.3,
// §6.4 and the extensions of docs/protocol/imap.md) that ImapMailbox runs.
bool isMailboxCommand(const QByteArray &name)
{
    static const QByteArray names[] = {
        "NOOP",   "SELECT",  "EXAMINE", "CREATE", "DELETE",   "RENAME",  "SUBSCRIBE", "UNSUBSCRIBE",
        "LIST",   "LSUB",    "NAMESPACE", "STATUS", "APPEND", "CHECK",   "CLOSE",     "UNSELECT",
        "EXPUNGE", "SEARCH", "FETCH",   "STORE",  "COPY",     "MOVE",    "UID",       "SORT",
        "THREAD",
    };
    for (const QByteArray &known : names) {
        if (name == known)
            return true;
    }
    return false;
}

const QByteArray NotBeforeLogin = QByteArrayLiteral("Log in first (LOGIN or AUTHENTICATE PLAIN)");

} // namespace

ImapSession::ImapSession(ImapSessionSettings settings, QString clientAddress)
    : m_settings(std::move(settings))
    , m_clientAddress(std::move(clientAddress))
    , m_limits([&] {
        ImapCommandReader::Limits limits;
        limits.maxAppendLiteral = m_settings.appendLimit;
        return limits;
    }())
    , m_reader(m_limits)
    , m_encrypted(m_settings.implicitTls)
{
}

QByteArray ImapSession::capabilities() const
{
    QByteArray list = "IMAP4rev1 IMAP4rev2 LITERAL+ ENABLE ID IDLE NAMESPACE SASL-IR UNSELECT UIDPLUS MOVE";
    if (!m_encrypted)
        return list + " STARTTLS LOGINDISABLED";
    if (!m_mailbox)
        return list + " AUTH=PLAIN";
    return list
        + " SPECIAL-USE LIST-EXTENDED LIST-STATUS CHILDREN CONDSTORE QRESYNC ESEARCH STATUS=SIZE BINARY MULTIAPPEND"
          " SORT SORT=DISPLAY ESORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT UTF8=ACCEPT APPENDLIMIT="
        + QByteArray::number(m_settings.appendLimit);
}

void ImapSession::start()
{
    m_output += "* OK [CAPABILITY " + capabilities() + "] Mailroom IMAP ready\r\n";
}

QByteArray ImapSession::takeOutput()
{
    return std::exchange(m_output, {});
}

std::optional<ImapRequest> ImapSession::takeRequest()
{
    return std::exchange(m_request, std::nullopt);
}

void ImapSession::receive(QByteArrayView bytes)
{
    if (m_state == State::Closed || m_startTlsRequested)
        return; // after STARTTLS's OK, plaintext is never read (RFC 9051 §11.1)
    m_reader.append(bytes);
    m_hasInput = true;
    process();
}

void ImapSession::resume()
{
    if (m_state == State::Authenticated && m_mailbox && m_mailbox->continuation && m_output.size() < MaxPendingOutput
        && !m_request) {
        // A long command's next step, now that its last one was written out.
        m_state = State::Waiting;
        m_request = ImapMailboxRequest{m_mailbox->continuation->command, m_mailbox};
        m_requestOut = true;
        m_holdingInput = false;
        return;
    }
    process();
}

void ImapSession::process()
{
    // A long command's next step (resume()) comes before anything pipelined after it.
    const auto continuing = [this] { return m_mailbox && m_mailbox->continuation.has_value(); };
    while (m_state != State::Closed && m_state != State::Waiting && !m_startTlsRequested
           && m_output.size() < MaxPendingOutput && !m_stopping && !continuing()) {
        if (m_state == State::AuthResponse || m_state == State::Idling) {
            const std::optional<CommandLineBuffer::Line> line = m_reader.nextLine();
            if (!line) {
                m_hasInput = false;
                break;
            }
            if (line->tooLong) {
                if (m_state == State::AuthResponse) {
                    m_state = State::NotAuthenticated;
                    bad(std::exchange(m_pendingTag, {}), "Line too long");
                } else {
                    bye("Line too long");
                }
                continue;
            }
            if (m_state == State::AuthResponse)
                processAuthResponse(line->text);
            else
                processIdleLine(line->text);
            continue;
        }
        const std::optional<ImapCommandReader::Event> event = m_reader.next();
        if (!event) {
            m_hasInput = false;
            break;
        }
        processEvent(*event);
    }
    if (m_startTlsRequested || m_state == State::Closed) {
        // Whatever was pipelined after STARTTLS came in clear: it is never
        // executed, not even once TLS is up (RFC 9051 §6.2.1).
        m_reader = ImapCommandReader(m_limits);
        m_hasInput = false;
    }
    m_holdingInput = m_state != State::Closed && m_state != State::Waiting
        && (m_output.size() >= MaxPendingOutput || (m_state == State::Authenticated && continuing()));
}

void ImapSession::processEvent(const ImapCommandReader::Event &event)
{
    switch (event.kind) {
    case ImapCommandReader::Event::Kind::ContinuationRequest:
        m_output += "+ Ready for literal data\r\n";
        return;
    case ImapCommandReader::Event::Kind::Refused: {
        const QByteArray &tag = event.command.tag;
        using Fault = ImapCommandReader::Fault;
        if (event.fault == Fault::LiteralTooLarge && event.command.name.toUpper() == "APPEND") {
            tagged(tag, "NO", "[TOOBIG] The message is over the size limit (APPENDLIMIT="
                                  + QByteArray::number(m_settings.appendLimit) + ")");
        } else {
            const QByteArray why = event.fault == Fault::BadTag          ? "Not a command: no valid tag"
                                       : event.fault == Fault::NoCommand       ? "No command after the tag"
                                       : event.fault == Fault::LineTooLong     ? "Command line too long"
                                       : event.fault == Fault::LiteralTooLarge ? "Literal too large"
                                       : event.fault == Fault::CommandTooLarge ? "Command too large"
                                                                               : "Literal marker not understood";
            bad(tag, why);
        }
        if (event.mustClose)
            bye("The rest of that command will not be read");
        return;
    }
    case ImapCommandReader::Event::Kind::Command:
        processCommand(event.command);
        return;
    }
}

void ImapSession::processCommand(const ImapCommandReader::Command &command)
{
    const QByteArray name = command.name.toUpper();
    if (lcImapWire().isDebugEnabled()) {
        QByteArray shown = command.parts.value(0).left(200);
        if (name == "LOGIN" || name == "AUTHENTICATE")
            shown = shown.left(shown.indexOf(' ', 1) + 1) + "[redacted]";
        qCDebug(lcImapWire).noquote() << m_clientAddress << "C:" << command.tag << command.name << shown
                                      << (command.parts.size() > 1 ? "(with literals)" : "");
    }
    if (name == "CAPABILITY")
        return capability(command);
    if (name == "LOGOUT")
        return logout(command);
    if (name == "NOOP" && !m_mailbox) {
        tagged(command.tag, "OK", "NOOP completed");
        return;
    }
    if (m_state == State::NotAuthenticated) {
        if (name == "STARTTLS")
            return starttls(command);
        if (name == "AUTHENTICATE")
            return authenticate(command);
        if (name == "LOGIN")
            return login(command);
        if (name == "ID")
            return id(command);
        if (isMailboxCommand(name) || name == "ENABLE" || name == "IDLE") {
            bad(command.tag, NotBeforeLogin);
            return;
        }
        bad(command.tag, "Unknown command");
        return;
    }
    // Authenticated or selected.
    if (name == "ENABLE")
        return enable(command);
    if (name == "ID")
        return id(command);
    if (name == "IDLE")
        return idle(command);
    if (isMailboxCommand(name))
        return requestMailbox(command);
    if (isSessionCommand(name)) {
        bad(command.tag, "Already logged in");
        return;
    }
    bad(command.tag, "Unknown command");
}

void ImapSession::capability(const ImapCommandReader::Command &command)
{
    if (!ImapArgumentReader(command.parts).atEnd()) {
        bad(command.tag, "CAPABILITY takes no arguments");
        return;
    }
    m_output += "* CAPABILITY " + capabilities() + "\r\n";
    tagged(command.tag, "OK", "CAPABILITY completed");
}

void ImapSession::logout(const ImapCommandReader::Command &command)
{
    m_logoutReceived = true;
    m_output += "* BYE Mailroom IMAP logging out\r\n";
    tagged(command.tag, "OK", "LOGOUT completed");
    close();
}

void ImapSession::starttls(const ImapCommandReader::Command &command)
{
    if (m_encrypted) {
        bad(command.tag, "TLS is on already");
        return;
    }
    tagged(command.tag, "OK", "Begin TLS negotiation now");
    m_startTlsRequested = true;
}

void ImapSession::tlsEstablished()
{
    m_startTlsRequested = false;
    m_encrypted = true;
    process();
}

void ImapSession::authenticate(const ImapCommandReader::Command &command)
{
    if (!m_encrypted) {
        tagged(command.tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
        return;
    }
    ImapArgumentReader arguments(command.parts);
    std::optional<QByteArray> mechanism;
    if (arguments.space())
        mechanism = arguments.atom();
    std::optional<QByteArray> initialResponse;
    if (mechanism && arguments.accept(' '))
        initialResponse = arguments.atom(); // base64 and "=" are atom characters
    if (!mechanism || !arguments.atEnd() || !arguments.ok()) {
        bad(command.tag, "AUTHENTICATE mechanism [initial-response]");
        return;
    }
    if (mechanism->toUpper() != "PLAIN") {
        tagged(command.tag, "NO", "[CANNOT] Unsupported mechanism; PLAIN is offered");
        return;
    }
    m_pendingTag = command.tag;
    if (initialResponse) {
        processAuthResponse(*initialResponse == "=" ? QByteArray() : *initialResponse);
        return;
    }
    m_output += "+ \r\n";
    m_state = State::AuthResponse;
}

void ImapSession::processAuthResponse(const QByteArray &line)
{
    m_state = State::NotAuthenticated;
    const QByteArray tag = m_pendingTag;
    if (line == "*") {
        m_pendingTag.clear();
        bad(tag, "AUTHENTICATE cancelled");
        return;
    }
    const std::optional<SaslPlain::Message> plain = SaslPlain::parseLogin(line, m_settings.domain);
    if (!plain) {
        m_pendingTag.clear();
        tagged(tag, "NO", "[AUTHENTICATIONFAILED] Invalid credentials");
        countAuthFailure();
        return;
    }
    requestLogin(plain->loginName, plain->password);
}

void ImapSession::login(const ImapCommandReader::Command &command)
{
    if (!m_encrypted) {
        tagged(command.tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
        return;
    }
    ImapArgumentReader arguments(command.parts);
    std::optional<QByteArray> user;
    std::optional<QByteArray> password;
    if (arguments.space())
        user = arguments.astring();
    if (user && arguments.space())
        password = arguments.astring();
    if (!user || !password || !arguments.atEnd()) {
        bad(command.tag, "LOGIN user password");
        return;
    }
    m_pendingTag = command.tag;
    requestLogin(QString::fromUtf8(*user), QString::fromUtf8(*password));
}

void ImapSession::requestLogin(const QString &username, const QString &password)
{
    m_request = ImapLoginRequest{username, password};
    m_state = State::Waiting;
}

void ImapSession::loginFinished(ImapLoginOutcome outcome, qint64 accountId, const QString &username)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::NotAuthenticated;
    const QByteArray tag = std::exchange(m_pendingTag, {});
    switch (outcome) {
    case ImapLoginOutcome::Accepted:
        m_mailbox = std::make_shared<ImapMailboxState>();
        m_mailbox->accountId = accountId;
        m_mailbox->username = username;
        m_state = State::Authenticated;
        tagged(tag, "OK", "[CAPABILITY " + capabilities() + "] Logged in");
        break;
    case ImapLoginOutcome::Throttled:
        tagged(tag, "NO", "[UNAVAILABLE] Too many failed logins, try later");
        bye("Too many failed logins");
        break;
    case ImapLoginOutcome::Failed:
        tagged(tag, "NO", "[UNAVAILABLE] The mailbox cannot be opened now, try later");
        break;
    case ImapLoginOutcome::Rejected:
        tagged(tag, "NO", "[AUTHENTICATIONFAILED] Invalid credentials");
        countAuthFailure();
        break;
    }
    process();
}

void ImapSession::countAuthFailure()
{
    if (++m_authFailures >= m_settings.maxAuthFailures)
        bye("Too many failed logins");
}

void ImapSession::enable(const ImapCommandReader::Command &command)
{
    ImapArgumentReader arguments(command.parts);
    QByteArray enabled;
    bool any = false;
    while (arguments.accept(' ')) {
        const std::optional<QByteArray> atom = arguments.atom();
        if (!atom)
            break;
        any = true;
        const QByteArray capability = atom->toUpper();
        bool *flag = capability == "IMAP4REV2" ? &m_mailbox->rev2
            : capability == "CONDSTORE"        ? &m_mailbox->condstore
            : capability == "QRESYNC"          ? &m_mailbox->qresync
            : capability == "UTF8=ACCEPT"      ? &m_mailbox->utf8
                                               : nullptr;
        // RFC 5161 §3.1: only what was not enabled before is listed.
        if (flag && !*flag) {
            *flag = true;
            enabled += ' ' + capability;
            if (flag == &m_mailbox->qresync && !m_mailbox->condstore) {
                m_mailbox->condstore = true;
                enabled += " CONDSTORE";
            }
        }
    }
    if (!any || !arguments.atEnd() || !arguments.ok()) {
        bad(command.tag, "ENABLE capability ...");
        return;
    }
    m_output += "* ENABLED" + enabled + "\r\n";
    tagged(command.tag, "OK", "ENABLE completed");
}

void ImapSession::id(const ImapCommandReader::Command &command)
{
    // RFC 2971: a list of field and value pairs, or NIL; "name" is what the
    // log shows of the client.
    ImapArgumentReader arguments(command.parts);
    bool ok = arguments.space();
    if (ok && !arguments.acceptWord("NIL")) {
        ok = arguments.take('(');
        while (ok && !arguments.accept(')')) {
            if (arguments.peek() == ' ' && !arguments.space())
                ok = false;
            const std::optional<QByteArray> field = arguments.string();
            ok = ok && field && arguments.space();
            const std::optional<QByteArray> value = ok ? arguments.nstring() : std::nullopt;
            ok = ok && arguments.ok();
            if (ok && field->toLower() == "name" && value)
                m_clientName = QString::fromUtf8(value->left(100));
        }
    }
    if (!ok || !arguments.atEnd()) {
        bad(command.tag, "ID (field value ...) or ID NIL");
        return;
    }
    m_output += "* ID (\"name\" \"Mailroom\")\r\n";
    tagged(command.tag, "OK", "ID completed");
}

void ImapSession::idle(const ImapCommandReader::Command &command)
{
    if (!ImapArgumentReader(command.parts).atEnd()) {
        bad(command.tag, "IDLE takes no arguments");
        return;
    }
    m_pendingTag = command.tag;
    m_output += "+ idling\r\n";
    m_state = State::Idling;
    // What changed before IDLE began goes out now.
    requestUpdate();
}

void ImapSession::processIdleLine(const QByteArray &line)
{
    if (line.toUpper() != "DONE") {
        m_state = State::Authenticated;
        bad(std::exchange(m_pendingTag, {}), "IDLE ends with DONE");
        return;
    }
    m_state = State::Authenticated;
    tagged(std::exchange(m_pendingTag, {}), "OK", "IDLE terminated");
}

void ImapSession::requestMailbox(const ImapCommandReader::Command &command)
{
    m_mailbox->continuation.reset();
    m_pendingTag = command.tag;
    m_request = ImapMailboxRequest{command, m_mailbox};
    m_requestOut = true;
    m_state = State::Waiting;
}

void ImapSession::requestUpdate()
{
    if (!m_mailbox || !m_mailbox->selected)
        return;
    m_request = ImapUpdateRequest{m_mailbox};
    m_requestOut = true;
    m_idleUpdateOut = true;
    m_state = State::Waiting;
}

void ImapSession::mailboxFinished(const QByteArray &output)
{
    m_requestOut = false; // the state is ours again, whatever happened meanwhile
    if (m_state != State::Waiting)
        return;
    m_output += output;
    const qint64 heardMeanwhile = std::exchange(m_heardWhileWaiting, 0);
    m_mailbox->heardModseq = std::max(m_mailbox->heardModseq, heardMeanwhile);
    if (m_mailbox->mustClose) {
        close(); // a BYE was said
        return;
    }
    if (m_idleUpdateOut) {
        m_idleUpdateOut = false;
        m_state = State::Idling;
        // Only news that came while this update was out is asked for now:
        // an update that could not bring the view up to date (the store
        // failing) is not asked for again until something changes.
        if (m_mailbox->selected && heardMeanwhile > m_mailbox->selected->syncedModseq)
            requestUpdate();
    } else {
        m_state = State::Authenticated;
        // A BAD of a mailbox command counts like the session's own.
        const QByteArray tag = m_mailbox->continuation ? QByteArray() : std::exchange(m_pendingTag, {});
        if (!tag.isEmpty()
            && (output.startsWith(QByteArray(tag + " BAD ")) || output.contains(QByteArray("\r\n" + tag + " BAD ")))
            && ++m_errors >= m_settings.maxErrors)
            bye("Too many errors");
    }
    if (m_state != State::Waiting && m_state != State::Closed)
        process();
}

void ImapSession::accountChanged(qint64 modseq)
{
    if (!m_mailbox || m_state == State::Closed)
        return;
    if (m_requestOut) {
        // The worker holds the state: noted for when it is back.
        m_heardWhileWaiting = std::max(m_heardWhileWaiting, modseq);
        return;
    }
    if (modseq <= m_mailbox->heardModseq)
        return;
    m_mailbox->heardModseq = modseq;
    if (m_state == State::Idling)
        requestUpdate();
}

void ImapSession::timedOut()
{
    bye("Idle for too long");
}

void ImapSession::dropUnreadClient()
{
    bye("Updates are piling up unread");
}

void ImapSession::shuttingDown()
{
    bye("Server shutting down");
}

void ImapSession::tagged(const QByteArray &tag, const QByteArray &status, const QByteArray &rawText)
{
    const QByteArray text = ImapResponse::text(rawText);
    qCDebug(lcImapWire).noquote() << m_clientAddress << "S:" << (tag.isEmpty() ? "*" : tag) << status << text;
    if (tag.isEmpty())
        m_output += "* ";
    else
        m_output += tag + ' ';
    m_output += status;
    m_output += ' ';
    m_output += text;
    m_output += "\r\n";
}

void ImapSession::bad(const QByteArray &tag, const QByteArray &text)
{
    tagged(tag, "BAD", text);
    if (++m_errors >= m_settings.maxErrors)
        bye("Too many errors");
}

void ImapSession::bye(const QByteArray &text)
{
    if (m_state == State::Closed)
        return;
    m_output += "* BYE ";
    m_output += ImapResponse::text(text);
    m_output += "\r\n";
    close();
}

void ImapSession::close()
{
    m_state = State::Closed;
}
