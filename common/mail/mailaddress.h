#pragma once

#include "messagesummary.h"

#include <QByteArray>
#include <QByteArrayView>

#include <limits>

// An address header's mailboxes, RFC 5322 §3.4.
struct AddressList
{
    QList<MailAddress> addresses; // the first ones, as many as parseList() was asked to keep
    qsizetype count = 0;          // every mailbox that parsed, kept or not
    bool complete = true;         // false when some part did not parse
    QString raw;                  // the decoded header value, kept for showing when !complete
};

namespace MailAddresses {

// Parses From/To/Cc: name-addr and addr-spec mailboxes, quoted strings with
// commas and escaped quotes, (nested) comments, groups (the group name is
// dropped, its members kept), RFC 2047 display names (also inside quotes, as
// real mail has them), obsolete routes. A comment is the name only when there
// is no other ("bob@x (Bob)"). Mailboxes that do not parse are skipped and
// clear `complete`.
// Only the first `keep` mailboxes are decoded and kept; the others are
// still parsed, so that `count` and `complete` cover the whole field, but
// cost no memory: a field of millions of addresses (docs/protocol/messages.md §5)
// takes time linear in its length and memory bounded by `keep`.
[[nodiscard]] AddressList parseList(QByteArrayView raw, qsizetype keep = std::numeric_limits<qsizetype>::max());

// "Name <address>" for a header, the name encoded as RFC 5322/2047 require;
// just the address when there is no name.
[[nodiscard]] QByteArray format(const MailAddress &address);
[[nodiscard]] QByteArray formatList(const QList<MailAddress> &addresses);

} // namespace MailAddresses
