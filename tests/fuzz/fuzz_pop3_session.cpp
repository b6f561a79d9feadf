// Pop3Session fed whole conversations, as the connection would serve it:
// STLS handshakes succeed at once; logins, fetches and commits are answered
// as the input's first byte says. Checked: the output is CRLF lines; no
// login is asked for and no USER accepted before TLS; no maildrop command
// succeeds before a login. Fed a line per read, each command's response is
// checked whole: one "+OK"/"-ERR" line (a "+ " continuation for AUTH
// PLAIN), or for CAPA, LIST, UIDL, RETR, TOP and AUTH a multi-line response
// that is dot-stuffed and ends with ".\r\n" (RFC 1939 §3).
//
// Input: byte 0 settings and answers, byte 1 how the rest is cut into
// reads (2: a line per read, with the per-command checks), then the bytes.

#include "fuzzsupport.h"
#include "pop3session.h"
#include "sessionkit.h"

#include <utility>

using FuzzSupport::check;
using FuzzSupport::fail;

namespace {

// The maildrop: message n is entry 100+n. One has lines starting with a
// dot, one has no header section, one does not end with a line end.
const QList<QByteArray> &messages()
{
    static const QList<QByteArray> all{
        QByteArrayLiteral("From: bob@project.com\r\nSubject: hi\r\n\r\nline one\r\n.\r\n..two\r\n.three\r\n"),
        QByteArrayLiteral("\r\njust a body\r\n"),
        QByteArrayLiteral("Subject: no end\r\n\r\nlast line"),
    };
    return all;
}

QList<Pop3Message> maildrop()
{
    QList<Pop3Message> drop;
    for (qsizetype i = 0; i < messages().size(); ++i)
        drop.append(Pop3Message{100 + i, messages().at(i).size()});
    return drop;
}

// A line-per-read command as the session will take it (CommandLineBuffer:
// up to LF, one CR dropped).
struct Command
{
    QByteArray verb;
    QByteArray argument;
    bool tooLong = false;
};

Command commandOf(QByteArrayView line)
{
    Command command;
    command.tooLong = line.size() > Pop3SessionSettings::MaxCommandLine;
    QByteArray text = line.toByteArray();
    text.chop(1); // the LF
    if (text.endsWith('\r'))
        text.chop(1);
    const qsizetype space = text.indexOf(' ');
    command.verb = (space < 0 ? text : text.left(space)).toUpper();
    command.argument = space < 0 ? QByteArray() : text.mid(space + 1);
    return command;
}

void checkLines(const QByteArray &output)
{
    check(output.isEmpty() || output.endsWith("\r\n"), "output does not end at a line end", output.right(200));
    qsizetype pos = 0;
    while (pos < output.size()) {
        const qsizetype lf = output.indexOf('\n', pos);
        const QByteArrayView line = QByteArrayView(output).sliced(pos, lf + 1 - pos);
        check(line.endsWith("\r\n") && !line.chopped(2).contains('\r'), "line with a bare CR or LF", line);
        pos = lf + 1;
    }
}

// One command's whole response, fed on its own line.
void checkResponse(const Command &command, const QByteArray &output, bool wasAuthResponse, bool closed)
{
    const qsizetype firstEnd = output.indexOf("\r\n");
    check(firstEnd >= 0, "no response to a command line", output);
    const QByteArray first = output.left(firstEnd);
    const bool positive = first == "+OK" || first.startsWith("+OK ");
    const bool continuation = first == "+ ";
    check(positive || continuation || first.startsWith("-ERR "), "response not +OK, -ERR or +", first);
    if (continuation)
        check(!wasAuthResponse && command.verb == "AUTH" && !command.tooLong, "a continuation not for AUTH", first);
    const QByteArray argument = command.argument.trimmed();
    const bool multiline = positive && !wasAuthResponse && !command.tooLong
        && (command.verb == "CAPA" || command.verb == "RETR" || command.verb == "TOP"
            || ((command.verb == "LIST" || command.verb == "UIDL" || command.verb == "AUTH") && argument.isEmpty()));
    QByteArrayView rest = QByteArrayView(output).sliced(firstEnd + 2);
    if (multiline) {
        const QByteArray afterLineEnd = "\r\n" + rest.toByteArray();
        const qsizetype end = afterLineEnd.indexOf("\r\n.\r\n");
        check(end >= 0, "multi-line response without its \".\" line", output);
        // Every line before the end is dot-stuffed: none is a lone "."
        // (that would be the end) and any starting with "." starts with "..".
        const QByteArrayView body = rest.first(end);
        qsizetype pos = 0;
        while (pos < body.size()) {
            qsizetype lf = body.indexOf('\n', pos);
            const QByteArrayView line = body.sliced(pos, (lf < 0 ? body.size() : lf + 1) - pos);
            check(!line.startsWith('.') || line.startsWith(".."), "multi-line response not dot-stuffed", line);
            pos = lf < 0 ? body.size() : lf + 1;
        }
        rest = rest.sliced(end + 3);
    }
    // After the response only the notice of a close (too many errors).
    if (!rest.isEmpty())
        check(closed && rest.startsWith("-ERR [SYS/TEMP] "), "more than one response to a command", output);
}

// The connection's side after each read (SessionKit::settle()): write,
// upgrade, serve as byte 0 says, resume.
class Connection : public SessionKit::Host
{
public:
    Connection(Pop3Session &session, bool implicitTls, std::uint8_t options)
        : tlsDone(implicitTls)
        , m_session(session)
        , m_loginAnswers((options >> 1) & 0x03) // Pop3LoginOutcome, in order
        , m_messagesGone(options & 0x08)       // deleted by the web API meanwhile
        , m_commitFails(options & 0x10)
    {
    }

    void collect() override
    {
        written += m_session.takeOutput();
        (void)m_session.takeRetrieved();
    }
    bool closeRequested() const override { return m_session.closeRequested(); }
    bool startTlsRequested() const override { return m_session.startTlsRequested(); }
    void establishTls() override
    {
        check(!tlsDone, "STLS granted inside TLS");
        m_session.tlsEstablished();
        tlsDone = true;
    }
    bool waiting() const override { return m_session.state() == Pop3Session::State::Waiting; }
    void answer() override
    {
        std::optional<Pop3Request> request = m_session.takeRequest();
        check(request.has_value(), "waiting without a request");
        if (std::holds_alternative<Pop3LoginRequest>(*request)) {
            check(tlsDone, "login asked for before TLS");
            const auto outcome = static_cast<Pop3LoginOutcome>(m_loginAnswers);
            loggedIn = outcome == Pop3LoginOutcome::Accepted;
            m_session.loginFinished(outcome, loggedIn ? 1 : 0, loggedIn ? maildrop() : QList<Pop3Message>());
        } else if (const auto *fetch = std::get_if<Pop3FetchRequest>(&*request)) {
            check(loggedIn, "fetch before login");
            const qsizetype index = fetch->entryId - 100;
            check(index >= 0 && index < messages().size(), "fetch of an entry not in the maildrop");
            if (m_messagesGone)
                m_session.fetchFinished(std::nullopt);
            else if (fetch->bodyLines)
                m_session.fetchFinished(Pop3Session::topOf(messages().at(index), *fetch->bodyLines));
            else
                m_session.fetchFinished(messages().at(index));
        } else {
            check(loggedIn, "commit before login");
            m_session.commitFinished(!m_commitFails);
        }
    }
    bool isHoldingInput() const override { return m_session.isHoldingInput(); }
    void resume() override { m_session.resume(); }
    void idle() override { check(!m_session.takeRequest().has_value(), "a request while not waiting"); }

    // What the session wrote since it was last taken.
    QByteArray takeWritten() { return std::exchange(written, QByteArray()); }

    bool tlsDone = false;
    bool loggedIn = false;
    QByteArray written;

private:
    Pop3Session &m_session;
    int m_loginAnswers = 0;
    bool m_messagesGone = false;
    bool m_commitFails = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::uint8_t options = data[0];
    Pop3SessionSettings settings;
    settings.implicitTls = options & 0x01;

    Pop3Session session(settings, QStringLiteral("192.0.2.7"));
    Connection connection(session, settings.implicitTls, options);

    // The connection's side after each read; returns what was written.
    const auto pump = [&] {
        if (SessionKit::settle(connection) == SessionKit::Settled::Never)
            fail("the session never settles");
        return connection.takeWritten();
    };

    session.start();
    check(pump() == "+OK Mailroom POP3 ready\r\n", "no greeting");
    SessionKit::Reads reads = SessionKit::Reads::fromByte(QByteArrayView(data + 2, qsizetype(size - 2)), data[1]);
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        if (session.closeRequested())
            break;
        const bool wasAuthResponse = session.state() == Pop3Session::State::AuthResponse;
        const bool wasEncrypted = connection.tlsDone;
        const bool wasLoggedIn = connection.loggedIn && session.state() == Pop3Session::State::Transaction;
        session.receive(*piece);
        const QByteArray output = pump();
        checkLines(output);
        if (!reads.linewise() || !piece->endsWith('\n'))
            continue;
        const Command command = commandOf(*piece);
        checkResponse(command, output, wasAuthResponse, session.closeRequested());
        if (output.startsWith("+OK") && !wasAuthResponse) {
            if (command.verb == "USER" || command.verb == "PASS")
                check(wasEncrypted, "USER or PASS accepted before TLS", output);
            static const QList<QByteArray> transactionVerbs{"STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP"};
            if (transactionVerbs.contains(command.verb))
                check(wasLoggedIn, "a maildrop command accepted before login", output);
        }
    }
    session.timedOut();
    checkLines(session.takeOutput());
    check(session.closeRequested(), "still open after the timeout");
    return 0;
}
