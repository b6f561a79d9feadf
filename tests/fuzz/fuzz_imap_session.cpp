// ImapSession fed whole conversations, as the connection would serve it:
// STARTTLS handshakes succeed at once; logins are answered as byte 0 says;
// mailbox commands and IDLE's updates are run by a real ImapMailbox on a
// SQLite store in a temporary directory (opened once per process: alice's
// INBOX with three messages), or answered by a fake that says OK to every
// command, as byte 0 says. After every request the account's modseq is read
// and, when it moved, the session hears of it (accountChanged), as from the
// backend's change watcher.
//
// Checked: the session settles after every read (it waits for the client
// again); the output is whole responses, CRLF-terminated lines, literals
// only in untagged responses and within the output; each line is an
// untagged "* ", a continuation "+ " or a tagged OK, NO or BAD whose tag
// began a line the client sent, no more often than it did (every tagged
// completion ends a command that was sent); each step's output is within
// what one step may write (ImapMailbox's maxStepOutput and a batch of
// messages a few times over); no login is asked for before TLS and no
// mailbox command before a login; the timeout at the end closes the session.
//
// Also checked: lines hold no bare CR or NUL outside literals (a BAD
// quotes the command, cleaned), and a session in IDLE settles (it once
// asked for updates without end after a NOOP that found nothing).
//
// The store is shared by the inputs of a run, so what one input changed
// (flags, appended messages, folders) the next may see; it is made anew
// from its first state when it has grown (more than 20 messages in the
// INBOX or 10 folders), and a crash reproduces from its input alone as a
// rule: a fresh process starts from that first state.
//
// Input: byte 0 options (0x01 implicit TLS; bits 1-2 the login answer,
// ImapLoginOutcome in order; 0x08 the fake instead of ImapMailbox), byte 1
// how the rest is cut into reads (SessionKit::Reads::fromByte), then the bytes.

#include "fuzzsupport.h"
#include "imapmailbox.h"
#include "imapsession.h"
#include "mimemessage.h"
#include "sessionkit.h"
#include "store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QTemporaryDir>

#include <memory>
#include <utility>

using FuzzSupport::check;
using FuzzSupport::fail;

namespace {

// Small, so that inputs reach it (APPEND's TOOBIG) and the store stays small.
constexpr qint64 AppendLimit = 4096;
// What one step of a FETCH may write (ImapMailbox::Settings::maxStepOutput),
// and a batch of 50 messages, each a few times over, past it.
constexpr qsizetype MaxStepOutput = 1024 * 1024;
constexpr qsizetype MaxChunk = MaxStepOutput + 50 * 8 * (AppendLimit + 1024) + 64 * 1024;

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

// The store of the run: made once, and made anew from its first state
// (a copy of the file) when the inputs have made it grow.
class FuzzStore
{
public:
    FuzzStore()
        : m_dir(directoryTemplate())
    {
        check(m_dir.isValid(), "no temporary directory");
        m_firstState = QDir(m_dir.path()).filePath(QStringLiteral("first.db"));
        m_path = QDir(m_dir.path()).filePath(QStringLiteral("mailroom.db"));
        {
            Store store;
            check(store.open(m_firstState, Store::OpenMode::CreateIfMissing), "cannot make the store",
                  store.lastErrorText().toUtf8());
            const std::optional<Account> alice = store.createAccount(QStringLiteral("alice"), QStringLiteral("x"));
            check(alice.has_value(), "cannot make the account", store.lastErrorText().toUtf8());
            aliceId = alice->id;
            const QByteArray messages[] = {
                "From: Bob <bob@project.com>\r\nTo: alice@project.com\r\nSubject: one\r\n\r\nHello.\r\n",
                "Subject: two\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
                "part\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                "AAEC\r\n--b--\r\n",
                "Subject: three\r\n\r\n.\r\n",
            };
            for (const QByteArray &raw : messages)
                check(store.deliver(newMessage(raw, aliceId)).has_value(), "cannot deliver", store.lastErrorText().toUtf8());
            const std::optional<MailFolder> inbox = store.roleFolder(aliceId, FolderRole::Inbox);
            check(inbox.has_value(), "no INBOX");
            m_inboxId = inbox->id;
        }
        reopen();
    }

    // Before each input: the first state again when the store has grown.
    void keepSmall()
    {
        const std::optional<QList<MailFolder>> folders = store->folders(aliceId);
        const std::optional<MailFolder> inbox = store->folder(aliceId, m_inboxId);
        if (folders && inbox && folders->size() <= 10 && inbox->total <= 20)
            return;
        reopen();
    }

    qint64 aliceId = 0;
    std::unique_ptr<Store> store;
    std::unique_ptr<ImapMailbox> mailbox;

private:
    // Every commit is flushed to disk (synchronous=FULL): on a memory file
    // system, where there is one, that costs nothing, and the fuzzer runs
    // several times faster.
    static QString directoryTemplate()
    {
        const QString memory = QStringLiteral("/dev/shm");
        const bool inMemory = QFileInfo(memory).isDir() && QFileInfo(memory).isWritable();
        return (inMemory ? memory : QDir::tempPath()) + QStringLiteral("/fuzz_imap_session-XXXXXX");
    }

    void reopen()
    {
        mailbox.reset();
        store.reset();
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")})
            QFile::remove(m_path + suffix);
        check(QFile::copy(m_firstState, m_path), "cannot copy the store");
        store = std::make_unique<Store>();
        check(store->open(m_path, Store::OpenMode::MustExist), "cannot open the store", store->lastErrorText().toUtf8());
        ImapMailbox::Settings settings;
        settings.appendLimit = AppendLimit;
        settings.maxStepOutput = MaxStepOutput;
        mailbox = std::make_unique<ImapMailbox>(store.get(), settings);
    }

    QTemporaryDir m_dir;
    QString m_firstState;
    QString m_path;
    qint64 m_inboxId = 0;
};

FuzzStore &fuzzStore()
{
    static FuzzStore store;
    return store;
}

// The tags the client began lines with, as many times as it did: what a
// tagged completion may name. A literal's lines count too (an over-count
// lets nothing wrong through that a count of commands would catch less
// often: a completion with a tag never sent is still caught).
class SentTags
{
public:
    void add(QByteArrayView bytes)
    {
        for (const char c : bytes) {
            if (m_atLineStart) {
                if (c == ' ' || c == '\r' || c == '\n') {
                    if (!m_token.isEmpty())
                        ++m_sent[m_token];
                    m_token.clear();
                    m_atLineStart = c == '\n';
                } else {
                    m_token += c;
                }
            } else if (c == '\n') {
                m_atLineStart = true;
            }
        }
    }
    // A tagged completion: one more than the client sent is a fault.
    void complete(const QByteArray &tag, const QByteArray &line)
    {
        check(++m_completed[tag] <= m_sent.value(tag), "a tagged completion for a command not sent", line);
    }

private:
    QHash<QByteArray, int> m_sent;
    QHash<QByteArray, int> m_completed;
    QByteArray m_token;
    bool m_atLineStart = true;
};

// The size of the literal a response line ends with ("{N}" or "~{N}"), or -1.
qsizetype literalAtEnd(QByteArrayView line)
{
    if (!line.endsWith('}'))
        return -1;
    const qsizetype open = line.lastIndexOf('{');
    if (open < 0 || open + 2 > line.size() - 1)
        return -1;
    bool ok = false;
    const qsizetype size = line.sliced(open + 1, line.size() - open - 2).toByteArray().toLongLong(&ok);
    return ok && size >= 0 ? size : -1;
}

// The output of one step: whole responses, each a line (an untagged one
// with the literals it holds) of a known kind.
void checkOutput(const QByteArray &output, SentTags &tags)
{
    check(output.size() <= MaxChunk, "more output in one step than a step may write",
          QByteArray::number(output.size()) + " bytes: " + output.left(200));
    qsizetype pos = 0;
    while (pos < output.size()) {
        const qsizetype start = pos;
        const bool untagged = output.sliced(pos).startsWith("* ");
        QByteArray first;
        for (;;) {
            const qsizetype lf = output.indexOf('\n', pos);
            check(lf >= 0, "output that does not end a line", output.sliced(pos).left(200));
            check(lf > pos && output.at(lf - 1) == '\r', "a line ending in LF without CR", output.mid(start, lf + 1 - start));
            const QByteArrayView segment = QByteArrayView(output).sliced(pos, lf - 1 - pos);
            // A bare CR or a NUL outside a literal could end the line early
            // or forge another (RFC 9051 §9: TEXT-CHAR has neither).
            check(!segment.contains('\r') && !segment.contains('\0'), "a bare CR or NUL in a response line",
                  segment.toByteArray().left(200));
            if (first.isNull())
                first = segment.toByteArray();
            pos = lf + 1;
            const qsizetype literal = untagged ? literalAtEnd(segment) : -1;
            if (literal < 0)
                break;
            check(literal <= output.size() - pos, "a literal longer than the output", output.mid(start, 200));
            pos += literal;
        }
        if (untagged)
            continue;
        if (first.startsWith("+ ") || first == "+")
            continue;
        const qsizetype space = first.indexOf(' ');
        check(space > 0, "a line neither untagged, continuation nor tagged", first);
        const QByteArray tag = first.left(space);
        const QByteArray rest = first.mid(space + 1);
        check(rest.startsWith("OK ") || rest.startsWith("NO ") || rest.startsWith("BAD "),
              "a tagged line without OK, NO or BAD", first);
        tags.complete(tag, first);
    }
}

// The connection's side after each read (SessionKit::settle()): write,
// upgrade, serve as byte 0 says, resume.
class Connection : public SessionKit::Host
{
public:
    Connection(ImapSession &session, bool implicitTls, std::uint8_t options)
        : tlsDone(implicitTls)
        , m_session(session)
        , m_loginAnswer(static_cast<ImapLoginOutcome>((options >> 1) & 0x03))
        , m_fake(options & 0x08)
    {
        if (!m_fake) {
            const std::optional<qint64> modseq = fuzzStore().store->accountModseq(fuzzStore().aliceId);
            m_notified = modseq.value_or(0);
        }
    }

    void collect() override
    {
        const QByteArray chunk = m_session.takeOutput();
        checkOutput(chunk, tags);
        written += chunk;
    }
    bool closeRequested() const override { return m_session.closeRequested(); }
    bool startTlsRequested() const override { return m_session.startTlsRequested(); }
    void establishTls() override
    {
        check(!tlsDone, "STARTTLS granted inside TLS");
        m_session.tlsEstablished();
        tlsDone = true;
    }
    bool waiting() const override { return m_session.state() == ImapSession::State::Waiting; }
    void answer() override
    {
        std::optional<ImapRequest> request = m_session.takeRequest();
        check(request.has_value(), "waiting without a request");
        if (std::holds_alternative<ImapLoginRequest>(*request)) {
            check(tlsDone, "login asked for before TLS");
            loggedIn = m_loginAnswer == ImapLoginOutcome::Accepted;
            m_session.loginFinished(m_loginAnswer, loggedIn ? fuzzStore().aliceId : 0,
                                    loggedIn ? QStringLiteral("alice") : QString());
            return;
        }
        check(loggedIn, "a mailbox request before login");
        if (const auto *command = std::get_if<ImapMailboxRequest>(&*request)) {
            m_session.mailboxFinished(m_fake ? QByteArray(command->command.tag + " OK done\r\n")
                                             : fuzzStore().mailbox->execute(*command->state, command->command));
        } else {
            const auto &update = std::get<ImapUpdateRequest>(*request);
            m_session.mailboxFinished(m_fake ? QByteArray() : fuzzStore().mailbox->update(*update.state));
        }
        if (m_fake)
            return;
        // As the backend's change watcher would tell the session.
        const std::optional<qint64> modseq = fuzzStore().store->accountModseq(fuzzStore().aliceId);
        if (modseq && *modseq > m_notified) {
            m_notified = *modseq;
            m_session.accountChanged(*modseq);
        }
    }
    bool isHoldingInput() const override { return m_session.isHoldingInput(); }
    void resume() override { m_session.resume(); }
    void idle() override { check(!m_session.takeRequest().has_value(), "a request while not waiting"); }

    bool tlsDone = false;
    bool loggedIn = false;
    QByteArray written;
    SentTags tags;

private:
    ImapSession &m_session;
    ImapLoginOutcome m_loginAnswer;
    bool m_fake = false;
    qint64 m_notified = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::uint8_t options = data[0];
    if (!(options & 0x08))
        fuzzStore().keepSmall();
    ImapSessionSettings settings;
    settings.implicitTls = options & 0x01;
    settings.appendLimit = AppendLimit;

    ImapSession session(settings, QStringLiteral("192.0.2.7"));
    Connection connection(session, settings.implicitTls, options);

    session.start();
    if (SessionKit::settle(connection) != SessionKit::Settled::Idle)
        fail("the greeting does not settle");
    check(connection.written.startsWith("* OK [CAPABILITY "), "no greeting", connection.written);
    SessionKit::Reads reads = SessionKit::Reads::fromByte(QByteArrayView(data + 2, qsizetype(size - 2)), data[1]);
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        if (session.closeRequested())
            break;
        // After STARTTLS's OK the connection reads nothing in clear: the
        // handshake comes first (settle() did it), so these bytes come over TLS.
        connection.tags.add(*piece);
        session.receive(*piece);
        if (SessionKit::settle(connection) == SessionKit::Settled::Never)
            fail("the session never settles", QByteArray::number(int(session.state())));
    }
    session.timedOut();
    connection.collect();
    check(session.closeRequested(), "still open after the timeout");
    return 0;
}
