// Store: backup (a SQLite file on both engines) and restore (from such a
// file into either engine): docs/protocol/ctl.md §2 and §3.

#include "store.h"

#include "backupstaging_p.h"
#include "logging.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storesearch_p.h"
#include "storesql_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>

#include <cerrno>

#include <sys/stat.h>

using StoreSql::BusyTimeoutMs;

namespace {

// Copies every row of table from one connection to another in pages of
// `key` order, so a large database never sits in memory whole. Both are at
// the same schema version, so the columns line up (StoreSchema).
// The columns a backup copies: all, but for message_words its own, not
// PostgreSQL's generated tsvector (which SQLite has not, and which
// PostgreSQL computes again).
QString copiedColumns(const QString &table)
{
    if (table == u"message_words")
        return QStringLiteral("message_id, ") + QLatin1StringView(StoreSchema::SearchColumns);
    return QStringLiteral("*");
}

bool copyTable(const QSqlDatabase &from, const QSqlDatabase &to, const QString &table, const QString &key,
               QString *error)
{
    const QString columns = copiedColumns(table);
    constexpr int PageRows = 256;
    QSqlQuery read(from);
    read.setForwardOnly(true);
    QSqlQuery write(to);
    bool writePrepared = false;
    QVariant last;
    for (;;) {
        read.prepare(last.isValid() ? QStringLiteral("SELECT %4 FROM %1 WHERE %2 > ? ORDER BY %2 LIMIT %3")
                                          .arg(table, key)
                                          .arg(PageRows)
                                          .arg(columns)
                                    : QStringLiteral("SELECT %3 FROM %1 ORDER BY %2 LIMIT %4")
                                          .arg(table, key, columns)
                                          .arg(PageRows));
        if (last.isValid())
            read.addBindValue(last);
        if (!read.exec()) {
            *error = QStringLiteral("reading %1: %2").arg(table, read.lastError().text());
            return false;
        }
        int rows = 0;
        while (read.next()) {
            const QSqlRecord record = read.record();
            if (!writePrepared) {
                QStringList placeholders(record.count(), QStringLiteral("?"));
                const QString into = columns == u"*" ? table : QStringLiteral("%1 (%2)").arg(table, columns);
                if (!write.prepare(QStringLiteral("INSERT INTO %1 VALUES (%2)").arg(into, placeholders.join(u',')))) {
                    *error = QStringLiteral("writing %1: %2").arg(table, write.lastError().text());
                    return false;
                }
                writePrepared = true;
            }
            for (int column = 0; column < record.count(); ++column)
                write.bindValue(column, record.value(column));
            if (!write.exec()) {
                *error = QStringLiteral("writing %1: %2").arg(table, write.lastError().text());
                return false;
            }
            last = record.value(key);
            ++rows;
        }
        if (rows < PageRows)
            return true;
    }
}

QString keyOf(const QString &table)
{
    if (table == u"api_tokens")
        return QStringLiteral("token_hash");
    return table == u"message_words" ? QStringLiteral("message_id") : QStringLiteral("id");
}

// The next id each table's counter gives out minus one, on PostgreSQL: the
// sequence's last value, 0 when it never gave one.
std::optional<std::map<QString, qint64>> postgresqlCounters(const QSqlDatabase &db, QString *error)
{
    std::map<QString, qint64> counters;
    QSqlQuery query(db);
    for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
        if (table == u"api_tokens" || table == u"message_words") // no counter of their own
            continue;
        if (!query.exec(QStringLiteral("SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('%1', 'id')), 0)")
                            .arg(table))
            || !query.next()) {
            *error = QStringLiteral("reading the id counter of %1: %2").arg(table, query.lastError().text());
            return std::nullopt;
        }
        counters[table] = query.value(0).toLongLong();
    }
    return counters;
}

// Gives the SQLite copy PostgreSQL's counters, so ids given out and deleted
// since stay unused after a restore of the copy too.
bool writeSqliteCounters(const QSqlDatabase &copy, const std::map<QString, qint64> &counters, QString *error)
{
    QSqlQuery sequence(copy);
    for (const auto &[table, value] : counters) {
        sequence.prepare(QStringLiteral("DELETE FROM sqlite_sequence WHERE name = ?"));
        sequence.addBindValue(table);
        const bool deleted = sequence.exec();
        sequence.prepare(QStringLiteral(
            "INSERT INTO sqlite_sequence (name, seq) SELECT ?, max(?, coalesce((SELECT max(id) FROM %1), 0))")
                             .arg(table));
        sequence.addBindValue(table);
        sequence.addBindValue(value);
        if (!deleted || !sequence.exec()) {
            *error = QStringLiteral("writing the id counters: %1").arg(sequence.lastError().text());
            return false;
        }
    }
    return true;
}

// Replaces the rows of the main database with those of the attached
// restore_source. Ids never go back (docs/protocol/ctl.md §3: never
// reused; POP3 UIDLs depend on it): each counter continues from the larger
// of the two.
QStringList sqliteRestoreStatements()
{
    QStringList statements{
        QStringLiteral("CREATE TEMP TABLE restore_counters AS SELECT name, seq FROM main.sqlite_sequence"),
        StoreSchema::restoreKeepAccountNumbersSql(DatabaseUrl::Kind::Sqlite)};
    const QStringList &tables = StoreSchema::tablesInDependencyOrder();
    for (auto it = tables.crbegin(); it != tables.crend(); ++it)
        statements.append(QStringLiteral("DELETE FROM main.%1").arg(*it));
    // Both files are at the same schema version, so the columns line up.
    // Login tokens are not restored: sessions ended since the backup must
    // stay ended, so a restore ends every session.
    for (const QString &table : tables) {
        if (table != u"api_tokens")
            statements.append(QStringLiteral("INSERT INTO main.%1 SELECT * FROM restore_source.%1").arg(table));
    }
    statements.append(QStringLiteral("DELETE FROM main.sqlite_sequence"));
    statements.append(QStringLiteral(
        "INSERT INTO main.sqlite_sequence (name, seq) SELECT name, max(seq) FROM"
        " (SELECT name, seq FROM restore_source.sqlite_sequence UNION ALL SELECT name, seq FROM temp.restore_counters)"
        " GROUP BY name"));
    statements.append(QStringLiteral("DROP TABLE temp.restore_counters"));
    // The triggers that keep each folder's counts counted the copied
    // entries once more.
    statements.append(StoreSchema::folderCountersSql());
    statements += StoreSchema::restoreAccountNumbersSql(DatabaseUrl::Kind::Sqlite);
    // No trigger indexes copied words (migration 8): the search index is
    // built again from them.
    statements.append(StoreSearch::rebuildIndexSql());
    return statements;
}

} // namespace

bool Store::backupTo(const QString &file)
{
    clearError();
    const QFileInfo target(file);
    const QByteArray targetPath = QFile::encodeName(target.absoluteFilePath());
    // lstat, not QFileInfo::exists(), which follows links: a dangling
    // symbolic link at FILE once had the copy written where it pointed.
    struct stat existing = {};
    if (::lstat(targetPath.constData(), &existing) == 0) {
        const QString link = S_ISLNK(existing.st_mode) ? QStringLiteral(" (a symbolic link, never followed)") : QString();
        return fail(Error::AlreadyExists, QStringLiteral("%1 already exists%2: choose a new file name").arg(file, link));
    }
    if (!target.dir().exists())
        return fail(Error::NotFound, QStringLiteral("directory %1 does not exist").arg(target.absolutePath()));
    const BackupStaging staging(QFile::encodeName(target.absolutePath()));
    if (staging.error())
        return fail(Error::Failed, QStringLiteral("cannot write a backup in %1: %2")
                                       .arg(target.absolutePath(), qt_error_string(staging.error())));
    if (m_engine == Engine::Postgresql) {
        // Its errors name the file it writes: the user knows theirs.
        if (!backupPostgresqlTo(staging.file()))
            return fail(m_error, QString(m_errorText).replace(staging.file(), file));
    } else {
        QSqlQuery query(database());
        query.prepare(QStringLiteral("VACUUM INTO ?"));
        query.addBindValue(staging.file());
        if (!query.exec())
            return failQuery(query, QStringLiteral("backing up to %1").arg(file));
    }
    if (const int error = staging.publish(targetPath)) {
        // EEXIST: something took the name while the copy was being made.
        if (error == EEXIST)
            return fail(Error::AlreadyExists, QStringLiteral("%1 already exists: choose a new file name").arg(file));
        return fail(Error::Failed, QStringLiteral("cannot name the backup %1: %2").arg(file, qt_error_string(error)));
    }
    qCInfo(lcStore) << "backed up" << m_path << "to" << file;
    return true;
}

bool Store::restoreFrom(const QString &file)
{
    clearError();
    if (!QFileInfo(file).isFile())
        return fail(Error::NotFound, QStringLiteral("no backup file %1").arg(file));
    // Work on a private copy, made by SQLite itself from a read-only
    // connection: commits still in a -wal beside the file are included, and
    // the user's file is not changed. Opening the copy checks that it is a
    // Mailroom database and brings an older backup up to the current schema.
    QTemporaryDir workDir(m_engine == Engine::Postgresql
                              ? QDir::tempPath() + QStringLiteral("/mailroom-restore-XXXXXX")
                              : QFileInfo(m_path).absolutePath() + QStringLiteral("/.restore-XXXXXX"));
    if (!workDir.isValid())
        return fail(Error::Failed, QStringLiteral("cannot create a work directory: %1").arg(workDir.errorString()));
    const QString copy = workDir.filePath(QStringLiteral("restore.db"));
    if (!copyBackupFile(file, copy) || !checkBackupCopy(copy, file))
        return false;
    if (m_engine == Engine::Postgresql)
        return restorePostgresqlFrom(copy, file);
    return restoreSqliteFrom(copy, file);
}

bool Store::copyBackupFile(const QString &file, const QString &copy)
{
    const QString sourceConnection = m_connectionName + QStringLiteral("-restore-source");
    QString readError;
    {
        QSqlDatabase source = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), sourceConnection);
        source.setDatabaseName(file);
        source.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=%1").arg(BusyTimeoutMs));
        if (!source.open()) {
            readError = source.lastError().text();
        } else {
            QSqlQuery vacuum(source);
            vacuum.prepare(QStringLiteral("VACUUM INTO ?"));
            vacuum.addBindValue(copy);
            if (!vacuum.exec())
                readError = vacuum.lastError().text();
        }
        source.close();
    }
    QSqlDatabase::removeDatabase(sourceConnection);
    if (!readError.isEmpty())
        return fail(Error::Failed, QStringLiteral("cannot read backup %1: %2").arg(file, readError));
    return true;
}

bool Store::checkBackupCopy(const QString &copy, const QString &file)
{
    Store source;
    if (!source.open(copy, OpenMode::MustExist))
        return fail(Error::Failed, QStringLiteral("backup %1 is unusable: %2")
                                       .arg(file, source.lastErrorText().replace(copy, file)));
    QSqlQuery check(source.database());
    if (!check.exec(QStringLiteral("PRAGMA integrity_check")) || !check.next() || check.value(0).toString() != u"ok")
        return fail(Error::Failed, QStringLiteral("backup %1 is damaged (integrity check failed)").arg(file));
    return true;
}

bool Store::restoreSqliteFrom(const QString &backupCopy, const QString &file)
{
    QSqlQuery query(database());
    query.prepare(QStringLiteral("ATTACH DATABASE ? AS restore_source"));
    query.addBindValue(backupCopy);
    if (!query.exec())
        return failQuery(query, QStringLiteral("opening backup %1").arg(file));
    // The transaction has ended (committed or rolled back) when this
    // returns: SQLite detaches nothing inside one.
    const bool restored = replaceFromAttachedBackup(query, file);
    if (!query.exec(QStringLiteral("DETACH DATABASE restore_source")))
        qCWarning(lcStore) << "detaching the backup failed:" << query.lastError().text();
    if (restored)
        qCInfo(lcStore) << "restored" << m_path << "from" << file;
    return restored;
}

bool Store::replaceFromAttachedBackup(QSqlQuery &query, const QString &file)
{
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot lock the database: %1").arg(transaction.lastError().text()));
    for (const QString &statement : sqliteRestoreStatements()) {
        if (!query.exec(statement)) {
            failQuery(query, QStringLiteral("restoring from %1").arg(file));
            query.finish();
            return false;
        }
    }
    query.finish();
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the restore: %1").arg(transaction.lastError().text()));
    return true;
}

bool Store::backupPostgresqlTo(const QString &file)
{
    Store copy;
    if (!copy.open(file, OpenMode::CreateIfMissing, schemaVersion()))
        return fail(Error::Failed, QStringLiteral("cannot create the backup file: %1").arg(copy.lastErrorText()));
    // One snapshot for every table, so the copy is consistent while others write.
    QSqlQuery snapshot(database());
    if (!snapshot.exec(QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
        return failQuery(snapshot, QStringLiteral("starting the backup"));
    QString error;
    bool copied = false;
    {
        SqlWriteTransaction target(copy.database());
        copied = target.isActive();
        for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
            if (copied && !copyTable(database(), copy.database(), table, keyOf(table), &error))
                copied = false;
        }
        // The copy's counting triggers counted every copied entry again,
        // and no trigger indexed the copied words (migration 8).
        for (const QString &statement : {StoreSchema::folderCountersSql(), StoreSearch::rebuildIndexSql()}) {
            QSqlQuery rebuild(copy.database());
            if (copied && !rebuild.exec(statement)) {
                error = rebuild.lastError().text();
                copied = false;
            }
        }
        const auto counters = copied ? postgresqlCounters(database(), &error) : std::nullopt;
        if (!counters || !writeSqliteCounters(copy.database(), *counters, &error))
            copied = false;
        if (copied && !target.commit()) {
            error = target.lastError().text();
            copied = false;
        }
        if (error.isEmpty() && !copied)
            error = target.lastError().text();
    }
    if (!snapshot.exec(QStringLiteral("COMMIT")))
        qCWarning(lcStore) << "ending the backup snapshot failed:" << snapshot.lastError().text();
    if (!copied)
        return fail(Error::Failed, QStringLiteral("backing up to %1: %2").arg(file, error));
    return true;
}

bool Store::restorePostgresqlFrom(const QString &backupCopy, const QString &file)
{
    Store source;
    if (!source.open(backupCopy, OpenMode::MustExist))
        return fail(Error::Failed, QStringLiteral("backup %1 is unusable: %2").arg(file, source.lastErrorText()));
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start the restore: %1").arg(transaction.lastError().text()));
    QSqlQuery query(database());
    // Other servers wait until the new data is complete: they see the old
    // or the new, never a mix.
    if (!query.exec(QStringLiteral("LOCK TABLE accounts, messages, message_words, folders, mailbox_entries, removals, api_tokens, subscriptions IN ACCESS EXCLUSIVE MODE")))
        return failQuery(query, QStringLiteral("locking the tables for the restore"));
    QString error;
    const auto before = postgresqlCounters(database(), &error);
    if (!before)
        return fail(Error::Failed, error);
    if (!query.exec(StoreSchema::restoreKeepAccountNumbersSql(Engine::Postgresql)))
        return failQuery(query, QStringLiteral("keeping the accounts' modseqs for the restore"));
    // Login tokens are not restored: sessions ended since the backup must
    // stay ended, so a restore ends every session.
    if (!query.exec(QStringLiteral("TRUNCATE subscriptions, api_tokens, removals, mailbox_entries, folders, message_words, messages, accounts")))
        return failQuery(query, QStringLiteral("emptying the tables for the restore"));
    for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
        if (table != u"api_tokens" && !copyTable(source.database(), database(), table, keyOf(table), &error))
            return fail(Error::Failed, QStringLiteral("restoring from %1: %2").arg(file, error));
    }
    // The triggers that keep each folder's counts counted the copied
    // entries once more.
    if (!query.exec(StoreSchema::folderCountersSql()))
        return failQuery(query, QStringLiteral("counting the restored folders"));
    for (const QString &statement : StoreSchema::restoreAccountNumbersSql(Engine::Postgresql)) {
        if (!query.exec(statement))
            return failQuery(query, QStringLiteral("moving the restored accounts' modseqs on"));
    }
    // Ids never go back (docs/protocol/ctl.md §3: never reused; POP3 UIDLs
    // depend on it): each counter continues from the larger of the two
    // databases' counters.
    QSqlQuery backupCounters(source.database());
    for (const auto &[table, value] : *before) {
        backupCounters.prepare(QStringLiteral("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)"));
        backupCounters.addBindValue(table);
        if (!backupCounters.exec() || !backupCounters.next())
            return fail(Error::Failed, QStringLiteral("reading the id counters of %1: %2")
                                           .arg(file, backupCounters.lastError().text()));
        const qint64 counter = std::max(value, backupCounters.value(0).toLongLong());
        query.prepare(QStringLiteral("SELECT setval(pg_get_serial_sequence('%1', 'id'),"
                                     " greatest(?, (SELECT coalesce(max(id), 0) FROM %1), 1), ?)")
                          .arg(table));
        query.addBindValue(counter);
        query.addBindValue(counter > 0);
        if (!query.exec())
            return failQuery(query, QStringLiteral("setting the id counter of %1").arg(table));
    }
    query.finish();
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the restore: %1").arg(transaction.lastError().text()));
    qCInfo(lcStore) << "restored" << m_path << "from" << file;
    return true;
}
