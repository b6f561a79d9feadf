#pragma once

// Helpers the store's source files share: how values are bound and read
// back, and the reset of cached statements. Internal to common/store.

#include "store.h"

#include <QDateTime>
#include <QSqlQuery>
#include <QString>
#include <QVariant>

namespace StoreSql {

// SQLite waits this long for another process's write lock (docs/STORAGE.md,
// "Connection settings"); a backup being read uses the same.
inline constexpr int BusyTimeoutMs = 10000;

// A null QString binds as SQL NULL; the text columns hold "" for "none".
// PostgreSQL's text cannot hold U+0000 (an encoded word can decode to it):
// it becomes U+FFFD on both engines, so both store the same.
inline QString text(const QString &value)
{
    if (value.isNull())
        return QStringLiteral("");
    if (!value.contains(QChar(0)))
        return value;
    QString cleaned = value;
    cleaned.replace(QChar(0), QChar::ReplacementCharacter);
    return cleaned;
}

inline qint64 toMs(const QDateTime &time)
{
    return time.toMSecsSinceEpoch();
}

inline QDateTime fromMs(const QVariant &value)
{
    if (value.isNull())
        return {};
    return QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

// The columns of accounts that make an Account (AccountColumns), in that order.
inline constexpr char AccountColumns[] = "id, username, password_hash, created_at, display_name";
inline Account accountFromQuery(const QSqlQuery &query)
{
    return Account{query.value(0).toLongLong(), query.value(1).toString(), query.value(2).toString(),
                   fromMs(query.value(3)), query.value(4).toString()};
}

// A cached statement is reset when its user is done with it: a SELECT left
// open would hold its read snapshot (and block WAL checkpoints) until the
// statement's next use.
class FinishedOnExit
{
public:
    explicit FinishedOnExit(QSqlQuery *query) : m_query(query) {}
    ~FinishedOnExit()
    {
        if (m_query)
            m_query->finish();
    }
    FinishedOnExit(const FinishedOnExit &) = delete;
    FinishedOnExit &operator=(const FinishedOnExit &) = delete;

private:
    QSqlQuery *m_query;
};

} // namespace StoreSql
