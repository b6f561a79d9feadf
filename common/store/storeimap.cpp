// Store: what an IMAP server asks of a folder besides what the API does:
// its entries in uid order and what changed in it since a modseq
// (CONDSTORE, QRESYNC), flags, copies, moves and expunges of many entries
// at once, sizes and the details FETCH reads (docs/STORAGE.md, "IMAP").

#include "store.h"

#include "store_p.h"
#include "storesql_p.h"

#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using StoreSql::FinishedOnExit;
using StoreSql::flagsOf;
using StoreSql::folderEntryStateFromQuery;
using StoreSql::folderEntryStateOf;

namespace {

bool byUid(const FolderEntryState &a, const FolderEntryState &b)
{
    return a.uid < b.uid;
}

EntryFlags changedFlags(const EntryFlags &current, const FlagsChange &change)
{
    const EntryFlags &named = change.flags;
    switch (change.mode) {
    case FlagsChange::Mode::Replace:
        return named;
    case FlagsChange::Mode::Add:
        return EntryFlags{current.seen || named.seen, current.answered || named.answered,
                          current.flagged || named.flagged, current.deleted || named.deleted,
                          current.draft || named.draft};
    case FlagsChange::Mode::Remove:
        break;
    }
    return EntryFlags{current.seen && !named.seen, current.answered && !named.answered,
                      current.flagged && !named.flagged, current.deleted && !named.deleted,
                      current.draft && !named.draft};
}

bool containsKeyword(const QStringList &keywords, const QString &keyword)
{
    return keywords.contains(keyword, Qt::CaseInsensitive);
}

// `keywords` are distinct and checked already.
QStringList changedKeywords(const QStringList &current, const QStringList &keywords, FlagsChange::Mode mode)
{
    switch (mode) {
    case FlagsChange::Mode::Replace:
        return keywords;
    case FlagsChange::Mode::Add: {
        QStringList added = current;
        for (const QString &keyword : keywords) {
            if (!containsKeyword(added, keyword))
                added.append(keyword);
        }
        return added;
    }
    case FlagsChange::Mode::Remove:
        break;
    }
    QStringList kept;
    for (const QString &keyword : current) {
        if (!containsKeyword(keywords, keyword))
            kept.append(keyword);
    }
    return kept;
}

// Keywords compare without case (RFC 3501 §2.3.2), and their order means nothing.
bool sameKeywords(const QStringList &a, const QStringList &b)
{
    if (a.size() != b.size())
        return false;
    return std::all_of(a.cbegin(), a.cend(), [&b](const QString &keyword) { return containsKeyword(b, keyword); });
}

const QString Bigint = QStringLiteral("BIGINT");
const QString Integer = QStringLiteral("INTEGER");
const QString Text = QStringLiteral("TEXT");

} // namespace

std::optional<QList<FolderEntryState>> Store::folderEntries(qint64 ownerId, qint64 folderId)
{
    const std::optional<MailFolder> current = folder(ownerId, folderId);
    if (!current)
        return std::nullopt;
    static const QString sql = StoreSchema::folderEntriesSql();
    QSqlQuery *statement = cachedStatement(sql, QStringLiteral("reading a folder's entries"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, folderId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("reading the entries of folder %1").arg(folderId));
        return std::nullopt;
    }
    QList<FolderEntryState> entries;
    entries.reserve(current->total);
    while (statement->next())
        entries.append(folderEntryStateFromQuery(*statement));
    return entries;
}

std::optional<FolderChanges> Store::folderChanges(qint64 ownerId, qint64 folderId, qint64 since)
{
    clearError();
    if (since < 0) {
        fail(Error::Invalid, QStringLiteral("no changes after modseq %1").arg(since));
        return std::nullopt;
    }
    const std::optional<MailFolder> current = folder(ownerId, folderId);
    if (!current)
        return std::nullopt;
    FolderChanges changes;
    changes.folder = *current;
    // Only up to the folder's highest modseq as read: what commits while
    // this runs comes with the next `since`, never twice and never lost.
    const QVariantList range{ownerId, since, current->highestModseq, folderId};
    const auto run = [&](const QString &sql, const QString &what, const std::function<void(const QSqlQuery &)> &read) {
        QSqlQuery *statement = cachedStatement(sql, what);
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        for (qsizetype i = 0; i < range.size(); ++i)
            statement->bindValue(int(i), range.at(i));
        if (!statement->exec())
            return failQuery(*statement, what);
        while (statement->next())
            read(*statement);
        return true;
    };
    if (since < current->highestModseq) {
        static const QString changedSql = StoreSchema::folderChangedEntriesSql();
        static const QString removedSql =
            QStringLiteral("SELECT uid FROM removals WHERE owner_id = ? AND modseq > ? AND modseq <= ?"
                           " AND folder_id = ? AND kind IN ('entry', 'moved')");
        const bool read =
            run(changedSql, QStringLiteral("reading the changed entries of folder %1").arg(folderId),
                [&](const QSqlQuery &query) { changes.changed.append(folderEntryStateFromQuery(query)); })
            && run(removedSql, QStringLiteral("reading the removals of folder %1").arg(folderId),
                   [&](const QSqlQuery &query) { changes.removedUids.append(query.value(0).toLongLong()); });
        if (!read)
            return std::nullopt;
        std::sort(changes.changed.begin(), changes.changed.end(), byUid);
        std::sort(changes.removedUids.begin(), changes.removedUids.end());
    }
    // Read after the removals: removals forgotten before they were read
    // show here (Store::changes says more).
    const std::optional<qint64> forgotten = removalsForgotten(ownerId);
    if (!forgotten)
        return std::nullopt;
    if (since < *forgotten) {
        changes.changed.clear();
        changes.removedUids.clear();
        changes.removalsForgotten = true;
    }
    return changes;
}

std::optional<FlagsResult> Store::storeFlags(qint64 ownerId, qint64 folderId, const QList<qint64> &entryIds,
                                             const FlagsChange &change)
{
    clearError();
    const std::optional<QStringList> keywords = checkedKeywords(change.keywords);
    if (!keywords)
        return std::nullopt;
    FlagsResult result;
    const bool committed = inWriteTransaction(QStringLiteral("changing flags in folder %1").arg(folderId), [&] {
        if (!lockAccount(ownerId) || !folder(ownerId, folderId))
            return false;
        const std::optional<QList<MailboxEntry>> entries = entriesInFolder(ownerId, folderId, entryIds);
        if (!entries)
            return false;
        QList<MailboxEntry> changed;
        for (const MailboxEntry &entry : *entries) {
            if (change.unchangedSince && entry.modseq > *change.unchangedSince) {
                result.refusedEntryIds.append(entry.id);
                continue;
            }
            const EntryFlags flags = changedFlags(flagsOf(entry), change);
            const QStringList entryKeywords = changedKeywords(entry.keywords, *keywords, change.mode);
            if (flags == flagsOf(entry) && sameKeywords(entryKeywords, entry.keywords))
                continue;
            if (entryKeywords.size() > MaxKeywords)
                return fail(Error::Invalid, QStringLiteral("an entry holds at most %1 keywords").arg(MaxKeywords));
            MailboxEntry updated = entry;
            updated.seen = flags.seen;
            updated.answered = flags.answered;
            updated.flagged = flags.flagged;
            updated.deleted = flags.deleted;
            updated.draft = flags.draft;
            updated.keywords = entryKeywords;
            changed.append(std::move(updated));
        }
        if (changed.isEmpty())
            return true;
        const std::optional<qint64> last = takeModseqs(ownerId, changed.size());
        if (!last)
            return false;
        static const QString sql =
            QStringLiteral("WITH c (id, seen, answered, flagged, deleted, draft, keywords, modseq) AS (VALUES %1)"
                           " UPDATE mailbox_entries SET seen = c.seen, answered = c.answered, flagged = c.flagged,"
                           " deleted = c.deleted, draft = c.draft, keywords = c.keywords, modseq = c.modseq"
                           " FROM c WHERE mailbox_entries.id = c.id")
                .arg(StoreSchema::batchRowsSql({Bigint, Integer, Integer, Integer, Integer, Integer, Text, Bigint}));
        QList<QVariantList> rows;
        qint64 modseq = *last - changed.size();
        for (MailboxEntry &entry : changed) {
            entry.modseq = ++modseq;
            rows.append({entry.id, int(entry.seen), int(entry.answered), int(entry.flagged), int(entry.deleted),
                         int(entry.draft), StoreSql::keywordsText(entry.keywords), entry.modseq});
            result.changed.append(folderEntryStateOf(entry));
        }
        return runInBatches(sql, rows, {qint64(0), 0, 0, 0, 0, 0, QStringLiteral(""), qint64(0)}, {},
                            QStringLiteral("changing flags in folder %1").arg(folderId))
            && setHighestModseq(folderId, *last);
    });
    if (!committed)
        return std::nullopt;
    return result;
}

std::optional<CopyResult> Store::copyEntries(qint64 ownerId, qint64 sourceFolderId, const QList<qint64> &entryIds,
                                             qint64 targetFolderId)
{
    return copyOrMoveEntries(ownerId, sourceFolderId, entryIds, targetFolderId, false);
}

std::optional<CopyResult> Store::moveEntries(qint64 ownerId, qint64 sourceFolderId, const QList<qint64> &entryIds,
                                             qint64 targetFolderId)
{
    return copyOrMoveEntries(ownerId, sourceFolderId, entryIds, targetFolderId, true);
}

std::optional<CopyResult> Store::copyOrMoveEntries(qint64 ownerId, qint64 sourceFolderId,
                                                   const QList<qint64> &entryIds, qint64 targetFolderId, bool move)
{
    clearError();
    CopyResult result;
    const QString what = move ? QStringLiteral("moving entries to folder %1").arg(targetFolderId)
                              : QStringLiteral("copying entries to folder %1").arg(targetFolderId);
    const bool committed = inWriteTransaction(what, [&] {
        if (!lockAccount(ownerId) || !folder(ownerId, sourceFolderId))
            return false;
        const std::optional<MailFolder> target = folder(ownerId, targetFolderId);
        if (!target)
            return false;
        if (!target->selectable)
            return fail(Error::Invalid, QStringLiteral("folder \"%1\" is not selectable: it holds no entries").arg(target->name));
        result.uidValidity = target->uidValidity;
        const std::optional<QList<MailboxEntry>> entries = entriesInFolder(ownerId, sourceFolderId, entryIds);
        if (!entries)
            return false;
        if (entries->isEmpty())
            return true;
        const qint64 count = entries->size();
        const std::optional<qint64> last = takeModseqs(ownerId, count);
        const std::optional<qint64> firstUid = last ? takeUids(ownerId, targetFolderId, count, *last) : std::nullopt;
        if (!firstUid)
            return false;
        const qint64 firstModseq = *last - count + 1;
        QList<QVariantList> rows;
        for (qsizetype i = 0; i < entries->size(); ++i) {
            const MailboxEntry &entry = entries->at(i);
            result.entries.append({entry.id, entry.uid, entry.id, *firstUid + i});
            if (move)
                rows.append({entry.id, targetFolderId, *firstUid + i, firstModseq + i});
            else
                rows.append({ownerId, entry.messageId, int(entry.seen), targetFolderId, *firstUid + i,
                             firstModseq + i, int(entry.answered), int(entry.flagged), int(entry.deleted),
                             int(entry.draft), StoreSql::keywordsText(entry.keywords)});
        }
        if (move) {
            // IMAP's view of the source: each uid left it (updateEntry's move, many at once).
            static const QString sql =
                QStringLiteral("WITH c (id, folder_id, uid, modseq) AS (VALUES %1)"
                               " UPDATE mailbox_entries SET folder_id = c.folder_id, uid = c.uid, modseq = c.modseq"
                               " FROM c WHERE mailbox_entries.id = c.id")
                    .arg(StoreSchema::batchRowsSql({Bigint, Bigint, Bigint, Bigint}));
            return recordRemovals(ownerId, QStringLiteral("moved"), *entries, firstModseq)
                && runInBatches(sql, rows, {qint64(0), qint64(0), qint64(0), qint64(0)}, {}, what);
        }
        static const QString sql =
            QStringLiteral("WITH c (owner_id, message_id, seen, folder_id, uid, modseq, answered, flagged, deleted,"
                           " draft, keywords) AS (VALUES %1)"
                           " INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq,"
                           " created_modseq, answered, flagged, deleted, draft, keywords)"
                           " SELECT owner_id, message_id, seen, folder_id, uid, modseq, modseq, answered, flagged,"
                           " deleted, draft, keywords FROM c WHERE message_id <> 0 RETURNING id, uid")
                .arg(StoreSchema::batchRowsSql(
                    {Bigint, Bigint, Integer, Bigint, Bigint, Bigint, Integer, Integer, Integer, Integer, Text}));
        const QVariantList filler{qint64(0), qint64(0), 0, qint64(0), qint64(0), qint64(0), 0, 0, 0, 0, QStringLiteral("")};
        QHash<qint64, qint64> copyIds; // by uid
        if (!runInBatches(sql, rows, filler, {}, what, [&](const QSqlQuery &query) {
                copyIds.insert(query.value(1).toLongLong(), query.value(0).toLongLong());
            }))
            return false;
        for (CopiedEntry &copied : result.entries)
            copied.entryId = copyIds.value(copied.uid);
        return true;
    });
    if (!committed)
        return std::nullopt;
    return result;
}

std::optional<QList<qint64>> Store::expungeEntries(qint64 ownerId, qint64 folderId, const QList<qint64> &entryIds)
{
    clearError();
    QList<qint64> uids;
    const bool committed = inWriteTransaction(QStringLiteral("expunging entries of folder %1").arg(folderId), [&] {
        if (!lockAccount(ownerId) || !folder(ownerId, folderId))
            return false;
        const std::optional<QList<MailboxEntry>> entries = entriesInFolder(ownerId, folderId, entryIds);
        if (!entries)
            return false;
        QList<MailboxEntry> deleted;
        for (const MailboxEntry &entry : *entries) {
            if (entry.deleted) {
                deleted.append(entry);
                uids.append(entry.uid);
            }
        }
        return removeEntries(ownerId, deleted);
    });
    if (!committed)
        return std::nullopt;
    return uids;
}

std::optional<qint64> Store::folderSize(qint64 ownerId, qint64 folderId)
{
    if (!folder(ownerId, folderId))
        return std::nullopt;
    QSqlQuery *row = selectRow(QStringLiteral("SELECT CAST(coalesce(sum(m.size), 0) AS BIGINT) FROM mailbox_entries e"
                                              " JOIN messages m ON m.id = e.message_id WHERE e.folder_id = ?"),
                               {folderId}, QStringLiteral("adding up the size of folder %1").arg(folderId),
                               QStringLiteral("no folder %1").arg(folderId));
    const FinishedOnExit finished(row);
    return row ? std::optional<qint64>(row->value(0).toLongLong()) : std::nullopt;
}

std::optional<QList<EntryDetails>> Store::entryDetails(qint64 ownerId, const QList<qint64> &entryIds, bool withRaw)
{
    clearError();
    // By their ids (+: never by the owner's index).
    static const QString sql = QStringLiteral("SELECT e.id, m.received_at, m.size%1 FROM mailbox_entries e"
                                              " JOIN messages m ON m.id = e.message_id"
                                              " WHERE e.id IN (%2) AND +e.owner_id = ?");
    static const QString withRawSql = sql.arg(QStringLiteral(", m.raw"), StoreSchema::batchPlacesSql());
    static const QString withoutRawSql = sql.arg(QString(), StoreSchema::batchPlacesSql());
    QList<QVariantList> ids;
    for (const qint64 entryId : entryIds)
        ids.append(QVariantList{entryId});
    QHash<qint64, EntryDetails> read;
    const bool ran = runInBatches(withRaw ? withRawSql : withoutRawSql, ids, {qint64(0)}, {ownerId},
                                  QStringLiteral("reading the details of %1 entries").arg(entryIds.size()),
                                  [&](const QSqlQuery &query) {
                                      EntryDetails details{query.value(0).toLongLong(), StoreSql::fromMs(query.value(1)),
                                                           query.value(2).toLongLong(), {}};
                                      if (withRaw)
                                          details.raw = query.value(3).toByteArray();
                                      read.insert(details.entryId, std::move(details));
                                  });
    if (!ran)
        return std::nullopt;
    QList<EntryDetails> details;
    details.reserve(read.size());
    for (const qint64 entryId : entryIds) {
        const auto found = read.constFind(entryId);
        if (found != read.cend())
            details.append(*found);
    }
    return details;
}
