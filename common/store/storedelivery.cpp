// Store: new mail. A message is stored once and shown in each recipient's
// inbox and in its sender's sent folder; the SMTP server's delivery thread
// hands over groups of them, committed together (group commit).

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

const QString &addEntrySql()
{
    static const QString sql = QStringLiteral(
        "INSERT INTO mailbox_entries (owner_id, folder, message_id, seen) VALUES (?, ?, ?, ?) RETURNING id");
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
// classifies the error (which also notes a lost connection).
struct StepFailure
{
    QSqlError error;
    QString what;
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
        *failure = {insert.lastError(), QStringLiteral("storing a message")};
        return std::nullopt;
    }
    const qint64 id = insert.value(0).toLongLong();
    // SQLite made the change in the first step; a statement left running
    // would keep RELEASE from completing.
    insert.finish();
    return id;
}

// The message in one owner's folder (sent entries start seen); the entry's id.
std::optional<qint64> addToFolder(QSqlQuery &addEntry, qint64 ownerId, Folder folder, qint64 messageId,
                                  StepFailure *failure)
{
    addEntry.bindValue(0, ownerId);
    addEntry.bindValue(1, folderName(folder));
    addEntry.bindValue(2, messageId);
    addEntry.bindValue(3, folder == Folder::Sent ? 1 : 0);
    if (!addEntry.exec() || !addEntry.next()) {
        *failure = {addEntry.lastError(),
                    QStringLiteral("adding the message to %1 of account %2").arg(folderName(folder)).arg(ownerId)};
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
std::optional<Delivery> storeMessage(QSqlQuery &insert, QSqlQuery &addEntry, const NewMessage &message,
                                     StepFailure *failure)
{
    Delivery delivery;
    const std::optional<qint64> messageId = insertMessage(insert, message, failure);
    if (!messageId)
        return std::nullopt;
    delivery.messageId = *messageId;
    for (qint64 recipient : distinctRecipients(message.recipientIds)) {
        const auto id = addToFolder(addEntry, recipient, Folder::Inbox, delivery.messageId, failure);
        if (!id)
            return std::nullopt;
        delivery.inboxEntryIds.append(*id);
    }
    if (message.senderId) {
        const auto id = addToFolder(addEntry, message.senderId, Folder::Sent, delivery.messageId, failure);
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

    const QString preparing = QStringLiteral("preparing a delivery");
    QSqlQuery *insert = cachedStatement(insertMessageSql(), preparing);
    QSqlQuery *addEntry = cachedStatement(addEntrySql(), preparing);
    if (!insert || !addEntry)
        return failAll(m_error, m_errorText);
    const FinishedOnExit insertFinished(insert), addEntryFinished(addEntry);

    for (qsizetype i = 0; i < messages.size(); ++i) {
        if (!deliverInSavepoint(*insert, *addEntry, messages.at(i), &outcome.deliveries[i], &outcome.errors[i]))
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

bool Store::deliverInSavepoint(QSqlQuery &insert, QSqlQuery &addEntry, const NewMessage &message,
                               std::optional<Delivery> *delivery, DeliveryError *error)
{
    QSqlError controlError;
    if (!execControl(QStringLiteral("SAVEPOINT delivery"), &controlError))
        return fail(classify(controlError), controlError.text());
    StepFailure failure;
    *delivery = storeMessage(insert, addEntry, message, &failure);
    if (!*delivery) {
        *error = {classify(failure.error), failure.what + QStringLiteral(": ") + failure.error.text()};
        // This message only: the others of the group stay.
        if (!execControl(QStringLiteral("ROLLBACK TO delivery"), &controlError))
            return fail(classify(controlError), controlError.text());
    }
    if (!execControl(QStringLiteral("RELEASE delivery"), &controlError))
        return fail(classify(controlError), controlError.text());
    return true;
}
