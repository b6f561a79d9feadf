#include "jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <QStringEncoder>

#include <cstring>

namespace {

// Bytes of UTF-8 that RFC 8259 §7 lets stand as they are in a string.
bool needsNoEscape(char c)
{
    return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\';
}

char *writeDigits(char *out, int number, int width)
{
    for (int i = width - 1; i >= 0; --i) {
        out[i] = char('0' + number % 10);
        number /= 10;
    }
    return out + width;
}

} // namespace

void JsonWriter::reserve(qsizetype bytes)
{
    if (m_out.size() < m_size + bytes)
        m_out.resize(m_size + bytes);
}

void JsonWriter::grow(qsizetype bytes)
{
    m_out.resize(std::max(m_size + bytes, 2 * m_out.size() + 256));
}

void JsonWriter::put(const char *bytes, qsizetype count)
{
    if (count == 0)
        return; // bytes may be null (an empty QByteArrayView), which memcpy must not get
    std::memcpy(room(count), bytes, size_t(count));
    m_size += count;
}

QByteArray JsonWriter::take()
{
    m_out.truncate(m_size);
    m_size = 0;
    m_empty.clear();
    m_afterKey = false;
    return std::move(m_out);
}

void JsonWriter::putEscaped(QByteArrayView utf8)
{
    static constexpr char Hex[] = "0123456789abcdef";
    put('"');
    // Runs of bytes that need no escape are copied whole.
    const char *run = utf8.data();
    const char *const end = run + utf8.size();
    for (const char *at = run; at < end; ++at) {
        const char c = *at;
        if (needsNoEscape(c))
            continue;
        put(run, at - run);
        run = at + 1;
        switch (c) {
        case '"': put("\\\"", 2); break;
        case '\\': put("\\\\", 2); break;
        case '\b': put("\\b", 2); break;
        case '\f': put("\\f", 2); break;
        case '\n': put("\\n", 2); break;
        case '\r': put("\\r", 2); break;
        case '\t': put("\\t", 2); break;
        default: {
            const auto byte = static_cast<unsigned char>(c);
            const char escaped[] = {'\\', 'u', '0', '0', Hex[byte >> 4], Hex[byte & 0xf]};
            put(escaped, sizeof escaped);
        }
        }
    }
    put(run, end - run);
    put('"');
}

void JsonWriter::beforeValue()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_empty.isEmpty()) {
        if (!m_empty.last())
            put(',');
        m_empty.last() = false;
    }
}

void JsonWriter::open(char bracket)
{
    beforeValue();
    put(bracket);
    m_empty.append(true);
}

void JsonWriter::close(char bracket)
{
    put(bracket);
    if (!m_empty.isEmpty())
        m_empty.removeLast();
}

JsonWriter &JsonWriter::beginObject()
{
    open('{');
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    close('}');
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    open('[');
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    close(']');
    return *this;
}

JsonWriter &JsonWriter::key(QLatin1StringView name)
{
    beforeValue();
    char *out = room(name.size() + 3);
    *out++ = '"';
    std::memcpy(out, name.data(), size_t(name.size()));
    out += name.size();
    *out++ = '"';
    *out++ = ':';
    m_size = out - m_out.data();
    m_afterKey = true;
    return *this;
}

JsonWriter &JsonWriter::value(QStringView text)
{
    beforeValue();
    // Encoded into the answer's own bytes (at most three per UTF-16 unit,
    // and two quotes); a string with something to escape, rare in mail
    // headers, is encoded again through the escaping path.
    char *const start = room(3 * text.size() + 2);
    char *out = start;
    *out++ = '"';
    // Stateless: a lone surrogate at the end becomes U+FFFD, not a state
    // carried to nothing.
    QStringEncoder toUtf8(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    out = toUtf8.appendToBuffer(out, text);
    if (std::all_of(start + 1, out, needsNoEscape)) {
        *out++ = '"';
        m_size = out - m_out.data();
        return *this;
    }
    const QByteArray utf8(start + 1, out - start - 1);
    putEscaped(utf8);
    return *this;
}

JsonWriter &JsonWriter::utf8Value(QByteArrayView text)
{
    beforeValue();
    putEscaped(text);
    return *this;
}

JsonWriter &JsonWriter::value(qint64 number)
{
    beforeValue();
    // Twenty digits and a sign hold any qint64.
    char digits[21];
    char *const end = digits + sizeof digits;
    char *at = end;
    quint64 magnitude = number < 0 ? 0 - quint64(number) : quint64(number);
    do {
        *--at = char('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (number < 0)
        *--at = '-';
    put(at, end - at);
    return *this;
}

JsonWriter &JsonWriter::value(bool flag)
{
    beforeValue();
    if (flag)
        put("true", 4);
    else
        put("false", 5);
    return *this;
}

JsonWriter &JsonWriter::null()
{
    beforeValue();
    put("null", 4);
    return *this;
}

JsonWriter &JsonWriter::isoUtc(const QDateTime &time)
{
    if (!time.isValid())
        return null();
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm): the
    // same digits as QDateTime's ISO form, without its locale-free but
    // general formatter, which was a tenth of a listing's cost.
    const qint64 ms = time.toMSecsSinceEpoch();
    qint64 days = ms / 86400000;
    qint64 msOfDay = ms % 86400000;
    if (msOfDay < 0) {
        msOfDay += 86400000;
        --days;
    }
    const qint64 z = days + 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 dayOfEra = z - era * 146097;
    const qint64 yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
    const qint64 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    const qint64 mp = (5 * dayOfYear + 2) / 153;
    const int day = int(dayOfYear - (153 * mp + 2) / 5 + 1);
    const int month = int(mp < 10 ? mp + 3 : mp - 9);
    const qint64 year = yearOfEra + era * 400 + (month <= 2);
    if (year < 0 || year > 9999) // Qt's own form for years it writes differently
        return value(time.toUTC().toString(Qt::ISODate));
    beforeValue();
    const int seconds = int(msOfDay / 1000);
    char *out = room(22);
    *out++ = '"';
    out = writeDigits(out, int(year), 4);
    *out++ = '-';
    out = writeDigits(out, month, 2);
    *out++ = '-';
    out = writeDigits(out, day, 2);
    *out++ = 'T';
    out = writeDigits(out, seconds / 3600, 2);
    *out++ = ':';
    out = writeDigits(out, seconds / 60 % 60, 2);
    *out++ = ':';
    out = writeDigits(out, seconds % 60, 2);
    *out++ = 'Z';
    *out++ = '"';
    m_size = out - m_out.data();
    return *this;
}

JsonWriter &JsonWriter::value(const QJsonValue &json)
{
    switch (json.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return null();
    case QJsonValue::Bool:
        return value(json.toBool());
    case QJsonValue::String:
        return value(QStringView(json.toString()));
    case QJsonValue::Double:
        if (json.toDouble() == double(json.toInteger()))
            return value(json.toInteger());
        break;
    case QJsonValue::Array:
        beforeValue();
        putRaw(QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact));
        return *this;
    case QJsonValue::Object:
        beforeValue();
        putRaw(QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact));
        return *this;
    }
    // A fractional number: QJsonDocument's shortest exact form.
    beforeValue();
    QByteArray wrapped = QJsonDocument(QJsonArray{json}).toJson(QJsonDocument::Compact);
    putRaw(QByteArrayView(wrapped).sliced(1, wrapped.size() - 2));
    return *this;
}
