#include "messagejson.h"

namespace MessageJson {

QJsonObject address(const MailAddress &address)
{
    return {{QStringLiteral("name"), address.name}, {QStringLiteral("address"), address.address}};
}

QJsonArray addresses(const QList<MailAddress> &addresses)
{
    QJsonArray array;
    for (const MailAddress &one : addresses)
        array.append(address(one));
    return array;
}

MailAddress addressFrom(const QJsonObject &object)
{
    return {object.value(u"name").toString(), object.value(u"address").toString()};
}

QList<MailAddress> addressesFrom(const QJsonArray &array)
{
    QList<MailAddress> addresses;
    for (const QJsonValue &value : array)
        addresses.append(addressFrom(value.toObject()));
    return addresses;
}

QJsonValue storedAddresses(const QList<MailAddress> &kept, qint64 count)
{
    if (count <= kept.size())
        return addresses(kept);
    return QJsonObject{{QStringLiteral("count"), count}, {QStringLiteral("addresses"), addresses(kept)}};
}

StoredAddresses storedAddressesFrom(const QJsonValue &value)
{
    StoredAddresses stored;
    if (value.isObject()) {
        stored.addresses = addressesFrom(value[u"addresses"].toArray());
        stored.count = value[u"count"].toInteger();
    } else {
        stored.addresses = addressesFrom(value.toArray());
    }
    stored.count = std::max<qint64>(stored.count, stored.addresses.size());
    return stored;
}

QJsonArray attachments(const QList<AttachmentInfo> &attachments)
{
    QJsonArray array;
    for (const AttachmentInfo &attachment : attachments) {
        array.append(QJsonObject{{QStringLiteral("index"), attachment.index},
                                 {QStringLiteral("filename"), attachment.filename},
                                 {QStringLiteral("contentType"), attachment.contentType},
                                 {QStringLiteral("size"), attachment.size}});
    }
    return array;
}

QList<AttachmentInfo> attachmentsFrom(const QJsonArray &array)
{
    QList<AttachmentInfo> attachments;
    for (const QJsonValue &value : array) {
        const QJsonObject object = value.toObject();
        attachments.append({object.value(u"index").toInt(), object.value(u"filename").toString(),
                            object.value(u"contentType").toString(), object.value(u"size").toInteger()});
    }
    return attachments;
}

} // namespace MessageJson
