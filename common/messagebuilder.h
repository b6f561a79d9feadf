#pragma once

#include "messagesummary.h"

#include <QByteArray>
#include <QDateTime>
#include <QStringList>

// What the client composes.
struct OutgoingMessage
{
    MailAddress from;
    QList<MailAddress> to;
    QList<MailAddress> cc;
    QString subject;
    QString text;
    QDateTime date;    // invalid: now
    QString messageId; // empty: a new one in the sender's domain
    QString inReplyTo;
    QStringList references;
};

namespace MessageBuilder {

// An RFC 5322 message with CRLF line ends: RFC 2047 encoded words for
// non-ASCII header text, header lines folded under 78 characters where they
// can be, and the text as UTF-8: 7bit when it is plain ASCII in short
// lines, else quoted-printable (RFC 2045 §6.7), which survives any transport.
// MimeMessage::parse gives the fields back unchanged.
[[nodiscard]] QByteArray build(const OutgoingMessage &message);

// "<32 random hex digits@domain>", RFC 5322 §3.6.4.
[[nodiscard]] QString newMessageId(const QString &domain);

} // namespace MessageBuilder
