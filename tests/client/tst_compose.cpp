// ComposeController against real mailroom-smtpd and mailroom-webd code
// (ClientTestServers) over real TLS on 127.0.0.1: Cc, Bcc and attachments
// checked in the bytes that arrive (the API's listing, message, attachment
// downloads, and each copy's stored raw bytes), the server's SIZE, a file
// that cannot be read, reply to all and forward, the properties' NOTIFY
// signals and `modified`, and the attachment work kept off the GUI thread.

#include "apiclient.h"
#include "clienttestservers.h"
#include "composecontroller.h"
#include "session.h"
#include "smtpclient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QMimeDatabase>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QThreadPool>
#include <QTimer>

#include <atomic>
#include <memory>

using namespace Qt::StringLiterals;

namespace {

constexpr int WaitMs = 30000;
const QString Password = u"compose-secret-1"_s;
const QStringList Accounts{u"alice"_s, u"bob"_s, u"carol"_s, u"dave"_s, u"erin"_s};

QString address(const QString &name)
{
    return name + u"@project.com"_s;
}

QStringList addressList(const QJsonArray &array)
{
    QStringList out;
    for (const QJsonValue &value : array)
        out.append(value[u"address"].toString());
    return out;
}

QString header(const QJsonValue &message, QStringView name)
{
    for (const QJsonValue &pair : message[u"headers"].toArray()) {
        if (pair[0].toString().compare(name, Qt::CaseInsensitive) == 0)
            return pair[1].toString();
    }
    return {};
}

bool hasHeader(const QJsonValue &message, QStringView name)
{
    const QJsonArray headers = message[u"headers"].toArray();
    return std::any_of(headers.begin(), headers.end(), [name](const QJsonValue &pair) {
        return pair[0].toString().compare(name, Qt::CaseInsensitive) == 0;
    });
}

// The header section's field names of raw message bytes, lower case.
QList<QByteArray> rawHeaderNames(const QByteArray &raw)
{
    QList<QByteArray> names;
    const qsizetype end = raw.indexOf("\r\n\r\n");
    for (const QByteArray &line : raw.left(end).split('\n')) {
        if (line.isEmpty() || line.startsWith(' ') || line.startsWith('\t'))
            continue;
        names.append(line.left(line.indexOf(':')).trimmed().toLower());
    }
    return names;
}

QByteArray everyByteValue(int rounds)
{
    QByteArray bytes;
    for (int round = 0; round < rounds; ++round) {
        for (int byte = 0; byte < 256; ++byte)
            bytes.append(char(byte));
    }
    return bytes;
}

// Releases a blocked file-read hook whatever happens to the test.
struct HookGuard
{
    QSemaphore *gate = nullptr;
    ~HookGuard()
    {
        ComposeController::setFileReadHook({});
        if (gate)
            gate->release(100);
    }
};

} // namespace

class TestCompose : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void ccBccAndAttachmentsArrive();
    void overTheServersSize();
    void unreadableAttachmentSendsNothing_data();
    void unreadableAttachmentSendsNothing();
    void addAttachmentRefusals_data();
    void addAttachmentRefusals();
    void replyAllAddresses_data();
    void replyAllAddresses();
    void replyAllAndForwardHeaders();
    void forwardSubjectNotDoubled_data();
    void forwardSubjectNotDoubled();
    void propertiesNotifyAndModified();
    void recipientRules();
    void largeAttachmentOffTheGuiThread();
    void staleResultIsDropped();
    void logOutWhileSending_data();
    void logOutWhileSending();

private:
    bool startServers(const Limits &limits = {});
    Session *session(const QString &name);
    bool sendNow(ComposeController &compose, QString *error = nullptr);
    // The account's folder listing, newest first.
    QJsonArray listing(const QString &name, const QString &folder);
    QJsonValue message(const QString &name, qint64 id);
    QByteArray attachment(const QString &name, qint64 id, int index);
    QByteArray raw(const QString &name, qint64 id);
    // Sends bytes as `from` to the envelope recipients, as another client would.
    bool deliver(const QString &from, const QStringList &recipients, const QByteArray &message);
    QString file(const QString &name, const QByteArray &content);

    std::unique_ptr<ClientTestServers> m_servers;
    std::unique_ptr<QTemporaryDir> m_files;
    std::map<QString, std::unique_ptr<Session>> m_sessions;
};

void TestCompose::init()
{
    m_files = std::make_unique<QTemporaryDir>();
    QVERIFY(m_files->isValid());
    QVERIFY(startServers());
}

void TestCompose::cleanup()
{
    m_sessions.clear();
    m_servers.reset();
    m_files.reset();
}

bool TestCompose::startServers(const Limits &limits)
{
    m_sessions.clear();
    m_servers.reset();
    m_servers = std::make_unique<ClientTestServers>();
    m_servers->setLimits(limits);
    if (!m_servers->isValid() || !m_servers->start())
        return false;
    for (const QString &name : Accounts) {
        if (!m_servers->createAccount(name, Password))
            return false;
    }
    return m_servers->pinCertificate(m_servers->path(u"pins.ini"_s));
}

Session *TestCompose::session(const QString &name)
{
    if (const auto found = m_sessions.find(name); found != m_sessions.end())
        return found->second.get();
    ClientSettings settings;
    settings.smtp = m_servers->smtp();
    settings.web = m_servers->web();
    settings.pinFile = m_servers->path(u"pins.ini"_s);
    settings.timeoutMs = WaitMs;
    auto session = std::make_unique<Session>(settings);
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    QSignalSpy failed(session.get(), &Session::loginFailed);
    session->login(name, Password);
    if (!QTest::qWaitFor([&] { return !loggedIn.isEmpty() || !failed.isEmpty(); }, WaitMs) || loggedIn.isEmpty()) {
        qWarning() << "login failed:" << (failed.isEmpty() ? QVariant() : failed.first().first());
        return nullptr;
    }
    Session *raw = session.get();
    m_sessions.emplace(name, std::move(session));
    return raw;
}

bool TestCompose::sendNow(ComposeController &compose, QString *error)
{
    QSignalSpy sent(&compose, &ComposeController::sent);
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    compose.send();
    if (!QTest::qWaitFor([&] { return !sent.isEmpty() || !failed.isEmpty(); }, WaitMs)) {
        qWarning() << "send timed out";
        return false;
    }
    if (!failed.isEmpty() && error)
        *error = failed.first().first().toString();
    return !sent.isEmpty();
}

QJsonArray TestCompose::listing(const QString &name, const QString &folder)
{
    Session *owner = session(name);
    if (!owner)
        return {};
    ApiCall *call = owner->api()->listMessages(folder, 50);
    QSignalSpy succeeded(call, &ApiCall::succeeded);
    QSignalSpy failed(call, &ApiCall::failed);
    if (!QTest::qWaitFor([&] { return !succeeded.isEmpty() || !failed.isEmpty(); }, WaitMs) || succeeded.isEmpty())
        return {};
    return succeeded.first().first().toJsonValue()[u"messages"].toArray();
}

QJsonValue TestCompose::message(const QString &name, qint64 id)
{
    ApiCall *call = session(name)->api()->message(id);
    QSignalSpy succeeded(call, &ApiCall::succeeded);
    QSignalSpy failed(call, &ApiCall::failed);
    if (!QTest::qWaitFor([&] { return !succeeded.isEmpty() || !failed.isEmpty(); }, WaitMs) || succeeded.isEmpty())
        return {};
    return succeeded.first().first().toJsonValue();
}

QByteArray TestCompose::attachment(const QString &name, qint64 id, int index)
{
    ApiCall *call = session(name)->api()->attachment(id, index);
    QSignalSpy downloaded(call, &ApiCall::downloaded);
    QSignalSpy failed(call, &ApiCall::failed);
    if (!QTest::qWaitFor([&] { return !downloaded.isEmpty() || !failed.isEmpty(); }, WaitMs) || downloaded.isEmpty())
        return "<download failed>";
    return downloaded.first().first().toByteArray();
}

QByteArray TestCompose::raw(const QString &name, qint64 id)
{
    Store store;
    if (!store.open(m_servers->config().database.sqlitePath, Store::OpenMode::MustExist))
        return {};
    const auto account = store.findAccount(name);
    return account ? store.rawMessage(account->id, id).value_or(QByteArray()) : QByteArray();
}

bool TestCompose::deliver(const QString &from, const QStringList &recipients, const QByteArray &message)
{
    ServerTrust trust(m_servers->path(u"pins.ini"_s));
    SmtpClient smtp(m_servers->smtp(), &trust);
    SmtpJob *job = smtp.send({from, Password}, address(from), recipients, message);
    QSignalSpy succeeded(job, &SmtpJob::succeeded);
    QSignalSpy failed(job, &SmtpJob::failed);
    if (!QTest::qWaitFor([&] { return !succeeded.isEmpty() || !failed.isEmpty(); }, WaitMs))
        return false;
    if (!failed.isEmpty())
        qWarning().noquote() << "delivery failed:" << failed.first().first().value<ClientError>().toString();
    return !succeeded.isEmpty();
}

QString TestCompose::file(const QString &name, const QByteArray &content)
{
    const QString path = m_files->filePath(name);
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(content) != content.size())
        return {};
    return path;
}

// (a) To, Cc and Bcc each get the message with three attachments (ASCII
// name, non-ASCII name with every byte value, empty), byte-identical with
// their names and QMimeDatabase's types; no copy, the sender's Sent copy
// included, has a Bcc header or the Bcc address anywhere in its bytes.
void TestCompose::ccBccAndAttachmentsArrive()
{
    struct Expected
    {
        QString name;
        QByteArray data;
        QString type;
    };
    QList<Expected> files{
        {u"notes.txt"_s, "Meeting notes\nline two\r\n.\r\nend"_ba, {}},
        {u"Gr\u00f6\u00dfe \u2013 \u5831\u544a.bin"_s, everyByteValue(40), {}},
        {u"empty.dat"_s, QByteArray(), {}},
    };
    QList<QUrl> urls;
    const QMimeDatabase types;
    for (Expected &expected : files) {
        const QString path = file(expected.name, expected.data);
        QVERIFY(!path.isEmpty());
        expected.type = types.mimeTypeForFile(path, QMimeDatabase::MatchExtension).name();
        urls.append(QUrl::fromLocalFile(path));
    }
    QCOMPARE(files.at(0).type, u"text/plain"_s);
    QCOMPARE(files.at(1).type, u"application/octet-stream"_s);

    Session *alice = session(u"alice"_s);
    QVERIFY(alice);
    ComposeController compose;
    compose.setSession(alice);
    compose.setTo(u"Bob <bob@project.com>"_s);
    compose.setCc(u"carol"_s);
    compose.setBcc(u"dave@project.com"_s);
    compose.setSubject(u"Files for the meeting"_s);
    compose.setBody(u"Here they are.\n\u00e9t\u00e9"_s);
    QVERIFY(compose.addAttachments(urls));
    const QVariantList listed = compose.attachments();
    QCOMPARE(listed.size(), 3);
    for (qsizetype i = 0; i < files.size(); ++i) {
        const QVariantMap entry = listed.at(i).toMap();
        QCOMPARE(entry.value(u"name"_s).toString(), files.at(i).name);
        QCOMPARE(entry.value(u"size"_s).toLongLong(), qint64(files.at(i).data.size()));
        QCOMPARE(entry.value(u"contentType"_s).toString(), files.at(i).type);
        QCOMPARE(entry.value(u"url"_s).toString(), urls.at(i).toString());
    }
    QCOMPARE(listed.at(1).toMap().value(u"sizeText"_s).toString(), u"10 KB"_s);
    QCOMPARE(compose.attachmentsSize(), qint64(10240 + files.at(0).data.size()));
    QCOMPARE(compose.recipients(), (QStringList{address(u"bob"_s), address(u"carol"_s), address(u"dave"_s)}));
    QVERIFY(compose.canSend());

    QSignalSpy progress(&compose, &ComposeController::progressChanged);
    QVERIFY(sendNow(compose));
    QCOMPARE(compose.resultText(), u"Message sent to 3 recipients."_s);
    QCOMPARE(compose.progress(), 1.0);
    QVERIFY(!progress.isEmpty());
    QVERIFY(!compose.isModified());

    const QByteArray dave = address(u"dave"_s).toUtf8();
    for (const QString &name : {u"bob"_s, u"carol"_s, u"dave"_s, u"alice"_s}) {
        const QString folder = name == u"alice" ? u"sent"_s : u"inbox"_s;
        const QJsonArray messages = listing(name, folder);
        QCOMPARE(messages.size(), 1);
        const qint64 id = messages.first()[u"id"].toInteger();
        const QJsonValue summary = message(name, id);
        QCOMPARE(summary[u"subject"].toString(), u"Files for the meeting"_s);
        QCOMPARE(addressList(summary[u"to"].toArray()), QStringList{address(u"bob"_s)});
        QCOMPARE(addressList(summary[u"cc"].toArray()), QStringList{address(u"carol"_s)});
        QCOMPARE(summary[u"text"].toString(), u"Here they are.\n\u00e9t\u00e9"_s);
        QVERIFY2(!hasHeader(summary, u"Bcc"), qPrintable(name));
        const QJsonArray attachments = summary[u"attachments"].toArray();
        QCOMPARE(attachments.size(), files.size());
        for (qsizetype i = 0; i < files.size(); ++i) {
            QCOMPARE(attachments.at(i)[u"filename"].toString(), files.at(i).name);
            QCOMPARE(attachments.at(i)[u"contentType"].toString(), files.at(i).type);
            QCOMPARE(attachments.at(i)[u"size"].toInteger(), qint64(files.at(i).data.size()));
            QCOMPARE(attachment(name, id, attachments.at(i)[u"index"].toInt()), files.at(i).data);
        }
        const QByteArray bytes = raw(name, id);
        QVERIFY(bytes.contains("multipart/mixed"));
        QVERIFY2(!rawHeaderNames(bytes).contains("bcc"), qPrintable(name));
        QVERIFY2(!bytes.contains(dave), qPrintable(name + u": the Bcc address is in the bytes"_s));
        QVERIFY2(!bytes.toLower().contains("\nbcc:"), qPrintable(name));
    }
}

// (b) Over the SIZE the server announces: a sentence with both sizes, and
// nothing stored. Once the limit is known the controller says so before
// any sending.
void TestCompose::overTheServersSize()
{
    Limits limits;
    limits.maxMessageBytes = 64 * 1024;
    QVERIFY(startServers(limits));
    Session *alice = session(u"alice"_s);
    QVERIFY(alice);
    QCOMPARE(alice->smtp()->maxMessageSize(), qint64(0)); // not asked yet

    ComposeController compose;
    compose.setSession(alice);
    compose.setTo(u"bob"_s);
    compose.setSubject(u"Too big"_s);
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(file(u"big.bin"_s, QByteArray(60 * 1024, 'x')))}));
    QVERIFY(compose.canSend()); // the limit is not known yet
    QCOMPARE(compose.sizeError(), QString());
    QSignalSpy estimated(&compose, &ComposeController::estimatedSizeChanged);
    QString error;
    QVERIFY(!sendNow(compose, &error));
    QVERIFY2(error.startsWith(u"The message is 8"_s) && error.endsWith(u" KB; the server accepts at most 64 KB."_s),
             qPrintable(error));
    QCOMPARE(compose.errorString(), error);
    QCOMPARE(compose.state(), ComposeController::State::Failed);
    QCOMPARE(m_servers->storeStats()->messages, qint64(0));
    QCOMPARE(listing(u"bob"_s, u"inbox"_s).size(), 0);

    // Now known: the form says why before the next try. Send stays possible
    // (the server may have raised its limit since), and the server's SIZE
    // refuses it again before MAIL FROM: still nothing stored.
    QCOMPARE(alice->smtp()->maxMessageSize(), qint64(64 * 1024));
    QVERIFY(!estimated.isEmpty());
    QVERIFY2(compose.sizeError().endsWith(u"the server accepts at most 64 KB."_s), qPrintable(compose.sizeError()));
    QVERIFY(compose.canSend());
    QString again;
    QVERIFY(!sendNow(compose, &again));
    QCOMPARE(again, error);
    QCOMPARE(m_servers->storeStats()->messages, qint64(0));
    compose.removeAttachment(0);
    QCOMPARE(compose.sizeError(), QString());
    QVERIFY(compose.canSend());
    QVERIFY(sendNow(compose));
    QCOMPARE(listing(u"bob"_s, u"inbox"_s).size(), 1);
}

// (c) A file that was there when attached but cannot be read when sending:
// a clear error naming it, and nothing sent to anyone.
void TestCompose::unreadableAttachmentSendsNothing_data()
{
    QTest::addColumn<QString>("change");
    QTest::newRow("deleted") << u"delete"_s;
    QTest::newRow("replaced by a folder") << u"folder"_s;
}

void TestCompose::unreadableAttachmentSendsNothing()
{
    QFETCH(QString, change);
    const QString readable = file(u"fine.txt"_s, "fine"_ba);
    const QString doomed = file(u"report.pdf"_s, "%PDF-1.4 ..."_ba);
    Session *alice = session(u"alice"_s);
    QVERIFY(alice);
    ComposeController compose;
    compose.setSession(alice);
    compose.setTo(u"bob"_s);
    compose.setCc(u"carol"_s);
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(readable), QUrl::fromLocalFile(doomed)}));
    QVERIFY(QFile::remove(doomed));
    if (change == u"folder")
        QVERIFY(QDir().mkdir(doomed));

    QString error;
    QVERIFY(!sendNow(compose, &error));
    QVERIFY2(error.startsWith(u"“report.pdf” cannot be read ("_s) && error.endsWith(u"), so nothing was sent."_s),
             qPrintable(error));
    QCOMPARE(compose.state(), ComposeController::State::Failed);
    QCOMPARE(m_servers->storeStats()->messages, qint64(0));
    QCOMPARE(listing(u"bob"_s, u"inbox"_s).size(), 0);
    QCOMPARE(listing(u"carol"_s, u"inbox"_s).size(), 0);
    QCOMPARE(listing(u"alice"_s, u"sent"_s).size(), 0);

    // The user takes it out and sends again.
    compose.removeAttachment(1);
    QVERIFY(sendNow(compose));
    QCOMPARE(listing(u"bob"_s, u"inbox"_s).size(), 1);
}

void TestCompose::addAttachmentRefusals_data()
{
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("error");
    QTest::newRow("a folder") << u"folder"_s << u"“a folder” is a folder; only files can be attached."_s;
    QTest::newRow("missing") << u"missing"_s << u"“%1” does not exist."_s;
    QTest::newRow("not local") << u"remote"_s
                               << u"“https://example.org/x.pdf” is not a file on this computer; only local files can be attached."_s;
}

// Checked when added, with QFileInfo only: the good files before the bad
// one stay, the error names the bad one.
void TestCompose::addAttachmentRefusals()
{
    QFETCH(QString, what);
    QFETCH(QString, error);
    QUrl bad;
    if (what == u"folder") {
        QVERIFY(QDir(m_files->path()).mkdir(u"a folder"_s));
        bad = QUrl::fromLocalFile(m_files->filePath(u"a folder"_s));
    } else if (what == u"missing") {
        bad = QUrl::fromLocalFile(m_files->filePath(u"gone.txt"_s));
        error = error.arg(m_files->filePath(u"gone.txt"_s));
    } else {
        bad = QUrl(u"https://example.org/x.pdf"_s);
    }
    ComposeController compose;
    QSignalSpy attachmentsChanged(&compose, &ComposeController::attachmentsChanged);
    QVERIFY(!compose.addAttachments({QUrl::fromLocalFile(file(u"good.txt"_s, "good"_ba)), bad,
                                     QUrl::fromLocalFile(file(u"after.txt"_s, "after"_ba))}));
    QCOMPARE(compose.errorString(), error);
    QCOMPARE(compose.attachments().size(), 1);
    QCOMPARE(compose.attachments().first().toMap().value(u"name"_s).toString(), u"good.txt"_s);
    QCOMPARE(attachmentsChanged.size(), 1);
    // A good one afterwards clears the error.
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(m_files->filePath(u"after.txt"_s))}));
    QCOMPARE(compose.errorString(), QString());
    QCOMPARE(compose.attachments().size(), 2);
}

// Reply all: To the Reply-To or the sender; Cc the original's To and Cc
// without oneself and without what is in To, each address once
// (case-insensitively). Replying to one's own message goes to its To again.
void TestCompose::replyAllAddresses_data()
{
    QTest::addColumn<QString>("from");     // who sends the original (an account)
    QTest::addColumn<QByteArray>("fields"); // its To, Cc and Reply-To lines
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("cc");

    QTest::newRow("sender to me and others")
        << u"bob"_s << "To: alice@project.com, Carol <carol@project.com>\r\nCc: dave@project.com\r\n"_ba
        << u"bob@project.com"_s << u"Carol <carol@project.com>, dave@project.com"_s;
    QTest::newRow("me in Cc, in capitals")
        << u"bob"_s << "To: carol@project.com\r\nCc: ALICE@project.com, erin@project.com\r\n"_ba
        << u"bob@project.com"_s << u"carol@project.com, erin@project.com"_s;
    QTest::newRow("sender also in To and Cc, duplicates")
        << u"bob"_s << "To: alice@project.com, bob@project.com, carol@project.com\r\nCc: Carol@project.com\r\n"_ba
        << u"bob@project.com"_s << u"carol@project.com"_s;
    QTest::newRow("Reply-To")
        << u"bob"_s
        << "To: alice@project.com, carol@project.com\r\nReply-To: The List <erin@project.com>\r\n"_ba
        << u"The List <erin@project.com>"_s << u"carol@project.com"_s;
    QTest::newRow("only me")
        << u"bob"_s << "To: alice@project.com\r\n"_ba << u"bob@project.com"_s << QString();
    QTest::newRow("my own message") // found in Sent
        << u"alice"_s << "To: bob@project.com, carol@project.com\r\nCc: dave@project.com, alice@project.com\r\n"_ba
        << u"bob@project.com, carol@project.com"_s << u"dave@project.com"_s;
    // The server lists 50 addresses of a field and counts all: a reply
    // reads the others from the headers.
    const auto numbered = [](const char *prefix, int count) {
        QStringList addresses;
        for (int i = 1; i <= count; ++i)
            addresses.append(u"%1%2@project.com"_s.arg(QLatin1StringView(prefix)).arg(i));
        return addresses;
    };
    QTest::newRow("more than are listed")
        << u"bob"_s
        << "To: alice@project.com,\r\n " + numbered("p", 79).join(u",\r\n "_s).toUtf8() + "\r\nCc: "
            + numbered("c", 60).join(u",\r\n "_s).toUtf8() + "\r\n"
        << u"bob@project.com"_s << (numbered("p", 79) + numbered("c", 60)).join(u", "_s);
    QTest::newRow("my own message, more than are listed")
        << u"alice"_s << "To: " + numbered("p", 80).join(u",\r\n "_s).toUtf8() + "\r\n"
        << numbered("p", 80).join(u", "_s) << QString();
}

void TestCompose::replyAllAddresses()
{
    QFETCH(QString, from);
    QFETCH(QByteArray, fields);
    QFETCH(QString, to);
    QFETCH(QString, cc);

    const QByteArray original = "From: " + address(from).toUtf8() + "\r\n" + fields
        + "Subject: Plans\r\nMessage-ID: <plans.1@project.com>\r\n\r\nShall we?\r\n";
    QVERIFY(deliver(from, {address(u"alice"_s)}, original));
    const QJsonArray messages = listing(u"alice"_s, from == u"alice" ? u"sent"_s : u"inbox"_s);
    QCOMPARE(messages.size(), 1);

    ComposeController compose;
    compose.setSession(session(u"alice"_s));
    QSignalSpy ready(&compose, &ComposeController::replyReady);
    compose.replyAllTo(messages.first()[u"id"].toInteger());
    QCOMPARE(compose.state(), ComposeController::State::Preparing);
    QVERIFY(ready.wait(WaitMs));
    QCOMPARE(compose.to(), to);
    QCOMPARE(compose.cc(), cc);
    QCOMPARE(compose.bcc(), QString());
    QCOMPARE(compose.subject(), u"Re: Plans"_s);
    QCOMPARE(compose.inReplyTo(), u"<plans.1@project.com>"_s);
    QVERIFY(compose.isReply());
    QVERIFY(!compose.isForward());
    QVERIFY(!compose.isModified());
}

// (d) What arrives: a reply to all with In-Reply-To and References (RFC 5322
// §3.6.4) and its To and Cc; a forward with "Fwd:", the header block and the
// quoted text, References and no In-Reply-To, and the original's
// attachments byte-identical.
void TestCompose::replyAllAndForwardHeaders()
{
    // Bob writes to Alice and Carol, Cc Dave, with two attachments, in a thread.
    Session *bob = session(u"bob"_s);
    QVERIFY(bob);
    const QByteArray binary = everyByteValue(8);
    {
        ComposeController compose;
        compose.setSession(bob);
        compose.setTo(u"alice, carol"_s);
        compose.setCc(u"dave"_s);
        compose.setSubject(u"Budget"_s);
        compose.setBody(u"Numbers attached.\nBob"_s);
        QVERIFY(compose.addAttachments({QUrl::fromLocalFile(file(u"budget.csv"_s, "a,b\r\n1,2\r\n"_ba)),
                                        QUrl::fromLocalFile(file(u"Übersicht.bin"_s, binary))}));
        QVERIFY(sendNow(compose));
    }
    const QJsonArray aliceInbox = listing(u"alice"_s, u"inbox"_s);
    QCOMPARE(aliceInbox.size(), 1);
    const qint64 originalId = aliceInbox.first()[u"id"].toInteger();
    const QJsonValue original = message(u"alice"_s, originalId);
    const QString originalMessageId = header(original, u"Message-ID");
    QVERIFY(originalMessageId.startsWith(u'<'));

    // Reply all.
    Session *alice = session(u"alice"_s);
    ComposeController reply;
    reply.setSession(alice);
    QSignalSpy ready(&reply, &ComposeController::replyReady);
    reply.replyAllTo(originalId);
    QVERIFY(ready.wait(WaitMs));
    QCOMPARE(reply.to(), u"bob@project.com"_s);
    QCOMPARE(reply.cc(), u"carol@project.com, dave@project.com"_s);
    QVERIFY(reply.attachments().isEmpty()); // a reply does not send the files back
    QVERIFY(reply.body().contains(u"> Numbers attached.\n> Bob"_s));
    reply.setBody(u"Thanks!\n"_s + reply.body());
    QVERIFY(sendNow(reply));
    QCOMPARE(reply.resultText(), u"Message sent to 3 recipients."_s);

    const QJsonArray bobInbox = listing(u"bob"_s, u"inbox"_s);
    QCOMPARE(bobInbox.size(), 1);
    const QJsonValue replied = message(u"bob"_s, bobInbox.first()[u"id"].toInteger());
    QCOMPARE(replied[u"subject"].toString(), u"Re: Budget"_s);
    QCOMPARE(addressList(replied[u"to"].toArray()), QStringList{address(u"bob"_s)});
    QCOMPARE(addressList(replied[u"cc"].toArray()), (QStringList{address(u"carol"_s), address(u"dave"_s)}));
    QCOMPARE(header(replied, u"In-Reply-To"), originalMessageId);
    QCOMPARE(header(replied, u"References").simplified(), originalMessageId);
    const QString replyMessageId = header(replied, u"Message-ID");
    for (const QString &name : {u"carol"_s, u"dave"_s})
        QCOMPARE(listing(name, u"inbox"_s).size(), 2); // the original and the reply

    // Carol forwards the reply (a thread of two) to Erin: References grow, no In-Reply-To.
    // Then Alice forwards the original with its attachments to Erin.
    ComposeController forward;
    forward.setSession(alice);
    QSignalSpy forwardReady(&forward, &ComposeController::replyReady);
    forward.forward(originalId);
    QCOMPARE(forward.state(), ComposeController::State::Preparing);
    QVERIFY(forwardReady.wait(WaitMs));
    QVERIFY(forward.isForward());
    QVERIFY(!forward.isReply());
    QCOMPARE(forward.inReplyTo(), QString());
    QCOMPARE(forward.to(), QString());
    QCOMPARE(forward.cc(), QString());
    QCOMPARE(forward.subject(), u"Fwd: Budget"_s);
    QVERIFY(!forward.isModified());
    const QString body = forward.body();
    QVERIFY2(body.startsWith(u"\n\n---------- Forwarded message ----------\nFrom: bob@project.com\nDate: "_s), qPrintable(body));
    QVERIFY2(body.contains(u"\nSubject: Budget\nTo: alice@project.com, carol@project.com\nCc: dave@project.com\n\n> Numbers attached.\n> Bob\n"_s),
             qPrintable(body));
    const QVariantList carried = forward.attachments();
    QCOMPARE(carried.size(), 2);
    QCOMPARE(carried.at(0).toMap().value(u"name"_s).toString(), u"budget.csv"_s);
    QCOMPARE(carried.at(1).toMap().value(u"name"_s).toString(), u"Übersicht.bin"_s);
    QCOMPARE(carried.at(1).toMap().value(u"size"_s).toLongLong(), qint64(binary.size()));
    QCOMPARE(carried.at(1).toMap().value(u"url"_s).toString(), QString());
    forward.setTo(u"erin"_s);
    QVERIFY(forward.isModified());
    QVERIFY(sendNow(forward));

    const QJsonArray erinInbox = listing(u"erin"_s, u"inbox"_s);
    QCOMPARE(erinInbox.size(), 1);
    const qint64 forwardedId = erinInbox.first()[u"id"].toInteger();
    const QJsonValue forwarded = message(u"erin"_s, forwardedId);
    QCOMPARE(forwarded[u"subject"].toString(), u"Fwd: Budget"_s);
    QCOMPARE(addressList(forwarded[u"to"].toArray()), QStringList{address(u"erin"_s)});
    QVERIFY(!hasHeader(forwarded, u"In-Reply-To"));
    QCOMPARE(header(forwarded, u"References").simplified(), originalMessageId);
    QVERIFY(forwarded[u"text"].toString().contains(u"---------- Forwarded message ----------"_s));
    const QJsonArray attachments = forwarded[u"attachments"].toArray();
    QCOMPARE(attachments.size(), 2);
    QCOMPARE(attachments.at(0)[u"filename"].toString(), u"budget.csv"_s);
    QCOMPARE(attachments.at(0)[u"contentType"].toString(), original[u"attachments"][0][u"contentType"].toString());
    QCOMPARE(attachments.at(1)[u"filename"].toString(), u"Übersicht.bin"_s);
    QCOMPARE(attachment(u"erin"_s, forwardedId, attachments.at(0)[u"index"].toInt()), "a,b\r\n1,2\r\n"_ba);
    QCOMPARE(attachment(u"erin"_s, forwardedId, attachments.at(1)[u"index"].toInt()), binary);

    // A forward of the reply: References carry the whole thread.
    ComposeController second;
    second.setSession(session(u"carol"_s));
    QSignalSpy secondReady(&second, &ComposeController::replyReady);
    const QJsonArray carolInbox = listing(u"carol"_s, u"inbox"_s);
    second.forward(carolInbox.first()[u"id"].toInteger()); // newest first: the reply
    QVERIFY(secondReady.wait(WaitMs));
    QCOMPARE(second.subject(), u"Fwd: Re: Budget"_s);
    QCOMPARE(second.references(), (QStringList{originalMessageId, replyMessageId}));
    QVERIFY(second.attachments().isEmpty());
}

void TestCompose::forwardSubjectNotDoubled_data()
{
    QTest::addColumn<QString>("subject");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << u"Hello"_s << u"Fwd: Hello"_s;
    QTest::newRow("Fwd:") << u"Fwd: Hello"_s << u"Fwd: Hello"_s;
    QTest::newRow("FW:") << u"FW: Hello"_s << u"FW: Hello"_s;
    QTest::newRow("fwd: lower case") << u"fwd:Hello"_s << u"fwd:Hello"_s;
    QTest::newRow("Re:") << u"Re: Hello"_s << u"Fwd: Re: Hello"_s;
    QTest::newRow("Fwd inside") << u"About Fwd: x"_s << u"Fwd: About Fwd: x"_s;
}

void TestCompose::forwardSubjectNotDoubled()
{
    QFETCH(QString, subject);
    QFETCH(QString, expected);
    QVERIFY(deliver(u"bob"_s, {address(u"alice"_s)},
                    "From: bob@project.com\r\nTo: alice@project.com\r\nSubject: " + subject.toUtf8() + "\r\n\r\nx\r\n"));
    const QJsonArray messages = listing(u"alice"_s, u"inbox"_s);
    QCOMPARE(messages.size(), 1);
    ComposeController compose;
    compose.setSession(session(u"alice"_s));
    QSignalSpy ready(&compose, &ComposeController::replyReady);
    compose.forward(messages.first()[u"id"].toInteger());
    QVERIFY(ready.wait(WaitMs));
    QCOMPARE(compose.subject(), expected);
    // No Message-ID in what was delivered? The server added one: References holds it.
    QCOMPARE(compose.references().size(), 1);
}

// (e) Every property announces its change once, and `modified` compares
// with what the compose was opened with.
void TestCompose::propertiesNotifyAndModified()
{
    ComposeController compose;
    compose.setSession(session(u"alice"_s));
    QSignalSpy cc(&compose, &ComposeController::ccChanged);
    QSignalSpy bcc(&compose, &ComposeController::bccChanged);
    QSignalSpy attachments(&compose, &ComposeController::attachmentsChanged);
    QSignalSpy modified(&compose, &ComposeController::modifiedChanged);
    QSignalSpy recipients(&compose, &ComposeController::recipientsChanged);
    QVERIFY(!compose.isModified());

    compose.setCc(u"carol"_s);
    QCOMPARE(cc.size(), 1);
    QCOMPARE(compose.cc(), u"carol"_s);
    QVERIFY(compose.isModified());
    QCOMPARE(modified.size(), 1);
    QVERIFY(!recipients.isEmpty());
    compose.setCc(u"carol"_s); // the same: no signal
    QCOMPARE(cc.size(), 1);
    compose.setCc(QString()); // back to what it was opened with
    QCOMPARE(cc.size(), 2);
    QVERIFY(!compose.isModified());
    QCOMPARE(modified.size(), 2);

    compose.setBcc(u"dave"_s);
    QCOMPARE(bcc.size(), 1);
    QCOMPARE(compose.bcc(), u"dave"_s);
    QVERIFY(compose.canSend()); // Bcc alone is a recipient
    QCOMPARE(compose.recipients(), QStringList{address(u"dave"_s)});

    const QString path = file(u"a.txt"_s, "a"_ba);
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(path)}));
    QCOMPARE(attachments.size(), 1);
    const QVariantList list = compose.attachments();
    // Written back through the property: known keys stay, new file urls are added.
    QVariantList written = list;
    written.append(QVariantMap{{u"url"_s, QUrl::fromLocalFile(file(u"b.txt"_s, "bb"_ba)).toString()}});
    compose.setAttachments(written);
    QCOMPARE(compose.attachments().size(), 2);
    QCOMPARE(compose.attachments().at(0).toMap().value(u"key"_s), list.at(0).toMap().value(u"key"_s));
    QCOMPARE(compose.attachments().at(1).toMap().value(u"name"_s).toString(), u"b.txt"_s);
    compose.setAttachments({compose.attachments().at(1)});
    QCOMPARE(compose.attachments().size(), 1);
    QCOMPARE(compose.attachments().at(0).toMap().value(u"name"_s).toString(), u"b.txt"_s);
    compose.removeAttachment(5); // out of range: nothing
    compose.removeAttachment(0);
    QVERIFY(compose.attachments().isEmpty());
    QCOMPARE(attachments.size(), 4);

    compose.setBcc(QString());
    QVERIFY(!compose.isModified()); // everything as opened
    compose.setBody(u"x"_s);
    QVERIFY(compose.isModified());
    compose.clear();
    QVERIFY(!compose.isModified());
    QCOMPARE(compose.body(), QString());
    QCOMPARE(compose.state(), ComposeController::State::Idle);
}

// Cc and Bcc are validated as To; the 100-recipient limit counts all three
// together, an address in several of them once.
void TestCompose::recipientRules()
{
    ComposeController compose;
    compose.setSession(session(u"alice"_s));
    compose.setTo(u"bob"_s);
    QVERIFY(compose.canSend());
    compose.setCc(u"carol, not an address"_s);
    QVERIFY(compose.ccError().contains(u"not an address"_s));
    QCOMPARE(compose.recipientsError(), QString());
    QVERIFY(!compose.canSend());
    compose.setCc(u"carol"_s);
    compose.setBcc(u"dave@@project.com"_s);
    QVERIFY(compose.bccError().contains(u"dave@@project.com"_s));
    QVERIFY(!compose.canSend());
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    compose.send();
    QCOMPARE(failed.size(), 1);
    QCOMPARE(compose.state(), ComposeController::State::Failed);

    QStringList sixty;
    for (int i = 0; i < 60; ++i)
        sixty.append(u"user%1"_s.arg(i));
    compose.setTo(sixty.join(u", "_s));
    compose.setCc(sixty.join(u", "_s).toUpper()); // the same addresses: counted once
    compose.setBcc(u"bob"_s);
    QCOMPARE(compose.recipients().size(), 61);
    QCOMPARE(compose.recipientsError(), QString());
    QVERIFY(compose.canSend());
    compose.setBcc(sixty.join(u", "_s).replace(u"user"_s, u"other"_s));
    QCOMPARE(compose.recipients().size(), 120);
    QCOMPARE(compose.recipientsError(), u"At most 100 recipients per message (To, Cc and Bcc together)."_s);
    QVERIFY(!compose.canSend());
    compose.setTo({});
    compose.setCc({});
    compose.setBcc({});
    QVERIFY(!compose.canSend()); // nobody at all
}

// Attaching a 20 MiB file reads nothing of it; sending reads it on another
// thread while the GUI thread keeps running events; progress comes from the
// DATA bytes written; every byte arrives.
void TestCompose::largeAttachmentOffTheGuiThread()
{
    Limits limits;
    limits.maxMessageBytes = 40 * 1024 * 1024;
    QVERIFY(startServers(limits));
    QByteArray content(20 * 1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < content.size(); ++i)
        content[i] = char((i * 7919) >> 3);
    const QString path = file(u"video.bin"_s, content);
    QVERIFY(!path.isEmpty());

    QSemaphore gate;
    HookGuard guard{&gate};
    std::atomic<QThread *> readThread = nullptr;
    std::atomic<int> reads = 0;
    ComposeController::setFileReadHook([&](const QString &read) {
        if (read != path)
            return;
        readThread = QThread::currentThread();
        ++reads;
        gate.acquire(); // the worker waits here until the test has looked at the GUI thread
    });

    ComposeController compose;
    compose.setSession(session(u"alice"_s));
    compose.setTo(u"bob"_s);
    compose.setSubject(u"Big"_s);
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(path)}));
    QCOMPARE(reads.load(), 0); // added, not read
    QCOMPARE(compose.attachments().first().toMap().value(u"size"_s).toLongLong(), qint64(content.size()));
    QCOMPARE(compose.attachmentsSizeText(), u"20 MB"_s);

    QList<double> progress;
    connect(&compose, &ComposeController::progressChanged, this, [&] { progress.append(compose.progress()); });
    QSignalSpy sent(&compose, &ComposeController::sent);
    compose.send();
    QCOMPARE(compose.state(), ComposeController::State::Sending);
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 1, WaitMs);
    QVERIFY(readThread.load() != nullptr);
    QVERIFY(readThread.load() != QThread::currentThread());
    QVERIFY(readThread.load() != compose.thread());
    // The read is under way and the GUI thread is free: its events run.
    bool timerRan = false;
    QTimer::singleShot(0, this, [&] { timerRan = true; });
    QTRY_VERIFY_WITH_TIMEOUT(timerRan, WaitMs);
    QVERIFY(compose.isBusy());
    QVERIFY(sent.isEmpty());
    gate.release();

    QVERIFY(sent.wait(WaitMs));
    QCOMPARE(compose.resultText(), u"Message sent to 1 recipient."_s);
    QVERIFY2(progress.size() > 3, qPrintable(QString::number(progress.size())));
    QVERIFY(std::is_sorted(progress.cbegin(), progress.cend()));
    QVERIFY(std::any_of(progress.cbegin(), progress.cend(), [](double p) { return p > 0 && p < 1; }));
    QCOMPARE(progress.last(), 1.0);

    const QJsonArray inbox = listing(u"bob"_s, u"inbox"_s);
    QCOMPARE(inbox.size(), 1);
    const qint64 id = inbox.first()[u"id"].toInteger();
    QVERIFY(attachment(u"bob"_s, id, 0) == content);
}

// The worker's result for a controller whose session went meanwhile is
// dropped: no send, the controller idle, nothing left dangling.
// The session ends (log out, or the server ends it) while a message is on
// its way: it is not sent, as nobody or as whoever logs in next; the form
// is emptied and no outcome is shown. Logged in again, the next message is
// the only one that arrives.
void TestCompose::logOutWhileSending_data()
{
    QTest::addColumn<bool>("duringData");
    QTest::newRow("while the files are read") << false;
    QTest::newRow("in the middle of DATA") << true;
}

void TestCompose::logOutWhileSending()
{
    QFETCH(bool, duringData);
    QSemaphore gate;
    HookGuard guard{&gate};
    std::atomic<int> reads = 0;
    if (!duringData) {
        ComposeController::setFileReadHook([&](const QString &) {
            ++reads;
            gate.acquire();
        });
    }
    Session *alice = session(u"alice"_s);
    QVERIFY(alice);
    ComposeController compose;
    compose.setSession(alice);
    compose.setTo(u"bob"_s);
    compose.setSubject(u"Interrupted"_s);
    QVERIFY(compose.addAttachments({QUrl::fromLocalFile(file(u"big.bin"_s, QByteArray(6 * 1024 * 1024, 'x')))}));
    QSignalSpy sent(&compose, &ComposeController::sent);
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    double progressAtLogOut = 0;
    if (duringData) {
        // At the first part of DATA written: the log out comes mid-message.
        connect(&compose, &ComposeController::progressChanged, alice, [&] {
            if (compose.progress() > 0 && alice->isLoggedIn()) {
                progressAtLogOut = compose.progress();
                alice->logout();
            }
        });
    }
    compose.send();
    QCOMPARE(compose.state(), ComposeController::State::Sending);
    if (duringData) {
        QTRY_VERIFY_WITH_TIMEOUT(!alice->isLoggedIn(), WaitMs);
        QVERIFY2(progressAtLogOut < 1, "the whole message was written before the log out");
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 1, WaitMs);
        alice->logout();
    }
    disconnect(&compose, &ComposeController::progressChanged, alice, nullptr);
    QCOMPARE(compose.state(), ComposeController::State::Idle);
    QCOMPARE(compose.to(), QString());
    QCOMPARE(compose.subject(), QString());
    QCOMPARE(compose.attachments().size(), 0);
    QCOMPARE(compose.resultText(), QString());
    gate.release();
    QTRY_VERIFY_WITH_TIMEOUT(QThreadPool::globalInstance()->activeThreadCount() == 0, WaitMs);

    // Alice logs in again and sends another: that one arrives, alone.
    QSignalSpy loggedIn(alice, &Session::loggedIn);
    alice->login(u"alice"_s, Password);
    QVERIFY(loggedIn.wait(WaitMs));
    compose.setTo(u"bob"_s);
    compose.setSubject(u"After"_s);
    QVERIFY(sendNow(compose));
    const QJsonArray inbox = listing(u"bob"_s, u"inbox"_s);
    QCOMPARE(inbox.size(), 1);
    QCOMPARE(inbox.first()[u"subject"].toString(), u"After"_s);
    QCOMPARE(m_servers->storeStats()->messages, qint64(1));
    QCOMPARE(sent.size(), 1);
    QCOMPARE(failed.size(), 0); // the interrupted one said nothing
    QCOMPARE(alice->errorString(), QString());
}

void TestCompose::staleResultIsDropped()
{
    const QString path = file(u"x.txt"_s, "x"_ba);
    QSemaphore gate;
    HookGuard guard{&gate};
    std::atomic<int> reads = 0;
    ComposeController::setFileReadHook([&](const QString &) {
        ++reads;
        gate.acquire();
    });
    auto compose = std::make_unique<ComposeController>();
    compose->setSession(session(u"alice"_s));
    compose->setTo(u"bob"_s);
    QVERIFY(compose->addAttachments({QUrl::fromLocalFile(path)}));
    QSignalSpy failed(compose.get(), &ComposeController::sendFailed);
    QSignalSpy sent(compose.get(), &ComposeController::sent);
    compose->send();
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 1, WaitMs);
    m_sessions.erase(u"alice"_s); // logged out and gone while the file is read
    QCOMPARE(compose->state(), ComposeController::State::Idle);
    QVERIFY(!compose->isBusy());
    gate.release();
    // Once the worker is done its result is posted; processEvents() delivers it.
    QTRY_VERIFY_WITH_TIMEOUT(QThreadPool::globalInstance()->activeThreadCount() == 0, WaitMs);
    QCoreApplication::processEvents();
    QVERIFY(sent.isEmpty());
    QVERIFY(failed.isEmpty());
    QCOMPARE(compose->state(), ComposeController::State::Idle);

    // A controller destroyed while its worker runs: its result goes nowhere.
    compose->setSession(session(u"bob"_s));
    compose->setTo(u"alice"_s);
    reads = 0;
    compose->send();
    QTRY_COMPARE_WITH_TIMEOUT(reads.load(), 1, WaitMs);
    compose.reset();
    gate.release();
    QTRY_VERIFY_WITH_TIMEOUT(QThreadPool::globalInstance()->activeThreadCount() == 0, WaitMs);
    QCoreApplication::processEvents();
    QCOMPARE(m_servers->storeStats()->messages, qint64(0));
}

QTEST_GUILESS_MAIN(TestCompose)
#include "tst_compose.moc"
