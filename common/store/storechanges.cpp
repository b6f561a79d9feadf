// Store: what changed in an account after a modseq (RFC 7162's CONDSTORE
// semantics; docs/STORAGE.md, "Folders, flags and changes"), and the
// forgetting of old removals.

#include "store.h"

#include "sqltransaction.h"
#include "store_p.h"
#include "storecaches_p.h"
#include "storesql_p.h"

#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using StoreSql::entryFromQuery;
using StoreSql::FinishedOnExit;
using StoreSql::folderFromQuery;

namespace {

// One change, in the order of modseqs: every change has its own, so a page
// ends between two modseqs, never inside one.
struct ChangeItem
{
    enum class Kind { Entry, Removal, FolderRemoval, Folder };
    qint64 modseq = 0;
    Kind kind = Kind::Entry;
    qsizetype index = 0; // into the list of its kind
};

struct Removal
{
    qint64 objectId = 0;
    qint64 folderId = 0;
};

} // namespace

std::optional<qint64> Store::accountModseq(qint64 ownerId)
{
    QSqlQuery *row = selectRow(QStringLiteral("SELECT modseq FROM accounts WHERE id = ?"), {ownerId},
                               QStringLiteral("reading the modseq of account %1").arg(ownerId),
                               QStringLiteral("no account %1").arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<qint64>(row->value(0).toLongLong()) : std::nullopt;
}

std::optional<QHash<qint64, qint64>> Store::accountModseqs(const QList<qint64> &ownerIds)
{
    clearError();
    // A fixed number of places, so the statement is prepared once; unused
    // places hold 0, which no account has.
    constexpr int Batch = 100;
    static const QString sql = [] {
        QStringList places(Batch, QStringLiteral("?"));
        return QStringLiteral("SELECT id, modseq FROM accounts WHERE id IN (%1)").arg(places.join(QStringLiteral(", ")));
    }();
    QHash<qint64, qint64> modseqs;
    for (qsizetype first = 0; first < ownerIds.size(); first += Batch) {
        QSqlQuery *statement = cachedStatement(sql, QStringLiteral("reading the modseqs of accounts"));
        if (!statement)
            return std::nullopt;
        const FinishedOnExit finished(statement);
        for (int i = 0; i < Batch; ++i)
            statement->bindValue(i, first + i < ownerIds.size() ? ownerIds.at(first + i) : qint64(0));
        if (!statement->exec()) {
            failQuery(*statement, QStringLiteral("reading the modseqs of %1 accounts").arg(ownerIds.size()));
            return std::nullopt;
        }
        while (statement->next())
            modseqs.insert(statement->value(0).toLongLong(), statement->value(1).toLongLong());
    }
    return modseqs;
}

std::optional<ChangeSet> Store::changes(qint64 ownerId, qint64 since, int limit)
{
    qint64 highest = 0;
    qint64 forgotten = 0;
    {
        QSqlQuery *row = selectRow(QStringLiteral("SELECT modseq, removals_forgotten FROM accounts WHERE id = ?"),
                                   {ownerId}, QStringLiteral("reading the modseq of account %1").arg(ownerId),
                                   QStringLiteral("no account %1").arg(ownerId));
        const FinishedOnExit finished(row);
        if (!row)
            return std::nullopt;
        highest = row->value(0).toLongLong();
        forgotten = row->value(1).toLongLong();
    }
    if (limit < 1 || since < 0 || since > highest) {
        fail(Error::Invalid, QStringLiteral("no changes after modseq %1: the account is at %2").arg(since).arg(highest));
        return std::nullopt;
    }
    ChangeSet set;
    set.modseq = highest;
    if (since < forgotten) {
        // Removals after `since` may be forgotten: the client starts over
        // from the folders as they are.
        set.reset = true;
        const std::optional<QList<MailFolder>> all = folders(ownerId);
        if (!all)
            return std::nullopt;
        set.folders = *all;
        return set;
    }

    // Everything is read up to `highest` only: what changes while this
    // runs has a larger modseq and comes with the next request.
    const QVariantList range{ownerId, since, highest, limit + 1};
    const auto run = [&](const QString &sql, const QString &what) -> QSqlQuery * {
        QSqlQuery *statement = cachedStatement(sql, what);
        if (!statement)
            return nullptr;
        for (qsizetype i = 0; i < range.size(); ++i)
            statement->bindValue(int(i), range.at(i));
        if (!statement->exec()) {
            failQuery(*statement, what);
            statement->finish();
            return nullptr;
        }
        return statement;
    };
    QList<ChangeItem> items;
    QList<MailboxEntry> entries;
    QList<qint64> createdModseqs;
    QList<Removal> removals, folderRemovals;
    QList<MailFolder> changedFolders;
    {
        QSqlQuery *query = run(QStringLiteral("SELECT %1, e.created_modseq FROM mailbox_entries e"
                                              " JOIN messages m ON m.id = e.message_id"
                                              " WHERE e.owner_id = ? AND e.modseq > ? AND e.modseq <= ?"
                                              " ORDER BY e.modseq LIMIT ?")
                                   .arg(QLatin1StringView(StoreSchema::EntryColumns)),
                               QStringLiteral("reading changed entries"));
        const FinishedOnExit finished(query);
        if (!query)
            return std::nullopt;
        while (query->next()) {
            entries.append(entryFromQuery(*query, ownerId));
            items.append({entries.last().modseq, ChangeItem::Kind::Entry, entries.size() - 1});
            createdModseqs.append(query->value(StoreSchema::EntryColumnCount).toLongLong());
        }
    }
    {
        // A move is an update of the entry, not a removal ('moved' rows
        // serve IMAP, where the entry leaves one folder's uids).
        QSqlQuery *query = run(QStringLiteral("SELECT modseq, kind, object_id, folder_id FROM removals"
                                              " WHERE owner_id = ? AND modseq > ? AND modseq <= ? AND kind <> 'moved'"
                                              " ORDER BY modseq LIMIT ?"),
                               QStringLiteral("reading removals"));
        const FinishedOnExit finished(query);
        if (!query)
            return std::nullopt;
        while (query->next()) {
            const Removal removal{query->value(2).toLongLong(), query->value(3).toLongLong()};
            if (query->value(1).toString() == u"folder") {
                items.append({query->value(0).toLongLong(), ChangeItem::Kind::FolderRemoval, folderRemovals.size()});
                folderRemovals.append(removal);
            } else {
                items.append({query->value(0).toLongLong(), ChangeItem::Kind::Removal, removals.size()});
                removals.append(removal);
            }
        }
    }
    {
        QSqlQuery *query = run(QStringLiteral("SELECT %1 FROM folders WHERE owner_id = ? AND modseq > ? AND modseq <= ?"
                                              " ORDER BY modseq LIMIT ?")
                                   .arg(QLatin1StringView(StoreSql::FolderColumns)),
                               QStringLiteral("reading changed folders"));
        const FinishedOnExit finished(query);
        if (!query)
            return std::nullopt;
        while (query->next()) {
            changedFolders.append(folderFromQuery(*query));
            items.append({changedFolders.last().modseq, ChangeItem::Kind::Folder, changedFolders.size() - 1});
        }
    }
    std::sort(items.begin(), items.end(), [](const ChangeItem &a, const ChangeItem &b) { return a.modseq < b.modseq; });
    if (items.size() > limit) {
        items.resize(limit);
        set.modseq = items.last().modseq;
        set.more = true;
    }

    QSet<qint64> touchedFolders;
    QList<qint64> unsummarized;
    for (const ChangeItem &item : std::as_const(items)) {
        switch (item.kind) {
        case ChangeItem::Kind::Entry: {
            const MailboxEntry &entry = entries.at(item.index);
            touchedFolders.insert(entry.folderId);
            if (createdModseqs.at(item.index) > since) {
                set.created.append(entry);
                if (const MessageSummary *kept =
                        summaries().find({entry.messageId, StoreSql::toMs(entry.receivedAt), entry.size}))
                    set.created.last().summary = *kept;
                else
                    unsummarized.append(entry.messageId);
            } else {
                set.updated.append(entry);
            }
            break;
        }
        case ChangeItem::Kind::Removal:
            set.removed.append(removals.at(item.index).objectId);
            touchedFolders.insert(removals.at(item.index).folderId);
            break;
        case ChangeItem::Kind::FolderRemoval:
            set.foldersRemoved.append(folderRemovals.at(item.index).objectId);
            break;
        case ChangeItem::Kind::Folder:
            touchedFolders.insert(changedFolders.at(item.index).id);
            break;
        }
    }
    if (!unsummarized.isEmpty()) {
        QHash<qint64, ReadSummary> read;
        if (!readSummaries(unsummarized, &read))
            return std::nullopt;
        for (MailboxEntry &entry : set.created) {
            const auto justRead = read.constFind(entry.messageId);
            if (justRead != read.cend())
                entry.summary = justRead->summary;
        }
    }
    // Removals forgotten while this read (another process, between its
    // statements) may be missing from it: then it is a reset after all.
    const std::optional<qint64> forgottenSince = removalsForgotten(ownerId);
    if (!forgottenSince)
        return std::nullopt;
    if (since < *forgottenSince) {
        ChangeSet reset;
        reset.modseq = highest;
        reset.reset = true;
        const std::optional<QList<MailFolder>> all = folders(ownerId);
        if (!all)
            return std::nullopt;
        reset.folders = *all;
        return reset;
    }
    if (!touchedFolders.isEmpty()) {
        // As they are now (a folder removed meanwhile is reported next time).
        const std::optional<QList<MailFolder>> all = folders(ownerId);
        if (!all)
            return std::nullopt;
        for (const MailFolder &folder : *all) {
            if (touchedFolders.contains(folder.id))
                set.folders.append(folder);
        }
    }
    return set;
}

std::optional<qint64> Store::removalsForgotten(qint64 ownerId)
{
    QSqlQuery *row = selectRow(QStringLiteral("SELECT removals_forgotten FROM accounts WHERE id = ?"), {ownerId},
                               QStringLiteral("reading the modseq of account %1").arg(ownerId),
                               QStringLiteral("no account %1").arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<qint64>(row->value(0).toLongLong()) : std::nullopt;
}

std::optional<qint64> Store::forgetRemovals(qint64 untilMs)
{
    clearError();
    qint64 forgotten = 0;
    const bool committed = inWriteTransaction(QStringLiteral("forgetting removals"), [&] {
        QSqlQuery query(database());
        // On PostgreSQL the accounts first, in the order of ids, as a
        // delivery locks them: in the UPDATE's own order two could deadlock.
        if (m_engine == Engine::Postgresql) {
            query.prepare(QStringLiteral("SELECT id FROM accounts WHERE id IN"
                                         " (SELECT owner_id FROM removals WHERE removed_at <= ?) ORDER BY id FOR UPDATE"));
            query.addBindValue(untilMs);
            if (!query.exec())
                return failQuery(query, QStringLiteral("forgetting removals"));
        }
        query.prepare(QStringLiteral("UPDATE accounts SET removals_forgotten ="
                                     " (SELECT max(r.modseq) FROM removals r WHERE r.owner_id = accounts.id AND r.removed_at <= ?)"
                                     " WHERE id IN (SELECT owner_id FROM removals WHERE removed_at <= ?)"));
        query.addBindValue(untilMs);
        query.addBindValue(untilMs);
        if (!query.exec())
            return failQuery(query, QStringLiteral("forgetting removals"));
        query.prepare(QStringLiteral("DELETE FROM removals WHERE removed_at <= ?"));
        query.addBindValue(untilMs);
        if (!query.exec())
            return failQuery(query, QStringLiteral("forgetting removals"));
        forgotten = query.numRowsAffected();
        return true;
    });
    return committed ? std::optional<qint64>(forgotten) : std::nullopt;
}
