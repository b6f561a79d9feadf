#include "mailaddress.h"

#include "encodedwords.h"

namespace MailAddresses {

namespace {

QString foldWhiteSpace(const QString &text)
{
    return text.simplified();
}

// Reads a quoted string starting at raw[*pos] == '"'; returns its content
// with escapes resolved and leaves *pos after the closing quote.
QByteArray readQuoted(QByteArrayView raw, qsizetype *pos)
{
    QByteArray out;
    qsizetype i = *pos + 1;
    while (i < raw.size() && raw[i] != '"') {
        if (raw[i] == '\\' && i + 1 < raw.size())
            ++i;
        out.append(raw[i++]);
    }
    *pos = std::min(raw.size(), i + 1);
    return out;
}

// Reads a (nested) comment starting at raw[*pos] == '('; returns its text.
QByteArray readComment(QByteArrayView raw, qsizetype *pos)
{
    QByteArray out;
    int depth = 0;
    qsizetype i = *pos;
    for (; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '\\' && i + 1 < raw.size()) {
            out.append(raw[++i]);
            continue;
        }
        if (c == '(') {
            if (depth++ > 0)
                out.append(c);
        } else if (c == ')') {
            if (--depth == 0) {
                ++i;
                break;
            }
            out.append(c);
        } else {
            out.append(c);
        }
    }
    *pos = i;
    return out;
}

bool plausibleAddress(const QByteArray &address)
{
    const qsizetype at = address.lastIndexOf('@');
    if (at <= 0 || at == address.size() - 1)
        return false;
    return std::none_of(address.cbegin(), address.cend(),
                        [](char c) { return c == ' ' || c == '<' || c == '>' || c == ',' || c == '"'; });
}

// One mailbox: [phrase] <addr> or addr-spec [comment]. Without `decode`
// only whether it parses is found out: an empty MailAddress when it does.
std::optional<MailAddress> parseMailbox(QByteArrayView raw, bool decode)
{
    QByteArray phrase;    // display name words, quotes removed, for RFC 2047 decoding
    QByteArray bare;      // everything outside quotes, comments and angle brackets
    QByteArray comment;
    QByteArray angle;
    bool sawAngle = false;
    qsizetype i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '"') {
            const QByteArray quoted = readQuoted(raw, &i);
            phrase += quoted;
            bare += '"' + quoted + '"';
        } else if (c == '(') {
            const QByteArray text = readComment(raw, &i);
            if (comment.isEmpty())
                comment = text;
            phrase += ' ';
        } else if (c == '<' && !sawAngle) {
            const qsizetype close = raw.indexOf('>', i);
            const qsizetype end = close < 0 ? raw.size() : close;
            angle = raw.sliced(i + 1, end - i - 1).toByteArray();
            sawAngle = true;
            i = close < 0 ? raw.size() : close + 1;
        } else {
            phrase += c;
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
                bare += c;
            ++i;
        }
    }
    MailAddress mailbox;
    if (sawAngle) {
        QByteArray address = angle.trimmed();
        // RFC 5322 §4.4 obsolete route: "<@relay1,@relay2:user@host>"
        if (address.startsWith('@')) {
            const qsizetype colon = address.indexOf(':');
            if (colon >= 0)
                address = address.mid(colon + 1).trimmed();
        }
        address.replace(' ', QByteArray());
        if (address.isEmpty() || !plausibleAddress(address))
            return std::nullopt;
        if (!decode)
            return mailbox;
        mailbox.address = QString::fromUtf8(address);
        mailbox.name = foldWhiteSpace(EncodedWords::decode(phrase.trimmed()));
        if (mailbox.name.isEmpty() && !comment.isEmpty())
            mailbox.name = foldWhiteSpace(EncodedWords::decode(comment));
    } else {
        if (!plausibleAddress(bare))
            return std::nullopt;
        if (!decode)
            return mailbox;
        mailbox.address = QString::fromUtf8(bare);
        mailbox.name = foldWhiteSpace(EncodedWords::decode(comment));
    }
    return mailbox;
}

} // namespace

AddressList parseList(QByteArrayView raw, qsizetype keep)
{
    AddressList list;
    list.raw = EncodedWords::decode(raw.trimmed()).simplified();
    qsizetype elementStart = 0;
    const auto finishElement = [&](qsizetype end) {
        const QByteArrayView element = raw.sliced(elementStart, end - elementStart).trimmed();
        if (!element.isEmpty()) {
            const bool kept = list.addresses.size() < keep;
            if (const auto mailbox = parseMailbox(element, kept)) {
                if (kept)
                    list.addresses.append(*mailbox);
                ++list.count;
            } else {
                list.complete = false;
            }
        }
        elementStart = end + 1;
    };
    qsizetype i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '"') {
            readQuoted(raw, &i);
        } else if (c == '(') {
            readComment(raw, &i);
        } else if (c == '<') {
            const qsizetype close = raw.indexOf('>', i);
            i = close < 0 ? raw.size() : close + 1;
        } else if (c == '[') {
            // A domain literal may hold colons: "a@[IPv6:::1]"
            const qsizetype close = raw.indexOf(']', i);
            i = close < 0 ? raw.size() : close + 1;
        } else if (c == ',') {
            finishElement(i);
            ++i;
        } else if (c == ':') {
            // A group: its name is dropped, its members follow.
            elementStart = i + 1;
            ++i;
        } else if (c == ';') {
            finishElement(i);
            ++i;
        } else {
            ++i;
        }
    }
    if (elementStart < raw.size())
        finishElement(raw.size());
    return list;
}

QByteArray format(const MailAddress &address)
{
    const QByteArray spec = address.address.toUtf8();
    if (address.name.isEmpty())
        return spec;
    const QByteArray phrase = EncodedWords::encodePhrase(address.name);
    // Fold before the address when the name's last line leaves no room for
    // it; "From: " (6) is the longest prefix a first line has.
    const qsizetype lastLine = phrase.contains('\n') ? phrase.size() - phrase.lastIndexOf('\n') - 1 : phrase.size() + 6;
    const bool fold = lastLine + 3 + spec.size() > 78;
    return phrase + (fold ? "\r\n <" : " <") + spec + '>';
}

QByteArray formatList(const QList<MailAddress> &addresses)
{
    QByteArray out;
    for (const MailAddress &address : addresses) {
        if (!out.isEmpty())
            out += ",\r\n ";
        out += format(address);
    }
    return out;
}

} // namespace MailAddresses
