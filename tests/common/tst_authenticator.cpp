// The login check all three servers share: the right password, a wrong one,
// an unknown name; SPEC's throttling; and the memory of verified logins,
// which must never outlive a password change or remember a failure.

#include "authenticator.h"
#include "passwords.h"
#include "store.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

struct Answer
{
    bool given = false;
    LoginOutcome outcome = LoginOutcome::Rejected;
    qint64 accountId = 0;
};

} // namespace

class TestAuthenticator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void rightWrongAndUnknown_data();
    void rightWrongAndUnknown();
    void remembersVerifiedLogins();
    void forgetsOnPasswordChange();
    void neverRemembersFailures();
    void throttledAddressIsRefusedEvenWhenRemembered();
    void manyRightLoginsAtOnceAreAllAccepted();
    void manyWrongLoginsAtOnceGetNoMoreChecksThanAllowed();
    void weakHashIsRaisedAtTheNextLogin_data();
    void weakHashIsRaisedAtTheNextLogin();

private:
    Answer login(const QString &username, const QString &password, const QString &address = u"192.0.2.1"_s);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Authenticator> m_authenticator;
    Config m_config;
    qint64 m_alice = 0;
};

void TestAuthenticator::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_store = std::make_unique<Store>();
    QVERIFY(m_store->open(m_dir->filePath(u"mailroom.db"_s), Store::OpenMode::CreateIfMissing));
    const auto alice = m_store->createAccount(u"alice"_s, Passwords::hash(u"alice-secret-1"_s, Passwords::MinIterations));
    QVERIFY(alice);
    m_alice = alice->id;
    m_config = Config{};
    m_config.pbkdf2Iterations = Passwords::MinIterations;
    m_authenticator = std::make_unique<Authenticator>(m_config, m_store.get());
}

void TestAuthenticator::cleanup()
{
    m_authenticator.reset();
    m_store.reset();
    m_dir.reset();
}

Answer TestAuthenticator::login(const QString &username, const QString &password, const QString &address)
{
    Answer answer;
    QObject context;
    m_authenticator->login(username, password, address, &context, [&answer](LoginOutcome outcome, qint64 id) {
        answer = {true, outcome, id};
    });
    // A rejected login may be answered after a second (the per-name slowdown).
    if (!QTest::qWaitFor([&] { return answer.given; }, 10000))
        qWarning("no answer");
    return answer;
}

void TestAuthenticator::rightWrongAndUnknown_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("right") << u"alice"_s << u"alice-secret-1"_s << true;
    QTest::newRow("wrong") << u"alice"_s << u"alice-secret-2"_s << false;
    QTest::newRow("unknown") << u"bob"_s << u"alice-secret-1"_s << false;
    QTest::newRow("empty name") << QString() << u"alice-secret-1"_s << false;
    // HMAC pads its key with zeros: "x" and "x\0" hash alike, so NUL is refused before.
    QTest::newRow("NUL appended") << u"alice"_s << u"alice-secret-1\0"_s << false;
    QTest::newRow("NUL inside") << u"alice"_s << u"alice-secret-1\0x"_s << false;
}

void TestAuthenticator::rightWrongAndUnknown()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(bool, accepted);
    const Answer answer = login(username, password);
    QVERIFY(answer.given);
    QCOMPARE(answer.outcome, accepted ? LoginOutcome::Accepted : LoginOutcome::Rejected);
    QCOMPARE(answer.accountId, accepted ? m_alice : 0);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(1)); // an unknown name costs a check too
}

void TestAuthenticator::remembersVerifiedLogins()
{
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s).outcome, LoginOutcome::Accepted);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(1));
    for (int i = 0; i < 5; ++i) {
        const Answer again = login(u"alice"_s, u"alice-secret-1"_s);
        QCOMPARE(again.outcome, LoginOutcome::Accepted);
        QCOMPARE(again.accountId, m_alice);
    }
    QCOMPARE(m_authenticator->passwordChecks(), quint64(1)); // no PBKDF2 for the remembered login
    // A different password for the same account is checked, and refused.
    QCOMPARE(login(u"alice"_s, u"alice-secret-2"_s).outcome, LoginOutcome::Rejected);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(2));
}

void TestAuthenticator::forgetsOnPasswordChange()
{
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s).outcome, LoginOutcome::Accepted);
    // Another process (mailroomctl passwd) changes the password in the file.
    Store other;
    QVERIFY(other.open(m_dir->filePath(u"mailroom.db"_s), Store::OpenMode::MustExist));
    QVERIFY(other.setPasswordHash(m_alice, Passwords::hash(u"alice-secret-9"_s, Passwords::MinIterations)));
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s).outcome, LoginOutcome::Rejected);
    QCOMPARE(login(u"alice"_s, u"alice-secret-9"_s).outcome, LoginOutcome::Accepted);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(3));
}

void TestAuthenticator::neverRemembersFailures()
{
    for (int i = 0; i < 3; ++i)
        QCOMPARE(login(u"alice"_s, u"wrong-password"_s).outcome, LoginOutcome::Rejected);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(3));
}

void TestAuthenticator::throttledAddressIsRefusedEvenWhenRemembered()
{
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.9"_s).outcome, LoginOutcome::Accepted);
    for (int i = 0; i < m_config.limits.failedLoginsPerAddress; ++i)
        login(u"alice"_s, u"wrong-password"_s, u"192.0.2.9"_s);
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.9"_s).outcome, LoginOutcome::Throttled);
    // Another address is not affected.
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.10"_s).outcome, LoginOutcome::Accepted);
}

// An office behind one address, or a client opening many connections: 30
// logins with the right password at the same moment are all accepted (they
// wait for their turn, never refused as if they had failed).
void TestAuthenticator::manyRightLoginsAtOnceAreAllAccepted()
{
    QObject context;
    QList<LoginOutcome> outcomes;
    for (int i = 0; i < 30; ++i) {
        m_authenticator->login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.20"_s, &context,
                               [&outcomes](LoginOutcome outcome, qint64) { outcomes.append(outcome); });
    }
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.size(), 30, 10000);
    QCOMPARE(outcomes.count(LoginOutcome::Accepted), 30);
}

// ...while 30 wrong ones at the same moment get at most as many checks as
// SPEC allows failures before the address is refused; the rest are refused
// unchecked.
void TestAuthenticator::weakHashIsRaisedAtTheNextLogin_data()
{
    QTest::addColumn<QString>("password");
    QTest::addColumn<bool>("changedMeanwhile");
    QTest::addColumn<int>("iterationsAfter");
    QTest::newRow("right password") << u"alice-secret-1"_s << false << 2 * Passwords::MinIterations;
    QTest::newRow("wrong password") << u"alice-secret-2"_s << false << Passwords::MinIterations;
    // mailroomctl passwd while the login is checked: the new password stays.
    QTest::newRow("changed meanwhile") << u"alice-secret-1"_s << true << Passwords::MinIterations;
}

void TestAuthenticator::weakHashIsRaisedAtTheNextLogin()
{
    QFETCH(QString, password);
    QFETCH(bool, changedMeanwhile);
    QFETCH(int, iterationsAfter);
    m_config.pbkdf2Iterations = 2 * Passwords::MinIterations; // raised since alice's hash was made
    m_authenticator = std::make_unique<Authenticator>(m_config, m_store.get());
    const QString changed = Passwords::hash(u"alice-secret-9"_s, Passwords::MinIterations);
    Answer answer;
    QObject context;
    m_authenticator->login(u"alice"_s, password, u"192.0.2.1"_s, &context,
                           [&answer](LoginOutcome outcome, qint64 id) { answer = {true, outcome, id}; });
    if (changedMeanwhile)
        QVERIFY(m_store->setPasswordHash(m_alice, changed));
    QVERIFY(QTest::qWaitFor([&] { return answer.given; }, 10000));
    QCOMPARE(answer.outcome, password == u"alice-secret-1"_s ? LoginOutcome::Accepted : LoginOutcome::Rejected);
    // The new hash is made on the pool and stored on this thread's event loop.
    const auto storedIterations = [this] { return Passwords::iterationsOf(m_store->findAccount(u"alice"_s)->passwordHash); };
    QTest::qWait(200);
    QTRY_COMPARE_WITH_TIMEOUT(storedIterations(), iterationsAfter, 5000);
    const QString stored = m_store->findAccount(u"alice"_s)->passwordHash;
    if (changedMeanwhile)
        QCOMPARE(stored, changed);
    else if (iterationsAfter > Passwords::MinIterations)
        QVERIFY(Passwords::verify(u"alice-secret-1"_s, stored)); // the same password, stronger
}

void TestAuthenticator::manyWrongLoginsAtOnceGetNoMoreChecksThanAllowed()
{
    QObject context;
    QList<LoginOutcome> outcomes;
    for (int i = 0; i < 30; ++i) {
        m_authenticator->login(u"alice"_s, u"wrong-%1"_s.arg(i), u"192.0.2.21"_s, &context,
                               [&outcomes](LoginOutcome outcome, qint64) { outcomes.append(outcome); });
    }
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.size(), 30, 20000);
    const int allowed = m_config.limits.failedLoginsPerAddress - 1;
    QCOMPARE(m_authenticator->passwordChecks(), quint64(allowed));
    QCOMPARE(outcomes.count(LoginOutcome::Rejected), allowed);
    QCOMPARE(outcomes.count(LoginOutcome::Throttled), 30 - allowed);
}

QTEST_GUILESS_MAIN(TestAuthenticator)
#include "tst_authenticator.moc"
