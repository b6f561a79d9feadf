#include "messagebuilder.h"

#include "encodedwords.h"
#include "mailaddress.h"
#include "maildate.h"
#include "transferencoding.h"

#include <QRandomGenerator>

#include <algorithm>

namespace MessageBuilder {

namespace {

// Folds an ASCII value at spaces so that lines stay under 78 characters
// where a space allows it (RFC 5322 §2.2.3).
QByteArray foldAscii(const QByteArray &name, const QByteArray &value)
{
    QByteArray out = name + ':';
    qsizetype lineLength = out.size();
    for (const QByteArray &word : value.split(' ')) {
        if (lineLength + 1 + word.size() > 78 && lineLength > name.size() + 1) {
            out += "\r\n";
            lineLength = 0;
        }
        out += ' ' + word;
        lineLength += 1 + word.size();
    }
    return out + "\r\n";
}

// RFC 2045 §2.7 7bit data: US-ASCII without NUL or control characters
// other than tab, lines under 998 octets; anything else is quoted-printable.
bool isPlainSevenBit(const QByteArray &text)
{
    qsizetype lineLength = 0;
    for (const char c : text) {
        if (c == '\n') {
            lineLength = 0;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (byte > 126 || (byte < 32 && c != '\t') || ++lineLength > 998)
            return false;
    }
    return true;
}

QByteArray field(const QByteArray &name, const QByteArray &value)
{
    return name + ": " + value + "\r\n";
}

// The text as a body: UTF-8 with CRLF line ends, 7bit when it is plain
// ASCII in short lines, else quoted-printable.
struct TextBody
{
    QByteArray encoding;
    QByteArray bytes;
};

TextBody textBody(const QString &text)
{
    QString normalized = text;
    normalized.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    normalized.replace(u'\r', u'\n');
    const QByteArray utf8 = normalized.toUtf8();
    if (isPlainSevenBit(utf8)) {
        // Readable as it is in any mail store; nothing to encode.
        QByteArray body = utf8;
        return {QByteArrayLiteral("7bit"), body.replace("\n", "\r\n")};
    }
    return {QByteArrayLiteral("quoted-printable"), TransferEncoding::encodeQuotedPrintable(utf8)};
}

// RFC 2045 §5.1 token: printable ASCII without space or tspecials.
bool isToken(QByteArrayView value)
{
    if (value.isEmpty())
        return false;
    for (const char c : value) {
        if (c <= ' ' || c >= 127 || QByteArrayView("()<>@,;:\\\"/[]?=").contains(c))
            return false;
    }
    return true;
}

QByteArray mediaType(const QString &contentType)
{
    const QString trimmed = contentType.trimmed().toLower();
    const QByteArray type = trimmed.toLatin1();
    const qsizetype slash = type.indexOf('/');
    const bool valid = trimmed.size() == type.size() && QString::fromLatin1(type) == trimmed && slash > 0
        && isToken(QByteArrayView(type).first(slash)) && isToken(QByteArrayView(type).sliced(slash + 1));
    return valid ? type : QByteArrayLiteral("application/octet-stream");
}

// A parameter value that can go as a quoted string as it is: printable
// ASCII, short, and nothing a reader could take for an encoded word.
bool isPlainParameterValue(const QString &value)
{
    if (value.isEmpty() || value.size() > 60 || value.contains(QStringLiteral("=?")))
        return false;
    return std::all_of(value.cbegin(), value.cend(), [](QChar c) { return c.unicode() >= 0x20 && c.unicode() < 0x7f; });
}

QByteArray quotedString(const QString &value)
{
    QByteArray out = value.toLatin1();
    out.replace('\\', "\\\\").replace('"', "\\\"");
    return '"' + out + '"';
}

// RFC 2231 §4: `name*=UTF-8''%..`, in continuations (§3) of at most 50
// characters when longer, each on its own folded line, so that no line
// passes 78. A %XX is never split between two pieces.
QByteArray extendedParameter(const QByteArray &name, const QString &value)
{
    static const QByteArrayView attributeChars("!#$&+-.^_`|~");
    static const char hex[] = "0123456789ABCDEF";
    QList<QByteArray> pieces{QByteArray()};
    for (const char c : value.toUtf8()) {
        const auto byte = static_cast<unsigned char>(c);
        QByteArray encoded;
        if ((byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')
            || attributeChars.contains(c)) {
            encoded = QByteArray(1, c);
        } else {
            encoded = "%";
            encoded += hex[byte >> 4];
            encoded += hex[byte & 0xf];
        }
        if (pieces.last().size() + encoded.size() > 50)
            pieces.append(QByteArray());
        pieces.last() += encoded;
    }
    if (pieces.size() == 1)
        return "\r\n " + name + "*=UTF-8''" + pieces.first();
    QByteArray out;
    for (qsizetype i = 0; i < pieces.size(); ++i) {
        out += (i ? ";\r\n " : "\r\n ") + name + '*' + QByteArray::number(i) + '*' + '=';
        out += (i ? QByteArray() : QByteArrayLiteral("UTF-8''")) + pieces.at(i);
    }
    return out;
}

// RFC 2047 B words of whole characters (at most 39 UTF-8 bytes, 64
// characters a word) inside one quoted string, folded between words.
// RFC 2047 §5 does not allow them in a parameter, but the readers that do
// not know RFC 2231 read them there and nothing else.
QByteArray encodedWordParameter(const QByteArray &name, const QString &value)
{
    QList<QByteArray> words{QByteArray()};
    for (qsizetype i = 0; i < value.size(); ++i) {
        const qsizetype length = value.at(i).isHighSurrogate() && i + 1 < value.size() ? 2 : 1;
        const QByteArray character = value.mid(i, length).toUtf8();
        i += length - 1;
        if (words.last().size() + character.size() > 39)
            words.append(QByteArray());
        words.last() += character;
    }
    QByteArray out = "\r\n " + name + "=\"";
    for (qsizetype i = 0; i < words.size(); ++i)
        out += (i ? "\r\n " : "") + QByteArray("=?UTF-8?B?" + words.at(i).toBase64() + "?=");
    return out + '"';
}

QByteArray base64Lines(const QByteArray &data)
{
    const QByteArray encoded = data.toBase64();
    QByteArray out;
    out.reserve(base64Size(data.size()));
    for (qsizetype at = 0; at < encoded.size(); at += 76) {
        if (at > 0)
            out += "\r\n";
        out += QByteArrayView(encoded).sliced(at, std::min<qsizetype>(76, encoded.size() - at));
    }
    return out;
}

// Lines a 7bit part can carry exactly as they are: US-ASCII without NUL,
// CRLF line ends only, none over 998 octets, the last line ended.
bool isSevenBitLines(const QByteArray &data)
{
    qsizetype lineLength = 0;
    for (qsizetype i = 0; i < data.size(); ++i) {
        const auto byte = static_cast<unsigned char>(data.at(i));
        if (byte == '\r') {
            if (i + 1 >= data.size() || data.at(i + 1) != '\n')
                return false;
            ++i;
            lineLength = 0;
            continue;
        }
        if (byte == 0 || byte == '\n' || byte > 127 || ++lineLength > 998)
            return false;
    }
    return data.isEmpty() || data.endsWith("\r\n");
}

QByteArray attachmentPart(const OutgoingAttachment &attachment)
{
    const QString &filename = attachment.filename;
    QByteArray type = mediaType(attachment.contentType);
    // RFC 2046 §5.2.1 and §5.1: a message or multipart part is never base64.
    // A message goes as its own 7bit lines where they can; anything else of
    // those types as plain bytes, so that every byte arrives.
    const bool verbatim = type.startsWith("message/") && isSevenBitLines(attachment.data);
    if (!verbatim && (type.startsWith("message/") || type.startsWith("multipart/")))
        type = "application/octet-stream";
    QByteArray part = "Content-Type: " + type;
    QByteArray disposition = "Content-Disposition: attachment";
    if (isPlainParameterValue(filename)) {
        part += "; name=" + quotedString(filename);
        disposition += "; filename=" + quotedString(filename);
    } else if (!filename.isEmpty()) {
        part += ';' + encodedWordParameter("name", filename);
        disposition += ';' + extendedParameter("filename", filename);
    }
    if (verbatim) {
        // Its last CRLF is content; the one before the delimiter follows it.
        part += "\r\n" + disposition + "\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
        return part + attachment.data;
    }
    part += "\r\n" + disposition + "\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    return part + base64Lines(attachment.data);
}

// RFC 2046 §5.1.1: the boundary must not occur in any part. "=_" occurs
// in no base64 or quoted-printable text, so only a 7bit text or a header
// line could hold it (by a chance of 2^-128), and then another is drawn.
QByteArray boundaryFor(const QList<QByteArray> &parts)
{
    for (;;) {
        quint32 random[4];
        QRandomGenerator::system()->fillRange(random);
        const QByteArray boundary =
            "=_mailroom_" + QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex();
        const QByteArray delimiter = "--" + boundary;
        if (std::none_of(parts.cbegin(), parts.cend(), [&](const QByteArray &part) { return part.contains(delimiter); }))
            return boundary;
    }
}

} // namespace

qint64 base64Size(qint64 bytes)
{
    const qint64 encoded = (bytes + 2) / 3 * 4;
    const qint64 lines = (encoded + 75) / 76;
    return encoded + 2 * lines;
}

QString newMessageId(const QString &domain)
{
    quint32 random[4];
    QRandomGenerator::system()->fillRange(random);
    return u'<' + QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex()) + u'@'
        + (domain.isEmpty() ? QStringLiteral("localhost") : domain) + u'>';
}

QByteArray build(const OutgoingMessage &message)
{
    QByteArray out;
    const QDateTime date = message.date.isValid() ? message.date : QDateTime::currentDateTimeUtc();
    out += field("Date", MailDate::format(date));
    out += field("From", MailAddresses::format(message.from));
    if (!message.to.isEmpty())
        out += field("To", MailAddresses::formatList(message.to));
    if (!message.cc.isEmpty())
        out += field("Cc", MailAddresses::formatList(message.cc));
    const QByteArray subject = EncodedWords::encodeText(message.subject);
    out += subject.contains("=?") ? field("Subject", subject) : foldAscii("Subject", subject);
    const QString domain = message.from.address.section(u'@', -1);
    out += field("Message-ID", (message.messageId.isEmpty() ? newMessageId(domain) : message.messageId).toUtf8());
    if (!message.inReplyTo.isEmpty())
        out += field("In-Reply-To", message.inReplyTo.toUtf8());
    if (!message.references.isEmpty())
        out += field("References", message.references.join(QStringLiteral("\r\n ")).toUtf8());
    out += "MIME-Version: 1.0\r\n";
    const TextBody text = textBody(message.text);
    const QByteArray textHeaders = "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
        + text.encoding + "\r\n\r\n";
    if (message.attachments.isEmpty()) {
        out += textHeaders + text.bytes;
        if (!out.endsWith("\r\n"))
            out += "\r\n";
        return out;
    }

    QList<QByteArray> parts{textHeaders + text.bytes};
    for (const OutgoingAttachment &attachment : message.attachments)
        parts.append(attachmentPart(attachment));
    const QByteArray boundary = boundaryFor(parts);
    qsizetype size = out.size() + 100;
    for (const QByteArray &part : std::as_const(parts))
        size += part.size() + boundary.size() + 6;
    out.reserve(size);
    out += "Content-Type: multipart/mixed;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
    for (QByteArray &part : parts) {
        // The CRLF before each delimiter belongs to the delimiter (RFC 2046
        // §5.1.1), so a part's last line end, if it has one, is content.
        out += "--" + boundary + "\r\n" + part + "\r\n";
        part.clear(); // a large attachment is not kept twice longer than needed
    }
    out += "--" + boundary + "--\r\n";
    return out;
}

} // namespace MessageBuilder
