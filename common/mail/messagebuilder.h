#pragma once

#include "messagesummary.h"

#include <QByteArray>
#include <QDateTime>
#include <QStringList>

// A file sent with a message: its bytes go base64-encoded in a part of
// their own (RFC 2045 §6.8), as a Content-Disposition attachment (RFC 2183).
struct OutgoingAttachment
{
    QString filename;    // any Unicode; written as RFC 2231 when not plain ASCII
    QString contentType; // "type/subtype"; empty or malformed: application/octet-stream
    QByteArray data;

    friend bool operator==(const OutgoingAttachment &, const OutgoingAttachment &) = default;
};

// What the client composes. Bcc recipients are the envelope's business
// only: no field here ever becomes a Bcc header.
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
    QList<OutgoingAttachment> attachments;
};

namespace MessageBuilder {

// An RFC 5322 message with CRLF line ends: RFC 2047 encoded words for
// non-ASCII header text, header lines folded under 78 characters where they
// can be, and the text as UTF-8: 7bit when it is plain ASCII in short
// lines, else quoted-printable (RFC 2045 §6.7), which survives any transport.
// MimeMessage::parse gives the fields back unchanged.
// With attachments the body is multipart/mixed (RFC 2046 §5.1.3): the text
// part first, then each attachment base64 in lines of 76 with its content
// type, `filename` (RFC 2231 `filename*` when not plain ASCII) and an RFC
// 2047 `name` on the Content-Type for older readers; the boundary occurs
// nowhere in the content. MimeMessage::parse gives every byte back.
[[nodiscard]] QByteArray build(const OutgoingMessage &message);

// The size `bytes` of attachment data take base64-encoded in lines of 76
// with CRLF (RFC 2045 §6.8), the part's own header lines not counted.
[[nodiscard]] qint64 base64Size(qint64 bytes);

// "<32 random hex digits@domain>", RFC 5322 §3.6.4.
[[nodiscard]] QString newMessageId(const QString &domain);

} // namespace MessageBuilder
