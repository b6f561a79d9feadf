#pragma once

// Internal to common/store.

#include "messagejson.h"

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
        // SQLite's text comes as UTF-8 bytes (StoreSchema::entryColumnsSql), PostgreSQL's as a string.
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
    // Costed by the text's bytes; a list is at most a few KiB (50 addresses).
    QCache<QByteArray, MessageJson::StoredAddresses> m_parsed{256 * 1024};
};

