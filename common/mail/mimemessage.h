#pragma once

#include "mailheaders.h"
#include "messagesummary.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

// One node of a message's MIME tree (RFC 2045/2046). Offsets point into the
// message bytes; nothing is copied.
struct MimePart
{
    int parent = -1;
    int depth = 0;
    QList<int> children;
    HeaderBlock headers;
    QByteArray contentType; // lower-case type/subtype, defaults applied
    MimeHeaderValue contentTypeValue;
    MimeHeaderValue disposition;
    QByteArray transferEncoding; // lower-case
    qsizetype bodyStart = 0;
    qsizetype bodyEnd = 0;
    bool insideAttachedMessage = false; // below a message/rfc822 part

    [[nodiscard]] bool isMultipart() const { return !children.isEmpty() || contentType.startsWith("multipart/"); }
    [[nodiscard]] bool isAttachedMessage() const { return contentType == "message/rfc822" && parent >= 0; }
    [[nodiscard]] bool isLeaf() const { return children.isEmpty() || isAttachedMessage(); }
};

// A parsed RFC 5322 message: headers, MIME tree, readable text, attachments
// and the summary that listings show (docs/protocol/messages.md §2, §5).
// Parsing never fails and its work is bounded: at most MaxDepth levels and
// MaxParts parts, each byte scanned a bounded number of times.
class MimeMessage
{
public:
    static constexpr int MaxDepth = 32;
    static constexpr int MaxParts = 20000;
    static constexpr int PreviewLength = 160;

    [[nodiscard]] static MimeMessage parse(const QByteArray &raw);

    [[nodiscard]] const QByteArray &raw() const { return m_raw; }
    [[nodiscard]] const HeaderBlock &headers() const { return m_parts.first().headers; }
    // Pre-order, so in message order; part 0 is the message itself.
    [[nodiscard]] const QList<MimePart> &parts() const { return m_parts; }

    // The first text/plain part that is not an attachment, or else the
    // first such text/html part reduced to text; "\n" line ends, format=flowed
    // unwrapped, no trailing white space.
    [[nodiscard]] QString readableText() const { return m_text; }
    // True when a text charset was unknown and read as ISO-8859-1.
    [[nodiscard]] bool charsetFallback() const { return m_charsetFallback; }
    [[nodiscard]] QList<AttachmentInfo> attachments() const { return m_attachments; }
    // The decoded bytes of attachments().at(index).
    [[nodiscard]] std::optional<QByteArray> attachmentData(int index) const;

    [[nodiscard]] MessageSummary summary() const;
    // Every header field in message order, name as written, value unfolded and decoded.
    [[nodiscard]] QList<std::pair<QString, QString>> decodedHeaders() const;

    // The preview of docs/protocol/web.md §2: the first 160 characters, white
    // space runs folded to one space.
    [[nodiscard]] static QString preview(const QString &text);

private:
    void parsePart(int index, QByteArrayView data, qsizetype offset);
    void splitMultipart(int index);
    void chooseTextAndAttachments();
    QString decodeText(const MimePart &part);

    QByteArray m_raw;
    QList<MimePart> m_parts;
    QString m_text;
    bool m_charsetFallback = false;
    QList<int> m_attachmentParts;
    QList<AttachmentInfo> m_attachments;
};
