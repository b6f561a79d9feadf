#include "messagejson.h"
#include "mimemessage.h"
#include "searchquery.h"
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
#include <QSqlRecord>
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

// What the store wrote before version 6 (accounts, a message stored once,
// entries per owner and folder name), with plain SQL on either engine: the
// rows the upgrade tests start from, since today's Store writes only the
// latest schema.
class RowsBeforeVersion6
{
public:
    explicit RowsBeforeVersion6(QSqlDatabase db) : m_db(std::move(db)) {}

    qint64 account(const QString &name)
    {
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO accounts (username, password_hash, created_at) VALUES (?, 'h', ?)"
                                     " RETURNING id"));
        query.addBindValue(name);
        query.addBindValue(qint64(1795000000000));
        return query.exec() && query.next() ? query.value(0).toLongLong() : 0;
    }

    std::optional<Delivery> deliver(const NewMessage &message)
    {
        const MessageSummary &summary = message.summary;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral(
            "INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
            " message_id, in_reply_to, preview, attachments, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id"));
        const QVariantList values{message.receivedAt.toMSecsSinceEpoch(),
                                  qint64(message.raw.size()),
                                  summary.from.name,
                                  summary.from.address,
                                  wholeList(summary.to),
                                  wholeList(summary.cc),
                                  summary.subject,
                                  summary.date.toMSecsSinceEpoch(),
                                  summary.messageId,
                                  summary.inReplyTo,
                                  summary.preview,
                                  QString::fromUtf8(QJsonDocument(MessageJson::attachments(summary.attachments))
                                                        .toJson(QJsonDocument::Compact)),
                                  message.raw};
        for (const QVariant &value : values)
            query.addBindValue(value);
        if (!query.exec() || !query.next()) {
            qWarning() << query.lastError().text();
            return std::nullopt;
        }
        Delivery delivery;
        delivery.messageId = query.value(0).toLongLong();
        query.finish();
        for (const qint64 recipient : message.recipientIds) {
            delivery.inboxEntryIds.append(addEntry(recipient, "inbox", delivery.messageId, false));
            if (!delivery.inboxEntryIds.last())
                return std::nullopt;
        }
        if (message.senderId) {
            delivery.sentEntryId = addEntry(message.senderId, "sent", delivery.messageId, true);
            if (!delivery.sentEntryId)
                return std::nullopt;
        }
        return delivery;
    }

    bool setSeen(qint64 entryId)
    {
        QSqlQuery query(m_db);
        return query.exec(QStringLiteral("UPDATE mailbox_entries SET seen = 1 WHERE id = %1").arg(entryId));
    }

private:
    qint64 addEntry(qint64 owner, const char *folder, qint64 messageId, bool seen)
    {
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO mailbox_entries (owner_id, folder, message_id, seen) VALUES (?, ?, ?, ?)"
                                     " RETURNING id"));
        query.addBindValue(owner);
        query.addBindValue(QLatin1StringView(folder));
        query.addBindValue(messageId);
        query.addBindValue(seen ? 1 : 0);
        return query.exec() && query.next() ? query.value(0).toLongLong() : 0;
    }

    QSqlDatabase m_db;
};

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
    void upgradeKeepsEverything();
    void failedUpgradeLeavesTheOldVersion();
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
    void folderNames_data();
    void folderNames();
    void folderLifecycle();
    void folderLimit();
    void flagsMovesAndCopies();
    void keywordRules_data();
    void keywordRules();
    void appendStoresWithoutDelivering();
    void changesSinceModseq();
    void changesInPages();
    void accountModseqsOfMany();
    void forgottenRemovalsReset();
    void pop3QuitKeepsWhatMovedAway();
    void renameOntoFormerNames();
    void restoreMovesModseqsOn();

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
    m_database = std::make_unique<TestDatabase>(m_dir->path(), TestDatabase::Start::Migrated);
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
    const auto page = store.listFolder(bob->id, FolderRole::Inbox, 10);
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

// What a database made by the servers before version 6 holds, read with
// plain SQL: the fixture's rows, for comparison after the upgrade.
struct VersionFiveRows
{
    QList<QVariantList> accounts; // id, username, password_hash, created_at
    QHash<qint64, QByteArray> raw; // message id -> bytes
    QList<QVariantList> entries; // id, owner_id, folder, message_id, seen
    qint64 entryCounter = 0;
    qint64 tokens = 0;
};

VersionFiveRows readVersionFive(const QString &path)
{
    VersionFiveRows rows;
    RawConnection raw(path);
    QSqlQuery query(raw.db());
    query.exec(QStringLiteral("SELECT id, username, password_hash, created_at FROM accounts ORDER BY id"));
    while (query.next())
        rows.accounts.append({query.value(0), query.value(1), query.value(2), query.value(3)});
    query.exec(QStringLiteral("SELECT id, raw FROM messages"));
    while (query.next())
        rows.raw.insert(query.value(0).toLongLong(), query.value(1).toByteArray());
    query.exec(QStringLiteral("SELECT id, owner_id, folder, message_id, seen FROM mailbox_entries ORDER BY id"));
    while (query.next())
        rows.entries.append({query.value(0), query.value(1), query.value(2), query.value(3), query.value(4)});
    rows.entryCounter = raw.scalar(QStringLiteral("SELECT seq FROM sqlite_sequence WHERE name = 'mailbox_entries'")).toLongLong();
    rows.tokens = raw.scalar(QStringLiteral("SELECT count(*) FROM api_tokens")).toLongLong();
    return rows;
}

// The fixture as the engine under test holds it: the file itself on
// SQLite; on PostgreSQL, its rows copied into a database that the store
// made at version 5 (the same columns in the same order), and the id
// counters set as the file has them.
bool placeVersionFive(const DatabaseUrl &url, const QString &fixture)
{
    if (url.kind == DatabaseUrl::Kind::Sqlite)
        return QFile::copy(fixture, url.sqlitePath);
    Store old;
    if (!old.open(url, Store::OpenMode::CreateIfMissing, 5))
        return false;
    RawConnection source(fixture);
    for (const char *table : {"accounts", "messages", "mailbox_entries", "api_tokens", "login_failures"}) {
        QSqlQuery read(source.db());
        if (!read.exec(QStringLiteral("SELECT * FROM %1").arg(QLatin1StringView(table))))
            return false;
        while (read.next()) {
            QStringList places;
            for (int i = 0; i < read.record().count(); ++i)
                places.append(QStringLiteral("?"));
            QSqlQuery write(old.database());
            write.prepare(QStringLiteral("INSERT INTO %1 VALUES (%2)").arg(QLatin1StringView(table), places.join(u',')));
            for (int i = 0; i < read.record().count(); ++i)
                write.addBindValue(read.value(i));
            if (!write.exec()) {
                qWarning() << table << write.lastError().text();
                return false;
            }
        }
    }
    QSqlQuery counters(source.db());
    counters.exec(QStringLiteral("SELECT name, seq FROM sqlite_sequence"));
    while (counters.next()) {
        QSqlQuery set(old.database());
        if (!set.exec(QStringLiteral("SELECT setval(pg_get_serial_sequence('%1', 'id'), %2)")
                          .arg(counters.value(0).toString())
                          .arg(counters.value(1).toLongLong())))
            return false;
    }
    return true;
}

// A database written by the servers of schema 5 (tests/common/data/
// make-schema-v5-fixture.py: accounts, mail with attachments, Bcc, seen
// flags, sent copies, deletions, sessions) upgraded on the engine under
// test: every account, password, message byte, entry id, folder and seen
// flag is there, and the new model is consistent.
void TestStore::upgradeKeepsEverything()
{
    const VersionFiveRows before = readVersionFive(QStringLiteral(SCHEMA_V5_DB));
    QCOMPARE(before.accounts.size(), 3);
    QCOMPARE(before.entries.size(), 10);
    QVERIFY(before.entryCounter > before.entries.last().at(0).toLongLong());
    m_store.reset();
    m_database = std::make_unique<TestDatabase>(m_dir->filePath(QStringLiteral("upgrade")));
    QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("upgrade")));
    QVERIFY(placeVersionFive(url(), QStringLiteral(SCHEMA_V5_DB)));

    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    for (const QVariantList &row : before.accounts) {
        const auto account = store.findAccount(row.at(1).toString());
        QVERIFY(account);
        QCOMPARE(account->id, row.at(0).toLongLong());
        QCOMPARE(account->passwordHash, row.at(2).toString());
        QCOMPARE(account->createdAt.toMSecsSinceEpoch(), row.at(3).toLongLong());
        // Six role folders each.
        const auto folders = store.folders(account->id);
        QVERIFY(folders);
        QCOMPARE(folders->size(), 6);
        for (int role = 0; role < 6; ++role)
            QCOMPARE(folders->at(role).role, std::optional(FolderRole(role)));
    }
    QHash<qint64, qint64> nextUid; // folder id -> the uid its next migrated entry has
    QHash<qint64, FolderCounts> counts;
    QHash<qint64, qint64> entriesOf;
    for (const QVariantList &row : before.entries) {
        const qint64 id = row.at(0).toLongLong();
        const qint64 owner = row.at(1).toLongLong();
        const auto entry = store.entry(owner, id);
        QVERIFY2(entry, qPrintable(store.lastErrorText()));
        const auto folder = store.folder(owner, entry->folderId);
        QVERIFY(folder);
        QCOMPARE(roleName(folder->role.value()), row.at(2).toString());
        QCOMPARE(entry->messageId, row.at(3).toLongLong());
        QCOMPARE(entry->seen, row.at(4).toBool());
        QVERIFY(!entry->answered && !entry->flagged && !entry->deleted && !entry->draft && entry->keywords.isEmpty());
        QCOMPARE(store.rawMessage(owner, id).value_or(QByteArray()), before.raw.value(entry->messageId));
        // Uids follow the ids within each folder, from 1.
        QCOMPARE(entry->uid, nextUid.value(entry->folderId, 1));
        nextUid[entry->folderId] = entry->uid + 1;
        ++counts[entry->folderId].total;
        counts[entry->folderId].unseen += entry->seen ? 0 : 1;
        ++entriesOf[owner];
    }
    for (const QVariantList &row : before.accounts) {
        const qint64 owner = row.at(0).toLongLong();
        const auto folders = store.folders(owner);
        QVERIFY(folders);
        for (const MailFolder &folder : *folders) {
            QCOMPARE(folder.total, counts.value(folder.id).total);
            QCOMPARE(folder.unseen, counts.value(folder.id).unseen);
            QCOMPARE(folder.uidNext, nextUid.value(folder.id, 1));
            QVERIFY(folder.uidValidity > 0);
        }
        // Modseqs 1 to 6 for the folders, then one per entry.
        QCOMPARE(store.accountModseq(owner).value_or(-1), 6 + entriesOf.value(owner));
        const auto all = store.changes(owner, 0);
        QVERIFY(all);
        QCOMPARE(all->created.size(), entriesOf.value(owner));
        QCOMPARE(all->folders.size(), 6);
    }
    // The attachments' bytes, as the message parser reads them back.
    const auto report = std::find_if(before.entries.cbegin(), before.entries.cend(), [&](const QVariantList &row) {
        return before.raw.value(row.at(3).toLongLong()).contains("Quarterly report");
    });
    QVERIFY(report != before.entries.cend());
    const auto reportEntry = store.entry(report->at(1).toLongLong(), report->at(0).toLongLong());
    QVERIFY(reportEntry);
    QCOMPARE(reportEntry->summary.attachments.size(), 2);
    QCOMPARE(reportEntry->summary.attachments.at(0).filename, QStringLiteral("r\u00e9sum\u00e9 Q4.pdf"));
    const MimeMessage parsed = MimeMessage::parse(*store.rawMessage(report->at(1).toLongLong(), report->at(0).toLongLong()));
    QByteArray pdf;
    for (int i = 0; i < 40; ++i)
        for (int b = 0; b < 256; ++b)
            pdf.append(char(b));
    QCOMPARE(parsed.attachmentData(0).value_or(QByteArray()), pdf);
    QCOMPARE(parsed.attachmentData(1).value_or(QByteArray()), QByteArrayLiteral("a,b\r\n1,2\r\n")); // text goes as CRLF lines
    // Messages stored before are in the search index (migration 7 read
    // them): headers, the readable text and attachment names.
    const auto found = [&store](qint64 owner, const QString &text) {
        QList<qint64> ids;
        if (const auto page = store.search(owner, *SearchQuery::parse(text).query, 50))
            for (const MailboxEntry &entry : page->entries)
                ids.append(entry.id);
        return ids;
    };
    QCOMPARE(found(report->at(1).toLongLong(), QStringLiteral("filename:resume")),
             QList<qint64>{report->at(0).toLongLong()});
    int lunchEntries = 0;
    for (const QVariantList &row : std::as_const(before.entries)) {
        if (!before.raw.value(row.at(3).toLongLong()).contains("Shall we?"))
            continue;
        ++lunchEntries;
        for (const QString &query : {QStringLiteral("shall"), QStringLiteral("subject:\"lunch a midi\"")})
            QVERIFY2(found(row.at(1).toLongLong(), query).contains(row.at(0).toLongLong()), qPrintable(query));
    }
    QCOMPARE(lunchEntries, 3); // Bob's sent entry and two inboxes
    RawConnection raw(url());
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM api_tokens")).toLongLong(), before.tokens);
    QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM message_words")).toLongLong(),
             raw.scalar(QStringLiteral("SELECT count(*) FROM messages")).toLongLong());
    // Entry ids go on after the largest ever given, deleted ones included.
    const auto delivery = store.deliver(makeMessage(1, {2}, QStringLiteral("after the upgrade")));
    QVERIFY2(delivery, qPrintable(store.lastErrorText()));
    QCOMPARE(delivery->inboxEntryIds.first(), before.entryCounter + 1);
    QCOMPARE(store.entry(2, delivery->inboxEntryIds.first())->uid,
             nextUid.value(store.roleFolder(2, FolderRole::Inbox)->id, 1));
}

// A migration that fails part way (here a statement of step 6; a process
// killed there is the same to the database: its transaction never
// commits) leaves version 5 as it was, and the next start runs it again.
void TestStore::failedUpgradeLeavesTheOldVersion()
{
    const VersionFiveRows before = readVersionFive(QStringLiteral(SCHEMA_V5_DB));
    m_store.reset();
    m_database = std::make_unique<TestDatabase>(m_dir->filePath(QStringLiteral("upgrade")));
    QVERIFY(QDir(m_dir->path()).mkpath(QStringLiteral("upgrade")));
    QVERIFY(placeVersionFive(url(), QStringLiteral(SCHEMA_V5_DB)));
    {
        RawConnection raw(url());
        // The step's first change of the accounts fails, after its new tables are made.
        QVERIFY(raw.injectFailure(QStringLiteral("UPDATE"), QStringLiteral("accounts"), QStringLiteral("NEW.username = 'bob'")));
    }
    {
        Store store;
        QVERIFY(!store.open(url(), Store::OpenMode::MustExist));
        QVERIFY2(store.lastErrorText().contains(QStringLiteral("migration 6")), qPrintable(store.lastErrorText()));
    }
    {
        RawConnection raw(url());
        if (TestDatabase::postgresql())
            QCOMPARE(raw.scalar(QStringLiteral("SELECT version FROM mailroom_schema")).toInt(), 5);
        else
            QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 5);
        QCOMPARE(raw.scalar(QStringLiteral("SELECT count(*) FROM mailbox_entries WHERE folder IN ('inbox', 'sent')")).toLongLong(),
                 before.entries.size());
        QVERIFY(!raw.exec(QStringLiteral("SELECT count(*) FROM folders")));
        QVERIFY(raw.exec(QStringLiteral("DROP TRIGGER inject") + (TestDatabase::postgresql() ? QStringLiteral(" ON accounts") : QString())));
    }
    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    for (const QVariantList &row : before.entries)
        QCOMPARE(store.entry(row.at(1).toLongLong(), row.at(0).toLongLong())->seen, row.at(4).toBool());
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
        RowsBeforeVersion6 rows(old.database());
        const qint64 alice = rows.account(QStringLiteral("alice"));
        bob = rows.account(QStringLiteral("bob"));
        QVERIFY(alice && bob);
        QVERIFY(rows.deliver(makeMessage(alice, {bob}, QStringLiteral("from v1"))));
        QVERIFY(!old.addToken(QByteArray(32, 'h'), bob, QDateTime::currentDateTimeUtc(),
                              QDateTime::currentDateTimeUtc().addSecs(60))); // no such table yet
    }
    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    QCOMPARE(store.listFolder(bob, FolderRole::Inbox, 10)->entries.first().summary.subject, QStringLiteral("from v1"));
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
        RowsBeforeVersion6 rows(old.database());
        const qint64 alice = rows.account(QStringLiteral("alice"));
        bob = rows.account(QStringLiteral("bob"));
        QVERIFY(alice && bob);
        big = rows.deliver(makeMessage(alice, {bob}, QStringLiteral("big"))).value_or(Delivery()).messageId;
        exact = rows.deliver(makeMessage(alice, {bob}, QStringLiteral("exact"))).value_or(Delivery()).messageId;
        small = rows.deliver(makeMessage(alice, {bob}, QStringLiteral("small"))).value_or(Delivery()).messageId;
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
    const auto page = store.listFolder(bob, FolderRole::Inbox, 10);
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
    QCOMPARE(inbox->folderId, m_store->roleFolder(bob, FolderRole::Inbox)->id);
    QCOMPARE(inbox->seen, false);
    QCOMPARE(inbox->messageId, delivery->messageId);
    QCOMPARE(inbox->size, message.raw.size());
    QCOMPARE(inbox->receivedAt, message.receivedAt);
    QCOMPARE(inbox->summary, message.summary);

    const auto sent = m_store->entry(alice, delivery->sentEntryId);
    QVERIFY(sent);
    QCOMPARE(sent->folderId, m_store->roleFolder(alice, FolderRole::Sent)->id);
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
    QCOMPARE(m_store->listFolder(bob, FolderRole::Inbox, 1)->entries.first().summary, entry->summary);

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
                                  QStringLiteral("NEW.seen = 1"))); // the sent entry starts seen

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
    QVERIFY(none.at(0).has_value()); // the group is stored again without the one that failed
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
    QCOMPARE(inbox->at(0).folderId, m_store->roleFolder(bob, FolderRole::Inbox)->id);
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
    QCOMPARE(m_store->listFolder(mallory, FolderRole::Inbox, 50)->entries.size(), 0);
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
    QVERIFY(m_store->listFolder(bob, FolderRole::Inbox, 10));
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

    const qint64 bobInbox = m_store->roleFolder(bob, FolderRole::Inbox)->id;
    QList<qint64> seen;
    std::optional<qint64> before;
    int pages = 0;
    do {
        const auto page = m_store->listFolder(bob, FolderRole::Inbox, limit, before);
        QVERIFY(page);
        ++pages;
        QVERIFY(page->entries.size() <= limit);
        for (const MailboxEntry &entry : page->entries) {
            QCOMPARE(entry.ownerId, bob);
            QCOMPARE(entry.folderId, bobInbox);
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
        const auto all = m_store->listFolder(bob, FolderRole::Inbox, count);
        QVERIFY2(all, qPrintable(m_store->lastErrorText()));
        QCOMPARE(all->entries.size(), count);
        check(all->entries, count - 1);
        // Page by page, from the oldest messages' end too.
        const auto older = m_store->listFolder(bob, FolderRole::Inbox, 30, all->entries.at(150).id);
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
    const auto before = m_store->listFolder(bob, FolderRole::Inbox, 10);
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

    const auto after = m_store->listFolder(bob, FolderRole::Inbox, 10);
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
            "INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq, created_modseq)"
            " SELECT m_owner, id, 0, (SELECT f.id FROM folders f WHERE f.owner_id = m_owner AND f.role = m_role), id,"
            " id + 6, id + 6"
            " FROM (SELECT id, CASE WHEN id % 10 = 0 THEN %1 ELSE %2 END AS m_owner,"
            " CASE WHEN id % 3 = 0 THEN 'sent' ELSE 'inbox' END AS m_role FROM messages)").arg(alice).arg(bob)));
        QVERIFY(query.exec(QStringLiteral("ANALYZE")));
        query.finish();
        QVERIFY(transaction.commit());
    }

    const qint64 bobInbox = m_store->roleFolder(bob, FolderRole::Inbox)->id;
    for (bool byRole : {false, true}) {
        for (bool withBefore : {false, true}) {
            QSqlQuery explain(m_store->database());
            QVERIFY(explain.prepare(QStringLiteral("EXPLAIN QUERY PLAN ") + StoreSchema::folderPageSql(byRole)));
            explain.bindValue(QStringLiteral(":owner"), bob);
            explain.bindValue(QStringLiteral(":folder"), byRole ? QVariant(QStringLiteral("inbox")) : QVariant(bobInbox));
            explain.bindValue(QStringLiteral(":before"), withBefore ? qint64(150000) : std::numeric_limits<qint64>::max());
            explain.bindValue(QStringLiteral(":limit"), 51);
            QVERIFY2(explain.exec(), qPrintable(explain.lastError().text()));
            QStringList plan;
            while (explain.next())
                plan.append(explain.value(3).toString());
            qInfo().noquote() << "EXPLAIN QUERY PLAN:" << plan.join(QStringLiteral(" | "));
            // The folder's row by its key, then a range of the index.
            QVERIFY2(plan.contains(QStringLiteral("SEARCH e USING INDEX mailbox_entries_by_folder (folder_id=? AND id<?)")),
                     qPrintable(plan.join(QStringLiteral(" | "))));
            QVERIFY2(plan.contains(QStringLiteral("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)")),
                     qPrintable(plan.join(QStringLiteral(" | "))));
            QVERIFY2(plan.contains(byRole ? QStringLiteral("SEARCH f USING COVERING INDEX folders_by_role (owner_id=? AND role=?)")
                                          : QStringLiteral("SEARCH f USING INTEGER PRIMARY KEY (rowid=?)")),
                     qPrintable(plan.join(QStringLiteral(" | "))));
            // No sort of the mailbox (the index already yields id order), no scan.
            QVERIFY(!plan.join(u' ').contains(QStringLiteral("TEMP B-TREE")));
            QVERIFY(!plan.join(u' ').contains(QStringLiteral("SCAN")));
        }
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
    const auto page = m_store->listFolder(bob, FolderRole::Inbox, 50);
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
    QVERIFY(!m_store->listFolder(alice, FolderRole::Inbox, 0));
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
    QCOMPARE(m_store->listFolder(bob, FolderRole::Inbox, 10)->entries.size(), 1);
    // The search index is the backup's too (built again from its words).
    const auto subjectsFound = [](Store &store, qint64 owner, const QString &text) {
        QStringList subjects;
        if (const auto page = store.search(owner, *SearchQuery::parse(text).query, 50))
            for (const MailboxEntry &entry : page->entries)
                subjects.append(entry.summary.subject);
        return subjects;
    };
    QCOMPARE(subjectsFound(*m_store, bob, QStringLiteral("backup")), QStringList{QStringLiteral("in the backup")});
    {
        // The backup file is a database of its own, its index with it
        // (from PostgreSQL, rows copied into a new file).
        Store copy;
        QVERIFY2(copy.open(backup, Store::OpenMode::MustExist), qPrintable(copy.lastErrorText()));
        QCOMPARE(subjectsFound(copy, bob, QStringLiteral("subject:backup")), QStringList{QStringLiteral("in the backup")});
    }

    // New rows continue after everything that ever existed.
    const qint64 dave = addAccount(QStringLiteral("dave"));
    QVERIFY(dave > carol);
    const auto next = m_store->deliver(makeMessage(alice, {bob}, QStringLiteral("after the restore")));
    QVERIFY(next);
    QVERIFY(next->messageId > later->messageId);
    QVERIFY(next->inboxEntryIds.first() > later->sentEntryId);
    QCOMPARE(subjectsFound(*m_store, bob, QStringLiteral("after")), QStringList{QStringLiteral("after the restore")});
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
        RowsBeforeVersion6 rows(old.database());
        const qint64 alice = rows.account(QStringLiteral("alice"));
        const qint64 bob = rows.account(QStringLiteral("bob"));
        big = rows.deliver(makeMessage(alice, {bob}, QStringLiteral("big"))).value_or(Delivery()).messageId;
        QVERIFY(big);
        QVERIFY(rows.deliver(makeMessage(alice, {bob}, QStringLiteral("small"))));
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
        const auto page = m_store->listFolder(bob->id, FolderRole::Inbox, 10);
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

// docs/STORAGE.md, "Folders, flags and changes": the rules of a folder name.
void TestStore::folderNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("error"); // Store::Error, None: created
    const int none = int(Store::Error::None);
    const int invalid = int(Store::Error::Invalid);
    const int exists = int(Store::Error::AlreadyExists);
    QTest::newRow("plain") << u"Projects"_s << none;
    QTest::newRow("levels") << u"Projects/2027/Q1"_s << none;
    QTest::newRow("under a role folder") << u"Inbox/Receipts"_s << none;
    QTest::newRow("unicode") << u"R\u00e9sum\u00e9s \u65e5\u672c \U0001F4C1"_s << none;
    QTest::newRow("200 characters") << QString(200, u'x') << none;
    QTest::newRow("200 characters outside the BMP") << QString::fromUcs4(std::u32string(200, U'\U0001F4C1').c_str(), 200) << none;
    QTest::newRow("201 characters") << QString(201, u'x') << invalid;
    QTest::newRow("empty") << QString() << invalid;
    QTest::newRow("leading slash") << u"/Projects"_s << invalid;
    QTest::newRow("trailing slash") << u"Projects/"_s << invalid;
    QTest::newRow("empty level") << u"Projects//2027"_s << invalid;
    QTest::newRow("only a slash") << u"/"_s << invalid;
    QTest::newRow("tab") << u"Pro\tjects"_s << invalid;
    QTest::newRow("newline") << u"Projects\n"_s << invalid;
    QTest::newRow("NUL") << (u"Pro"_s) + QChar(0) + u"jects" << invalid;
    QTest::newRow("DEL") << u"Pro\u007fjects"_s << invalid;
    QTest::newRow("C1 control") << u"Pro\u0085jects"_s << invalid;
    QTest::newRow("lone surrogate") << (u"Pro"_s) + QChar(0xd800) << invalid;
    QTest::newRow("INBOX in capitals") << u"INBOX"_s << invalid;
    QTest::newRow("inbox in lower case") << u"inbox"_s << invalid;
    QTest::newRow("the inbox's own name") << u"Inbox"_s << exists;
    QTest::newRow("a role folder's name") << u"Trash"_s << exists;
    QTest::newRow("another case of a role folder") << u"trash"_s << none; // unique case-sensitively
}

void TestStore::folderNames()
{
    QFETCH(QString, name);
    QFETCH(int, error);
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto folder = m_store->createFolder(bob, name);
    QCOMPARE(int(m_store->lastError()), error);
    QCOMPARE(folder.has_value(), error == int(Store::Error::None));
    if (folder) {
        QCOMPARE(folder->name, name);
        QCOMPARE(folder->role, std::nullopt);
        QCOMPARE(m_store->folders(bob)->size(), 7);
        // Twice: AlreadyExists, nothing changed.
        QVERIFY(!m_store->createFolder(bob, name));
        QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    } else {
        QVERIFY(!m_store->lastErrorText().isEmpty());
        QCOMPARE(m_store->folders(bob)->size(), 6);
    }
    QCOMPARE(m_store->accountModseq(bob).value_or(-1), folder ? 7 : 6);
}

void TestStore::folderLifecycle()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto folders = m_store->folders(bob);
    QVERIFY(folders);
    QStringList names;
    for (const MailFolder &folder : *folders)
        names.append(folder.name);
    QCOMPARE(names, (QStringList{u"Inbox"_s, u"Drafts"_s, u"Sent"_s, u"Archive"_s, u"Trash"_s, u"Junk"_s}));

    const auto projects = m_store->createFolder(bob, u"Projects"_s);
    const auto year = m_store->createFolder(bob, u"Projects/2027"_s);
    const auto quarter = m_store->createFolder(bob, u"Projects/2027/Q1"_s);
    const auto lookalike = m_store->createFolder(bob, u"Projects 2"_s);
    QVERIFY(projects && year && quarter && lookalike);
    QVERIFY(projects->uidValidity > 0 && year->uidValidity > projects->uidValidity);
    QCOMPARE(projects->uidNext, 1);
    QCOMPARE(projects->modseq, 7);

    // Mail in the sub-folders: one message only there, one also in the inbox.
    // (No sender: a sent entry would keep the message.)
    const auto only = m_store->deliver(makeMessage(0, {bob}, u"only in Q1"_s));
    const auto both = m_store->deliver(makeMessage(0, {bob}, u"also in the inbox"_s));
    QVERIFY(only && both);
    EntryUpdate toQuarter;
    toQuarter.folderId = quarter->id;
    QVERIFY(m_store->updateEntry(bob, only->inboxEntryIds.first(), toQuarter));
    QVERIFY(m_store->copyEntry(bob, both->inboxEntryIds.first(), year->id));

    // A rename takes the sub-folders along, each with a new uidValidity;
    // a name that only begins alike stays.
    const auto renamed = m_store->renameFolder(bob, projects->id, u"Work"_s);
    QVERIFY2(renamed, qPrintable(m_store->lastErrorText()));
    QCOMPARE(renamed->name, u"Work"_s);
    QVERIFY(renamed->uidValidity > quarter->uidValidity);
    QCOMPARE(m_store->folder(bob, year->id)->name, u"Work/2027"_s);
    QCOMPARE(m_store->folder(bob, quarter->id)->name, u"Work/2027/Q1"_s);
    QVERIFY(m_store->folder(bob, quarter->id)->uidValidity != quarter->uidValidity);
    QCOMPARE(m_store->folder(bob, lookalike->id)->name, u"Projects 2"_s);
    QCOMPARE(m_store->folder(bob, quarter->id)->total, 1);
    // The same name again: nothing to do.
    QVERIFY(m_store->renameFolder(bob, projects->id, u"Work"_s));

    // Refused: a role folder, a name taken (by a sub-folder's new name
    // too), under itself, a bad name, another account's folder.
    QVERIFY(!m_store->renameFolder(bob, m_store->roleFolder(bob, FolderRole::Trash)->id, u"Bin"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->renameFolder(bob, lookalike->id, u"Work"_s));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    QVERIFY(m_store->createFolder(bob, u"Elsewhere/2027"_s));
    QVERIFY(!m_store->renameFolder(bob, projects->id, u"Elsewhere"_s));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    QVERIFY(!m_store->renameFolder(bob, projects->id, u"Work/2027/Deeper"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->renameFolder(bob, projects->id, u"Work//x"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->renameFolder(alice, projects->id, u"Mine"_s));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->deleteFolder(alice, projects->id));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->deleteFolder(bob, m_store->roleFolder(bob, FolderRole::Inbox)->id));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);

    // A delete takes the sub-folders and their entries; a message whose
    // last entry that was goes too; one still in the inbox stays.
    const qint64 before = m_store->accountModseq(bob).value();
    QVERIFY2(m_store->deleteFolder(bob, projects->id), qPrintable(m_store->lastErrorText()));
    QVERIFY(!m_store->folder(bob, projects->id) && !m_store->folder(bob, year->id) && !m_store->folder(bob, quarter->id));
    QVERIFY(m_store->folder(bob, lookalike->id));
    QVERIFY(!m_store->entry(bob, only->inboxEntryIds.first()));
    QVERIFY(m_store->entry(bob, both->inboxEntryIds.first()));
    RawConnection raw(url());
    QCOMPARE(raw.scalar(u"SELECT count(*) FROM messages WHERE id = %1"_s.arg(only->messageId)).toInt(), 0);
    QCOMPARE(raw.scalar(u"SELECT count(*) FROM messages WHERE id = %1"_s.arg(both->messageId)).toInt(), 1);
    // Two entries and three folders removed: a modseq each.
    QCOMPARE(m_store->accountModseq(bob).value(), before + 5);
    // A name comes back with a uidValidity it never had.
    const auto again = m_store->createFolder(bob, u"Projects"_s);
    QVERIFY(again);
    QVERIFY(again->uidValidity > projects->uidValidity && again->uidValidity != renamed->uidValidity);
}

void TestStore::folderLimit()
{
    const qint64 bob = addAccount(QStringLiteral("bob"));
    // Straight into the table, to keep the test fast; the store counts them.
    {
        RawConnection raw(url());
        QVERIFY(raw.exec(u"INSERT INTO folders (owner_id, name, role, uid_validity, uid_next, modseq, highest_modseq)"
                         " SELECT %1, 'f' || n, NULL, 1, 1, 6, 6 FROM (%2) numbers"_s.arg(bob).arg(
                             TestDatabase::postgresql() ? u"SELECT generate_series(1, 993) AS n"_s
                                                        : u"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 993) SELECT n FROM c"_s)));
    }
    QVERIFY2(m_store->createFolder(bob, u"the thousandth"_s), qPrintable(m_store->lastErrorText()));
    QCOMPARE(m_store->folders(bob)->size(), Store::MaxFolders);
    QVERIFY(!m_store->createFolder(bob, u"one too many"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(m_store->lastErrorText().contains(u"1000"_s));
    // Another account is not held back by it.
    QVERIFY(m_store->createFolder(addAccount(QStringLiteral("carol")), u"one too many"_s));
}

void TestStore::flagsMovesAndCopies()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto delivery = m_store->deliver(makeMessage(alice, {bob}, u"hello"_s));
    QVERIFY(delivery);
    const qint64 id = delivery->inboxEntryIds.first();
    const MailFolder inbox = *m_store->roleFolder(bob, FolderRole::Inbox);
    const MailFolder archive = *m_store->roleFolder(bob, FolderRole::Archive);
    const auto delivered = m_store->entry(bob, id);
    QVERIFY(delivered);
    QCOMPARE(delivered->uid, 1);
    QCOMPARE(delivered->modseq, 7);
    QCOMPARE(inbox.uidNext, 2);
    QCOMPARE(inbox.highestModseq, 7);
    QCOMPARE(inbox.unseen, 1);
    // The sender's copy starts seen, in Sent.
    const auto sent = m_store->entry(alice, delivery->sentEntryId);
    QCOMPARE(sent->folderId, m_store->roleFolder(alice, FolderRole::Sent)->id);
    QVERIFY(sent->seen && !sent->answered && !sent->flagged && !sent->deleted && !sent->draft);

    EntryUpdate flags;
    flags.flagged = true;
    flags.answered = true;
    flags.keywords = QStringList{u"$Forwarded"_s, u"Work"_s, u"$forwarded"_s};
    const auto flagged = m_store->updateEntry(bob, id, flags);
    QVERIFY2(flagged, qPrintable(m_store->lastErrorText()));
    QVERIFY(flagged->flagged && flagged->answered && !flagged->seen);
    QCOMPARE(flagged->keywords, (QStringList{u"$Forwarded"_s, u"Work"_s})); // without case, once
    QCOMPARE(flagged->modseq, 8);
    QCOMPARE(flagged->summary, delivered->summary);
    // The same again changes nothing and takes no modseq.
    QCOMPARE(m_store->updateEntry(bob, id, flags)->modseq, 8);
    QCOMPARE(m_store->accountModseq(bob).value_or(0), 8);

    // A move keeps the id, takes the target's next uid and carries the flags.
    EntryUpdate move;
    move.folderId = archive.id;
    move.seen = true;
    const auto moved = m_store->updateEntry(bob, id, move);
    QVERIFY2(moved, qPrintable(m_store->lastErrorText()));
    QCOMPARE(moved->id, id);
    QCOMPARE(moved->folderId, archive.id);
    QCOMPARE(moved->uid, 1);
    QVERIFY(moved->seen && moved->flagged);
    QCOMPARE(moved->modseq, 9);
    QCOMPARE(m_store->listFolder(bob, FolderRole::Inbox, 10)->entries.size(), 0);
    QCOMPARE(m_store->listFolder(bob, archive.id, 10)->entries.first().id, id);
    const MailFolder inboxAfter = *m_store->roleFolder(bob, FolderRole::Inbox);
    const MailFolder archiveAfter = *m_store->roleFolder(bob, FolderRole::Archive);
    QCOMPARE(inboxAfter.total, 0);
    QCOMPARE(inboxAfter.unseen, 0);
    QCOMPARE(inboxAfter.uidNext, 2); // never given again
    QCOMPARE(inboxAfter.highestModseq, 9);
    QCOMPARE(archiveAfter.total, 1);
    QCOMPARE(archiveAfter.unseen, 0);
    QCOMPARE(archiveAfter.uidNext, 2);
    // IMAP's view: the inbox's uid 1 left at modseq 9.
    RawConnection raw(url());
    QCOMPARE(raw.scalar(u"SELECT count(*) FROM removals WHERE kind = 'moved' AND object_id = %1 AND folder_id = %2"
                        " AND uid = 1 AND modseq = 9"_s.arg(id).arg(inbox.id)).toInt(), 1);

    // Not across accounts: another's folder, another's entry.
    EntryUpdate toAlice;
    toAlice.folderId = m_store->roleFolder(alice, FolderRole::Inbox)->id;
    QVERIFY(!m_store->updateEntry(bob, id, toAlice));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->updateEntry(alice, id, flags));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->copyEntry(bob, id, toAlice.folderId.value()));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->copyEntry(alice, id, toAlice.folderId.value()));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QCOMPARE(m_store->entry(bob, id)->folderId, archive.id);

    // A copy is a new entry of the same message, with the same flags; a
    // folder may hold two entries of one message.
    const auto copy = m_store->copyEntry(bob, id, archive.id);
    QVERIFY2(copy, qPrintable(m_store->lastErrorText()));
    QVERIFY(copy->id > delivery->sentEntryId);
    QCOMPARE(copy->messageId, moved->messageId);
    QCOMPARE(copy->uid, 2);
    QVERIFY(copy->seen && copy->flagged && copy->answered);
    QCOMPARE(copy->keywords, flagged->keywords);
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Archive)->total, 2);
    // Deleting one leaves the message for the other.
    QVERIFY(m_store->deleteEntry(bob, id));
    QCOMPARE(m_store->rawMessage(bob, copy->id).value_or(QByteArray()), makeMessage(0, {}, u"hello"_s).raw);
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Archive)->total, 1);
    QVERIFY(!m_store->deleteEntry(bob, id));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

void TestStore::keywordRules_data()
{
    QTest::addColumn<QStringList>("keywords");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("common ones") << QStringList{u"$Forwarded"_s, u"$Junk"_s, u"$MDNSent"_s} << true;
    QTest::newRow("none") << QStringList{} << true;
    QTest::newRow("empty") << QStringList{QString()} << false;
    QTest::newRow("space") << QStringList{u"two words"_s} << false;
    QTest::newRow("backslash: a system flag") << QStringList{u"\\Seen"_s} << false;
    QTest::newRow("parenthesis") << QStringList{u"a(b"_s} << false;
    QTest::newRow("brace") << QStringList{u"a{b"_s} << false;
    QTest::newRow("wildcard") << QStringList{u"a*"_s} << false;
    QTest::newRow("quote") << QStringList{u"a\"b"_s} << false;
    QTest::newRow("bracket") << QStringList{u"a]"_s} << false;
    QTest::newRow("not ASCII") << QStringList{u"\u00e9t\u00e9"_s} << false;
    QTest::newRow("control") << QStringList{u"a\u0001"_s} << false;
    QTest::newRow("100 characters") << QStringList{QString(100, u'k')} << true;
    QTest::newRow("101 characters") << QStringList{QString(101, u'k')} << false;
    QStringList fifty, fiftyOne;
    for (int i = 0; i < 51; ++i)
        (i < 50 ? fifty : fiftyOne).append(u"k%1"_s.arg(i));
    fiftyOne = fifty + fiftyOne;
    QTest::newRow("50") << fifty << true;
    QTest::newRow("51") << fiftyOne << false;
    QTest::newRow("51 spellings of 50") << (fifty + QStringList{u"K0"_s}) << true;
}

void TestStore::keywordRules()
{
    QFETCH(QStringList, keywords);
    QFETCH(bool, accepted);
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto delivery = m_store->deliver(makeMessage(0, {bob}, u"hello"_s));
    QVERIFY(delivery);
    EntryUpdate update;
    update.keywords = keywords;
    const auto entry = m_store->updateEntry(bob, delivery->inboxEntryIds.first(), update);
    QCOMPARE(entry.has_value(), accepted);
    QCOMPARE(m_store->lastError(), accepted ? Store::Error::None : Store::Error::Invalid);
    QCOMPARE(m_store->entry(bob, delivery->inboxEntryIds.first())->keywords.size(),
             accepted ? qMin(keywords.size(), qsizetype(50)) : 0);
}

void TestStore::appendStoresWithoutDelivering()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const MailFolder drafts = *m_store->roleFolder(alice, FolderRole::Drafts);
    NewMessage draft = makeMessage(alice, {bob}, u"a draft"_s);
    EntryFlags flags;
    flags.draft = true;
    flags.seen = true;
    const auto entry = m_store->appendMessage(alice, drafts.id, draft, flags, {u"$Work"_s});
    QVERIFY2(entry, qPrintable(m_store->lastErrorText()));
    QCOMPARE(entry->folderId, drafts.id);
    QVERIFY(entry->draft && entry->seen && !entry->flagged);
    QCOMPARE(entry->keywords, QStringList{u"$Work"_s});
    QCOMPARE(entry->uid, 1);
    QCOMPARE(entry->summary, draft.summary);
    QCOMPARE(m_store->rawMessage(alice, entry->id).value_or(QByteArray()), draft.raw);
    // Delivered to no one: bob's inbox and alice's sent stay empty.
    QCOMPARE(m_store->listFolder(bob, FolderRole::Inbox, 10)->entries.size(), 0);
    QCOMPARE(m_store->listFolder(alice, FolderRole::Sent, 10)->entries.size(), 0);
    QCOMPARE(m_store->roleFolder(alice, FolderRole::Drafts)->total, 1);
    // Only into one's own folder.
    QVERIFY(!m_store->appendMessage(bob, drafts.id, draft, flags));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->appendMessage(alice, drafts.id, draft, flags, {u"bad keyword"_s}));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    RawConnection raw(url());
    QCOMPARE(raw.scalar(u"SELECT count(*) FROM messages"_s).toInt(), 1);
}

void TestStore::changesSinceModseq()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto start = m_store->changes(bob, 0);
    QVERIFY(start);
    QCOMPARE(start->modseq, 6);
    QCOMPARE(start->folders.size(), 6);
    QVERIFY(start->created.isEmpty() && !start->more && !start->reset);
    const auto nothing = m_store->changes(bob, 6);
    QVERIFY(nothing && nothing->folders.isEmpty() && nothing->created.isEmpty() && nothing->modseq == 6);

    const auto first = m_store->deliver(makeMessage(alice, {bob}, u"first"_s));
    const auto second = m_store->deliver(makeMessage(alice, {bob}, u"second"_s));
    QVERIFY(first && second);
    const auto delivered = m_store->changes(bob, 6);
    QVERIFY(delivered);
    QCOMPARE(delivered->modseq, 8);
    QCOMPARE(delivered->created.size(), 2);
    QCOMPARE(delivered->created.at(0).id, first->inboxEntryIds.first());
    QCOMPARE(delivered->created.at(0).summary.subject, u"first"_s); // with its summary
    QCOMPARE(delivered->folders.size(), 1);
    QCOMPARE(delivered->folders.first().role, std::optional(FolderRole::Inbox));
    QCOMPARE(delivered->folders.first().total, 2);

    // A flag, a move, a deletion, a new folder, a folder renamed and one deleted.
    QVERIFY(m_store->setSeen(bob, first->inboxEntryIds.first(), true));
    EntryUpdate toArchive;
    toArchive.folderId = m_store->roleFolder(bob, FolderRole::Archive)->id;
    QVERIFY(m_store->updateEntry(bob, second->inboxEntryIds.first(), toArchive));
    const auto third = m_store->deliver(makeMessage(alice, {bob}, u"third"_s));
    QVERIFY(third && m_store->deleteEntry(bob, third->inboxEntryIds.first()));
    const auto kept = m_store->createFolder(bob, u"Kept"_s);
    const auto gone = m_store->createFolder(bob, u"Gone"_s);
    QVERIFY(kept && gone && m_store->renameFolder(bob, kept->id, u"Kept 2"_s) && m_store->deleteFolder(bob, gone->id));
    const auto changed = m_store->changes(bob, 8);
    QVERIFY(changed);
    QCOMPARE(changed->modseq, m_store->accountModseq(bob).value());
    QCOMPARE(changed->created.size(), 0); // the third was made and removed: removed only
    QCOMPARE(changed->updated.size(), 2);
    QCOMPARE(changed->updated.at(0).id, first->inboxEntryIds.first());
    QVERIFY(changed->updated.at(0).seen);
    // The move: an update with its new folder, never a removal.
    QCOMPARE(changed->updated.at(1).id, second->inboxEntryIds.first());
    QCOMPARE(changed->updated.at(1).folderId, toArchive.folderId.value());
    QCOMPARE(changed->removed, QList<qint64>{third->inboxEntryIds.first()});
    QCOMPARE(changed->foldersRemoved, QList<qint64>{gone->id});
    QList<qint64> folderIds;
    for (const MailFolder &folder : changed->folders)
        folderIds.append(folder.id);
    std::sort(folderIds.begin(), folderIds.end());
    QCOMPARE(folderIds, (QList<qint64>{m_store->roleFolder(bob, FolderRole::Inbox)->id, toArchive.folderId.value(), kept->id}));
    // Others' changes are not in it.
    QVERIFY(m_store->deliver(makeMessage(0, {alice}, u"to alice"_s)));
    QCOMPARE(m_store->changes(bob, changed->modseq)->created.size(), 0);
    QCOMPARE(m_store->changes(alice, 0)->created.size(), 4); // her sent copies and this

    // Refused: a modseq in the future or below 0; an unknown account.
    QVERIFY(!m_store->changes(bob, changed->modseq + 100));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->changes(bob, -1));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->changes(99999, 0));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

// At most `limit` items a time; passing each answer's modseq as the next
// since gets every change exactly once, whatever the page size.
// What EventHub asks after every commit: which of many accounts moved.
void TestStore::accountModseqsOfMany()
{
    const qint64 alice = addAccount(u"alice"_s);
    const qint64 bob = addAccount(u"bob"_s);
    QVERIFY(m_store->deliver(makeMessage(alice, {bob}, u"one"_s)));
    QList<qint64> asked{bob};
    for (qint64 id = 1000; id < 1250; ++id) // past the first hundred: no such accounts
        asked.append(id);
    asked.append(alice);
    const auto modseqs = m_store->accountModseqs(asked);
    QVERIFY2(modseqs, qPrintable(m_store->lastErrorText()));
    QCOMPARE(modseqs->size(), 2);
    QCOMPARE(modseqs->value(alice), *m_store->accountModseq(alice));
    QCOMPARE(modseqs->value(bob), *m_store->accountModseq(bob));
    QCOMPARE(modseqs->value(bob), 7); // the six role folders, then the entry
    QVERIFY(m_store->accountModseqs({})->isEmpty());
}

void TestStore::changesInPages()
{
    const qint64 alice = addAccount(QStringLiteral("alice"));
    const qint64 bob = addAccount(QStringLiteral("bob"));
    QList<qint64> delivered;
    for (int i = 0; i < 7; ++i)
        delivered.append(m_store->deliver(makeMessage(alice, {bob}, u"m%1"_s.arg(i)))->inboxEntryIds.first());
    QVERIFY(m_store->deleteEntry(bob, delivered.at(2)));
    QVERIFY(m_store->setSeen(bob, delivered.at(0), true));
    for (int limit : {1, 2, 3, 100}) {
        QList<qint64> created, updated, removed;
        qint64 since = 6;
        int pages = 0;
        for (;;) {
            const auto page = m_store->changes(bob, since, limit);
            QVERIFY(page);
            QVERIFY(page->created.size() + page->updated.size() + page->removed.size() <= limit);
            QVERIFY(page->modseq > since || !page->more);
            for (const MailboxEntry &entry : page->created)
                created.append(entry.id);
            for (const MailboxEntry &entry : page->updated)
                updated.append(entry.id);
            removed += page->removed;
            since = page->modseq;
            ++pages;
            if (!page->more)
                break;
        }
        // Entry 0 was made, then changed last of all: with one page it is
        // created; across pages its change comes after the page of its
        // making has passed, so it is an update of an entry the client
        // may not hold (docs/protocol/web.md §2: fetch it). Every entry
        // comes once, in the order of its last change.
        QList<qint64> expected = delivered;
        expected.removeAt(2);
        expected.move(0, expected.size() - 1);
        QCOMPARE(created + updated, expected);
        QCOMPARE(updated, limit == 100 ? QList<qint64>{} : QList<qint64>{delivered.at(0)});
        QCOMPARE(removed, QList<qint64>{delivered.at(2)});
        QCOMPARE(since, m_store->accountModseq(bob).value());
        QVERIFY(pages >= (limit == 100 ? 1 : 7 / limit));
    }
}

// Removals older than clients are owed are forgotten; asking for changes
// from before that point gets a reset (every folder; list them again).
void TestStore::forgottenRemovalsReset()
{
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto first = m_store->deliver(makeMessage(0, {bob}, u"first"_s));
    const auto second = m_store->deliver(makeMessage(0, {bob}, u"second"_s));
    QVERIFY(first && second && m_store->deleteEntry(bob, first->inboxEntryIds.first()));
    const qint64 afterRemoval = m_store->accountModseq(bob).value();
    QCOMPARE(m_store->forgetRemovals(QDateTime::currentMSecsSinceEpoch() - 60000).value_or(-1), 0);
    QVERIFY(!m_store->changes(bob, 6)->reset);
    QCOMPARE(m_store->forgetRemovals(QDateTime::currentMSecsSinceEpoch() + 1000).value_or(-1), 1);
    const auto reset = m_store->changes(bob, 6);
    QVERIFY(reset && reset->reset);
    QCOMPARE(reset->folders.size(), 6);
    QCOMPARE(reset->modseq, afterRemoval);
    QVERIFY(reset->created.isEmpty() && reset->removed.isEmpty());
    // From the point on, no reset.
    const auto fromThere = m_store->changes(bob, afterRemoval);
    QVERIFY(fromThere && !fromThere->reset);
}

// POP3's QUIT deletes what it marked only where it still is: an entry moved
// out of the inbox meanwhile stays where it went.
void TestStore::pop3QuitKeepsWhatMovedAway()
{
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto first = m_store->deliver(makeMessage(0, {bob}, u"first"_s));
    const auto second = m_store->deliver(makeMessage(0, {bob}, u"second"_s));
    QVERIFY(first && second);
    EntryUpdate toArchive;
    toArchive.folderId = m_store->roleFolder(bob, FolderRole::Archive)->id;
    QVERIFY(m_store->updateEntry(bob, second->inboxEntryIds.first(), toArchive));
    const qint64 before = m_store->accountModseq(bob).value();
    QVERIFY(m_store->deleteEntries(bob, {first->inboxEntryIds.first(), second->inboxEntryIds.first(),
                                         first->inboxEntryIds.first()}, FolderRole::Inbox));
    QCOMPARE(m_store->accountModseq(bob).value(), before + 1); // one removal, once
    QVERIFY(!m_store->entry(bob, first->inboxEntryIds.first()));
    QCOMPARE(m_store->entry(bob, second->inboxEntryIds.first())->folderId, toArchive.folderId.value());
}

// A rename whose new names are old names of folders of the same move.
void TestStore::renameOntoFormerNames()
{
    const qint64 bob = addAccount(QStringLiteral("bob"));
    const auto ab = m_store->createFolder(bob, u"A/B"_s);
    const auto abz = m_store->createFolder(bob, u"A/B/Z"_s);
    const auto abbz = m_store->createFolder(bob, u"A/B/B/Z"_s);
    QVERIFY(ab && abz && abbz);
    QVERIFY2(m_store->renameFolder(bob, ab->id, u"A"_s), qPrintable(m_store->lastErrorText()));
    QCOMPARE(m_store->folder(bob, abz->id)->name, u"A/Z"_s);
    QCOMPARE(m_store->folder(bob, abbz->id)->name, u"A/B/Z"_s);
}

// A restore puts older numbers back: the modseqs go on past both
// databases', clients are told to start over, and folders get a new
// uidValidity (their uids are given again).
void TestStore::restoreMovesModseqsOn()
{
    const qint64 bob = addAccount(QStringLiteral("bob"));
    QVERIFY(m_store->deliver(makeMessage(0, {bob}, u"before"_s)));
    const QString backup = m_dir->filePath(QStringLiteral("numbers-backup.db"));
    QVERIFY2(m_store->backupTo(backup), qPrintable(m_store->lastErrorText()));
    {
        // The copy's counts are right as it stands (PostgreSQL's rows are
        // copied into SQLite, whose triggers would count them again).
        RawConnection copy(backup);
        QCOMPARE(copy.scalar(u"SELECT total FROM folders WHERE owner_id = %1 AND role = 'inbox'"_s.arg(bob)).toInt(), 1);
    }
    const MailFolder inboxBefore = *m_store->roleFolder(bob, FolderRole::Inbox);
    QVERIFY(m_store->deliver(makeMessage(0, {bob}, u"after one"_s)));
    QVERIFY(m_store->deliver(makeMessage(0, {bob}, u"after two"_s)));
    const qint64 reached = m_store->accountModseq(bob).value();
    QVERIFY2(m_store->restoreFrom(backup), qPrintable(m_store->lastErrorText()));
    QVERIFY(m_store->accountModseq(bob).value() > reached);
    const MailFolder inboxAfter = *m_store->roleFolder(bob, FolderRole::Inbox);
    QVERIFY(inboxAfter.uidValidity > inboxBefore.uidValidity);
    QCOMPARE(inboxAfter.total, 1);
    const auto changes = m_store->changes(bob, reached);
    QVERIFY(changes);
    QVERIFY(changes->reset);
    const auto next = m_store->deliver(makeMessage(0, {bob}, u"after the restore"_s));
    QVERIFY(next);
    QCOMPARE(m_store->entry(bob, next->inboxEntryIds.first())->uid, 2); // again, under a new uidValidity
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
