#include "mimemessage.h"

#include "charsets.h"
#include "encodedwords.h"
#include "htmltext.h"
#include "mailaddress.h"
#include "maildate.h"
#include "transferencoding.h"

#include <QSet>

namespace {

QByteArray effectiveContentType(const MimeHeaderValue &value, bool parentIsDigest)
{
    const QByteArray &type = value.value;
    const qsizetype slash = type.indexOf('/');
    // RFC 2045 §5.2: a missing or invalid Content-Type means text/plain
    // (RFC 2046 §5.1.5: message/rfc822 inside multipart/digest).
    if (slash <= 0 || slash == type.size() - 1 || type.contains(' '))
        return parentIsDigest ? QByteArrayLiteral("message/rfc822") : QByteArrayLiteral("text/plain");
    return type;
}

QString extensionFor(const QByteArray &contentType)
{
    static const QList<std::pair<QByteArray, QString>> extensions = {
        {"text/plain", QStringLiteral(".txt")},  {"text/html", QStringLiteral(".html")},
        {"message/rfc822", QStringLiteral(".eml")}, {"image/png", QStringLiteral(".png")},
        {"image/jpeg", QStringLiteral(".jpg")},  {"image/gif", QStringLiteral(".gif")},
        {"application/pdf", QStringLiteral(".pdf")},
    };
    for (const auto &[type, extension] : extensions) {
        if (type == contentType)
            return extension;
    }
    return QStringLiteral(".bin");
}

// A name offered for saving must not lead anywhere but into the chosen folder.
QString safeFilename(QString name)
{
    name = name.section(u'/', -1).section(u'\\', -1);
    name.removeIf([](QChar c) { return c.unicode() < 32 || c.unicode() == 127; });
    name = name.trimmed();
    if (name == u"." || name == u"..")
        return {};
    return name;
}

// RFC 3676 §4.2: joins the soft line breaks of format=flowed text, removes
// space-stuffing, and keeps quote depth.
QString unflow(const QString &text, bool delSp)
{
    QStringList out;
    QString paragraph;
    int paragraphDepth = -1;
    bool open = false;
    const auto emitParagraph = [&] {
        out.append(paragraphDepth > 0 ? QString(paragraphDepth, u'>') + u' ' + paragraph : paragraph);
        open = false;
    };
    for (QStringView line : QStringView(text).split(u'\n')) {
        int depth = 0;
        while (depth < line.size() && line[depth] == u'>')
            ++depth;
        QString content = line.sliced(depth).toString();
        if (content.startsWith(u' '))
            content.remove(0, 1);
        const bool soft = content.endsWith(u' ') && content != u"-- ";
        if (open && depth != paragraphDepth)
            emitParagraph();
        if (!open) {
            paragraph.clear();
            paragraphDepth = depth;
        }
        paragraph += content;
        if (soft && delSp)
            paragraph.chop(1);
        if (soft)
            open = true;
        else
            emitParagraph();
    }
    if (open)
        emitParagraph();
    return out.join(u'\n');
}

} // namespace

MimeMessage MimeMessage::parse(const QByteArray &raw)
{
    MimeMessage message;
    message.m_raw = raw;
    message.m_parts.append(MimePart{});
    message.parsePart(0, raw, 0);
    message.chooseTextAndAttachments();
    return message;
}

void MimeMessage::parsePart(int index, QByteArrayView data, qsizetype offset)
{
    {
        MimePart &part = m_parts[index];
        part.headers = HeaderBlock::parse(data);
        part.bodyStart = offset + part.headers.bodyOffset();
        part.bodyEnd = offset + data.size();
        part.contentTypeValue = MimeHeaderValue::parse(part.headers.value("Content-Type"));
        const bool parentIsDigest = part.parent >= 0 && m_parts.at(part.parent).contentType == "multipart/digest";
        part.contentType = effectiveContentType(part.contentTypeValue, parentIsDigest);
        part.disposition = MimeHeaderValue::parse(part.headers.value("Content-Disposition"));
        part.transferEncoding = part.headers.value("Content-Transfer-Encoding").toLower();
        if (part.contentType.startsWith("multipart/") && part.contentTypeValue.parameter("boundary").isEmpty())
            part.contentType = "text/plain"; // unusable without a boundary: show it as text
    }
    const MimePart &part = m_parts.at(index);
    if (part.depth >= MaxDepth)
        return;
    if (part.contentType.startsWith("multipart/")) {
        splitMultipart(index);
    } else if (part.contentType == "message/rfc822" && m_parts.size() < MaxParts) {
        MimePart child;
        child.parent = index;
        child.depth = part.depth + 1;
        child.insideAttachedMessage = true;
        const qsizetype start = part.bodyStart;
        const qsizetype end = part.bodyEnd;
        m_parts.append(child);
        const int childIndex = int(m_parts.size() - 1);
        m_parts[index].children.append(childIndex);
        parsePart(childIndex, QByteArrayView(m_raw).sliced(start, end - start), start);
    }
}

// RFC 2046 §5.1.1: a delimiter is "--" boundary at the start of a line,
// optionally "--" (the last one), then optional white space and the line
// end. The line end before a delimiter belongs to it. Preamble and epilogue
// are ignored; a missing final delimiter ends the last part at the end.
void MimeMessage::splitMultipart(int index)
{
    const QByteArray delimiter = "--" + m_parts.at(index).contentTypeValue.parameter("boundary").toUtf8();
    const qsizetype base = m_parts.at(index).bodyStart;
    const QByteArrayView body = QByteArrayView(m_raw).sliced(base, m_parts.at(index).bodyEnd - base);
    const qsizetype size = body.size();

    const auto addChild = [&](qsizetype start, qsizetype end) {
        if (m_parts.size() >= MaxParts)
            return;
        MimePart child;
        child.parent = index;
        child.depth = m_parts.at(index).depth + 1;
        child.insideAttachedMessage = m_parts.at(index).insideAttachedMessage;
        m_parts.append(child);
        const int childIndex = int(m_parts.size() - 1);
        m_parts[index].children.append(childIndex);
        parsePart(childIndex, body.sliced(start, end - start), base + start);
    };

    qsizetype partStart = -1;
    qsizetype pos = 0;
    for (;;) {
        const qsizetype found = body.indexOf(delimiter, pos);
        if (found < 0)
            break;
        pos = found + 1;
        if (found > 0 && body[found - 1] != '\n')
            continue;
        qsizetype after = found + delimiter.size();
        const bool last = body.sliced(after).startsWith("--");
        if (last)
            after += 2;
        while (after < size && (body[after] == ' ' || body[after] == '\t'))
            ++after;
        const bool lineEnds = after == size || body[after] == '\n'
            || (body[after] == '\r' && (after + 1 == size || body[after + 1] == '\n'));
        if (!lineEnds)
            continue; // "--boundaryX" is not "--boundary"
        if (partStart >= 0) {
            qsizetype partEnd = found;
            if (partEnd > partStart && body[partEnd - 1] == '\n')
                --partEnd;
            if (partEnd > partStart && body[partEnd - 1] == '\r')
                --partEnd;
            addChild(partStart, partEnd);
        }
        if (last) {
            partStart = -1;
            break;
        }
        partStart = after == size ? size : std::min(size, after + (body[after] == '\r' ? 2 : 1));
        pos = partStart;
    }
    if (partStart >= 0)
        addChild(partStart, size);
}

QString MimeMessage::decodeText(const MimePart &part)
{
    const QByteArray bytes = TransferEncoding::decode(
        QByteArrayView(m_raw).sliced(part.bodyStart, part.bodyEnd - part.bodyStart), part.transferEncoding);
    bool known = true;
    QString text = Charsets::decode(bytes, part.contentTypeValue.parameter("charset").toLatin1(), &known);
    if (!known)
        m_charsetFallback = true;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    text.replace(u'\r', u'\n');
    if (part.contentType == "text/html") {
        text = htmlToText(text);
    } else if (part.contentTypeValue.parameter("format").compare(u"flowed", Qt::CaseInsensitive) == 0) {
        text = unflow(text, part.contentTypeValue.parameter("delsp").compare(u"yes", Qt::CaseInsensitive) == 0);
    }
    qsizetype end = text.size();
    while (end > 0 && text.at(end - 1).isSpace())
        --end;
    text.truncate(end);
    return text;
}

void MimeMessage::chooseTextAndAttachments()
{
    const auto isBodyCandidate = [](const MimePart &part, QByteArrayView type) {
        return part.isLeaf() && !part.insideAttachedMessage && part.contentType == type
            && part.disposition.value != "attachment";
    };
    int textPart = -1;
    for (QByteArrayView type : {QByteArrayView("text/plain"), QByteArrayView("text/html")}) {
        for (int i = 0; i < m_parts.size() && textPart < 0; ++i) {
            if (isBodyCandidate(m_parts.at(i), type))
                textPart = i;
        }
        if (textPart >= 0)
            break;
    }
    // Pre-order: a part's subtree is the run of following parts that are deeper.
    const auto subtreeEnd = [this](int index) {
        int end = index + 1;
        while (end < m_parts.size() && m_parts.at(end).depth > m_parts.at(index).depth)
            ++end;
        return end;
    };
    QSet<int> notAttachments;
    if (textPart >= 0) {
        m_text = decodeText(m_parts.at(textPart));
        notAttachments.insert(textPart);
        // The other text versions of the same content are not attachments.
        for (int child = textPart, ancestor = m_parts.at(textPart).parent; ancestor >= 0;
             child = ancestor, ancestor = m_parts.at(ancestor).parent) {
            if (m_parts.at(ancestor).contentType != "multipart/alternative")
                continue;
            for (int i = ancestor + 1; i < subtreeEnd(ancestor); ++i) {
                if (i >= child && i < subtreeEnd(child))
                    continue;
                if (isBodyCandidate(m_parts.at(i), "text/plain") || isBodyCandidate(m_parts.at(i), "text/html"))
                    notAttachments.insert(i);
            }
        }
    }
    for (int i = 0; i < m_parts.size(); ++i) {
        const MimePart &part = m_parts.at(i);
        if (!part.isLeaf() || part.insideAttachedMessage || notAttachments.contains(i))
            continue;
        const int index = int(m_attachments.size());
        QString filename = safeFilename(part.disposition.parameter("filename"));
        if (filename.isEmpty())
            filename = safeFilename(part.contentTypeValue.parameter("name"));
        if (filename.isEmpty())
            filename = QStringLiteral("part-%1").arg(index + 1) + extensionFor(part.contentType);
        m_attachmentParts.append(i);
        m_attachments.append({index, filename, QString::fromLatin1(part.contentType), 0});
        m_attachments.last().size = attachmentData(index).value_or(QByteArray()).size();
    }
}

std::optional<QByteArray> MimeMessage::attachmentData(int index) const
{
    if (index < 0 || index >= m_attachmentParts.size())
        return std::nullopt;
    const MimePart &part = m_parts.at(m_attachmentParts.at(index));
    return TransferEncoding::decode(QByteArrayView(m_raw).sliced(part.bodyStart, part.bodyEnd - part.bodyStart),
                                    part.transferEncoding);
}

MessageSummary MimeMessage::summary() const
{
    const HeaderBlock &top = headers();
    MessageSummary summary;
    const AddressList from = MailAddresses::parseList(top.value("From"), 1);
    if (!from.addresses.isEmpty())
        summary.from = from.addresses.first();
    else
        summary.from.name = from.raw; // shown as written when it does not parse
    AddressList to = MailAddresses::parseList(top.value("To"), MessageSummary::MaxAddresses);
    summary.to = std::move(to.addresses);
    summary.toCount = to.count;
    AddressList cc = MailAddresses::parseList(top.value("Cc"), MessageSummary::MaxAddresses);
    summary.cc = std::move(cc.addresses);
    summary.ccCount = cc.count;
    summary.subject = EncodedWords::decode(top.value("Subject")).trimmed();
    if (const auto date = MailDate::parse(top.value("Date")))
        summary.date = *date;
    summary.messageId = QString::fromUtf8(top.value("Message-ID"));
    const QByteArray inReplyTo = top.value("In-Reply-To");
    const qsizetype open = inReplyTo.indexOf('<');
    const qsizetype close = open < 0 ? -1 : inReplyTo.indexOf('>', open);
    summary.inReplyTo = QString::fromUtf8(close > open ? inReplyTo.mid(open, close - open + 1) : inReplyTo);
    summary.preview = preview(m_text);
    summary.attachments = m_attachments;
    return summary;
}

QList<std::pair<QString, QString>> MimeMessage::decodedHeaders() const
{
    QList<std::pair<QString, QString>> result;
    for (const HeaderField &field : headers().fields())
        result.append({QString::fromLatin1(field.name), EncodedWords::decode(field.value.trimmed())});
    return result;
}

QString MimeMessage::preview(const QString &text)
{
    QString out;
    int characters = 0;
    bool pendingSpace = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isSpace()) {
            pendingSpace = characters > 0;
            continue;
        }
        if (pendingSpace) {
            if (characters + 1 >= PreviewLength)
                break; // a space would be the last character
            out += u' ';
            ++characters;
            pendingSpace = false;
        }
        out += c;
        if (c.isHighSurrogate() && i + 1 < text.size())
            out += text.at(++i);
        if (++characters == PreviewLength)
            break;
    }
    return out;
}
