// The message parser of common/ on arbitrary bytes, as the store runs it
// at delivery (summary) and webd when a message is read (text, headers,
// attachments), and its pieces on their own: header block, encoded words,
// address lists, MIME parameters. The input is used in place
// (QByteArray::fromRawData over libFuzzer's exactly-sized buffer), so ASan
// sees any read past its end. Checked: the MIME tree is within its bounds
// and limits, all text is valid UTF-16, and a message built from what was
// parsed (MessageBuilder) parses back to the same fields, for the fields
// the builder can represent. Address lists: a bounded parse (the summary's
// MaxAddresses, and 3 so that short inputs pass the bound too) counts
// what the whole parse finds and keeps its first mailboxes.

#include "encodedwords.h"
#include "fuzzsupport.h"
#include "mailaddress.h"
#include "mailheaders.h"
#include "messagebuilder.h"
#include "mimemessage.h"

using FuzzSupport::check;
using FuzzSupport::fail;

namespace {

void checkText(const QString &text, const char *what)
{
    if (!text.isValidUtf16())
        fail(what, text.toUtf8());
}

void checkAddress(const MailAddress &address)
{
    checkText(address.name, "address name is not valid UTF-16");
    checkText(address.address, "address is not valid UTF-16");
}

// What the builder writes as given: an addr-spec of atoms, a name and a
// subject that are already in the parser's normal form (no control
// characters, single spaces, nothing at either end).
bool isSimpleAddress(const QString &address)
{
    const qsizetype at = address.indexOf(u'@');
    if (at <= 0 || at != address.lastIndexOf(u'@') || at == address.size() - 1)
        return false;
    for (const QChar c : address) {
        const char16_t u = c.unicode();
        const bool atext = (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9')
            || QStringView(u"!#$%&'*+/=?^_`{|}~-.@").contains(c);
        if (!atext)
            return false;
    }
    return !address.contains(u"..") && !address.startsWith(u'.') && !address.contains(u".@")
        && !address.contains(u"@.") && !address.endsWith(u'.');
}

bool isNormalText(const QString &text)
{
    for (const QChar c : text) {
        if (c.category() == QChar::Other_Control || c.category() == QChar::Other_Format || (c.isSpace() && c != u' '))
            return false;
    }
    return text == text.simplified();
}

bool isRepresentable(const MailAddress &address)
{
    return isSimpleAddress(address.address) && isNormalText(address.name);
}

bool allRepresentable(const QList<MailAddress> &addresses)
{
    return std::all_of(addresses.cbegin(), addresses.cend(), isRepresentable);
}

// The readable text the builder keeps: "\n" line ends, no other controls.
bool isRepresentableText(const QString &text)
{
    for (const QChar c : text) {
        if ((c.category() == QChar::Other_Control && c != u'\n' && c != u'\t') || c.category() == QChar::Other_Format)
            return false;
        if (c.isSpace() && c != u' ' && c != u'\n' && c != u'\t')
            return false;
    }
    return true;
}

QString withoutTrailingSpace(QString text)
{
    while (!text.isEmpty() && text.back().isSpace())
        text.chop(1);
    return text;
}

// parseList(raw, keep) against the whole parse.
void checkBoundedList(const QByteArray &raw, const AddressList &whole, qsizetype keep)
{
    const AddressList bounded = MailAddresses::parseList(raw, keep);
    check(whole.count == whole.addresses.size(), "an unbounded address list does not keep what it counts", raw);
    check(bounded.count == whole.count, "a bounded address list counts otherwise", raw);
    check(bounded.addresses == whole.addresses.first(std::min(keep, whole.addresses.size())),
          "a bounded address list keeps other addresses than the first", raw);
    check(bounded.complete == whole.complete && bounded.raw == whole.raw, "a bounded address list reads otherwise",
          raw);
}

// The summary keeps at most MaxAddresses of To and Cc, the field's first,
// and counts every one.
void checkSummaryList(const QByteArray &field, const QList<MailAddress> &kept, qint64 count)
{
    const AddressList whole = MailAddresses::parseList(field);
    check(kept.size() <= MessageSummary::MaxAddresses, "a summary keeps more than MaxAddresses", field.left(2000));
    check(count == whole.count, "a summary counts otherwise than the whole parse", field.left(2000));
    check(kept == whole.addresses.first(std::min<qsizetype>(MessageSummary::MaxAddresses, whole.addresses.size())),
          "a summary keeps other addresses than the field's first", field.left(2000));
}

void checkRoundTrip(const MimeMessage &parsed, const MessageSummary &summary)
{
    if (!isRepresentable(summary.from) || !allRepresentable(summary.to) || !allRepresentable(summary.cc)
        || !isNormalText(summary.subject) || !isRepresentableText(parsed.readableText())) {
        return;
    }
    OutgoingMessage outgoing;
    outgoing.from = summary.from;
    outgoing.to = summary.to;
    outgoing.cc = summary.cc;
    outgoing.subject = summary.subject;
    outgoing.text = parsed.readableText();
    outgoing.date = QDateTime(QDate(2026, 11, 22), QTime(13, 5, 7), Qt::UTC);
    const QByteArray built = MessageBuilder::build(outgoing);
    const MimeMessage reparsed = MimeMessage::parse(built);
    const MessageSummary again = reparsed.summary();
    const auto mismatch = [&](const char *what, const QString &before, const QString &after) {
        fail(what, (before + u"\n  became: " + after + u"\n  built: ").toUtf8() + built.left(2000));
    };
    const auto describe = [](const QList<MailAddress> &addresses) {
        QString out;
        for (const MailAddress &address : addresses)
            out += u'"' + address.name + u"\" <" + address.address + u"> ";
        return out;
    };
    if (again.from != outgoing.from)
        mismatch("From changes through build and parse", describe({outgoing.from}), describe({again.from}));
    if (again.to != outgoing.to)
        mismatch("To changes through build and parse", describe(outgoing.to), describe(again.to));
    if (again.cc != outgoing.cc)
        mismatch("Cc changes through build and parse", describe(outgoing.cc), describe(again.cc));
    if (again.subject != outgoing.subject)
        mismatch("Subject changes through build and parse", outgoing.subject, again.subject);
    if (again.date != outgoing.date)
        mismatch("Date changes through build and parse", outgoing.date.toString(Qt::ISODate), again.date.toString(Qt::ISODate));
    if (reparsed.readableText() != withoutTrailingSpace(outgoing.text))
        mismatch("the text changes through build and parse", outgoing.text, reparsed.readableText());
    check(reparsed.attachments().isEmpty(), "a built message has attachments", built.left(2000));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray raw = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));

    // The pieces on their own, on the whole input.
    if (size <= 4096) {
        checkText(EncodedWords::decode(raw), "decoded encoded words are not valid UTF-16");
        const AddressList list = MailAddresses::parseList(raw);
        checkText(list.raw, "address list text is not valid UTF-16");
        for (const MailAddress &address : list.addresses)
            checkAddress(address);
        checkBoundedList(raw, list, 3);
        const MimeHeaderValue value = MimeHeaderValue::parse(raw);
        for (const auto &[name, parameter] : value.parameters)
            checkText(parameter, "MIME parameter is not valid UTF-16");
        const HeaderBlock headers = HeaderBlock::parse(raw);
        check(headers.bodyOffset() >= 0 && headers.bodyOffset() <= raw.size(), "header block's body outside the input");
    }

    const MimeMessage message = MimeMessage::parse(raw);
    const QList<MimePart> &parts = message.parts();
    check(!parts.isEmpty() && parts.size() <= MimeMessage::MaxParts, "part count outside 1..MaxParts");
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const MimePart &part = parts.at(i);
        check(part.depth >= 0 && part.depth <= MimeMessage::MaxDepth, "part deeper than MaxDepth");
        check(0 <= part.bodyStart && part.bodyStart <= part.bodyEnd && part.bodyEnd <= raw.size(), "part body outside the message");
        check(i == 0 ? part.parent == -1 : (part.parent >= 0 && part.parent < i), "parent not before its part");
        for (const int child : part.children)
            check(child > i && child < parts.size() && parts.at(child).parent == i, "child index wrong");
        if (part.parent >= 0) {
            const MimePart &parent = parts.at(part.parent);
            check(parent.bodyStart <= part.bodyStart && part.bodyEnd <= parent.bodyEnd, "part outside its parent's body");
        }
    }

    const MessageSummary summary = message.summary();
    checkAddress(summary.from);
    for (const MailAddress &address : summary.to + summary.cc)
        checkAddress(address);
    checkSummaryList(message.headers().value("To"), summary.to, summary.toCount);
    checkSummaryList(message.headers().value("Cc"), summary.cc, summary.ccCount);
    checkText(summary.subject, "subject is not valid UTF-16");
    checkText(summary.messageId, "Message-ID is not valid UTF-16");
    checkText(summary.inReplyTo, "In-Reply-To is not valid UTF-16");
    checkText(summary.preview, "preview is not valid UTF-16");
    check(summary.preview.size() <= 2 * MimeMessage::PreviewLength, "preview over its length");
    checkText(message.readableText(), "readable text is not valid UTF-16");
    for (const auto &[name, value] : message.decodedHeaders()) {
        checkText(name, "header name is not valid UTF-16");
        checkText(value, "header value is not valid UTF-16");
    }
    const QList<AttachmentInfo> attachments = message.attachments();
    for (qsizetype i = 0; i < attachments.size(); ++i) {
        checkText(attachments.at(i).filename, "attachment name is not valid UTF-16");
        const std::optional<QByteArray> content = message.attachmentData(int(i));
        check(content.has_value() && content->size() == attachments.at(i).size, "attachment size differs from its data");
    }
    check(!message.attachmentData(int(attachments.size())).has_value(), "data for an attachment that does not exist");
    check(!message.attachmentData(-1).has_value(), "data for attachment -1");

    checkRoundTrip(message, summary);
    return 0;
}
