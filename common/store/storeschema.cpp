// Store: the identity of a database, its schema version and the migrations
// (the SQL of each step is in store_p.h; docs/STORAGE.md, "Schema").

#include "store.h"

#include "logging.h"
#include "sqltransaction.h"
#include "store_p.h"

#include <QSqlError>
#include <QSqlQuery>

int Store::latestSchemaVersion()
{
    return int(StoreSchema::migrations().size());
}

bool Store::checkIdentity(OpenMode mode, int *version)
{
    QSqlQuery query(database());
    // A file that is not SQLite fails here, on the first read of its header.
    if (!query.exec(QStringLiteral("SELECT (SELECT application_id FROM pragma_application_id),"
                                   " (SELECT user_version FROM pragma_user_version),"
                                   " (SELECT count(*) FROM sqlite_schema)"))
        || !query.next())
        return fail(Error::Failed, QStringLiteral("%1 is not a usable SQLite database: %2")
                                       .arg(m_path, query.lastError().text()));
    const int applicationId = query.value(0).toInt();
    *version = query.value(1).toInt();
    const qint64 objects = query.value(2).toLongLong();
    const bool empty = applicationId == 0 && *version == 0 && objects == 0;
    // An existing file that is empty (or SQLite without tables) is not a
    // database someone has: turning it into a new one would, e.g., make a
    // restore from an empty file wipe everything.
    if (empty && mode == OpenMode::MustExist)
        return fail(Error::NotFound, QStringLiteral("%1 holds no Mailroom database").arg(m_path));
    if (applicationId != StoreSchema::ApplicationId && !empty)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database").arg(m_path));
    return refuseNewerSchema(*version);
}

bool Store::refuseNewerSchema(int version)
{
    if (version <= latestSchemaVersion())
        return true;
    return fail(Error::Failed,
                QStringLiteral("%1 has schema version %2, newer than this Mailroom knows (%3): upgrade Mailroom")
                    .arg(m_path)
                    .arg(version)
                    .arg(latestSchemaVersion()));
}

bool Store::checkPostgresqlIdentity(OpenMode mode, int *version)
{
    QSqlQuery query(database());
    if (!query.exec(QStringLiteral("SELECT (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()),"
                                   " to_regclass('mailroom_schema') IS NOT NULL"))
        || !query.next())
        return failQuery(query, QStringLiteral("reading the tables of %1").arg(m_path));
    const qint64 tables = query.value(0).toLongLong();
    const bool ours = query.value(1).toBool();
    *version = 0;
    if (tables == 0) {
        if (mode == OpenMode::MustExist)
            return fail(Error::NotFound, QStringLiteral("%1 holds no Mailroom database").arg(m_path));
        return true;
    }
    if (!ours)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database (it has other tables)").arg(m_path));
    if (!query.exec(QStringLiteral("SELECT application_id, version FROM mailroom_schema")) || !query.next())
        return failQuery(query, QStringLiteral("reading the schema version of %1").arg(m_path));
    if (query.value(0).toInt() != StoreSchema::ApplicationId)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database").arg(m_path));
    *version = query.value(1).toInt();
    return refuseNewerSchema(*version);
}

bool Store::migrate(int from, int to)
{
    const bool postgresql = m_engine == Engine::Postgresql;
    const QList<QStringList> &steps = postgresql ? StoreSchema::postgresqlMigrations() : StoreSchema::migrations();
    for (int version = from + 1; version <= to; ++version) {
        SqlWriteTransaction transaction(database());
        if (!transaction.isActive())
            return fail(classify(transaction.lastError()), QStringLiteral("cannot start migration %1: %2")
                                         .arg(version)
                                         .arg(transaction.lastError().text()));
        QSqlQuery query(database());
        // On PostgreSQL, DDL takes no lock that orders two servers starting
        // on a new database: an advisory lock does, for this transaction.
        if (postgresql && !query.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(StoreSchema::ApplicationId)))
            return failQuery(query, QStringLiteral("locking for migration %1").arg(version));
        // Another process may have migrated while we waited for the lock.
        if (schemaVersion() >= version)
            continue;
        for (const QString &statement : steps.at(version - 1)) {
            if (!query.exec(statement))
                return failQuery(query, QStringLiteral("migration %1").arg(version));
        }
        // What SQL alone cannot do: the search index needs each stored
        // message parsed.
        if (version == StoreSchema::SearchIndexVersion && !indexStoredMessages())
            return false;
        // PRAGMA takes no bound values; the number is ours, not input.
        const QString setVersion = postgresql ? QStringLiteral("UPDATE mailroom_schema SET version = %1").arg(version)
                                              : QStringLiteral("PRAGMA user_version = %1").arg(version);
        if (!query.exec(setVersion))
            return failQuery(query, QStringLiteral("migration %1").arg(version));
        query.finish();
        if (!transaction.commit())
            return fail(Error::Failed, QStringLiteral("committing migration %1: %2")
                                           .arg(version)
                                           .arg(transaction.lastError().text()));
        qCInfo(lcStore) << "migrated" << m_path << "to schema version" << version;
    }
    return true;
}

int Store::schemaVersion()
{
    QSqlQuery query(database());
    if (m_engine == Engine::Postgresql) {
        // Before migration 1 there is no table to read.
        if (!query.exec(QStringLiteral("SELECT to_regclass('mailroom_schema') IS NOT NULL")) || !query.next()
            || !query.value(0).toBool())
            return 0;
        if (!query.exec(QStringLiteral("SELECT version FROM mailroom_schema")) || !query.next())
            return 0;
        return query.value(0).toInt();
    }
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next())
        return 0;
    return query.value(0).toInt();
}
