#pragma once

#include "messagesummary.h"

#include <QJsonArray>
#include <QJsonObject>

// The JSON form of addresses and attachment lists, SPEC "HTTPS API": an
// address is {"name", "address"}, an attachment {"index", "filename",
// "contentType", "size"}. The store keeps them in this form too, so there
// is one definition of the shape.
namespace MessageJson {

[[nodiscard]] QJsonObject address(const MailAddress &address);
[[nodiscard]] QJsonArray addresses(const QList<MailAddress> &addresses);
[[nodiscard]] MailAddress addressFrom(const QJsonObject &object);
[[nodiscard]] QList<MailAddress> addressesFrom(const QJsonArray &array);
[[nodiscard]] QJsonArray attachments(const QList<AttachmentInfo> &attachments);
[[nodiscard]] QList<AttachmentInfo> attachmentsFrom(const QJsonArray &array);

} // namespace MessageJson
