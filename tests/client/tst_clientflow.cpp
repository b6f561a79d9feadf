// The client library end to end, as the desktop app uses it: Session,
// InboxModel, MessageController and ComposeController against real
// mailroom-smtpd and mailroom-webd code (ClientTestServers) over real TLS on
// 127.0.0.1, trusting on first use with a pin file in the test's directory
// that already holds the servers' certificate (the question of first contact
// is tst_servertrust's).
// Every model is watched by QAbstractItemModelTester.

#include "apiclient.h"
#include "clienttestservers.h"
#include "composecontroller.h"
#include "inboxmodel.h"
#include "messagecontroller.h"
#include "servertrust.h"
#include "session.h"
#include "smtpclient.h"

#include <QAbstractItemModelTester>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

constexpr int WaitMs = 20000;
const QString AlicePassword = u"alice-secret-1"_s;
const QString BobPassword = u"bob-secret-12"_s;

} // namespace

class TestClientFlow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void registerSendReadSeenDelete();
    void registerRefusals_data();
    void registerRefusals();
    void wrongPassword();
    void serverDown();
    void certificateChangedAfterPinning();
    void nonAsciiRoundTrip();
    void replyPrefill();
    void pagingRefreshAndRemoval();
    void sessionExpiresWhenTokenEnds();
    void changePassword();
    void composeValidation();
    void unusableCaFileRefusesEverything();
    void pagingRacingARefreshLeavesNoGap();
    void sessionDestroyedMidRequest();

private:
    std::unique_ptr<Session> makeSession();
    bool logIn(Session &session, const QString &username, const QString &password);
    bool send(Session &session, const QString &to, const QString &subject, const QString &body);
    static bool settle(InboxModel &model);
    enum class Tester { Attached, None };
    std::unique_ptr<InboxModel> makeModel(Session &session, const QString &folder, int limit = 50,
                                          Tester tester = Tester::Attached);

    std::unique_ptr<ClientTestServers> m_servers;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;
};

void TestClientFlow::init()
{
    m_servers = std::make_unique<ClientTestServers>();
    QVERIFY(m_servers->isValid());
    QVERIFY(m_servers->start());
    QVERIFY(m_servers->createAccount(u"bob"_s, BobPassword));
}

void TestClientFlow::cleanup()
{
    m_testers.clear();
    m_servers.reset();
}

std::unique_ptr<Session> TestClientFlow::makeSession()
{
    ClientSettings settings;
    settings.smtp = m_servers->smtp();
    settings.web = m_servers->web();
    settings.pinFile = m_servers->path(u"pins.ini"_s);
    settings.timeoutMs = WaitMs;
    if (!m_servers->pinCertificate(settings.pinFile))
        qWarning() << "cannot pin the test servers' certificate in" << settings.pinFile;
    return std::make_unique<Session>(settings);
}

bool TestClientFlow::logIn(Session &session, const QString &username, const QString &password)
{
    QSignalSpy loggedIn(&session, &Session::loggedIn);
    QSignalSpy failed(&session, &Session::loginFailed);
    session.login(username, password);
    if (!QTest::qWaitFor([&] { return !loggedIn.isEmpty() || !failed.isEmpty(); }, WaitMs))
        return false;
    if (!failed.isEmpty())
        qWarning() << "login failed:" << failed.first().first().toString();
    return !loggedIn.isEmpty() && session.isLoggedIn();
}

bool TestClientFlow::send(Session &session, const QString &to, const QString &subject, const QString &body)
{
    ComposeController compose;
    compose.setSession(&session);
    compose.setTo(to);
    compose.setSubject(subject);
    compose.setBody(body);
    if (!compose.canSend()) {
        qWarning() << "cannot send:" << compose.recipientsError();
        return false;
    }
    QSignalSpy sent(&compose, &ComposeController::sent);
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    compose.send();
    if (!QTest::qWaitFor([&] { return !sent.isEmpty() || !failed.isEmpty(); }, WaitMs))
        return false;
    if (!failed.isEmpty())
        qWarning() << "send failed:" << failed.first().first().toString();
    return !sent.isEmpty() && compose.state() == ComposeController::State::Sent;
}

bool TestClientFlow::settle(InboxModel &model)
{
    return QTest::qWaitFor([&] { return !model.isLoading(); }, WaitMs);
}

// The tester checks every change the model announces.
std::unique_ptr<InboxModel> TestClientFlow::makeModel(Session &session, const QString &folder, int limit, Tester tester)
{
    auto model = std::make_unique<InboxModel>();
    if (tester == Tester::Attached)
        m_testers.push_back(std::make_unique<QAbstractItemModelTester>(
            model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest));
    model->setFolder(folder);
    model->setLimit(limit);
    model->setSession(&session);
    return model;
}

void TestClientFlow::registerSendReadSeenDelete()
{
    auto alice = makeSession();
    QSignalSpy registered(alice.get(), &Session::registered);
    QSignalSpy pinned(alice.get(), &Session::certificatePinned);
    QSignalSpy loggedIn(alice.get(), &Session::loggedIn);
    QSignalSpy states(alice.get(), &Session::stateChanged);
    alice->registerAccount(u"Alice"_s, AlicePassword);
    QCOMPARE(alice->state(), Session::State::Busy);
    QVERIFY(loggedIn.wait(WaitMs));
    QCOMPARE(registered.size(), 1);
    QCOMPARE(registered.first().first().toString(), u"alice@project.com"_s);
    QCOMPARE(alice->account(), u"alice@project.com"_s);
    QCOMPARE(alice->username(), u"alice"_s);
    QCOMPARE(alice->domain(), u"project.com"_s);
    QCOMPARE(alice->state(), Session::State::LoggedIn);
    QVERIFY(alice->errorString().isEmpty());
    // Both certificates were pinned before: nothing asked, nothing pinned anew.
    QCOMPARE(pinned.size(), 0);
    QCOMPARE(alice->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(alice->trustedCertificates().size(), 2);

    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob@project.com"_s, BobPassword));
    QCOMPARE(bob->account(), u"bob@project.com"_s);

    auto aliceInbox = makeModel(*alice, u"inbox"_s);
    auto aliceSent = makeModel(*alice, u"sent"_s);
    auto bobInbox = makeModel(*bob, u"inbox"_s);
    QVERIFY(settle(*aliceInbox) && settle(*aliceSent) && settle(*bobInbox));
    QCOMPARE(aliceInbox->rowCount(), 0);
    QCOMPARE(bobInbox->rowCount(), 0);

    // To self and to another account, bare name and full address mixed.
    QVERIFY(send(*alice, u"alice; Bob <bob@project.com>"_s, u"Lunch"_s, u"At noon?\n.\nA"_s));

    for (InboxModel *model : {aliceInbox.get(), aliceSent.get(), bobInbox.get()}) {
        QSignalSpy reset(model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(model, &QAbstractItemModel::rowsInserted);
        model->refresh();
        QVERIFY(settle(*model));
        QCOMPARE(model->rowCount(), 1);
        QCOMPARE(reset.size(), 0); // merged, not reset
        QCOMPARE(inserted.size(), 1);
        const QModelIndex row = model->index(0);
        QCOMPARE(row.data(InboxModel::SubjectRole).toString(), u"Lunch"_s);
        QCOMPARE(row.data(InboxModel::FromAddressRole).toString(), u"alice@project.com"_s);
        QCOMPARE(row.data(InboxModel::ToRole).toString(), u"alice@project.com, Bob <bob@project.com>"_s);
        QVERIFY(row.data(InboxModel::DateRole).toDateTime().isValid());
        QVERIFY(row.data(InboxModel::IdRole).toLongLong() > 0);
        QCOMPARE(row.data(InboxModel::PreviewRole).toString(), u"At noon? . A"_s);
    }
    QCOMPARE(aliceSent->index(0).data(InboxModel::SeenRole).toBool(), true); // sent entries start seen
    QCOMPARE(bobInbox->index(0).data(InboxModel::SeenRole).toBool(), false);
    QCOMPARE(bobInbox->unseenCount(), 1);
    QCOMPARE(bobInbox->totalCount(), 1);

    // Mark seen: the row changes in place and the server keeps it.
    QSignalSpy changed(bobInbox.get(), &QAbstractItemModel::dataChanged);
    bobInbox->markSeen(0);
    QVERIFY(changed.wait(WaitMs));
    QCOMPARE(changed.first().at(2).value<QList<int>>(), QList<int>{InboxModel::SeenRole});
    QCOMPARE(bobInbox->index(0).data(InboxModel::SeenRole).toBool(), true);
    QCOMPARE(bobInbox->unseenCount(), 0);
    {
        auto again = makeModel(*bob, u"inbox"_s);
        QVERIFY(settle(*again));
        QCOMPARE(again->rowCount(), 1);
        QCOMPARE(again->index(0).data(InboxModel::SeenRole).toBool(), true);
        QCOMPARE(again->unseenCount(), 0);
    }

    // Delete from Bob's view only.
    QSignalSpy removed(bobInbox.get(), &QAbstractItemModel::rowsRemoved);
    bobInbox->remove(0);
    QVERIFY(removed.wait(WaitMs));
    QCOMPARE(bobInbox->rowCount(), 0);
    QCOMPARE(bobInbox->totalCount(), 0);
    bobInbox->refresh();
    QVERIFY(settle(*bobInbox));
    QCOMPARE(bobInbox->rowCount(), 0);
    aliceInbox->refresh();
    QVERIFY(settle(*aliceInbox));
    QCOMPARE(aliceInbox->rowCount(), 1);

    // Logging out empties the models.
    QSignalSpy loggedOut(alice.get(), &Session::loggedOut);
    alice->logout();
    QCOMPARE(loggedOut.size(), 1);
    QCOMPARE(alice->state(), Session::State::LoggedOut);
    QCOMPARE(aliceInbox->rowCount(), 0);
    QVERIFY(alice->account().isEmpty());
    QVERIFY(alice->credentials().password.isEmpty());
}

void TestClientFlow::registerRefusals_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("message");
    QTest::newRow("taken") << u"bob"_s << u"another-pass"_s << u"already taken"_s;
    QTest::newRow("taken, other case") << u"BOB"_s << u"another-pass"_s << u"already taken"_s;
    QTest::newRow("bad name") << u"bob smith"_s << u"another-pass"_s << u"user name is 1 to 64"_s;
    QTest::newRow("short password") << u"carol"_s << u"short"_s << u"8 to 128"_s;
}

void TestClientFlow::registerRefusals()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(QString, message);
    auto session = makeSession();
    QSignalSpy failed(session.get(), &Session::loginFailed);
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    session->registerAccount(username, password);
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, WaitMs);
    QVERIFY2(failed.first().first().toString().contains(message), qPrintable(failed.first().first().toString()));
    QCOMPARE(session->errorString(), failed.first().first().toString());
    QCOMPARE(session->state(), Session::State::LoggedOut);
    QCOMPARE(loggedIn.size(), 0);
}

void TestClientFlow::wrongPassword()
{
    auto session = makeSession();
    QSignalSpy failed(session.get(), &Session::loginFailed);
    session->login(u"bob"_s, u"not-the-password"_s);
    QVERIFY(failed.wait(WaitMs));
    QCOMPARE(failed.first().first().toString(), u"The user name or password is wrong."_s);
    QCOMPARE(session->state(), Session::State::LoggedOut);
    QCOMPARE(session->errorString(), u"The user name or password is wrong."_s);
    QVERIFY(!session->api()->hasToken());

    // Unknown accounts look the same.
    session->login(u"nobody"_s, u"not-the-password"_s);
    QVERIFY(failed.wait(WaitMs));
    QCOMPARE(failed.last().first().toString(), u"The user name or password is wrong."_s);
}

void TestClientFlow::serverDown()
{
    auto session = makeSession();
    QVERIFY(logIn(*session, u"bob"_s, BobPassword));

    // SMTP down: sending fails with the address in the sentence.
    m_servers->stopSmtp();
    ComposeController compose;
    compose.setSession(session.get());
    compose.setTo(u"bob"_s);
    compose.setSubject(u"s"_s);
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    compose.send();
    QVERIFY(failed.wait(WaitMs));
    const QString expected = u"Cannot reach the server at %1; is it running?"_s.arg(m_servers->smtp().toString());
    QCOMPARE(failed.first().first().toString(), expected);
    QCOMPARE(compose.state(), ComposeController::State::Failed);
    QCOMPARE(compose.errorString(), expected);
    QCOMPARE(session->errorString(), expected);

    // Web down: the model says so and keeps its rows; a login says so too.
    auto model = makeModel(*session, u"inbox"_s);
    QVERIFY(settle(*model));
    m_servers->stopWeb();
    QSignalSpy modelFailed(model.get(), &InboxModel::failed);
    model->refresh();
    QVERIFY(modelFailed.wait(WaitMs));
    QCOMPARE(model->errorString(), u"Cannot reach the server at %1; is it running?"_s.arg(m_servers->web().toString()));

    auto other = makeSession();
    QSignalSpy loginFailed(other.get(), &Session::loginFailed);
    other->login(u"bob"_s, BobPassword);
    QVERIFY(loginFailed.wait(WaitMs));
    QCOMPARE(loginFailed.first().first().toString(),
             u"Cannot reach the server at %1; is it running?"_s.arg(m_servers->web().toString()));
    QCOMPARE(other->state(), Session::State::LoggedOut);
}

void TestClientFlow::certificateChangedAfterPinning()
{
    {
        auto session = makeSession();
        QVERIFY(logIn(*session, u"bob"_s, BobPassword));
        session->logout();
    }
    const QString pinnedBefore = QSettings(m_servers->path(u"pins.ini"_s), QSettings::IniFormat).allKeys().join(u',');
    QVERIFY(!pinnedBefore.isEmpty());

    const QString certificate = m_servers->path(u"other-cert.pem"_s);
    const QString key = m_servers->path(u"other-key.pem"_s);
    QVERIFY(m_servers->makeCertificate(certificate, key));
    m_servers->stopWeb();
    QVERIFY(m_servers->startWeb(certificate, key));
    const QString newFingerprint = ServerTrust::fingerprint(QSslCertificate::fromPath(certificate).value(0));

    auto session = makeSession();
    QSignalSpy failed(session.get(), &Session::loginFailed);
    QSignalSpy pinned(session.get(), &Session::certificatePinned);
    session->login(u"bob"_s, BobPassword);
    QVERIFY(failed.wait(WaitMs));
    QVERIFY2(failed.first().first().toString().contains(u"presented a different certificate"_s),
             qPrintable(failed.first().first().toString()));
    QCOMPARE(session->state(), Session::State::LoggedOut);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::Changed);
    QCOMPARE(session->certificateQuestionServer(), m_servers->web().toString());
    QCOMPARE(session->certificateQuestionFingerprint(), newFingerprint);
    QCOMPARE(pinned.size(), 0);

    // Refused again on retry: nothing was silently accepted.
    session->login(u"bob"_s, BobPassword);
    QVERIFY(failed.wait(WaitMs));
    QCOMPARE(session->state(), Session::State::LoggedOut);

    // Accepting anything but what was shown does nothing.
    session->acceptCertificate(m_servers->web().toString(), u"AA:BB"_s);
    QCOMPARE(session->certificateQuestionFingerprint(), newFingerprint);
    QVERIFY(session->trust()->pinnedFingerprint(m_servers->web()) != newFingerprint);

    // The user compared the fingerprint and accepts it: the login resumes.
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    session->acceptCertificate(m_servers->web().toString(), newFingerprint);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->web()), newFingerprint);
    QVERIFY(loggedIn.wait(WaitMs));
    QVERIFY(session->isLoggedIn());
}

void TestClientFlow::nonAsciiRoundTrip()
{
    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    const QString subject = u"Grüße aus Köln – 你好 🎉 and a rather long subject line that has to be folded somewhere"_s;
    const QString body = u"Zürich, Ærø, Ελληνικά, 日本語, emoji 😀.\n"
                         u".a line that starts with a dot\n"
                         u"trailing spaces   \n"
                         u"=3D looks encoded but is not\n"
                         u"a very long line "_s
        + QString(300, u'x') + u"\nlast line"_s;
    QVERIFY(send(*bob, u"bob"_s, subject, body));

    auto inbox = makeModel(*bob, u"inbox"_s);
    QVERIFY(settle(*inbox));
    QCOMPARE(inbox->rowCount(), 1);
    QCOMPARE(inbox->index(0).data(InboxModel::SubjectRole).toString(), subject);

    MessageController message;
    message.setSession(bob.get());
    QSignalSpy loaded(&message, &MessageController::loaded);
    message.load(inbox->idAt(0));
    QCOMPARE(message.isLoading(), true);
    QVERIFY(loaded.wait(WaitMs));
    QCOMPARE(message.subject(), subject);
    QString text = message.text();
    text.replace(u"\r\n"_s, u"\n"_s);
    while (text.endsWith(u'\n'))
        text.chop(1);
    QCOMPARE(text, body);
    QCOMPARE(message.fromAddress(), u"bob@project.com"_s);
    QCOMPARE(message.to(), u"bob@project.com"_s);
    QCOMPARE(message.isSeen(), false); // reading does not mark seen
    QVERIFY(message.header(u"message-id"_s).startsWith(u'<'));
    QCOMPARE(message.header(u"Content-Type"_s), u"text/plain; charset=UTF-8"_s);
    QVERIFY(!message.headers().isEmpty());
    QVERIFY(message.attachments().isEmpty());

    // A missing message: a clear error, nothing loaded.
    QSignalSpy loadFailed(&message, &MessageController::loadFailed);
    message.clear();
    message.load(999999);
    QVERIFY(loadFailed.wait(WaitMs));
    QCOMPARE(message.errorString(), u"That message no longer exists."_s);
    QVERIFY(!message.isLoaded());
}

void TestClientFlow::replyPrefill()
{
    QVERIFY(m_servers->createAccount(u"alice"_s, AlicePassword));
    auto alice = makeSession();
    auto bob = makeSession();
    QVERIFY(logIn(*alice, u"alice"_s, AlicePassword));
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    QVERIFY(send(*alice, u"bob"_s, u"Plans"_s, u"Shall we?\n> not a quote\n"_s));

    auto bobInbox = makeModel(*bob, u"inbox"_s);
    QVERIFY(settle(*bobInbox));
    QCOMPARE(bobInbox->rowCount(), 1);
    MessageController original;
    original.setSession(bob.get());
    QSignalSpy loaded(&original, &MessageController::loaded);
    original.load(bobInbox->idAt(0));
    QVERIFY(loaded.wait(WaitMs));
    const QString originalId = original.header(u"Message-ID"_s);
    QVERIFY(originalId.startsWith(u'<') && originalId.endsWith(u'>'));

    ComposeController reply;
    reply.setSession(bob.get());
    QSignalSpy ready(&reply, &ComposeController::replyReady);
    reply.replyTo(bobInbox->idAt(0));
    QCOMPARE(reply.state(), ComposeController::State::Preparing);
    QVERIFY(ready.wait(WaitMs));
    QCOMPARE(reply.to(), u"alice@project.com"_s);
    QCOMPARE(reply.subject(), u"Re: Plans"_s);
    QVERIFY2(reply.body().contains(u"\n> Shall we?\n>> not a quote\n"_s), qPrintable(reply.body()));
    QVERIFY2(reply.body().contains(u"alice@project.com wrote:"_s), qPrintable(reply.body()));
    QCOMPARE(reply.inReplyTo(), originalId);
    QCOMPARE(reply.references(), QStringList{originalId});
    QVERIFY(reply.isReply());
    QVERIFY(reply.canSend());

    QSignalSpy sent(&reply, &ComposeController::sent);
    reply.send();
    QVERIFY(sent.wait(WaitMs));

    // Alice sees the reply threaded; a reply to the reply keeps the chain.
    auto aliceInbox = makeModel(*alice, u"inbox"_s);
    QVERIFY(settle(*aliceInbox));
    QCOMPARE(aliceInbox->rowCount(), 1);
    QCOMPARE(aliceInbox->index(0).data(InboxModel::SubjectRole).toString(), u"Re: Plans"_s);
    MessageController answer;
    answer.setSession(alice.get());
    QSignalSpy answerLoaded(&answer, &MessageController::loaded);
    answer.load(aliceInbox->idAt(0));
    QVERIFY(answerLoaded.wait(WaitMs));
    QCOMPARE(answer.header(u"In-Reply-To"_s), originalId);
    QCOMPARE(answer.header(u"References"_s), originalId);

    ComposeController second;
    second.setSession(alice.get());
    QSignalSpy secondReady(&second, &ComposeController::replyReady);
    second.replyTo(aliceInbox->idAt(0));
    QVERIFY(secondReady.wait(WaitMs));
    QCOMPARE(second.subject(), u"Re: Plans"_s); // not "Re: Re:"
    QCOMPARE(second.references(), (QStringList{originalId, answer.header(u"Message-ID"_s)}));
    QCOMPARE(second.inReplyTo(), answer.header(u"Message-ID"_s));

    // Replying to one's own sent message goes to its recipients.
    auto aliceSent = makeModel(*alice, u"sent"_s);
    QVERIFY(settle(*aliceSent));
    ComposeController own;
    own.setSession(alice.get());
    QSignalSpy ownReady(&own, &ComposeController::replyReady);
    own.replyTo(aliceSent->idAt(0));
    QVERIFY(ownReady.wait(WaitMs));
    QCOMPARE(own.to(), u"bob@project.com"_s);

    // clear() forgets the reply.
    own.clear();
    QVERIFY(!own.isReply());
    QVERIFY(own.to().isEmpty() && own.subject().isEmpty() && own.body().isEmpty());
}

void TestClientFlow::pagingRefreshAndRemoval()
{
    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    for (int i = 1; i <= 12; ++i)
        QVERIFY(send(*bob, u"bob"_s, u"Message %1"_s.arg(i), u"Body"_s));

    // Paging by hand: exactly a page per fetchMore(), newest first.
    auto paged = makeModel(*bob, u"inbox"_s, 5, Tester::None);
    QVERIFY(settle(*paged));
    QCOMPARE(paged->rowCount(), 5);
    QCOMPARE(paged->index(0).data(InboxModel::SubjectRole).toString(), u"Message 12"_s);
    QCOMPARE(paged->index(4).data(InboxModel::SubjectRole).toString(), u"Message 8"_s);
    QVERIFY(paged->hasMore());
    QVERIFY(!paged->canFetchMore({})); // views never page on their own: the user chose 5
    QCOMPARE(paged->unseenCount(), 12);
    QCOMPARE(paged->totalCount(), 12);
    paged->fetchMore();
    QVERIFY(settle(*paged));
    QCOMPARE(paged->rowCount(), 10);
    paged->fetchMore();
    QVERIFY(settle(*paged));
    QCOMPARE(paged->rowCount(), 12);
    QVERIFY(!paged->hasMore());

    // The same under the model tester, which calls fetchMore(QModelIndex) as views do: no effect.
    auto inbox = makeModel(*bob, u"inbox"_s, 5);
    QVERIFY(settle(*inbox));
    QCOMPARE(inbox->rowCount(), 5);
    while (inbox->hasMore()) {
        inbox->fetchMore();
        QVERIFY(settle(*inbox));
    }
    QCOMPARE(inbox->rowCount(), 12);
    for (int row = 0; row < 12; ++row)
        QCOMPARE(inbox->index(row).data(InboxModel::SubjectRole).toString(), u"Message %1"_s.arg(12 - row));

    // Another client (a second session of Bob): one new message, one deleted,
    // one marked seen. A refresh merges all three without a reset.
    auto elsewhere = makeSession();
    QVERIFY(logIn(*elsewhere, u"bob"_s, BobPassword));
    auto other = makeModel(*elsewhere, u"inbox"_s, 5);
    QVERIFY(settle(*other));
    const qint64 deletedId = other->idAt(1);  // "Message 11"
    const qint64 seenId = other->idAt(2);     // "Message 10"
    QSignalSpy otherRemoved(other.get(), &QAbstractItemModel::rowsRemoved);
    other->remove(1);
    QVERIFY(otherRemoved.wait(WaitMs));
    QSignalSpy otherChanged(other.get(), &QAbstractItemModel::dataChanged);
    other->markSeen(other->rowOf(seenId));
    QVERIFY(otherChanged.wait(WaitMs));
    QVERIFY(send(*elsewhere, u"bob"_s, u"Message 13"_s, u"Body"_s));

    QSignalSpy reset(inbox.get(), &QAbstractItemModel::modelReset);
    QSignalSpy inserted(inbox.get(), &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(inbox.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy changed(inbox.get(), &QAbstractItemModel::dataChanged);
    inbox->refresh();
    QVERIFY(settle(*inbox));
    QCOMPARE(reset.size(), 0);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 0); // at the top
    QCOMPARE(inserted.first().at(2).toInt(), 0);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(inbox->rowCount(), 12);
    QCOMPARE(inbox->index(0).data(InboxModel::SubjectRole).toString(), u"Message 13"_s);
    QCOMPARE(inbox->rowOf(deletedId), -1);
    QCOMPARE(inbox->index(inbox->rowOf(seenId)).data(InboxModel::SeenRole).toBool(), true);
    QCOMPARE(inbox->index(11).data(InboxModel::SubjectRole).toString(), u"Message 1"_s);
    QCOMPARE(inbox->unseenCount(), 11);
    QCOMPARE(inbox->totalCount(), 12);

    // More new mail than a page: the refresh pages back until it reaches
    // the rows shown, so none of them (the open message, say) is dropped,
    // and nothing is reset under a view.
    for (int i = 14; i <= 20; ++i)
        QVERIFY(send(*bob, u"bob"_s, u"Message %1"_s.arg(i), u"Body"_s));
    QSignalSpy pagedReset(paged.get(), &QAbstractItemModel::modelReset);
    paged->refresh();
    QVERIFY(settle(*paged));
    QCOMPARE(pagedReset.size(), 0);
    QCOMPARE(paged->rowCount(), 19); // 12 - 1 deleted + 1 + 7, all of them shown before or new
    QCOMPARE(paged->index(0).data(InboxModel::SubjectRole).toString(), u"Message 20"_s);
    QCOMPARE(paged->index(6).data(InboxModel::SubjectRole).toString(), u"Message 14"_s);
    QCOMPARE(paged->index(18).data(InboxModel::SubjectRole).toString(), u"Message 1"_s);
    inbox->refresh();
    QVERIFY(settle(*inbox));
    QCOMPARE(reset.size(), 0);
    QCOMPARE(inbox->rowCount(), 19);
    QCOMPARE(inbox->index(0).data(InboxModel::SubjectRole).toString(), u"Message 20"_s);
    for (int row = 0; row < 19; ++row)
        QCOMPARE(inbox->idAt(row), paged->idAt(row));

    // Removing a row another client already deleted just drops it.
    const qint64 goneId = inbox->idAt(2);
    ApiCall *call = elsewhere->api()->deleteMessage(goneId);
    QSignalSpy done(call, &ApiCall::succeeded);
    QVERIFY(done.wait(WaitMs));
    QSignalSpy droppedRow(inbox.get(), &QAbstractItemModel::rowsRemoved);
    QSignalSpy failed(inbox.get(), &InboxModel::failed);
    inbox->remove(2);
    QVERIFY(droppedRow.wait(WaitMs));
    QCOMPARE(inbox->rowOf(goneId), -1);
    QCOMPARE(failed.size(), 0);

    // Changing the folder or the limit starts over.
    paged->setLimit(3);
    QVERIFY(settle(*paged));
    QCOMPARE(paged->rowCount(), 3);
    QCOMPARE(paged->index(0).data(InboxModel::SubjectRole).toString(), u"Message 20"_s);
    paged->setFolder(u"sent"_s);
    QVERIFY(settle(*paged));
    QCOMPARE(paged->folder(), u"sent"_s);
    QCOMPARE(paged->rowCount(), 3);
    QCOMPARE(paged->index(0).data(InboxModel::SubjectRole).toString(), u"Message 20"_s);
    QCOMPARE(paged->index(0).data(InboxModel::SeenRole).toBool(), true);
    inbox->setFolder(u"sent"_s);
    QVERIFY(settle(*inbox));
    while (inbox->hasMore()) {
        inbox->fetchMore();
        QVERIFY(settle(*inbox));
    }
    QCOMPARE(inbox->rowCount(), 20); // every message Bob sent (from both sessions); deletions were inbox entries
}

void TestClientFlow::sessionExpiresWhenTokenEnds()
{
    auto first = makeSession();
    auto second = makeSession();
    QVERIFY(logIn(*first, u"bob"_s, BobPassword));
    QVERIFY(logIn(*second, u"bob"_s, BobPassword));
    auto model = makeModel(*first, u"inbox"_s);
    QVERIFY(settle(*model));

    // A password change in the second session ends every other token.
    QSignalSpy changed(second.get(), &Session::passwordChanged);
    second->changePassword(BobPassword, u"bob-new-secret"_s);
    QVERIFY(changed.wait(WaitMs));

    QSignalSpy loggedOut(first.get(), &Session::loggedOut);
    model->refresh();
    QVERIFY(loggedOut.wait(WaitMs));
    QCOMPARE(first->state(), Session::State::LoggedOut);
    QCOMPARE(first->errorString(), u"Your session has expired; log in again."_s);
    QCOMPARE(model->rowCount(), 0);
    QVERIFY(second->isLoggedIn());
}

void TestClientFlow::changePassword()
{
    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    QSignalSpy failed(bob.get(), &Session::passwordChangeFailed);
    QSignalSpy changed(bob.get(), &Session::passwordChanged);

    bob->changePassword(u"wrong-current"_s, u"bob-new-secret"_s);
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.last().first().toString(), u"The current password is wrong."_s);
    bob->changePassword(BobPassword, u"short"_s);
    QCOMPARE(failed.size(), 2);
    QCOMPARE(failed.last().first().toString(), u"A password has 8 to 128 characters."_s);

    bob->changePassword(BobPassword, u"bob-new-secret"_s);
    QVERIFY(changed.wait(WaitMs));
    QVERIFY(bob->isLoggedIn());
    // SMTP AUTH now uses the new password.
    QVERIFY(send(*bob, u"bob"_s, u"After the change"_s, u"Body"_s));

    auto old = makeSession();
    QSignalSpy oldFailed(old.get(), &Session::loginFailed);
    old->login(u"bob"_s, BobPassword);
    QVERIFY(oldFailed.wait(WaitMs));
    QVERIFY(logIn(*old, u"bob"_s, u"bob-new-secret"_s));
}

void TestClientFlow::composeValidation()
{
    auto bob = makeSession();
    ComposeController compose;
    compose.setSession(bob.get());
    QSignalSpy canSendChanged(&compose, &ComposeController::canSendChanged);
    compose.setTo(u"alice"_s);
    QVERIFY(!compose.canSend()); // not logged in
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    QVERIFY(compose.canSend());
    QCOMPARE(canSendChanged.size(), 1);
    QCOMPARE(compose.recipients(), QStringList{u"alice@project.com"_s});

    compose.setTo(u"alice, bob@@project.com"_s);
    QVERIFY(!compose.canSend());
    QVERIFY(compose.recipientsError().contains(u"bob@@project.com"_s));
    QSignalSpy failed(&compose, &ComposeController::sendFailed);
    compose.send();
    QCOMPARE(failed.size(), 1);
    QCOMPARE(compose.state(), ComposeController::State::Failed);

    // An unknown local recipient: the server's 550 names the address, nothing is sent.
    compose.setTo(u"bob, nobody"_s);
    QVERIFY(compose.canSend());
    compose.send();
    QCOMPARE(compose.state(), ComposeController::State::Sending);
    QVERIFY(!compose.canSend()); // no double send while busy
    QVERIFY(failed.wait(WaitMs));
    QCOMPARE(failed.last().first().toString(), u"There is no account nobody@project.com."_s);
    auto inbox = makeModel(*bob, u"inbox"_s);
    QVERIFY(settle(*inbox));
    QCOMPARE(inbox->rowCount(), 0);

    // Outside the domain: refused by the server with a sentence about relaying.
    compose.setTo(u"someone@example.org"_s);
    compose.send();
    QVERIFY(failed.wait(WaitMs));
    QVERIFY2(failed.last().first().toString().contains(u"outside this mail system"_s),
             qPrintable(failed.last().first().toString()));
}

void TestClientFlow::unusableCaFileRefusesEverything()
{
    ClientSettings settings;
    settings.smtp = m_servers->smtp();
    settings.web = m_servers->web();
    settings.pinFile = m_servers->path(u"pins.ini"_s);
    settings.caCertificateFile = m_servers->path(u"no-such-ca.pem"_s); // a typo
    Session session(settings);
    QVERIFY(session.usesCaFile());
    QVERIFY(session.errorString().contains(u"no-such-ca.pem"_s));
    QSignalSpy failed(&session, &Session::loginFailed);
    QSignalSpy pinned(&session, &Session::certificatePinned);
    session.login(u"bob"_s, BobPassword);
    QCOMPARE(failed.size(), 1); // at once: no connection is even tried
    QVERIFY(failed.first().first().toString().contains(u"not trusted"_s));
    session.registerAccount(u"carol"_s, u"carol-secret-1"_s);
    QCOMPARE(failed.size(), 2);
    QCOMPARE(session.state(), Session::State::LoggedOut);
    QCOMPARE(pinned.size(), 0);
    QVERIFY(QSettings(settings.pinFile, QSettings::IniFormat).allKeys().isEmpty());

    // The jobs themselves refuse too (ServerTrust never falls back to pinning).
    SmtpJob *job = session.smtp()->ping();
    QSignalSpy jobFailed(job, &SmtpJob::failed);
    QSignalSpy jobSucceeded(job, &SmtpJob::succeeded);
    QVERIFY(jobFailed.wait(WaitMs));
    QCOMPARE(jobFailed.first().first().value<ClientError>().kind, ClientError::Kind::Untrusted);
    QCOMPARE(jobSucceeded.size(), 0);
    QVERIFY(QSettings(settings.pinFile, QSettings::IniFormat).allKeys().isEmpty());
}

// A fetchMore() and a refresh() that replaces the rows may answer in either
// order; the list must stay the newest messages without a hole.
void TestClientFlow::pagingRacingARefreshLeavesNoGap()
{
    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    for (int i = 1; i <= 5; ++i)
        QVERIFY(send(*bob, u"bob"_s, u"Old %1"_s.arg(i), u"Body"_s));
    auto inbox = makeModel(*bob, u"inbox"_s, 2, Tester::None);
    QVERIFY(settle(*inbox));
    QCOMPARE(inbox->rowCount(), 2);
    for (int i = 1; i <= 3; ++i)
        QVERIFY(send(*bob, u"bob"_s, u"New %1"_s.arg(i), u"Body"_s));

    for (int round = 0; round < 2; ++round) {
        if (round == 0) {
            inbox->fetchMore();
            inbox->refresh();
        } else {
            inbox->refresh();
            inbox->fetchMore();
        }
        QVERIFY(settle(*inbox));
        while (inbox->hasMore()) {
            inbox->fetchMore();
            QVERIFY(settle(*inbox));
        }
        QCOMPARE(inbox->rowCount(), 8);
        for (int row = 1; row < inbox->rowCount(); ++row)
            QVERIFY(inbox->idAt(row) < inbox->idAt(row - 1));
        QCOMPARE(inbox->index(0).data(InboxModel::SubjectRole).toString(), u"New 3"_s);
        QCOMPARE(inbox->index(7).data(InboxModel::SubjectRole).toString(), u"Old 1"_s);
        inbox->setLimit(round == 0 ? 3 : 2); // start over for the other order
        QVERIFY(settle(*inbox));
    }
}

void TestClientFlow::sessionDestroyedMidRequest()
{
    auto bob = makeSession();
    QVERIFY(logIn(*bob, u"bob"_s, BobPassword));
    auto inbox = makeModel(*bob, u"inbox"_s);
    QVERIFY(settle(*inbox));
    ComposeController compose;
    compose.setSession(bob.get());
    compose.setTo(u"bob"_s);
    inbox->refresh();
    compose.send();
    QVERIFY(inbox->isLoading());
    QCOMPARE(compose.state(), ComposeController::State::Sending);
    bob.reset();
    QVERIFY(!inbox->isLoading());
    QVERIFY(!compose.isBusy());
    QCOMPARE(inbox->rowCount(), 0);
    QVERIFY(!compose.canSend());
}

QTEST_GUILESS_MAIN(TestClientFlow)
#include "tst_clientflow.moc"
