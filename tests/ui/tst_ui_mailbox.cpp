// The mailbox window as a person uses it day to day, through the real window
// (Main.qml) and the real servers: the message shown, the row highlighted
// and the message Delete acts on stay one message while mail arrives; a log
// out leaves nothing for the next account; the menus name their shortcuts;
// a password change is confirmed. What Delete removed is checked in the
// store itself. Any QML warning on the way fails the test.

#include "clienttestservers.h"
#include "uidriver.h"

#include <QAbstractItemModel>
#include <QQuickItem>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

const QString Password = QStringLiteral("mailbox-password-1");

// The servers, the accounts and one client window, logged out.
class Fixture
{
public:
    Fixture()
    {
        if (!m_servers.start())
            return;
        m_settings.smtp = m_servers.smtp();
        m_settings.web = m_servers.web();
        m_settings.pinFile = m_servers.path(u"pins.ini"_s);
        m_settings.timeoutMs = UiDriver::WaitMs;
        // Trusted earlier: trust on first use is tst_login's and tst_servertrust's subject.
        if (!m_servers.pinCertificate(m_settings.pinFile))
            return;
        m_session = std::make_unique<Session>(m_settings);
        m_ui = std::make_unique<UiDriver>(*m_session);
        m_valid = m_ui->load();
    }

    [[nodiscard]] bool isValid() const { return m_valid; }
    ClientTestServers &servers() { return m_servers; }
    Session &session() { return *m_session; }
    UiDriver &ui() { return *m_ui; }

    [[nodiscard]] qint64 createAccount(const QString &name)
    {
        return m_servers.createAccount(name, Password) ? m_servers.accountId(name) : 0;
    }

    // Messages from `sender` to `recipient` with these subjects, oldest
    // first, straight into the store; their inbox entry ids.
    [[nodiscard]] QList<qint64> deliver(qint64 senderId, qint64 recipientId, const QStringList &subjects)
    {
        QList<QByteArray> raws;
        for (const QString &subject : subjects)
            raws.append(ClientTestServers::plainMessage(u"sender@project.com"_s, u"reader@project.com"_s, subject));
        return m_servers.storeMessages(senderId, recipientId, raws);
    }

    // The account's inbox as the store holds it, oldest first.
    [[nodiscard]] QList<MailboxEntry> inbox(qint64 ownerId)
    {
        Store store;
        if (!store.open(m_servers.config().database.sqlitePath, Store::OpenMode::MustExist))
            return {};
        return store.inbox(ownerId).value_or(QList<MailboxEntry>());
    }

    [[nodiscard]] bool logIn(const QString &name)
    {
        m_session->login(name, Password);
        return m_ui->waitFor([&] { return m_session->isLoggedIn(); })
            && m_ui->waitFor([&] { return m_ui->property(u"mailboxPage"_s, "visible").toBool(); })
            && m_ui->waitForRows(u"inboxModel"_s, 0);
    }

    [[nodiscard]] QAbstractItemModel *inboxModel() { return m_ui->find<QAbstractItemModel>(u"inboxModel"_s); }
    [[nodiscard]] QQuickItem *listView() { return m_ui->find<QQuickItem>(u"messageListView"_s); }

    [[nodiscard]] bool clickRow(int row) { return m_ui->clickListRow(u"messageListView"_s, row); }

    // The entry id of the highlighted row, 0 for none.
    [[nodiscard]] qint64 highlightedId()
    {
        const int row = listView()->property("currentIndex").toInt();
        QAbstractItemModel *model = inboxModel();
        return row < 0 || row >= model->rowCount() ? 0
                                                   : model->index(row, 0).data(model->roleNames().key("messageId")).toLongLong();
    }
    [[nodiscard]] QObject *child(const QString &parentName, const QString &name)
    {
        return m_ui->findIn(parentName, name);
    }
    [[nodiscard]] QString shownSubject()
    {
        QObject *label = child(u"messageView"_s, u"subject"_s);
        return label ? label->property("text").toString() : u"(no subject label)"_s;
    }
    [[nodiscard]] qint64 shownId() { return m_ui->property(u"messageController"_s, "messageId").toLongLong(); }

private:
    ClientTestServers m_servers;
    ClientSettings m_settings;
    std::unique_ptr<Session> m_session;
    std::unique_ptr<UiDriver> m_ui;
    bool m_valid = false;
};

} // namespace

class TestUiMailbox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_warnings = std::make_unique<QmlWarningCollector>(); }
    void cleanup()
    {
        const QStringList warnings = m_warnings->warnings();
        m_warnings.reset();
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(u'\n')));
    }

    void deleteActsOnTheMessageShownWhileMailArrives_data();
    void deleteActsOnTheMessageShownWhileMailArrives();
    void logOutLeavesNothingForTheNextAccount();
    void menusNameTheirShortcuts();
    void titleNamesTheAccountOnce();
    void passwordChangeIsConfirmed();

private:
    std::unique_ptr<QmlWarningCollector> m_warnings;
};

void TestUiMailbox::deleteActsOnTheMessageShownWhileMailArrives_data()
{
    QTest::addColumn<int>("burst");
    QTest::addColumn<bool>("byKey");
    // The page is 50 ("show the latest 50"): a burst within a page, one of
    // more than a page (the case that moved the highlight), one of several.
    QTest::newRow("10 new, Delete key") << 10 << true;
    QTest::newRow("60 new, Delete key") << 60 << true;
    QTest::newRow("60 new, Delete button") << 60 << false;
    QTest::newRow("160 new, Delete key") << 160 << true;
}

void TestUiMailbox::deleteActsOnTheMessageShownWhileMailArrives()
{
    QFETCH(int, burst);
    QFETCH(bool, byKey);
    Fixture f;
    QVERIFY(f.isValid());
    const qint64 reader = f.createAccount(u"reader"_s);
    const qint64 sender = f.createAccount(u"sender"_s);
    QVERIFY(reader > 0 && sender > 0);
    const QList<qint64> before = f.deliver(sender, reader, {u"Older message"_s, u"Message A"_s});
    QCOMPARE(before.size(), 2);
    const qint64 a = before.at(1);

    QVERIFY(f.logIn(u"reader"_s));
    QVERIFY(f.ui().waitForRows(u"inboxModel"_s, 2));
    QVERIFY(f.clickRow(0));
    QVERIFY(f.ui().waitFor([&] { return f.shownId() == a; }));
    QCOMPARE(f.shownSubject(), u"Message A"_s);
    QTRY_COMPARE(f.highlightedId(), a);

    QStringList subjects;
    for (int i = 0; i < burst; ++i)
        subjects.append(u"Burst message %1"_s.arg(i));
    const QList<qint64> burstIds = f.deliver(sender, reader, subjects);
    QCOMPARE(burstIds.size(), burst);
    QTest::keyClick(f.ui().window(), Qt::Key_F5);
    QVERIFY(f.ui().waitForRows(u"inboxModel"_s, burst + 2));

    // Still the same message everywhere: shown, highlighted, acted on.
    QTRY_COMPARE(f.highlightedId(), a);
    QCOMPARE(f.shownId(), a);
    QCOMPARE(f.shownSubject(), u"Message A"_s);
    QCOMPARE(f.inboxModel()->rowCount(), burst + 2);
    if (byKey) {
        f.listView()->forceActiveFocus();
        QTest::keyClick(f.ui().window(), Qt::Key_Delete);
    } else {
        QVERIFY(f.ui().click(u"deleteButton"_s));
    }
    QVERIFY(f.ui().waitFor([&] { return f.inboxModel()->rowCount() == burst + 1; }));
    QTRY_COMPARE(f.ui().property(u"status"_s, "text").toString(), u"Message deleted."_s);

    // In the store: A is gone, every other message is there and still unread.
    const QList<MailboxEntry> inbox = f.inbox(reader);
    QCOMPARE(inbox.size(), burst + 1);
    for (const MailboxEntry &entry : inbox) {
        QVERIFY2(entry.id != a, "Message A is still there");
        QVERIFY2(!entry.seen, qPrintable(entry.summary.subject + u" was marked seen"_s));
    }
    QCOMPARE(inbox.first().id, before.at(0));
    // Nothing is shown or highlighted that the user did not open.
    QCOMPARE(f.shownId(), 0);
    QTRY_COMPARE(f.highlightedId(), 0);
}

void TestUiMailbox::logOutLeavesNothingForTheNextAccount()
{
    Fixture f;
    QVERIFY(f.isValid());
    const qint64 alice = f.createAccount(u"alice"_s);
    const qint64 bob = f.createAccount(u"bob"_s);
    QVERIFY(alice > 0 && bob > 0);
    QCOMPARE(f.deliver(bob, alice, {u"For Alice"_s}).size(), 1);
    QCOMPARE(f.deliver(alice, bob, {u"For Bob"_s}).size(), 1);
    UiDriver &ui = f.ui();

    // Alice reads her mail, goes to Sent, opens a message there, has a
    // status line, a compose window half written and a choice of how many.
    QVERIFY(f.logIn(u"alice"_s));
    QVERIFY(ui.waitForRows(u"inboxModel"_s, 1));
    QVERIFY(f.clickRow(0));
    QVERIFY(ui.waitFor([&] { return ui.property(u"messageController"_s, "loaded").toBool(); }));
    QVERIFY(ui.click(u"markUnreadButton"_s));
    QTRY_COMPARE(ui.property(u"status"_s, "text").toString(), u"Marked as unread."_s);
    QVERIFY(ui.click(u"sentFolder"_s));
    QTRY_COMPARE(ui.property(u"mailboxPage"_s, "folder").toString(), u"sent"_s);
    QVERIFY(ui.waitForRows(u"sentModel"_s, 1));
    QVERIFY(f.clickRow(0));
    QVERIFY(ui.waitFor([&] { return ui.property(u"messageController"_s, "loaded").toBool(); }));
    QVERIFY(ui.setProperty(u"mailboxPage"_s, "latest", 7));
    QTest::keyClick(ui.window(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(ui.property(u"composeDialog"_s, "visible").toBool());
    auto *subject = qobject_cast<QQuickItem *>(f.child(u"composeDialog"_s, u"subject"_s));
    QVERIFY(subject);
    subject->forceActiveFocus();
    for (const char c : "Half written")
        if (c)
            QTest::keyClick(ui.window(), c);
    QCOMPARE(subject->property("text").toString(), u"Half written"_s);

    f.session().logout();
    QTRY_VERIFY(ui.property(u"loginPage"_s, "visible").toBool());
    QTRY_VERIFY(!ui.property(u"composeDialog"_s, "visible").toBool());

    QVERIFY(f.logIn(u"bob"_s));
    QCOMPARE(ui.property(u"mailboxPage"_s, "folder").toString(), u"inbox"_s);
    QCOMPARE(ui.property(u"mailboxPage"_s, "latest").toInt(), 50);
    QCOMPARE(ui.property(u"status"_s, "text").toString(), QString());
    QCOMPARE(ui.property(u"messageController"_s, "loaded").toBool(), false);
    QVERIFY(ui.property(u"noMessage"_s, "visible").toBool());
    QVERIFY(!ui.property(u"composeDialog"_s, "visible").toBool());
    QVERIFY(ui.waitForRows(u"inboxModel"_s, 1));
    QAbstractItemModel *inbox = f.inboxModel();
    QCOMPARE(inbox->rowCount(), 1);
    QCOMPARE(inbox->index(0, 0).data(inbox->roleNames().key("subject")).toString(), u"For Bob"_s);
    QCOMPARE(f.highlightedId(), 0);
    // A new message starts empty: nothing of Alice's draft.
    QTest::keyClick(ui.window(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(ui.property(u"composeDialog"_s, "visible").toBool());
    QCOMPARE(subject->property("text").toString(), QString());
    QCOMPARE(f.child(u"composeDialog"_s, u"to"_s)->property("text").toString(), QString());
}

void TestUiMailbox::menusNameTheirShortcuts()
{
    Fixture f;
    QVERIFY(f.isValid());
    QVERIFY(f.createAccount(u"carol"_s) > 0);
    QVERIFY(f.logIn(u"carol"_s));
    const QHash<QString, QString> expected{
        {u"&Reply"_s, u"Ctrl+R"_s},        {u"Reply &all"_s, u"Ctrl+Shift+R"_s},
        {u"&Forward"_s, u"Ctrl+L"_s},      {u"Mark as &unread"_s, u"Ctrl+U"_s},
        {u"&Delete"_s, u"Del"_s},          {u"&Compose…"_s, u"Ctrl+N"_s},
        {u"&Refresh"_s, u"F5"_s},          {u"&Quit"_s, u"Ctrl+Q"_s},
        {u"&Inbox"_s, u"Ctrl+1"_s},        {u"&Sent"_s, u"Ctrl+2"_s},
        {u"&Log out"_s, QString()},
    };
    // Every menu entry, as the menus lay them out.
    QHash<QString, QString> shown;
    const QList<QQuickItem *> items = f.ui().window()->findChildren<QQuickItem *>();
    for (QQuickItem *item : items) {
        if (!item->inherits("QQuickMenuItem"))
            continue;
        const auto *label = item->findChild<QQuickItem *>(u"shortcutText"_s);
        shown.insert(item->property("text").toString(), label ? label->property("text").toString() : u"(none)"_s);
    }
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        QVERIFY2(shown.contains(it.key()), qPrintable(u"no menu entry "_s + it.key()));
        QCOMPARE(shown.value(it.key()), it.value());
    }
}

void TestUiMailbox::titleNamesTheAccountOnce()
{
    Fixture f;
    QVERIFY(f.isValid());
    QVERIFY(f.createAccount(u"dave"_s) > 0);
    // The platform appends the application's display name to every title
    // ("… — Mailroom"): the title itself must not name it again.
    QVERIFY(!f.ui().window()->title().contains(u"Mailroom"_s));
    QVERIFY(f.logIn(u"dave"_s));
    QCOMPARE(f.ui().window()->title(), u"dave@project.com"_s);
    f.session().logout();
    QTRY_COMPARE(f.ui().window()->title(), QString());
}

void TestUiMailbox::passwordChangeIsConfirmed()
{
    Fixture f;
    QVERIFY(f.isValid());
    QVERIFY(f.createAccount(u"erin"_s) > 0);
    QVERIFY(f.logIn(u"erin"_s));
    UiDriver &ui = f.ui();
    QObject *dialog = ui.find(u"changePasswordDialog"_s);
    QVERIFY(dialog);
    QMetaObject::invokeMethod(dialog, "open");
    QTRY_VERIFY(dialog->property("opened").toBool());
    QVERIFY(ui.type(u"currentPassword"_s, Password));
    QVERIFY(ui.type(u"newPassword"_s, u"another-password-2"_s));
    QVERIFY(ui.type(u"confirmPassword"_s, u"another-password-2"_s));
    QTest::keyClick(ui.window(), Qt::Key_Return);
    QVERIFY(ui.waitFor([&] { return !dialog->property("visible").toBool(); }));
    QTRY_COMPARE(ui.property(u"status"_s, "text").toString(), u"Your password was changed."_s);
    // It took: the new password logs in, the old one does not.
    f.session().logout();
    QTRY_VERIFY(!f.session().isLoggedIn());
    f.session().login(u"erin"_s, Password);
    QVERIFY(ui.waitFor([&] { return f.session().state() == Session::State::LoggedOut && !f.session().errorString().isEmpty(); }));
    f.session().login(u"erin"_s, u"another-password-2"_s);
    QVERIFY(ui.waitFor([&] { return f.session().isLoggedIn(); }));
}

QTEST_MAIN(TestUiMailbox)
#include "tst_ui_mailbox.moc"
