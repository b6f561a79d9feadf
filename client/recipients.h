#pragma once

#include "messagesummary.h"

#include <QList>
#include <QString>

// What the user typed in the To field, read as a list of addresses.
struct RecipientList
{
    QList<MailAddress> addresses; // in the order typed, duplicates dropped
    QString error;                // empty when every entry is an address

    [[nodiscard]] bool isValid() const { return error.isEmpty() && !addresses.isEmpty(); }

    // Entries are separated by commas or semicolons (outside quotes and angle
    // brackets): "bob", "bob@project.com", "Bob Builder <bob@project.com>",
    // "\"Builder, Bob\" <bob@project.com>". A bare user name gets
    // `defaultDomain`. Each address must be an RFC 5321 §4.1.2 Mailbox of
    // dot-atom local part and a domain name; the first bad entry is named in
    // `error`.
    [[nodiscard]] static RecipientList parse(const QString &text, const QString &defaultDomain);
};

namespace Recipients {
// RFC 5321 §4.1.2 Mailbox with a dot-atom local part (no quoted local parts,
// which Mailroom's user names never need) and a domain of LDH labels.
[[nodiscard]] bool isValidAddress(QStringView address);
// "Name <address>" (the name quoted when it holds a separator or a quote, so
// that RecipientList::parse reads it back), or the address alone.
[[nodiscard]] QString format(const MailAddress &address);
// format() of each, joined by ", ".
[[nodiscard]] QString formatList(const QList<MailAddress> &addresses);
// formatList() of the addresses a summary lists, and " and N more" when the
// field has `count` (its toCount or ccCount) and more than are listed: the
// server lists at most 50 of a field.
[[nodiscard]] QString formatListed(const QList<MailAddress> &listed, qint64 count);
} // namespace Recipients
