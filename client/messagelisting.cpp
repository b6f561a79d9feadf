#include "messagelisting.h"

#include "messagejson.h"

#include <QJsonArray>

#include <algorithm>

namespace {

std::optional<qint64> idFromJson(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const qint64 id = value.toInteger(-1);
    return id > 0 ? std::optional<qint64>(id) : std::nullopt;
}

} // namespace

std::optional<MessageListEntry> MessageListEntry::fromJson(const QJsonObject &object)
{
    const std::optional<qint64> id = idFromJson(object.value(u"id"));
    if (!id)
        return std::nullopt;
    MessageListEntry entry;
    entry.id = *id;
    entry.from = MessageJson::addressFrom(object.value(u"from").toObject());
    entry.to = MessageJson::addressesFrom(object.value(u"to").toArray());
    entry.toCount = std::max<qint64>(object.value(u"toCount").toInteger(), entry.to.size());
    entry.cc = MessageJson::addressesFrom(object.value(u"cc").toArray());
    entry.subject = object.value(u"subject").toString();
    entry.date = QDateTime::fromString(object.value(u"date").toString(), Qt::ISODate);
    entry.size = object.value(u"size").toInteger();
    entry.seen = object.value(u"seen").toBool();
    entry.preview = object.value(u"preview").toString();
    return entry;
}

MessageListing MessageListing::fromJson(const QJsonValue &answer)
{
    MessageListing listing;
    for (const QJsonValue &item : answer[u"messages"].toArray()) {
        if (const auto entry = MessageListEntry::fromJson(item.toObject()))
            listing.entries.append(*entry);
    }
    listing.nextBefore = idFromJson(answer[u"nextBefore"]);
    return listing;
}

QHash<QString, FolderTotals> FolderTotals::fromAccountJson(const QJsonValue &answer)
{
    QHash<QString, FolderTotals> counts;
    const QJsonObject folders = answer[u"folders"].toObject();
    for (auto it = folders.constBegin(); it != folders.constEnd(); ++it) {
        const QJsonObject folder = it.value().toObject();
        counts.insert(it.key(), {folder.value(u"unseen").toInt(), folder.value(u"total").toInt()});
    }
    return counts;
}
