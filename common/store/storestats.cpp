// Store: the figures mailroomctl stats shows.

#include "store.h"

#include "storesql_p.h"

#include <QSqlError>
#include <QSqlQuery>

using StoreSql::toMs;

std::optional<StoreStats> Store::stats()
{
    clearError();
    QSqlQuery query(database());
    // One statement reads one snapshot, so the figures agree with each other.
    const QString version = m_engine == Engine::Postgresql ? QStringLiteral("SELECT version FROM mailroom_schema")
                                                           : QStringLiteral("SELECT user_version FROM pragma_user_version");
    query.prepare(QStringLiteral("SELECT (%1), (SELECT count(*) FROM accounts),"
                                 " (SELECT count(*) FROM messages), (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM messages),"
                                 " (SELECT count(*) FROM mailbox_entries),"
                                 " (SELECT count(*) FROM api_tokens WHERE expires_at > ?)")
                      .arg(version));
    query.addBindValue(toMs(QDateTime::currentDateTimeUtc()));
    if (!query.exec() || !query.next()) {
        failQuery(query, QStringLiteral("reading statistics"));
        return std::nullopt;
    }
    return StoreStats{query.value(0).toInt(),      query.value(1).toLongLong(),
                      query.value(2).toLongLong(), query.value(3).toLongLong(),
                      query.value(4).toLongLong(), query.value(5).toLongLong()};
}
