// Store: what an owner does with the entries of their folders: flags and
// keywords, moves, copies, deletions; and the modseqs, uids and remembered
// removals every such change takes (docs/STORAGE.md, "Folders, flags and
// changes").

#include "store.h"

#include "sqltransaction.h"
#include "store_p.h"
#include "storesql_p.h"

#include <QDateTime>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using StoreSql::entryFromQuery;
using StoreSql::FinishedOnExit;
using StoreSql::keywordsText;

namespace {

// IMAP's atom-specials (RFC 3501 §9) and, for a flag keyword, ']' (a
// flag-keyword is an atom, and resp-specials are not in atom-char).
bool isAtomChar(char16_t c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return !QStringView(u"(){%*\"\\]").contains(QChar(c));
}

// Keywords compare without case (RFC 3501 §2.3.2): the first spelling stays.
QStringList distinctKeywords(const QStringList &keywords)
{
    QStringList distinct;
    for (const QString &keyword : keywords) {
        if (!distinct.contains(keyword, Qt::CaseInsensitive))
            distinct.append(keyword);
    }
    return distinct;
}

} // namespace

std::optional<QString> Store::keywordFault(const QString &keyword)
{
    if (keyword.isEmpty())
        return QStringLiteral("a keyword is empty");
    if (keyword.size() > MaxKeywordLength)
        return QStringLiteral("a keyword is longer than %1 characters").arg(MaxKeywordLength);
    for (const QChar c : keyword) {
        if (!isAtomChar(c.unicode()))
            return QStringLiteral("keyword \"%1\" holds a character IMAP does not allow in a keyword").arg(keyword);
    }
    return std::nullopt;
}

bool Store::inWriteTransaction(const QString &what, const std::function<bool()> &body)
{
    for (;;) {
        {
            SqlWriteTransaction transaction(database());
            if (transaction.isActive()) {
                if (!body())
                    return false;
                if (!transaction.commit())
                    return fail(classify(transaction.lastError()),
                                QStringLiteral("committing %1: %2").arg(what, transaction.lastError().text()));
                return true;
            }
            fail(classify(transaction.lastError()),
                 QStringLiteral("cannot start %1: %2").arg(what, transaction.lastError().text()));
        }
        if (!reconnectedAfterStaleConnection())
            return false;
    }
}

bool Store::lockAccount(qint64 ownerId)
{
    if (m_engine != Engine::Postgresql)
        return true;
    QSqlQuery *statement = cachedStatement(QStringLiteral("SELECT id FROM accounts WHERE id = ? FOR UPDATE"),
                                           QStringLiteral("locking account %1").arg(ownerId));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, ownerId);
    if (!statement->exec())
        return failQuery(*statement, QStringLiteral("locking account %1").arg(ownerId));
    if (!statement->next())
        return fail(Error::NotFound, QStringLiteral("no account %1").arg(ownerId));
    return true;
}

std::optional<qint64> Store::takeModseqs(qint64 ownerId, qint64 count)
{
    QSqlQuery *statement =
        cachedStatement(QStringLiteral("UPDATE accounts SET modseq = modseq + ? WHERE id = ? RETURNING modseq"),
                        QStringLiteral("taking a modseq"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, count);
    statement->bindValue(1, ownerId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("taking a modseq of account %1").arg(ownerId));
        return std::nullopt;
    }
    if (!statement->next()) {
        fail(Error::NotFound, QStringLiteral("no account %1").arg(ownerId));
        return std::nullopt;
    }
    return statement->value(0).toLongLong();
}

std::optional<qint64> Store::takeUids(qint64 ownerId, qint64 folderId, qint64 count, qint64 modseq)
{
    {
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("UPDATE folders SET uid_next = uid_next + ?, highest_modseq = ?"
                           " WHERE id = ? AND owner_id = ? AND selectable = 1 RETURNING uid_next"),
            QStringLiteral("taking a uid"));
        if (!statement)
            return std::nullopt;
        const FinishedOnExit finished(statement);
        statement->bindValue(0, count);
        statement->bindValue(1, modseq);
        statement->bindValue(2, folderId);
        statement->bindValue(3, ownerId);
        if (!statement->exec()) {
            failQuery(*statement, QStringLiteral("taking a uid of folder %1").arg(folderId));
            return std::nullopt;
        }
        if (statement->next())
            return statement->value(0).toLongLong() - count;
    }
    // No such folder of the owner's (NotFound, recorded), or one kept only
    // for its sub-folders.
    if (const std::optional<MailFolder> kept = folder(ownerId, folderId))
        fail(Error::Invalid, QStringLiteral("folder \"%1\" is not selectable: it holds no entries").arg(kept->name));
    return std::nullopt;
}

std::optional<QStringList> Store::checkedKeywords(const QStringList &keywords)
{
    const QStringList distinct = distinctKeywords(keywords);
    for (const QString &keyword : distinct) {
        if (const auto fault = keywordFault(keyword)) {
            fail(Error::Invalid, *fault);
            return std::nullopt;
        }
    }
    if (distinct.size() > MaxKeywords) {
        fail(Error::Invalid, QStringLiteral("an entry holds at most %1 keywords").arg(MaxKeywords));
        return std::nullopt;
    }
    return distinct;
}

bool Store::runInBatches(const QString &sql, const QList<QVariantList> &rows, const QVariantList &filler,
                         const QVariantList &fixed, const QString &what,
                         const std::function<void(const QSqlQuery &)> &read)
{
    if (rows.isEmpty())
        return true;
    QSqlQuery *statement = cachedStatement(sql, what);
    if (!statement)
        return false;
    for (qsizetype first = 0; first < rows.size(); first += StoreSchema::BatchRows) {
        const FinishedOnExit finished(statement);
        int place = 0;
        for (qsizetype i = first; i < first + StoreSchema::BatchRows; ++i) {
            for (const QVariant &value : i < rows.size() ? rows.at(i) : filler)
                statement->bindValue(place++, value);
        }
        for (const QVariant &value : fixed)
            statement->bindValue(place++, value);
        if (!statement->exec())
            return failQuery(*statement, what);
        while (read && statement->next())
            read(*statement);
    }
    return true;
}

std::optional<QList<MailboxEntry>> Store::entriesInFolder(qint64 ownerId, qint64 folderId,
                                                          const QList<qint64> &entryIds)
{
    // By their ids (+: never by the folder's or the owner's index, which
    // would read the whole folder to find a few).
    static const QString sql =
        QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                       " WHERE e.id IN (%2) AND +e.folder_id = ? AND +e.owner_id = ?")
            .arg(QLatin1StringView(StoreSchema::EntryColumns), StoreSchema::batchPlacesSql());
    QList<QVariantList> ids;
    QSet<qint64> distinct;
    for (const qint64 entryId : entryIds) {
        if (!distinct.contains(entryId)) {
            distinct.insert(entryId);
            ids.append(QVariantList{entryId});
        }
    }
    QList<MailboxEntry> entries;
    const bool read = runInBatches(sql, ids, {qint64(0)}, {folderId, ownerId},
                                   QStringLiteral("reading entries of folder %1").arg(folderId),
                                   [&](const QSqlQuery &query) { entries.append(entryFromQuery(query, ownerId)); });
    if (!read)
        return std::nullopt;
    std::sort(entries.begin(), entries.end(), [](const MailboxEntry &a, const MailboxEntry &b) { return a.uid < b.uid; });
    return entries;
}

bool Store::setHighestModseq(qint64 folderId, qint64 modseq)
{
    QSqlQuery *statement = cachedStatement(QStringLiteral("UPDATE folders SET highest_modseq = ? WHERE id = ?"),
                                           QStringLiteral("noting a folder's change"));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, modseq);
    statement->bindValue(1, folderId);
    if (!statement->exec())
        return failQuery(*statement, QStringLiteral("noting a change of folder %1").arg(folderId));
    return true;
}

bool Store::recordRemoval(qint64 ownerId, qint64 modseq, const QString &kind, qint64 objectId, qint64 folderId,
                          qint64 uid)
{
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("INSERT INTO removals (owner_id, modseq, kind, object_id, folder_id, uid, removed_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)"),
        QStringLiteral("remembering a removal"));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, ownerId);
    statement->bindValue(1, modseq);
    statement->bindValue(2, kind);
    statement->bindValue(3, objectId);
    statement->bindValue(4, folderId);
    statement->bindValue(5, uid);
    statement->bindValue(6, QDateTime::currentMSecsSinceEpoch());
    if (!statement->exec())
        return failQuery(*statement, QStringLiteral("remembering the removal of %1 %2").arg(kind).arg(objectId));
    return true;
}

std::optional<MailboxEntry> Store::readEntry(qint64 ownerId, qint64 entryId)
{
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                       " WHERE e.id = ? AND e.owner_id = ?")
            .arg(QLatin1StringView(StoreSchema::EntryColumns)),
        QStringLiteral("reading an entry"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, entryId);
    statement->bindValue(1, ownerId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("reading entry %1").arg(entryId));
        return std::nullopt;
    }
    if (!statement->next()) {
        fail(Error::NotFound, QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
        return std::nullopt;
    }
    return entryFromQuery(*statement, ownerId);
}

std::optional<MailboxEntry> Store::updateEntry(qint64 ownerId, qint64 entryId, const EntryUpdate &update)
{
    clearError();
    std::optional<QStringList> keywords;
    if (update.keywords) {
        keywords = checkedKeywords(*update.keywords);
        if (!keywords)
            return std::nullopt;
    }
    const bool committed = inWriteTransaction(QStringLiteral("changing entry %1").arg(entryId), [&] {
        if (!lockAccount(ownerId))
            return false;
        const std::optional<MailboxEntry> current = readEntry(ownerId, entryId);
        if (!current)
            return false;
        MailboxEntry changed = *current;
        changed.seen = update.seen.value_or(current->seen);
        changed.answered = update.answered.value_or(current->answered);
        changed.flagged = update.flagged.value_or(current->flagged);
        changed.deleted = update.deleted.value_or(current->deleted);
        changed.draft = update.draft.value_or(current->draft);
        changed.keywords = keywords.value_or(current->keywords);
        const bool moved = update.folderId && *update.folderId != current->folderId;
        const bool flagsChanged = changed.seen != current->seen || changed.answered != current->answered
            || changed.flagged != current->flagged || changed.deleted != current->deleted
            || changed.draft != current->draft || changed.keywords != current->keywords;
        if (!moved && !flagsChanged) {
            // Still a check that the target is the owner's folder.
            return !update.folderId || folder(ownerId, *update.folderId).has_value();
        }
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        if (!modseq)
            return false;
        if (moved) {
            const std::optional<qint64> uid = takeUids(ownerId, *update.folderId, 1, *modseq);
            if (!uid)
                return false;
            changed.folderId = *update.folderId;
            changed.uid = *uid;
            if (!recordRemoval(ownerId, *modseq, QStringLiteral("moved"), entryId, current->folderId, current->uid))
                return false;
        }
        if (!setHighestModseq(current->folderId, *modseq))
            return false;
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("UPDATE mailbox_entries SET seen = ?, answered = ?, flagged = ?, deleted = ?, draft = ?,"
                           " keywords = ?, folder_id = ?, uid = ?, modseq = ? WHERE id = ?"),
            QStringLiteral("changing an entry"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        const QVariantList values{int(changed.seen),   int(changed.answered), int(changed.flagged),
                                  int(changed.deleted), int(changed.draft),   keywordsText(changed.keywords),
                                  changed.folderId,     changed.uid,          *modseq,
                                  entryId};
        for (qsizetype i = 0; i < values.size(); ++i)
            statement->bindValue(int(i), values.at(i));
        if (!statement->exec())
            return failQuery(*statement, QStringLiteral("changing entry %1").arg(entryId));
        return true;
    });
    if (!committed)
        return std::nullopt;
    return entry(ownerId, entryId);
}

std::optional<MailboxEntry> Store::copyEntry(qint64 ownerId, qint64 entryId, qint64 folderId)
{
    clearError();
    qint64 copyId = 0;
    const bool committed = inWriteTransaction(QStringLiteral("copying entry %1").arg(entryId), [&] {
        if (!lockAccount(ownerId))
            return false;
        const std::optional<MailboxEntry> original = readEntry(ownerId, entryId);
        if (!original)
            return false;
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        if (!modseq)
            return false;
        const std::optional<qint64> uid = takeUids(ownerId, folderId, 1, *modseq);
        if (!uid)
            return false;
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq,"
                           " created_modseq, answered, flagged, deleted, draft, keywords)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
            QStringLiteral("copying an entry"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        const QVariantList values{ownerId,  original->messageId,     int(original->seen),     folderId,
                                  *uid,     *modseq,                 *modseq,                 int(original->answered),
                                  int(original->flagged), int(original->deleted), int(original->draft),
                                  keywordsText(original->keywords)};
        for (qsizetype i = 0; i < values.size(); ++i)
            statement->bindValue(int(i), values.at(i));
        if (!statement->exec() || !statement->next())
            return failQuery(*statement, QStringLiteral("copying entry %1").arg(entryId));
        copyId = statement->value(0).toLongLong();
        return true;
    });
    if (!committed)
        return std::nullopt;
    return entry(ownerId, copyId);
}

bool Store::recordRemovals(qint64 ownerId, const QString &kind, const QList<MailboxEntry> &entries, qint64 firstModseq)
{
    static const QString sql =
        QStringLiteral("WITH r (owner_id, modseq, kind, object_id, folder_id, uid, removed_at) AS (VALUES %1)"
                       " INSERT INTO removals (owner_id, modseq, kind, object_id, folder_id, uid, removed_at)"
                       " SELECT owner_id, modseq, kind, object_id, folder_id, uid, removed_at FROM r"
                       " WHERE object_id <> 0")
            .arg(StoreSchema::batchRowsSql({QStringLiteral("BIGINT"), QStringLiteral("BIGINT"), QStringLiteral("TEXT"),
                                            QStringLiteral("BIGINT"), QStringLiteral("BIGINT"), QStringLiteral("BIGINT"),
                                            QStringLiteral("BIGINT")}));
    const qint64 removedAt = QDateTime::currentMSecsSinceEpoch();
    QList<QVariantList> rows;
    rows.reserve(entries.size());
    qint64 modseq = firstModseq;
    QHash<qint64, qint64> highest; // by folder: its last modseq here
    for (const MailboxEntry &entry : entries) {
        rows.append({ownerId, modseq, kind, entry.id, entry.folderId, entry.uid, removedAt});
        highest.insert(entry.folderId, modseq++);
    }
    if (!runInBatches(sql, rows, {qint64(0), qint64(0), kind, qint64(0), qint64(0), qint64(0), qint64(0)}, {},
                      QStringLiteral("remembering removals")))
        return false;
    for (auto it = highest.cbegin(); it != highest.cend(); ++it) {
        if (!setHighestModseq(it.key(), it.value()))
            return false;
    }
    return true;
}

bool Store::removeEntries(qint64 ownerId, const QList<MailboxEntry> &entries)
{
    if (entries.isEmpty())
        return true;
    const std::optional<qint64> last = takeModseqs(ownerId, entries.size());
    if (!last || !recordRemovals(ownerId, QStringLiteral("entry"), entries, *last - entries.size() + 1))
        return false;
    static const QString sql =
        QStringLiteral("DELETE FROM mailbox_entries WHERE id IN (%1)").arg(StoreSchema::batchPlacesSql());
    QList<QVariantList> ids;
    ids.reserve(entries.size());
    for (const MailboxEntry &entry : entries)
        ids.append(QVariantList{entry.id});
    return runInBatches(sql, ids, {qint64(0)}, {}, QStringLiteral("deleting entries"));
}

bool Store::deleteEntry(qint64 ownerId, qint64 entryId)
{
    clearError();
    return inWriteTransaction(QStringLiteral("deleting entry %1").arg(entryId), [&] {
        if (!lockAccount(ownerId))
            return false;
        const std::optional<MailboxEntry> entry = readEntry(ownerId, entryId);
        return entry && removeEntries(ownerId, {*entry});
    });
}

bool Store::deleteEntries(qint64 ownerId, const QList<qint64> &entryIds, std::optional<FolderRole> onlyIn)
{
    clearError();
    return inWriteTransaction(QStringLiteral("deleting entries"), [&] {
        if (!lockAccount(ownerId))
            return false;
        std::optional<qint64> onlyInFolder;
        if (onlyIn) {
            const std::optional<MailFolder> folder = roleFolder(ownerId, *onlyIn);
            if (!folder)
                return false;
            onlyInFolder = folder->id;
        }
        QList<MailboxEntry> entries;
        QList<qint64> distinct;
        for (const qint64 entryId : entryIds) {
            if (!distinct.contains(entryId))
                distinct.append(entryId);
        }
        for (const qint64 entryId : std::as_const(distinct)) {
            std::optional<MailboxEntry> entry = readEntry(ownerId, entryId);
            if (!entry && m_error != Error::NotFound)
                return false;
            if (entry && (!onlyInFolder || entry->folderId == *onlyInFolder))
                entries.append(std::move(*entry));
        }
        m_error = Error::None;
        m_errorText.clear();
        return removeEntries(ownerId, entries);
    });
}
