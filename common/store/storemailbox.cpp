// Store: an account's folders: the six role folders every account has and
// the user's own, created, renamed with their sub-folders, deleted with
// their contents (docs/STORAGE.md, "Folders, flags and changes").

#include "store.h"

#include "store_p.h"
#include "storesql_p.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using StoreSql::entryFromQuery;
using StoreSql::FinishedOnExit;
using StoreSql::folderFromQuery;

namespace {

const QLatin1Char LevelSeparator('/');

bool isUnder(const QString &name, const QString &parent)
{
    return name.size() > parent.size() && name.startsWith(parent) && name.at(parent.size()) == LevelSeparator;
}

// Role folders first, in their order; then the user's, by name.
void sortFolders(QList<MailFolder> &folders)
{
    std::sort(folders.begin(), folders.end(), [](const MailFolder &a, const MailFolder &b) {
        if (a.role || b.role) {
            if (a.role && b.role)
                return *a.role < *b.role;
            return a.role.has_value();
        }
        const int folded = a.name.compare(b.name, Qt::CaseInsensitive);
        return folded != 0 ? folded < 0 : a.name < b.name;
    });
}

} // namespace

std::optional<QString> Store::folderNameFault(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("a folder name is empty");
    if (!QStringView(name).isValidUtf16())
        return QStringLiteral("a folder name is not valid Unicode");
    if (name.toUcs4().size() > MaxFolderNameLength)
        return QStringLiteral("a folder name is longer than %1 characters").arg(MaxFolderNameLength);
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            return QStringLiteral("a folder name holds a control character");
    }
    if (name.startsWith(LevelSeparator) || name.endsWith(LevelSeparator) || name.contains(QStringLiteral("//")))
        return QStringLiteral("a folder name has an empty level ('/' at an end or twice)");
    // IMAP names the inbox INBOX in any case (RFC 3501 §5.1): another
    // folder by that name would be the same folder to IMAP clients.
    if (name.compare(QLatin1StringView("inbox"), Qt::CaseInsensitive) == 0
        && name != QLatin1StringView(StoreSchema::RoleFolders[0].name))
        return QStringLiteral("\"%1\" is the inbox's name").arg(name);
    return std::nullopt;
}

std::optional<QList<MailFolder>> Store::folders(qint64 ownerId)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT %1 FROM folders WHERE owner_id = ?").arg(QLatin1StringView(StoreSql::FolderColumns)),
        QStringLiteral("listing folders"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, ownerId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("listing the folders of account %1").arg(ownerId));
        return std::nullopt;
    }
    QList<MailFolder> folders;
    while (statement->next())
        folders.append(folderFromQuery(*statement));
    sortFolders(folders);
    return folders;
}

std::optional<MailFolder> Store::folder(qint64 ownerId, qint64 folderId)
{
    static const QString sql = QStringLiteral("SELECT %1 FROM folders WHERE id = ? AND owner_id = ?")
                                   .arg(QLatin1StringView(StoreSql::FolderColumns));
    QSqlQuery *row = selectRow(sql, {folderId, ownerId}, QStringLiteral("reading folder %1").arg(folderId),
                               QStringLiteral("no folder %1 for account %2").arg(folderId).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<MailFolder>(folderFromQuery(*row)) : std::nullopt;
}

std::optional<MailFolder> Store::roleFolder(qint64 ownerId, FolderRole role)
{
    static const QString sql = QStringLiteral("SELECT %1 FROM folders WHERE owner_id = ? AND role = ?")
                                   .arg(QLatin1StringView(StoreSql::FolderColumns));
    QSqlQuery *row = selectRow(sql, {ownerId, roleName(role)}, QStringLiteral("reading a role folder"),
                               QStringLiteral("no %1 for account %2").arg(roleName(role)).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<MailFolder>(folderFromQuery(*row)) : std::nullopt;
}

std::optional<qint64> Store::takeUidValidity(qint64 ownerId)
{
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("UPDATE accounts SET last_uid_validity ="
                       " CASE WHEN last_uid_validity + 1 > ? THEN last_uid_validity + 1 ELSE ? END"
                       " WHERE id = ? RETURNING last_uid_validity"),
        QStringLiteral("taking a uidValidity"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    statement->bindValue(0, now);
    statement->bindValue(1, now);
    statement->bindValue(2, ownerId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("taking a uidValidity of account %1").arg(ownerId));
        return std::nullopt;
    }
    if (!statement->next()) {
        fail(Error::NotFound, QStringLiteral("no account %1").arg(ownerId));
        return std::nullopt;
    }
    return statement->value(0).toLongLong();
}

std::optional<MailFolder> Store::createFolder(qint64 ownerId, const QString &name)
{
    clearError();
    if (const auto fault = folderNameFault(name)) {
        fail(Error::Invalid, *fault);
        return std::nullopt;
    }
    qint64 folderId = 0;
    const bool committed = inWriteTransaction(QStringLiteral("creating a folder"), [&] {
        if (!lockAccount(ownerId))
            return false;
        const std::optional<QList<MailFolder>> existing = folders(ownerId);
        if (!existing)
            return false;
        const auto same =
            std::find_if(existing->cbegin(), existing->cend(), [&](const MailFolder &f) { return f.name == name; });
        if (same != existing->cend() && same->selectable)
            return fail(Error::AlreadyExists, QStringLiteral("folder \"%1\" exists").arg(name));
        if (same != existing->cend()) {
            folderId = same->id;
            return makeSelectable(ownerId, folderId);
        }
        if (existing->size() >= MaxFolders)
            return fail(Error::Invalid, QStringLiteral("an account has at most %1 folders").arg(MaxFolders));
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        const std::optional<qint64> uidValidity = modseq ? takeUidValidity(ownerId) : std::nullopt;
        if (!uidValidity)
            return false;
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("INSERT INTO folders (owner_id, name, role, uid_validity, uid_next, modseq, highest_modseq)"
                           " VALUES (?, ?, NULL, ?, 1, ?, ?) RETURNING id"),
            QStringLiteral("creating a folder"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        const QVariantList values{ownerId, name, *uidValidity, *modseq, *modseq};
        for (qsizetype i = 0; i < values.size(); ++i)
            statement->bindValue(int(i), values.at(i));
        if (!statement->exec() || !statement->next())
            return failQuery(*statement, QStringLiteral("creating folder \"%1\"").arg(name));
        folderId = statement->value(0).toLongLong();
        return true;
    });
    if (!committed)
        return std::nullopt;
    return folder(ownerId, folderId);
}

bool Store::makeSelectable(qint64 ownerId, qint64 folderId)
{
    const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
    // Its uids may be known under the old uidValidity: a new one, never had.
    const std::optional<qint64> uidValidity = modseq ? takeUidValidity(ownerId) : std::nullopt;
    if (!uidValidity)
        return false;
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("UPDATE folders SET selectable = 1, uid_validity = ?, modseq = ?, highest_modseq = ? WHERE id = ?"),
        QStringLiteral("making a folder selectable"));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    const QVariantList values{*uidValidity, *modseq, *modseq, folderId};
    for (qsizetype i = 0; i < values.size(); ++i)
        statement->bindValue(int(i), values.at(i));
    if (!statement->exec())
        return failQuery(*statement, QStringLiteral("making folder %1 selectable").arg(folderId));
    return true;
}

std::optional<MailFolder> Store::userFolderToChange(qint64 ownerId, qint64 folderId, const QString &refusal,
                                                  QList<MailFolder> *all)
{
    if (!lockAccount(ownerId))
        return std::nullopt;
    std::optional<QList<MailFolder>> listed = folders(ownerId);
    if (!listed)
        return std::nullopt;
    *all = std::move(*listed);
    const auto found = std::find_if(all->cbegin(), all->cend(), [&](const MailFolder &f) { return f.id == folderId; });
    if (found == all->cend()) {
        fail(Error::NotFound, QStringLiteral("no folder %1 for account %2").arg(folderId).arg(ownerId));
        return std::nullopt;
    }
    if (found->role) {
        fail(Error::Invalid, QStringLiteral("the %1 folder %2").arg(roleName(*found->role), refusal));
        return std::nullopt;
    }
    return *found;
}

std::optional<MailFolder> Store::renameFolder(qint64 ownerId, qint64 folderId, const QString &name)
{
    clearError();
    if (const auto fault = folderNameFault(name)) {
        fail(Error::Invalid, *fault);
        return std::nullopt;
    }
    const bool committed = inWriteTransaction(QStringLiteral("renaming a folder"), [&] {
        QList<MailFolder> all;
        const std::optional<MailFolder> current = userFolderToChange(ownerId, folderId, QStringLiteral("keeps its name"), &all);
        if (!current)
            return false;
        if (name == current->name)
            return true;
        if (isUnder(name, current->name))
            return fail(Error::Invalid, QStringLiteral("a folder cannot move under itself"));
        // The folder and its sub-folders, each with its new name.
        QList<QPair<qint64, QString>> renamed;
        for (const MailFolder &f : all) {
            if (f.id == folderId || isUnder(f.name, current->name))
                renamed.append({f.id, name + f.name.mid(current->name.size())});
        }
        for (const auto &rename : renamed) {
            const QString &newName = rename.second;
            if (const auto fault = folderNameFault(newName))
                return fail(Error::Invalid, *fault);
            const bool taken = std::any_of(all.cbegin(), all.cend(), [&](const MailFolder &f) {
                return f.name == newName && f.id != folderId && !isUnder(f.name, current->name);
            });
            if (taken)
                return fail(Error::AlreadyExists, QStringLiteral("folder \"%1\" exists").arg(newName));
        }
        const std::optional<qint64> last = takeModseqs(ownerId, renamed.size());
        if (!last)
            return false;
        qint64 modseq = *last - renamed.size();
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("UPDATE folders SET name = ?, uid_validity = ?, modseq = ?, highest_modseq = ? WHERE id = ?"),
            QStringLiteral("renaming a folder"));
        QSqlQuery *setAside = cachedStatement(QStringLiteral("UPDATE folders SET name = ? WHERE id = ?"),
                                              QStringLiteral("renaming a folder"));
        if (!statement || !setAside)
            return false;
        const FinishedOnExit finished(statement), setAsideFinished(setAside);
        // First every one to a name no folder can have (a control
        // character): a new name may be the old one of another folder of
        // the move, not renamed yet (A/B to A: A/B/B/Z becomes A/B/Z).
        for (const auto &rename : renamed) {
            setAside->bindValue(0, QStringLiteral("\u0001%1").arg(rename.first));
            setAside->bindValue(1, rename.first);
            if (!setAside->exec())
                return failQuery(*setAside, QStringLiteral("renaming folder %1").arg(rename.first));
        }
        for (const auto &[id, newName] : renamed) {
            ++modseq;
            // A name gets a uidValidity it never had (RFC 3501 §2.3.1.1).
            const std::optional<qint64> uidValidity = takeUidValidity(ownerId);
            if (!uidValidity)
                return false;
            const QVariantList values{newName, *uidValidity, modseq, modseq, id};
            for (qsizetype i = 0; i < values.size(); ++i)
                statement->bindValue(int(i), values.at(i));
            if (!statement->exec())
                return failQuery(*statement, QStringLiteral("renaming folder %1").arg(id));
        }
        return renameSubscriptions(ownerId, current->name, name);
    });
    if (!committed)
        return std::nullopt;
    return folder(ownerId, folderId);
}

bool Store::deleteFolder(qint64 ownerId, qint64 folderId)
{
    clearError();
    return inWriteTransaction(QStringLiteral("deleting a folder"), [&] {
        QList<MailFolder> all;
        const std::optional<MailFolder> current =
            userFolderToChange(ownerId, folderId, QStringLiteral("cannot be deleted"), &all);
        if (!current)
            return false;
        QList<qint64> deleted;
        for (const MailFolder &f : all) {
            if (f.id == folderId || isUnder(f.name, current->name))
                deleted.append(f.id);
        }
        const std::optional<QList<MailboxEntry>> entries = entriesOfFolders(ownerId, deleted);
        if (!entries || !removeEntries(ownerId, *entries))
            return false;
        const std::optional<qint64> last = takeModseqs(ownerId, deleted.size());
        if (!last)
            return false;
        qint64 modseq = *last - deleted.size();
        QSqlQuery *statement = cachedStatement(QStringLiteral("DELETE FROM folders WHERE id = ?"),
                                               QStringLiteral("deleting a folder"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        for (const qint64 id : deleted) {
            if (!recordRemoval(ownerId, ++modseq, QStringLiteral("folder"), id, id, 0))
                return false;
            statement->bindValue(0, id);
            if (!statement->exec())
                return failQuery(*statement, QStringLiteral("deleting folder %1").arg(id));
        }
        return true;
    });
}

std::optional<QList<MailboxEntry>> Store::entriesOfFolders(qint64 ownerId, const QList<qint64> &folderIds)
{
    QSqlQuery *statement =
        cachedStatement(QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                                       " WHERE e.folder_id = ? ORDER BY e.id")
                            .arg(QLatin1StringView(StoreSchema::EntryColumns)),
                        QStringLiteral("reading a folder's entries"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    QList<MailboxEntry> entries;
    for (const qint64 id : folderIds) {
        statement->bindValue(0, id);
        if (!statement->exec()) {
            failQuery(*statement, QStringLiteral("reading the entries of folder %1").arg(id));
            return std::nullopt;
        }
        while (statement->next())
            entries.append(entryFromQuery(*statement, ownerId));
    }
    return entries;
}

bool Store::emptyFolderKeepingChildren(qint64 ownerId, qint64 folderId)
{
    clearError();
    return inWriteTransaction(QStringLiteral("emptying a folder"), [&] {
        QList<MailFolder> all;
        const std::optional<MailFolder> current =
            userFolderToChange(ownerId, folderId, QStringLiteral("cannot be deleted"), &all);
        if (!current)
            return false;
        const std::optional<QList<MailboxEntry>> entries = entriesOfFolders(ownerId, {folderId});
        if (!entries)
            return false;
        if (!current->selectable && entries->isEmpty())
            return true; // as asked already: no modseq
        if (!removeEntries(ownerId, *entries))
            return false;
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        if (!modseq)
            return false;
        QSqlQuery *statement = cachedStatement(
            QStringLiteral("UPDATE folders SET selectable = 0, modseq = ?, highest_modseq = ? WHERE id = ?"),
            QStringLiteral("keeping a folder for its sub-folders"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        statement->bindValue(0, *modseq);
        statement->bindValue(1, *modseq);
        statement->bindValue(2, folderId);
        if (!statement->exec())
            return failQuery(*statement, QStringLiteral("keeping folder %1 for its sub-folders").arg(folderId));
        return true;
    });
}

bool Store::renameSubscriptions(qint64 ownerId, const QString &from, const QString &to)
{
    QList<QPair<qint64, QString>> renamed; // id, new name
    {
        QSqlQuery *statement = cachedStatement(QStringLiteral("SELECT id, name FROM subscriptions WHERE owner_id = ?"),
                                               QStringLiteral("reading subscriptions"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        statement->bindValue(0, ownerId);
        if (!statement->exec())
            return failQuery(*statement, QStringLiteral("reading the subscriptions of account %1").arg(ownerId));
        while (statement->next()) {
            const QString name = statement->value(1).toString();
            const QString newName = to + name.mid(from.size());
            // A name under the old one that would be too long under the new
            // one (no folder has it: the folders' rename checked theirs)
            // stays as it was.
            if ((name == from || isUnder(name, from)) && !folderNameFault(newName))
                renamed.append({statement->value(0).toLongLong(), newName});
        }
    }
    if (renamed.isEmpty())
        return true;
    // Every one out before any comes back: a new name may be the old name of
    // another (as with folders), or be subscribed already.
    QSqlQuery *remove = cachedStatement(QStringLiteral("DELETE FROM subscriptions WHERE id = ?"),
                                        QStringLiteral("renaming subscriptions"));
    QSqlQuery *insert = cachedStatement(QStringLiteral("INSERT INTO subscriptions (owner_id, name) VALUES (?, ?)"
                                                       " ON CONFLICT (owner_id, name) DO NOTHING"),
                                        QStringLiteral("renaming subscriptions"));
    if (!remove || !insert)
        return false;
    const FinishedOnExit removeFinished(remove), insertFinished(insert);
    for (const auto &subscription : std::as_const(renamed)) {
        remove->bindValue(0, subscription.first);
        if (!remove->exec())
            return failQuery(*remove, QStringLiteral("renaming subscriptions"));
    }
    for (const auto &subscription : std::as_const(renamed)) {
        insert->bindValue(0, ownerId);
        insert->bindValue(1, subscription.second);
        if (!insert->exec())
            return failQuery(*insert, QStringLiteral("renaming subscriptions"));
    }
    return true;
}

bool Store::subscribe(qint64 ownerId, const QString &name)
{
    clearError();
    if (const auto fault = folderNameFault(name))
        return fail(Error::Invalid, *fault);
    return inWriteTransaction(QStringLiteral("subscribing"), [&] {
        if (!lockAccount(ownerId))
            return false;
        {
            QSqlQuery *statement = cachedStatement(
                QStringLiteral("SELECT count(*), count(*) FILTER (WHERE name = ?) FROM subscriptions WHERE owner_id = ?"),
                QStringLiteral("counting subscriptions"));
            if (!statement)
                return false;
            const FinishedOnExit finished(statement);
            statement->bindValue(0, name);
            statement->bindValue(1, ownerId);
            if (!statement->exec() || !statement->next())
                return failQuery(*statement, QStringLiteral("counting the subscriptions of account %1").arg(ownerId));
            if (statement->value(1).toLongLong() > 0)
                return true;
            if (statement->value(0).toLongLong() >= MaxFolders)
                return fail(Error::Invalid, QStringLiteral("an account has at most %1 subscriptions").arg(MaxFolders));
        }
        QSqlQuery *statement = cachedStatement(QStringLiteral("INSERT INTO subscriptions (owner_id, name) VALUES (?, ?)"),
                                               QStringLiteral("subscribing"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        statement->bindValue(0, ownerId);
        statement->bindValue(1, name);
        if (!statement->exec())
            return failQuery(*statement, QStringLiteral("subscribing account %1 to \"%2\"").arg(ownerId).arg(name));
        return true;
    });
}

bool Store::unsubscribe(qint64 ownerId, const QString &name)
{
    clearError();
    QSqlQuery *statement = cachedStatement(QStringLiteral("DELETE FROM subscriptions WHERE owner_id = ? AND name = ?"),
                                           QStringLiteral("unsubscribing"));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, ownerId);
    statement->bindValue(1, name);
    if (!statement->exec())
        return failQuery(*statement, QStringLiteral("unsubscribing account %1 from \"%2\"").arg(ownerId).arg(name));
    if (statement->numRowsAffected() < 1)
        return fail(Error::NotFound, QStringLiteral("account %1 is not subscribed to \"%2\"").arg(ownerId).arg(name));
    return true;
}

std::optional<QStringList> Store::subscriptions(qint64 ownerId)
{
    clearError();
    QSqlQuery *statement = cachedStatement(QStringLiteral("SELECT name FROM subscriptions WHERE owner_id = ?"),
                                           QStringLiteral("listing subscriptions"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    statement->bindValue(0, ownerId);
    if (!statement->exec()) {
        failQuery(*statement, QStringLiteral("listing the subscriptions of account %1").arg(ownerId));
        return std::nullopt;
    }
    QStringList names;
    while (statement->next())
        names.append(statement->value(0).toString());
    // In the same order on both engines (PostgreSQL's ORDER BY follows the
    // database's collation).
    std::sort(names.begin(), names.end());
    return names;
}
