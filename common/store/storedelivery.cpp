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

// The message's row and its words' row (message_words); its id.
std::optional<qint64> insertMessage(QSqlQuery &insert, QSqlQuery &insertWords, const NewMessage &message,
                                    const MessageWords &words, StepFailure *failure)
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
    // would keep the transaction from committing.
    insert.finish();
    if (!StoreSearch::insertWords(insertWords, id, words)) {
        *failure = {insertWords.lastError(), QStringLiteral("storing a message's words for search"), std::nullopt};
        return std::nullopt;
    }
    return id;
}

// The words of a message to search by: folded by its sender's thread
// already, or here.
MessageWords wordsOf(const NewMessage &message)
{
    return message.words ? *message.words : Store::searchWords(message.summary, message.text);
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

// The first of the message's entries whose account or role folder the
// group found no row of (deleted meanwhile), if any.
std::optional<QPair<qint64, FolderRole>> missingOwner(const Store::DeliveryNumbers &numbers, const NewMessage &message)
{
    for (const auto &[owner, role] : entriesOf(message)) {
        if (!numbers.nextModseq.contains(owner) || !numbers.folders.contains({owner, int(role)}))
            return QPair<qint64, FolderRole>{owner, role};
    }
    return std::nullopt;
}

// The message's row, an inbox entry per recipient and the sender's sent
// entry; nothing undone here when a step fails (the caller rolls back).
std::optional<Delivery> storeMessage(const Store::DeliveryStatements &statements, Store::DeliveryNumbers &numbers,
                                     const NewMessage &message, const MessageWords &words, StepFailure *failure)
{
    Delivery delivery;
    const std::optional<qint64> messageId =
        insertMessage(*statements.insertMessage, *statements.insertWords, message, words, failure);
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

// SQLite: the message's row of the FTS5 index (StoreSearch::indexWordsSql
// says why this comes after the other writes of its transaction).
bool indexMessage(QSqlQuery *index, qint64 messageId, const MessageWords &words, StepFailure *failure)
{
    if (!index || StoreSearch::indexWords(*index, messageId, words))
        return true;
    *failure = {index->lastError(), QStringLiteral("indexing a message for search"), std::nullopt};
    return false;
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
    // No savepoint per message: on SQLite each would copy every page the
    // message touches to a statement journal (found: three of every four
    // writes of a delivery, a temporary file's). A message that fails on its
    // own instead sets the group back: the transaction is rolled back and
    // tried again without it, so each message is stored whole or not at all
    // and the others keep their place. Every try leaves out one more message.
    for (;;) {
        std::optional<SqlWriteTransaction> transaction;
        if (!beginDelivery(&transaction))
            return failAll(m_error, m_errorText);
        QList<const NewMessage *> group;
        for (qsizetype i = 0; i < messages.size(); ++i) {
            if (outcome.errors.at(i).error == Error::None)
                group.append(&messages.at(i));
        }
        DeliveryNumbers numbers;
        if (!takeDeliveryNumbers(group, &numbers))
            return failAll(m_error, m_errorText);
        const QString preparing = QStringLiteral("preparing a delivery");
        const bool sqlite = m_engine == Engine::Sqlite;
        const DeliveryStatements statements{cachedStatement(insertMessageSql(), preparing),
                                            cachedStatement(StoreSearch::insertWordsSql(), preparing),
                                            cachedStatement(addEntrySql(), preparing),
                                            sqlite ? cachedStatement(StoreSearch::indexWordsSql(), preparing) : nullptr};
        if (!statements.insertMessage || !statements.insertWords || !statements.addEntry
            || (sqlite && !statements.indexWords))
            return failAll(m_error, m_errorText);
        const FinishedOnExit insertFinished(statements.insertMessage), wordsFinished(statements.insertWords),
            addEntryFinished(statements.addEntry), indexFinished(statements.indexWords);

        // A message that failed, and why; whether it is the database's
        // trouble rather than the message's is decided by setBackBy.
        bool setBack = false;
        const auto setBackBy = [&](qsizetype i, const StepFailure &failure) {
            const Error error = failure.known ? *failure.known : classify(failure.error);
            const QString text = failure.what + QStringLiteral(": ")
                + (failure.known ? QStringLiteral("no such account or folder") : failure.error.text());
            outcome.errors[i] = {error, text};
            setBack = true;
            // The database's trouble, not the message's: none is to blame.
            return error == Error::Busy || error == Error::Unavailable || error == Error::DiskFull;
        };
        struct Indexed
        {
            qsizetype message;
            qint64 id;
            MessageWords words;
        };
        QList<Indexed> toIndex;
        for (qsizetype i = 0; i < messages.size() && !setBack; ++i) {
            if (outcome.errors.at(i).error != Error::None)
                continue;
            const NewMessage &message = messages.at(i);
            // A recipient or sender deleted meanwhile: known before anything
            // of the message is written, so nothing needs undoing.
            if (const auto missing = missingOwner(numbers, message)) {
                outcome.errors[i] = {Error::NotFound, QStringLiteral("adding the message to %1 of account %2:"
                                                                      " no such account or folder")
                                                          .arg(roleName(missing->second))
                                                          .arg(missing->first)};
                continue;
            }
            StepFailure failure;
            MessageWords words = wordsOf(message);
            outcome.deliveries[i] = storeMessage(statements, numbers, message, words, &failure);
            if (outcome.deliveries.at(i))
                toIndex.append({i, outcome.deliveries.at(i)->messageId, std::move(words)});
            else if (setBackBy(i, failure))
                return failAll(outcome.errors.at(i).error, outcome.errors.at(i).text);
        }
        for (qsizetype k = 0; k < toIndex.size() && !setBack; ++k) {
            StepFailure failure;
            if (!indexMessage(statements.indexWords, toIndex.at(k).id, toIndex.at(k).words, &failure)
                && setBackBy(toIndex.at(k).message, failure))
                return failAll(outcome.errors.at(toIndex.at(k).message).error,
                               outcome.errors.at(toIndex.at(k).message).text);
        }
        if (setBack) {
            for (std::optional<Delivery> &delivery : outcome.deliveries)
                delivery.reset();
            continue; // the statements are finished and the transaction rolled back here
        }
        if (!transaction->commit()) {
            const QSqlError error = transaction->lastError();
            return failAll(classify(error), QStringLiteral("committing a delivery: %1").arg(error.text()));
        }
        return outcome.handOver(errors);
    }
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

bool Store::takeDeliveryNumbers(const QList<const NewMessage *> &messages, DeliveryNumbers *numbers)
{
    // How many entries each account and each of its role folders get.
    std::map<qint64, qint64> perAccount; // ordered: accounts are locked by id
    for (const NewMessage *message : messages) {
        for (const auto &[owner, role] : entriesOf(*message))
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
    for (const NewMessage *message : messages) {
        for (const auto &[owner, role] : entriesOf(*message)) {
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

std::optional<MailboxEntry> Store::appendMessage(qint64 ownerId, qint64 folderId, const NewMessage &message,
                                                 const EntryFlags &flags, const QStringList &keywords)
{
    const std::optional<QList<MailboxEntry>> entries = appendMessages(ownerId, folderId, {{message, flags, keywords}});
    return entries ? std::optional<MailboxEntry>(entries->first()) : std::nullopt;
}

std::optional<QList<MailboxEntry>> Store::appendMessages(qint64 ownerId, qint64 folderId,
                                                         const QList<AppendedMessage> &messages)
{
    clearError();
    QList<QStringList> keywords;
    for (const AppendedMessage &appended : messages) {
        const std::optional<QStringList> checked = checkedKeywords(appended.keywords);
        if (!checked)
            return std::nullopt;
        keywords.append(*checked);
    }
    if (messages.isEmpty())
        return QList<MailboxEntry>();
    const qint64 count = messages.size();
    QList<qint64> entryIds;
    const bool committed = inWriteTransaction(QStringLiteral("appending messages"), [&] {
        if (!lockAccount(ownerId))
            return false;
        const QString what = QStringLiteral("appending a message");
        QSqlQuery *insert = cachedStatement(insertMessageSql(), what);
        QSqlQuery *insertWords = cachedStatement(StoreSearch::insertWordsSql(), what);
        QSqlQuery *addEntry = cachedStatement(addEntrySql(), what);
        QSqlQuery *index = m_engine == Engine::Sqlite ? cachedStatement(StoreSearch::indexWordsSql(), what) : nullptr;
        if (!insert || !insertWords || !addEntry || (m_engine == Engine::Sqlite && !index))
            return false;
        const FinishedOnExit insertFinished(insert), wordsFinished(insertWords), addEntryFinished(addEntry),
            indexFinished(index);
        const std::optional<qint64> lastModseq = takeModseqs(ownerId, count);
        const std::optional<qint64> firstUid =
            lastModseq ? takeUids(ownerId, folderId, count, *lastModseq) : std::nullopt;
        if (!firstUid)
            return false;
        // The index rows last (StoreSearch::indexWordsSql says why).
        QList<QPair<qint64, MessageWords>> toIndex;
        for (qsizetype i = 0; i < messages.size(); ++i) {
            const AppendedMessage &appended = messages.at(i);
            const EntryFlags &flags = appended.flags;
            const qint64 modseq = *lastModseq - count + 1 + i;
            StepFailure failure;
            MessageWords words = wordsOf(appended.message);
            const std::optional<qint64> messageId = insertMessage(*insert, *insertWords, appended.message, words, &failure);
            if (!messageId)
                return fail(classify(failure.error), failure.what + QStringLiteral(": ") + failure.error.text());
            const QVariantList values{ownerId,           *messageId,         int(flags.seen),  folderId,
                                      *firstUid + i,     modseq,             modseq,           int(flags.answered),
                                      int(flags.flagged), int(flags.deleted), int(flags.draft), StoreSql::keywordsText(keywords.at(i))};
            for (qsizetype v = 0; v < values.size(); ++v)
                addEntry->bindValue(int(v), values.at(v));
            if (!addEntry->exec() || !addEntry->next())
                return failQuery(*addEntry, QStringLiteral("appending a message to folder %1").arg(folderId));
            entryIds.append(addEntry->value(0).toLongLong());
            addEntry->finish();
            toIndex.append({*messageId, std::move(words)});
        }
        for (const auto &[messageId, words] : std::as_const(toIndex)) {
            StepFailure failure;
            if (!indexMessage(index, messageId, words, &failure))
                return fail(classify(failure.error), failure.what + QStringLiteral(": ") + failure.error.text());
        }
        return true;
    });
    if (!committed)
        return std::nullopt;
    QList<MailboxEntry> entries;
    for (const qint64 entryId : std::as_const(entryIds)) {
        std::optional<MailboxEntry> appended = entry(ownerId, entryId);
        if (!appended)
            return std::nullopt;
        entries.append(std::move(*appended));
    }
    return entries;
}
