// Store: new mail. A message is stored once and shown in each recipient's
// inbox and in its sender's sent folder; the SMTP server's delivery thread
// hands over groups of them, committed together (group commit). And the
// messages an owner appends to a folder of their own (drafts, imports).

#include "store.h"

#include "messagejson.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storesql_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

using StoreSql::FinishedOnExit;
using StoreSql::text;
using StoreSql::toMs;

namespace {

const QString &insertMessageSql()
{
    static const QString sql = QStringLiteral(
        "INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
        " message_id, in_reply_to, preview, attachments, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id");
    return sql;
}

const QString &takeModseqSql()
{
    static const QString sql = QStringLiteral("UPDATE accounts SET modseq = modseq + 1 WHERE id = ? RETURNING modseq");
    return sql;
}

const QString &takeRoleUidSql()
{
    static const QString sql = QStringLiteral("UPDATE folders SET uid_next = uid_next + 1, highest_modseq = ?"
                                              " WHERE owner_id = ? AND role = ? RETURNING id, uid_next - 1");
    return sql;
}

const QString &addEntrySql()
{
    static const QString sql = QStringLiteral(
        "INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq, created_modseq, answered,"
        " flagged, deleted, draft, keywords) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    return sql;
}

// Address and attachment lists are kept as compact JSON text, in the API's form.
QString compactJson(const QJsonArray &array)
{
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

// To and Cc: at most MaxStoredAddresses kept, and the field's count when it
// held more (the form StoreSchema::MaxStoredAddresses describes). A summary
// made by hand with more is cut here too.
QString storedAddressesJson(const QList<MailAddress> &addresses, qint64 count)
{
    static_assert(MessageSummary::MaxListedAddresses == StoreSchema::MaxStoredAddresses);
    const QJsonValue stored = MessageJson::storedAddresses(
        addresses.first(std::min<qsizetype>(addresses.size(), StoreSchema::MaxStoredAddresses)),
        std::max<qint64>(count, addresses.size()));
    const QJsonDocument document =
        stored.isObject() ? QJsonDocument(stored.toObject()) : QJsonDocument(stored.toArray());
    return QString::fromUtf8(document.toJson(QJsonDocument::Compact));
}

// The statement that failed a message, and what it was doing: the store
// classifies the error (which also notes a lost connection), unless the
// step knew it (a recipient deleted meanwhile).
struct StepFailure
{
    QSqlError error;
    QString what;
    std::optional<Store::Error> known;
};

// The message's row; its id.
std::optional<qint64> insertMessage(QSqlQuery &insert, const NewMessage &message, StepFailure *failure)
{
    const MessageSummary &summary = message.summary;
    insert.bindValue(0, toMs(message.receivedAt));
    insert.bindValue(1, qint64(message.raw.size()));
    insert.bindValue(2, text(summary.from.name));
    insert.bindValue(3, text(summary.from.address));
    insert.bindValue(4, storedAddressesJson(summary.to, summary.toCount));
    insert.bindValue(5, storedAddressesJson(summary.cc, summary.ccCount));
    insert.bindValue(6, text(summary.subject));
    insert.bindValue(7, summary.date.isValid() ? QVariant(toMs(summary.date)) : QVariant(QMetaType::fromType<qint64>()));
    insert.bindValue(8, text(summary.messageId));
    insert.bindValue(9, text(summary.inReplyTo));
    insert.bindValue(10, text(summary.preview));
    insert.bindValue(11, compactJson(MessageJson::attachments(summary.attachments)));
    insert.bindValue(12, message.raw);
    // The statement is cached: its bound raw would keep the last message
    // alive until the next delivery (found: 24 MiB held by smtpd after a
    // 24 MiB message), on success and failure alike.
    const auto releaseRaw = qScopeGuard([&insert] { insert.bindValue(12, QVariant()); });
    if (!insert.exec() || !insert.next()) {
        *failure = {insert.lastError(), QStringLiteral("storing a message"), std::nullopt};
        return std::nullopt;
    }
    const qint64 id = insert.value(0).toLongLong();
    // SQLite made the change in the first step; a statement left running
    // would keep RELEASE from completing.
    insert.finish();
    return id;
}

// The message in one owner's role folder (sent entries start seen), with
// the account's next modseq and the folder's next uid; the entry's id.
std::optional<qint64> addToFolder(const Store::DeliveryStatements &statements, qint64 ownerId, FolderRole role,
                                  qint64 messageId, StepFailure *failure)
{
    const QString where = QStringLiteral("adding the message to %1 of account %2").arg(roleName(role)).arg(ownerId);
    QSqlQuery &takeModseq = *statements.takeModseq;
    takeModseq.bindValue(0, ownerId);
    if (!takeModseq.exec() || !takeModseq.next()) {
        *failure = {takeModseq.lastError(), where,
                    takeModseq.lastError().isValid() ? std::nullopt : std::optional(Store::Error::NotFound)};
        return std::nullopt;
    }
    const qint64 modseq = takeModseq.value(0).toLongLong();
    takeModseq.finish();
    QSqlQuery &takeUid = *statements.takeRoleUid;
    takeUid.bindValue(0, modseq);
    takeUid.bindValue(1, ownerId);
    takeUid.bindValue(2, roleName(role));
    if (!takeUid.exec() || !takeUid.next()) {
        *failure = {takeUid.lastError(), where,
                    takeUid.lastError().isValid() ? std::nullopt : std::optional(Store::Error::NotFound)};
        return std::nullopt;
    }
    const qint64 folderId = takeUid.value(0).toLongLong();
    const qint64 uid = takeUid.value(1).toLongLong();
    takeUid.finish();
    QSqlQuery &addEntry = *statements.addEntry;
    const QVariantList values{ownerId, messageId, role == FolderRole::Sent ? 1 : 0, folderId, uid, modseq, modseq,
                              0,       0,         0,                                0,        QStringLiteral("")};
    for (qsizetype i = 0; i < values.size(); ++i)
        addEntry.bindValue(int(i), values.at(i));
    if (!addEntry.exec() || !addEntry.next()) {
        *failure = {addEntry.lastError(), where, std::nullopt};
        return std::nullopt;
    }
    const qint64 id = addEntry.value(0).toLongLong();
    addEntry.finish();
    return id;
}

// A recipient named twice gets the message once.
QList<qint64> distinctRecipients(const QList<qint64> &recipientIds)
{
    QList<qint64> recipients;
    for (qint64 recipient : recipientIds) {
        if (!recipients.contains(recipient))
            recipients.append(recipient);
    }
    return recipients;
}

// The message's row, an inbox entry per recipient and the sender's sent
// entry; nothing undone here when a step fails (the caller's savepoint is).
std::optional<Delivery> storeMessage(const Store::DeliveryStatements &statements, const NewMessage &message,
                                     StepFailure *failure)
{
    Delivery delivery;
    const std::optional<qint64> messageId = insertMessage(*statements.insertMessage, message, failure);
    if (!messageId)
        return std::nullopt;
    delivery.messageId = *messageId;
    for (qint64 recipient : distinctRecipients(message.recipientIds)) {
        const auto id = addToFolder(statements, recipient, FolderRole::Inbox, delivery.messageId, failure);
        if (!id)
            return std::nullopt;
        delivery.inboxEntryIds.append(*id);
    }
    if (message.senderId) {
        const auto id = addToFolder(statements, message.senderId, FolderRole::Sent, delivery.messageId, failure);
        if (!id)
            return std::nullopt;
        delivery.sentEntryId = *id;
    }
    return delivery;
}

// What deliverAll hands back: a slot per message.
struct DeliveryOutcome
{
    explicit DeliveryOutcome(qsizetype size) : deliveries(size), errors(size) {}

    // The group is not stored: no message has a delivery, and those that
    // had no error of their own get the group's.
    void failAll(Store::Error error, const QString &text)
    {
        for (qsizetype i = 0; i < deliveries.size(); ++i) {
            deliveries[i].reset();
            if (errors[i].error == Store::Error::None)
                errors[i] = {error, text};
        }
    }

    QList<std::optional<Delivery>> handOver(QList<Store::DeliveryError> *errorsOut) const
    {
        if (errorsOut)
            *errorsOut = errors;
        return deliveries;
    }

    QList<std::optional<Delivery>> deliveries;
    QList<Store::DeliveryError> errors;
};

} // namespace

std::optional<Delivery> Store::deliver(const NewMessage &message)
{
    QList<DeliveryError> errors;
    const QList<std::optional<Delivery>> deliveries = deliverAll({message}, &errors);
    if (!deliveries.value(0))
        fail(errors.value(0).error, errors.value(0).text);
    return deliveries.value(0);
}

QList<std::optional<Delivery>> Store::deliverAll(const QList<NewMessage> &messages, QList<DeliveryError> *errors)
{
    clearError();
    DeliveryOutcome outcome(messages.size());
    const auto failAll = [&](Error error, const QString &text) {
        fail(error, text);
        outcome.failAll(error, text);
        return outcome.handOver(errors);
    };
    std::optional<SqlWriteTransaction> transaction;
    if (!beginDelivery(&transaction))
        return failAll(m_error, m_errorText);

    if (!lockAccountsOfDelivery(messages))
        return failAll(m_error, m_errorText);
    const QString preparing = QStringLiteral("preparing a delivery");
    const DeliveryStatements statements{cachedStatement(insertMessageSql(), preparing),
                                        cachedStatement(takeModseqSql(), preparing),
                                        cachedStatement(takeRoleUidSql(), preparing),
                                        cachedStatement(addEntrySql(), preparing)};
    if (!statements.insertMessage || !statements.takeModseq || !statements.takeRoleUid || !statements.addEntry)
        return failAll(m_error, m_errorText);
    const FinishedOnExit insertFinished(statements.insertMessage), modseqFinished(statements.takeModseq),
        uidFinished(statements.takeRoleUid), addEntryFinished(statements.addEntry);

    for (qsizetype i = 0; i < messages.size(); ++i) {
        if (!deliverInSavepoint(statements, messages.at(i), &outcome.deliveries[i], &outcome.errors[i]))
            return failAll(m_error, m_errorText);
    }
    if (!transaction->commit()) {
        const QSqlError error = transaction->lastError();
        return failAll(classify(error), QStringLiteral("committing a delivery: %1").arg(error.text()));
    }
    return outcome.handOver(errors);
}

bool Store::beginDelivery(std::optional<SqlWriteTransaction> *transaction)
{
    for (;;) {
        transaction->emplace(database());
        if ((*transaction)->isActive())
            return true;
        const QSqlError error = (*transaction)->lastError();
        transaction->reset();
        fail(classify(error), QStringLiteral("cannot start the delivery: %1").arg(error.text()));
        if (!reconnectedAfterStaleConnection())
            return false;
    }
}

bool Store::lockAccountsOfDelivery(const QList<NewMessage> &messages)
{
    if (m_engine != Engine::Postgresql)
        return true;
    // Every account whose modseq the group takes, locked at once in the
    // order of ids: two groups naming two accounts in opposite orders would
    // otherwise each hold one and wait for the other (a deadlock).
    QList<qint64> accounts;
    for (const NewMessage &message : messages) {
        accounts += message.recipientIds;
        if (message.senderId)
            accounts.append(message.senderId);
    }
    std::sort(accounts.begin(), accounts.end());
    accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
    if (accounts.isEmpty())
        return true;
    QStringList places;
    for (qsizetype i = 0; i < accounts.size(); ++i)
        places.append(QStringLiteral("?"));
    QSqlQuery query(database());
    query.prepare(QStringLiteral("SELECT id FROM accounts WHERE id IN (%1) ORDER BY id FOR UPDATE")
                      .arg(places.join(QStringLiteral(", "))));
    for (const qint64 account : accounts)
        query.addBindValue(account);
    if (!query.exec())
        return failQuery(query, QStringLiteral("locking the accounts of a delivery"));
    return true;
}

bool Store::deliverInSavepoint(const DeliveryStatements &statements, const NewMessage &message,
                               std::optional<Delivery> *delivery, DeliveryError *error)
{
    QSqlError controlError;
    if (!execControl(QStringLiteral("SAVEPOINT delivery"), &controlError))
        return fail(classify(controlError), controlError.text());
    StepFailure failure;
    *delivery = storeMessage(statements, message, &failure);
    if (!*delivery) {
        *error = {failure.known ? *failure.known : classify(failure.error),
                  failure.what + QStringLiteral(": ")
                      + (failure.known ? QStringLiteral("no such account or folder") : failure.error.text())};
        // This message only: the others of the group stay.
        if (!execControl(QStringLiteral("ROLLBACK TO delivery"), &controlError))
            return fail(classify(controlError), controlError.text());
    }
    if (!execControl(QStringLiteral("RELEASE delivery"), &controlError))
        return fail(classify(controlError), controlError.text());
    return true;
}

std::optional<MailboxEntry> Store::appendMessage(qint64 ownerId, qint64 folderId, const NewMessage &message,
                                                 const EntryFlags &flags, const QStringList &keywords)
{
    clearError();
    for (const QString &keyword : keywords) {
        if (const auto fault = keywordFault(keyword)) {
            fail(Error::Invalid, *fault);
            return std::nullopt;
        }
    }
    if (keywords.size() > MaxKeywords) {
        fail(Error::Invalid, QStringLiteral("an entry holds at most %1 keywords").arg(MaxKeywords));
        return std::nullopt;
    }
    qint64 entryId = 0;
    const bool committed = inWriteTransaction(QStringLiteral("appending a message"), [&] {
        if (!lockAccount(ownerId))
            return false;
        QSqlQuery *insert = cachedStatement(insertMessageSql(), QStringLiteral("appending a message"));
        QSqlQuery *addEntry = cachedStatement(addEntrySql(), QStringLiteral("appending a message"));
        if (!insert || !addEntry)
            return false;
        const FinishedOnExit insertFinished(insert), addEntryFinished(addEntry);
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        const std::optional<qint64> uid = modseq ? takeUids(ownerId, folderId, 1, *modseq) : std::nullopt;
        if (!uid)
            return false;
        StepFailure failure;
        const std::optional<qint64> messageId = insertMessage(*insert, message, &failure);
        if (!messageId)
            return fail(classify(failure.error), failure.what + QStringLiteral(": ") + failure.error.text());
        const QVariantList values{ownerId,           *messageId,         int(flags.seen), folderId,
                                  *uid,              *modseq,            *modseq,         int(flags.answered),
                                  int(flags.flagged), int(flags.deleted), int(flags.draft), StoreSql::keywordsText(keywords)};
        for (qsizetype i = 0; i < values.size(); ++i)
            addEntry->bindValue(int(i), values.at(i));
        if (!addEntry->exec() || !addEntry->next())
            return failQuery(*addEntry, QStringLiteral("appending a message to folder %1").arg(folderId));
        entryId = addEntry->value(0).toLongLong();
        return true;
    });
    if (!committed)
        return std::nullopt;
    return entry(ownerId, entryId);
}
