#include "mailheaders.h"

#include "charsets.h"
#include "encodedwords.h"

#include <QMap>

#include <algorithm>
#include <utility>

namespace {
bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

// RFC 5322 §3.6.8: printable US-ASCII except the colon.
bool isFieldNameChar(char c)
{
    return c >= 33 && c <= 126 && c != ':';
}
} // namespace

namespace {

enum class LineKind { Empty, Continuation, MboxSeparator, Field, Body };

struct LineClass
{
    LineKind kind = LineKind::Body;
    qsizetype nameSize = 0; // a field's name, without white space before the colon
    qsizetype colon = 0;
};

// What a line (without its line end) is in a header section: the one rule
// that HeaderBlock::parse() and HeaderSectionMeter share.
LineClass classifyLine(QByteArrayView line, bool first, HeaderBlock::FirstLine firstLine)
{
    if (line.isEmpty())
        return {LineKind::Empty};
    if (isWsp(line.front()))
        return {LineKind::Continuation};
    if (first && firstLine == HeaderBlock::FirstLine::MayBeMboxSeparator && line.startsWith("From "))
        return {LineKind::MboxSeparator};
    const qsizetype colon = line.indexOf(':');
    QByteArrayView name = colon > 0 ? line.first(colon) : QByteArrayView();
    while (!name.isEmpty() && isWsp(name.back()))
        name.chop(1);
    if (name.isEmpty() || !std::all_of(name.begin(), name.end(), isFieldNameChar))
        return {LineKind::Body}; // not a header: the body starts here
    return {LineKind::Field, name.size(), colon};
}

// The line at `pos`: its text without the line end (LF, and one CR before
// it or at the very end), and where the next line begins.
QByteArrayView lineAt(QByteArrayView data, qsizetype pos, qsizetype *next)
{
    qsizetype end = data.indexOf('\n', pos);
    *next = end < 0 ? data.size() : end + 1;
    if (end < 0)
        end = data.size();
    QByteArrayView line = data.sliced(pos, end - pos);
    if (line.endsWith('\r'))
        line.chop(1);
    return line;
}

} // namespace

HeaderBlock HeaderBlock::parse(QByteArrayView data, FirstLine firstLine)
{
    HeaderBlock block;
    qsizetype pos = 0;
    bool first = true;
    while (pos < data.size()) {
        qsizetype next = 0;
        const QByteArrayView line = lineAt(data, pos, &next);
        const LineClass what = classifyLine(line, std::exchange(first, false), firstLine);
        switch (what.kind) {
        case LineKind::Empty:
            block.m_bodyOffset = next;
            return block;
        case LineKind::Body:
            block.m_bodyOffset = pos;
            return block;
        case LineKind::Continuation:
            if (!block.m_fields.isEmpty())
                block.m_fields.last().value.append(line); // unfold: the line end goes, the white space stays
            break;
        case LineKind::MboxSeparator:
            break;
        case LineKind::Field:
            block.m_fields.append({line.first(what.nameSize).toByteArray(), line.sliced(what.colon + 1).toByteArray()});
            break;
        }
        pos = next;
    }
    block.m_bodyOffset = data.size();
    return block;
}

qsizetype HeaderBlock::sectionSize(QByteArrayView data, FirstLine firstLine)
{
    HeaderSectionMeter meter(firstLine);
    qsizetype pos = 0;
    while (pos < data.size() && !meter.isComplete()) {
        qsizetype next = 0;
        const QByteArrayView line = lineAt(data, pos, &next);
        meter.addLine(line, next - pos - line.size());
        pos = next;
    }
    return meter.size();
}

void HeaderSectionMeter::addLine(QByteArrayView text, qsizetype lineEnd)
{
    if (m_complete)
        return;
    const LineKind kind = classifyLine(text, std::exchange(m_first, false), m_firstLine).kind;
    if (kind == LineKind::Body) {
        m_complete = true;
        return;
    }
    m_size += text.size() + lineEnd;
    if (kind == LineKind::Empty)
        m_complete = true;
}

QByteArray HeaderBlock::value(QByteArrayView name) const
{
    for (const HeaderField &field : m_fields) {
        if (field.name.compare(name, Qt::CaseInsensitive) == 0)
            return field.value.trimmed();
    }
    return {};
}

bool HeaderBlock::contains(QByteArrayView name) const
{
    return std::any_of(m_fields.cbegin(), m_fields.cend(),
                       [&](const HeaderField &field) { return field.name.compare(name, Qt::CaseInsensitive) == 0; });
}

QList<QByteArray> HeaderBlock::values(QByteArrayView name) const
{
    QList<QByteArray> result;
    for (const HeaderField &field : m_fields) {
        if (field.name.compare(name, Qt::CaseInsensitive) == 0)
            result.append(field.value.trimmed());
    }
    return result;
}

QString MimeHeaderValue::parameter(QByteArrayView name) const
{
    for (const auto &[key, value] : parameters) {
        if (key == name)
            return value;
    }
    return {};
}

bool MimeHeaderValue::hasParameter(QByteArrayView name) const
{
    return std::any_of(parameters.cbegin(), parameters.cend(), [&](const auto &p) { return p.first == name; });
}

namespace {

// Skips white space and (nested) comments, RFC 5322 §3.2.2.
qsizetype skipCfws(QByteArrayView raw, qsizetype pos)
{
    while (pos < raw.size()) {
        const char c = raw[pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++pos;
        } else if (c == '(') {
            int depth = 0;
            while (pos < raw.size()) {
                if (raw[pos] == '\\')
                    ++pos;
                else if (raw[pos] == '(')
                    ++depth;
                else if (raw[pos] == ')' && --depth == 0) {
                    ++pos;
                    break;
                }
                ++pos;
            }
        } else {
            break;
        }
    }
    return pos;
}

// A token or a quoted string (RFC 2045 §5.1 value), unquoted.
QByteArray readValue(QByteArrayView raw, qsizetype *pos, QByteArrayView stopAt)
{
    QByteArray out;
    qsizetype i = skipCfws(raw, *pos);
    if (i < raw.size() && raw[i] == '"') {
        ++i;
        while (i < raw.size() && raw[i] != '"') {
            if (raw[i] == '\\' && i + 1 < raw.size())
                ++i;
            out.append(raw[i]);
            ++i;
        }
        if (i < raw.size())
            ++i; // closing quote
    } else {
        while (i < raw.size() && !stopAt.contains(raw[i]) && raw[i] != '(')
            out.append(raw[i++]);
        out = out.trimmed();
    }
    *pos = i;
    return out;
}

// RFC 2231 §4: the percent-encoded octets of an extended value.
QByteArray percentDecode(const QByteArray &value)
{
    QByteArray bytes;
    bytes.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        if (value[i] == '%' && i + 2 < value.size()) {
            bool ok = false;
            const int byte = value.mid(i + 1, 2).toInt(&ok, 16);
            if (ok) {
                bytes.append(char(byte));
                i += 2;
                continue;
            }
        }
        bytes.append(value[i]);
    }
    return bytes;
}

} // namespace

MimeHeaderValue MimeHeaderValue::parse(QByteArrayView raw)
{
    MimeHeaderValue result;
    qsizetype pos = 0;
    result.value = readValue(raw, &pos, ";").toLower();
    // RFC 2231 continuations: name*0, name*1*, ... collected, then joined in order.
    struct Piece
    {
        QByteArray bytes;
        bool extended = false;
    };
    QMap<QByteArray, QMap<int, Piece>> continued;
    QList<QByteArray> order;
    constexpr int MaxParameters = 64;
    while (pos < raw.size() && result.parameters.size() + continued.size() < MaxParameters) {
        pos = skipCfws(raw, pos);
        if (pos >= raw.size())
            break;
        if (raw[pos] != ';') {
            // Junk between parameters: skip to the next ";".
            const qsizetype next = raw.indexOf(';', pos);
            if (next < 0)
                break;
            pos = next;
        }
        ++pos;
        QByteArray name = readValue(raw, &pos, "=;").toLower();
        pos = skipCfws(raw, pos);
        if (name.isEmpty() || pos >= raw.size() || raw[pos] != '=')
            continue;
        ++pos;
        const QByteArray value = readValue(raw, &pos, ";");
        const qsizetype star = name.indexOf('*');
        if (star < 0) {
            result.parameters.append({name, Charsets::decodeHeaderBytes(value)});
            continue;
        }
        const QByteArray base = name.left(star);
        const QByteArray suffix = name.mid(star + 1);
        const bool extended = suffix.endsWith('*') || suffix.isEmpty();
        const QByteArray number = suffix.endsWith('*') ? suffix.chopped(1) : suffix;
        bool ok = number.isEmpty();
        const int index = number.isEmpty() ? 0 : number.toInt(&ok);
        if (!ok || index < 0 || index > 999)
            continue;
        if (!continued.contains(base))
            order.append(base);
        continued[base].insert(index, {value, extended});
    }
    for (const QByteArray &base : std::as_const(order)) {
        // The pieces are joined as bytes before the charset conversion: a
        // character may be split across two of them.
        QByteArray charset;
        QByteArray bytes;
        const QMap<int, Piece> &pieces = continued.value(base);
        for (auto it = pieces.cbegin(); it != pieces.cend(); ++it) {
            QByteArray piece = it->bytes;
            if (it.key() == pieces.firstKey() && it->extended) {
                // charset'language'value: only the first piece carries them.
                const qsizetype first = piece.indexOf('\'');
                const qsizetype second = first < 0 ? -1 : piece.indexOf('\'', first + 1);
                if (second >= 0) {
                    charset = piece.left(first);
                    piece = piece.mid(second + 1);
                }
            }
            bytes += it->extended ? percentDecode(piece) : piece;
        }
        const QString decoded = charset.isEmpty() ? Charsets::decodeHeaderBytes(bytes) : Charsets::decode(bytes, charset);
        // A plain parameter of the same name (sent for old readers) loses to the RFC 2231 one.
        result.parameters.removeIf([&](const auto &p) { return p.first == base; });
        result.parameters.append({base, decoded});
    }
    // Filenames in the wild are often RFC 2047 encoded words inside quotes
    // (Outlook, Gmail), though RFC 2047 §5 forbids it.
    for (auto &[name, value] : result.parameters) {
        if (value.contains(QStringLiteral("=?")))
            value = EncodedWords::decode(value.toUtf8());
    }
    return result;
}
