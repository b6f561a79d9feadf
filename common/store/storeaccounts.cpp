// Store: accounts, their passwords, and the failed logins every server on
// the database counts against one budget.

#include "store.h"

#include "logging.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storesql_p.h"

#include <QSqlError>
#include <QSqlQuery>

using StoreSql::accountFromQuery;
using StoreSql::FinishedOnExit;
using StoreSql::fromMs;
using StoreSql::text;
using StoreSql::toMs;

namespace {

// A row's key: bounded, so a client cannot make rows as large as a line it sends.
QString loginFailureKey(const QString &value)
{
    return text(value.left(256));
}

} // namespace

std::optional<Account> Store::createAccount(const QString &username, const QString &passwordHash,
                                            const QDateTime &createdAt)
{
    clearError();
    qint64 id = 0;
    const bool committed = inWriteTransaction(QStringLiteral("creating account %1").arg(username), [&] {
        QSqlQuery query(database());
        query.prepare(QStringLiteral(
            "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id"));
        query.addBindValue(text(username));
        query.addBindValue(text(passwordHash));
        query.addBindValue(toMs(createdAt));
        if (!query.exec() || !query.next())
            return failQuery(query, QStringLiteral("creating account %1").arg(username));
        id = query.value(0).toLongLong();
        query.finish();
        // The role folders, as migration 6 gave every account: modseqs 1
        // to 6, uidValidity the creation second.
        const qint64 uidValidity = std::max<qint64>(1, QDateTime::currentSecsSinceEpoch());
        query.prepare(QStringLiteral("INSERT INTO folders (owner_id, name, role, uid_validity, uid_next, modseq,"
                                     " highest_modseq) SELECT ?, r.name, r.role, ?, 1, r.position, r.position"
                                     " FROM (%1) r")
                          .arg(StoreSchema::roleFoldersSql()));
        query.addBindValue(id);
        query.addBindValue(uidValidity);
        if (!query.exec())
            return failQuery(query, QStringLiteral("creating the folders of account %1").arg(username));
        query.prepare(QStringLiteral("UPDATE accounts SET modseq = ?, last_uid_validity = ? WHERE id = ?"));
        query.addBindValue(StoreSchema::RoleFolderCount);
        query.addBindValue(uidValidity);
        query.addBindValue(id);
        if (!query.exec())
            return failQuery(query, QStringLiteral("creating account %1").arg(username));
        return true;
    });
    if (!committed)
        return std::nullopt;
    qCInfo(lcStore) << "created account" << username;
    return Account{id, username, passwordHash, QDateTime::fromMSecsSinceEpoch(toMs(createdAt), Qt::UTC), QString()};
}

std::optional<Account> Store::findAccount(const QString &username)
{
    // No name holds U+0000 (Username), and QPSQL, which writes bound values
    // into the statement's text, would cut the name there and fail the query:
    // such a name is simply no account, on both engines.
    if (username.contains(QChar(0))) {
        clearError();
        fail(Error::NotFound, QStringLiteral("no account %1").arg(QString(username).replace(QChar(0), QStringLiteral("\\0"))));
        return std::nullopt;
    }
    static const QString sql =
        QStringLiteral("SELECT %1 FROM accounts WHERE username = ?").arg(QLatin1StringView(StoreSql::AccountColumns));
    QSqlQuery *row = selectRow(
        sql, {username},
        QStringLiteral("looking up account %1").arg(username), QStringLiteral("no account %1").arg(username));
    const FinishedOnExit finished(row);
    return row ? std::optional<Account>(accountFromQuery(*row)) : std::nullopt;
}

std::optional<Account> Store::findAccount(qint64 id)
{
    static const QString sql =
        QStringLiteral("SELECT %1 FROM accounts WHERE id = ?").arg(QLatin1StringView(StoreSql::AccountColumns));
    QSqlQuery *row = selectRow(
        sql, {id},
        QStringLiteral("looking up account %1").arg(id), QStringLiteral("no account with id %1").arg(id));
    const FinishedOnExit finished(row);
    return row ? std::optional<Account>(accountFromQuery(*row)) : std::nullopt;
}

std::optional<QList<Account>> Store::listAccounts()
{
    clearError();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT %1 FROM accounts ORDER BY id").arg(QLatin1StringView(StoreSql::AccountColumns)))) {
        failQuery(query, QStringLiteral("listing accounts"));
        return std::nullopt;
    }
    QList<Account> accounts;
    while (query.next())
        accounts.append(accountFromQuery(query));
    return accounts;
}

bool Store::setPasswordHash(qint64 accountId, const QString &passwordHash)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ?"));
    query.addBindValue(passwordHash);
    query.addBindValue(accountId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("setting the password of account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
    return true;
}

bool Store::replacePasswordHash(qint64 accountId, const QString &expected, const QString &replacement)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?"));
    query.addBindValue(replacement);
    query.addBindValue(accountId);
    query.addBindValue(expected);
    if (!query.exec())
        return failQuery(query, QStringLiteral("replacing the password hash of account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("account %1 is gone or has another password").arg(accountId));
    return true;
}

bool Store::changePassword(qint64 accountId, const QString &passwordHash, const QByteArray &keepToken)
{
    clearError();
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start the password change: %1").arg(transaction.lastError().text()));
    {
        QSqlQuery query(database());
        query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ?"));
        query.addBindValue(text(passwordHash));
        query.addBindValue(accountId);
        if (!query.exec())
            return failQuery(query, QStringLiteral("setting the password of account %1").arg(accountId));
        if (query.numRowsAffected() == 0)
            return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
        query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE account_id = ? AND token_hash IS DISTINCT FROM ?"));
        query.addBindValue(accountId);
        query.addBindValue(keepToken.isEmpty() ? QVariant() : QVariant(keepToken));
        if (!query.exec())
            return failQuery(query, QStringLiteral("ending the sessions of account %1").arg(accountId));
    }
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the password change: %1").arg(transaction.lastError().text()));
    return true;
}

namespace {

// What the directory compares: case and accents aside ("zoe" finds "Zoë"),
// compatibility forms as their plain letters.
QString directoryKey(const QString &text)
{
    const QString decomposed = text.normalized(QString::NormalizationForm_KD);
    QString key;
    key.reserve(decomposed.size());
    for (QChar c : decomposed) {
        if (c.category() != QChar::Mark_NonSpacing)
            key.append(c);
    }
    return key.toCaseFolded();
}

} // namespace

bool Store::setDisplayName(qint64 accountId, const QString &displayName)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("UPDATE accounts SET display_name = ?, display_name_key = ? WHERE id = ?"));
    query.addBindValue(text(displayName));
    query.addBindValue(text(directoryKey(displayName)));
    query.addBindValue(accountId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("setting the display name of account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
    return true;
}

std::optional<QList<DirectoryEntry>> Store::directory(const QString &prefix, int limit)
{
    clearError();
    // substr() counts characters (code points) on both engines. Names are
    // lower-case ASCII already (Username); display names are compared by
    // their directoryKey, stored beside them. A
    // scan of accounts: one organisation's, a few thousand at most.
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT username, display_name FROM accounts"
                       " WHERE substr(username, 1, ?) = ? OR substr(display_name_key, 1, ?) = ?"
                       " ORDER BY username LIMIT ?"),
        QStringLiteral("searching the directory"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    const QString folded = text(directoryKey(prefix));
    const qint64 characters = folded.toUcs4().size();
    QSqlQuery &query = *statement;
    query.bindValue(0, characters);
    query.bindValue(1, folded);
    query.bindValue(2, characters);
    query.bindValue(3, folded);
    query.bindValue(4, limit);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("searching the directory"));
        return std::nullopt;
    }
    QList<DirectoryEntry> entries;
    while (query.next())
        entries.append({query.value(0).toString(), query.value(1).toString()});
    return entries;
}

bool Store::deleteAccount(qint64 accountId)
{
    clearError();
    // Foreign keys cascade to tokens and entries; the trigger drops messages
    // no mailbox shows any more. One statement, so one atomic change.
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM accounts WHERE id = ?"));
    query.addBindValue(accountId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
    qCInfo(lcStore) << "deleted account" << accountId;
    return true;
}

bool Store::addLoginFailure(const QString &clientAddress, const QString &username, qint64 failedAtMs)
{
    clearError();
    const QString what = QStringLiteral("recording a failed login");
    for (;;) {
        if (QSqlQuery *query = cachedStatement(
                QStringLiteral("INSERT INTO login_failures (failed_at, client_address, username) VALUES (?, ?, ?)"), what)) {
            const FinishedOnExit finished(query);
            query->bindValue(0, failedAtMs);
            query->bindValue(1, loginFailureKey(clientAddress));
            query->bindValue(2, loginFailureKey(username));
            if (query->exec())
                return true;
            failQuery(*query, what);
        }
        if (!reconnectedAfterStaleConnection())
            return false;
    }
}

std::optional<LoginFailureCounts> Store::countLoginFailures(const QString &clientAddress, const QString &username,
                                                            qint64 sinceMs, int limit)
{
    // Each count a range of its own index, stopped at the limit.
    QSqlQuery *row = selectRow(
        QStringLiteral("SELECT (SELECT count(*) FROM (SELECT 1 FROM login_failures"
                       " WHERE client_address = ? AND failed_at > ? LIMIT ?) AS by_address),"
                       " (SELECT count(*) FROM (SELECT 1 FROM login_failures"
                       " WHERE username = ? AND failed_at > ? LIMIT ?) AS by_username)"),
        {loginFailureKey(clientAddress), sinceMs, limit, loginFailureKey(username), sinceMs, limit},
        QStringLiteral("counting failed logins"), QStringLiteral("no counts"));
    const FinishedOnExit finished(row);
    if (!row)
        return std::nullopt;
    return LoginFailureCounts{row->value(0).toInt(), row->value(1).toInt()};
}

std::optional<qint64> Store::purgeLoginFailures(qint64 untilMs)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM login_failures WHERE failed_at <= ?"));
    query.addBindValue(untilMs);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("purging old failed logins"));
        return std::nullopt;
    }
    return query.numRowsAffected();
}
