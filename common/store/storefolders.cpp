// Store: what the folders hold and what their owners do with it: pages of a
// folder, one entry, the raw message, seen flags, deletions, counts.

#include "store.h"

#include "messagejson.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storecaches_p.h"
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

// A text column of StoreSchema::summaryColumnsSql(): UTF-8 bytes from SQLite,
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

// Reads the summary columns (StoreSchema::summaryColumnsSql()) from `first` on.
MessageSummary summaryFromQuery(const QSqlQuery &query, int first, StoredAddressLists &addressLists)
{
    MessageSummary summary;
    summary.from = {textOf(query.value(first)), textOf(query.value(first + 1))};
    MessageJson::StoredAddresses to = addressLists.read(query.value(first + 2));
    summary.to = std::move(to.addresses);
    summary.toCount = to.count;
    MessageJson::StoredAddresses cc = addressLists.read(query.value(first + 3));
    summary.cc = std::move(cc.addresses);
    summary.ccCount = cc.count;
    summary.subject = textOf(query.value(first + 4));
    summary.date = fromMs(query.value(first + 5));
    summary.messageId = textOf(query.value(first + 6));
    summary.inReplyTo = textOf(query.value(first + 7));
    summary.preview = textOf(query.value(first + 8));
    summary.attachments = MessageJson::attachmentsFrom(jsonArray(query.value(first + 9)));
    return summary;
}

// An entry without its summary: the columns e.id, e.seen, e.message_id,
// m.received_at, m.size (StoreSchema::folderPageSql(), entrySql()).
MailboxEntry entryFromQuery(const QSqlQuery &query, qint64 ownerId, Folder folder)
{
    MailboxEntry entry;
    entry.id = query.value(0).toLongLong();
    entry.ownerId = ownerId;
    entry.folder = folder;
    entry.seen = query.value(1).toBool();
    entry.messageId = query.value(2).toLongLong();
    entry.receivedAt = fromMs(query.value(3));
    entry.size = query.value(4).toLongLong();
    return entry;
}

} // namespace

StoredSummaries &Store::summaries()
{
    if (!m_summaries)
        m_summaries = std::make_unique<StoredSummaries>();
    return *m_summaries;
}

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
    FolderPage page;
    QList<StoredSummaries::Key> keys;
    {
        QSqlQuery *statement = cachedStatement(StoreSchema::folderPageSql(), QStringLiteral("listing a folder"));
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
        while (query.next()) {
            if (page.entries.size() == limit) {
                page.nextBefore = page.entries.last().id;
                break;
            }
            page.entries.append(entryFromQuery(query, ownerId, folder));
            keys.append({page.entries.last().messageId, query.value(3).toLongLong(), page.entries.last().size});
        }
    }

    // The summaries kept are copied at once (reading others may push them
    // out); the rest are read, in batches.
    QList<bool> summarized(page.entries.size(), false);
    QList<qint64> unknown;
    for (qsizetype i = 0; i < page.entries.size(); ++i) {
        if (const MessageSummary *kept = summaries().find(keys.at(i))) {
            page.entries[i].summary = *kept;
            summarized[i] = true;
        } else {
            unknown.append(keys.at(i).messageId);
        }
    }
    if (unknown.isEmpty())
        return page;
    QHash<qint64, ReadSummary> read;
    if (!readSummaries(unknown, &read))
        return std::nullopt;
    QList<MailboxEntry> entries;
    entries.reserve(page.entries.size());
    for (qsizetype i = 0; i < page.entries.size(); ++i) {
        MailboxEntry &entry = page.entries[i];
        if (!summarized.at(i)) {
            const auto justRead = read.constFind(entry.messageId);
            // Gone since the page was read (its last entry deleted meanwhile).
            if (justRead == read.cend())
                continue;
            entry.summary = justRead->summary;
        }
        entries.append(std::move(entry));
    }
    page.entries = std::move(entries);
    return page;
}

bool Store::readSummaries(const QList<qint64> &messageIds, QHash<qint64, ReadSummary> *read)
{
    static const QString sqliteSql = StoreSchema::summariesSql(Engine::Sqlite);
    static const QString postgresqlSql = StoreSchema::summariesSql(Engine::Postgresql);
    for (qsizetype first = 0; first < messageIds.size(); first += StoreSchema::SummaryBatch) {
        QSqlQuery *statement = cachedStatement(m_engine == Engine::Sqlite ? sqliteSql : postgresqlSql,
                                               QStringLiteral("reading summaries"));
        if (!statement)
            return false;
        const FinishedOnExit finished(statement);
        QSqlQuery &query = *statement;
        for (int i = 0; i < StoreSchema::SummaryBatch; ++i)
            query.bindValue(i, first + i < messageIds.size() ? messageIds.at(first + i) : qint64(0));
        if (!query.exec())
            return failQuery(query, QStringLiteral("reading the summaries of %1 messages").arg(messageIds.size()));
        while (query.next()) {
            ReadSummary summary{query.value(1).toLongLong(), query.value(2).toLongLong(),
                                summaryFromQuery(query, 3, addressLists())};
            summaries().insert({query.value(0).toLongLong(), summary.receivedAtMs, summary.size}, summary.summary);
            read->insert(query.value(0).toLongLong(), std::move(summary));
        }
    }
    return true;
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
    if (!row)
        return std::nullopt;
    MailboxEntry entry = entryFromQuery(*row, ownerId, folderFromName(textOf(row->value(5))).value_or(Folder::Inbox));
    entry.summary = summaryFromQuery(*row, 6, addressLists());
    return entry;
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
