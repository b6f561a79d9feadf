#pragma once

// What a store connection keeps of what it read, to spare reading it again.
// Internal to common/store.

#include "messagejson.h"
#include "messagesummary.h"

#include <QByteArray>
#include <QCache>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVariant>

#include <memory>

// Most messages of a folder share their address lists (To: its owner; Cc:
// none), and reading one is a pure function of its stored text: each
// distinct text is parsed once per connection, not once per row (parsing
// was a sixth of a listing's time).
class StoredAddressLists
{
public:
    MessageJson::StoredAddresses read(const QVariant &column)
    {
        // SQLite's text comes as UTF-8 bytes (StoreSchema::summaryColumnsSql), PostgreSQL's as a string.
        const QByteArray text = column.typeId() == QMetaType::QByteArray ? column.toByteArray()
                                                                          : column.toString().toUtf8();
        if (const MessageJson::StoredAddresses *parsed = m_parsed.object(text))
            return *parsed;
        const QJsonDocument document = QJsonDocument::fromJson(text);
        auto parsed = std::make_unique<MessageJson::StoredAddresses>(MessageJson::storedAddressesFrom(
            document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array())));
        MessageJson::StoredAddresses result = *parsed;
        m_parsed.insert(text, parsed.release(), text.size());
        return result;
    }

private:
    // Costed by the text's bytes (the parsed lists take some two to three
    // times that); a list is at most a few KiB (50 addresses).
    QCache<QByteArray, MessageJson::StoredAddresses> m_parsed{256 * 1024};
};


// Messages never change once stored (docs/protocol/messages.md §2), and a
// folder's listings show the same ones again and again (every client polls
// its newest page): a connection keeps the summaries it read, so a listing
// reads only its entries' own columns and the summaries of messages it has
// not seen. A message is known by its id, which is never used twice; a
// restore of this installation's backup brings back the same messages
// under their ids. received_at and size are compared too, a safeguard for
// the one way an id could name another message: a restore of another
// installation's backup while this process runs (a message received in the
// same millisecond with the same size would still pass).
class StoredSummaries
{
public:
    struct Key
    {
        qint64 messageId = 0;
        qint64 receivedAtMs = 0;
        qint64 size = 0;
    };

    const MessageSummary *find(const Key &key)
    {
        const Kept *kept = m_kept.object(key.messageId);
        return kept && kept->receivedAtMs == key.receivedAtMs && kept->size == key.size ? &kept->summary : nullptr;
    }

    void insert(const Key &key, const MessageSummary &summary)
    {
        m_kept.insert(key.messageId, new Kept{key.receivedAtMs, key.size, summary}, costOf(summary));
    }

private:
    struct Kept
    {
        qint64 receivedAtMs;
        qint64 size;
        MessageSummary summary;
    };

    // About the bytes a summary holds: its UTF-16 text and the lists'
    // elements; allocator overhead comes on top (heap use is some 1.5 to 2
    // times this).
    static qsizetype costOf(const MessageSummary &summary)
    {
        qsizetype bytes = qsizetype(sizeof(Kept));
        const auto text = [](const QString &string) { return 2 * string.size(); };
        for (const QList<MailAddress> *list : {&summary.to, &summary.cc}) {
            for (const MailAddress &address : *list)
                bytes += qsizetype(sizeof(MailAddress)) + text(address.name) + text(address.address);
        }
        for (const AttachmentInfo &attachment : summary.attachments)
            bytes += qsizetype(sizeof(AttachmentInfo)) + text(attachment.filename) + text(attachment.contentType);
        return bytes + text(summary.from.name) + text(summary.from.address) + text(summary.subject)
            + text(summary.messageId) + text(summary.inReplyTo) + text(summary.preview);
    }

    // 4 MiB: some 4,000 ordinary summaries, eighty pages of a listing.
    QCache<qint64, Kept> m_kept{4 * 1024 * 1024};
};
