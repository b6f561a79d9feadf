// Store: new mail. A message is stored once and shown in each recipient's
// inbox and in its sender's sent folder; the SMTP server's delivery thread
// hands over groups of them, committed together (group commit). And the
// messages an owner appends to a folder of their own (drafts, imports).

#include "store.h"

#include "messagejson.h"
#include "sqltransaction.h"
#include "store_p.h"
#include "storesearch_p.h"
#include "storesql_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <map>

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

// The message's row and its words' in the search index; its id.
std::optional<qint64> insertMessage(QSqlQuery &insert, QSqlQuery &insertWords, const NewMessage &message,
                                    StepFailure *failure)
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
    if (!StoreSearch::insertWords(insertWords, id,
                                  message.words ? *message.words : Store::searchWords(message.summary, message.text))) {
        *failure = {insertWords.lastError(), QStringLiteral("indexing a message for search"), std::nullopt};
        return std::nullopt;
    }
    return id;
}

// The message in one owner's role folder (sent entries start seen), with
// the modseq and uid the group took for it; the entry's id.
std::optional<qint64> addToFolder(const Store::DeliveryStatements &statements, Store::DeliveryNumbers &numbers,
                                  qint64 ownerId, FolderRole role, qint64 messageId, StepFailure *failure)
{
    const QString where = QStringLiteral("adding the message to %1 of account %2").arg(roleName(role)).arg(ownerId);
    const auto modseq = numbers.nextModseq.find(ownerId);
    const auto folder = numbers.folders.find({ownerId, int(role)});
    if (modseq == numbers.nextModseq.end() || folder == numbers.folders.end()) {
        *failure = {QSqlError(), where, Store::Error::NotFound}; // the account is gone
        return std::nullopt;
    }
    QSqlQuery &addEntry = *statements.addEntry;
    const QVariantList values{ownerId, messageId, role == FolderRole::Sent ? 1 : 0, folder->id, folder->nextUid++,
                              *modseq, *modseq,   0,                                0,          0,
                              0,       QStringLiteral("")};
    ++*modseq;
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

// The entries a message makes, in order: an inbox entry per recipient,
// then the sender's sent entry.
QList<QPair<qint64, FolderRole>> entriesOf(const NewMessage &message)
{
    QList<QPair<qint64, FolderRole>> entries;
    for (const qint64 recipient : distinctRecipients(message.recipientIds))
        entries.append({recipient, FolderRole::Inbox});
    if (message.senderId)
        entries.append({message.senderId, FolderRole::Sent});
    return entries;
}

// The message's row, an inbox entry per recipient and the sender's sent
// entry; nothing undone here when a step fails (the caller's savepoint is).
std::optional<Delivery> storeMessage(const Store::DeliveryStatements &statements, Store::DeliveryNumbers &numbers,
                                     const NewMessage &message, StepFailure *failure)
{
    Delivery delivery;
    const std::optional<qint64> messageId = insertMessage(*statements.insertMessage, *statements.insertWords, message, failure);
    if (!messageId)
        return std::nullopt;
    delivery.messageId = *messageId;
    for (qint64 recipient : distinctRecipients(message.recipientIds)) {
        const auto id = addToFolder(statements, numbers, recipient, FolderRole::Inbox, delivery.messageId, failure);
        if (!id)
            return std::nullopt;
        delivery.inboxEntryIds.append(*id);
    }
    if (message.senderId) {
        const auto id = addToFolder(statements, numbers, message.senderId, FolderRole::Sent, delivery.messageId, failure);
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

    DeliveryNumbers numbers;
    if (!takeDeliveryNumbers(messages, &numbers))
        return failAll(m_error, m_errorText);
    const QString preparing = QStringLiteral("preparing a delivery");
    const DeliveryStatements statements{cachedStatement(insertMessageSql(), preparing),
                                        cachedStatement(StoreSearch::insertWordsSql(), preparing),
                                        cachedStatement(addEntrySql(), preparing)};
    if (!statements.insertMessage || !statements.insertWords || !statements.addEntry)
        return failAll(m_error, m_errorText);
    const FinishedOnExit insertFinished(statements.insertMessage), wordsFinished(statements.insertWords),
        addEntryFinished(statements.addEntry);

    for (qsizetype i = 0; i < messages.size(); ++i) {
        if (!deliverInSavepoint(statements, numbers, messages.at(i), &outcome.deliveries[i], &outcome.errors[i]))
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

bool Store::takeDeliveryNumbers(const QList<NewMessage> &messages, DeliveryNumbers *numbers)
{
    // How many entries each account and each of its role folders get.
    std::map<qint64, qint64> perAccount; // ordered: accounts are locked by id
    for (const NewMessage &message : messages) {
        for (const auto &[owner, role] : entriesOf(message))
            ++perAccount[owner];
    }
    // The modseqs, a range per account in one statement. On PostgreSQL this
    // locks the accounts, in the order of ids: two groups naming two accounts
    // in opposite orders would otherwise each hold one and wait for the other.
    QSqlQuery *takeModseqs = cachedStatement(
        QStringLiteral("UPDATE accounts SET modseq = modseq + ? WHERE id = ? RETURNING modseq"),
        QStringLiteral("taking the modseqs of a delivery"));
    if (!takeModseqs)
        return false;
    {
        const FinishedOnExit finished(takeModseqs);
        for (const auto &[owner, count] : perAccount) {
            takeModseqs->bindValue(0, count);
            takeModseqs->bindValue(1, owner);
            if (!takeModseqs->exec())
                return failQuery(*takeModseqs, QStringLiteral("taking the modseqs of account %1").arg(owner));
            // No row: the account is gone; its messages fail on their own.
            if (takeModseqs->next())
                numbers->nextModseq.insert(owner, takeModseqs->value(0).toLongLong() - count + 1);
        }
    }
    // The uids, a range per role folder; each folder's highest modseq is
    // that of the last entry it gets, as the entries will take them in order.
    QHash<qint64, qint64> modseq = numbers->nextModseq;
    std::map<QPair<qint64, int>, QPair<qint64, qint64>> perFolder; // count, highest modseq
    for (const NewMessage &message : messages) {
        for (const auto &[owner, role] : entriesOf(message)) {
            if (!modseq.contains(owner))
                continue;
            auto &folder = perFolder[{owner, int(role)}];
            ++folder.first;
            folder.second = modseq[owner]++;
        }
    }
    QSqlQuery *takeUids = cachedStatement(
        QStringLiteral("UPDATE folders SET uid_next = uid_next + ?, highest_modseq = ?"
                       " WHERE owner_id = ? AND role = ? RETURNING id, uid_next"),
        QStringLiteral("taking the uids of a delivery"));
    if (!takeUids)
        return false;
    const FinishedOnExit finished(takeUids);
    for (const auto &[folder, counts] : perFolder) {
        takeUids->bindValue(0, counts.first);
        takeUids->bindValue(1, counts.second);
        takeUids->bindValue(2, folder.first);
        takeUids->bindValue(3, roleName(FolderRole(folder.second)));
        if (!takeUids->exec())
            return failQuery(*takeUids, QStringLiteral("taking the uids of account %1").arg(folder.first));
        if (takeUids->next())
            numbers->folders.insert(folder, {takeUids->value(0).toLongLong(), takeUids->value(1).toLongLong() - counts.first});
    }
    return true;
}

bool Store::deliverInSavepoint(const DeliveryStatements &statements, DeliveryNumbers &numbers,
                               const NewMessage &message, std::optional<Delivery> *delivery, DeliveryError *error)
{
    QSqlError controlError;
    if (!execControl(QStringLiteral("SAVEPOINT delivery"), &controlError))
        return fail(classify(controlError), controlError.text());
    StepFailure failure;
    *delivery = storeMessage(statements, numbers, message, &failure);
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
        QSqlQuery *insertWords = cachedStatement(StoreSearch::insertWordsSql(), QStringLiteral("appending a message"));
        QSqlQuery *addEntry = cachedStatement(addEntrySql(), QStringLiteral("appending a message"));
        if (!insert || !insertWords || !addEntry)
            return false;
        const FinishedOnExit insertFinished(insert), wordsFinished(insertWords), addEntryFinished(addEntry);
        const std::optional<qint64> modseq = takeModseqs(ownerId, 1);
        const std::optional<qint64> uid = modseq ? takeUids(ownerId, folderId, 1, *modseq) : std::nullopt;
        if (!uid)
            return false;
        StepFailure failure;
        const std::optional<qint64> messageId = insertMessage(*insert, *insertWords, message, &failure);
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
