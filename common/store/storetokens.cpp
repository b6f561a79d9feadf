// Store: the login tokens of the HTTPS API (sessions), kept as hashes only.

#include "store.h"

#include "storesql_p.h"

#include <QSqlError>
#include <QSqlQuery>

using StoreSql::FinishedOnExit;
using StoreSql::toMs;

bool Store::addToken(const QByteArray &tokenHash, qint64 accountId, const QDateTime &createdAt,
                     const QDateTime &expiresAt)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral(
        "INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)"));
    query.addBindValue(tokenHash);
    query.addBindValue(accountId);
    query.addBindValue(toMs(createdAt));
    query.addBindValue(toMs(expiresAt));
    if (!query.exec())
        return failQuery(query, QStringLiteral("storing a token for account %1").arg(accountId));
    return true;
}

std::optional<Account> Store::tokenOwner(const QByteArray &tokenHash, const QDateTime &now)
{
    // One query for what every API request asks first.
    QSqlQuery *row = selectRow(QStringLiteral("SELECT a.id, a.username, a.password_hash, a.created_at, a.display_name"
                                              " FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
                                              " WHERE t.token_hash = ? AND t.expires_at > ?"),
                               {tokenHash, toMs(now)}, QStringLiteral("looking up a token"),
                               QStringLiteral("no such token"));
    const FinishedOnExit finished(row);
    return row ? std::optional<Account>(StoreSql::accountFromQuery(*row)) : std::nullopt;
}

std::optional<qint64> Store::tokenAccount(const QByteArray &tokenHash, const QDateTime &now)
{
    const auto owner = tokenOwner(tokenHash, now);
    return owner ? std::optional<qint64>(owner->id) : std::nullopt;
}

bool Store::deleteToken(const QByteArray &tokenHash)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE token_hash = ?"));
    query.addBindValue(tokenHash);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting a token"));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no such token"));
    return true;
}

bool Store::deleteOtherTokens(qint64 accountId, const QByteArray &keep)
{
    clearError();
    QSqlQuery query(database());
    // IS DISTINCT FROM: an empty keep binds as NULL, and "!= NULL" would match nothing.
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE account_id = ? AND token_hash IS DISTINCT FROM ?"));
    query.addBindValue(accountId);
    query.addBindValue(keep);
    if (!query.exec())
        return failQuery(query, QStringLiteral("ending the tokens of account %1").arg(accountId));
    return true;
}

std::optional<qint64> Store::purgeExpiredTokens(const QDateTime &now)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE expires_at <= ?"));
    query.addBindValue(toMs(now));
    if (!query.exec()) {
        failQuery(query, QStringLiteral("purging expired tokens"));
        return std::nullopt;
    }
    return query.numRowsAffected();
}
