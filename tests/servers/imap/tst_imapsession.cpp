// ImapSession with ImapMailbox over a real store, against docs/protocol/
// imap.md and RFC 9051 (with CONDSTORE and QRESYNC, RFC 7162; IDLE, RFC
// 2177; LITERAL+, RFC 7888; UIDPLUS, RFC 4315; MULTIAPPEND, RFC 3502;
// APPENDLIMIT, RFC 7889): the greeting, CAPABILITY in each state, STARTTLS
// and what was pipelined behind it, LOGIN and AUTHENTICATE PLAIN with every
// outcome, commands in the wrong state, SELECT and EXAMINE in both dialects,
// FETCH, STORE, SEARCH, EXPUNGE, CLOSE and UNSELECT, two sessions on one
// folder, IDLE, APPEND, and hostile input.
//
// Rows are scripted conversations run by SessionKit (tests/support/
// sessionkit.h: the C and S steps), one step a string:
//   "C: line"    the client sends line + CRLF
//   "C< bytes"   the client sends the bytes as they are (a literal's octets)
//   "S: line"    the next output line is exactly this (without CRLF); a
//                literal in a response is read as the lines it holds
//   "S~ prefix"  the next output line starts with this
//   "S? prefix"  an optional line: consumed when it starts with this
//   "X: tls"     STARTTLS was asked for: the handshake is done
//   "X: deliver <subject>"  a message to alice, delivered through the
//                store (Store::deliver), then accountChanged(the account's
//                modseq) on every session of hers, as the backend does
//   "X: second session"  session B: alice on implicit TLS with INBOX
//                selected, on the same store file through a connection of
//                its own, as another client of hers on another worker
//   "X: timeout", "X: shutdown"  the connection's timer, the server stopping
//   "B: line"    session B sends the line; the step holds when B's output
//                ends with the line's tag and OK (B's output is not checked
//                beyond that: its own rows are the ones without B)
//   "F: 1 (\Seen \Flagged)"  the flags of uid 1 in alice's INBOX as the store
//                has them, in the server's order; "F: 2 gone": not there
//   "T: z1 BAD"  the next output line starts with this and is all RFC 9051
//                text (TEXT-CHAR or UTF-8: no NUL, no CR, no stray 8-bit byte)
//   "=: Authenticated"  the session's state()
//   "E: yes" or "E: no"  isEncrypted()
// In C and S steps "{uidvalidity}" and "{uidnext}" are INBOX's, "{hm}" its
// highest modseq as the rows start and "{m+1}" ... "{m+6}" the modseqs the
// next changes of the account take (the store gives each changed entry the
// next one).
//
// Requests are served as the connection would, synchronously, after every
// read: a login by a table of accounts (no hashing) whose ids are the
// store's (alice, bob and carol with "<name>-password"; "throttled" and
// "unavailable" answer Throttled and Failed whatever the password), a
// mailbox command or an update by ImapMailbox on a SQLite store made for
// the run, in which each run of a script has an alice of its own (her
// INBOX holds M1, M2, M3, uids 1 to 3, none seen; carol's folder Bulk, 60
// messages of 25 KB, is only read). After every request alice's modseq is
// read and, when it moved, accountChanged() goes to each of her sessions,
// as the backend's change watcher would. A row that never lets the session
// wait for the client (a request after a request, without end) fails.
//
// After the script no line, no partial output and no request may be left.
// Every script runs with each C step in one receive(), byte by byte, and
// with each C step in turn split in two at every boundary (long steps at
// their ends and around the limits). A row whose last column names a server
// bug is expected to fail (QEXPECT_FAIL) until the bug is fixed.

#include "imapmailbox.h"
#include "imapsession.h"
#include "mimemessage.h"
#include "sessionkit.h"
#include "store.h"
#include "testbytes.h"
#include "username.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using TestBytes::plainCredentials;
using TestBytes::printable;
using namespace Qt::StringLiterals;

// How far the session is brought before a row's script starts.
enum class Stage {
    Greeted,  // start(): the greeting
    Tls,      // STARTTLS and the handshake (implicit TLS: nothing to do)
    LoggedIn, // LOGIN alice alice-password
    Selected, // SELECT INBOX (IMAP4rev1)
};

Q_DECLARE_METATYPE(Stage)
Q_DECLARE_METATYPE(ImapSessionSettings)

namespace {

ImapSessionSettings plainSettings()
{
    return {};
}

ImapSessionSettings implicitTls()
{
    ImapSessionSettings settings;
    settings.implicitTls = true;
    return settings;
}

QByteArray n(qint64 value)
{
    return QByteArray::number(value);
}

// ---- alice's INBOX ------------------------------------------------------------

const QByteArray M1 = "From: Bob <bob@project.com>\r\n"
                      "To: alice@project.com\r\n"
                      "Subject: one\r\n"
                      "\r\n"
                      "Hello Alice.\r\n"_ba;
const QByteArray M2 = "From: Bob <bob@project.com>\r\n"
                      "To: alice@project.com\r\n"
                      "Subject: two\r\n"
                      "\r\n"
                      "line 1\r\n"
                      "line 2\r\n"_ba;
const QByteArray M3 = "From: Carol <carol@example.org>\r\n"
                      "To: alice@project.com\r\n"
                      "Subject: three\r\n"
                      "\r\n"
                      "third\r\n"_ba;

QByteArray headerOf(const QByteArray &message)
{
    return message.left(message.indexOf("\r\n\r\n") + 4);
}

// A message as the SMTP server would store it: its summary and words from
// the MIME parser.
NewMessage newMessage(const QByteArray &raw, qint64 recipient)
{
    const MimeMessage parsed = MimeMessage::parse(raw);
    NewMessage message;
    message.raw = raw;
    message.summary = parsed.summary();
    message.text = parsed.readableText();
    message.receivedAt = QDateTime(QDate(2027, 3, 4), QTime(5, 6, 7), Qt::UTC);
    message.recipientIds = {recipient};
    return message;
}

// Message n of the folder "Bulk": 25 lines of 1,000 octets, so that 50
// of them (a batch of ImapMailbox's FETCH) are more than one step's output
// (ImapMailbox::Settings::maxStepOutput, 1 MiB).
constexpr int BulkMessages = 60;

QByteArray bulkMessage(int number)
{
    QByteArray message = "Subject: bulk "_ba + QByteArray::number(number) + "\r\n\r\n"_ba;
    for (int line = 0; line < 25; ++line)
        message += QByteArray(998, char('a' + (number + line) % 26)) + "\r\n"_ba;
    return message;
}

// The store of the run: one SQLite file with two connections, session
// A's and session B's, kept for the whole run. Each run of a script gets an
// account of its own in it (alice's INBOX as the rows expect), rather than
// a store of its own: a new connection prepares the store's statements of
// many rows again, which costs more than most scripts (the test ran four
// times as long).
struct Fixture
{
    std::unique_ptr<Store> storeA;
    std::unique_ptr<Store> storeB;
    qint64 bob = 0;
    qint64 carol = 0; // her folder Bulk: read only, by the rows that use it
    int accounts = 0; // made so far: the next one's name
};

Fixture &fixture()
{
    static Fixture made;
    return made;
}

QString makeFixture(const QString &directory)
{
    Fixture &f = fixture();
    const QString path = QDir(directory).filePath(u"mailroom.db"_s);
    f.storeA = std::make_unique<Store>();
    if (!f.storeA->open(path, Store::OpenMode::CreateIfMissing))
        return f.storeA->lastErrorText();
    Store &store = *f.storeA;
    const std::optional<Account> bob = store.createAccount(u"bob"_s, u"not-a-hash"_s);
    const std::optional<Account> carol = store.createAccount(u"carol"_s, u"not-a-hash"_s);
    if (!bob || !carol)
        return store.lastErrorText();
    f.bob = bob->id;
    f.carol = carol->id;
    const std::optional<MailFolder> bulk = store.createFolder(f.carol, u"Bulk"_s);
    QList<AppendedMessage> messages;
    for (int i = 1; i <= BulkMessages; ++i)
        messages.append(AppendedMessage{newMessage(bulkMessage(i), 0), {}, {}});
    if (!bulk || !store.appendMessages(f.carol, bulk->id, messages))
        return store.lastErrorText();
    f.storeB = std::make_unique<Store>();
    if (!f.storeB->open(path, Store::OpenMode::MustExist))
        return f.storeB->lastErrorText();
    return {};
}

// A new account with M1, M2 and M3 in its INBOX, for one run of a script,
// and the variables of its S steps; 0 with `error` set when the store failed.
qint64 makeAlice(QHash<QByteArray, QByteArray> *variables, qint64 *inboxId, QString *error)
{
    Store &store = *fixture().storeA;
    const std::optional<Account> alice =
        store.createAccount(u"alice-%1"_s.arg(++fixture().accounts), u"not-a-hash"_s);
    if (!alice) {
        *error = store.lastErrorText();
        return 0;
    }
    QList<NewMessage> messages;
    for (const QByteArray &raw : {M1, M2, M3})
        messages.append(newMessage(raw, alice->id));
    for (const std::optional<Delivery> &delivery : store.deliverAll(messages)) {
        if (!delivery) {
            *error = store.lastErrorText();
            return 0;
        }
    }
    const std::optional<MailFolder> inbox = store.roleFolder(alice->id, FolderRole::Inbox);
    const std::optional<qint64> modseq = store.accountModseq(alice->id);
    if (!inbox || !modseq) {
        *error = store.lastErrorText();
        return 0;
    }
    if (inbox->total != 3 || inbox->uidNext != 4) {
        *error = u"the INBOX is not as the rows expect"_s;
        return 0;
    }
    *inboxId = inbox->id;
    variables->insert("uidvalidity", n(inbox->uidValidity));
    variables->insert("uidnext", n(inbox->uidNext));
    variables->insert("hm", n(inbox->highestModseq));
    for (int i = 1; i <= 6; ++i)
        variables->insert("m+" + n(i), n(*modseq + i));
    return alice->id;
}

QString stateName(ImapSession::State state)
{
    switch (state) {
    case ImapSession::State::NotAuthenticated:
        return u"NotAuthenticated"_s;
    case ImapSession::State::Authenticated:
        return u"Authenticated"_s;
    case ImapSession::State::AuthResponse:
        return u"AuthResponse"_s;
    case ImapSession::State::Idling:
        return u"Idling"_s;
    case ImapSession::State::Waiting:
        return u"Waiting"_s;
    case ImapSession::State::Closed:
        return u"Closed"_s;
    }
    return u"?"_s;
}

QString describe(const ImapRequest &request)
{
    if (const auto *login = std::get_if<ImapLoginRequest>(&request))
        return u"login(%1)"_s.arg(login->username);
    if (const auto *command = std::get_if<ImapMailboxRequest>(&request))
        return u"mailbox(%1 %2)"_s.arg(QString::fromUtf8(command->command.tag), QString::fromUtf8(command->command.name));
    return u"update"_s;
}

// The flags of a folder entry as the server lists them.
QByteArray flagText(const FolderEntryState &entry)
{
    QByteArrayList names;
    if (entry.flags.seen)
        names << "\\Seen"_ba;
    if (entry.flags.answered)
        names << "\\Answered"_ba;
    if (entry.flags.flagged)
        names << "\\Flagged"_ba;
    if (entry.flags.deleted)
        names << "\\Deleted"_ba;
    if (entry.flags.draft)
        names << "\\Draft"_ba;
    for (const QString &keyword : entry.keywords)
        names << keyword.toUtf8();
    return '(' + names.join(' ') + ')';
}

// How many requests in a row a session may make before the client is
// waited for again: far more than any script's pipelined commands.
constexpr int MaxRounds = 1000;

// One session and what serves it: an ImapMailbox on a store connection,
// sharing its readings of changes with the other session's as the workers
// of one server do (so that every row with two sessions also checks that a
// reading made for one is right for the other).
struct Peer
{
    Peer(const ImapSessionSettings &settings, Store *store, ImapChangeCache *changeCache)
        : session(settings, u"192.0.2.7"_s)
        , store(*store)
        , mailbox(store, [&] {
            ImapMailbox::Settings mailboxSettings;
            mailboxSettings.appendLimit = settings.appendLimit;
            mailboxSettings.changeCache = changeCache;
            return mailboxSettings;
        }())
    {
    }

    ImapSession session;
    Store &store;
    ImapMailbox mailbox;
    QByteArray output; // written and not yet read
};

// Plays the connections and the backend: feeds bytes, collects output
// lines, serves requests (SessionKit's driver for ImapSession, with the
// steps listed above). Unlike the connection it does not drop what follows
// STARTTLS: the session itself must never execute it.
class Driver : public SessionKit::Driver
{
public:
    explicit Driver(const ImapSessionSettings &settings)
        : m_settings(settings)
    {
        m_alice = makeAlice(&variables, &m_inboxId, &m_fault);
        a = std::make_unique<Peer>(settings, fixture().storeA.get(), &m_changeCache);
        m_notified = a->store.accountModseq(m_alice).value_or(0);
    }

    // The script with this run's values in its C steps too (the kit fills
    // in S steps only).
    [[nodiscard]] QByteArrayList withVariables(QByteArrayList script) const
    {
        for (QByteArray &step : script) {
            for (auto it = variables.cbegin(); it != variables.cend(); ++it)
                step.replace(QByteArray("{"_ba + it.key() + "}"_ba), it.value());
        }
        return script;
    }

    void start()
    {
        a->session.start();
        settle();
        collect();
    }

    SessionKit::OutputReader &output() override { return reader; }
    void receive(QByteArrayView bytes) override
    {
        if (!m_fault.isEmpty())
            return;
        a->session.receive(bytes);
        settle();
    }
    QByteArray takeOutput() override { return std::exchange(a->output, {}); }
    QString step(QByteArrayView kind, const QByteArray &argument) override;
    QString pending() override
    {
        if (!m_fault.isEmpty())
            return m_fault;
        if (const std::optional<ImapRequest> request = a->session.takeRequest())
            return u"an unexpected request: "_s + describe(*request);
        return {};
    }

    // Why the driver stopped serving (a session that never settles), if it did.
    [[nodiscard]] QString fault() const { return m_fault; }

    std::unique_ptr<Peer> a;
    std::unique_ptr<Peer> b;
    SessionKit::LineReader reader; // A's output lines read and not yet consumed
    qsizetype largestAnswer = 0;   // the most output one request gave

private:
    void settle();
    bool serveOne(Peer &peer);
    void serve(Peer &peer, const ImapRequest &request);
    void notifyChanges();
    QString secondSession();
    QString sessionB(const QByteArray &line);
    QString deliver(const QByteArray &subject);
    QString flags(const QByteArray &argument);
    QString textLine(const QByteArray &prefix);

    ImapSessionSettings m_settings;
    ImapChangeCache m_changeCache;
    QString m_fault;
    qint64 m_alice = 0; // this run's account
    qint64 m_inboxId = 0;
    qint64 m_notified = 0; // the account's modseq as last told
};

// Until every session waits for its client (or closed, or waits for a
// TLS handshake): each request served, held input resumed.
void Driver::settle()
{
    for (int round = 0; round < MaxRounds && m_fault.isEmpty(); ++round) {
        bool busy = serveOne(*a);
        if (b)
            busy = serveOne(*b) || busy;
        if (!busy)
            return;
    }
    if (m_fault.isEmpty())
        m_fault = u"the session never settles: %1 requests or resumes in a row (state %2)"_s.arg(MaxRounds).arg(
            stateName(a->session.state()));
}

bool Driver::serveOne(Peer &peer)
{
    peer.output += peer.session.takeOutput();
    if (peer.session.closeRequested() || peer.session.startTlsRequested())
        return false;
    if (const std::optional<ImapRequest> request = peer.session.takeRequest()) {
        serve(peer, *request);
        const QByteArray answer = peer.session.takeOutput();
        largestAnswer = std::max(largestAnswer, answer.size());
        peer.output += answer;
        notifyChanges();
        return true;
    }
    if (peer.session.isHoldingInput()) {
        peer.session.resume();
        return true;
    }
    return false;
}

void Driver::serve(Peer &peer, const ImapRequest &request)
{
    if (const auto *login = std::get_if<ImapLoginRequest>(&request)) {
        const QString username = Username::loginKey(login->username, m_settings.domain);
        if (username == u"throttled") {
            peer.session.loginFinished(ImapLoginOutcome::Throttled);
            return;
        }
        if (username == u"unavailable") {
            peer.session.loginFinished(ImapLoginOutcome::Failed);
            return;
        }
        const QHash<QString, qint64> accounts{{u"alice"_s, m_alice}, {u"bob"_s, fixture().bob}, {u"carol"_s, fixture().carol}};
        if (!accounts.contains(username) || login->password != username + u"-password") {
            peer.session.loginFinished(ImapLoginOutcome::Rejected);
            return;
        }
        peer.session.loginFinished(ImapLoginOutcome::Accepted, accounts.value(username), username);
        return;
    }
    if (const auto *command = std::get_if<ImapMailboxRequest>(&request)) {
        peer.session.mailboxFinished(peer.mailbox.execute(*command->state, command->command));
        return;
    }
    const auto &update = std::get<ImapUpdateRequest>(request);
    peer.session.mailboxFinished(peer.mailbox.update(*update.state));
}

void Driver::notifyChanges()
{
    const std::optional<qint64> modseq = a->store.accountModseq(m_alice);
    if (!modseq || *modseq <= m_notified)
        return;
    m_notified = *modseq;
    for (Peer *peer : {a.get(), b.get()}) {
        if (peer && peer->session.accountId() == m_alice)
            peer->session.accountChanged(*modseq);
    }
}

// B's whole output, and whether its last line is the tagged OK of `tag`.
QString checkTaggedOk(QByteArray output, const QByteArray &tag)
{
    if (!output.endsWith("\r\n"))
        return u"session B's output does not end a line: \"%1\""_s.arg(printable(output));
    output.chop(2);
    const QByteArray last = output.mid(output.lastIndexOf("\r\n") + 1).trimmed();
    if (!last.startsWith(QByteArray(tag + " OK")))
        return u"session B's command did not succeed: \"%1\""_s.arg(printable(output));
    return {};
}

QString Driver::secondSession()
{
    if (b)
        return u"there is a session B already"_s;
    ImapSessionSettings settings = m_settings;
    settings.implicitTls = true;
    b = std::make_unique<Peer>(settings, fixture().storeB.get(), &m_changeCache);
    b->session.start();
    settle();
    b->output.clear();
    b->session.receive("b0 LOGIN alice alice-password\r\nb00 SELECT INBOX\r\n");
    settle();
    collect();
    return checkTaggedOk(std::exchange(b->output, {}), "b00");
}

QString Driver::sessionB(const QByteArray &line)
{
    if (!b)
        return u"no session B (\"X: second session\" first)"_s;
    b->session.receive(QByteArray(line + "\r\n"));
    settle();
    collect();
    return checkTaggedOk(std::exchange(b->output, {}), line.left(line.indexOf(' ')));
}

QString Driver::deliver(const QByteArray &subject)
{
    const QByteArray raw = "From: Dave <dave@example.org>\r\nTo: alice@project.com\r\nSubject: " + subject + "\r\n\r\nnew\r\n";
    if (!a->store.deliver(newMessage(raw, m_alice)))
        return u"the delivery failed: "_s + a->store.lastErrorText();
    notifyChanges();
    settle();
    collect();
    return {};
}

QString Driver::flags(const QByteArray &argument)
{
    const qsizetype space = argument.indexOf(' ');
    const qint64 uid = argument.left(space).toLongLong();
    const QByteArray expected = argument.mid(space + 1);
    const std::optional<QList<FolderEntryState>> entries = a->store.folderEntries(m_alice, m_inboxId);
    if (!entries)
        return u"the store: "_s + a->store.lastErrorText();
    for (const FolderEntryState &entry : *entries) {
        if (entry.uid != uid)
            continue;
        const QByteArray flags = flagText(entry);
        return flags == expected ? QString() : u"the store has uid %1 with %2"_s.arg(uid).arg(QString::fromUtf8(flags));
    }
    return expected == "gone" ? QString() : u"the store has no uid %1"_s.arg(uid);
}

// RFC 9051 §9: resp-text's text is 1*(TEXT-CHAR / UTF8-2 / UTF8-3 /
// UTF8-4), TEXT-CHAR any CHAR (%x01-7F) but CR and LF.
QString Driver::textLine(const QByteArray &prefix)
{
    if (reader.isEmpty())
        return u"no output line"_s;
    const QByteArray line = reader.lines.takeFirst();
    if (!line.startsWith(prefix))
        return u"got \"%1\""_s.arg(printable(line));
    const bool text = !line.contains('\0') && !line.contains('\r') && QString::fromUtf8(line).toUtf8() == line;
    return text ? QString() : u"not text: \"%1\""_s.arg(printable(line));
}

QString Driver::step(QByteArrayView kind, const QByteArray &argument)
{
    if (!m_fault.isEmpty())
        return m_fault;
    if (kind == "X: ") {
        if (argument == "tls") {
            if (!reader.isEmpty())
                return u"output before the handshake: \"%1\""_s.arg(reader.unread());
            if (!a->session.startTlsRequested())
                return u"startTlsRequested() is false"_s;
            if (a->session.isEncrypted())
                return u"isEncrypted() before the handshake"_s;
            a->session.tlsEstablished();
            settle();
            collect();
            if (!a->session.isEncrypted())
                return u"isEncrypted() is false after tlsEstablished()"_s;
        } else if (argument.startsWith("deliver ")) {
            return deliver(argument.mid(8));
        } else if (argument == "second session") {
            return secondSession();
        } else if (argument == "timeout") {
            a->session.timedOut();
            settle();
            collect();
        } else if (argument == "shutdown") {
            a->session.shuttingDown();
            settle();
            collect();
        } else {
            return SessionKit::badStep();
        }
        return m_fault;
    }
    if (kind == "B: ")
        return sessionB(argument);
    if (kind == "F: ")
        return flags(argument);
    if (kind == "T: ")
        return textLine(argument);
    if (kind == "=: ") {
        if (stateName(a->session.state()).toUtf8() != argument)
            return u"the state is "_s + stateName(a->session.state());
        return {};
    }
    if (kind == "E: ") {
        if (a->session.isEncrypted() != (argument == "yes"))
            return u"isEncrypted() is %1"_s.arg(a->session.isEncrypted() ? u"true"_s : u"false"_s);
        return {};
    }
    return SessionKit::badStep();
}

// ---- expected lines --------------------------------------------------------------

const QByteArray BaseCapabilities = "IMAP4rev1 IMAP4rev2 LITERAL+ ENABLE ID IDLE NAMESPACE SASL-IR UNSELECT UIDPLUS MOVE"_ba;
const QByteArray CapabilitiesBeforeTls = BaseCapabilities + " STARTTLS LOGINDISABLED"_ba;
const QByteArray CapabilitiesBeforeLogin = BaseCapabilities + " AUTH=PLAIN"_ba;
const QByteArray CapabilitiesLoggedIn = BaseCapabilities
    + " SPECIAL-USE LIST-EXTENDED LIST-STATUS CHILDREN CONDSTORE QRESYNC ESEARCH STATUS=SIZE BINARY MULTIAPPEND"
      " SORT SORT=DISPLAY ESORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT UTF8=ACCEPT APPENDLIMIT=26214400"_ba;

QByteArray loggedIn(const QByteArray &tag)
{
    return "S: "_ba + tag + " OK [CAPABILITY "_ba + CapabilitiesLoggedIn + "] Logged in"_ba;
}

const QByteArray AuthFailed = " NO [AUTHENTICATIONFAILED] Invalid credentials"_ba;
const QByteArray PrivacyRequired = " NO [PRIVACYREQUIRED] Use STARTTLS first"_ba;

enum class Dialect { Rev1, Rev2 };

// SELECT or EXAMINE of the untouched INBOX, up to the tagged OK.
QByteArrayList selectSteps(const QByteArray &tag, bool examine = false, Dialect dialect = Dialect::Rev1)
{
    QByteArrayList steps{"C: "_ba + tag + (examine ? " EXAMINE INBOX"_ba : " SELECT INBOX"_ba),
                         "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"_ba,
                         examine ? "S: * OK [PERMANENTFLAGS ()] Read-only mailbox"_ba
                                 : "S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted"_ba,
                         "S: * 3 EXISTS"_ba};
    if (dialect == Dialect::Rev1)
        steps << "S: * 0 RECENT"_ba << "S: * OK [UNSEEN 1] First unseen"_ba;
    steps << "S: * OK [UIDVALIDITY {uidvalidity}] UIDs valid"_ba << "S: * OK [UIDNEXT 4] Predicted next UID"_ba
          << "S: * OK [HIGHESTMODSEQ {hm}] Highest"_ba;
    if (dialect == Dialect::Rev2)
        steps << "S: * LIST () \"/\" INBOX"_ba;
    steps << "S: "_ba + tag + (examine ? " OK [READ-ONLY] EXAMINE completed"_ba : " OK [READ-WRITE] SELECT completed"_ba);
    return steps;
}

// A response holding a literal: its lines as the line reader cuts them.
QByteArrayList literalSteps(const QByteArray &before, const QByteArray &bytes, const QByteArray &after)
{
    const QByteArray whole = before + '{' + n(bytes.size()) + "}\r\n"_ba + bytes + after;
    QByteArrayList steps;
    for (const QByteArray &line : whole.split('\n'))
        steps << "S: "_ba + (line.endsWith('\r') ? line.chopped(1) : line);
    return steps;
}

// The steps that bring a fresh session to a stage (start() already called).
QByteArrayList stageScript(const ImapSessionSettings &settings, Stage stage)
{
    QByteArrayList script{"S: * OK [CAPABILITY "_ba + (settings.implicitTls ? CapabilitiesBeforeLogin : CapabilitiesBeforeTls)
                          + "] Mailroom IMAP ready"_ba};
    if (stage >= Stage::Tls && !settings.implicitTls)
        script << "C: t0 STARTTLS"_ba << "S: t0 OK Begin TLS negotiation now"_ba << "X: tls"_ba;
    if (stage >= Stage::LoggedIn)
        script << "C: l0 LOGIN alice alice-password"_ba << loggedIn("l0");
    if (stage >= Stage::Selected)
        script << selectSteps("s0");
    return script;
}

// Where a C step of `size` bytes is split in two: everywhere, or for long
// steps at both ends, in the middle and around the 64 KiB line limit.
QList<qsizetype> splitPoints(qsizetype size)
{
    QList<qsizetype> points;
    if (size <= 300) {
        for (qsizetype at = 1; at < size; ++at)
            points << at;
        return points;
    }
    for (const qsizetype at : {qsizetype(1), qsizetype(2), size / 2, qsizetype(65534), qsizetype(65535),
                               qsizetype(65536), qsizetype(65537), size - 3, size - 2, size - 1}) {
        if (at > 0 && at < size && !points.contains(at))
            points << at;
    }
    return points;
}

// ---- rows ------------------------------------------------------------------------

void scriptColumns()
{
    QTest::addColumn<ImapSessionSettings>("settings");
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<QByteArrayList>("script");
    QTest::addColumn<bool>("closed");
    QTest::addColumn<QString>("knownBug");
}

void addScript(const char *name, Stage stage, const QByteArrayList &script, bool closed = false,
               const ImapSessionSettings &settings = plainSettings())
{
    QTest::newRow(name) << settings << stage << script << closed << QString();
}

QByteArray fetchFlags(int number, const QByteArray &flags)
{
    return "S: * "_ba + n(number) + " FETCH (FLAGS ("_ba + flags + "))"_ba;
}

QByteArray uidFetchFlags(int number, int uid, const QByteArray &flags)
{
    return "S: * "_ba + n(number) + " FETCH (UID "_ba + n(uid) + " FLAGS ("_ba + flags + "))"_ba;
}

QByteArray repeated(const QByteArray &piece, int count, const QByteArray &separator = {})
{
    QByteArrayList pieces;
    for (int i = 0; i < count; ++i)
        pieces << piece;
    return pieces.join(separator);
}

} // namespace

class TestImapSession : public QObject
{
    Q_OBJECT

private:
    void runScriptRow();

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void greeting_data();
    void greeting();
    void capability_data();
    void capability() { runScriptRow(); }
    void starttls_data();
    void starttls() { runScriptRow(); }
    void login_data();
    void login() { runScriptRow(); }
    void authenticate_data();
    void authenticate() { runScriptRow(); }
    void wrongState_data();
    void wrongState() { runScriptRow(); }
    void select_data();
    void select() { runScriptRow(); }
    void fetch_data();
    void fetch() { runScriptRow(); }
    void store_data();
    void store() { runScriptRow(); }
    void expunge_data();
    void expunge() { runScriptRow(); }
    void concurrent_data();
    void concurrent() { runScriptRow(); }
    void idle_data();
    void idle() { runScriptRow(); }
    void append_data();
    void append() { runScriptRow(); }
    void badInput_data();
    void badInput() { runScriptRow(); }
    void fetchOutputIsBounded();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestImapSession::initTestCase()
{
    // Each row runs a hundred times or more, each run with commits the
    // store flushes to disk (synchronous=FULL): on a memory file system,
    // where there is one, that costs nothing.
    const QString memory = u"/dev/shm"_s;
    const bool inMemory = QFileInfo(memory).isDir() && QFileInfo(memory).isWritable();
    m_dir = std::make_unique<QTemporaryDir>(inMemory ? memory + u"/tst_imapsession-XXXXXX"_s
                                                     : QDir::tempPath() + u"/tst_imapsession-XXXXXX"_s);
    QVERIFY(m_dir->isValid());
    const QString error = makeFixture(m_dir->path());
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void TestImapSession::cleanupTestCase()
{
    // Closed before their directory goes.
    fixture().storeA.reset();
    fixture().storeB.reset();
}

void TestImapSession::runScriptRow()
{
    QFETCH(ImapSessionSettings, settings);
    QFETCH(Stage, stage);
    QFETCH(QByteArrayList, script);
    QFETCH(bool, closed);
    QFETCH(QString, knownBug);

    // The feeds are those of the first run's script: the values of the
    // others are as long (a uidvalidity is a second of this day).
    QList<SessionKit::Feed> feeds;
    for (qsizetype run = 0; run == 0 || run < feeds.size(); ++run) {
        Driver d(settings);
        const QByteArrayList steps = d.withVariables(script);
        if (run == 0)
            feeds = SessionKit::Feed::everyWay(steps, splitPoints);
        const SessionKit::Feed &feed = feeds.at(run);
        d.start();
        const QString error = SessionKit::run(d, stageScript(settings, stage), SessionKit::Feed{});
        QVERIFY2(error.isEmpty(), qPrintable(u"getting to the stage: "_s + error));
        QString result = SessionKit::run(d, steps, feed);
        if (result.isEmpty())
            result = SessionKit::leftovers(d);
        if (!d.fault().isEmpty() && !result.contains(d.fault()))
            result += u" ("_s + d.fault() + u')';
        if (result.isEmpty() && d.a->session.closeRequested() != closed)
            result = u"closeRequested() is "_s + (closed ? u"false"_s : u"true"_s);
        if (!knownBug.isEmpty())
            QEXPECT_FAIL("", qPrintable(knownBug), Abort);
        QVERIFY2(result.isEmpty(), qPrintable(feed.text() + result));
    }
}

// ---- greeting and CAPABILITY ---------------------------------------------------------

void TestImapSession::greeting_data()
{
    QTest::addColumn<ImapSessionSettings>("settings");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("STARTTLS listener") << plainSettings()
                                       << "* OK [CAPABILITY "_ba + CapabilitiesBeforeTls + "] Mailroom IMAP ready\r\n"_ba;
    QTest::newRow("implicit TLS") << implicitTls()
                                  << "* OK [CAPABILITY "_ba + CapabilitiesBeforeLogin + "] Mailroom IMAP ready\r\n"_ba;
}

// RFC 9051 §7.1.1: the greeting is an untagged OK (CAPABILITY in it saves
// the client a round trip); nothing is asked of the backend before a command.
void TestImapSession::greeting()
{
    QFETCH(ImapSessionSettings, settings);
    QFETCH(QByteArray, expected);

    ImapSession session(settings, u"192.0.2.7"_s);
    QCOMPARE(session.takeOutput(), QByteArray());
    session.start();
    QCOMPARE(session.takeOutput(), expected);
    QCOMPARE(session.takeOutput(), QByteArray());
    QVERIFY(!session.takeRequest());
    QVERIFY(!session.closeRequested());
    QVERIFY(!session.startTlsRequested());
    QCOMPARE(session.state(), ImapSession::State::NotAuthenticated);
    QCOMPARE(session.isEncrypted(), settings.implicitTls);
    QCOMPARE(session.accountId(), qint64(0));
    QCOMPARE(session.capabilities(), settings.implicitTls ? CapabilitiesBeforeLogin : CapabilitiesBeforeTls);
}

void TestImapSession::capability_data()
{
    scriptColumns();
    // RFC 9051 §6.2.1, §6.2.3: LOGINDISABLED and STARTTLS before TLS, no AUTH=;
    // after it AUTH=PLAIN; after login the extensions of the selected state.
    addScript("before TLS", Stage::Greeted,
              {"C: c1 CAPABILITY"_ba, "S: * CAPABILITY "_ba + CapabilitiesBeforeTls, "S: c1 OK CAPABILITY completed"_ba});
    addScript("lower case", Stage::Greeted,
              {"C: c1 capability"_ba, "S: * CAPABILITY "_ba + CapabilitiesBeforeTls, "S: c1 OK CAPABILITY completed"_ba});
    addScript("after STARTTLS", Stage::Tls,
              {"C: c1 CAPABILITY"_ba, "S: * CAPABILITY "_ba + CapabilitiesBeforeLogin, "S: c1 OK CAPABILITY completed"_ba});
    addScript("implicit TLS", Stage::Greeted,
              {"C: c1 CAPABILITY"_ba, "S: * CAPABILITY "_ba + CapabilitiesBeforeLogin, "S: c1 OK CAPABILITY completed"_ba},
              false, implicitTls());
    addScript("after login", Stage::LoggedIn,
              {"C: c1 CAPABILITY"_ba, "S: * CAPABILITY "_ba + CapabilitiesLoggedIn, "S: c1 OK CAPABILITY completed"_ba});
    addScript("with a mailbox selected", Stage::Selected,
              {"C: c1 CAPABILITY"_ba, "S: * CAPABILITY "_ba + CapabilitiesLoggedIn, "S: c1 OK CAPABILITY completed"_ba});
    addScript("with an argument", Stage::Greeted,
              {"C: c1 CAPABILITY IMAP4rev2"_ba, "S: c1 BAD CAPABILITY takes no arguments"_ba, "C: c2 CAPABILITY"_ba,
               "S: * CAPABILITY "_ba + CapabilitiesBeforeTls, "S: c2 OK CAPABILITY completed"_ba});
    addScript("NOOP and ID before login", Stage::Greeted,
              {"C: c1 NOOP"_ba, "S: c1 OK NOOP completed"_ba, "C: c2 ID (\"name\" \"test\" \"version\" NIL)"_ba,
               "S: * ID (\"name\" \"Mailroom\")"_ba, "S: c2 OK ID completed"_ba, "C: c3 ID NIL"_ba,
               "S: * ID (\"name\" \"Mailroom\")"_ba, "S: c3 OK ID completed"_ba});
    addScript("LOGOUT", Stage::Greeted,
              {"C: c1 LOGOUT"_ba, "S: * BYE Mailroom IMAP logging out"_ba, "S: c1 OK LOGOUT completed"_ba, "=: Closed"_ba},
              true);
    addScript("LOGOUT with a mailbox selected", Stage::Selected,
              {"C: c1 LOGOUT"_ba, "S: * BYE Mailroom IMAP logging out"_ba, "S: c1 OK LOGOUT completed"_ba}, true);
    addScript("timeout", Stage::LoggedIn, {"X: timeout"_ba, "S: * BYE Idle for too long"_ba}, true);
    addScript("shutdown", Stage::Selected, {"X: shutdown"_ba, "S: * BYE Server shutting down"_ba}, true);
}

// ---- STARTTLS --------------------------------------------------------------------

void TestImapSession::starttls_data()
{
    scriptColumns();
    addScript("upgrade, then LOGIN", Stage::Greeted,
              {"E: no"_ba, "C: t1 STARTTLS"_ba, "S: t1 OK Begin TLS negotiation now"_ba, "X: tls"_ba, "E: yes"_ba,
               "C: l1 LOGIN alice alice-password"_ba, loggedIn("l1"), "=: Authenticated"_ba});
    addScript("STARTTLS twice", Stage::Tls, {"C: t1 STARTTLS"_ba, "S: t1 BAD TLS is on already"_ba, "E: yes"_ba});
    addScript("STARTTLS on implicit TLS", Stage::Greeted, {"C: t1 STARTTLS"_ba, "S: t1 BAD TLS is on already"_ba},
              false, implicitTls());
    addScript("STARTTLS after login", Stage::LoggedIn, {"C: t1 STARTTLS"_ba, "S: t1 BAD Already logged in"_ba});
    // RFC 9051 §6.2.1: the TLS negotiation begins right after the CRLF of
    // the tagged OK, and the client sends no command until it is complete:
    // what came in clear behind STARTTLS was put there by someone else
    // (CVE-2011-0411) and must never run inside the TLS session.
    addScript("a command pipelined behind STARTTLS is not executed", Stage::Greeted,
                {"C< t1 STARTTLS\r\nc1 CAPABILITY\r\n"_ba, "S: t1 OK Begin TLS negotiation now"_ba, "X: tls"_ba,
                 "C: c2 NOOP"_ba, "S: c2 OK NOOP completed"_ba});
    addScript("a LOGIN pipelined behind STARTTLS does not log in", Stage::Greeted,
                {"C< t1 STARTTLS\r\nl1 LOGIN alice alice-password\r\n"_ba, "S: t1 OK Begin TLS negotiation now"_ba,
                 "X: tls"_ba, "=: NotAuthenticated"_ba});
    // Bytes that come after STARTTLS's OK, before the handshake, are never read.
    addScript("plaintext after STARTTLS's OK is dropped", Stage::Greeted,
              {"C: t1 STARTTLS"_ba, "S: t1 OK Begin TLS negotiation now"_ba, "C: c1 CAPABILITY"_ba, "X: tls"_ba,
               "C: c2 NOOP"_ba, "S: c2 OK NOOP completed"_ba});
}

// ---- LOGIN and AUTHENTICATE -------------------------------------------------------

void TestImapSession::login_data()
{
    scriptColumns();
    addScript("LOGIN", Stage::Tls,
              {"C: l1 LOGIN alice alice-password"_ba, loggedIn("l1"), "=: Authenticated"_ba});
    addScript("LOGIN with quoted strings", Stage::Tls,
              {"C: l1 LOGIN \"alice\" \"alice-password\""_ba, loggedIn("l1")});
    addScript("LOGIN with the address", Stage::Tls,
              {"C: l1 LOGIN alice@project.com alice-password"_ba, loggedIn("l1")});
    addScript("LOGIN with a synchronizing literal password", Stage::Tls,
              {"C: l1 LOGIN alice {14}"_ba, "S: + Ready for literal data"_ba, "C: alice-password"_ba, loggedIn("l1")});
    addScript("LOGIN with a LITERAL+ password", Stage::Tls,
              {"C< l1 LOGIN alice {14+}\r\nalice-password\r\n"_ba, loggedIn("l1")});
    addScript("LOGIN on implicit TLS", Stage::Greeted, {"C: l1 LOGIN bob bob-password"_ba, loggedIn("l1")}, false,
              implicitTls());
    // RFC 9051 §6.2.3: LOGINDISABLED: no password in clear.
    addScript("LOGIN before TLS", Stage::Greeted,
              {"C: l1 LOGIN alice alice-password"_ba, "S: l1"_ba + PrivacyRequired, "=: NotAuthenticated"_ba});
    addScript("wrong password", Stage::Tls,
              {"C: l1 LOGIN alice wrong"_ba, "S: l1"_ba + AuthFailed, "=: NotAuthenticated"_ba,
               "C: l2 LOGIN alice alice-password"_ba, loggedIn("l2")});
    addScript("unknown user", Stage::Tls, {"C: l1 LOGIN mallory mallory-password"_ba, "S: l1"_ba + AuthFailed});
    addScript("three failed logins close the connection", Stage::Tls,
              {"C: l1 LOGIN alice one"_ba, "S: l1"_ba + AuthFailed, "C: l2 LOGIN alice two"_ba, "S: l2"_ba + AuthFailed,
               "C: l3 LOGIN alice three"_ba, "S: l3"_ba + AuthFailed, "S: * BYE Too many failed logins"_ba,
               "=: Closed"_ba},
              true);
    addScript("failed LOGIN and AUTHENTICATE count together", Stage::Tls,
              {"C: l1 LOGIN alice one"_ba, "S: l1"_ba + AuthFailed,
               "C: l2 AUTHENTICATE PLAIN "_ba + plainCredentials("alice", "two"), "S: l2"_ba + AuthFailed,
               "C: l3 LOGIN alice three"_ba, "S: l3"_ba + AuthFailed, "S: * BYE Too many failed logins"_ba},
              true);
    addScript("pipelined after a failed LOGIN", Stage::Tls,
              {"C< l1 LOGIN alice wrong\r\nl2 LOGIN alice alice-password\r\nl3 NOOP\r\n"_ba, "S: l1"_ba + AuthFailed,
               loggedIn("l2"), "S: l3 OK NOOP completed"_ba});
    addScript("throttled", Stage::Tls,
              {"C: l1 LOGIN throttled x"_ba, "S: l1 NO [UNAVAILABLE] Too many failed logins, try later"_ba,
               "S: * BYE Too many failed logins"_ba},
              true);
    addScript("store unavailable", Stage::Tls,
              {"C: l1 LOGIN unavailable x"_ba, "S: l1 NO [UNAVAILABLE] The mailbox cannot be opened now, try later"_ba,
               "C: l2 LOGIN alice alice-password"_ba, loggedIn("l2")});
    addScript("LOGIN without a password", Stage::Tls,
              {"C: l1 LOGIN alice"_ba, "S: l1 BAD LOGIN user password"_ba, "C: l2 LOGIN a b c"_ba,
               "S: l2 BAD LOGIN user password"_ba});
    addScript("LOGIN after login", Stage::LoggedIn,
              {"C: l1 LOGIN bob bob-password"_ba, "S: l1 BAD Already logged in"_ba});
}

void TestImapSession::authenticate_data()
{
    scriptColumns();
    const QByteArray alice = plainCredentials("alice", "alice-password");
    addScript("PLAIN with a continuation", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN"_ba, "S: + "_ba, "=: AuthResponse"_ba, "C: "_ba + alice, loggedIn("a1"),
               "=: Authenticated"_ba});
    // RFC 4959 (SASL-IR): the initial response on the command line.
    addScript("PLAIN with an initial response", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN "_ba + alice, loggedIn("a1")});
    addScript("lower-case mechanism", Stage::Greeted, {"C: a1 authenticate plain "_ba + alice, loggedIn("a1")}, false,
              implicitTls());
    addScript("PLAIN with an authorization identity of the same account", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN "_ba + plainCredentials("alice", "alice-password", "alice@project.com"),
               loggedIn("a1")});
    addScript("PLAIN for someone else", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN "_ba + plainCredentials("alice", "alice-password", "bob"), "S: a1"_ba + AuthFailed,
               "=: NotAuthenticated"_ba});
    // RFC 9051 §6.2.2: "*" cancels, and the server answers BAD.
    addScript("cancelled", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN"_ba, "S: + "_ba, "C: *"_ba, "S: a1 BAD AUTHENTICATE cancelled"_ba,
               "=: NotAuthenticated"_ba, "C: a2 AUTHENTICATE PLAIN "_ba + alice, loggedIn("a2")});
    addScript("wrong password", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN"_ba, "S: + "_ba, "C: "_ba + plainCredentials("alice", "wrong"),
               "S: a1"_ba + AuthFailed});
    addScript("not base64", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN"_ba, "S: + "_ba, "C: !!!not base64!!!"_ba, "S: a1"_ba + AuthFailed});
    addScript("empty initial response", Stage::Tls, {"C: a1 AUTHENTICATE PLAIN ="_ba, "S: a1"_ba + AuthFailed});
    addScript("other mechanism", Stage::Tls,
              {"C: a1 AUTHENTICATE CRAM-MD5"_ba, "S: a1 NO [CANNOT] Unsupported mechanism; PLAIN is offered"_ba});
    addScript("before TLS", Stage::Greeted,
              {"C: a1 AUTHENTICATE PLAIN "_ba + alice, "S: a1"_ba + PrivacyRequired, "=: NotAuthenticated"_ba});
    addScript("no mechanism", Stage::Tls, {"C: a1 AUTHENTICATE"_ba, "S: a1 BAD AUTHENTICATE mechanism [initial-response]"_ba});
    addScript("three failures close the connection", Stage::Tls,
              {"C: a1 AUTHENTICATE PLAIN ="_ba, "S: a1"_ba + AuthFailed, "C: a2 AUTHENTICATE PLAIN"_ba, "S: + "_ba,
               "C: "_ba + plainCredentials("alice", "x"), "S: a2"_ba + AuthFailed,
               "C: a3 AUTHENTICATE PLAIN "_ba + plainCredentials("bob", "x"), "S: a3"_ba + AuthFailed,
               "S: * BYE Too many failed logins"_ba},
              true);
}

// ---- commands in the wrong state -------------------------------------------------

void TestImapSession::wrongState_data()
{
    scriptColumns();
    const QByteArray logInFirst = " BAD Log in first (LOGIN or AUTHENTICATE PLAIN)"_ba;
    addScript("SELECT before login", Stage::Tls,
              {"C: w1 SELECT INBOX"_ba, "S: w1"_ba + logInFirst, "=: NotAuthenticated"_ba});
    addScript("FETCH, ENABLE and IDLE before login", Stage::Tls,
              {"C: w1 FETCH 1 FLAGS"_ba, "S: w1"_ba + logInFirst, "C: w2 ENABLE IMAP4rev2"_ba, "S: w2"_ba + logInFirst,
               "C: w3 IDLE"_ba, "S: w3"_ba + logInFirst, "C: w4 UID FETCH 1 FLAGS"_ba, "S: w4"_ba + logInFirst});
    addScript("FETCH without a selected mailbox", Stage::LoggedIn,
              {"C: w1 FETCH 1 FLAGS"_ba, "S: w1 BAD No mailbox selected"_ba, "C: w2 UID STORE 1 +FLAGS (\\Seen)"_ba,
               "S: w2 BAD No mailbox selected"_ba, "C: w3 EXPUNGE"_ba, "S: w3 BAD No mailbox selected"_ba,
               "C: w4 CLOSE"_ba, "S: w4 BAD No mailbox selected"_ba, "C: w5 SEARCH ALL"_ba,
               "S: w5 BAD No mailbox selected"_ba, "F: 1 ()"_ba});
    addScript("after a failed SELECT no mailbox is selected", Stage::Selected,
              {"C: w1 SELECT Nowhere"_ba, "S: w1 NO [NONEXISTENT] No such mailbox"_ba, "C: w2 FETCH 1 FLAGS"_ba,
               "S: w2 BAD No mailbox selected"_ba});
    addScript("after CLOSE no mailbox is selected", Stage::Selected,
              {"C: w1 CLOSE"_ba, "S: w1 OK CLOSE completed"_ba, "C: w2 FETCH 1 FLAGS"_ba,
               "S: w2 BAD No mailbox selected"_ba});
}

// ---- SELECT and EXAMINE ----------------------------------------------------------

void TestImapSession::select_data()
{
    scriptColumns();
    // RFC 9051 §6.3.2 and RFC 3501 §6.3.1; RFC 7162 §3.1.2.1: HIGHESTMODSEQ.
    addScript("SELECT, IMAP4rev1", Stage::LoggedIn, selectSteps("s1") + QByteArrayList{"=: Authenticated"_ba});
    addScript("EXAMINE, IMAP4rev1", Stage::LoggedIn, selectSteps("s1", true));
    addScript("select in lower case", Stage::LoggedIn,
              QByteArrayList{"C: s1 select inbox"_ba} + selectSteps("s1").mid(1));
    addScript("SELECT, IMAP4rev2", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE IMAP4rev2"_ba, "S: * ENABLED IMAP4REV2"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1", false, Dialect::Rev2));
    addScript("EXAMINE, IMAP4rev2", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE IMAP4rev2"_ba, "S: * ENABLED IMAP4REV2"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1", true, Dialect::Rev2));
    // RFC 5161 §3.1: what is enabled already is not listed again.
    addScript("ENABLE twice", Stage::LoggedIn,
              {"C: e1 ENABLE IMAP4rev2 CONDSTORE"_ba, "S: * ENABLED IMAP4REV2 CONDSTORE"_ba, "S: e1 OK ENABLE completed"_ba,
               "C: e2 ENABLE CONDSTORE QRESYNC X-UNKNOWN"_ba, "S: * ENABLED QRESYNC"_ba, "S: e2 OK ENABLE completed"_ba});
    addScript("SEARCH, IMAP4rev1", Stage::Selected,
              {"C: q1 SEARCH ALL"_ba, "S: * SEARCH 1 2 3"_ba, "S: q1 OK SEARCH completed"_ba, "C: q2 UID SEARCH UNSEEN"_ba,
               "S: * SEARCH 1 2 3"_ba, "S: q2 OK UID SEARCH completed"_ba, "C: q3 SEARCH SUBJECT two"_ba,
               "S: * SEARCH 2"_ba, "S: q3 OK SEARCH completed"_ba});
    // RFC 9051 §7.3.4: an IMAP4rev2 client gets ESEARCH for every SEARCH.
    addScript("SEARCH, IMAP4rev2", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE IMAP4rev2"_ba, "S: * ENABLED IMAP4REV2"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1", false, Dialect::Rev2)
                  + QByteArrayList{"C: q1 SEARCH ALL"_ba, "S: * ESEARCH (TAG \"q1\") ALL 1:3"_ba,
                                   "S: q1 OK SEARCH completed"_ba, "C: q2 UID SEARCH SUBJECT three"_ba,
                                   "S: * ESEARCH (TAG \"q2\") UID ALL 3"_ba, "S: q2 OK UID SEARCH completed"_ba,
                                   "C: q3 SEARCH SEEN"_ba, "S: * ESEARCH (TAG \"q3\")"_ba, "S: q3 OK SEARCH completed"_ba});
    addScript("SEARCH RETURN, IMAP4rev1", Stage::Selected,
              {"C: q1 SEARCH RETURN (MIN MAX COUNT) UNSEEN"_ba, "S: * ESEARCH (TAG \"q1\") MIN 1 MAX 3 COUNT 3"_ba,
               "S: q1 OK SEARCH completed"_ba});
    addScript("SELECT (CONDSTORE)", Stage::LoggedIn,
              QByteArrayList{"C: s1 SELECT INBOX (CONDSTORE)"_ba} + selectSteps("s1").mid(1)
                  + QByteArrayList{"C: f1 STORE 1 +FLAGS (\\Flagged)"_ba,
                                   "S: * 1 FETCH (FLAGS (\\Flagged) MODSEQ ({m+1}))"_ba, "S: f1 OK STORE completed"_ba});
    addScript("SELECT a mailbox that does not exist", Stage::LoggedIn,
              {"C: s1 SELECT Nowhere"_ba, "S: s1 NO [NONEXISTENT] No such mailbox"_ba});
    addScript("SELECT again", Stage::Selected, selectSteps("s1"));
    // RFC 7162 §3.2.11: with QRESYNC a SELECT while selected says CLOSED first.
    addScript("SELECT again with QRESYNC", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE QRESYNC"_ba, "S: * ENABLED QRESYNC CONDSTORE"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1") + QByteArrayList{"C: s2 EXAMINE INBOX"_ba, "S: * OK [CLOSED] Previous mailbox closed"_ba}
                  + selectSteps("s2", true).mid(1));
    addScript("SELECT of a role folder", Stage::LoggedIn,
              {"C: s1 SELECT Drafts"_ba, "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"_ba,
               "S~ * OK [PERMANENTFLAGS"_ba, "S: * 0 EXISTS"_ba, "S: * 0 RECENT"_ba, "S~ * OK [UIDVALIDITY "_ba,
               "S: * OK [UIDNEXT 1] Predicted next UID"_ba, "S~ * OK [HIGHESTMODSEQ "_ba,
               "S: s1 OK [READ-WRITE] SELECT completed"_ba});
}

// ---- FETCH -----------------------------------------------------------------------

void TestImapSession::fetch_data()
{
    scriptColumns();
    addScript("FLAGS UID RFC822.SIZE", Stage::Selected,
              {"C: f1 FETCH 1 (FLAGS UID RFC822.SIZE)"_ba, "S: * 1 FETCH (FLAGS () UID 1 RFC822.SIZE "_ba + n(M1.size()) + ')',
               "S: f1 OK FETCH completed"_ba});
    addScript("a range", Stage::Selected,
              {"C: f1 FETCH 2:* UID"_ba, "S: * 2 FETCH (UID 2)"_ba, "S: * 3 FETCH (UID 3)"_ba, "S: f1 OK FETCH completed"_ba});
    addScript("UID FETCH answers with the UID", Stage::Selected,
              {"C: f1 UID FETCH 2:3 FLAGS"_ba, uidFetchFlags(2, 2, {}), uidFetchFlags(3, 3, {}),
               "S: f1 OK UID FETCH completed"_ba, "C: f2 UID FETCH 7:9 FLAGS"_ba, "S: f2 OK UID FETCH completed"_ba});
    // RFC 9051 §6.4.5: BODY[] sets \Seen, and the FETCH says so.
    addScript("BODY[] sets \\Seen", Stage::Selected,
              QByteArrayList{"C: f1 FETCH 1 BODY[]"_ba} + literalSteps("* 1 FETCH (BODY[] "_ba, M1, " FLAGS (\\Seen))"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "F: 1 (\\Seen)"_ba, "C: f2 FETCH 1 BODY[]"_ba}
                  + literalSteps("* 1 FETCH (BODY[] "_ba, M1, ")"_ba)
                  + QByteArrayList{"S: f2 OK FETCH completed"_ba, "C: f3 FETCH 1 FLAGS"_ba, fetchFlags(1, "\\Seen"),
                                   "S: f3 OK FETCH completed"_ba});
    addScript("BODY.PEEK[HEADER] does not", Stage::Selected,
              QByteArrayList{"C: f1 FETCH 2 BODY.PEEK[HEADER]"_ba}
                  + literalSteps("* 2 FETCH (BODY[HEADER] "_ba, headerOf(M2), ")"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "F: 2 ()"_ba});
    addScript("BODY.PEEK[] does not", Stage::Selected,
              QByteArrayList{"C: f1 FETCH 3 (UID BODY.PEEK[])"_ba}
                  + literalSteps("* 3 FETCH (UID 3 BODY[] "_ba, M3, ")"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "F: 3 ()"_ba});
    // RFC 9051 §6.4.5: BODY[section]<origin.count>, answered as BODY[section]<origin>.
    addScript("a partial BODY[]", Stage::Selected,
              QByteArrayList{"C: f1 FETCH 2 BODY.PEEK[]<0.10>"_ba}
                  + literalSteps("* 2 FETCH (BODY[]<0> "_ba, M2.left(10), ")"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "C: f2 FETCH 2 BODY.PEEK[TEXT]<8.100>"_ba}
                  + literalSteps("* 2 FETCH (BODY[TEXT]<8> "_ba, "line 2\r\n"_ba, ")"_ba)
                  + QByteArrayList{"S: f2 OK FETCH completed"_ba, "C: f3 FETCH 2 BODY.PEEK[]<500.10>"_ba}
                  + literalSteps("* 2 FETCH (BODY[]<500> "_ba, {}, ")"_ba)
                  + QByteArrayList{"S: f3 OK FETCH completed"_ba});
    addScript("BODY[TEXT] of two messages", Stage::Selected,
              QByteArrayList{"C: f1 FETCH 1:2 BODY[TEXT]"_ba}
                  + literalSteps("* 1 FETCH (BODY[TEXT] "_ba, "Hello Alice.\r\n"_ba, " FLAGS (\\Seen))"_ba)
                  + literalSteps("* 2 FETCH (BODY[TEXT] "_ba, "line 1\r\nline 2\r\n"_ba, " FLAGS (\\Seen))"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "F: 1 (\\Seen)"_ba, "F: 2 (\\Seen)"_ba, "F: 3 ()"_ba});
    addScript("EXAMINE: BODY[] does not set \\Seen", Stage::LoggedIn,
              selectSteps("s1", true) + QByteArrayList{"C: f1 FETCH 1 BODY[]"_ba}
                  + literalSteps("* 1 FETCH (BODY[] "_ba, M1, ")"_ba)
                  + QByteArrayList{"S: f1 OK FETCH completed"_ba, "F: 1 ()"_ba});
    addScript("CONDSTORE: MODSEQ and CHANGEDSINCE", Stage::Selected,
              {"C: f1 STORE 2 +FLAGS.SILENT (\\Answered)"_ba, "S: f1 OK STORE completed"_ba,
               "C: f2 FETCH 1:* (FLAGS) (CHANGEDSINCE {hm})"_ba, "S: * 2 FETCH (FLAGS (\\Answered) MODSEQ ({m+1}))"_ba,
               "S: f2 OK FETCH completed"_ba, "C: f3 FETCH 2 MODSEQ"_ba, "S: * 2 FETCH (MODSEQ ({m+1}))"_ba,
               "S: f3 OK FETCH completed"_ba});
    addScript("a message number past the last", Stage::Selected,
              {"C: f1 FETCH 4 FLAGS"_ba, "S: f1 BAD No such message number"_ba, "C: f2 FETCH 1,4 FLAGS"_ba,
               "S: f2 BAD No such message number"_ba, "C: f3 FETCH 1 FLAGS"_ba, fetchFlags(1, {}),
               "S: f3 OK FETCH completed"_ba});
    addScript("unknown item", Stage::Selected,
              {"C: f1 FETCH 1 (FLAGS BOGUS)"_ba, "S~ f1 BAD "_ba});
    // A FETCH whose output is more than a step goes on in steps
    // (ImapMailboxState::continuation); what was pipelined behind it waits.
    QByteArrayList bulk{"C: l1 LOGIN carol carol-password"_ba, loggedIn("l1"), "C: b1 EXAMINE Bulk"_ba, "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"_ba,
                        "S: * OK [PERMANENTFLAGS ()] Read-only mailbox"_ba, "S: * "_ba + n(BulkMessages) + " EXISTS"_ba,
                        "S: * 0 RECENT"_ba, "S: * OK [UNSEEN 1] First unseen"_ba, "S~ * OK [UIDVALIDITY "_ba,
                        "S~ * OK [UIDNEXT "_ba, "S~ * OK [HIGHESTMODSEQ "_ba, "S: b1 OK [READ-ONLY] EXAMINE completed"_ba,
                        "C< f1 FETCH 1:* BODY.PEEK[]\r\nf2 NOOP\r\n"_ba};
    for (int i = 1; i <= BulkMessages; ++i)
        bulk += literalSteps("* "_ba + n(i) + " FETCH (BODY[] "_ba, bulkMessage(i), ")"_ba);
    bulk << "S: f1 OK FETCH completed"_ba << "S: f2 OK NOOP completed"_ba;
    addScript("a FETCH longer than a step", Stage::Tls, bulk);
    addScript("pipelined FETCHes answer in order", Stage::Selected,
              {"C< f1 FETCH 1 UID\r\nf2 FETCH 2 UID\r\nf3 NOOP\r\nf4 FETCH 3 UID\r\n"_ba, "S: * 1 FETCH (UID 1)"_ba,
               "S: f1 OK FETCH completed"_ba, "S: * 2 FETCH (UID 2)"_ba, "S: f2 OK FETCH completed"_ba,
               "S: f3 OK NOOP completed"_ba, "S: * 3 FETCH (UID 3)"_ba, "S: f4 OK FETCH completed"_ba});
}

// ---- STORE -----------------------------------------------------------------------

void TestImapSession::store_data()
{
    scriptColumns();
    addScript("+FLAGS", Stage::Selected,
              {"C: w1 STORE 1 +FLAGS (\\Flagged)"_ba, fetchFlags(1, "\\Flagged"), "S: w1 OK STORE completed"_ba,
               "F: 1 (\\Flagged)"_ba, "C: w2 STORE 1:2 +FLAGS (\\Seen \\Flagged)"_ba, fetchFlags(1, "\\Seen \\Flagged"),
               fetchFlags(2, "\\Seen \\Flagged"), "S: w2 OK STORE completed"_ba, "F: 2 (\\Seen \\Flagged)"_ba});
    // RFC 9051 §6.4.6: every message named is answered, changed or not.
    addScript("+FLAGS a message already has: still its FETCH", Stage::Selected,
              {"C: w1 STORE 1 +FLAGS (\\Seen)"_ba, fetchFlags(1, "\\Seen"), "S: w1 OK STORE completed"_ba,
               "C: w2 STORE 1:2 +FLAGS (\\Seen)"_ba, fetchFlags(1, "\\Seen"), fetchFlags(2, "\\Seen"),
               "S: w2 OK STORE completed"_ba, "C: w3 STORE 2 -FLAGS (\\Flagged)"_ba, fetchFlags(2, "\\Seen"),
               "S: w3 OK STORE completed"_ba});
    addScript("-FLAGS", Stage::Selected,
              {"C: w1 STORE 1 +FLAGS (\\Seen \\Answered \\Draft)"_ba, fetchFlags(1, "\\Seen \\Answered \\Draft"),
               "S: w1 OK STORE completed"_ba, "C: w2 STORE 1 -FLAGS (\\Seen \\Draft)"_ba, fetchFlags(1, "\\Answered"),
               "S: w2 OK STORE completed"_ba, "F: 1 (\\Answered)"_ba});
    addScript("FLAGS replaces, with keywords", Stage::Selected,
              {"C: w1 STORE 2 FLAGS (\\Flagged $Label1)"_ba, fetchFlags(2, "\\Flagged $Label1"),
               "S: w1 OK STORE completed"_ba, "C: w2 STORE 2 FLAGS (\\Seen)"_ba, fetchFlags(2, "\\Seen"),
               "S: w2 OK STORE completed"_ba, "F: 2 (\\Seen)"_ba});
    addScript("FLAGS.SILENT", Stage::Selected,
              {"C: w1 STORE 1:* +FLAGS.SILENT (\\Seen)"_ba, "S: w1 OK STORE completed"_ba, "F: 1 (\\Seen)"_ba,
               "F: 3 (\\Seen)"_ba, "C: w2 STORE 2 -FLAGS.SILENT (\\Seen)"_ba, "S: w2 OK STORE completed"_ba,
               "F: 2 ()"_ba});
    addScript("UID STORE", Stage::Selected,
              {"C: w1 UID STORE 3 +FLAGS (\\Deleted)"_ba, uidFetchFlags(3, 3, "\\Deleted"), "S: w1 OK UID STORE completed"_ba,
               "C: w2 UID STORE 5:9 +FLAGS (\\Deleted)"_ba, "S: w2 OK UID STORE completed"_ba});
    // RFC 7162 §3.1.3: what changed after UNCHANGEDSINCE is left alone and
    // named by MODIFIED; the others change, their FETCH with MODSEQ.
    addScript("UNCHANGEDSINCE with MODIFIED", Stage::Selected,
              {"C: w1 STORE 1 (UNCHANGEDSINCE {hm}) +FLAGS (\\Flagged)"_ba,
               "S: * 1 FETCH (FLAGS (\\Flagged) MODSEQ ({m+1}))"_ba, "S: w1 OK STORE completed"_ba,
               "C: w2 STORE 1:2 (UNCHANGEDSINCE {hm}) +FLAGS (\\Seen)"_ba,
               "S: * 2 FETCH (FLAGS (\\Seen) MODSEQ ({m+2}))"_ba,
               "S: w2 OK [MODIFIED 1] Conditional STORE failed for some"_ba, "F: 1 (\\Flagged)"_ba, "F: 2 (\\Seen)"_ba});
    addScript("UID STORE UNCHANGEDSINCE 0, .SILENT", Stage::Selected,
              {"C: w1 UID STORE 2:3 (UNCHANGEDSINCE 0) FLAGS.SILENT (\\Seen)"_ba,
               "S: w1 OK [MODIFIED 2:3] Conditional STORE failed for some"_ba, "F: 2 ()"_ba});
    addScript("UNCHANGEDSINCE with .SILENT still says MODSEQ", Stage::Selected,
              {"C: w1 UID STORE 2 (UNCHANGEDSINCE {hm}) +FLAGS.SILENT (\\Seen)"_ba,
               "S: * 2 FETCH (UID 2 MODSEQ ({m+1}))"_ba, "S: w1 OK UID STORE completed"_ba});
    addScript("STORE in an EXAMINEd mailbox", Stage::LoggedIn,
              selectSteps("s1", true) + QByteArrayList{"C: w1 STORE 1 +FLAGS (\\Seen)"_ba,
                                                       "S: w1 NO [READ-ONLY] The mailbox is read-only"_ba, "F: 1 ()"_ba});
    addScript("unknown system flag", Stage::Selected,
              {"C: w1 STORE 1 +FLAGS (\\Bogus)"_ba, "S~ w1 BAD "_ba, "F: 1 ()"_ba});
    addScript("past the last message", Stage::Selected,
              {"C: w1 STORE 2:4 +FLAGS (\\Seen)"_ba, "S: w1 BAD No such message number"_ba, "F: 2 ()"_ba});
}

// ---- EXPUNGE, CLOSE, UNSELECT -------------------------------------------------------

void TestImapSession::expunge_data()
{
    scriptColumns();
    addScript("EXPUNGE", Stage::Selected,
              {"C: x1 STORE 2 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba, "C: x2 EXPUNGE"_ba,
               "S: * 2 EXPUNGE"_ba, "S: x2 OK EXPUNGE completed"_ba, "F: 2 gone"_ba, "C: x3 FETCH 2 UID"_ba,
               "S: * 2 FETCH (UID 3)"_ba, "S: x3 OK FETCH completed"_ba});
    // Each EXPUNGE's number counts the ones before it (RFC 9051 §7.5.1):
    // highest first, the numbers are those the client knows.
    addScript("EXPUNGE of two", Stage::Selected,
              {"C: x1 STORE 1,3 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba, "C: x2 EXPUNGE"_ba,
               "S: * 3 EXPUNGE"_ba, "S: * 1 EXPUNGE"_ba, "S: x2 OK EXPUNGE completed"_ba, "C: x3 FETCH 1:* UID"_ba,
               "S: * 1 FETCH (UID 2)"_ba, "S: x3 OK FETCH completed"_ba});
    addScript("EXPUNGE of nothing", Stage::Selected,
              {"C: x1 EXPUNGE"_ba, "S: x1 OK EXPUNGE completed"_ba, "F: 1 ()"_ba});
    // RFC 4315 §2.1: only the \Deleted messages among these uids.
    addScript("UID EXPUNGE", Stage::Selected,
              {"C: x1 STORE 1:3 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba, "C: x2 UID EXPUNGE 2"_ba,
               "S: * 2 EXPUNGE"_ba, "S~ x2 OK"_ba, "F: 1 (\\Deleted)"_ba, "F: 2 gone"_ba, "F: 3 (\\Deleted)"_ba,
               "C: x3 UID EXPUNGE 1:*"_ba, "S: * 2 EXPUNGE"_ba, "S: * 1 EXPUNGE"_ba, "S~ x3 OK"_ba});
    // RFC 7162 §3.2.10: with QRESYNC, VANISHED instead of EXPUNGE.
    addScript("EXPUNGE with QRESYNC says VANISHED", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE QRESYNC"_ba, "S: * ENABLED QRESYNC CONDSTORE"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1")
                  + QByteArrayList{"C: x1 STORE 1:2 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba,
                                   "C: x2 EXPUNGE"_ba, "S: * VANISHED 1:2"_ba, "S: x2 OK EXPUNGE completed"_ba});
    addScript("EXPUNGE in an EXAMINEd mailbox", Stage::LoggedIn,
              selectSteps("s1", true)
                  + QByteArrayList{"C: x1 EXPUNGE"_ba, "S: x1 NO [READ-ONLY] The mailbox is read-only"_ba});
    // RFC 9051 §6.4.1: CLOSE expunges silently; UNSELECT (§6.4.2) does not.
    addScript("CLOSE expunges silently", Stage::Selected,
              {"C: x1 STORE 1 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba, "C: x2 CLOSE"_ba,
               "S: x2 OK CLOSE completed"_ba, "F: 1 gone"_ba, "F: 2 ()"_ba, "=: Authenticated"_ba});
    addScript("UNSELECT does not expunge", Stage::Selected,
              {"C: x1 STORE 1 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba, "C: x2 UNSELECT"_ba,
               "S: x2 OK UNSELECT completed"_ba, "F: 1 (\\Deleted)"_ba, "C: x3 FETCH 1 FLAGS"_ba,
               "S: x3 BAD No mailbox selected"_ba});
    addScript("CLOSE of an EXAMINEd mailbox does not expunge", Stage::Selected,
              QByteArrayList{"C: x1 STORE 1 +FLAGS.SILENT (\\Deleted)"_ba, "S: x1 OK STORE completed"_ba}
                  + QByteArrayList{"C: s1 EXAMINE INBOX"_ba, "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"_ba,
                                   "S: * OK [PERMANENTFLAGS ()] Read-only mailbox"_ba, "S: * 3 EXISTS"_ba,
                                   "S: * 0 RECENT"_ba, "S: * OK [UNSEEN 1] First unseen"_ba,
                                   "S: * OK [UIDVALIDITY {uidvalidity}] UIDs valid"_ba,
                                   "S: * OK [UIDNEXT 4] Predicted next UID"_ba,
                                   "S: * OK [HIGHESTMODSEQ {m+1}] Highest"_ba,
                                   "S: s1 OK [READ-ONLY] EXAMINE completed"_ba, "C: x2 CLOSE"_ba,
                                   "S: x2 OK CLOSE completed"_ba, "F: 1 (\\Deleted)"_ba});
    addScript("UNSELECT with an argument", Stage::Selected,
              {"C: x1 UNSELECT INBOX"_ba, "S: x1 BAD UNSELECT takes no arguments"_ba, "C: x2 FETCH 1 UID"_ba,
               "S: * 1 FETCH (UID 1)"_ba, "S: x2 OK FETCH completed"_ba});
}

// ---- two sessions on one folder ---------------------------------------------------

void TestImapSession::concurrent_data()
{
    scriptColumns();
    const QByteArrayList expungeByB{"X: second session"_ba, "B: b1 STORE 2 +FLAGS.SILENT (\\Deleted)"_ba, "B: b2 EXPUNGE"_ba,
                                    "F: 2 gone"_ba};
    addScript("B's STORE is seen at NOOP", Stage::Selected,
              {"X: second session"_ba, "B: b1 STORE 1 +FLAGS (\\Flagged)"_ba, "C: a1 NOOP"_ba,
               uidFetchFlags(1, 1, "\\Flagged"), "S: a1 OK NOOP completed"_ba, "C: a2 NOOP"_ba,
               "S: a2 OK NOOP completed"_ba});
    addScript("B's STORE is seen with CONDSTORE's MODSEQ", Stage::LoggedIn,
              QByteArrayList{"C: s1 SELECT INBOX (CONDSTORE)"_ba} + selectSteps("s1").mid(1)
                  + QByteArrayList{"X: second session"_ba, "B: b1 STORE 3 +FLAGS (\\Seen)"_ba, "C: a1 NOOP"_ba,
                                   "S: * 3 FETCH (UID 3 FLAGS (\\Seen) MODSEQ ({m+1}))"_ba,
                                   "S: a1 OK NOOP completed"_ba});
    // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH.
    addScript("B's EXPUNGE is not told during FETCH, but at NOOP", Stage::Selected,
              expungeByB + QByteArrayList{"C: a1 FETCH 1:* UID"_ba, "S: * 1 FETCH (UID 1)"_ba, "S: * 2 FETCH (UID 2)"_ba,
                                          "S: * 3 FETCH (UID 3)"_ba, "S: a1 OK FETCH completed"_ba, "C: a2 NOOP"_ba,
                                          "S: * 2 EXPUNGE"_ba, "S: a2 OK NOOP completed"_ba, "C: a3 FETCH 2 UID"_ba,
                                          "S: * 2 FETCH (UID 3)"_ba, "S: a3 OK FETCH completed"_ba});
    addScript("B's EXPUNGE is not told during STORE", Stage::Selected,
              expungeByB + QByteArrayList{"C: a1 STORE 3 +FLAGS (\\Answered)"_ba, fetchFlags(3, "\\Answered"),
                                          "S: a1 OK STORE completed"_ba, "C: a2 NOOP"_ba, "S: * 2 EXPUNGE"_ba,
                                          "S: a2 OK NOOP completed"_ba});
    addScript("B's EXPUNGE is not told during SEARCH", Stage::Selected,
              expungeByB + QByteArrayList{"C: a1 SEARCH ALL"_ba, "S: * SEARCH 1 2 3"_ba, "S: a1 OK SEARCH completed"_ba,
                                          "C: a2 CHECK"_ba, "S: * 2 EXPUNGE"_ba, "S: a2 OK CHECK completed"_ba,
                                          "C: a3 SEARCH ALL"_ba, "S: * SEARCH 1 2"_ba, "S: a3 OK SEARCH completed"_ba});
    // A UID command may be told (RFC 9051 §7.5.1: "MAY be sent during a UID command").
    addScript("B's EXPUNGE is told after UID FETCH", Stage::Selected,
              expungeByB + QByteArrayList{"C: a1 UID FETCH 1:* FLAGS"_ba, uidFetchFlags(1, 1, {}), uidFetchFlags(2, 2, {}),
                                          uidFetchFlags(3, 3, {}), "S: * 2 EXPUNGE"_ba,
                                          "S: a1 OK UID FETCH completed"_ba});
    addScript("B's EXPUNGE and a new message, then a FETCH by number", Stage::Selected,
              expungeByB + QByteArrayList{"X: deliver four"_ba, "C: a1 FETCH 3 UID"_ba, "S: * 3 FETCH (UID 3)"_ba,
                                          "S: * 4 EXISTS"_ba, "S: a1 OK FETCH completed"_ba, "C: a2 NOOP"_ba,
                                          "S: * 2 EXPUNGE"_ba, "S: a2 OK NOOP completed"_ba, "C: a3 FETCH 3 UID"_ba,
                                          "S: * 3 FETCH (UID 4)"_ba, "S: a3 OK FETCH completed"_ba});
    addScript("B's EXPUNGE with QRESYNC is VANISHED", Stage::LoggedIn,
              QByteArrayList{"C: e1 ENABLE QRESYNC"_ba, "S: * ENABLED QRESYNC CONDSTORE"_ba, "S: e1 OK ENABLE completed"_ba}
                  + selectSteps("s1") + expungeByB
                  + QByteArrayList{"C: a1 FETCH 1 UID"_ba, "S: * 1 FETCH (UID 1)"_ba, "S: a1 OK FETCH completed"_ba,
                                   "C: a2 NOOP"_ba, "S: * VANISHED 2"_ba, "S: a2 OK NOOP completed"_ba});
    // RFC 7162 §3.2.5.2: SELECT with QRESYNC tells what vanished since the client's modseq.
    addScript("SELECT (QRESYNC) after B's EXPUNGE", Stage::LoggedIn,
              expungeByB
                  + QByteArrayList{"C: e1 ENABLE QRESYNC"_ba, "S: * ENABLED QRESYNC CONDSTORE"_ba,
                                   "S: e1 OK ENABLE completed"_ba, "C: s1 SELECT INBOX (QRESYNC ({uidvalidity} {hm}))"_ba,
                                   "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"_ba,
                                   "S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted"_ba,
                                   "S: * 2 EXISTS"_ba, "S: * 0 RECENT"_ba, "S: * OK [UNSEEN 1] First unseen"_ba,
                                   "S: * OK [UIDVALIDITY {uidvalidity}] UIDs valid"_ba,
                                   "S: * OK [UIDNEXT 4] Predicted next UID"_ba, "S~ * OK [HIGHESTMODSEQ "_ba,
                                   "S: * VANISHED (EARLIER) 2"_ba, "S: s1 OK [READ-WRITE] SELECT completed"_ba});
    // RFC 9051 §7.1.5: the selected folder deleted elsewhere: BYE, and the
    // connection closes (nothing selected is left to speak of).
    const QByteArrayList selectWork{"C: a1 CREATE Work"_ba, "S: a1 OK CREATE completed"_ba, "C: s1 SELECT Work"_ba,
                                    "S~ * FLAGS "_ba, "S~ * OK [PERMANENTFLAGS "_ba, "S: * 0 EXISTS"_ba, "S: * 0 RECENT"_ba,
                                    "S~ * OK [UIDVALIDITY "_ba, "S: * OK [UIDNEXT 1] Predicted next UID"_ba,
                                    "S~ * OK [HIGHESTMODSEQ "_ba, "S: s1 OK [READ-WRITE] SELECT completed"_ba,
                                    "X: second session"_ba};
    addScript("the selected folder deleted by B", Stage::LoggedIn,
              selectWork + QByteArrayList{"B: b1 DELETE Work"_ba, "C: a2 NOOP"_ba,
                                          "S: * BYE The selected mailbox was deleted"_ba, "S: a2 OK NOOP completed"_ba},
              true);
    addScript("the selected folder deleted by B while idling", Stage::LoggedIn,
              selectWork + QByteArrayList{"C: i1 IDLE"_ba, "S: + idling"_ba, "B: b1 DELETE Work"_ba,
                                          "S: * BYE The selected mailbox was deleted"_ba},
              true);
    addScript("a delivery is told at the next command", Stage::Selected,
              {"X: deliver four"_ba, "C: a1 NOOP"_ba, "S: * 4 EXISTS"_ba, "S: a1 OK NOOP completed"_ba,
               "C: a2 FETCH 4 (UID FLAGS)"_ba, "S: * 4 FETCH (UID 4 FLAGS ())"_ba, "S: a2 OK FETCH completed"_ba});
}

// ---- IDLE ------------------------------------------------------------------------

void TestImapSession::idle_data()
{
    scriptColumns();
    // RFC 2177 / RFC 9051 §6.3.13.
    addScript("a delivery while idling is told at once", Stage::Selected,
              {"C: i1 IDLE"_ba, "S: + idling"_ba, "=: Idling"_ba, "X: deliver four"_ba, "S: * 4 EXISTS"_ba,
               "X: deliver five"_ba, "S: * 5 EXISTS"_ba, "C: DONE"_ba, "S: i1 OK IDLE terminated"_ba,
               "=: Authenticated"_ba});
    addScript("done in lower case", Stage::Selected, {"C: i1 IDLE"_ba, "S: + idling"_ba, "C: done"_ba,
                                                      "S: i1 OK IDLE terminated"_ba});
    addScript("IDLE and DONE in one read", Stage::Selected,
              {"C< i1 IDLE\r\nDONE\r\ni2 FETCH 1 UID\r\n"_ba, "S: + idling"_ba, "S: i1 OK IDLE terminated"_ba,
               "S: * 1 FETCH (UID 1)"_ba, "S: i2 OK FETCH completed"_ba});
    addScript("a line other than DONE", Stage::Selected,
              {"C: i1 IDLE"_ba, "S: + idling"_ba, "C: i2 NOOP"_ba, "S: i1 BAD IDLE ends with DONE"_ba, "C: i3 NOOP"_ba,
               "S: i3 OK NOOP completed"_ba});
    addScript("B's STORE and EXPUNGE while idling", Stage::Selected,
              {"X: second session"_ba, "C: i1 IDLE"_ba, "S: + idling"_ba, "B: b1 STORE 1 +FLAGS (\\Flagged)"_ba,
               uidFetchFlags(1, 1, "\\Flagged"), "B: b2 STORE 2 +FLAGS.SILENT (\\Deleted)"_ba,
               uidFetchFlags(2, 2, "\\Deleted"), "B: b3 EXPUNGE"_ba, "S: * 2 EXPUNGE"_ba, "C: DONE"_ba,
               "S: i1 OK IDLE terminated"_ba});
    addScript("what happened before IDLE is told at its start", Stage::Selected,
              {"X: second session"_ba, "B: b1 STORE 3 +FLAGS (\\Seen)"_ba, "C: i1 IDLE"_ba, "S: + idling"_ba,
               uidFetchFlags(3, 3, "\\Seen"), "C: DONE"_ba, "S: i1 OK IDLE terminated"_ba});
    addScript("IDLE without a mailbox selected", Stage::LoggedIn,
              {"C: i1 IDLE"_ba, "S: + idling"_ba, "X: deliver four"_ba, "C: DONE"_ba, "S: i1 OK IDLE terminated"_ba});
    addScript("IDLE with an argument", Stage::Selected, {"C: i1 IDLE now"_ba, "S: i1 BAD IDLE takes no arguments"_ba});
    addScript("the timeout ends IDLE", Stage::Selected,
              {"C: i1 IDLE"_ba, "S: + idling"_ba, "X: timeout"_ba, "S: * BYE Idle for too long"_ba}, true);
    addScript("a line too long in IDLE", Stage::Selected,
              {"C: i1 IDLE"_ba, "S: + idling"_ba, "C: "_ba + QByteArray(70 * 1024, 'x'), "S: * BYE Line too long"_ba},
              true);
    // After a NOOP or an EXPUNGE that found nothing new, IDLE still waits
    // for the client (it once asked for updates without end).
    addScript("IDLE after a NOOP that found nothing", Stage::Selected,
              {"C: n1 NOOP"_ba, "S: n1 OK NOOP completed"_ba, "C: i1 IDLE"_ba, "S: + idling"_ba, "X: deliver four"_ba,
               "S: * 4 EXISTS"_ba, "C: DONE"_ba, "S: i1 OK IDLE terminated"_ba});
    addScript("IDLE after an EXPUNGE that removed nothing", Stage::Selected,
              {"C: x1 EXPUNGE"_ba, "S: x1 OK EXPUNGE completed"_ba, "C: i1 IDLE"_ba, "S: + idling"_ba, "C: DONE"_ba,
               "S: i1 OK IDLE terminated"_ba});
}

// ---- APPEND ----------------------------------------------------------------------

void TestImapSession::append_data()
{
    scriptColumns();
    const QByteArray m4 = "From: alice@project.com\r\nSubject: appended\r\n\r\nfour\r\n"_ba;
    const QByteArray m5 = "Subject: five\r\n\r\n5\r\n"_ba;
    addScript("a synchronizing literal", Stage::LoggedIn,
              {"C: p1 APPEND INBOX {"_ba + n(m4.size()) + '}', "S: + Ready for literal data"_ba, "C< "_ba + m4 + "\r\n"_ba,
               "S: p1 OK [APPENDUID {uidvalidity} 4] APPEND completed"_ba, "F: 4 ()"_ba});
    addScript("LITERAL+, flags and a date", Stage::LoggedIn,
              {"C< p1 APPEND INBOX (\\Seen $Work) \"04-Mar-2027 05:06:07 +0100\" {"_ba + n(m4.size()) + "+}\r\n"_ba + m4
                   + "\r\n"_ba,
               "S: p1 OK [APPENDUID {uidvalidity} 4] APPEND completed"_ba, "F: 4 (\\Seen $Work)"_ba});
    addScript("into the selected mailbox: EXISTS first", Stage::Selected,
              {"C: p1 APPEND INBOX {"_ba + n(m4.size()) + '}', "S: + Ready for literal data"_ba, "C< "_ba + m4 + "\r\n"_ba,
               "S: * 4 EXISTS"_ba, "S: p1 OK [APPENDUID {uidvalidity} 4] APPEND completed"_ba, "C: p2 FETCH 4 RFC822.SIZE"_ba,
               "S: * 4 FETCH (RFC822.SIZE "_ba + n(m4.size()) + ")"_ba, "S: p2 OK FETCH completed"_ba});
    // RFC 3502: several messages in one command, uids in their order.
    addScript("MULTIAPPEND of two", Stage::LoggedIn,
              {"C: p1 APPEND INBOX {"_ba + n(m4.size()) + '}', "S: + Ready for literal data"_ba,
               "C< "_ba + m4 + " (\\Flagged) {"_ba + n(m5.size()) + "}\r\n"_ba, "S: + Ready for literal data"_ba,
               "C< "_ba + m5 + "\r\n"_ba, "S: p1 OK [APPENDUID {uidvalidity} 4:5] APPEND completed"_ba, "F: 4 ()"_ba,
               "F: 5 (\\Flagged)"_ba});
    addScript("MULTIAPPEND with LITERAL+", Stage::Selected,
              {"C< p1 APPEND INBOX {"_ba + n(m4.size()) + "+}\r\n"_ba + m4 + " {"_ba + n(m5.size()) + "+}\r\n"_ba + m5
                   + "\r\n"_ba,
               "S: * 5 EXISTS"_ba, "S: p1 OK [APPENDUID {uidvalidity} 4:5] APPEND completed"_ba});
    // RFC 7889: over APPENDLIMIT, refused before a byte of the message is read.
    addScript("over the limit: NO [TOOBIG] before the literal", Stage::LoggedIn,
              {"C: p1 APPEND INBOX {26214401}"_ba,
               "S: p1 NO [TOOBIG] The message is over the size limit (APPENDLIMIT=26214400)"_ba, "C: p2 NOOP"_ba,
               "S: p2 OK NOOP completed"_ba, "F: 4 gone"_ba});
    addScript("at the limit: invited", Stage::LoggedIn,
              {"C: p1 APPEND INBOX {26214400}"_ba, "S: + Ready for literal data"_ba});
    // RFC 7888 §4: a non-synchronizing literal over the limit is on its way: NO, then the connection closes.
    addScript("over the limit with LITERAL+: NO and BYE", Stage::LoggedIn,
              {"C< p1 APPEND INBOX {26214401+}\r\nSubject: x\r\n"_ba,
               "S: p1 NO [TOOBIG] The message is over the size limit (APPENDLIMIT=26214400)"_ba,
               "S: * BYE The rest of that command will not be read"_ba},
              true);
    addScript("to a mailbox that does not exist", Stage::LoggedIn,
              {"C< p1 APPEND Nowhere {"_ba + n(m5.size()) + "+}\r\n"_ba + m5 + "\r\n"_ba,
               "S: p1 NO [TRYCREATE] No such mailbox"_ba});
    addScript("an empty message", Stage::LoggedIn,
              {"C< p1 APPEND INBOX {0+}\r\n\r\n"_ba, "S: p1 NO [CANNOT] An empty message"_ba});
    addScript("to Drafts", Stage::LoggedIn,
              {"C< p1 APPEND Drafts (\\Draft) {"_ba + n(m5.size()) + "+}\r\n"_ba + m5 + "\r\n"_ba,
               "S~ p1 OK [APPENDUID "_ba});
}

// ---- hostile input -----------------------------------------------------------------

void TestImapSession::badInput_data()
{
    scriptColumns();
    const QByteArrayList goesOn{"C: z9 FETCH 1 UID"_ba, "S: * 1 FETCH (UID 1)"_ba, "S: z9 OK FETCH completed"_ba};
    // docs/protocol/imap.md §1: a line over 64 KiB is refused as it comes,
    // never kept; the next line is a new command.
    addScript("a line over 64 KiB", Stage::Selected,
              QByteArrayList{"C: z1 FETCH 1 (FLAGS "_ba + QByteArray(70 * 1024, 'x') + ')',
                             "S: * BAD Command line too long"_ba}
                  + goesOn);
    addScript("a line over 64 KiB before login", Stage::Tls,
              {"C: z1 LOGIN alice "_ba + QByteArray(70 * 1024, 'x'), "S: * BAD Command line too long"_ba,
               "C: z2 LOGIN alice alice-password"_ba, loggedIn("z2")});
    addScript("10,000 nested parentheses in SEARCH", Stage::Selected,
              QByteArrayList{"C: z1 SEARCH "_ba + QByteArray(10000, '(') + "ALL"_ba + QByteArray(10000, ')'),
                             "S~ z1 BAD "_ba}
                  + goesOn);
    addScript("64 nested parentheses in SEARCH are fine", Stage::Selected,
              QByteArrayList{"C: z1 SEARCH "_ba + QByteArray(60, '(') + "SUBJECT two"_ba + QByteArray(60, ')'),
                             "S: * SEARCH 2"_ba, "S: z1 OK SEARCH completed"_ba});
    addScript("10,000 NOTs in SEARCH", Stage::Selected,
              QByteArrayList{"C: z1 SEARCH "_ba + repeated("NOT "_ba, 10000) + "ALL"_ba, "S~ z1 BAD "_ba} + goesOn);
    // 50,000 ranges are 200 KB: over the line limit.
    addScript("a sequence set of 50,000 1:* ranges", Stage::Selected,
              QByteArrayList{"C: z1 FETCH "_ba + repeated("1:*"_ba, 50000, ","_ba) + " UID"_ba,
                             "S: * BAD Command line too long"_ba}
                  + goesOn);
    // As many as fit a line: one range after merging, each message once.
    addScript("a sequence set of 16,000 1:* ranges", Stage::Selected,
              QByteArrayList{"C: z1 FETCH "_ba + repeated("1:*"_ba, 16000, ","_ba) + " UID"_ba, "S: * 1 FETCH (UID 1)"_ba,
                             "S: * 2 FETCH (UID 2)"_ba, "S: * 3 FETCH (UID 3)"_ba, "S: z1 OK FETCH completed"_ba});
    addScript("16,000 ranges in UID STORE", Stage::Selected,
              QByteArrayList{"C: z1 UID STORE "_ba + repeated("2:4294967295"_ba, 5000, ","_ba) + " +FLAGS.SILENT (\\Seen)"_ba,
                             "S: z1 OK UID STORE completed"_ba, "F: 1 ()"_ba, "F: 2 (\\Seen)"_ba, "F: 3 (\\Seen)"_ba});
    addScript("UIDs past 2^32", Stage::Selected,
              QByteArrayList{"C: z1 UID FETCH 4294967296 UID"_ba, "S~ z1 BAD "_ba, "C: z2 UID FETCH 1:4294967296 UID"_ba,
                             "S~ z2 BAD "_ba, "C: z3 UID STORE 99999999999999999999 +FLAGS (\\Seen)"_ba, "S~ z3 BAD "_ba,
                             "C: z4 FETCH 0 UID"_ba, "S~ z4 BAD "_ba, "C: z5 UID FETCH 4294967295 UID"_ba,
                             "S: z5 OK UID FETCH completed"_ba, "F: 1 ()"_ba}
                  + goesOn);
    addScript("invalid modified UTF-7 in SELECT", Stage::Selected,
              {"C: z1 SELECT &Jjo"_ba, "S: z1 NO [CANNOT] The mailbox name is not valid modified UTF-7"_ba,
               "C: z2 SELECT \"Caf\xc3\xa9\""_ba, "S: z2 NO [CANNOT] The mailbox name is not valid modified UTF-7"_ba,
               "C: z3 SELECT &AGE-"_ba, "S: z3 NO [CANNOT] The mailbox name is not valid modified UTF-7"_ba,
               "C: z4 FETCH 1 UID"_ba, "S: z4 BAD No mailbox selected"_ba});
    addScript("not UTF-8 in SELECT after IMAP4rev2", Stage::LoggedIn,
              {"C: e1 ENABLE IMAP4rev2"_ba, "S: * ENABLED IMAP4REV2"_ba, "S: e1 OK ENABLE completed"_ba,
               "C: z1 SELECT \"Caf\xe9\""_ba, "S: z1 NO [CANNOT] The mailbox name is not UTF-8"_ba});
    addScript("an unknown command", Stage::Selected,
              QByteArrayList{"C: z1 FROBNICATE"_ba, "S: z1 BAD Unknown command"_ba, "C: z2 UID FROBNICATE 1"_ba,
                             "S: z2 BAD Unknown command"_ba}
                  + goesOn);
    addScript("an unknown command before login", Stage::Greeted,
              {"C: z1 FROBNICATE"_ba, "S: z1 BAD Unknown command"_ba, "C: z2 NOOP"_ba, "S: z2 OK NOOP completed"_ba});
    addScript("garbage bytes", Stage::Selected,
              QByteArrayList{"C< \x00\xff\x80\x01garbage\r\n"_ba, "S: * BAD Not a command: no valid tag"_ba,
                             "C< \r\n"_ba, "S: * BAD Not a command: no valid tag"_ba, "C: z1"_ba,
                             "S: z1 BAD No command after the tag"_ba, "C: z2 FETCH 1 (\x01\x02)"_ba, "S~ z2 BAD "_ba,
                             "C< z3 NOOP\0\r\n"_ba, "S~ z3 BAD "_ba}
                  + goesOn);
    // A BAD's text says where the arguments went wrong, but it is resp-text:
    // what it quotes of the command must not carry the command's CR, NUL or
    // 8-bit bytes into the response (RFC 9051 §9, text and TEXT-CHAR).
    addScript("a BAD quotes no control or 8-bit byte", Stage::Selected,
                QByteArrayList{"C< z1 FETCH 1 (\r* 1 EXISTS \x00\xff)\r\n"_ba, "T: z1 BAD"_ba} + goesOn);
    addScript("a literal marker that is not a number", Stage::Selected,
              QByteArrayList{"C: z1 SEARCH SUBJECT {x}"_ba, "S: z1 BAD Literal marker not understood"_ba,
                             "C: z2 SEARCH SUBJECT {99999999999999999999}"_ba, "S: z2 BAD Literal marker not understood"_ba}
                  + goesOn);
    addScript("a literal over 64 KiB outside APPEND", Stage::Selected,
              QByteArrayList{"C: z1 SEARCH SUBJECT {65537}"_ba, "S: z1 BAD Literal too large"_ba} + goesOn);
    // RFC 9051 §7.1.3 (BAD) and the limit of docs/protocol/imap.md: 20 BAD
    // replies, and the server gives up on the client.
    QByteArrayList twenty;
    for (int i = 1; i <= 20; ++i)
        twenty << "C: z"_ba + n(i) + " FROBNICATE"_ba << "S: z"_ba + n(i) + " BAD Unknown command"_ba;
    addScript("twenty BADs close the connection", Stage::Selected,
              twenty + QByteArrayList{"S: * BYE Too many errors"_ba, "=: Closed"_ba}, true);
}

// One FETCH of one message with its BODY[] named 2,000 times (14 KB of
// command line): each step of the answer must stay within what a step may
// write (ImapMailbox::Settings::maxStepOutput, 1 MiB, and a message more),
// or a client could make the server build gigabytes in memory with a
// message of 25 MiB and the 9,000 items a 64 KiB line holds.
void TestImapSession::fetchOutputIsBounded()
{
    Driver d(implicitTls());
    d.start();
    QString error = SessionKit::run(d, stageScript(implicitTls(), Stage::Greeted), SessionKit::Feed{});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    d.feed("l1 LOGIN carol carol-password\r\n"_ba);
    QVERIFY2(!d.reader.lines.isEmpty() && d.reader.lines.last().startsWith("l1 OK"), qPrintable(d.reader.unread()));
    d.reader.lines.clear();
    d.feed("b1 EXAMINE Bulk\r\n"_ba);
    QVERIFY2(!d.reader.lines.isEmpty() && d.reader.lines.last().startsWith("b1 OK"), qPrintable(d.reader.unread()));
    d.reader.lines.clear();
    d.largestAnswer = 0;

    d.feed("f1 FETCH 1 ("_ba + repeated("BODY.PEEK[]"_ba, 2000, " "_ba) + ")\r\n"_ba);
    QVERIFY2(d.fault().isEmpty(), qPrintable(d.fault()));
    QVERIFY(!d.reader.lines.isEmpty());
    QVERIFY2(d.reader.lines.last().startsWith("f1 "), d.reader.lines.last().left(200).constData());
    QVERIFY2(d.largestAnswer <= 2 * 1024 * 1024,
             qPrintable(u"%1 bytes of output in one step of a 14 KB command"_s.arg(d.largestAnswer)));
}

QTEST_GUILESS_MAIN(TestImapSession)

#include "tst_imapsession.moc"
