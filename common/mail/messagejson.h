#pragma once

#include "messagesummary.h"

#include <QJsonArray>
#include <QJsonObject>

// The JSON form of addresses and attachment lists, docs/protocol/web.md §2: an
// address is {"name", "address"}, an attachment {"index", "filename",
// "contentType", "size"}. The store keeps them in this form too, so there
// is one definition of the shape.
namespace MessageJson {

[[nodiscard]] QJsonObject address(const MailAddress &address);
[[nodiscard]] QJsonArray addresses(const QList<MailAddress> &addresses);
[[nodiscard]] MailAddress addressFrom(const QJsonObject &object);
[[nodiscard]] QList<MailAddress> addressesFrom(const QJsonArray &array);
// An address field as the store keeps it (docs/STORAGE.md "Schema"): the
// array of the kept addresses when they are all of the field's `count`,
// else {"count": count, "addresses": the kept ones}.
[[nodiscard]] QJsonValue storedAddresses(const QList<MailAddress> &kept, qint64 count);
struct StoredAddresses
{
    QList<MailAddress> addresses;
    qint64 count = 0; // never less than addresses.size()
};
// Either form; anything else is no address.
[[nodiscard]] StoredAddresses storedAddressesFrom(const QJsonValue &value);
[[nodiscard]] QJsonArray attachments(const QList<AttachmentInfo> &attachments);
[[nodiscard]] QList<AttachmentInfo> attachmentsFrom(const QJsonArray &array);

} // namespace MessageJson
