#pragma once

#include "messagesummary.h"

#include <QByteArray>
#include <QByteArrayView>

// An address header's mailboxes, RFC 5322 §3.4.
struct AddressList
{
    QList<MailAddress> addresses;
    bool complete = true; // false when some part did not parse
    QString raw;          // the decoded header value, kept for showing when !complete
};

namespace MailAddresses {

// Parses From/To/Cc: name-addr and addr-spec mailboxes, quoted strings with
// commas and escaped quotes, (nested) comments, groups (the group name is
// dropped, its members kept), RFC 2047 display names (also inside quotes, as
// real mail has them), obsolete routes. A comment is the name only when there
// is no other ("bob@x (Bob)"). Mailboxes that do not parse are skipped and
// clear `complete`.
[[nodiscard]] AddressList parseList(QByteArrayView raw);

// "Name <address>" for a header, the name encoded as RFC 5322/2047 require;
// just the address when there is no name.
[[nodiscard]] QByteArray format(const MailAddress &address);
[[nodiscard]] QByteArray formatList(const QList<MailAddress> &addresses);

} // namespace MailAddresses
