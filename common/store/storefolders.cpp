// Store: what the folders hold and what their owners do with it: pages of a
// folder, one entry, the raw message, seen flags, deletions, counts.

#include "store.h"

#include "messagejson.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storedaddresslists_p.h"
#include "storesql_p.h"

#include <QCache>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>

#include <limits>

using StoreSql::FinishedOnExit;
using StoreSql::fromMs;

namespace {

// A text column of StoreSchema::entryColumnsSql(): UTF-8 bytes from SQLite,
// a string from PostgreSQL.
QString textOf(const QVariant &value)
{
    return value.typeId() == QMetaType::QByteArray ? QString::fromUtf8(value.toByteArray()) : value.toString();
}

QByteArray utf8Of(const QVariant &value)
{
    return value.typeId() == QMetaType::QByteArray ? value.toByteArray() : value.toString().toUtf8();
}

QJsonArray jsonArray(const QVariant &text)
{
    return QJsonDocument::fromJson(utf8Of(text)).array();
}

// Reads the columns of StoreSchema::entryColumnsSql().
MailboxEntry entryFromQuery(const QSqlQuery &query, StoredAddressLists &addressLists)
{
    MailboxEntry entry;
    entry.id = query.value(0).toLongLong();
    entry.ownerId = query.value(1).toLongLong();
    entry.folder = folderFromName(textOf(query.value(2))).value_or(Folder::Inbox);
    entry.seen = query.value(3).toBool();
    entry.messageId = query.value(4).toLongLong();
    entry.receivedAt = fromMs(query.value(5));
    entry.size = query.value(6).toLongLong();
    MessageSummary &summary = entry.summary;
    summary.from = {textOf(query.value(7)), textOf(query.value(8))};
    MessageJson::StoredAddresses to = addressLists.read(query.value(9));
    summary.to = std::move(to.addresses);
    summary.toCount = to.count;
    MessageJson::StoredAddresses cc = addressLists.read(query.value(10));
    summary.cc = std::move(cc.addresses);
    summary.ccCount = cc.count;
    summary.subject = textOf(query.value(11));
    summary.date = fromMs(query.value(12));
    summary.messageId = textOf(query.value(13));
    summary.inReplyTo = textOf(query.value(14));
    summary.preview = textOf(query.value(15));
    summary.attachments = MessageJson::attachmentsFrom(jsonArray(query.value(16)));
    return entry;
}

} // namespace

StoredAddressLists &Store::addressLists()
{
    if (!m_addressLists)
        m_addressLists = std::make_unique<StoredAddressLists>();
    return *m_addressLists;
}

QString folderName(Folder folder)
{
    return folder == Folder::Inbox ? QStringLiteral("inbox") : QStringLiteral("sent");
}

std::optional<Folder> folderFromName(QStringView name)
{
    if (name == u"inbox")
        return Folder::Inbox;
    if (name == u"sent")
        return Folder::Sent;
    return std::nullopt;
}

std::optional<FolderPage> Store::listFolder(qint64 ownerId, Folder folder, int limit, std::optional<qint64> before)
{
    clearError();
    if (limit < 1) {
        fail(Error::Failed, QStringLiteral("a folder page needs a limit of at least 1"));
        return std::nullopt;
    }
    // Built once per engine: the statement cache is keyed by its text.
    static const QString sqliteSql = StoreSchema::folderPageSql(Engine::Sqlite);
    static const QString postgresqlSql = StoreSchema::folderPageSql(Engine::Postgresql);
    QSqlQuery *statement = cachedStatement(m_engine == Engine::Sqlite ? sqliteSql : postgresqlSql,
                                           QStringLiteral("listing a folder"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(QStringLiteral(":owner"), ownerId);
    query.bindValue(QStringLiteral(":folder"), folderName(folder));
    query.bindValue(QStringLiteral(":before"), before.value_or(std::numeric_limits<qint64>::max()));
    // One row more than asked tells whether anything older exists.
    query.bindValue(QStringLiteral(":limit"), limit + 1);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("listing %1 of account %2").arg(folderName(folder)).arg(ownerId));
        return std::nullopt;
    }
    FolderPage page;
    while (query.next()) {
        if (page.entries.size() == limit) {
            page.nextBefore = page.entries.last().id;
            break;
        }
        page.entries.append(entryFromQuery(query, addressLists()));
    }
    return page;
}

std::optional<MailboxEntry> Store::entry(qint64 ownerId, qint64 entryId)
{
    static const QString sqliteSql = StoreSchema::entrySql(Engine::Sqlite);
    static const QString postgresqlSql = StoreSchema::entrySql(Engine::Postgresql);
    QSqlQuery *row = selectRow(
        m_engine == Engine::Sqlite ? sqliteSql : postgresqlSql,
        {entryId, ownerId}, QStringLiteral("reading entry %1").arg(entryId),
        QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<MailboxEntry>(entryFromQuery(*row, addressLists())) : std::nullopt;
}

std::optional<QByteArray> Store::rawMessage(qint64 ownerId, qint64 entryId)
{
    QSqlQuery *row = selectRow(QStringLiteral("SELECT m.raw FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                                              " WHERE e.id = ? AND e.owner_id = ?"),
                               {entryId, ownerId}, QStringLiteral("reading message of entry %1").arg(entryId),
                               QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<QByteArray>(row->value(0).toByteArray()) : std::nullopt;
}

bool Store::setSeen(qint64 ownerId, qint64 entryId, bool seen)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("UPDATE mailbox_entries SET seen = ? WHERE id = ? AND owner_id = ?"),
        QStringLiteral("marking entry %1").arg(entryId));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(0, seen ? 1 : 0);
    query.bindValue(1, entryId);
    query.bindValue(2, ownerId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("marking entry %1").arg(entryId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    return true;
}

bool Store::deleteEntry(qint64 ownerId, qint64 entryId)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM mailbox_entries WHERE id = ? AND owner_id = ?"));
    query.addBindValue(entryId);
    query.addBindValue(ownerId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting entry %1").arg(entryId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    return true;
}

bool Store::deleteEntries(qint64 ownerId, const QList<qint64> &entryIds)
{
    clearError();
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start deleting entries: %1").arg(transaction.lastError().text()));
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM mailbox_entries WHERE id = ? AND owner_id = ?"));
    for (const qint64 entryId : entryIds) {
        query.addBindValue(entryId);
        query.addBindValue(ownerId);
        if (!query.exec())
            return failQuery(query, QStringLiteral("deleting entry %1").arg(entryId));
    }
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the deletions: %1").arg(transaction.lastError().text()));
    return true;
}

std::optional<QList<MailboxEntry>> Store::inbox(qint64 ownerId)
{
    clearError();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT e.id, e.seen, e.message_id, m.received_at, m.size FROM mailbox_entries e"
                                 " JOIN messages m ON m.id = e.message_id"
                                 " WHERE e.owner_id = ? AND e.folder = 'inbox' ORDER BY e.id"));
    query.addBindValue(ownerId);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("listing the inbox of account %1").arg(ownerId));
        return std::nullopt;
    }
    QList<MailboxEntry> entries;
    while (query.next()) {
        MailboxEntry entry;
        entry.id = query.value(0).toLongLong();
        entry.ownerId = ownerId;
        entry.folder = Folder::Inbox;
        entry.seen = query.value(1).toBool();
        entry.messageId = query.value(2).toLongLong();
        entry.receivedAt = fromMs(query.value(3));
        entry.size = query.value(4).toLongLong();
        entries.append(entry);
    }
    return entries;
}

std::optional<AccountCounts> Store::counts(qint64 ownerId)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT folder, count(*), count(*) FILTER (WHERE seen = 0) FROM mailbox_entries WHERE owner_id = ? GROUP BY folder"),
        QStringLiteral("counting the mail of account %1").arg(ownerId));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(0, ownerId);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("counting the mail of account %1").arg(ownerId));
        return std::nullopt;
    }
    AccountCounts counts;
    while (query.next()) {
        const FolderCounts folder{query.value(1).toLongLong(), query.value(2).toLongLong()};
        (query.value(0).toString() == u"inbox" ? counts.inbox : counts.sent) = folder;
    }
    return counts;
}
