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

// Keywords are stored as one text, atoms separated by spaces.
inline QString keywordsText(const QStringList &keywords)
{
    return keywords.isEmpty() ? QStringLiteral("") : keywords.join(QLatin1Char(' '));
}

inline QStringList keywordsFrom(const QVariant &value)
{
    return value.toString().split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

// The system flags as the entry columns give them, one number.
inline EntryFlags flagsFrom(int number)
{
    EntryFlags flags;
    flags.seen = number & 1;
    flags.answered = number & 2;
    flags.flagged = number & 4;
    flags.deleted = number & 8;
    flags.draft = number & 16;
    return flags;
}

inline EntryFlags flagsOf(const MailboxEntry &entry)
{
    EntryFlags flags;
    flags.seen = entry.seen;
    flags.answered = entry.answered;
    flags.flagged = entry.flagged;
    flags.deleted = entry.deleted;
    flags.draft = entry.draft;
    return flags;
}

// An entry without its summary, from StoreSchema::EntryColumns at `first`
// (ListingColumns: without uid and modseq).
inline MailboxEntry entryFromQuery(const QSqlQuery &query, qint64 ownerId, int first = 0, bool withImapNumbers = true)
{
    MailboxEntry entry;
    entry.id = query.value(first).toLongLong();
    entry.ownerId = ownerId;
    entry.messageId = query.value(first + 1).toLongLong();
    entry.receivedAt = fromMs(query.value(first + 2));
    entry.size = query.value(first + 3).toLongLong();
    entry.folderId = query.value(first + 4).toLongLong();
    const EntryFlags flags = flagsFrom(query.value(first + 5).toInt());
    entry.seen = flags.seen;
    entry.answered = flags.answered;
    entry.flagged = flags.flagged;
    entry.deleted = flags.deleted;
    entry.draft = flags.draft;
    const QVariant keywords = query.value(first + 6);
    if (!keywords.isNull())
        entry.keywords = keywordsFrom(keywords);
    if (withImapNumbers) {
        entry.uid = query.value(first + 7).toLongLong();
        entry.modseq = query.value(first + 8).toLongLong();
    }
    return entry;
}

// From StoreSchema::FolderEntryStateColumns.
inline FolderEntryState folderEntryStateFromQuery(const QSqlQuery &query)
{
    FolderEntryState state;
    state.uid = query.value(0).toLongLong();
    state.entryId = query.value(1).toLongLong();
    state.modseq = query.value(2).toLongLong();
    state.flags = flagsFrom(query.value(3).toInt());
    const QVariant keywords = query.value(4);
    if (!keywords.isNull())
        state.keywords = keywordsFrom(keywords);
    return state;
}

inline FolderEntryState folderEntryStateOf(const MailboxEntry &entry)
{
    return FolderEntryState{entry.uid, entry.id, entry.modseq, flagsOf(entry), entry.keywords};
}

// The columns of folders that make a MailFolder, in that order.
inline constexpr char FolderColumns[] =
    "id, owner_id, name, role, uid_validity, uid_next, modseq, highest_modseq, total, unseen, selectable";
inline MailFolder folderFromQuery(const QSqlQuery &query)
{
    MailFolder folder;
    folder.id = query.value(0).toLongLong();
    folder.ownerId = query.value(1).toLongLong();
    folder.name = query.value(2).toString();
    if (!query.value(3).isNull())
        folder.role = roleFromName(query.value(3).toString());
    folder.uidValidity = query.value(4).toLongLong();
    folder.uidNext = query.value(5).toLongLong();
    folder.modseq = query.value(6).toLongLong();
    folder.highestModseq = query.value(7).toLongLong();
    folder.total = query.value(8).toLongLong();
    folder.unseen = query.value(9).toLongLong();
    folder.selectable = query.value(10).toInt() != 0;
    return folder;
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
