// The first-run path of a person, through the real window (Main.qml) and the
// real servers: register (trusting the servers' certificate when asked, as on
// any first run), write to oneself with the keyboard shortcuts, find
// the message in the inbox and in Sent, read it, delete it, log out. Any QML
// warning on the way fails the test.

#include "clienttestservers.h"
#include "uidriver.h"

#include <QQuickItem>
#include <QTest>

using namespace Qt::StringLiterals;

class TestUiEndToEnd : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstRun();
};

void TestUiEndToEnd::firstRun()
{
    QmlWarningCollector qmlWarnings;
    ClientTestServers servers;
    QVERIFY(servers.start());
    ClientSettings settings;
    settings.smtp = servers.smtp();
    settings.web = servers.web();
    settings.pinFile = servers.path(u"pins.ini"_s);
    Session session(settings);
    UiDriver ui(session);
    QVERIFY(ui.load());
    QVERIFY(ui.property(u"loginPage"_s, "visible").toBool());
    QVERIFY(!ui.property(u"mailboxPage"_s, "visible").toBool());

    // Register: the confirmation field appears, a mismatch is caught before any connection.
    QVERIFY(ui.click(u"switchMode"_s));
    QTRY_VERIFY(ui.property(u"confirmation"_s, "visible").toBool());
    QVERIFY(ui.type(u"username"_s, u"dana"_s));
    QVERIFY(ui.type(u"password"_s, u"dana-password-1"_s));
    QVERIFY(ui.type(u"confirmation"_s, u"dana-password-2"_s));
    QVERIFY(ui.click(u"submit"_s));
    QCOMPARE(ui.property(u"loginError"_s, "text").toString(), u"The two passwords differ."_s);
    QCOMPARE(session.state(), Session::State::LoggedOut);
    QVERIFY(ui.setProperty(u"confirmation"_s, "text", QString()));
    QVERIFY(ui.type(u"confirmation"_s, u"dana-password-1"_s));
    QTest::keyClick(ui.window(), Qt::Key_Return); // Enter in the last field submits
    // The first contact (REG, to the SMTP server) asks before anything is sent.
    QVERIFY(ui.waitFor([&] { return ui.property(u"certificateDialog"_s, "opened").toBool(); }));
    QVERIFY(!session.isLoggedIn());
    QVERIFY(session.trustedCertificates().isEmpty());
    QCOMPARE(ui.property(u"presentedFingerprint"_s, "text").toString(),
             ServerTrust::displayFingerprint(servers.certificateFingerprint()));
    QVERIFY(ui.click(u"acceptCertificate"_s));
    QVERIFY(ui.waitFor([&] { return session.isLoggedIn(); }));
    QCOMPARE(session.account(), u"dana@project.com"_s);
    QTRY_VERIFY(ui.property(u"mailboxPage"_s, "visible").toBool());
    QVERIFY(!ui.property(u"certificateDialog"_s, "visible").toBool());
    // Both servers trusted: the web server presents the very certificate accepted for SMTP.
    QCOMPARE(session.trustedCertificates().size(), 2);
    QVERIFY(ui.waitForRows(u"inboxModel"_s, 0));
    QTRY_VERIFY(ui.property(u"emptyState"_s, "visible").toBool());

    // Ctrl+N, type, Ctrl+Return.
    QTest::keyClick(ui.window(), Qt::Key_N, Qt::ControlModifier);
    QTRY_VERIFY(ui.property(u"composeDialog"_s, "visible").toBool());
    QVERIFY(ui.type(u"to"_s, u"dana@@"_s));
    QTRY_VERIFY(!ui.property(u"recipientsError"_s, "text").toString().isEmpty());
    QVERIFY(!ui.property(u"send"_s, "enabled").toBool());
    QVERIFY(ui.setProperty(u"to"_s, "text", QString()));
    QVERIFY(ui.type(u"to"_s, u"dana"_s));
    QTRY_VERIFY(ui.property(u"recipientsError"_s, "text").toString().isEmpty());
    QVERIFY(ui.property(u"send"_s, "enabled").toBool());
    QVERIFY(ui.type(u"subject"_s, u"Note to self"_s));
    QVERIFY(ui.type(u"body"_s, u"Buy milk.\nCall Bob."_s));
    QTest::keyClick(ui.window(), Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(ui.waitFor([&] { return !ui.property(u"composeDialog"_s, "visible").toBool(); }));
    QCOMPARE(ui.property(u"status"_s, "text").toString(), u"Message sent to 1 recipient."_s);

    // F5, and it is in the inbox, unread; in Sent too.
    QTest::keyClick(ui.window(), Qt::Key_F5);
    QVERIFY(ui.waitForRows(u"inboxModel"_s, 1));
    auto *inbox = ui.find<QAbstractItemModel>(u"inboxModel"_s);
    QVERIFY(inbox);
    QCOMPARE(inbox->rowCount(), 1);
    const QModelIndex first = inbox->index(0, 0);
    QCOMPARE(first.data(inbox->roleNames().key("subject")).toString(), u"Note to self"_s);
    QCOMPARE(first.data(inbox->roleNames().key("seen")).toBool(), false);
    QCOMPARE(ui.property(u"inboxModel"_s, "unseenCount").toInt(), 1);
    QVERIFY(ui.waitForRows(u"sentModel"_s, 1));

    // Click it: it opens and becomes seen.
    auto *list = ui.find<QQuickItem>(u"messageListView"_s);
    QVERIFY(list);
    QTRY_VERIFY(list->property("count").toInt() == 1);
    const QPointF row = list->mapToScene(QPointF(list->width() / 2, 20));
    QTest::mouseClick(ui.window(), Qt::LeftButton, Qt::NoModifier, row.toPoint());
    QVERIFY(ui.waitFor([&] { return ui.property(u"messageController"_s, "loaded").toBool(); }));
    QCOMPARE(ui.findIn(u"messageView"_s, u"subject"_s)->property("text").toString(), u"Note to self"_s);
    QCOMPARE(ui.findIn(u"messageView"_s, u"from"_s)->property("text").toString(), u"dana@project.com"_s);
    QVERIFY(ui.property(u"messageController"_s, "text").toString().contains(u"Buy milk.\nCall Bob."_s));
    QVERIFY(ui.waitFor([&] { return ui.property(u"inboxModel"_s, "unseenCount").toInt() == 0; }));

    // Delete key: gone from the inbox, still in Sent.
    QTest::keyClick(ui.window(), Qt::Key_Delete);
    QVERIFY(ui.waitFor([&] { return inbox->rowCount() == 0; }));
    QVERIFY(ui.click(u"sentFolder"_s));
    QTRY_COMPARE(list->property("count").toInt(), 1);

    // Log out from the menu's action: back at the login page, the models empty.
    session.logout();
    QTRY_VERIFY(ui.property(u"loginPage"_s, "visible").toBool());
    QCOMPARE(inbox->rowCount(), 0);

    const QStringList warnings = qmlWarnings.warnings();
    QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(u'\n')));
}

QTEST_MAIN(TestUiEndToEnd)
#include "tst_ui_endtoend.moc"
