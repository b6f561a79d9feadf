// Store: what the folders hold: pages of a folder, one entry, the raw
// message, the POP3 maildrop, counts.

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
using StoreSql::entryFromQuery;
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

QString roleName(FolderRole role)
{
    return QLatin1StringView(StoreSchema::RoleFolders[int(role)].role);
}

std::optional<FolderRole> roleFromName(QStringView name)
{
    for (int i = 0; i < StoreSchema::RoleFolderCount; ++i) {
        if (name == QLatin1StringView(StoreSchema::RoleFolders[i].role))
            return FolderRole(i);
    }
    return std::nullopt;
}

std::optional<FolderPage> Store::listFolder(qint64 ownerId, qint64 folderId, int limit, std::optional<qint64> before)
{
    return listFolderPage(ownerId, folderId, limit, before);
}

std::optional<FolderPage> Store::listFolder(qint64 ownerId, FolderRole role, int limit, std::optional<qint64> before)
{
    return listFolderPage(ownerId, roleName(role), limit, before);
}

std::optional<FolderPage> Store::listFolderPage(qint64 ownerId, const QVariant &folder, int limit,
                                                std::optional<qint64> before)
{
    clearError();
    if (limit < 1) {
        fail(Error::Failed, QStringLiteral("a folder page needs a limit of at least 1"));
        return std::nullopt;
    }
    FolderPage page;
    QList<StoredSummaries::Key> keys;
    {
        static const QString byId = StoreSchema::folderPageSql(false);
        static const QString byRole = StoreSchema::folderPageSql(true);
        const bool isRole = folder.typeId() == QMetaType::QString;
        QSqlQuery *statement = cachedStatement(isRole ? byRole : byId, QStringLiteral("listing a folder"));
        if (!statement)
            return std::nullopt;
        const FinishedOnExit finished(statement);
        QSqlQuery &query = *statement;
        query.bindValue(QStringLiteral(":owner"), ownerId);
        query.bindValue(QStringLiteral(":folder"), folder);
        query.bindValue(QStringLiteral(":before"), before.value_or(std::numeric_limits<qint64>::max()));
        // One row more than asked tells whether anything older exists.
        query.bindValue(QStringLiteral(":limit"), limit + 1);
        if (!query.exec()) {
            failQuery(query, QStringLiteral("listing folder %1 of account %2").arg(folder.toString()).arg(ownerId));
            return std::nullopt;
        }
        while (query.next()) {
            if (page.entries.size() == limit) {
                page.nextBefore = page.entries.last().id;
                break;
            }
            page.entries.append(entryFromQuery(query, ownerId, 0, false));
            keys.append({page.entries.last().messageId, query.value(2).toLongLong(), page.entries.last().size});
        }
    }

    QList<qint64> receivedAtMs;
    receivedAtMs.reserve(keys.size());
    for (const StoredSummaries::Key &key : std::as_const(keys))
        receivedAtMs.append(key.receivedAtMs);
    if (!summarizePage(&page, receivedAtMs))
        return std::nullopt;
    return page;
}

bool Store::summarizePage(FolderPage *page, const QList<qint64> &receivedAtMs)
{
    // The summaries kept are copied at once (reading others may push them
    // out); the rest are read, in batches.
    QList<bool> summarized(page->entries.size(), false);
    QList<qint64> unknown;
    for (qsizetype i = 0; i < page->entries.size(); ++i) {
        const MailboxEntry &entry = page->entries.at(i);
        if (const MessageSummary *kept = summaries().find({entry.messageId, receivedAtMs.at(i), entry.size})) {
            page->entries[i].summary = *kept;
            summarized[i] = true;
        } else {
            unknown.append(entry.messageId);
        }
    }
    if (unknown.isEmpty())
        return true;
    QHash<qint64, ReadSummary> read;
    if (!readSummaries(unknown, &read))
        return false;
    QList<MailboxEntry> entries;
    entries.reserve(page->entries.size());
    for (qsizetype i = 0; i < page->entries.size(); ++i) {
        MailboxEntry &entry = page->entries[i];
        if (!summarized.at(i)) {
            const auto justRead = read.constFind(entry.messageId);
            // Gone since the page was read (its last entry deleted meanwhile).
            if (justRead == read.cend())
                continue;
            entry.summary = justRead->summary;
        }
        entries.append(std::move(entry));
    }
    page->entries = std::move(entries);
    return true;
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
    MailboxEntry entry = entryFromQuery(*row, ownerId);
    entry.summary = summaryFromQuery(*row, StoreSchema::EntryColumnCount, addressLists());
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
    EntryUpdate update;
    update.seen = seen;
    return updateEntry(ownerId, entryId, update).has_value();
}

std::optional<QList<MailboxEntry>> Store::inbox(qint64 ownerId)
{
    clearError();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                                 " WHERE e.folder_id = (SELECT f.id FROM folders f WHERE f.owner_id = ? AND f.role = 'inbox')"
                                 " ORDER BY e.id")
                      .arg(QLatin1StringView(StoreSchema::EntryColumns)));
    query.addBindValue(ownerId);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("listing the inbox of account %1").arg(ownerId));
        return std::nullopt;
    }
    QList<MailboxEntry> entries;
    while (query.next())
        entries.append(entryFromQuery(query, ownerId));
    return entries;
}

std::optional<AccountCounts> Store::counts(qint64 ownerId)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT role, total, unseen FROM folders WHERE owner_id = ? AND role IN ('inbox', 'sent')"),
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
