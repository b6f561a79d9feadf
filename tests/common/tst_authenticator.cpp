// The login check all three servers share: the right password, a wrong one,
// an unknown name; the throttling of docs/PROTOCOL.md §6, counted in the
// shared store (two Authenticators on one database are two server
// processes); and the memory of verified logins, which must never outlive a
// password change or remember a failure. Also run against PostgreSQL
// (tst_authenticator_postgres).

#include "authenticator.h"
#include "passwords.h"
#include "store.h"
#include "testdatabase.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSqlQuery>
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
    void controlCharactersNeverMatch_data();
    void controlCharactersNeverMatch();
    void addressBudgetIsSharedAcrossProcesses_data();
    void addressBudgetIsSharedAcrossProcesses();
    void usernameSlowdownIsSharedAcrossProcesses();
    void namesThatAreNotAccountNamesAreStoredHashed_data();
    void namesThatAreNotAccountNamesAreStoredHashed();
    void failuresOutsideTheWindowDoNotCountAndArePruned();
    void failureTheStoreCannotRecordStillCounts();
    void countsThatCannotBeReadRefuseTheCheck();
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
    static Answer loginWith(Authenticator &authenticator, const QString &username, const QString &password,
                            const QString &address);
    // One more server process: a store connection of its own and an Authenticator on it.
    struct Process
    {
        std::unique_ptr<Store> store;
        std::unique_ptr<Authenticator> authenticator;
    };
    Process anotherProcess();
    int failureRows(const QString &where = u"1 = 1"_s);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<TestDatabase> m_database;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Authenticator> m_authenticator;
    Config m_config;
    qint64 m_alice = 0;
};

void TestAuthenticator::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_database = std::make_unique<TestDatabase>(m_dir->path(), TestDatabase::Start::Migrated);
    QVERIFY(m_database->isValid());
    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(m_database->url(), Store::OpenMode::CreateIfMissing), qPrintable(m_store->lastErrorText()));
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
    m_database.reset();
    m_dir.reset();
}

Answer TestAuthenticator::login(const QString &username, const QString &password, const QString &address)
{
    return loginWith(*m_authenticator, username, password, address);
}

Answer TestAuthenticator::loginWith(Authenticator &authenticator, const QString &username, const QString &password,
                                    const QString &address)
{
    Answer answer;
    QObject context;
    authenticator.login(username, password, address, &context, [&answer](LoginOutcome outcome, qint64 id) {
        answer = {true, outcome, id};
    });
    // A rejected login may be answered after a second (the per-name slowdown).
    if (!QTest::qWaitFor([&] { return answer.given; }, 10000))
        qWarning("no answer");
    return answer;
}

TestAuthenticator::Process TestAuthenticator::anotherProcess()
{
    Process process;
    process.store = std::make_unique<Store>();
    if (!process.store->open(m_database->url(), Store::OpenMode::MustExist))
        qWarning("second store: %s", qPrintable(process.store->lastErrorText()));
    process.authenticator = std::make_unique<Authenticator>(m_config, process.store.get());
    return process;
}

int TestAuthenticator::failureRows(const QString &where)
{
    QSqlQuery query(m_store->database());
    if (!query.exec(u"SELECT count(*) FROM login_failures WHERE "_s + where) || !query.next())
        return -1;
    return query.value(0).toInt();
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

// docs/PROTOCOL.md §6: a login carrying a control character is checked
// against the dummy hash, so it fails, in the time any wrong password takes.
// An account given such a password before the rule (REG and the API took
// "pass\r\nword") can no longer log in with it: mailroomctl passwd helps.
void TestAuthenticator::controlCharactersNeverMatch_data()
{
    QTest::addColumn<QString>("password");
    QTest::newRow("CR LF") << u"pass\r\nword-1"_s;
    QTest::newRow("LF at the end") << u"password-1\n"_s;
    QTest::newRow("tab") << u"pass\tword-1"_s;
    QTest::newRow("NUL") << u"pass\0word-1"_s;
    QTest::newRow("U+001F") << u"pass\x1fword-1"_s;
    QTest::newRow("DEL") << u"pass\x7fword-1"_s;
}

void TestAuthenticator::controlCharactersNeverMatch()
{
    QFETCH(QString, password);
    // Stored as an older Mailroom would have: hashed as it was given.
    QVERIFY(m_store->createAccount(u"legacy"_s, Passwords::hash(password, Passwords::MinIterations)));
    const Answer answer = login(u"legacy"_s, password);
    QVERIFY(answer.given);
    QCOMPARE(answer.outcome, LoginOutcome::Rejected);
    QCOMPARE(answer.accountId, qint64(0));
    QCOMPARE(m_authenticator->passwordChecks(), quint64(1)); // checked, like any wrong password
    QCOMPARE(failureRows(u"username = 'legacy'"_s), 1);
}

// Two server processes on one database: failures from one address count
// against one budget, whichever process saw them (found: 9 guesses per
// server per address). The steps name the process of each wrong guess.
void TestAuthenticator::addressBudgetIsSharedAcrossProcesses_data()
{
    QTest::addColumn<QString>("processes");
    QTest::newRow("alternating") << u"ABABABABA"_s;
    QTest::newRow("all on one, then the other") << u"AAAAAAAAA"_s;
    QTest::newRow("all on the other") << u"BBBBBBBBB"_s;
    QTest::newRow("mixed") << u"AABBBABAA"_s;
}

void TestAuthenticator::addressBudgetIsSharedAcrossProcesses()
{
    QFETCH(QString, processes);
    QCOMPARE(processes.size(), m_config.limits.failedLoginsPerAddress - 1);
    Process other = anotherProcess();
    const QString attacker = u"192.0.2.50"_s;
    for (qsizetype i = 0; i < processes.size(); ++i) {
        Authenticator &authenticator = processes.at(i) == u'A' ? *m_authenticator : *other.authenticator;
        QCOMPARE(loginWith(authenticator, u"alice"_s, u"wrong-%1"_s.arg(i), attacker).outcome, LoginOutcome::Rejected);
    }
    // The 10th attempt is refused unchecked by both, even with the right password.
    for (Authenticator *authenticator : {m_authenticator.get(), other.authenticator.get()}) {
        QCOMPARE(loginWith(*authenticator, u"alice"_s, u"wrong-10"_s, attacker).outcome, LoginOutcome::Throttled);
        QCOMPARE(loginWith(*authenticator, u"alice"_s, u"alice-secret-1"_s, attacker).outcome, LoginOutcome::Throttled);
    }
    QCOMPARE(m_authenticator->passwordChecks() + other.authenticator->passwordChecks(), quint64(processes.size()));
    QCOMPARE(failureRows(), int(processes.size()));
    // Another address is not affected, on either.
    QCOMPARE(loginWith(*other.authenticator, u"alice"_s, u"alice-secret-1"_s, u"192.0.2.51"_s).outcome,
             LoginOutcome::Accepted);
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.51"_s).outcome, LoginOutcome::Accepted);
}

// The per-name slowdown counts the failures every process saw: from the
// Mth failure for a name, from anywhere, answers take a second.
void TestAuthenticator::usernameSlowdownIsSharedAcrossProcesses()
{
    m_config.limits.failedLoginsPerUsername = 4;
    m_authenticator = std::make_unique<Authenticator>(m_config, m_store.get());
    Process other = anotherProcess();
    // Three failures, each from an address of its own, on alternating processes: answered at once.
    const QList<Authenticator *> order = {m_authenticator.get(), other.authenticator.get(), m_authenticator.get()};
    for (qsizetype i = 0; i < order.size(); ++i) {
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(loginWith(*order.at(i), u"alice"_s, u"wrong-%1"_s.arg(i), u"192.0.2.%1"_s.arg(60 + i)).outcome,
                 LoginOutcome::Rejected);
        QVERIFY2(timer.elapsed() < 900, qPrintable(u"failure %1 took %2 ms"_s.arg(i + 1).arg(timer.elapsed())));
    }
    // The 4th, on the process that saw only one of them: after a second.
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(loginWith(*other.authenticator, u"alice"_s, u"wrong-4"_s, u"192.0.2.70"_s).outcome, LoginOutcome::Rejected);
    QVERIFY2(timer.elapsed() >= 900, qPrintable(u"the 4th failure took only %1 ms"_s.arg(timer.elapsed())));
    // Never a lock-out: the right password is accepted at once, on either.
    timer.start();
    QCOMPARE(loginWith(*other.authenticator, u"alice"_s, u"alice-secret-1"_s, u"192.0.2.71"_s).outcome,
             LoginOutcome::Accepted);
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.72"_s).outcome, LoginOutcome::Accepted);
    QVERIFY2(timer.elapsed() < 900, qPrintable(u"right passwords took %1 ms"_s.arg(timer.elapsed())));
}

// A name that cannot be an account's may be a password typed into the
// wrong field: the shared store keeps only its hash (it is in backups of
// the SQLite file), and failures under it still count per name.
void TestAuthenticator::namesThatAreNotAccountNamesAreStoredHashed_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<bool>("storedAsTyped");
    QTest::newRow("an account's name") << u"alice"_s << true;
    QTest::newRow("a valid name of no account") << u"nobody.here"_s << true;
    QTest::newRow("a password in the name field") << u"correct horse battery!"_s << false;
    QTest::newRow("an address of another domain") << u"alice@example.org"_s << false;
}

void TestAuthenticator::namesThatAreNotAccountNamesAreStoredHashed()
{
    QFETCH(QString, username);
    QFETCH(bool, storedAsTyped);
    m_config.limits.failedLoginsPerUsername = 3;
    m_authenticator = std::make_unique<Authenticator>(m_config, m_store.get());
    for (int i = 0; i < 2; ++i)
        QCOMPARE(login(username, u"wrong-password"_s, u"192.0.2.%1"_s.arg(80 + i)).outcome, LoginOutcome::Rejected);
    QSqlQuery query(m_store->database());
    QVERIFY(query.exec(u"SELECT DISTINCT username FROM login_failures"_s));
    QVERIFY(query.next());
    const QString stored = query.value(0).toString();
    QVERIFY(!query.next());
    if (storedAsTyped) {
        QCOMPARE(stored, username);
    } else {
        QVERIFY2(!stored.contains(username) && stored.startsWith(u"sha256:"_s), qPrintable(stored));
        QCOMPARE(stored.size(), 7 + 64);
    }
    // The third failure under that name, from yet another address, is slowed.
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(login(username, u"wrong-password"_s, u"192.0.2.90"_s).outcome, LoginOutcome::Rejected);
    QVERIFY2(timer.elapsed() >= 900, qPrintable(u"the 3rd failure took only %1 ms"_s.arg(timer.elapsed())));
}

// Failures older than the window count for nothing, and the next failure
// recorded deletes them (at most once a minute per process).
void TestAuthenticator::failuresOutsideTheWindowDoNotCountAndArePruned()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 windowMs = qint64(m_config.limits.loginWindowSeconds) * 1000;
    Store writer;
    QVERIFY(writer.open(m_database->url(), Store::OpenMode::MustExist));
    for (int i = 0; i < 30; ++i) {
        QVERIFY(writer.addLoginFailure(u"192.0.2.80"_s, u"alice"_s, now - windowMs - 1000 - i));
        QVERIFY(writer.addLoginFailure(u"192.0.2.81"_s, u"bob"_s, now - windowMs - 1000 - i));
    }
    // On the window's edge: just out (the sliding window of docs/PROTOCOL.md §6
    // keeps what is younger).
    QVERIFY(writer.addLoginFailure(u"192.0.2.80"_s, u"alice"_s, now - windowMs - 1));
    const auto counts = m_store->countLoginFailures(u"192.0.2.80"_s, u"alice"_s, now - windowMs, 100);
    QVERIFY(counts);
    QCOMPARE(counts->byAddress, 0);
    QCOMPARE(counts->byUsername, 0);
    QCOMPARE(failureRows(), 61);

    QElapsedTimer timer;
    timer.start();
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.80"_s).outcome, LoginOutcome::Accepted);
    QCOMPARE(login(u"alice"_s, u"wrong-password"_s, u"192.0.2.80"_s).outcome, LoginOutcome::Rejected);
    QVERIFY2(timer.elapsed() < 900, "old failures slowed the name down");
    // The failure just recorded is all that is left.
    QCOMPARE(failureRows(), 1);
    QCOMPARE(failureRows(u"client_address = '192.0.2.80' AND username = 'alice'"_s), 1);
}

// A failure the store cannot record (a full disk) still counts, in this
// process: a store error never lets more guesses through.
void TestAuthenticator::failureTheStoreCannotRecordStillCounts()
{
    QSqlQuery query(m_store->database());
    if (m_store->engine() == Store::Engine::Postgresql) {
        QVERIFY(query.exec(u"CREATE FUNCTION refuse_failures() RETURNS trigger AS $$"
                           " BEGIN RAISE EXCEPTION 'no room for failures'; END $$ LANGUAGE plpgsql"_s));
        QVERIFY(query.exec(u"CREATE TRIGGER refuse BEFORE INSERT ON login_failures"
                           " FOR EACH ROW EXECUTE FUNCTION refuse_failures()"_s));
    } else {
        QVERIFY(query.exec(u"CREATE TRIGGER refuse BEFORE INSERT ON login_failures"
                           " BEGIN SELECT RAISE(FAIL, 'no room for failures'); END"_s));
    }
    const int allowed = m_config.limits.failedLoginsPerAddress - 1;
    for (int i = 0; i < allowed; ++i)
        QCOMPARE(login(u"alice"_s, u"wrong-%1"_s.arg(i), u"192.0.2.90"_s).outcome, LoginOutcome::Rejected);
    QCOMPARE(failureRows(), 0);
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.90"_s).outcome, LoginOutcome::Throttled);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(allowed));
    QCOMPARE(login(u"alice"_s, u"alice-secret-1"_s, u"192.0.2.91"_s).outcome, LoginOutcome::Accepted);
}

// Without the counts no one can tell whether the address may still try:
// Unavailable, and no password is checked.
void TestAuthenticator::countsThatCannotBeReadRefuseTheCheck()
{
    QSqlQuery query(m_store->database());
    QVERIFY(query.exec(u"DROP TABLE login_failures"_s));
    const Answer answer = login(u"alice"_s, u"alice-secret-1"_s);
    QVERIFY(answer.given);
    QCOMPARE(answer.outcome, LoginOutcome::Unavailable);
    QCOMPARE(m_authenticator->passwordChecks(), quint64(0));
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
    QVERIFY(other.open(m_database->url(), Store::OpenMode::MustExist));
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
// docs/PROTOCOL.md §6 allows failures before the address is refused; the
// rest are refused unchecked.
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
