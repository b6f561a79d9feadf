// The message a person has open, against real mailroom-smtpd and
// mailroom-webd code (ClientTestServers): MessageSelection follows its entry
// id while InboxModel inserts, removes and resets rows; a refresh after more
// new mail than a page keeps the rows shown (and the open message) by paging
// back to them; seen flags and deletions go by id while rows move;
// MessageController shows nothing of the last message while the next loads,
// and saves attachments byte for byte off the GUI thread.
// Every model is watched by QAbstractItemModelTester.

#include "clienttestservers.h"
#include "composecontroller.h"
#include "inboxmodel.h"
#include "messagebuilder.h"
#include "messagecontroller.h"
#include "messageselection.h"
#include "session.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

constexpr int WaitMs = 20000;
const QString Password = u"selection-secret-1"_s;

} // namespace

class TestMessageSelection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void refreshPagesBackToWhatIsShown_data();
    void refreshPagesBackToWhatIsShown();
    void selectionFollowsItsMessage();
    void seenAndDeleteGoByIdWhileRowsMove();
    void loadShowsNothingOfTheLastMessage();
    void saveAttachment_data();
    void saveAttachment();
    void safeFileName_data();
    void safeFileName();
    void longTextIsShownInPart();
    void manyRecipientsAreCounted();

private:
    // Messages from sender to reader straight into the store, oldest first; their inbox entry ids.
    QList<qint64> deliver(const QStringList &subjects, const QByteArray &raw = {});
    std::unique_ptr<InboxModel> inbox(int limit);
    bool settle(InboxModel &model);

    std::unique_ptr<ClientTestServers> m_servers;
    std::unique_ptr<Session> m_session;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;
    qint64 m_sender = 0;
    qint64 m_reader = 0;
};

void TestMessageSelection::init()
{
    m_servers = std::make_unique<ClientTestServers>();
    QVERIFY(m_servers->start());
    QVERIFY(m_servers->createAccount(u"sender"_s, Password));
    QVERIFY(m_servers->createAccount(u"reader"_s, Password));
    m_sender = m_servers->accountId(u"sender"_s);
    m_reader = m_servers->accountId(u"reader"_s);
    QVERIFY(m_sender > 0 && m_reader > 0);

    ClientSettings settings;
    settings.smtp = m_servers->smtp();
    settings.web = m_servers->web();
    settings.pinFile = m_servers->path(u"pins.ini"_s);
    settings.timeoutMs = WaitMs;
    QVERIFY(m_servers->pinCertificate(settings.pinFile));
    m_session = std::make_unique<Session>(settings);
    QSignalSpy loggedIn(m_session.get(), &Session::loggedIn);
    m_session->login(u"reader"_s, Password);
    QVERIFY(loggedIn.wait(WaitMs));
}

void TestMessageSelection::cleanup()
{
    m_testers.clear();
    m_session.reset();
    m_servers.reset();
}

QList<qint64> TestMessageSelection::deliver(const QStringList &subjects, const QByteArray &raw)
{
    QList<QByteArray> raws;
    for (const QString &subject : subjects)
        raws.append(raw.isEmpty() ? ClientTestServers::plainMessage(u"sender@project.com"_s, u"reader@project.com"_s, subject)
                                  : raw);
    return m_servers->storeMessages(m_sender, m_reader, raws);
}

std::unique_ptr<InboxModel> TestMessageSelection::inbox(int limit)
{
    auto model = std::make_unique<InboxModel>();
    m_testers.push_back(std::make_unique<QAbstractItemModelTester>(model.get(),
                                                                   QAbstractItemModelTester::FailureReportingMode::QtTest));
    model->setLimit(limit);
    model->setSession(m_session.get());
    return model;
}

bool TestMessageSelection::settle(InboxModel &model)
{
    return QTest::qWaitFor([&] { return !model.isLoading(); }, WaitMs) && model.errorString().isEmpty();
}

void TestMessageSelection::refreshPagesBackToWhatIsShown_data()
{
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("burst");
    QTest::newRow("within a page") << 5 << 3;
    QTest::newRow("a page exactly") << 5 << 5;
    QTest::newRow("one more than a page") << 5 << 6;
    QTest::newRow("several pages") << 5 << 23;
    QTest::newRow("the latest 1, 9 new") << 1 << 9;
}

void TestMessageSelection::refreshPagesBackToWhatIsShown()
{
    QFETCH(int, limit);
    QFETCH(int, burst);
    const QList<qint64> shown = deliver({u"Old 1"_s, u"Old 2"_s});
    QCOMPARE(shown.size(), 2);
    auto model = inbox(limit);
    QVERIFY(settle(*model));
    QCOMPARE(model->count(), std::min(limit, 2));
    MessageSelection selection;
    selection.setModel(model.get());
    const qint64 open = model->idAt(0);
    selection.setMessageId(open);
    QCOMPARE(selection.row(), 0);

    QStringList subjects;
    for (int i = 0; i < burst; ++i)
        subjects.append(u"New %1"_s.arg(i));
    const QList<qint64> added = deliver(subjects);
    QCOMPARE(added.size(), burst);
    QSignalSpy resets(model.get(), &QAbstractItemModel::modelReset);
    QSignalSpy rowChanges(&selection, &MessageSelection::rowChanged);
    model->refresh();
    QVERIFY(settle(*model));

    // Every new message on top, newest first, and what was shown below them.
    QCOMPARE(resets.size(), 0);
    QCOMPARE(model->count(), burst + std::min(limit, 2));
    for (int i = 0; i < burst; ++i)
        QCOMPARE(model->idAt(i), added.at(burst - 1 - i));
    QCOMPARE(model->idAt(burst), open);
    QCOMPARE(selection.messageId(), open);
    QCOMPARE(selection.row(), burst);
    QTRY_VERIFY(!rowChanges.isEmpty()); // a view bound to `row` is told
}

void TestMessageSelection::selectionFollowsItsMessage()
{
    const QList<qint64> ids = deliver({u"One"_s, u"Two"_s, u"Three"_s});
    auto model = inbox(50);
    QVERIFY(settle(*model));
    MessageSelection selection;
    QSignalSpy rowChanged(&selection, &MessageSelection::rowChanged);
    selection.setModel(model.get());
    QCOMPARE(selection.row(), -1);
    selection.selectRow(1);
    QCOMPARE(selection.messageId(), ids.at(1));
    QCOMPARE(selection.row(), 1);
    selection.selectRow(7); // no such row: nothing selected
    QCOMPARE(selection.messageId(), 0);
    QCOMPARE(selection.row(), -1);
    selection.setMessageId(ids.at(0)); // "One", the oldest: the last row
    QCOMPARE(selection.row(), 2);

    // Deleted elsewhere: no longer listed, still the message the user has open.
    Store store;
    QVERIFY(store.open(m_servers->config().database.sqlitePath, Store::OpenMode::MustExist));
    QVERIFY(store.deleteEntry(m_reader, ids.at(0)));
    rowChanged.clear();
    model->refresh();
    QVERIFY(settle(*model));
    QCOMPARE(model->count(), 2);
    QTRY_VERIFY(!rowChanged.isEmpty());
    QCOMPARE(selection.row(), -1);
    QCOMPARE(selection.messageId(), ids.at(0));

    // Another folder: the id is not listed there.
    selection.setMessageId(ids.at(2));
    QCOMPARE(selection.row(), 0);
    auto sent = std::make_unique<InboxModel>();
    sent->setFolder(u"sent"_s);
    sent->setSession(m_session.get());
    selection.setModel(sent.get());
    QCOMPARE(selection.row(), -1);
    selection.clear();
    QCOMPARE(selection.messageId(), 0);
}

void TestMessageSelection::seenAndDeleteGoByIdWhileRowsMove()
{
    const QList<qint64> ids = deliver({u"Target"_s, u"Other"_s});
    auto model = inbox(50);
    QVERIFY(settle(*model));
    const qint64 target = ids.at(0);
    QCOMPARE(model->rowOf(target), 1);

    // Mail arrives between the user's choice and the request: rows move.
    const QList<qint64> added = deliver({u"Newer 1"_s, u"Newer 2"_s});
    model->refresh();
    QVERIFY(settle(*model));
    QCOMPARE(model->rowOf(target), 3);
    model->setMessageSeen(target, true);
    QTRY_VERIFY(model->entry(model->rowOf(target)).seen);
    QSignalSpy removed(model.get(), &InboxModel::messageRemoved);
    model->removeMessage(target);
    QVERIFY(removed.wait(WaitMs));
    QCOMPARE(removed.first().first().toLongLong(), target);
    QCOMPARE(model->rowOf(target), -1);

    Store store;
    QVERIFY(store.open(m_servers->config().database.sqlitePath, Store::OpenMode::MustExist));
    const QList<MailboxEntry> entries = store.inbox(m_reader).value();
    QCOMPARE(entries.size(), 3);
    for (const MailboxEntry &entry : entries) {
        QVERIFY(entry.id != target);
        QVERIFY2(!entry.seen, qPrintable(entry.summary.subject));
    }
    // The message open may have left the list ("the latest 1" now): marking
    // it and deleting it still reach the server, by id.
    model->setLimit(1);
    QVERIFY(settle(*model));
    const qint64 unlisted = ids.at(1);
    QCOMPARE(model->rowOf(unlisted), -1);
    QCOMPARE(added.size(), 2);
    model->setMessageSeen(unlisted, true);
    QTRY_VERIFY(store.entry(m_reader, unlisted).value().seen);
    removed.clear();
    model->removeMessage(unlisted);
    QVERIFY(removed.wait(WaitMs));
    QCOMPARE(removed.first().first().toLongLong(), unlisted);
    QVERIFY(!store.entry(m_reader, unlisted).has_value());
    QVERIFY(settle(*model));
    QCOMPARE(model->errorString(), QString());
}

void TestMessageSelection::loadShowsNothingOfTheLastMessage()
{
    const QList<qint64> ids = deliver({u"First"_s, u"Second"_s});
    MessageController message;
    message.setSession(m_session.get());
    QSignalSpy loaded(&message, &MessageController::loaded);
    message.load(ids.at(0));
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.subject(), u"First"_s);
    message.load(ids.at(1));
    // At once, before any answer: the first message is no longer there to act on.
    QCOMPARE(message.isLoaded(), false);
    QCOMPARE(message.messageId(), 0);
    QCOMPARE(message.subject(), QString());
    QVERIFY(message.isLoading());
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.messageId(), ids.at(1));
    QCOMPARE(message.subject(), u"Second"_s);
}

void TestMessageSelection::saveAttachment_data()
{
    QTest::addColumn<QString>("target"); // under the test's directory; "%1" is it
    QTest::addColumn<bool>("asFileUrl");
    QTest::addColumn<bool>("saved");
    QTest::newRow("file URL") << u"%1/out.bin"_s << true << true;
    // What Qt 6.4's own save dialog gives for a typed name.
    QTest::newRow("path without a scheme") << u"%1/typed.bin"_s << false << true;
    QTest::newRow("typed name with # and ?") << u"%1/a #1?.bin"_s << false << true;
    QTest::newRow("missing folder") << u"%1/no-such-folder/out.bin"_s << true << false;
    QTest::newRow("a folder") << u"%1"_s << true << false;
}

void TestMessageSelection::saveAttachment()
{
    QFETCH(QString, target);
    QFETCH(bool, asFileUrl);
    QFETCH(bool, saved);
    QByteArray binary;
    for (int i = 0; i < 40000; ++i)
        binary.append(char(i * 7 % 256));
    const QByteArray encoded = binary.toBase64();
    QByteArray lines;
    for (qsizetype i = 0; i < encoded.size(); i += 76)
        lines += encoded.mid(i, 76) + "\r\n";
    const QByteArray raw = "From: sender@project.com\r\nTo: reader@project.com\r\nSubject: Binary\r\n"
                           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                           "--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n"
                           "--b\r\nContent-Type: application/octet-stream\r\n"
                           "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                           "Content-Transfer-Encoding: base64\r\n\r\n"_ba
        + lines + "--b--\r\n"_ba;
    const QList<qint64> ids = deliver({u"Binary"_s}, raw);
    MessageController message;
    message.setSession(m_session.get());
    QSignalSpy loaded(&message, &MessageController::loaded);
    message.load(ids.value(0));
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.attachments().size(), 1);

    const QString path = target.arg(m_servers->path(u"saved"_s));
    QVERIFY(QDir().mkpath(m_servers->path(u"saved"_s)));
    QSignalSpy done(&message, &MessageController::attachmentSaved);
    QSignalSpy failed(&message, &MessageController::attachmentSaveFailed);
    QUrl url = QUrl::fromLocalFile(path);
    if (!asFileUrl)
        url = QUrl(path);
    message.saveAttachment(0, url);
    // Asynchronous: the download, then the write on a worker.
    QVERIFY(done.isEmpty() && failed.isEmpty());
    QVERIFY(QTest::qWaitFor([&] { return !done.isEmpty() || !failed.isEmpty(); }, WaitMs));
    if (!saved) {
        QCOMPARE(done.size(), 0);
        QVERIFY2(failed.first().first().toString().startsWith(u"Cannot save to "_s),
                 qPrintable(failed.first().first().toString()));
        return;
    }
    QCOMPARE(failed.size(), 0);
    QCOMPARE(done.first().at(0).toString(), path);
    QCOMPARE(done.first().at(1).toString(), m_servers->path(u"saved"_s));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), binary);
}

void TestMessageSelection::safeFileName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << u"report.pdf"_s << u"report.pdf"_s;
    QTest::newRow("non-ASCII") << u"Größe – 報告.bin"_s << u"Größe – 報告.bin"_s;
    QTest::newRow("up and out") << u"../../.bashrc"_s << u"bashrc"_s;
    QTest::newRow("a path") << u"/etc/passwd"_s << u"passwd"_s;
    QTest::newRow("Windows path") << u"C:\\Users\\x\\evil.exe"_s << u"evil.exe"_s;
    QTest::newRow("drive only") << u"C:evil.exe"_s << u"evil.exe"_s;
    QTest::newRow("right-to-left override") << u"invoice\u202Efdp.exe"_s << u"invoicefdp.exe"_s;
    QTest::newRow("controls") << u"a\tb\nc\u0000.txt"_s << u"abc.txt"_s;
    QTest::newRow("dots only") << u".."_s << u"attachment"_s;
    QTest::newRow("empty") << QString() << u"attachment"_s;
    QTest::newRow("spaces") << u"  notes .txt  "_s << u"notes .txt"_s;
}

void TestMessageSelection::safeFileName()
{
    QFETCH(QString, name);
    QFETCH(QString, expected);
    QCOMPARE(MessageController::safeFileName(name), expected);
}

// A text of megabytes: its JSON parsed and its rich text built on workers
// (both paths taken past their thresholds), the view given its first
// ShownTextChars characters cut at a line's end, the whole text kept.
void TestMessageSelection::longTextIsShownInPart()
{
    QString text;
    int line = 0;
    while (text.size() < 3 * MessageController::ShownTextChars)
        text += u"Line %1, see https://example.org/%1 for more.\n"_s.arg(++line);
    OutgoingMessage outgoing;
    outgoing.from = {{}, u"sender@project.com"_s};
    outgoing.to = {{{}, u"reader@project.com"_s}};
    outgoing.subject = u"Long"_s;
    outgoing.text = text;
    const QList<qint64> ids = m_servers->storeMessages(m_sender, m_reader, {MessageBuilder::build(outgoing)});
    QCOMPARE(ids.size(), 1);

    MessageController message;
    message.setSession(m_session.get());
    QSignalSpy loaded(&message, &MessageController::loaded);
    message.load(ids.first());
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.subject(), u"Long"_s);
    QCOMPARE(message.text().trimmed(), text.trimmed()); // all of it, for Reply and Forward
    QVERIFY(message.isTextCut());
    const QString shown = MessageController::shownPart(message.text());
    QVERIFY(shown.size() <= MessageController::ShownTextChars);
    QVERIFY(shown.endsWith(u'\n'));
    QVERIFY(text.startsWith(shown));
    QVERIFY(message.richText().contains(u"<a href=\"https://example.org/1\">"_s));
    const QString lastLine = u"https://example.org/%1"_s.arg(line);
    QVERIFY(!message.richText().contains(lastLine));

    // A short text is shown whole.
    const QList<qint64> shortId = deliver({u"Short"_s});
    message.load(shortId.first());
    QVERIFY(loaded.wait(WaitMs));
    QVERIFY(!message.isTextCut());
    QCOMPARE(MessageController::shownPart(message.text()), message.text());
}

// The server lists at most 50 addresses of To and of Cc and counts them all
// (toCount, ccCount): the message view and a forward's header block say
// how many more there are.
void TestMessageSelection::manyRecipientsAreCounted()
{
    QByteArrayList to;
    for (int i = 1; i <= 5000; ++i)
        to.append("p" + QByteArray::number(i) + "@example.org");
    const QByteArray raw = "From: sender@project.com\r\nTo: " + to.join(",\r\n ")
        + "\r\nCc: a@example.org, b@example.org\r\nSubject: Everyone\r\n\r\nHello all.\r\n";
    const QList<qint64> ids = m_servers->storeMessages(m_sender, m_reader, {raw});
    QCOMPARE(ids.size(), 1);
    QStringList listed;
    for (int i = 1; i <= 50; ++i)
        listed.append(u"p%1@example.org"_s.arg(i));
    const QString expectedTo = listed.join(u", "_s) + u" and 4950 more"_s;

    // The list's To column (the Sent folder shows it) says so too.
    auto model = inbox(50);
    QVERIFY(settle(*model));
    QCOMPARE(model->index(model->rowOf(ids.first())).data(InboxModel::ToRole).toString(), expectedTo);

    MessageController message;
    message.setSession(m_session.get());
    QSignalSpy loaded(&message, &MessageController::loaded);
    message.load(ids.first());
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.to(), expectedTo);
    QCOMPARE(message.cc(), u"a@example.org, b@example.org"_s);

    ComposeController forward;
    forward.setSession(m_session.get());
    QSignalSpy ready(&forward, &ComposeController::replyReady);
    forward.forward(ids.first());
    QVERIFY(ready.wait(WaitMs));
    QVERIFY2(forward.body().contains(u"\nTo: "_s + expectedTo + u"\nCc: a@example.org, b@example.org\n"_s),
             qPrintable(forward.body().left(200)));
}

QTEST_MAIN(TestMessageSelection)
#include "tst_messageselection.moc"
