// What the store does for IMAP (docs/STORAGE.md, "IMAP"), on the engine
// under test: a folder's entries in uid order, its changes since a modseq,
// flags, copies, moves, expunges and appends of many entries in one
// transaction, subscriptions, folders kept for their sub-folders, and
// migration 9.

#include "sqltransaction.h"
#include "store.h"
#include "store_p.h"
#include "testdatabase.h"

#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace Qt::StringLiterals;

namespace {

NewMessage message(const QString &subject, QList<qint64> recipients = {})
{
    NewMessage made;
    made.raw = "From: a@project.com\r\nSubject: " + subject.toUtf8() + "\r\n\r\nhello\r\n";
    made.summary.from = {u"A"_s, u"a@project.com"_s};
    made.summary.subject = subject;
    made.receivedAt = QDateTime(QDate(2027, 3, 4), QTime(5, 6, 7), Qt::UTC);
    made.recipientIds = std::move(recipients);
    return made;
}

EntryFlags flagsNamed(const QString &names)
{
    EntryFlags flags;
    flags.seen = names.contains(u's');
    flags.answered = names.contains(u'a');
    flags.flagged = names.contains(u'f');
    flags.deleted = names.contains(u'd');
    flags.draft = names.contains(u'r');
    return flags;
}

QList<qint64> uidsOf(const QList<FolderEntryState> &entries)
{
    QList<qint64> uids;
    for (const FolderEntryState &entry : entries)
        uids.append(entry.uid);
    return uids;
}

// One value of a query on the store's own connection.
QVariant scalar(Store &store, const QString &sql)
{
    QSqlQuery query(store.database());
    if (!query.exec(sql) || !query.next()) {
        qWarning() << sql << query.lastError().text();
        return {};
    }
    return query.value(0);
}

bool run(const QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (query.exec(sql))
        return true;
    qWarning() << sql << query.lastError().text();
    return false;
}

// A trigger that fails `event` on `table` for rows meeting `condition`, in
// the dialect of the store's engine: a transaction that meets it fails part
// way.
bool failOn(Store &store, const QString &event, const QString &table, const QString &condition)
{
    if (store.engine() == Store::Engine::Sqlite)
        return run(store.database(), u"CREATE TRIGGER failing BEFORE %1 ON %2 WHEN %3"
                                     " BEGIN SELECT RAISE(ABORT, 'failing on purpose'); END"_s.arg(event, table, condition));
    return run(store.database(), u"CREATE OR REPLACE FUNCTION failing() RETURNS trigger LANGUAGE plpgsql AS"
                                 " $$ BEGIN RAISE EXCEPTION 'failing on purpose'; END $$"_s)
        && run(store.database(), u"CREATE TRIGGER failing BEFORE %1 ON %2 FOR EACH ROW WHEN (%3)"
                                 " EXECUTE FUNCTION failing()"_s.arg(event, table, condition));
}

bool stopFailing(Store &store, const QString &table)
{
    if (store.engine() == Store::Engine::Sqlite)
        return run(store.database(), u"DROP TRIGGER failing"_s);
    return run(store.database(), u"DROP TRIGGER failing ON %1"_s.arg(table))
        && run(store.database(), u"DROP FUNCTION failing()"_s);
}

// `count` messages of about 1 KB and an entry of each in the folder (uids
// from 1, modseqs from `firstModseq`), in plain SQL: fast enough to make a
// large folder in a test. Counters and numbers are set as the store keeps them.
bool fillFolder(Store &store, qint64 ownerId, qint64 folderId, qint64 count, qint64 firstModseq)
{
    const bool sqlite = store.engine() == Store::Engine::Sqlite;
    const QString numbers = sqlite
        ? u"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %1) SELECT i FROM n)"_s.arg(count)
        : u"(SELECT generate_series(1, %1) AS i)"_s.arg(count);
    const QString raw = sqlite ? u"zeroblob(1000)"_s : u"decode(repeat('78', 1000), 'hex')"_s;
    SqlWriteTransaction transaction(store.database());
    const bool filled = transaction.isActive()
        && run(store.database(),
               u"INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
               " message_id, in_reply_to, preview, attachments, raw)"
               " SELECT 1800000000000 + i, 1000, 'A', 'a@project.com', '[]', '[]', 'bulk', NULL, '', '', '', '[]', %1"
               " FROM %2 numbers"_s.arg(raw, numbers))
        && run(store.database(),
               u"INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq, created_modseq)"
               " SELECT %1, id, 0, %2, row_number() OVER (ORDER BY id), 0, 0 FROM messages WHERE subject = 'bulk'"_s
                   .arg(ownerId)
                   .arg(folderId))
        && run(store.database(), u"UPDATE mailbox_entries SET modseq = uid + %1, created_modseq = uid + %1"
                                 " WHERE folder_id = %2"_s.arg(firstModseq - 1).arg(folderId))
        && run(store.database(), u"UPDATE folders SET uid_next = %1 + 1, highest_modseq = %2 WHERE id = %3"_s.arg(count)
                                     .arg(firstModseq + count - 1)
                                     .arg(folderId))
        && run(store.database(), u"UPDATE accounts SET modseq = %1 WHERE id = %2"_s.arg(firstModseq + count - 1).arg(ownerId))
        && run(store.database(), u"ANALYZE"_s);
    if (!filled || !transaction.commit())
        return false;
    // A WAL holding the whole folder would make every later read look its
    // pages up there: a live database's WAL is a few pages.
    return !sqlite || run(store.database(), u"PRAGMA wal_checkpoint(TRUNCATE)"_s);
}

double msSince(const QElapsedTimer &timer)
{
    return timer.nsecsElapsed() / 1e6;
}

} // namespace

class TestStoreImap : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void folderEntriesInUidOrder();
    void queriesReadOneIndexRange();
    void folderChangesSinceModseq();
    void forgottenRemovalsAskForAResync();
    void storeFlags_data();
    void storeFlags();
    void unchangedSinceRefuses();
    void storeFlagsRules();
    void copyAndMove();
    void copyAndMoveAreAllOrNothing_data();
    void copyAndMoveAreAllOrNothing();
    void expungeRemovesOnlyDeleted();
    void deleteEntriesRecordsRemovals();
    void appendMessagesAllOrNothing();
    void subscriptions();
    void subscriptionsFollowRenames();
    void foldersKeptForTheirChildren();
    void sizeAndDetails();
    void migrationKeepsData();
    void backupCarriesSubscriptionsAndSelectable();
    void largeFolder();

private:
    const DatabaseUrl &url() const { return m_database->url(); }
    qint64 addAccount(const QString &name);
    // Delivered to the account's inbox; the entry ids.
    QList<qint64> deliverTo(qint64 ownerId, int count);
    qint64 inbox(qint64 ownerId) { return m_store->roleFolder(ownerId, FolderRole::Inbox)->id; }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<TestDatabase> m_database;
    std::unique_ptr<Store> m_store;
};

void TestStoreImap::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_database = std::make_unique<TestDatabase>(m_dir->path(), TestDatabase::Start::Migrated);
    QVERIFY(m_database->isValid());
    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(url(), Store::OpenMode::CreateIfMissing), qPrintable(m_store->lastErrorText()));
}

void TestStoreImap::cleanup()
{
    m_store.reset();
    m_database.reset();
    m_dir.reset();
}

qint64 TestStoreImap::addAccount(const QString &name)
{
    const auto account = m_store->createAccount(name, u"pbkdf2-sha256$1$x$y"_s);
    return account ? account->id : 0;
}

QList<qint64> TestStoreImap::deliverTo(qint64 ownerId, int count)
{
    QList<NewMessage> messages;
    for (int i = 0; i < count; ++i)
        messages.append(message(u"m%1"_s.arg(i), {ownerId}));
    QList<qint64> ids;
    for (const auto &delivery : m_store->deliverAll(messages))
        ids.append(delivery ? delivery->inboxEntryIds.first() : 0);
    return ids;
}

void TestStoreImap::folderEntriesInUidOrder()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 alice = addAccount(u"alice"_s);
    const QList<qint64> ids = deliverTo(bob, 4);
    QVERIFY(!ids.contains(0));
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QVERIFY(work);
    // The first entry leaves and comes back: the last uid now.
    EntryUpdate away;
    away.folderId = work->id;
    QVERIFY(m_store->updateEntry(bob, ids.at(0), away));
    EntryUpdate back;
    back.folderId = inbox(bob);
    back.flagged = true;
    back.keywords = QStringList{u"$Work"_s};
    QVERIFY(m_store->updateEntry(bob, ids.at(0), back));

    const auto entries = m_store->folderEntries(bob, inbox(bob));
    QVERIFY2(entries, qPrintable(m_store->lastErrorText()));
    QCOMPARE(uidsOf(*entries), (QList<qint64>{2, 3, 4, 5}));
    QCOMPARE(entries->last().entryId, ids.at(0));
    QVERIFY(entries->last().flags.flagged && !entries->last().flags.seen);
    QCOMPARE(entries->last().keywords, QStringList{u"$Work"_s});
    QCOMPARE(entries->last().modseq, m_store->accountModseq(bob).value());
    QCOMPARE(entries->first().entryId, ids.at(1));
    QVERIFY(entries->first().keywords.isEmpty());
    QCOMPARE(m_store->folderEntries(bob, work->id)->size(), 0);
    // Another's folder is no folder of his.
    QVERIFY(!m_store->folderEntries(alice, inbox(bob)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

// The queries IMAP runs on large folders read one range of an index each:
// the folder's entries by (folder_id, uid), already in uid order; a
// folder's changes by (owner_id, modseq), never the whole folder.
void TestStoreImap::queriesReadOneIndexRange()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 inboxId = inbox(bob);
    QVERIFY(fillFolder(*m_store, bob, inboxId, 20000, 7));
    const auto plan = [this](QString sql, const QVariantList &values) {
        QSqlQuery explain(m_store->database());
        const bool sqlite = m_store->engine() == Store::Engine::Sqlite;
        if (sqlite) {
            explain.prepare(u"EXPLAIN QUERY PLAN "_s + sql);
            for (qsizetype i = 0; i < values.size(); ++i)
                explain.bindValue(int(i), values.at(i));
        } else {
            // PostgreSQL prepares no EXPLAIN: the values go into the text.
            for (const QVariant &value : values)
                sql.replace(sql.indexOf(u'?'), 1, QString::number(value.toLongLong()));
        }
        QStringList lines;
        if (!(sqlite ? explain.exec() : explain.exec(u"EXPLAIN "_s + sql)))
            return QStringList{explain.lastError().text()};
        while (explain.next())
            lines.append(explain.value(sqlite ? 3 : 0).toString());
        return lines;
    };
    if (m_store->engine() == Store::Engine::Postgresql) {
        // On a small table the planner may rightly prefer to read it all;
        // with that ruled out, the index it takes is the one meant.
        QVERIFY(run(m_store->database(), u"SET enable_seqscan = off"_s));
        QVERIFY(run(m_store->database(), u"SET enable_bitmapscan = off"_s));
    }
    const QString entries = plan(StoreSchema::folderEntriesSql(), {inboxId}).join(u" | "_s);
    qInfo().noquote() << "folderEntries:" << entries;
    const QString changed = plan(StoreSchema::folderChangedEntriesSql(), {bob, qint64(19000), qint64(20006), inboxId}).join(u" | "_s);
    qInfo().noquote() << "folderChanges:" << changed;
    if (m_store->engine() == Store::Engine::Sqlite) {
        QVERIFY2(entries.startsWith(u"SEARCH e USING INDEX sqlite_autoindex_mailbox_entries"_s)
                     && entries.contains(u"(folder_id=?)"_s),
                 qPrintable(entries));
        QVERIFY2(changed.contains(u"SEARCH e USING INDEX mailbox_entries_by_modseq (owner_id=? AND modseq>? AND modseq<?)"_s),
                 qPrintable(changed));
        for (const QString &text : {entries, changed})
            QVERIFY2(!text.contains(u"SCAN"_s) && !text.contains(u"TEMP B-TREE"_s), qPrintable(text));
    } else {
        QVERIFY2(entries.contains(u"Index Scan using mailbox_entries_folder_id_uid_key"_s) && !entries.contains(u"Sort"_s),
                 qPrintable(entries));
        QVERIFY2(changed.contains(u"mailbox_entries_by_modseq"_s), qPrintable(changed));
        QVERIFY(run(m_store->database(), u"RESET enable_seqscan"_s));
        QVERIFY(run(m_store->database(), u"RESET enable_bitmapscan"_s));
    }
    const auto all = m_store->folderEntries(bob, inboxId);
    QVERIFY(all);
    QCOMPARE(all->size(), 20000);
    QCOMPARE(all->first().uid, 1);
    QCOMPARE(all->last().uid, 20000);
}

void TestStoreImap::folderChangesSinceModseq()
{
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 5);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QVERIFY(work);
    const MailFolder before = *m_store->roleFolder(bob, FolderRole::Inbox);
    const auto nothing = m_store->folderChanges(bob, before.id, before.highestModseq);
    QVERIFY(nothing && nothing->changed.isEmpty() && nothing->removedUids.isEmpty() && !nothing->removalsForgotten);
    QCOMPARE(nothing->folder.highestModseq, before.highestModseq);

    // Flags on uid 2; uid 3 moved away; uid 4 deleted; two new ones; one
    // moved in from Work; and a change in Work alone.
    FlagsChange seen;
    seen.mode = FlagsChange::Mode::Add;
    seen.flags.seen = true;
    QVERIFY(m_store->storeFlags(bob, before.id, {ids.at(1)}, seen));
    QVERIFY(m_store->moveEntries(bob, before.id, {ids.at(2)}, work->id));
    QVERIFY(m_store->deleteEntry(bob, ids.at(3)));
    const QList<qint64> added = deliverTo(bob, 2);
    const auto appended = m_store->appendMessage(bob, work->id, message(u"in work"_s), {});
    QVERIFY(appended);
    QVERIFY(m_store->moveEntries(bob, work->id, {appended->id}, before.id));
    QVERIFY(m_store->storeFlags(bob, work->id, {ids.at(2)}, seen));

    const auto changes = m_store->folderChanges(bob, before.id, before.highestModseq);
    QVERIFY2(changes, qPrintable(m_store->lastErrorText()));
    QCOMPARE(uidsOf(changes->changed), (QList<qint64>{2, 6, 7, 8}));
    QCOMPARE(changes->changed.at(0).entryId, ids.at(1));
    QVERIFY(changes->changed.at(0).flags.seen);
    QCOMPARE(changes->changed.at(3).entryId, appended->id);
    QCOMPARE(changes->removedUids, (QList<qint64>{3, 4}));
    const MailFolder after = *m_store->roleFolder(bob, FolderRole::Inbox);
    QCOMPARE(changes->folder.highestModseq, after.highestModseq);
    QCOMPARE(changes->folder.uidNext, 9);
    for (const FolderEntryState &entry : changes->changed)
        QVERIFY(entry.modseq > before.highestModseq && entry.modseq <= after.highestModseq);
    // From a point in between: only what came after.
    const qint64 middle = changes->changed.at(1).modseq; // the first new delivery
    const auto later = m_store->folderChanges(bob, before.id, middle);
    QVERIFY(later);
    QCOMPARE(uidsOf(later->changed), (QList<qint64>{7, 8}));
    QVERIFY(later->removedUids.isEmpty());
    QCOMPARE(added.size(), 2);
    // Work saw an entry come (uid 1, moved in), one appended (uid 2) and leave.
    const auto inWork = m_store->folderChanges(bob, work->id, work->highestModseq);
    QVERIFY(inWork);
    QCOMPARE(uidsOf(inWork->changed), QList<qint64>{1});
    QCOMPARE(inWork->removedUids, QList<qint64>{2});

    QVERIFY(!m_store->folderChanges(bob, before.id, -1));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(m_store->deleteFolder(bob, work->id));
    QVERIFY(!m_store->folderChanges(bob, work->id, 0));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

void TestStoreImap::forgottenRemovalsAskForAResync()
{
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 3);
    const qint64 since = m_store->roleFolder(bob, FolderRole::Inbox)->highestModseq;
    QVERIFY(m_store->expungeEntries(bob, inbox(bob), {ids.at(0)})); // not deleted: nothing
    QVERIFY(m_store->deleteEntry(bob, ids.at(0)));
    const auto remembered = m_store->folderChanges(bob, inbox(bob), since);
    QVERIFY(remembered && !remembered->removalsForgotten);
    QCOMPARE(remembered->removedUids, QList<qint64>{1});
    QCOMPARE(m_store->forgetRemovals(QDateTime::currentMSecsSinceEpoch() + 1000).value_or(-1), 1);
    const auto forgotten = m_store->folderChanges(bob, inbox(bob), since);
    QVERIFY(forgotten && forgotten->removalsForgotten);
    QVERIFY(forgotten->removedUids.isEmpty() && forgotten->changed.isEmpty());
    // From the removal on, nothing is owed.
    const auto fromThere = m_store->folderChanges(bob, inbox(bob), forgotten->folder.highestModseq);
    QVERIFY(fromThere && !fromThere->removalsForgotten);
}

// What each mode does to an entry that is seen and flagged, with $A.
void TestStoreImap::storeFlags_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("flags");
    QTest::addColumn<QStringList>("keywords");
    QTest::addColumn<QString>("expectedFlags");
    QTest::addColumn<QStringList>("expectedKeywords");
    QTest::addColumn<bool>("changes");
    const int replace = int(FlagsChange::Mode::Replace), add = int(FlagsChange::Mode::Add),
              remove = int(FlagsChange::Mode::Remove);
    QTest::newRow("replace: the same") << replace << u"sf"_s << QStringList{u"$A"_s} << u"sf"_s << QStringList{u"$A"_s} << false;
    QTest::newRow("replace: another case") << replace << u"sf"_s << QStringList{u"$a"_s} << u"sf"_s << QStringList{u"$A"_s} << false;
    QTest::newRow("replace: none") << replace << QString() << QStringList{} << QString() << QStringList{} << true;
    QTest::newRow("replace: others") << replace << u"dr"_s << QStringList{u"$B"_s, u"$b"_s} << u"dr"_s << QStringList{u"$B"_s} << true;
    QTest::newRow("add: held already") << add << u"s"_s << QStringList{u"$a"_s} << u"sf"_s << QStringList{u"$A"_s} << false;
    QTest::newRow("add: a flag") << add << u"a"_s << QStringList{} << u"sfa"_s << QStringList{u"$A"_s} << true;
    QTest::newRow("add: a keyword") << add << QString() << QStringList{u"$B"_s} << u"sf"_s << QStringList{u"$A"_s, u"$B"_s} << true;
    QTest::newRow("remove: not held") << remove << u"d"_s << QStringList{u"$B"_s} << u"sf"_s << QStringList{u"$A"_s} << false;
    QTest::newRow("remove: seen") << remove << u"s"_s << QStringList{} << u"f"_s << QStringList{u"$A"_s} << true;
    QTest::newRow("remove: a keyword, any case") << remove << QString() << QStringList{u"$a"_s} << u"sf"_s << QStringList{} << true;
}

void TestStoreImap::storeFlags()
{
    QFETCH(int, mode);
    QFETCH(QString, flags);
    QFETCH(QStringList, keywords);
    QFETCH(QString, expectedFlags);
    QFETCH(QStringList, expectedKeywords);
    QFETCH(bool, changes);
    const qint64 bob = addAccount(u"bob"_s);
    const auto entry = m_store->appendMessage(bob, inbox(bob), message(u"one"_s), flagsNamed(u"sf"_s), {u"$A"_s});
    QVERIFY(entry);
    FlagsChange change;
    change.mode = FlagsChange::Mode(mode);
    change.flags = flagsNamed(flags);
    change.keywords = keywords;
    const qint64 modseq = m_store->accountModseq(bob).value();
    const auto result = m_store->storeFlags(bob, inbox(bob), {entry->id}, change);
    QVERIFY2(result, qPrintable(m_store->lastErrorText()));
    QVERIFY(result->refusedEntryIds.isEmpty());
    QCOMPARE(result->changed.size(), changes ? 1 : 0);
    // A change takes one modseq; none takes none.
    QCOMPARE(m_store->accountModseq(bob).value(), modseq + (changes ? 1 : 0));
    const auto now = m_store->folderEntries(bob, inbox(bob));
    QVERIFY(now && now->size() == 1);
    QCOMPARE(now->first().flags, flagsNamed(expectedFlags));
    QCOMPARE(now->first().keywords, expectedKeywords);
    QCOMPARE(now->first().modseq, modseq + (changes ? 1 : 0));
    if (changes) {
        QCOMPARE(result->changed.first().flags, flagsNamed(expectedFlags));
        QCOMPARE(result->changed.first().keywords, expectedKeywords);
        QCOMPARE(result->changed.first().modseq, modseq + 1);
        QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->highestModseq, modseq + 1);
    }
    // The folder's unseen count follows (the counting triggers).
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->unseen, flagsNamed(expectedFlags).seen ? 0 : 1);
}

// CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3): entries changed after it
// are left as they are and named; the others change.
void TestStoreImap::unchangedSinceRefuses()
{
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 3);
    const qint64 known = m_store->accountModseq(bob).value();
    FlagsChange flag;
    flag.mode = FlagsChange::Mode::Add;
    flag.flags.flagged = true;
    QVERIFY(m_store->storeFlags(bob, inbox(bob), {ids.at(1)}, flag)); // another session, meanwhile

    FlagsChange seen;
    seen.mode = FlagsChange::Mode::Add;
    seen.flags.seen = true;
    seen.unchangedSince = known;
    const auto result = m_store->storeFlags(bob, inbox(bob), {ids.at(2), ids.at(1), ids.at(0)}, seen);
    QVERIFY2(result, qPrintable(m_store->lastErrorText()));
    QCOMPARE(result->refusedEntryIds, QList<qint64>{ids.at(1)});
    QCOMPARE(uidsOf(result->changed), (QList<qint64>{1, 3}));
    QCOMPARE(result->changed.at(0).modseq + 1, result->changed.at(1).modseq);
    const auto entries = m_store->folderEntries(bob, inbox(bob));
    QVERIFY(entries->at(0).flags.seen && !entries->at(1).flags.seen && entries->at(2).flags.seen);
    // UNCHANGEDSINCE 0 fails for every entry.
    seen.unchangedSince = 0;
    seen.flags = flagsNamed(u"d"_s);
    const auto none = m_store->storeFlags(bob, inbox(bob), ids, seen);
    QVERIFY(none && none->changed.isEmpty());
    QCOMPARE(none->refusedEntryIds, ids);
}

void TestStoreImap::storeFlagsRules()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 alice = addAccount(u"alice"_s);
    const QList<qint64> ids = deliverTo(bob, 2);
    const QList<qint64> hers = deliverTo(alice, 1);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QVERIFY(work && m_store->moveEntries(bob, inbox(bob), {ids.at(1)}, work->id));
    // Entries of another folder or owner, and ids no entry has, are skipped.
    FlagsChange seen;
    seen.mode = FlagsChange::Mode::Add;
    seen.flags.seen = true;
    const qint64 modseq = m_store->accountModseq(bob).value();
    const auto result = m_store->storeFlags(bob, inbox(bob), {ids.at(0), ids.at(1), hers.at(0), 999999, ids.at(0)}, seen);
    QVERIFY2(result, qPrintable(m_store->lastErrorText()));
    QCOMPARE(result->changed.size(), 1);
    QCOMPARE(result->changed.first().entryId, ids.at(0));
    QCOMPARE(m_store->accountModseq(bob).value(), modseq + 1);
    QVERIFY(!m_store->entry(bob, ids.at(1))->seen);
    QVERIFY(!m_store->entry(alice, hers.at(0))->seen);
    // A bad keyword, or more keywords than an entry holds: nothing changes.
    FlagsChange bad;
    bad.mode = FlagsChange::Mode::Add;
    bad.keywords = QStringList{u"two words"_s};
    QVERIFY(!m_store->storeFlags(bob, inbox(bob), {ids.at(0)}, bad));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    FlagsChange many;
    many.mode = FlagsChange::Mode::Add;
    for (int i = 0; i < Store::MaxKeywords; ++i)
        many.keywords.append(u"k%1"_s.arg(i));
    QVERIFY(m_store->storeFlags(bob, work->id, {ids.at(1)}, many));
    const auto more = m_store->appendMessage(bob, work->id, message(u"two"_s), {}, {u"other"_s});
    QVERIFY(more);
    many.flags.flagged = true;
    QVERIFY(!m_store->storeFlags(bob, work->id, {more->id, ids.at(1)}, many)); // ids.at(1) fits; `more` would hold 51
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->entry(bob, ids.at(1))->flagged);
    QCOMPARE(m_store->entry(bob, more->id)->keywords, QStringList{u"other"_s});
    // The folder itself must be his.
    QVERIFY(!m_store->storeFlags(alice, inbox(bob), {ids.at(0)}, seen));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

void TestStoreImap::copyAndMove()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 alice = addAccount(u"alice"_s);
    const QList<qint64> ids = deliverTo(bob, 4);
    const QList<qint64> hers = deliverTo(alice, 1);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    const auto other = m_store->createFolder(bob, u"Other"_s);
    QVERIFY(work && other);
    QVERIFY(m_store->appendMessage(bob, work->id, message(u"first in work"_s), {})); // Work's uid 1
    FlagsChange marks;
    marks.mode = FlagsChange::Mode::Add;
    marks.flags = flagsNamed(u"sa"_s);
    marks.keywords = QStringList{u"$Label1"_s};
    QVERIFY(m_store->storeFlags(bob, inbox(bob), {ids.at(2)}, marks));

    // Asked in any order, given in the order of the source uids.
    const qint64 modseq = m_store->accountModseq(bob).value();
    const auto copied = m_store->copyEntries(bob, inbox(bob), {ids.at(3), hers.at(0), ids.at(2), 424242, ids.at(0)}, work->id);
    QVERIFY2(copied, qPrintable(m_store->lastErrorText()));
    QCOMPARE(copied->uidValidity, work->uidValidity);
    QCOMPARE(copied->entries.size(), 3);
    const QList<qint64> sources{ids.at(0), ids.at(2), ids.at(3)};
    for (int i = 0; i < 3; ++i) {
        const CopiedEntry &entry = copied->entries.at(i);
        QCOMPARE(entry.sourceEntryId, sources.at(i));
        QCOMPARE(entry.sourceUid, m_store->entry(bob, sources.at(i))->uid);
        QCOMPARE(entry.uid, 2 + i);
        QVERIFY(entry.entryId > hers.at(0));
        const auto copy = m_store->entry(bob, entry.entryId);
        QVERIFY(copy);
        QCOMPARE(copy->folderId, work->id);
        QCOMPARE(copy->uid, entry.uid);
        QCOMPARE(copy->messageId, m_store->entry(bob, entry.sourceEntryId)->messageId);
        QCOMPARE(copy->modseq, modseq + 1 + i);
    }
    const auto markedCopy = m_store->entry(bob, copied->entries.at(1).entryId);
    QVERIFY(markedCopy->seen && markedCopy->answered && !markedCopy->flagged);
    QCOMPARE(markedCopy->keywords, QStringList{u"$Label1"_s});
    QCOMPARE(m_store->folder(bob, work->id)->total, 4);
    QCOMPARE(m_store->folder(bob, work->id)->unseen, 3);
    QCOMPARE(m_store->folder(bob, work->id)->uidNext, 5);
    QCOMPARE(m_store->folderEntries(bob, inbox(bob))->size(), 4); // the copies' sources stay

    // A move keeps the ids; each leaves a 'moved' removal with its old
    // folder and uid, which the source's changes report.
    const qint64 sinceMove = m_store->roleFolder(bob, FolderRole::Inbox)->highestModseq;
    const auto moved = m_store->moveEntries(bob, inbox(bob), {ids.at(3), ids.at(1)}, other->id);
    QVERIFY2(moved, qPrintable(m_store->lastErrorText()));
    QCOMPARE(moved->uidValidity, other->uidValidity);
    QCOMPARE(moved->entries.size(), 2);
    QCOMPARE(moved->entries.at(0).sourceEntryId, ids.at(1));
    QCOMPARE(moved->entries.at(0).entryId, ids.at(1));
    QCOMPARE(moved->entries.at(0).sourceUid, 2);
    QCOMPARE(moved->entries.at(0).uid, 1);
    QCOMPARE(moved->entries.at(1).entryId, ids.at(3));
    QCOMPARE(moved->entries.at(1).uid, 2);
    QCOMPARE(m_store->entry(bob, ids.at(1))->folderId, other->id);
    QCOMPARE(m_store->entry(bob, ids.at(1))->uid, 1);
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM removals WHERE kind = 'moved' AND folder_id = %1 AND"
                              " ((object_id = %2 AND uid = 2) OR (object_id = %3 AND uid = 4))"_s
                                  .arg(inbox(bob))
                                  .arg(ids.at(1))
                                  .arg(ids.at(3)))
                 .toInt(),
             2);
    const auto sourceChanges = m_store->folderChanges(bob, inbox(bob), sinceMove);
    QVERIFY(sourceChanges);
    QCOMPARE(sourceChanges->removedUids, (QList<qint64>{2, 4}));
    QVERIFY(sourceChanges->changed.isEmpty());
    const auto targetChanges = m_store->folderChanges(bob, other->id, sinceMove);
    QCOMPARE(uidsOf(targetChanges->changed), (QList<qint64>{1, 2}));
    const MailFolder inboxAfter = *m_store->roleFolder(bob, FolderRole::Inbox);
    QCOMPARE(inboxAfter.total, 2);
    QCOMPARE(inboxAfter.uidNext, 5);
    // The API's change feed sees the moves as updates, not removals.
    const auto apiChanges = m_store->changes(bob, sinceMove);
    QVERIFY(apiChanges && apiChanges->removed.isEmpty() && apiChanges->updated.size() == 2);
    // A move within the folder gives new uids there.
    const auto again = m_store->moveEntries(bob, other->id, {ids.at(1)}, other->id);
    QVERIFY(again);
    QCOMPARE(again->entries.first().uid, 3);
    QCOMPARE(m_store->folderChanges(bob, other->id, targetChanges->folder.highestModseq)->removedUids, QList<qint64>{1});

    // Not into another's folder, not from another's; nothing asked is no error.
    QVERIFY(!m_store->copyEntries(bob, inbox(bob), {ids.at(0)}, inbox(alice)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(!m_store->moveEntries(alice, inbox(bob), {ids.at(0)}, inbox(alice)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    const auto empty = m_store->moveEntries(bob, inbox(bob), {}, work->id);
    QVERIFY(empty && empty->entries.isEmpty() && empty->uidValidity == work->uidValidity);
}

void TestStoreImap::copyAndMoveAreAllOrNothing_data()
{
    QTest::addColumn<bool>("move");
    QTest::newRow("copy") << false;
    QTest::newRow("move") << true;
}

// A statement that fails part way (here on the third entry) leaves every
// entry, uid and modseq as it was.
void TestStoreImap::copyAndMoveAreAllOrNothing()
{
    QFETCH(bool, move);
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 5);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QVERIFY(work);
    const qint64 modseq = m_store->accountModseq(bob).value();
    QVERIFY(failOn(*m_store, move ? u"UPDATE"_s : u"INSERT"_s, u"mailbox_entries"_s,
                   u"NEW.folder_id = %1 AND NEW.uid = 3"_s.arg(work->id)));
    const auto result = move ? m_store->moveEntries(bob, inbox(bob), ids, work->id)
                             : m_store->copyEntries(bob, inbox(bob), ids, work->id);
    QVERIFY(!result);
    QCOMPARE(m_store->lastError(), Store::Error::Failed);
    QVERIFY(stopFailing(*m_store, u"mailbox_entries"_s));
    QCOMPARE(m_store->accountModseq(bob).value(), modseq);
    QCOMPARE(m_store->folder(bob, work->id)->uidNext, 1);
    QCOMPARE(m_store->folder(bob, work->id)->total, 0);
    QCOMPARE(m_store->folderEntries(bob, inbox(bob))->size(), 5);
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM removals"_s).toInt(), 0);
    // And then it goes through whole.
    const auto done = move ? m_store->moveEntries(bob, inbox(bob), ids, work->id)
                           : m_store->copyEntries(bob, inbox(bob), ids, work->id);
    QVERIFY2(done, qPrintable(m_store->lastErrorText()));
    QCOMPARE(done->entries.size(), 5);
    QCOMPARE(done->entries.last().uid, 5);
}

// IMAP's EXPUNGE removes only what is still marked deleted when it runs.
void TestStoreImap::expungeRemovesOnlyDeleted()
{
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 4);
    FlagsChange deleted;
    deleted.mode = FlagsChange::Mode::Add;
    deleted.flags.deleted = true;
    QVERIFY(m_store->storeFlags(bob, inbox(bob), {ids.at(0), ids.at(1), ids.at(3)}, deleted));
    // Another session takes the mark off the second meanwhile.
    FlagsChange undeleted = deleted;
    undeleted.mode = FlagsChange::Mode::Remove;
    QVERIFY(m_store->storeFlags(bob, inbox(bob), {ids.at(1)}, undeleted));
    const qint64 since = m_store->roleFolder(bob, FolderRole::Inbox)->highestModseq;
    const auto expunged = m_store->expungeEntries(bob, inbox(bob), ids);
    QVERIFY2(expunged, qPrintable(m_store->lastErrorText()));
    QCOMPARE(*expunged, (QList<qint64>{1, 4}));
    QCOMPARE(uidsOf(*m_store->folderEntries(bob, inbox(bob))), (QList<qint64>{2, 3}));
    const auto changes = m_store->folderChanges(bob, inbox(bob), since);
    QCOMPARE(changes->removedUids, (QList<qint64>{1, 4}));
    QCOMPARE(changes->folder.highestModseq, since + 2);
    QCOMPARE(changes->folder.total, 2);
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM removals WHERE kind = 'entry' AND folder_id = %1"
                              " AND uid IN (1, 4)"_s.arg(inbox(bob))).toInt(), 2);
    // Again: nothing left to remove. Uids are never given again.
    QCOMPARE(m_store->expungeEntries(bob, inbox(bob), ids)->size(), 0);
    QCOMPARE(m_store->appendMessage(bob, inbox(bob), message(u"new"_s), {})->uid, 5);
    QVERIFY(!m_store->expungeEntries(bob, 424242, ids));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
}

// deleteEntries (POP3, the API) remembers each removal with its folder and
// uid, so IMAP sessions learn of them.
void TestStoreImap::deleteEntriesRecordsRemovals()
{
    const qint64 bob = addAccount(u"bob"_s);
    const QList<qint64> ids = deliverTo(bob, 3);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QVERIFY(work && m_store->moveEntries(bob, inbox(bob), {ids.at(2)}, work->id));
    const qint64 since = m_store->accountModseq(bob).value();
    QVERIFY(m_store->deleteEntries(bob, {ids.at(0), ids.at(2)}));
    QCOMPARE(m_store->folderChanges(bob, inbox(bob), since)->removedUids, QList<qint64>{1});
    QCOMPARE(m_store->folderChanges(bob, work->id, since)->removedUids, QList<qint64>{1});
    QCOMPARE(m_store->accountModseq(bob).value(), since + 2);
}

void TestStoreImap::appendMessagesAllOrNothing()
{
    const qint64 bob = addAccount(u"bob"_s);
    QVERIFY(m_store->appendMessage(bob, inbox(bob), message(u"before"_s), {}));
    QList<AppendedMessage> messages;
    for (int i = 0; i < 3; ++i) {
        AppendedMessage appended{message(u"append %1"_s.arg(i)), flagsNamed(i == 1 ? u"sf"_s : QString()), {}};
        appended.message.receivedAt = QDateTime(QDate(2020, 1, 1 + i), QTime(12, 0), Qt::UTC);
        if (i == 2)
            appended.keywords = QStringList{u"$Label2"_s, u"$label2"_s};
        messages.append(appended);
    }
    const qint64 modseq = m_store->accountModseq(bob).value();
    QVERIFY(failOn(*m_store, u"INSERT"_s, u"messages"_s, u"NEW.subject = 'append 2'"_s));
    QVERIFY(!m_store->appendMessages(bob, inbox(bob), messages));
    QVERIFY(stopFailing(*m_store, u"messages"_s));
    QCOMPARE(m_store->accountModseq(bob).value(), modseq);
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->uidNext, 2);
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM messages"_s).toInt(), 1);

    const auto entries = m_store->appendMessages(bob, inbox(bob), messages);
    QVERIFY2(entries, qPrintable(m_store->lastErrorText()));
    QCOMPARE(entries->size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(entries->at(i).uid, 2 + i);
        QCOMPARE(entries->at(i).modseq, modseq + 1 + i);
        QCOMPARE(entries->at(i).summary.subject, u"append %1"_s.arg(i));
        QCOMPARE(entries->at(i).receivedAt, messages.at(i).message.receivedAt); // the internal date
        QCOMPARE(m_store->rawMessage(bob, entries->at(i).id).value_or(QByteArray()), messages.at(i).message.raw);
    }
    QVERIFY(entries->at(1).seen && entries->at(1).flagged && !entries->at(0).seen);
    QCOMPARE(entries->at(2).keywords, QStringList{u"$Label2"_s});
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->unseen, 3);
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->highestModseq, modseq + 3);
    // A bad keyword in any: nothing.
    messages[0].keywords = QStringList{u"bad keyword"_s};
    QVERIFY(!m_store->appendMessages(bob, inbox(bob), messages));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->total, 4);
    QCOMPARE(m_store->appendMessages(bob, inbox(bob), {})->size(), 0);
}

void TestStoreImap::subscriptions()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 alice = addAccount(u"alice"_s);
    QCOMPARE(m_store->subscriptions(bob).value(), QStringList{});
    QVERIFY(m_store->subscribe(bob, u"Work"_s));
    QVERIFY(m_store->subscribe(bob, u"Work"_s)); // again: no error
    QVERIFY(m_store->subscribe(bob, u"Not/there/yet"_s)); // need not be a folder
    QVERIFY(m_store->subscribe(alice, u"Hers"_s));
    QCOMPARE(m_store->subscriptions(bob).value(), (QStringList{u"Not/there/yet"_s, u"Work"_s}));
    QVERIFY(!m_store->subscribe(bob, u"a//b"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->subscribe(424242, u"Work"_s));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QVERIFY(m_store->unsubscribe(bob, u"Work"_s));
    QVERIFY(!m_store->unsubscribe(bob, u"Work"_s));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);
    QCOMPARE(m_store->subscriptions(bob).value(), QStringList{u"Not/there/yet"_s});
    QCOMPARE(m_store->subscriptions(alice).value(), QStringList{u"Hers"_s});
    // At most as many as folders.
    {
        QSqlQuery insert(m_store->database());
        QVERIFY(insert.exec(u"INSERT INTO subscriptions (owner_id, name) SELECT %1, 'n' || i FROM %2"_s.arg(bob).arg(
            m_store->engine() == Store::Engine::Sqlite
                ? u"(WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 999) SELECT i FROM c)"_s
                : u"generate_series(1, 999) AS i"_s)));
    }
    QVERIFY(!m_store->subscribe(bob, u"one too many"_s));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(m_store->subscribe(bob, u"n1"_s)); // held already
    // An account's go with it.
    QVERIFY(m_store->deleteAccount(alice));
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM subscriptions WHERE owner_id = %1"_s.arg(alice)).toInt(), 0);
}

// A rename takes the subscriptions of the folder and of the names under
// it (Dovecot does), folders or not; a deletion leaves them.
void TestStoreImap::subscriptionsFollowRenames()
{
    const qint64 bob = addAccount(u"bob"_s);
    const auto projects = m_store->createFolder(bob, u"Projects"_s);
    QVERIFY(projects && m_store->createFolder(bob, u"Projects/2027"_s));
    for (const QString &name : {u"Projects"_s, u"Projects/2027"_s, u"Projects/gone"_s, u"Projects 2"_s, u"Work"_s})
        QVERIFY(m_store->subscribe(bob, name));
    QVERIFY2(m_store->renameFolder(bob, projects->id, u"Work"_s), qPrintable(m_store->lastErrorText()));
    QCOMPARE(m_store->subscriptions(bob).value(),
             (QStringList{u"Projects 2"_s, u"Work"_s, u"Work/2027"_s, u"Work/gone"_s}));
    QVERIFY(m_store->deleteFolder(bob, projects->id));
    QCOMPARE(m_store->subscriptions(bob)->size(), 4);
}

// IMAP's DELETE of a folder with sub-folders (RFC 9051 §6.3.5).
void TestStoreImap::foldersKeptForTheirChildren()
{
    const qint64 bob = addAccount(u"bob"_s);
    const auto parent = m_store->createFolder(bob, u"Parent"_s);
    const auto child = m_store->createFolder(bob, u"Parent/Child"_s);
    QVERIFY(parent && child);
    QVERIFY(parent->selectable);
    const QList<qint64> ids = deliverTo(bob, 2);
    const auto moved = m_store->moveEntries(bob, inbox(bob), ids, parent->id);
    QVERIFY(moved && moved->entries.size() == 2);
    const qint64 since = m_store->accountModseq(bob).value();

    QVERIFY2(m_store->emptyFolderKeepingChildren(bob, parent->id), qPrintable(m_store->lastErrorText()));
    const auto kept = m_store->folder(bob, parent->id);
    QVERIFY(kept && !kept->selectable);
    QCOMPARE(kept->total, 0);
    QCOMPARE(kept->modseq, since + 3); // two removals, then the folder
    QCOMPARE(kept->highestModseq, since + 3);
    QVERIFY(!m_store->entry(bob, ids.at(0)));
    QCOMPARE(m_store->folderChanges(bob, parent->id, since)->removedUids, (QList<qint64>{1, 2}));
    QVERIFY(m_store->folder(bob, child->id)->selectable);
    // The change feed shows the folder as it is now.
    const auto changes = m_store->changes(bob, since);
    QVERIFY(changes && changes->removed.size() == 2);
    QVERIFY(std::any_of(changes->folders.cbegin(), changes->folders.cend(),
                        [&](const MailFolder &f) { return f.id == parent->id && !f.selectable; }));
    // Twice: nothing more to do, no modseq.
    QVERIFY(m_store->emptyFolderKeepingChildren(bob, parent->id));
    QCOMPARE(m_store->accountModseq(bob).value(), since + 3);

    // It holds no entries.
    const QList<qint64> more = deliverTo(bob, 1);
    QVERIFY(!m_store->appendMessage(bob, parent->id, message(u"no"_s), {}));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->copyEntries(bob, inbox(bob), more, parent->id));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->moveEntries(bob, inbox(bob), more, parent->id));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    EntryUpdate toParent;
    toParent.folderId = parent->id;
    QVERIFY(!m_store->updateEntry(bob, more.first(), toParent));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->copyEntry(bob, more.first(), parent->id));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QCOMPARE(m_store->folder(bob, parent->id)->uidNext, 3);

    // Role folders cannot be emptied so.
    QVERIFY(!m_store->emptyFolderKeepingChildren(bob, inbox(bob)));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QVERIFY(!m_store->emptyFolderKeepingChildren(bob, 424242));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);

    // Its last child deleted, it stays (as Dovecot keeps it); creating its
    // name makes it selectable again, under a new uidValidity, its uids
    // going on.
    QVERIFY(m_store->deleteFolder(bob, child->id));
    QVERIFY(m_store->folder(bob, parent->id));
    const auto again = m_store->createFolder(bob, u"Parent"_s);
    QVERIFY2(again, qPrintable(m_store->lastErrorText()));
    QCOMPARE(again->id, parent->id);
    QVERIFY(again->selectable);
    QVERIFY(again->uidValidity > parent->uidValidity);
    QCOMPARE(again->uidNext, 3);
    QVERIFY(again->modseq > kept->modseq);
    QVERIFY(!m_store->createFolder(bob, u"Parent"_s));
    QCOMPARE(m_store->lastError(), Store::Error::AlreadyExists);
    QCOMPARE(m_store->moveEntries(bob, inbox(bob), more, parent->id)->entries.first().uid, 3);
    // deleteFolder removes a folder kept so, as any.
    QVERIFY(m_store->emptyFolderKeepingChildren(bob, parent->id));
    QVERIFY(m_store->deleteFolder(bob, parent->id));
    QVERIFY(!m_store->folder(bob, parent->id));
}

void TestStoreImap::sizeAndDetails()
{
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 alice = addAccount(u"alice"_s);
    const QList<qint64> ids = deliverTo(bob, 3);
    const QList<qint64> hers = deliverTo(alice, 1);
    qint64 octets = 0;
    for (const qint64 id : ids)
        octets += m_store->rawMessage(bob, id)->size();
    QCOMPARE(m_store->folderSize(bob, inbox(bob)).value_or(-1), octets);
    const auto work = m_store->createFolder(bob, u"Work"_s);
    QCOMPARE(m_store->folderSize(bob, work->id).value_or(-1), 0);
    QVERIFY(!m_store->folderSize(alice, inbox(bob)));
    QCOMPARE(m_store->lastError(), Store::Error::NotFound);

    // In the order asked; another's entry and one that is gone are missing.
    QVERIFY(m_store->deleteEntry(bob, ids.at(1)));
    for (const bool withRaw : {false, true}) {
        const auto details = m_store->entryDetails(bob, {ids.at(2), hers.at(0), ids.at(1), ids.at(0)}, withRaw);
        QVERIFY2(details, qPrintable(m_store->lastErrorText()));
        QCOMPARE(details->size(), 2);
        QCOMPARE(details->at(0).entryId, ids.at(2));
        QCOMPARE(details->at(1).entryId, ids.at(0));
        const QByteArray raw = m_store->rawMessage(bob, ids.at(2)).value();
        QCOMPARE(details->at(0).size, raw.size());
        QCOMPARE(details->at(0).receivedAt, message(QString()).receivedAt);
        QCOMPARE(details->at(0).raw, withRaw ? raw : QByteArray());
    }
    // More than one statement's worth.
    QList<qint64> many;
    for (int i = 0; i < StoreSchema::BatchRows * 2 + 10; ++i)
        many.append(i % 2 ? ids.at(0) : ids.at(2));
    QCOMPARE(m_store->entryDetails(bob, many, false)->size(), many.size());
}

// Migration 9 on the engine under test: a database of schema 8 keeps every
// folder and entry; its folders are selectable, no one has subscriptions.
void TestStoreImap::migrationKeepsData()
{
    m_store.reset();
    m_database = std::make_unique<TestDatabase>(m_dir->filePath(u"v8"_s));
    QVERIFY(QDir(m_dir->path()).mkpath(u"v8"_s));
    qint64 bob = 0;
    QList<qint64> ids;
    {
        Store old;
        QVERIFY2(old.open(url(), Store::OpenMode::CreateIfMissing, 8), qPrintable(old.lastErrorText()));
        bob = old.createAccount(u"bob"_s, u"h"_s)->id;
        QVERIFY(run(old.database(), u"INSERT INTO folders (owner_id, name, role, uid_validity, uid_next, modseq,"
                                    " highest_modseq) VALUES (%1, 'Work/2027', NULL, 5, 1, 7, 7)"_s.arg(bob)));
        QVERIFY(run(old.database(), u"UPDATE accounts SET modseq = 7 WHERE id = %1"_s.arg(bob)));
        for (int i = 0; i < 3; ++i)
            ids.append(old.deliver(message(u"old %1"_s.arg(i), {bob}))->inboxEntryIds.first());
        QVERIFY(!run(old.database(), u"SELECT count(*) FROM subscriptions"_s));
    }
    Store store;
    QVERIFY2(store.open(url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    const auto folders = store.folders(bob);
    QVERIFY(folders);
    QCOMPARE(folders->size(), 7);
    for (const MailFolder &folder : *folders)
        QVERIFY(folder.selectable);
    QCOMPARE(folders->last().name, u"Work/2027"_s);
    const auto entries = store.folderEntries(bob, store.roleFolder(bob, FolderRole::Inbox)->id);
    QVERIFY(entries);
    QCOMPARE(uidsOf(*entries), (QList<qint64>{1, 2, 3}));
    QCOMPARE(entries->last().entryId, ids.last());
    QCOMPARE(store.subscriptions(bob).value(), QStringList{});
    QVERIFY(store.subscribe(bob, u"Work/2027"_s));
    QVERIFY(store.emptyFolderKeepingChildren(bob, folders->last().id));
    QCOMPARE(StoreSchema::postgresqlMigrations().size(), StoreSchema::migrations().size());
}

// Backups and restores carry subscriptions and which folders are selectable.
void TestStoreImap::backupCarriesSubscriptionsAndSelectable()
{
    const qint64 bob = addAccount(u"bob"_s);
    const auto parent = m_store->createFolder(bob, u"Parent"_s);
    QVERIFY(parent && m_store->createFolder(bob, u"Parent/Child"_s));
    QVERIFY(m_store->emptyFolderKeepingChildren(bob, parent->id));
    QVERIFY(m_store->subscribe(bob, u"Parent/Child"_s) && m_store->subscribe(bob, u"Elsewhere"_s));
    const QString backup = m_dir->filePath(u"backup.db"_s);
    QVERIFY2(m_store->backupTo(backup), qPrintable(m_store->lastErrorText()));
    QVERIFY(m_store->unsubscribe(bob, u"Elsewhere"_s) && m_store->subscribe(bob, u"Later"_s));
    QVERIFY(m_store->createFolder(bob, u"Parent"_s));
    const qint64 carol = addAccount(u"carol"_s);
    QVERIFY(m_store->subscribe(carol, u"Hers"_s));
    QVERIFY2(m_store->restoreFrom(backup), qPrintable(m_store->lastErrorText()));
    QCOMPARE(m_store->subscriptions(bob).value(), (QStringList{u"Elsewhere"_s, u"Parent/Child"_s}));
    QVERIFY(!m_store->folder(bob, parent->id)->selectable);
    QCOMPARE(scalar(*m_store, u"SELECT count(*) FROM subscriptions"_s).toInt(), 2);
    // New subscriptions after the restore.
    QVERIFY(m_store->subscribe(bob, u"After"_s));
    QCOMPARE(m_store->subscriptions(bob)->size(), 3);
}

// Figures on a large folder (the size from MAILROOM_IMAP_ENTRIES, 100,000
// by default; docs/STORAGE.md has them for 1,000,000): the whole folder in
// uid order, 50 entries' raw bytes, flags on 10,000 entries, the size.
void TestStoreImap::largeFolder()
{
    const qint64 size = qEnvironmentVariableIsSet("MAILROOM_IMAP_ENTRIES")
        ? qEnvironmentVariableIntValue("MAILROOM_IMAP_ENTRIES")
        : 100000;
    const qint64 bob = addAccount(u"bob"_s);
    const qint64 inboxId = inbox(bob);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(fillFolder(*m_store, bob, inboxId, size, 7));
    qInfo("filled a folder with %lld entries in %.0f ms", size, msSince(timer));
    const auto folder = m_store->roleFolder(bob, FolderRole::Inbox);
    QCOMPARE(folder->uidNext, size + 1);

    timer.restart();
    const auto entries = m_store->folderEntries(bob, inboxId);
    const double readAll = msSince(timer);
    QVERIFY(entries);
    QCOMPARE(entries->size(), size);
    QCOMPARE(entries->last().uid, size);
    qInfo("folderEntries of %lld: %.0f ms", size, readAll);

    QList<qint64> fifty;
    for (qint64 i = 0; i < 50; ++i)
        fifty.append(entries->at(size / 2 + i * 7).entryId);
    double best = 1e9;
    for (int run = 0; run < 20; ++run) {
        timer.restart();
        const auto details = m_store->entryDetails(bob, fifty, true);
        best = std::min(best, msSince(timer));
        QVERIFY(details && details->size() == 50 && details->first().raw.size() == 1000);
    }
    qInfo("entryDetails of 50 with their raw bytes: %.2f ms (best of 20)", best);

    QList<qint64> tenThousand;
    for (qint64 i = 0; i < std::min<qint64>(10000, size); ++i)
        tenThousand.append(entries->at(i).entryId);
    FlagsChange seen;
    seen.mode = FlagsChange::Mode::Add;
    seen.flags.seen = true;
    timer.restart();
    const auto stored = m_store->storeFlags(bob, inboxId, tenThousand, seen);
    qInfo("storeFlags on %lld entries: %.0f ms", qint64(tenThousand.size()), msSince(timer));
    QVERIFY2(stored, qPrintable(m_store->lastErrorText()));
    QCOMPARE(stored->changed.size(), tenThousand.size());
    QCOMPARE(stored->changed.last().modseq, m_store->accountModseq(bob).value());
    QCOMPARE(m_store->roleFolder(bob, FolderRole::Inbox)->unseen, size - tenThousand.size());

    timer.restart();
    const auto changes = m_store->folderChanges(bob, inboxId, folder->highestModseq);
    qInfo("folderChanges with %lld changed: %.1f ms", qint64(tenThousand.size()), msSince(timer));
    QVERIFY(changes && changes->changed.size() == tenThousand.size());
    timer.restart();
    const auto noop = m_store->folderChanges(bob, inboxId, changes->folder.highestModseq);
    qInfo("folderChanges with nothing changed: %.2f ms", msSince(timer));
    QVERIFY(noop && noop->changed.isEmpty());

    timer.restart();
    QCOMPARE(m_store->folderSize(bob, inboxId).value_or(-1), size * 1000);
    qInfo("folderSize: %.0f ms", msSince(timer));

    const auto work = m_store->createFolder(bob, u"Work"_s);
    timer.restart();
    const auto moved = m_store->moveEntries(bob, inboxId, tenThousand, work->id);
    qInfo("moveEntries of %lld: %.0f ms", qint64(tenThousand.size()), msSince(timer));
    QVERIFY(moved && moved->entries.size() == tenThousand.size());
    timer.restart();
    const auto copied = m_store->copyEntries(bob, work->id, tenThousand, inboxId);
    qInfo("copyEntries of %lld: %.0f ms", qint64(tenThousand.size()), msSince(timer));
    QVERIFY(copied && copied->entries.size() == tenThousand.size());
    QCOMPARE(copied->entries.first().uid, size + 1);
}

QTEST_GUILESS_MAIN(TestStoreImap)
#include "tst_storeimap.moc"
