#include "messagejson.h"
#include "mimemessage.h"
#include "sqltransaction.h"
#include "store.h"
#include "store_p.h"
#include "storechangewatcher.h"
#include "testdatabase.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>

using namespace Qt::StringLiterals;

namespace {

// A second connection to the same database, as another process would have.
class RawConnection
{
public:
    explicit RawConnection(const QString &path)
        : m_name(QStringLiteral("raw-%1").arg(quintptr(this)))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.open();
    }
    explicit RawConnection(const DatabaseUrl &url)
        : m_name(QStringLiteral("raw-%1").arg(quintptr(this)))
        , m_postgresql(url.kind == DatabaseUrl::Kind::Postgresql)
    {
        if (!m_postgresql) {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
            db.setDatabaseName(url.sqlitePath);
            db.open();
            return;
        }
        QSqlDatabase db = Store::addPostgresqlConnection(url, m_name);
        if (!db.open())
            qWarning() << "raw connection:" << db.lastError().text();
    }
    // A BEFORE INSERT/DELETE trigger on table that fails the statement for
    // rows matching condition (NEW.x or OLD.x), in either engine's dialect.
    // sqliteAction: ABORT, or FAIL (ends the statement only, as PostgreSQL's
    // exception does within a savepoint).
    bool injectFailure(const QString &event, const QString &table, const QString &condition = QStringLiteral("1 = 1"),
                       const QString &sqliteAction = QStringLiteral("ABORT")) const
    {
        if (!m_postgresql)
            return exec(QStringLiteral("CREATE TRIGGER inject BEFORE %1 ON %2 WHEN %3"
                                       " BEGIN SELECT RAISE(%4, 'injected failure'); END")
                            .arg(event, table, condition, sqliteAction));
        return exec(QStringLiteral("CREATE OR REPLACE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS"
                                   " $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"))
            && exec(QStringLiteral("CREATE TRIGGER inject BEFORE %1 ON %2 FOR EACH ROW WHEN (%3)"
                                   " EXECUTE FUNCTION inject_failure()")
                        .arg(event, table, condition));
    }
    bool removeInjectedFailure(const QString &table) const
    {
        return exec(m_postgresql ? QStringLiteral("DROP TRIGGER IF EXISTS inject ON %1").arg(table)
                                 : QStringLiteral("DROP TRIGGER IF EXISTS inject"));
    }
    QStringList column(const QString &sql) const
    {
        QStringList values;
        QSqlQuery query(db());
        if (!query.exec(sql))
            qWarning() << sql << query.lastError().text();
        while (query.next())
            values.append(query.value(0).toString());
        return values;
    }
    ~RawConnection()
    {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    QSqlDatabase db() const { return QSqlDatabase::database(m_name, false); }
    bool exec(const QString &sql) const
    {
        QSqlQuery query(db());
        if (!query.exec(sql)) {
            qWarning() << sql << query.lastError().text();
            return false;
        }
        return true;
    }
    QVariant scalar(const QString &sql) const
    {
        QSqlQuery query(db());
        if (!query.exec(sql) || !query.next())
            return {};
        return query.value(0);
    }

private:
    QString m_name;
    bool m_postgresql = false;
};

NewMessage makeMessage(qint64 sender, QList<qint64> recipients, const QString &subject)
{
    NewMessage message;
    message.raw = "From: a@project.com\r\nSubject: " + subject.toUtf8() + "\r\n\r\nbody\r\n";
    message.summary.from = {QStringLiteral("A"), QStringLiteral("a@project.com")};
    message.summary.to = {{QString(), QStringLiteral("b@project.com")}, {QStringLiteral("C"), QStringLiteral("c@project.com")}};
    message.summary.cc = {{QStringLiteral("D \"x\""), QStringLiteral("d@project.com")}};
    message.summary.toCount = 2;
    message.summary.ccCount = 1;
    message.summary.subject = subject;
    message.summary.date = QDateTime(QDate(2026, 11, 22), QTime(13, 5), Qt::UTC);
    message.summary.messageId = QStringLiteral("<%1@project.com>").arg(subject);
    message.summary.inReplyTo = QStringLiteral("<parent@project.com>");
    message.summary.preview = QStringLiteral("body");
    message.summary.attachments = {{1, QStringLiteral("r\u00e9sum\u00e9.pdf"), QStringLiteral("application/pdf"), 1234}};
    message.receivedAt = QDateTime(QDate(2026, 11, 22), QTime(13, 6, 7, 123), Qt::UTC);
    message.senderId = sender;
    message.recipientIds = std::move(recipients);
    return message;
}

// Addresses u1@x.org ... u<count>@x.org, with names JSON and SQL must keep as they are.
QList<MailAddress> numberedAddresses(int count, int first = 1)
{
    QList<MailAddress> addresses;
    for (int i = first; i < first + count; ++i)
        addresses.append({QStringLiteral("\u00dc \"%1\", \\ '").arg(i), QStringLiteral("u%1@x.org").arg(i)});
    return addresses;
}

// As versions before 3 stored a list: every address, a JSON array.
QString wholeList(const QList<MailAddress> &addresses)
{
    return QString::fromUtf8(QJsonDocument(MessageJson::addresses(addresses)).toJson(QJsonDocument::Compact));
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void freshDatabase();
    void migratesAnOlderDatabase();
    void migratesStepByStep();
    void migrationBoundsAddressLists();
    void refusesWhatItCannotUse_data();
    void refusesWhatItCannotUse();
    void refusesWhatItCannotUseOnPostgresql_data();
    void refusesWhatItCannotUseOnPostgresql();
    void reconnectsAfterTheConnectionIsLost();
    void concurrentDeletionsLeaveNoOrphan();
    void textWithNulIsStoredReadable();
    void accounts();
    void idsAreNeverReused();
    void deliveryRoundTrip();
    void addressListsAreBounded();
    void deliveryIsAllOrNothing_data();
    void deliveryIsAllOrNothing();
    void groupCommitKeepsEachMessageWhole();
    void inboxAndDeleteEntries();
    void entriesBelongToTheirOwner();
    void seenAndDelete();
    void deletingAnAccount();
    void changeWatcherHearsOtherConnections();
    void pingLeavesTheConnectionListening();
    void displayNamesAndDirectory_data();
    void displayNamesAndDirectory();
    void keysetPaging_data();
    void keysetPaging();
    void folderPageIsAnIndexRangeScan();
    void sqliteHasFullTextSearch_data();
    void sqliteHasFullTextSearch();
    void listingsOutgrowingWhatIsKept();
    void listingsSeeARestoreOfAnotherInstallation_data();
    void listingsSeeARestoreOfAnotherInstallation();
    void tokens();
    void stats();
    void errorsNameTheirCause();
    void changePasswordIsAtomic();
    void restoreNeverReusesIds();
    void restoreEndsEverySession();
    void restoreReadsTheWalOfALiveFile();
    void restoreAnOlderBackup();

private:
    QString dbPath() const { return m_dir->filePath(QStringLiteral("mailroom.db")); }
    const DatabaseUrl &url() const { return m_database->url(); }
    qint64 addAccount(const QString &name);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<TestDatabase> m_database;
    std::unique_ptr<Store> m_store;
};

void TestStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_database = std::make_unique<TestDatabase>(m_dir->path());
    QVERIFY(m_database->isValid());
    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(url(), Store::OpenMode::CreateIfMissing), qPrintable(m_store->lastErrorText()));
}

void TestStore::cleanup()
{
    m_store.reset();
    m_database.reset();
    m_dir.reset();
}

qint64 TestStore::addAccount(const QString &name)
{
    const auto account = m_store->createAccount(name, QStringLiteral("pbkdf2-sha256$1$x$y"));
    return account ? account->id : 0;
}

void TestStore::freshDatabase()
{
    QCOMPARE(m_store->schemaVersion(), Store::latestSchemaVersion());
    QSqlQuery query(m_store->database());
    if (TestDatabase::postgresql()) {
        QVERIFY(query.exec(QStringLiteral("SELECT application_id, version FROM mailroom_schema")) && query.next());
        QCOMPARE(query.value(0).toInt(), StoreSchema::ApplicationId);
        QCOMPARE(query.value(1).toInt(), Store::latestSchemaVersion());
        QVERIFY(!query.next());
        query.finish();
        m_store->close();
        QVERIFY(m_store->open(url(), Store::OpenMode::MustExist));
        QCOMPARE(m_store->schemaVersion(), Store::latestSchemaVersion());
        return;
    }
    QVERIFY(query.exec(QStringLiteral("PRAGMA journal_mode")) && query.next());
    QCOMPARE(query.value(0).toString(), QStringLiteral("wal"));
    QVERIFY(query.exec(QStringLiteral("PRAGMA foreign_keys")) && query.next());
    QCOMPARE(query.value(0).toInt(), 1);
    QVERIFY(query.exec(QStringLiteral("PRAGMA synchronous")) && query.next());
    QCOMPARE(query.value(0).toInt(), 2); // FULL: a commit survives power loss
    QVERIFY(query.exec(QStringLiteral("PRAGMA busy_timeout")) && query.next());
    QVERIFY(query.value(0).toInt() >= 1000);
    QVERIFY(query.exec(QStringLiteral("PRAGMA application_id")) && query.next());
    QCOMPARE(query.value(0).toInt(), StoreSchema::ApplicationId);

    // Opening again applies nothing and keeps the version.
    m_store->close();
    QVERIFY(m_store->open(url(), Store::OpenMode::MustExist));
    QCOMPARE(m_store->schemaVersion(), Store::latestSchemaVersion());
}

void TestStore::migratesAnOlderDatabase()
{
    if (TestDatabase::postgresql())
        QSKIP("the version-1 fixture is a SQLite file; migratesStepByStep covers PostgreSQL");
    m_store.reset();
    const QString path = m_dir->filePath(QStringLiteral("v1.db"));
    {
        QFile fixture(QStringLiteral(SCHEMA_V1_SQL));
        QVERIFY(fixture.open(QIODevice::ReadOnly));
        RawConnection raw(path);
        for (const QByteArray &line : fixture.readAll().split('\n')) {
            if (!line.trimmed().isEmpty() && !line.startsWith("--"))
                QVERIFY(raw.exec(QString::fromUtf8(line)));
        }
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 1);
    }
    Store store;
    QVERIFY2(store.open(path, Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());

    // The old rows read back through today's code...
    const auto bob = store.findAccount(QStringLiteral("bob"));
    QVERIFY(bob);
    QCOMPARE(bob->id, 2);
    const auto page = store.listFolder(bob->id, Folder::Inbox, 10);
    QVERIFY(page);
    QCOMPARE(page->entries.size(), 1);
    QCOMPARE(page->entries.first().summary.subject, QStringLiteral("Hello from v1"));
    QCOMPARE(page->entries.first().summary.to.first().address, QStringLiteral("bob@project.com"));
    QVERIFY(!page->entries.first().summary.date.isValid());
    QCOMPARE(store.rawMessage(bob->id, 1).value_or(QByteArray()),
             QByteArrayLiteral("Subject: Hello from v1\r\n\r\nhello\r\n"));
    // ...and what version 2 added works on them.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(store.addToken(QByteArray(32, 'h'), bob->id, now, now.addSecs(60)));
    QCOMPARE(store.tokenAccount(QByteArray(32, 'h'), now).value_or(0), bob->id);
    // New ids continue after the old ones.
    QCOMPARE(store.createAccount(QStringLiteral("carol"), QStringLiteral("h"))->id, 3);
}

// Version by version on the engine under test: a database made at version 1
// through the store, then opened by today's code.
void TestStore::migratesStepByStep()
{
    m_store.reset();
    m_database = std::make_unique<TestDatabase>(m_dir->filePath(QStringLiteral("steps")));
    QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("steps")));
    qint64 bob = 0;
    {
        Store old;
        QVERIFY2(old.open(url(), Store::OpenMode::CreateIfMissing, 1), qPrintable(old.lastErrorText()));
        QCOMPARE(old.schemaVersion(), 1);
        const auto alice = old.createAccount(QStringLiteral("alice"), QStringLiteral("h"));
        bob = old.createAccount(QStringLiteral("bob"), QStringLiteral("h")).value_or(Account()).id;
        QVERIFY(alice && bob);
        QVERIFY(old.deliver(makeMessage(alice->id, {bob}, QStringLiteral("from v1"))));
        QVERIFY(!old.addToken(QByteArray(32, 'h'), bob, QDateTime::currentDateTimeUtc(),
                              QDateTime::currentDateTimeUtc().addSecs(60))); // no such table yet
    }
    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    QCOMPARE(store.listFolder(bob, Folder::Inbox, 10)->entries.first().summary.subject, QStringLiteral("from v1"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(store.addToken(QByteArray(32, 'h'), bob, now, now.addSecs(60)));
    QCOMPARE(store.tokenAccount(QByteArray(32, 'h'), now).value_or(0), bob);
    // Migration 4: accounts made before it have an empty display name, and
    // the directory finds them by name.
    QCOMPARE(store.findAccount(bob)->displayName, QString());
    QCOMPARE(store.directory(QStringLiteral("bo"), 20)->size(), 1);
    QVERIFY(store.setDisplayName(bob, QStringLiteral("Bob Builder")));
    QCOMPARE(store.findAccount(QStringLiteral("bob"))->displayName, QStringLiteral("Bob Builder"));
    QCOMPARE(StoreSchema::postgresqlMigrations().size(), StoreSchema::migrations().size());
}

// Migration 3 on the engine under test: lists that a version-2 database
// stored whole come out with their first MaxStoredAddresses, in order, and
// their count; lists within the bound and other rows stay as they were.
void TestStore::migrationBoundsAddressLists()
{
    m_store.reset();
    m_database = std::make_unique<TestDatabase>(m_dir->filePath(QStringLiteral("v2")));
    QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("v2")));
    qint64 bob = 0;
    qint64 big = 0;
    qint64 exact = 0;
    qint64 small = 0;
    {
        Store old;
        QVERIFY2(old.open(url(), Store::OpenMode::CreateIfMissing, 2), qPrintable(old.lastErrorText()));
        const qint64 alice = old.createAccount(QStringLiteral("alice"), QStringLiteral("h")).value_or(Account()).id;
        bob = old.createAccount(QStringLiteral("bob"), QStringLiteral("h")).value_or(Account()).id;
        QVERIFY(alice && bob);
        big = old.deliver(makeMessage(alice, {bob}, QStringLiteral("big"))).value_or(Delivery()).messageId;
        exact = old.deliver(makeMessage(alice, {bob}, QStringLiteral("exact"))).value_or(Delivery()).messageId;
        small = old.deliver(makeMessage(alice, {bob}, QStringLiteral("small"))).value_or(Delivery()).messageId;
        QVERIFY(big && exact && small);
    }
    QString smallTo;
    QString smallCc;
    QString exactTo;
    {
        RawConnection raw(url());
        QSqlQuery update(raw.db());
        QVERIFY(update.prepare(QStringLiteral("UPDATE messages SET to_list = ?, cc_list = ? WHERE id = ?")));
        update.addBindValue(wholeList(numberedAddresses(1500)));
        update.addBindValue(wholeList(numberedAddresses(1200, 5001)));
        update.addBindValue(big);
        QVERIFY2(update.exec(), qPrintable(update.lastError().text()));
        update.addBindValue(wholeList(numberedAddresses(StoreSchema::MaxStoredAddresses)));
        update.addBindValue(wholeList(numberedAddresses(3)));
        update.addBindValue(exact);
        QVERIFY2(update.exec(), qPrintable(update.lastError().text()));
        update.finish();
        smallTo = raw.scalar(QStringLiteral("SELECT to_list FROM messages WHERE id = %1").arg(small)).toString();
        smallCc = raw.scalar(QStringLiteral("SELECT cc_list FROM messages WHERE id = %1").arg(small)).toString();
        exactTo = raw.scalar(QStringLiteral("SELECT to_list FROM messages WHERE id = %1").arg(exact)).toString();
    }

    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    const auto page = store.listFolder(bob, Folder::Inbox, 10);
    QVERIFY(page);
    QCOMPARE(page->entries.size(), 3);
    for (const MailboxEntry &entry : page->entries) {
        const MessageSummary &summary = entry.summary;
        if (entry.messageId == big) {
            QCOMPARE(summary.to, numberedAddresses(StoreSchema::MaxStoredAddresses));
            QCOMPARE(summary.toCount, 1500);
            QCOMPARE(summary.cc, numberedAddresses(StoreSchema::MaxStoredAddresses, 5001));
            QCOMPARE(summary.ccCount, 1200);
            QCOMPARE(summary.subject, QStringLiteral("big"));
        } else if (entry.messageId == exact) {
            QCOMPARE(summary.to, numberedAddresses(StoreSchema::MaxStoredAddresses));
            QCOMPARE(summary.toCount, StoreSchema::MaxStoredAddresses);
            QCOMPARE(summary.cc, numberedAddresses(3));
            QCOMPARE(summary.ccCount, 3);
        } else {
            QCOMPARE(entry.messageId, small);
            NewMessage expected = makeMessage(0, {}, QStringLiteral("small"));
            QCOMPARE(summary, expected.summary);
        }
    }
    RawConnection raw(url());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT to_list FROM messages WHERE id = %1").arg(small)).toString(), smallTo);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT cc_list FROM messages WHERE id = %1").arg(small)).toString(), smallCc);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT to_list FROM messages WHERE id = %1").arg(exact)).toString(), exactTo);
    // The stored form is the one the store writes itself.
    const QJsonObject bigTo = QJsonDocument::fromJson(
        raw.scalar(QStringLiteral("SELECT to_list FROM messages WHERE id = %1").arg(big)).toString().toUtf8()).object();
    QCOMPARE(bigTo.keys(), (QStringList{QStringLiteral("addresses"), QStringLiteral("count")}));
    QCOMPARE(bigTo.value(u"count").toInteger(), 1500);
    QCOMPARE(bigTo.value(u"addresses").toArray().size(), StoreSchema::MaxStoredAddresses);
}

void TestStore::refusesWhatItCannotUseOnPostgresql_data()
{
    QTest::addColumn<QString>("setupSql");
    QTest::addColumn<QString>("change"); // of the URL: "port", "password", "database"
    QTest::addColumn<Store::OpenMode>("mode");
    QTest::addColumn<QString>("messagePart");

    QTest::newRow("empty database, must exist") << QString() << QString() << Store::OpenMode::MustExist
                                                << QStringLiteral("holds no Mailroom database");
    QTest::newRow("another program's tables") << QStringLiteral("CREATE TABLE notes (body TEXT)") << QString()
                                              << Store::OpenMode::CreateIfMissing
                                              << QStringLiteral("not a Mailroom database");
    QTest::newRow("from a newer Mailroom")
        << QStringLiteral("CREATE TABLE mailroom_schema (application_id INTEGER NOT NULL, version INTEGER NOT NULL);"
                          "INSERT INTO mailroom_schema VALUES (%1, %2)")
               .arg(StoreSchema::ApplicationId)
               .arg(Store::latestSchemaVersion() + 1)
        << QString() << Store::OpenMode::CreateIfMissing << QStringLiteral("newer");
    QTest::newRow("nothing listens there") << QString() << QStringLiteral("port") << Store::OpenMode::CreateIfMissing
                                           << QStringLiteral("cannot connect to postgresql://");
    QTest::newRow("wrong password") << QString() << QStringLiteral("password") << Store::OpenMode::CreateIfMissing
                                    << QStringLiteral("password authentication failed");
    QTest::newRow("no such database") << QString() << QStringLiteral("database") << Store::OpenMode::CreateIfMissing
                                      << QStringLiteral("does not exist");
}

void TestStore::refusesWhatItCannotUseOnPostgresql()
{
    if (!TestDatabase::postgresql())
        QSKIP("PostgreSQL only (the postgres run)");
    QFETCH(QString, setupSql);
    QFETCH(QString, change);
    QFETCH(Store::OpenMode, mode);
    QFETCH(QString, messagePart);

    m_store.reset();
    TestDatabase other(m_dir->path());
    QVERIFY(other.isValid());
    DatabaseUrl target = other.url();
    if (!setupSql.isEmpty()) {
        RawConnection raw(target);
        for (const QString &statement : setupSql.split(u';'))
            QVERIFY(raw.exec(statement));
    }
    if (change == u"port") {
        QTcpServer closed; // a port that was free a moment ago and is closed again
        QVERIFY(closed.listen(QHostAddress::LocalHost));
        target.port = closed.serverPort();
        closed.close();
    } else if (change == u"password") {
        target.password += QStringLiteral("-wrong");
    } else if (change == u"database") {
        target.databaseName += QStringLiteral("_missing");
    }
    const QStringList tablesBefore = RawConnection(other.url()).column(
        QStringLiteral("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"));
    Store store;
    QVERIFY(!store.open(target, mode));
    QVERIFY2(store.lastErrorText().contains(messagePart), qPrintable(store.lastErrorText()));
    QVERIFY2(!store.lastErrorText().contains(other.url().password), "the password is in the message");
    QVERIFY(!store.isOpen());
    // Nothing was created in a database that is not ours.
    QCOMPARE(RawConnection(other.url()).column(
                 QStringLiteral("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")),
             tablesBefore);
}

// The database server ends the connections (a restart does the same). An
// idle connection learns it at its next statement: the store reconnects at
// once and the operation succeeds. While the database refuses connections,
// operations fail as Unavailable (at once: the reconnect back-off), and
// once it accepts them again the store serves again on its own.
void TestStore::reconnectsAfterTheConnectionIsLost()
{
    if (!TestDatabase::postgresql())
        QSKIP("PostgreSQL only (the postgres run)");
    const qint64 alice = addAccount(QStringLiteral("alice"));
    QVERIFY(m_store->findAccount(alice)); // the statement is prepared on this connection
    const QString terminateOthers = QStringLiteral("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                                   " WHERE datname = '%1' AND pid <> pg_backend_pid()")
                                        .arg(url().databaseName);
    DatabaseUrl maintenance = url();
    maintenance.databaseName = QStringLiteral("postgres");
    RawConnection admin(maintenance);
    QVERIFY(admin.exec(terminateOthers));
    QVERIFY2(m_store->findAccount(alice), qPrintable(m_store->lastErrorText()));
    QVERIFY(m_store->deliver(makeMessage(alice, {alice}, QStringLiteral("after a restart"))));

    // Down: no new connection is allowed.
    QVERIFY(admin.exec(QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS false").arg(url().databaseName)));
    QVERIFY(admin.exec(terminateOthers));
    QVERIFY(!m_store->findAccount(alice));
    QCOMPARE(m_store->lastError(), Store::Error::Unavailable);
    QVERIFY2(m_store->lastErrorText().contains(QStringLiteral("cannot connect to postgresql://")),
             qPrintable(m_store->lastErrorText()));
    QVERIFY(!m_store->deliver(makeMessage(alice, {alice}, QStringLiteral("while down"))));
    QCOMPARE(m_store->lastError(), Store::Error::Unavailable);
    QVERIFY(!m_store->counts(alice));
    QCOMPARE(m_store->lastError(), Store::Error::Unavailable);

    QVERIFY(admin.exec(QStringLiteral("ALTER DATABASE %1 ALLOW_CONNECTIONS true").arg(url().databaseName)));
    QTRY_VERIFY_WITH_TIMEOUT(m_store->findAccount(alice), 10000);
    QVERIFY(m_store->deliver(makeMessage(alice, {alice}, QStringLiteral("after the reconnect"))));
    QCOMPARE(m_store->counts(alice)->inbox.total, 2); // nothing of "while down"
}

// Two connections delete the last two entries of one message at the same
// time: the message must go with the last of them. The first deletion's
// transaction stays open while the second runs. Under PostgreSQL's READ
// COMMITTED the second's trigger would still see the first's entry, keep
// the message, and leave it behind for good once the first commits; the
// trigger's row lock makes the second wait for the first instead. SQLite
// serializes writers anyway.
void TestStore::concurrentDeletionsLeaveNoOrphan()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto delivery = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("shared")));
    QVERIFY(delivery);
    RawConnection first(url());
    QVERIFY(first.exec(TestDatabase::postgresql() ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE")));
    QVERIFY(first.exec(QStringLiteral("DELETE FROM mailbox_entries WHERE id = %1").arg(delivery->inboxEntryIds.first())));

    std::atomic<bool> secondDone{false};
    std::atomic<bool> secondDeleted{false};
    std::unique_ptr<QThread> second(QThread::create([&] {
        Store store;
        secondDeleted = store.open(url(), Store::OpenMode::MustExist) && store.deleteEntry(alice, delivery->sentEntryId);
        secondDone = true;
    }));
    second->start();
    QThread::msleep(500);
    const bool finishedBeforeTheFirst = secondDone;
    QVERIFY(first.exec(QStringLiteral("COMMIT")));
    QVERIFY(second->wait(30000));
    QVERIFY(secondDeleted);
    QVERIFY2(!finishedBeforeTheFirst, "the second deletion did not wait for the first");
    RawConnection raw(url());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries")).toInt(), 0);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 0);
}

// PostgreSQL's text holds no U+0000, which an encoded word can decode to:
// both engines store U+FFFD instead, and the message is not refused.
void TestStore::textWithNulIsStoredReadable()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    NewMessage message = makeMessage(alice, {alice}, QStringLiteral("a") + QChar(0) + QStringLiteral("b"));
    message.summary.from.name = QStringLiteral("x") + QChar(0);
    const auto delivery = m_store->deliver(message);
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    const auto entry = m_store->entry(alice, delivery->inboxEntryIds.first());
    QVERIFY(entry);
    QCOMPARE(entry->summary.subject, QStringLiteral("a\uFFFDb"));
    QCOMPARE(entry->summary.from.name, QStringLiteral("x\uFFFD"));
    // A name with U+0000 is no account (and no failed query on PostgreSQL).
    QVERIFY(!m_store->findAccount(QStringLiteral("ali") + QChar(0) + QStringLiteral("ce")));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(m_store->findAccount(QStringLiteral("alice")));
}

void TestStore::refusesWhatItCannotUse_data()
{
    QTest::addColumn<QByteArray>("fileContent"); // empty: no file
    QTest::addColumn<QString>("setupSql");
    QTest::addColumn<Store::OpenMode>("mode");
    QTest::addColumn<QString>("messagePart");

    QTest::newRow("missing file, must exist") << QByteArray() << QString() << Store::OpenMode::MustExist
                                              << QStringLiteral("no database");
    QTest::newRow("empty file, must exist") << QByteArray() << QStringLiteral("touch") << Store::OpenMode::MustExist
                                            << QStringLiteral("holds no Mailroom database");
    QTest::newRow("SQLite without tables, must exist")
        << QByteArray() << QStringLiteral("PRAGMA user_version = 0") << Store::OpenMode::MustExist
        << QStringLiteral("holds no Mailroom database");
    QTest::newRow("not SQLite") << QByteArray("this is a text file, not a database\n" + QByteArray(5000, 'x'))
                                << QString() << Store::OpenMode::MustExist << QStringLiteral("not a usable SQLite");
    QTest::newRow("another program's SQLite") << QByteArray() << QStringLiteral("CREATE TABLE notes (body TEXT)")
                                              << Store::OpenMode::CreateIfMissing
                                              << QStringLiteral("not a Mailroom database");
    QTest::newRow("from a newer Mailroom")
        << QByteArray()
        << QStringLiteral("PRAGMA application_id = %1;PRAGMA user_version = %2")
               .arg(StoreSchema::ApplicationId)
               .arg(Store::latestSchemaVersion() + 1)
        << Store::OpenMode::CreateIfMissing << QStringLiteral("newer");
}

void TestStore::refusesWhatItCannotUse()
{
    if (TestDatabase::postgresql())
        QSKIP("files; refusesWhatItCannotUseOnPostgresql covers PostgreSQL");
    QFETCH(QByteArray, fileContent);
    QFETCH(QString, setupSql);
    QFETCH(Store::OpenMode, mode);
    QFETCH(QString, messagePart);

    const QString path = m_dir->filePath(QStringLiteral("other.db"));
    if (!fileContent.isEmpty()) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(fileContent);
    }
    if (setupSql == u"touch") {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
    } else if (!setupSql.isEmpty()) {
        RawConnection raw(path);
        for (const QString &statement : setupSql.split(u';'))
            QVERIFY(raw.exec(statement));
    }
    const auto contents = [&path]() -> std::optional<QByteArray> {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return std::nullopt;
        return file.readAll();
    };
    const std::optional<QByteArray> before = contents();
    Store store;
    QVERIFY(!store.open(path, mode));
    QVERIFY2(store.lastErrorText().contains(messagePart), qPrintable(store.lastErrorText()));
    QVERIFY(!store.isOpen());
    // The file is left as it was, or not created.
    QCOMPARE(contents(), before);
}

void TestStore::accounts()
{
    const QDateTime created(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
    const auto alice = m_store->createAccount(QStringLiteral("alice"), QStringLiteral("hash-a"), created);
    QVERIFY(alice);
    QCOMPARE(alice->username, QStringLiteral("alice"));
    QVERIFY(!m_store->createAccount(QStringLiteral("alice"), QStringLiteral("hash-b")));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);

    const auto byName = m_store->findAccount(QStringLiteral("alice"));
    QVERIFY(byName);
    QCOMPARE(byName->id, alice->id);
    QCOMPARE(byName->passwordHash, QStringLiteral("hash-a"));
    QCOMPARE(byName->createdAt, created);
    QCOMPARE(m_store->findAccount(alice->id)->username, QStringLiteral("alice"));
    QVERIFY(!m_store->findAccount(QStringLiteral("bob")));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->findAccount(qint64(999)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);

    QVERIFY(m_store->setPasswordHash(alice->id, QStringLiteral("hash-new")));
    QCOMPARE(m_store->findAccount(alice->id)->passwordHash, QStringLiteral("hash-new"));
    QVERIFY(!m_store->setPasswordHash(999, QStringLiteral("x")));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);

    QVERIFY(addAccount(QStringLiteral("bob")));
    const auto all = m_store->listAccounts();
    QVERIFY(all);
    QCOMPARE(all->size(), 2);
    QCOMPARE(all->at(0).username, QStringLiteral("alice"));
    QCOMPARE(all->at(1).username, QStringLiteral("bob"));
}

void TestStore::idsAreNeverReused()
{
    const qint64 a = addAccount(QStringLiteral("a"));
    const qint64 b = addAccount(QStringLiteral("b"));
    QVERIFY(m_store->deleteAccount(b));
    const qint64 c = addAccount(QStringLiteral("c"));
    QVERIFY(c > b);

    const auto first = m_store->deliver(makeMessage(a, {c}, QStringLiteral("one")));
    QVERIFY(first);
    QVERIFY(m_store->deleteEntry(c, first->inboxEntryIds.first()));
    QVERIFY(m_store->deleteEntry(a, first->sentEntryId));
    const auto second = m_store->deliver(makeMessage(a, {c}, QStringLiteral("two")));
    QVERIFY(second);
    QVERIFY(second->messageId > first->messageId);
    QVERIFY(second->inboxEntryIds.first() > first->sentEntryId);
}

void TestStore::deliveryRoundTrip()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const qint64 carol = addAccount(QStringLiteral("carol"));
    const NewMessage message = makeMessage(alice, {bob, carol, bob}, QStringLiteral("hello"));
    const auto delivery = m_store->deliver(message);
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    QCOMPARE(delivery->inboxEntryIds.size(), 2); // bob once, though named twice
    QVERIFY(delivery->inboxEntryIds.at(0) < delivery->inboxEntryIds.at(1));
    QVERIFY(delivery->inboxEntryIds.at(1) < delivery->sentEntryId);

    const auto inbox = m_store->entry(bob, delivery->inboxEntryIds.at(0));
    QVERIFY(inbox);
    QCOMPARE(inbox->folder, Folder::Inbox);
    QCOMPARE(inbox->seen, false);
    QCOMPARE(inbox->messageId, delivery->messageId);
    QCOMPARE(inbox->size, message.raw.size());
    QCOMPARE(inbox->receivedAt, message.receivedAt);
    QCOMPARE(inbox->summary, message.summary);

    const auto sent = m_store->entry(alice, delivery->sentEntryId);
    QVERIFY(sent);
    QCOMPARE(sent->folder, Folder::Sent);
    QCOMPARE(sent->seen, true);

    // Stored once: three entries, one message row.
    RawConnection raw(url());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 1);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries")).toInt(), 3);
    QCOMPARE(m_store->rawMessage(carol, delivery->inboxEntryIds.at(1)).value_or(QByteArray()), message.raw);

    const auto bobCounts = m_store->counts(bob);
    QVERIFY(bobCounts);
    QCOMPARE(bobCounts->inbox.total, 1);
    QCOMPARE(bobCounts->inbox.unseen, 1);
    QCOMPARE(bobCounts->sent.total, 0);
    const auto aliceCounts = m_store->counts(alice);
    QCOMPARE(aliceCounts->sent.total, 1);
    QCOMPARE(aliceCounts->sent.unseen, 0);

    // A message with none of the summary fields (no From: name, no subject,
    // no Date:) stores them as empty, not as SQL NULL.
    NewMessage bare;
    bare.raw = QByteArrayLiteral("\r\nno headers at all\r\n");
    bare.receivedAt = message.receivedAt;
    bare.recipientIds = {bob};
    const auto bareDelivery = m_store->deliver(bare);
    QVERIFY2(bareDelivery, qPrintable(m_store->lastErrorText()));
    const auto bareEntry = m_store->entry(bob, bareDelivery->inboxEntryIds.first());
    QVERIFY(bareEntry);
    QCOMPARE(bareEntry->summary.subject, QString());
    QVERIFY(!bareEntry->summary.date.isValid());
    QCOMPARE(bareEntry->summary.to.size(), 0);
    QCOMPARE(bareDelivery->sentEntryId, 0);

    // Sending to oneself: an inbox and a sent entry of the same message.
    const auto self = m_store->deliver(makeMessage(alice, {alice}, QStringLiteral("note to self")));
    QVERIFY(self);
    QCOMPARE(m_store->counts(alice)->inbox.total, 1);
    QCOMPARE(m_store->counts(alice)->sent.total, 2);
}

// docs/STORAGE.md "Schema": at most MaxStoredAddresses of To and Cc stored,
// and every address of the field counted; a list within the bound stays a
// plain array, as versions before 3 wrote it.
void TestStore::addressListsAreBounded()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    // Made by hand with more than the bound (no count given), and as the
    // parser gives it for a Cc of 5,000.
    NewMessage message = makeMessage(alice, {bob}, QStringLiteral("many"));
    message.summary.to = numberedAddresses(1500);
    message.summary.toCount = 0;
    message.summary.cc = numberedAddresses(StoreSchema::MaxStoredAddresses, 2001);
    message.summary.ccCount = 5000;
    const auto delivery = m_store->deliver(message);
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    const auto entry = m_store->entry(bob, delivery->inboxEntryIds.first());
    QVERIFY(entry);
    QCOMPARE(entry->summary.to, numberedAddresses(StoreSchema::MaxStoredAddresses));
    QCOMPARE(entry->summary.toCount, 1500);
    QCOMPARE(entry->summary.cc, message.summary.cc);
    QCOMPARE(entry->summary.ccCount, 5000);
    QCOMPARE(m_store->listFolder(bob, Folder::Inbox, 1)->entries.first().summary, entry->summary);

    // What the parser makes of a message of 5,000 recipients reads back the same.
    QByteArray raw = "From: a@project.com\r\nTo: ";
    for (int i = 1; i <= 5000; ++i)
        raw += (i > 1 ? ",\r\n u" : "u") + QByteArray::number(i) + "@x.org";
    raw += "\r\nSubject: parsed\r\n\r\nbody\r\n";
    NewMessage parsed = makeMessage(alice, {bob}, QStringLiteral("parsed"));
    parsed.raw = raw;
    parsed.summary = MimeMessage::parse(raw).summary();
    QCOMPARE(parsed.summary.toCount, 5000);
    const auto parsedDelivery = m_store->deliver(parsed);
    QVERIFY(parsedDelivery);
    // The parser keeps MessageSummary::MaxAddresses; the store, what a summary shows.
    QCOMPARE(parsed.summary.to.size(), MessageSummary::MaxAddresses);
    MessageSummary listed = parsed.summary;
    listed.to = listed.to.first(StoreSchema::MaxStoredAddresses);
    QCOMPARE(m_store->entry(bob, parsedDelivery->inboxEntryIds.first())->summary, listed);
    QCOMPARE(m_store->rawMessage(bob, parsedDelivery->inboxEntryIds.first()).value_or(QByteArray()), raw);

    RawConnection connection(url());
    const auto stored = [&](const char *column, qint64 id) {
        return QJsonDocument::fromJson(connection.scalar(QStringLiteral("SELECT %1 FROM messages WHERE id = %2")
                                                             .arg(QLatin1StringView(column))
                                                             .arg(id))
                                           .toString()
                                           .toUtf8());
    };
    const QJsonDocument to = stored("to_list", delivery->messageId);
    QCOMPARE(to.object().value(u"count").toInteger(), 1500);
    QCOMPARE(to.object().value(u"addresses").toArray().size(), StoreSchema::MaxStoredAddresses);
    QCOMPARE(stored("cc_list", delivery->messageId).object().value(u"count").toInteger(), 5000);
    const auto small = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("small")));
    QVERIFY(small);
    QVERIFY(stored("to_list", small->messageId).isArray());
    QCOMPARE(stored("to_list", small->messageId).array().size(), 2);
    QCOMPARE(m_store->entry(bob, small->inboxEntryIds.first())->summary.toCount, 2);
}

void TestStore::deliveryIsAllOrNothing_data()
{
    QTest::addColumn<QString>("failure");
    QTest::newRow("unknown recipient after a valid one") << QStringLiteral("unknown-recipient");
    QTest::newRow("storage fails on the second inbox entry") << QStringLiteral("trigger-second-inbox");
    QTest::newRow("storage fails on the sent entry") << QStringLiteral("trigger-sent");
}

void TestStore::deliveryIsAllOrNothing()
{
    QFETCH(QString, failure);
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const qint64 carol = addAccount(QStringLiteral("carol"));
    QVERIFY(m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("before"))));

    RawConnection raw(url());
    QList<qint64> recipients{bob, carol};
    if (failure == u"unknown-recipient")
        recipients = {bob, 999};
    else if (failure == u"trigger-second-inbox")
        QVERIFY(raw.injectFailure(QStringLiteral("INSERT"), QStringLiteral("mailbox_entries"),
                                  QStringLiteral("NEW.owner_id = %1").arg(carol)));
    else
        QVERIFY(raw.injectFailure(QStringLiteral("INSERT"), QStringLiteral("mailbox_entries"),
                                  QStringLiteral("NEW.folder = 'sent'")));

    QVERIFY(!m_store->deliver(makeMessage(alice, recipients, QStringLiteral("doomed"))));
    QVERIFY(m_store->lastError() != Store::Error::None);
    QVERIFY(!m_store->lastErrorText().isEmpty());

    // Nothing of it, seen from another connection and through the store.
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 1);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages WHERE subject = 'doomed'")).toInt(), 0);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries")).toInt(), 2);
    QCOMPARE(m_store->counts(bob)->inbox.total, 1);
    QCOMPARE(m_store->counts(carol)->inbox.total, 0);
    QCOMPARE(m_store->counts(alice)->sent.total, 1);

    // The store is not left inside a transaction: the next delivery commits.
    QVERIFY(raw.removeInjectedFailure(QStringLiteral("mailbox_entries")));
    QVERIFY2(m_store->deliver(makeMessage(alice, {bob, carol}, QStringLiteral("after"))), qPrintable(m_store->lastErrorText()));
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 2);
}

// deliverAll: one transaction for the group, each message all or nothing
// on its own; the one that fails takes nothing of the others with it.
void TestStore::groupCommitKeepsEachMessageWhole()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const QList<NewMessage> group{makeMessage(alice, {bob}, QStringLiteral("first")),
                                  makeMessage(alice, {bob, 999}, QStringLiteral("doomed")),
                                  makeMessage(alice, {bob}, QStringLiteral("third"))};
    QList<Store::DeliveryError> errors;
    const QList<std::optional<Delivery>> deliveries = m_store->deliverAll(group, &errors);
    QCOMPARE(deliveries.size(), 3);
    QCOMPARE(errors.size(), 3);
    QVERIFY(deliveries.at(0) && deliveries.at(2));
    QVERIFY(!deliveries.at(1));
    QCOMPARE(errors.at(1).error, Store::Error::NotFound);
    QVERIFY(!errors.at(1).text.isEmpty());
    QCOMPARE(errors.at(0).error, Store::Error::None);
    QVERIFY(deliveries.at(2)->messageId > deliveries.at(0)->messageId);

    RawConnection raw(url());
    QCOMPARE(raw.column(QStringLiteral("SELECT subject FROM messages ORDER BY id")),
             QStringList({QStringLiteral("first"), QStringLiteral("third")}));
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries")).toInt(), 4); // 2 inbox + 2 sent
    QCOMPARE(m_store->counts(bob)->inbox.total, 2);

    // A statement failing inside a later message rolls back that message only.
    QVERIFY(raw.injectFailure(QStringLiteral("INSERT"), QStringLiteral("messages"), QStringLiteral("NEW.subject = 'late'"),
                              QStringLiteral("FAIL")));
    const auto none = m_store->deliverAll({makeMessage(alice, {bob}, QStringLiteral("ok")),
                                          makeMessage(alice, {bob}, QStringLiteral("late"))}, &errors);
    QVERIFY(none.at(0).has_value()); // RAISE(FAIL) ends only its statement: the savepoint keeps the first
    QVERIFY(!none.at(1).has_value());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages WHERE subject = 'late'")).toInt(), 0);
}

// The POP3 maildrop: the owner's inbox oldest first with sizes; a QUIT's
// deletions in one transaction, entries already gone being no error.
void TestStore::inboxAndDeleteEntries()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto first = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("one")));
    const auto second = m_store->deliver(makeMessage(alice, {bob, alice}, QStringLiteral("two")));
    QVERIFY(first && second);
    const auto inbox = m_store->inbox(bob);
    QVERIFY(inbox);
    QCOMPARE(inbox->size(), 2);
    QCOMPARE(inbox->at(0).id, first->inboxEntryIds.at(0));
    QCOMPARE(inbox->at(1).id, second->inboxEntryIds.at(0));
    QVERIFY(inbox->at(0).size > 0);
    QCOMPARE(inbox->at(0).folder, Folder::Inbox);
    QCOMPARE(m_store->inbox(alice)->size(), 1); // her copy of "two"; sent entries are not in it

    // Another owner's entry is not deleted; a gone one is no error.
    QVERIFY(m_store->deleteEntries(bob, {first->inboxEntryIds.at(0), second->inboxEntryIds.at(1), 999999}));
    QCOMPARE(m_store->inbox(bob)->size(), 1);
    QCOMPARE(m_store->inbox(alice)->size(), 1);
    QCOMPARE(m_store->counts(alice)->sent.total, 2); // the sender's copies stay
}

void TestStore::entriesBelongToTheirOwner()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const qint64 mallory = addAccount(QStringLiteral("mallory"));
    const auto delivery = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("private")));
    QVERIFY(delivery);
    const qint64 bobsEntry = delivery->inboxEntryIds.first();

    QVERIFY(!m_store->entry(mallory, bobsEntry));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->rawMessage(mallory, bobsEntry));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->setSeen(mallory, bobsEntry, true));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->deleteEntry(mallory, bobsEntry));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    // The sender's own sent entry is a different id: alice cannot use bob's.
    QVERIFY(!m_store->entry(alice, bobsEntry));
    QVERIFY(m_store->entry(bob, bobsEntry));
    QCOMPARE(m_store->entry(bob, bobsEntry)->seen, false);
    QCOMPARE(m_store->listFolder(mallory, Folder::Inbox, 50)->entries.size(), 0);
}

void TestStore::seenAndDelete()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto delivery = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("x")));
    QVERIFY(delivery);
    const qint64 entry = delivery->inboxEntryIds.first();

    QVERIFY(m_store->setSeen(bob, entry, true));
    QCOMPARE(m_store->entry(bob, entry)->seen, true);
    QCOMPARE(m_store->counts(bob)->inbox.unseen, 0);
    QVERIFY(m_store->setSeen(bob, entry, false));
    QCOMPARE(m_store->counts(bob)->inbox.unseen, 1);

    // Deleting bob's entry leaves alice's copy; deleting hers removes the message.
    RawConnection raw(url());
    QVERIFY(m_store->deleteEntry(bob, entry));
    QVERIFY(!m_store->entry(bob, entry));
    QVERIFY(!m_store->deleteEntry(bob, entry));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(m_store->entry(alice, delivery->sentEntryId));
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 1);
    QVERIFY(m_store->deleteEntry(alice, delivery->sentEntryId));
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 0);
}

void TestStore::deletingAnAccount()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto toBob = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("to bob")));
    const auto toAlice = m_store->deliver(makeMessage(bob, {alice}, QStringLiteral("to alice")));
    const auto onlyAlice = m_store->deliver(makeMessage(0, {alice}, QStringLiteral("only alice")));
    QVERIFY(toBob && toAlice && onlyAlice);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(m_store->addToken(QByteArray(32, 'a'), alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(QByteArray(32, 'b'), bob, now, now.addSecs(3600)));

    QVERIFY(m_store->deleteAccount(alice));
    QVERIFY(!m_store->findAccount(alice));
    QVERIFY(!m_store->tokenAccount(QByteArray(32, 'a'), now));
    QCOMPARE(m_store->tokenAccount(QByteArray(32, 'b'), now).value_or(0), bob);
    // Bob keeps what alice sent him and what he sent her (his sent copy).
    QVERIFY(m_store->entry(bob, toBob->inboxEntryIds.first()));
    QVERIFY(m_store->entry(bob, toAlice->sentEntryId));
    RawConnection raw(url());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries WHERE owner_id = %1").arg(alice)).toInt(), 0);
    // The message only alice held is gone with her.
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages WHERE id = %1").arg(onlyAlice->messageId)).toInt(), 0);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toInt(), 2);
    QVERIFY(!m_store->deleteAccount(alice));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

// StoreChangeWatcher hears every commit of another connection (the test's
// store here; another process is the same to SQLite's change counter and to
// PostgreSQL's notifications): a delivery, a seen flag, a deletion, an
// account's display name. Its own reads tell it nothing.
void TestStore::changeWatcherHearsOtherConnections()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    StoreChangeWatcher watcher(url());
    // PostgreSQL: connection checks between the changes below (a check once
    // left the connection deaf to notifications).
    watcher.setCheckIntervalMs(30);
    QString error;
    QVERIFY2(watcher.start(&error), qPrintable(error));
    QSignalSpy changes(&watcher, &StoreChangeWatcher::changed);
    // Reads change nothing.
    QVERIFY(m_store->listFolder(bob, Folder::Inbox, 10));
    QVERIFY(!changes.wait(4 * StoreChangeWatcher::PollMs));

    const auto expectChange = [&](const char *what) {
        QTRY_VERIFY2_WITH_TIMEOUT(changes.count() > 0, what, 10000);
        changes.clear();
        QTest::qWait(100); // several connection checks, on PostgreSQL
    };
    const auto delivery = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("watched")));
    QVERIFY(delivery);
    expectChange("a delivery");
    QVERIFY(m_store->setSeen(bob, delivery->inboxEntryIds.first(), true));
    expectChange("a seen flag");
    QVERIFY(m_store->deleteEntry(bob, delivery->inboxEntryIds.first()));
    expectChange("a deletion");
    QVERIFY(m_store->setDisplayName(alice, QStringLiteral("Alice")));
    expectChange("a display name");
    // Several commits in a row: at least one signal, and quiet afterwards.
    for (int i = 0; i < 5; ++i)
        QVERIFY(m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("burst %1").arg(i))));
    expectChange("a burst of deliveries");
    QTest::qWait(4 * StoreChangeWatcher::PollMs);
    changes.clear();
    QVERIFY(!changes.wait(4 * StoreChangeWatcher::PollMs));
}

// PostgreSQL: a connection that LISTENs hears a notification only between
// queries; Store::ping, the watcher's connection check, must not leave it
// inside a half-read result, or nothing is heard until its next query.
void TestStore::pingLeavesTheConnectionListening()
{
    if (!TestDatabase::postgresql())
        QSKIP("PostgreSQL's LISTEN; SQLite's watcher reads a counter");
    const qint64 alice = addAccount(QStringLiteral("alice"));
    Store listener;
    QVERIFY(listener.open(url(), Store::OpenMode::MustExist));
    QVERIFY2(listener.subscribeToChanges(), qPrintable(listener.lastErrorText()));
    QSignalSpy heard(listener.database().driver(), &QSqlDriver::notification);
    QVERIFY(listener.ping());
    QVERIFY(listener.subscribedToChanges());
    // No query on the listener from here on: only the socket tells.
    QVERIFY(m_store->setDisplayName(alice, QStringLiteral("A")));
    QTRY_VERIFY_WITH_TIMEOUT(heard.count() > 0, 10000);
}

void TestStore::displayNamesAndDirectory_data()
{
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<QStringList>("usernames"); // in order
    QTest::newRow("everyone, by name, at most the limit") << QString() << QStringList{u"alice"_s, u"anna.k"_s, u"bob"_s};
    QTest::newRow("a name's beginning") << u"a"_s << QStringList{u"alice"_s, u"anna.k"_s};
    QTest::newRow("a whole name") << u"bob"_s << QStringList{u"bob"_s};
    QTest::newRow("a name, in capitals") << u"BO"_s << QStringList{u"bob"_s};
    QTest::newRow("a display name's beginning, accents aside") << u"Zoe"_s << QStringList{u"anna.k"_s};
    QTest::newRow("a display name, other case") << u"zo\u00cb k"_s << QStringList{u"anna.k"_s};
    QTest::newRow("display name, non-ASCII") << u"j\u00dc"_s << QStringList{u"alice"_s};
    QTest::newRow("not the middle of a display name") << u"rgen"_s << QStringList{};
    QTest::newRow("nobody") << u"x"_s << QStringList{};
    QTest::newRow("a quote") << u"'"_s << QStringList{};
    QTest::newRow("percent is no wildcard") << u"%"_s << QStringList{};
    QTest::newRow("astral") << u"\U0001F600"_s << QStringList{u"carl"_s};
}

void TestStore::displayNamesAndDirectory()
{
    QFETCH(QString, prefix);
    QFETCH(QStringList, usernames);
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 anna = addAccount(QStringLiteral("anna.k"));
    addAccount(QStringLiteral("bob"));
    const qint64 carl = addAccount(QStringLiteral("carl"));
    QVERIFY(m_store->setDisplayName(alice, QStringLiteral("J\u00fcrgen Alice")));
    QVERIFY(m_store->setDisplayName(anna, QStringLiteral("Zo\u00eb Karlsson")));
    QVERIFY(m_store->setDisplayName(carl, QStringLiteral("\U0001F600 Carl")));
    QVERIFY(!m_store->setDisplayName(9999, QStringLiteral("nobody")));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QCOMPARE(m_store->findAccount(anna)->displayName, QStringLiteral("Zo\u00eb Karlsson"));

    const auto found = m_store->directory(prefix, 3);
    QVERIFY2(found, qPrintable(m_store->lastErrorText()));
    QStringList names;
    for (const DirectoryEntry &entry : *found)
        names.append(entry.username);
    QCOMPARE(names, usernames);
    for (const DirectoryEntry &entry : *found) {
        if (entry.username == u"anna.k")
            QCOMPARE(entry.displayName, QStringLiteral("Zo\u00eb Karlsson"));
        if (entry.username == u"bob")
            QCOMPARE(entry.displayName, QString());
    }
}

void TestStore::keysetPaging_data()
{
    QTest::addColumn<int>("messages");
    QTest::addColumn<int>("limit");
    QTest::newRow("25 by 10") << 25 << 10;
    QTest::newRow("20 by 10: no empty last page") << 20 << 10;
    QTest::newRow("3 by 50") << 3 << 50;
    QTest::newRow("7 by 1") << 7 << 1;
    QTest::newRow("empty") << 0 << 50;
}

void TestStore::keysetPaging()
{
    QFETCH(int, messages);
    QFETCH(int, limit);
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    QList<qint64> delivered;
    for (int i = 0; i < messages; ++i) {
        // Interleave another folder's and another owner's entries.
        QVERIFY(m_store->deliver(makeMessage(bob, {alice}, QStringLiteral("noise %1").arg(i))));
        const auto delivery = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("m%1").arg(i)));
        QVERIFY(delivery);
        delivered.prepend(delivery->inboxEntryIds.first()); // newest first
    }

    QList<qint64> seen;
    std::optional<qint64> before;
    int pages = 0;
    do {
        const auto page = m_store->listFolder(bob, Folder::Inbox, limit, before);
        QVERIFY(page);
        ++pages;
        QVERIFY(page->entries.size() <= limit);
        for (const MailboxEntry &entry : page->entries) {
            QCOMPARE(entry.ownerId, bob);
            QCOMPARE(entry.folder, Folder::Inbox);
            if (before)
                QVERIFY(entry.id < *before); // before is exclusive
            seen.append(entry.id);
        }
        if (page->nextBefore) {
            QCOMPARE(*page->nextBefore, page->entries.last().id);
            QCOMPARE(page->entries.size(), limit);
        }
        before = page->nextBefore;
        QVERIFY(pages <= messages + 1);
    } while (before);
    QCOMPARE(seen, delivered);
    QCOMPARE(pages, std::max(1, (messages + limit - 1) / limit));
}

// A connection keeps the summaries it read (4 MiB of them); a page larger
// than that, and the pages after it, still show every message as stored.
void TestStore::listingsOutgrowingWhatIsKept()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    // Some 24 KiB each as kept (50 addresses with long names): 200 are more
    // than a connection keeps.
    const int count = 200;
    QList<NewMessage> messages;
    for (int i = 0; i < count; ++i) {
        NewMessage message = makeMessage(alice, {bob}, QStringLiteral("big %1").arg(i));
        message.summary.to = numberedAddresses(StoreSchema::MaxStoredAddresses, 1000 * i);
        for (MailAddress &address : message.summary.to)
            address.name += QString(200, QChar(u'a' + i % 26));
        message.summary.toCount = message.summary.to.size();
        messages.append(message);
    }
    for (const auto &delivery : m_store->deliverAll(messages))
        QVERIFY(delivery);

    const auto check = [&](const QList<MailboxEntry> &entries, int newest) {
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const NewMessage &message = messages.at(newest - i);
            QCOMPARE(entries.at(i).summary.subject, message.summary.subject);
            QCOMPARE(entries.at(i).summary.to, message.summary.to);
            QCOMPARE(entries.at(i).summary.cc, message.summary.cc);
        }
    };
    for (int round = 0; round < 2; ++round) {
        const auto all = m_store->listFolder(bob, Folder::Inbox, count);
        QVERIFY2(all, qPrintable(m_store->lastErrorText()));
        QCOMPARE(all->entries.size(), count);
        check(all->entries, count - 1);
        // Page by page, from the oldest messages' end too.
        const auto older = m_store->listFolder(bob, Folder::Inbox, 30, all->entries.at(150).id);
        QVERIFY(older);
        QCOMPARE(older->entries.size(), 30);
        check(older->entries, count - 1 - 151);
        const auto entry = m_store->entry(bob, all->entries.at(7).id);
        QVERIFY(entry);
        QCOMPARE(entry->summary, all->entries.at(7).summary);
    }
}

// Restoring a backup of another installation while servers run gives ids
// already read a different message: their listings show the restored one.
void TestStore::listingsSeeARestoreOfAnotherInstallation_data()
{
    QTest::addColumn<QString>("theirSubject");
    QTest::addColumn<int>("laterMs");
    // The same size (subject of the same length), received later; received
    // at the same moment, a different size.
    QTest::newRow("received at another time") << QStringLiteral("tour") << 1;
    QTest::newRow("of another size") << QStringLiteral("their subject") << 0;
}

void TestStore::listingsSeeARestoreOfAnotherInstallation()
{
    QFETCH(QString, theirSubject);
    QFETCH(int, laterMs);
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto mine = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("mine")));
    QVERIFY(mine);
    const auto before = m_store->listFolder(bob, Folder::Inbox, 10);
    QVERIFY(before);
    QCOMPARE(before->entries.size(), 1);
    QCOMPARE(before->entries.first().summary.subject, QStringLiteral("mine"));

    // Another installation: the same accounts, one message of its own.
    const QString otherPath = m_dir->filePath(QStringLiteral("other.db"));
    const QString backup = m_dir->filePath(QStringLiteral("other-backup.db"));
    {
        Store other;
        QVERIFY(other.open(otherPath, Store::OpenMode::CreateIfMissing));
        const auto otherAlice = other.createAccount(QStringLiteral("alice"), QStringLiteral("h"));
        const auto otherBob = other.createAccount(QStringLiteral("bob"), QStringLiteral("h"));
        QVERIFY(otherAlice && otherBob);
        NewMessage theirs = makeMessage(otherAlice->id, {otherBob->id}, theirSubject);
        theirs.receivedAt = theirs.receivedAt.addMSecs(laterMs);
        const auto delivered = other.deliver(theirs);
        QVERIFY(delivered);
        QCOMPARE(delivered->messageId, mine->messageId); // the id the test is about
        QVERIFY(other.backupTo(backup));
    }
    // Restored by another process (mailroomctl) while this one keeps what it read.
    {
        Store admin;
        QVERIFY(admin.open(url(), Store::OpenMode::MustExist));
        QVERIFY2(admin.restoreFrom(backup), qPrintable(admin.lastErrorText()));
    }

    const auto after = m_store->listFolder(bob, Folder::Inbox, 10);
    QVERIFY2(after, qPrintable(m_store->lastErrorText()));
    QCOMPARE(after->entries.size(), 1);
    QCOMPARE(after->entries.first().messageId, mine->messageId);
    QCOMPARE(after->entries.first().summary.subject, theirSubject);
}

// The search index (docs/protocol/search.md §2) needs FTS5 in the SQLite
// Qt's driver runs on, with a tokenizer that folds case and accents.
void TestStore::sqliteHasFullTextSearch_data()
{
    QTest::addColumn<QString>("match");
    QTest::addColumn<int>("rows");
    QTest::newRow("a word") << QStringLiteral("report") << 1;
    QTest::newRow("another case") << QStringLiteral("REPORT") << 1;
    QTest::newRow("without accents") << QStringLiteral("cafe") << 1;
    QTest::newRow("with accents") << QStringLiteral("Caf\u00e9") << 1;
    QTest::newRow("umlaut folded") << QStringLiteral("uber") << 1;
    QTest::newRow("a phrase in order") << QStringLiteral("\"quarterly report\"") << 1;
    QTest::newRow("a phrase out of order") << QStringLiteral("\"report quarterly\"") << 0;
    QTest::newRow("a part of a word") << QStringLiteral("quarter") << 0;
    QTest::newRow("an address split at @ and .") << QStringLiteral("alice") << 1;
}

void TestStore::sqliteHasFullTextSearch()
{
    QFETCH(QString, match);
    QFETCH(int, rows);
    const QString name = QStringLiteral("fts5-check");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_dir->filePath(QStringLiteral("fts5.db")));
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        QSqlQuery query(db);
        QVERIFY2(query.exec(QStringLiteral("CREATE VIRTUAL TABLE IF NOT EXISTS t USING"
                                           " fts5(text, tokenize = 'unicode61 remove_diacritics 2')")),
                 qPrintable(query.lastError().text()));
        QVERIFY(query.exec(QStringLiteral("DELETE FROM t")));
        QVERIFY(query.prepare(QStringLiteral("INSERT INTO t (text) VALUES (?)")));
        query.addBindValue(QStringLiteral("Caf\u00e9 \u00dcber: the quarterly report, from alice@project.com"));
        QVERIFY2(query.exec(), qPrintable(query.lastError().text()));
        QVERIFY(query.prepare(QStringLiteral("SELECT count(*) FROM t WHERE t MATCH ?")));
        query.addBindValue(match);
        QVERIFY2(query.exec() && query.next(), qPrintable(query.lastError().text()));
        QCOMPARE(query.value(0).toInt(), rows);
    }
    QSqlDatabase::removeDatabase(name);
}

void TestStore::folderPageIsAnIndexRangeScan()
{
    if (TestDatabase::postgresql())
        QSKIP("SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner picks by its own statistics");
    // A mailbox of 200,000 entries among other owners' mail, with statistics
    // gathered, as a long-lived database would have them. Filled with plain
    // SQL in one transaction to keep the test fast.
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    {
        QSqlDatabase db = m_store->database();
        SqlWriteTransaction transaction(db);
        QVERIFY(transaction.isActive());
        QSqlQuery query(db);
        QVERIFY(query.exec(QStringLiteral(
            "INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
            " message_id, in_reply_to, preview, attachments, raw)"
            " SELECT 0, 1, '', '', '[]', '[]', 's', NULL, '', '', '', '[]', x'00'"
            " FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT i FROM n)")));
        QVERIFY(query.exec(QStringLiteral(
            "INSERT INTO mailbox_entries (owner_id, folder, message_id, seen)"
            " SELECT CASE WHEN id % 10 = 0 THEN %1 ELSE %2 END, CASE WHEN id % 3 = 0 THEN 'sent' ELSE 'inbox' END, id, 0"
            " FROM messages").arg(alice).arg(bob)));
        QVERIFY(query.exec(QStringLiteral("ANALYZE")));
        query.finish();
        QVERIFY(transaction.commit());
    }

    for (bool withBefore : {false, true}) {
        QSqlQuery explain(m_store->database());
        QVERIFY(explain.prepare(QStringLiteral("EXPLAIN QUERY PLAN ") + StoreSchema::folderPageSql()));
        explain.bindValue(QStringLiteral(":owner"), bob);
        explain.bindValue(QStringLiteral(":folder"), QStringLiteral("inbox"));
        explain.bindValue(QStringLiteral(":before"), withBefore ? qint64(150000) : std::numeric_limits<qint64>::max());
        explain.bindValue(QStringLiteral(":limit"), 51);
        QVERIFY2(explain.exec(), qPrintable(explain.lastError().text()));
        QStringList plan;
        while (explain.next())
            plan.append(explain.value(3).toString());
        qInfo().noquote() << "EXPLAIN QUERY PLAN:" << plan.join(QStringLiteral(" | "));
        QCOMPARE(plan.size(), 2);
        QVERIFY2(plan.at(0).startsWith(QStringLiteral("SEARCH e USING"))
                     && plan.at(0).contains(QStringLiteral("INDEX mailbox_entries_by_folder (owner_id=? AND folder=? AND id<?)")),
                 qPrintable(plan.at(0)));
        QVERIFY2(plan.at(1).startsWith(QStringLiteral("SEARCH m USING INTEGER PRIMARY KEY")), qPrintable(plan.at(1)));
        // No sort of the mailbox: the index already yields id order.
        QVERIFY(!plan.join(u' ').contains(QStringLiteral("TEMP B-TREE")));
    }
    // The summaries a listing has not kept: looked up by id, never a scan.
    {
        QSqlQuery explain(m_store->database());
        QVERIFY(explain.prepare(QStringLiteral("EXPLAIN QUERY PLAN ") + StoreSchema::summariesSql(m_store->engine())));
        for (int i = 0; i < StoreSchema::SummaryBatch; ++i)
            explain.bindValue(i, qint64(1000 + i));
        QVERIFY2(explain.exec(), qPrintable(explain.lastError().text()));
        QStringList plan;
        while (explain.next())
            plan.append(explain.value(3).toString());
        qInfo().noquote() << "EXPLAIN QUERY PLAN (summaries):" << plan.join(QStringLiteral(" | "));
        QVERIFY2(!plan.isEmpty() && plan.at(0).startsWith(QStringLiteral("SEARCH m USING INTEGER PRIMARY KEY")),
                 qPrintable(plan.join(QStringLiteral(" | "))));
        QVERIFY(!plan.join(u' ').contains(QStringLiteral("SCAN m")));
    }

    // And it reads back right: newest 50 of bob's inbox.
    const auto page = m_store->listFolder(bob, Folder::Inbox, 50);
    QVERIFY(page);
    QCOMPARE(page->entries.size(), 50);
    QVERIFY(page->nextBefore);
    for (int i = 1; i < page->entries.size(); ++i)
        QVERIFY(page->entries.at(i - 1).id > page->entries.at(i).id);
}

void TestStore::tokens()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const QDateTime now(QDate(2026, 11, 22), QTime(12, 0), Qt::UTC);
    const QByteArray first(32, '1'), second(32, '2'), third(32, '3'), expired(32, '4');
    QVERIFY(m_store->addToken(first, alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(second, alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(third, alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(expired, alice, now.addSecs(-7200), now.addSecs(-1)));
    QVERIFY(!m_store->addToken(first, alice, now, now.addSecs(60)));

    QCOMPARE(m_store->tokenAccount(first, now).value_or(0), alice);
    QVERIFY(!m_store->tokenAccount(expired, now));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    // Valid up to, not including, the expiry time.
    QVERIFY(m_store->tokenAccount(first, now.addSecs(3599)));
    QVERIFY(!m_store->tokenAccount(first, now.addSecs(3600)));
    QVERIFY(!m_store->tokenAccount(QByteArray(32, 'z'), now));

    QVERIFY(m_store->deleteToken(first));
    QVERIFY(!m_store->tokenAccount(first, now));
    QVERIFY(!m_store->deleteToken(first));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);

    QCOMPARE(m_store->purgeExpiredTokens(now).value_or(-1), 1);
    QCOMPARE(m_store->purgeExpiredTokens(now).value_or(-1), 0);
    QVERIFY(m_store->deleteOtherTokens(alice, second));
    QVERIFY(m_store->tokenAccount(second, now));
    QVERIFY(!m_store->tokenAccount(third, now));
    QVERIFY(m_store->deleteOtherTokens(alice));
    QVERIFY(!m_store->tokenAccount(second, now));
}

void TestStore::stats()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const NewMessage message = makeMessage(alice, {bob}, QStringLiteral("s"));
    QVERIFY(m_store->deliver(message));
    QVERIFY(m_store->deliver(message));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(m_store->addToken(QByteArray(32, 'a'), alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(QByteArray(32, 'b'), alice, now.addSecs(-10), now.addSecs(-5)));
    const auto stats = m_store->stats();
    QVERIFY(stats);
    QCOMPARE(stats->schemaVersion, Store::latestSchemaVersion());
    QCOMPARE(stats->accounts, 2);
    QCOMPARE(stats->messages, 2);
    QCOMPARE(stats->messageBytes, 2 * message.raw.size());
    QCOMPARE(stats->mailboxEntries, 4);
    QCOMPARE(stats->activeTokens, 1);
}

void TestStore::errorsNameTheirCause()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    QVERIFY(!m_store->createAccount(QStringLiteral("alice"), QStringLiteral("h")));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    // A recipient or account deleted meanwhile is "not found", not "exists".
    QVERIFY(!m_store->deliver(makeMessage(alice, {4242}, QStringLiteral("to nobody"))));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(!m_store->addToken(QByteArray(32, 't'), 777, now, now.addSecs(60)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(m_store->addToken(QByteArray(32, 't'), alice, now, now.addSecs(60)));
    QVERIFY(!m_store->addToken(QByteArray(32, 't'), alice, now, now.addSecs(60)));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    QVERIFY(!m_store->listFolder(alice, Folder::Inbox, 0));
    QCOMPARE(m_store->lastError(), Store::Error::Failed);
}

void TestStore::changePasswordIsAtomic()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray current(32, 'c'), other(32, 'o');
    QVERIFY(m_store->addToken(current, alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(other, alice, now, now.addSecs(3600)));

    QVERIFY(m_store->changePassword(alice, QStringLiteral("hash-2"), current));
    QCOMPARE(m_store->findAccount(alice)->passwordHash, QStringLiteral("hash-2"));
    QVERIFY(m_store->tokenAccount(current, now));
    QVERIFY(!m_store->tokenAccount(other, now));

    // When ending the sessions fails, the password does not change either.
    QVERIFY(m_store->addToken(other, alice, now, now.addSecs(3600)));
    RawConnection raw(url());
    QVERIFY(raw.injectFailure(QStringLiteral("DELETE"), QStringLiteral("api_tokens")));
    QVERIFY(!m_store->changePassword(alice, QStringLiteral("hash-3")));
    QCOMPARE(m_store->findAccount(alice)->passwordHash, QStringLiteral("hash-2"));
    QVERIFY(m_store->tokenAccount(other, now));
    QVERIFY(!m_store->changePassword(999, QStringLiteral("x")));
}

void TestStore::restoreNeverReusesIds()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    QVERIFY(m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("in the backup"))));
    const QString backup = m_dir->filePath(QStringLiteral("backup.db"));
    QVERIFY2(m_store->backupTo(backup), qPrintable(m_store->lastErrorText()));

    // After the backup: more accounts and mail, then a restore to the past.
    const qint64 carol = addAccount(QStringLiteral("carol"));
    const auto later = m_store->deliver(makeMessage(alice, {bob, carol}, QStringLiteral("after the backup")));
    QVERIFY(later);
    QVERIFY2(m_store->restoreFrom(backup), qPrintable(m_store->lastErrorText()));
    QVERIFY(!m_store->findAccount(QStringLiteral("carol")));
    QCOMPARE(m_store->listFolder(bob, Folder::Inbox, 10)->entries.size(), 1);

    // New rows continue after everything that ever existed.
    const qint64 dave = addAccount(QStringLiteral("dave"));
    QVERIFY(dave > carol);
    const auto next = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("after the restore")));
    QVERIFY(next);
    QVERIFY(next->messageId > later->messageId);
    QVERIFY(next->inboxEntryIds.first() > later->sentEntryId);
}

void TestStore::restoreEndsEverySession()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray loggedOut(32, 'x'), active(32, 'y');
    QVERIFY(m_store->addToken(loggedOut, alice, now, now.addSecs(3600)));
    QVERIFY(m_store->addToken(active, alice, now, now.addSecs(3600)));
    const QString backup = m_dir->filePath(QStringLiteral("backup.db"));
    QVERIFY(m_store->backupTo(backup));
    QVERIFY(m_store->deleteToken(loggedOut)); // a logout after the backup

    QVERIFY2(m_store->restoreFrom(backup), qPrintable(m_store->lastErrorText()));
    QVERIFY(!m_store->tokenAccount(loggedOut, now)); // stays ended
    QVERIFY(!m_store->tokenAccount(active, now));
    QCOMPARE(m_store->stats()->activeTokens, 0);
    QVERIFY(m_store->findAccount(alice));
}

void TestStore::restoreReadsTheWalOfALiveFile()
{
    // Another database in use: its latest commits are still in its -wal.
    const QString livePath = m_dir->filePath(QStringLiteral("live.db"));
    Store live;
    QVERIFY(live.open(livePath, Store::OpenMode::CreateIfMissing));
    QVERIFY(live.createAccount(QStringLiteral("early"), QStringLiteral("h")));
    QVERIFY(live.createAccount(QStringLiteral("recent"), QStringLiteral("h")));
    QVERIFY(QFileInfo(livePath + QStringLiteral("-wal")).size() > 0);
    const QByteArray mainFileBefore = [&] {
        QFile file(livePath);
        file.open(QIODevice::ReadOnly);
        return file.readAll();
    }();

    QVERIFY2(m_store->restoreFrom(livePath), qPrintable(m_store->lastErrorText()));
    QVERIFY(m_store->findAccount(QStringLiteral("early")));
    QVERIFY(m_store->findAccount(QStringLiteral("recent")));
    // The source is only read.
    QFile after(livePath);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QCOMPARE(after.readAll(), mainFileBefore);
}

// A backup made before version 3 (a SQLite file, as every backup) restores
// into today's database on either engine, its lists bounded by the
// migration. login_failures is the servers' throttling state, not data: a
// SQLite backup carries its rows (VACUUM INTO copies every table) but a
// restore never reads them and leaves the live table as it was (an
// attacker's budget does not come back with old mail).
void TestStore::restoreAnOlderBackup()
{
    const QString backup = m_dir->filePath(QStringLiteral("v2-backup.db"));
    qint64 big = 0;
    {
        Store old;
        QVERIFY2(old.open(backup, Store::OpenMode::CreateIfMissing, 2), qPrintable(old.lastErrorText()));
        const qint64 alice = old.createAccount(QStringLiteral("alice"), QStringLiteral("h")).value_or(Account()).id;
        const qint64 bob = old.createAccount(QStringLiteral("bob"), QStringLiteral("h")).value_or(Account()).id;
        big = old.deliver(makeMessage(alice, {bob}, QStringLiteral("big"))).value_or(Delivery()).messageId;
        QVERIFY(big);
        QVERIFY(old.deliver(makeMessage(alice, {bob}, QStringLiteral("small"))));
    }
    {
        RawConnection raw(backup);
        QSqlQuery update(raw.db());
        QVERIFY(update.prepare(QStringLiteral("UPDATE messages SET to_list = ? WHERE id = ?")));
        update.addBindValue(wholeList(numberedAddresses(1500)));
        update.addBindValue(big);
        QVERIFY2(update.exec(), qPrintable(update.lastError().text()));
    }
    RawConnection live(url());
    QVERIFY(live.exec(QStringLiteral("INSERT INTO login_failures (failed_at, client_address, username)"
                                     " VALUES (1795000000000, '192.0.2.7', 'mallory')")));

    QVERIFY2(m_store->restoreFrom(backup), qPrintable(m_store->lastErrorText()));
    const auto bob = m_store->findAccount(QStringLiteral("bob"));
    QVERIFY(bob);
    const auto check = [&] {
        const auto page = m_store->listFolder(bob->id, Folder::Inbox, 10);
        QVERIFY(page);
        QCOMPARE(page->entries.size(), 2);
        QCOMPARE(page->entries.at(0).summary, makeMessage(0, {}, QStringLiteral("small")).summary);
        QCOMPARE(page->entries.at(1).summary.to, numberedAddresses(StoreSchema::MaxStoredAddresses));
        QCOMPARE(page->entries.at(1).summary.toCount, 1500);
    };
    check();
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(live.scalar(QStringLiteral("SELECT count(*) FROM login_failures")).toInt(), 1);

    // Today's backup, login failures in the live database, and back.
    QVERIFY(live.exec(QStringLiteral("INSERT INTO login_failures (failed_at, client_address, username)"
                                     " VALUES (1795000000001, '192.0.2.8', 'mallory')")));
    const QString current = m_dir->filePath(QStringLiteral("v3-backup.db"));
    QVERIFY2(m_store->backupTo(current), qPrintable(m_store->lastErrorText()));
    QVERIFY(live.exec(QStringLiteral("DELETE FROM login_failures WHERE client_address = '192.0.2.7'")));
    QVERIFY2(m_store->restoreFrom(current), qPrintable(m_store->lastErrorText()));
    check();
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(live.column(QStringLiteral("SELECT client_address FROM login_failures")),
             QStringList{QStringLiteral("192.0.2.8")});
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
