#include "imapmessage.h"

#include "imapresponse.h"

#include "transferencoding.h"

#include <algorithm>

namespace {

const QByteArray Nil = QByteArrayLiteral("NIL");

bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

bool isCfwsSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

QByteArray nstring(const std::optional<QByteArray> &value)
{
    return value ? ImapResponse::string(*value) : Nil;
}

// A header field's value as written (unfolded, trimmed); NIL when the
// field is absent, "" when it is there with nothing in it.
QByteArray headerNString(const HeaderBlock &headers, QByteArrayView name)
{
    return headers.contains(name) ? ImapResponse::string(headers.value(name)) : Nil;
}

QByteArray listOrNil(const QList<QByteArray> &items, const QByteArray &separator)
{
    if (items.isEmpty())
        return Nil;
    return '(' + items.join(separator) + ')';
}

// ---------------------------------------------------------------------------
// RFC 5322 structured values, read as real mail writes them: unterminated
// quotes, comments and brackets run to the end of the value.

// From raw[pos] == '"' to after the closing quote.
qsizetype skipQuoted(QByteArrayView raw, qsizetype pos)
{
    for (++pos; pos < raw.size(); ++pos) {
        if (raw[pos] == '\\')
            ++pos;
        else if (raw[pos] == '"')
            return pos + 1;
    }
    return raw.size();
}

// From raw[pos] == '(' to after the matching ')' (comments nest, §3.2.2).
qsizetype skipComment(QByteArrayView raw, qsizetype pos)
{
    int depth = 0;
    for (; pos < raw.size(); ++pos) {
        if (raw[pos] == '\\')
            ++pos;
        else if (raw[pos] == '(')
            ++depth;
        else if (raw[pos] == ')' && --depth == 0)
            return pos + 1;
    }
    return raw.size();
}

// From raw[pos] == open to after `close`, quoted strings skipped.
qsizetype skipBracketed(QByteArrayView raw, qsizetype pos, char close)
{
    for (++pos; pos < raw.size(); ++pos) {
        if (raw[pos] == '"')
            pos = skipQuoted(raw, pos) - 1;
        else if (raw[pos] == close)
            return pos + 1;
    }
    return raw.size();
}

// The content of the quoted string at raw[pos] == '"', escapes resolved.
QByteArray quotedContent(QByteArrayView raw, qsizetype pos)
{
    QByteArray out;
    for (qsizetype i = pos + 1; i < raw.size() && raw[i] != '"'; ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size())
            ++i;
        out += raw[i];
    }
    return out;
}

// What a display name or group name says: its words (atoms as written,
// quoted strings without their quotes and escapes) separated by single
// spaces; comments count as white space, the first one is kept for a
// mailbox that has no name otherwise ("bob@x (Bob)").
QByteArray phraseOf(QByteArrayView raw, QByteArray *firstComment = nullptr)
{
    QByteArray out;
    bool pendingSpace = false;
    const auto startWord = [&] {
        if (pendingSpace && !out.isEmpty())
            out += ' ';
        pendingSpace = false;
    };
    qsizetype pos = 0;
    while (pos < raw.size()) {
        const char c = raw[pos];
        if (c == '"') {
            startWord();
            out += quotedContent(raw, pos);
            pos = skipQuoted(raw, pos);
        } else if (c == '(') {
            const qsizetype end = skipComment(raw, pos);
            if (firstComment && firstComment->isEmpty()) {
                const qsizetype inner = raw[end - 1] == ')' ? end - 1 : end;
                *firstComment = raw.sliced(pos + 1, inner - pos - 1).trimmed().toByteArray();
            }
            pendingSpace = true;
            pos = end;
        } else if (isCfwsSpace(c)) {
            pendingSpace = true;
            ++pos;
        } else {
            startWord();
            out += c;
            ++pos;
        }
    }
    return out;
}

// An addr-spec without its comments, quoted strings and domain literals as
// written. White space outside them is dropped (CFWS around the dots is
// obsolete syntax) or, for text that is no addr-spec, folded to one space.
QByteArray withoutCfws(QByteArrayView raw, bool foldSpace)
{
    QByteArray out;
    bool pendingSpace = false;
    qsizetype pos = 0;
    while (pos < raw.size()) {
        const char c = raw[pos];
        if (c == '(') {
            pos = skipComment(raw, pos);
            pendingSpace = true;
            continue;
        }
        if (isCfwsSpace(c)) {
            pendingSpace = true;
            ++pos;
            continue;
        }
        if (pendingSpace && foldSpace && !out.isEmpty())
            out += ' ';
        pendingSpace = false;
        const qsizetype end = c == '"' ? skipQuoted(raw, pos) : c == '[' ? skipBracketed(raw, pos, ']') : pos + 1;
        out += raw.sliced(pos, end - pos);
        pos = end;
    }
    return out;
}

// The last "@" outside quoted strings and domain literals; -1 when none.
qsizetype lastAt(QByteArrayView spec)
{
    qsizetype found = -1;
    for (qsizetype pos = 0; pos < spec.size();) {
        if (spec[pos] == '"') {
            pos = skipQuoted(spec, pos);
        } else if (spec[pos] == '[') {
            pos = skipBracketed(spec, pos, ']');
        } else {
            if (spec[pos] == '@')
                found = pos;
            ++pos;
        }
    }
    return found;
}

QByteArray addressItem(const std::optional<QByteArray> &name, const std::optional<QByteArray> &adl,
                       const std::optional<QByteArray> &mailbox, const std::optional<QByteArray> &host)
{
    return '(' + nstring(name) + ' ' + nstring(adl) + ' ' + nstring(mailbox) + ' ' + nstring(host) + ')';
}

// One mailbox of an address list as RFC 9051's address: (name adl mailbox
// host). Nothing at all gives no address. A missing domain gives host ""
// (NIL would make it a group marker); text that is no address at all
// ("Undisclosed recipients") is the mailbox, folded.
std::optional<QByteArray> mailboxItem(QByteArrayView element)
{
    qsizetype angle = -1;
    for (qsizetype pos = 0; pos < element.size() && angle < 0;) {
        const char c = element[pos];
        if (c == '"')
            pos = skipQuoted(element, pos);
        else if (c == '(')
            pos = skipComment(element, pos);
        else if (c == '<')
            angle = pos;
        else
            ++pos;
    }
    QByteArray comment;
    QByteArray phrase;
    QByteArray spec;
    if (angle >= 0) {
        phrase = phraseOf(element.first(angle), &comment);
        const qsizetype end = skipBracketed(element, angle, '>');
        const qsizetype inner = element[end - 1] == '>' ? end - 1 : end;
        spec = withoutCfws(element.sliced(angle + 1, inner - angle - 1), false);
        phraseOf(element.sliced(end), &comment); // after the ">" only comments count
    } else {
        phraseOf(element, &comment);
        spec = withoutCfws(element, false);
    }
    std::optional<QByteArray> adl;
    // RFC 5322 §4.4 obsolete route: "<@relay1,@relay2:user@host>"
    if (spec.startsWith('@') && spec.contains(':')) {
        const qsizetype colon = spec.indexOf(':');
        adl = spec.first(colon);
        spec = spec.sliced(colon + 1);
    }
    const qsizetype at = lastAt(spec);
    QByteArray mailbox;
    QByteArray host;
    if (at >= 0) {
        mailbox = spec.first(at);
        host = spec.sliced(at + 1);
    } else {
        mailbox = angle >= 0 ? spec : withoutCfws(element, true);
    }
    std::optional<QByteArray> name;
    if (!phrase.isEmpty())
        name = phrase;
    else if (!comment.isEmpty())
        name = comment;
    if (!name && mailbox.isEmpty() && host.isEmpty())
        return std::nullopt;
    return addressItem(name, adl, mailbox, host);
}

// An address list (From, To, ...) as RFC 9051's list of addresses, groups
// as their start marker (NIL NIL "name" NIL), their members and their end
// marker (NIL NIL NIL NIL). A group not closed by ";" ends with the field.
QList<QByteArray> addressItems(QByteArrayView raw)
{
    QList<QByteArray> items;
    bool inGroup = false;
    qsizetype start = 0;
    const auto finishMailbox = [&](qsizetype end) {
        if (const auto item = mailboxItem(raw.sliced(start, end - start)))
            items.append(*item);
        start = end + 1;
    };
    const QByteArray groupEnd = addressItem({}, {}, {}, {});
    qsizetype pos = 0;
    while (pos < raw.size()) {
        const char c = raw[pos];
        if (c == '"') {
            pos = skipQuoted(raw, pos);
        } else if (c == '(') {
            pos = skipComment(raw, pos);
        } else if (c == '<') {
            pos = skipBracketed(raw, pos, '>');
        } else if (c == '[') {
            pos = skipBracketed(raw, pos, ']'); // a domain literal may hold ":" ("[IPv6:::1]")
        } else if (c == ',') {
            finishMailbox(pos++);
        } else if (c == ':') {
            // Groups do not nest (§3.4): a second one ends the first.
            if (inGroup)
                items.append(groupEnd);
            items.append(addressItem({}, {}, phraseOf(raw.sliced(start, pos - start)), {}));
            inGroup = true;
            start = ++pos;
        } else if (c == ';') {
            finishMailbox(pos++);
            if (inGroup)
                items.append(groupEnd);
            inGroup = false;
        } else {
            ++pos;
        }
    }
    if (start < raw.size())
        finishMailbox(raw.size());
    if (inGroup)
        items.append(groupEnd);
    return items;
}

QByteArray addressList(const HeaderBlock &headers, QByteArrayView name)
{
    return listOrNil(addressItems(headers.value(name)), {});
}

// ---------------------------------------------------------------------------
// BODY and BODYSTRUCTURE

bool isMultipart(const MimePart &part)
{
    return part.contentType.startsWith("multipart/");
}

// A message/rfc822 part whose message was parsed (MimeMessage stops at its
// depth and part limits).
bool holdsMessage(const MimePart &part)
{
    return part.contentType == "message/rfc822" && !part.children.isEmpty();
}

QByteArrayView bodyOf(const MimeMessage &message, const MimePart &part)
{
    return QByteArrayView(message.raw()).sliced(part.bodyStart, part.bodyEnd - part.bodyStart);
}

// Lines as a reader counts them: a last line without its line end counts
// too (the line end before a boundary belongs to the boundary).
qsizetype lineCount(QByteArrayView body)
{
    const qsizetype ends = std::count(body.begin(), body.end(), '\n');
    return ends + (!body.isEmpty() && body.back() != '\n' ? 1 : 0);
}

struct Parameter
{
    QByteArray name;
    QByteArray value;
};

// The parameters of a Content-Type or Content-Disposition value as written:
// names upper-cased, values without their quotes, not decoded (encoded
// words stay, RFC 2231 pieces "name*0*", "name*1" stay separate parameters,
// as most servers send them). Junk between parameters is skipped.
QList<Parameter> parametersOf(QByteArrayView raw)
{
    QList<Parameter> parameters;
    const auto skipCfws = [&raw](qsizetype pos) {
        while (pos < raw.size() && (isCfwsSpace(raw[pos]) || raw[pos] == '('))
            pos = raw[pos] == '(' ? skipComment(raw, pos) : pos + 1;
        return pos;
    };
    const auto nextSemicolon = [&raw](qsizetype pos) {
        while (pos < raw.size() && raw[pos] != ';')
            pos = raw[pos] == '"' ? skipQuoted(raw, pos) : raw[pos] == '(' ? skipComment(raw, pos) : pos + 1;
        return pos;
    };
    const auto tokenEnd = [&raw](qsizetype pos, QByteArrayView stops) {
        while (pos < raw.size() && !isCfwsSpace(raw[pos]) && !stops.contains(raw[pos]))
            ++pos;
        return pos;
    };
    qsizetype pos = nextSemicolon(0);
    while (pos < raw.size()) {
        pos = skipCfws(pos + 1); // past the ";"
        const qsizetype nameEnd = tokenEnd(pos, "=;(\"");
        const QByteArray name = raw.sliced(pos, nameEnd - pos).toByteArray().toUpper();
        pos = skipCfws(nameEnd);
        if (name.isEmpty() || pos >= raw.size() || raw[pos] != '=') {
            pos = nextSemicolon(pos);
            continue;
        }
        pos = skipCfws(pos + 1);
        QByteArray value;
        if (pos < raw.size() && raw[pos] == '"') {
            value = quotedContent(raw, pos);
            pos = skipQuoted(raw, pos);
        } else {
            const qsizetype end = tokenEnd(pos, ";(");
            value = raw.sliced(pos, end - pos).toByteArray();
            pos = end;
        }
        parameters.append({name, value});
        pos = nextSemicolon(pos);
    }
    return parameters;
}

QByteArray parameterList(const QList<Parameter> &parameters)
{
    QList<QByteArray> items;
    for (const Parameter &parameter : parameters)
        items.append(ImapResponse::string(parameter.name) + ' ' + ImapResponse::string(parameter.value));
    return listOrNil(items, " ");
}

// body-ext-1part after the md5 and body-ext-mpart after the parameters:
// disposition, language, location.
QByteArray dispositionLanguageLocation(const MimePart &part)
{
    QByteArray out = " ";
    if (part.disposition.value.isEmpty()) {
        out += Nil;
    } else {
        out += '(' + ImapResponse::string(part.disposition.value.toUpper()) + ' '
            + parameterList(parametersOf(part.headers.value("Content-Disposition"))) + ')';
    }
    QList<QByteArray> languages;
    for (const QByteArray &tag : part.headers.value("Content-Language").split(',')) {
        const QByteArray trimmed = withoutCfws(tag, false);
        if (!trimmed.isEmpty())
            languages.append(ImapResponse::string(trimmed));
    }
    out += ' ' + listOrNil(languages, " ");
    out += ' ' + headerNString(part.headers, "Content-Location");
    return out;
}

// What a multipart without parts is shown as (RFC 9051's grammar needs one
// body in it): an empty text/plain part, as Dovecot does.
QByteArray emptyBody(bool extensible)
{
    return QByteArrayLiteral(R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0)")
        + (extensible ? QByteArrayLiteral(" NIL NIL NIL NIL)") : QByteArrayLiteral(")"));
}

// Types, subtypes, encodings, parameter names and disposition types are
// sent upper-cased (as RFC 9051's examples and Cyrus do), the type with
// MimeMessage's defaults applied (text/plain where Content-Type is missing
// or unusable); parameter values as written.
void appendBody(const MimeMessage &message, int index, bool extensible, QByteArray &out)
{
    const MimePart &part = message.parts().at(index);
    const qsizetype slash = part.contentType.indexOf('/');
    QByteArray type = part.contentType.first(slash).toUpper();
    QByteArray subtype = part.contentType.sliced(slash + 1).toUpper();
    QList<Parameter> parameters = parametersOf(part.headers.value("Content-Type"));
    out += '(';
    if (isMultipart(part)) {
        if (part.children.isEmpty())
            out += emptyBody(extensible);
        for (int child : part.children)
            appendBody(message, child, extensible, out);
        out += ' ' + ImapResponse::string(subtype);
        if (extensible)
            out += ' ' + parameterList(parameters) + dispositionLanguageLocation(part);
        out += ')';
        return;
    }
    const bool attachedMessage = holdsMessage(part);
    if (!attachedMessage && type == "MESSAGE" && (subtype == "RFC822" || subtype == "GLOBAL")) {
        // IMAP's grammar gives these an envelope and a body structure,
        // which a message left unparsed (past MimeMessage's limits) does not
        // have: it is offered as what it then is to a reader, bytes.
        type = "APPLICATION";
        subtype = "OCTET-STREAM";
    }
    const bool text = type == "TEXT";
    // RFC 2045 §5.2: text without a charset is US-ASCII.
    if (text && std::none_of(parameters.cbegin(), parameters.cend(), [](const Parameter &p) { return p.name == "CHARSET"; }))
        parameters.append(Parameter{"CHARSET", "US-ASCII"});
    const QByteArray encoding = part.transferEncoding.isEmpty() ? QByteArrayLiteral("7BIT") : part.transferEncoding.toUpper();
    const QByteArrayView body = bodyOf(message, part);
    out += ImapResponse::string(type) + ' ' + ImapResponse::string(subtype) + ' ' + parameterList(parameters) + ' '
        + headerNString(part.headers, "Content-ID") + ' ' + headerNString(part.headers, "Content-Description") + ' '
        + ImapResponse::string(encoding) + ' ' + QByteArray::number(body.size());
    if (text) {
        out += ' ' + QByteArray::number(lineCount(body));
    } else if (attachedMessage) {
        const int child = part.children.first();
        out += ' ' + ImapMessage::envelope(message.parts().at(child).headers) + ' ';
        appendBody(message, child, extensible, out);
        out += ' ' + QByteArray::number(lineCount(body));
    }
    if (extensible)
        out += ' ' + headerNString(part.headers, "Content-MD5") + dispositionLanguageLocation(part);
    out += ')';
}

// ---------------------------------------------------------------------------
// Sections

// Where a part number path leads: a part seen as a body part, or (only for
// the empty path) the message itself with its header.
struct Position
{
    int index = 0;
    bool message = true;
};

std::optional<Position> resolve(const MimeMessage &message, const QList<quint32> &path)
{
    const QList<MimePart> &parts = message.parts();
    Position at;
    for (const quint32 number : path) {
        if (!at.message) {
            if (holdsMessage(parts.at(at.index)))
                at = {parts.at(at.index).children.first(), true}; // numbering goes on inside it
            else if (!isMultipart(parts.at(at.index)))
                return std::nullopt; // a leaf has no parts
        }
        const MimePart &part = parts.at(at.index);
        if (isMultipart(part)) {
            if (number == 0 || number > quint32(part.children.size()))
                return std::nullopt;
            at = {part.children.at(qsizetype(number) - 1), false};
        } else {
            // A message that is not multipart: its one part is its body.
            if (number != 1)
                return std::nullopt;
            at.message = false;
        }
    }
    return at;
}

// Where the header of a part begins: after the delimiter line that opens
// it in a multipart (found as MimeMessage::splitMultipart finds it: "--"
// boundary at a line start, optional "--", white space, the line end; no
// line of the part's own header can look like that), at the start of a
// message/rfc822 part's body for the message in it.
qsizetype headerStart(const MimeMessage &message, int index)
{
    const MimePart &part = message.parts().at(index);
    if (part.parent < 0)
        return 0;
    const MimePart &parent = message.parts().at(part.parent);
    if (!isMultipart(parent))
        return parent.bodyStart;
    const QByteArrayView raw(message.raw());
    const QByteArray delimiter = "--" + parent.contentTypeValue.parameter("boundary").toUtf8();
    const qsizetype end = parent.bodyEnd;
    for (qsizetype from = part.bodyStart - delimiter.size(); from >= parent.bodyStart; --from) {
        const qsizetype found = raw.lastIndexOf(delimiter, from);
        if (found < parent.bodyStart)
            break;
        from = found;
        if (found > parent.bodyStart && raw[found - 1] != '\n')
            continue;
        qsizetype after = found + delimiter.size();
        if (raw.sliced(after, end - after).startsWith("--"))
            after += 2;
        while (after < end && isWsp(raw[after]))
            ++after;
        qsizetype lineEnd = -1;
        if (after == end)
            lineEnd = end;
        else if (raw[after] == '\n')
            lineEnd = after + 1;
        else if (raw[after] == '\r' && (after + 1 == end || raw[after + 1] == '\n'))
            lineEnd = std::min(end, after + 2);
        if (lineEnd >= 0 && lineEnd <= part.bodyStart)
            return lineEnd;
    }
    return part.bodyStart;
}

// HEADER.FIELDS (.NOT): the fields chosen, each with its continuation
// lines as written, in message order, then the line that ends a header.
// The lines are told apart as HeaderBlock::parse tells them (a first
// "From " line is an mbox separator, continuation lines before any field
// belong to none): neither kind is a field, so neither is sent.
QByteArray headerFields(QByteArrayView header, const QList<QByteArray> &fields, bool except)
{
    QByteArray out;
    QByteArrayView emptyLine = "\r\n";
    bool keeping = false;
    qsizetype pos = 0;
    while (pos < header.size()) {
        const qsizetype newline = header.indexOf('\n', pos);
        const qsizetype next = newline < 0 ? header.size() : newline + 1;
        const QByteArrayView line = header.sliced(pos, next - pos);
        QByteArrayView text = line.endsWith('\n') ? line.chopped(1) : line;
        if (text.endsWith('\r'))
            text.chop(1);
        if (text.isEmpty()) {
            emptyLine = line;
            break;
        }
        if (isWsp(text.front())) {
            // a continuation: goes with its field
        } else if (pos == 0 && text.startsWith("From ")) {
            keeping = false;
        } else {
            QByteArrayView name = text.first(std::max<qsizetype>(0, text.indexOf(':')));
            while (!name.isEmpty() && isWsp(name.back()))
                name.chop(1);
            const bool listed = std::any_of(fields.cbegin(), fields.cend(), [name](const QByteArray &field) {
                return name.compare(field, Qt::CaseInsensitive) == 0;
            });
            keeping = listed != except;
        }
        if (keeping) {
            out += line;
            if (!line.endsWith('\n'))
                out += "\r\n";
        }
        pos = next;
    }
    return out + emptyLine.toByteArray();
}

QByteArray sliceOf(const MimeMessage &message, qsizetype start, qsizetype end)
{
    return message.raw().sliced(start, end - start);
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

std::optional<ImapSection> parseSection(ImapArgumentReader &reader, bool binary)
{
    if (!reader.take('['))
        return std::nullopt;
    ImapSection section;
    bool textFollows = false;
    while (isDigit(reader.peek()) || (binary && !section.part.isEmpty())) {
        const std::optional<quint32> number = reader.nzNumber();
        if (!number)
            return std::nullopt;
        section.part.append(*number);
        if (reader.peek() != '.')
            break;
        reader.take('.');
        if (!binary && !isDigit(reader.peek())) {
            textFollows = true;
            break;
        }
    }
    if (!binary && (section.part.isEmpty() || textFollows) && reader.peek() != ']') {
        const std::optional<QByteArray> word = reader.atom();
        if (!word)
            return std::nullopt;
        const QByteArray keyword = word->toUpper();
        if (keyword == "HEADER") {
            section.text = ImapSection::Text::Header;
        } else if (keyword == "TEXT") {
            section.text = ImapSection::Text::Text;
        } else if (keyword == "MIME" && !section.part.isEmpty()) {
            section.text = ImapSection::Text::Mime;
        } else if (keyword == "HEADER.FIELDS" || keyword == "HEADER.FIELDS.NOT") {
            section.text = keyword == "HEADER.FIELDS" ? ImapSection::Text::HeaderFields : ImapSection::Text::HeaderFieldsNot;
            if (!reader.space() || !reader.take('('))
                return std::nullopt;
            do {
                const std::optional<QByteArray> field = reader.astring();
                if (!field)
                    return std::nullopt;
                section.fields.append(*field);
            } while (reader.peek() == ' ' && reader.space());
            if (!reader.take(')'))
                return std::nullopt;
        } else {
            reader.fail(section.part.isEmpty() ? "expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT or TEXT (MIME only after a part number)"
                                               : "expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME");
            return std::nullopt;
        }
    } else if (textFollows) {
        reader.fail("expected HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME");
        return std::nullopt;
    }
    if (!reader.take(']'))
        return std::nullopt;
    return section;
}

} // namespace

std::optional<ImapSection> ImapSection::parse(ImapArgumentReader &reader)
{
    return parseSection(reader, false);
}

std::optional<ImapSection> ImapSection::parseBinary(ImapArgumentReader &reader)
{
    return parseSection(reader, true);
}

QByteArray ImapSection::name(QByteArrayView item) const
{
    QByteArray out = item.toByteArray() + '[';
    for (qsizetype i = 0; i < part.size(); ++i) {
        if (i > 0)
            out += '.';
        out += QByteArray::number(part.at(i));
    }
    if (text != Text::All && !part.isEmpty())
        out += '.';
    switch (text) {
    case Text::All:
        break;
    case Text::Header:
        out += "HEADER";
        break;
    case Text::HeaderFields:
    case Text::HeaderFieldsNot: {
        out += text == Text::HeaderFields ? "HEADER.FIELDS (" : "HEADER.FIELDS.NOT (";
        QList<QByteArray> names;
        for (const QByteArray &field : fields)
            names.append(ImapResponse::astring(field.toUpper()));
        out += names.join(' ') + ')';
        break;
    }
    case Text::Text:
        out += "TEXT";
        break;
    case Text::Mime:
        out += "MIME";
        break;
    }
    return out + ']';
}

std::optional<ImapPartial> ImapPartial::parse(ImapArgumentReader &reader)
{
    if (!reader.take('<'))
        return std::nullopt;
    const std::optional<quint64> origin = reader.number64();
    if (!origin || !reader.take('.'))
        return std::nullopt;
    if (reader.peek() == '0') {
        reader.fail("expected a number above 0");
        return std::nullopt;
    }
    const std::optional<quint64> count = reader.number64();
    if (!count || !reader.take('>'))
        return std::nullopt;
    return ImapPartial{*origin, *count};
}

QByteArray ImapPartial::cut(const QByteArray &bytes) const
{
    const auto size = quint64(bytes.size());
    if (origin >= size)
        return {};
    return bytes.mid(qsizetype(origin), qsizetype(std::min(count, size - origin)));
}

namespace ImapMessage {

// RFC 9051 §7.5.2: Sender and Reply-To absent or empty are From.
QByteArray envelope(const HeaderBlock &headers)
{
    const QByteArray from = addressList(headers, "From");
    QByteArray sender = addressList(headers, "Sender");
    if (sender == Nil)
        sender = from;
    QByteArray replyTo = addressList(headers, "Reply-To");
    if (replyTo == Nil)
        replyTo = from;
    return '(' + headerNString(headers, "Date") + ' ' + headerNString(headers, "Subject") + ' ' + from + ' ' + sender
        + ' ' + replyTo + ' ' + addressList(headers, "To") + ' ' + addressList(headers, "Cc") + ' '
        + addressList(headers, "Bcc") + ' ' + headerNString(headers, "In-Reply-To") + ' '
        + headerNString(headers, "Message-ID") + ')';
}

QByteArray envelope(const MimeMessage &message)
{
    return envelope(message.headers());
}

QByteArray bodyStructure(const MimeMessage &message, bool extensible)
{
    QByteArray out;
    appendBody(message, 0, extensible, out);
    return out;
}

QByteArray sectionBytes(const MimeMessage &message, const ImapSection &section)
{
    const std::optional<Position> at = resolve(message, section.part);
    if (!at)
        return {};
    const QList<MimePart> &parts = message.parts();
    const MimePart &part = parts.at(at->index);
    if (section.text == ImapSection::Text::All)
        return at->message ? message.raw() : bodyOf(message, part).toByteArray();
    if (section.text == ImapSection::Text::Mime)
        return at->message ? QByteArray() : sliceOf(message, headerStart(message, at->index), part.bodyStart);
    // HEADER and TEXT are of a message: the message itself, or the one in
    // a message/rfc822 part.
    int root = at->index;
    if (!at->message) {
        if (!holdsMessage(part))
            return {};
        root = part.children.first();
    }
    const MimePart &rootPart = parts.at(root);
    const qsizetype start = headerStart(message, root);
    const QByteArrayView header = QByteArrayView(message.raw()).sliced(start, rootPart.bodyStart - start);
    switch (section.text) {
    case ImapSection::Text::Header:
        return header.toByteArray();
    case ImapSection::Text::HeaderFields:
        return headerFields(header, section.fields, false);
    case ImapSection::Text::HeaderFieldsNot:
        return headerFields(header, section.fields, true);
    case ImapSection::Text::Text:
        return bodyOf(message, rootPart).toByteArray();
    case ImapSection::Text::All:
    case ImapSection::Text::Mime:
        break;
    }
    return {};
}

ImapBinarySection binarySection(const MimeMessage &message, const QList<quint32> &part)
{
    if (part.isEmpty())
        return {ImapBinarySection::Outcome::Decoded, message.raw()};
    const std::optional<Position> at = resolve(message, part);
    if (!at)
        return {};
    const MimePart &found = message.parts().at(at->index);
    if (isMultipart(found))
        return {ImapBinarySection::Outcome::Multipart, {}};
    const QByteArrayView body = bodyOf(message, found);
    const QByteArray &encoding = found.transferEncoding;
    if (encoding.isEmpty() || encoding == "7bit" || encoding == "8bit" || encoding == "binary")
        return {ImapBinarySection::Outcome::Decoded, body.toByteArray()};
    if (encoding == "base64")
        return {ImapBinarySection::Outcome::Decoded, TransferEncoding::decodeBase64(body)};
    if (encoding == "quoted-printable")
        return {ImapBinarySection::Outcome::Decoded, TransferEncoding::decodeQuotedPrintable(body)};
    return {ImapBinarySection::Outcome::UnknownEncoding, {}};
}

} // namespace ImapMessage
