#include "jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

void appendEscaped(QByteArray &out, QStringView text)
{
    static constexpr char Hex[] = "0123456789abcdef";
    const QByteArray utf8 = text.toUtf8();
    out.append('"');
    // Runs of bytes that need no escape are copied whole.
    const char *run = utf8.constData();
    const char *const end = run + utf8.size();
    for (const char *at = run; at < end; ++at) {
        const char c = *at;
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(run, at - run);
        run = at + 1;
        out.append('\\');
        switch (c) {
        case '"': out.append('"'); break;
        case '\\': out.append('\\'); break;
        case '\b': out.append('b'); break;
        case '\f': out.append('f'); break;
        case '\n': out.append('n'); break;
        case '\r': out.append('r'); break;
        case '\t': out.append('t'); break;
        default:
            out.append("u00", 3);
            out.append(Hex[byte >> 4]);
            out.append(Hex[byte & 0xf]);
        }
    }
    out.append(run, end - run);
    out.append('"');
}

void appendDigits(QByteArray &out, int number, int width)
{
    char digits[8];
    for (int i = width - 1; i >= 0; --i) {
        digits[i] = char('0' + number % 10);
        number /= 10;
    }
    out.append(digits, width);
}

} // namespace

void JsonWriter::beforeValue()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_empty.isEmpty()) {
        if (!m_empty.last())
            m_out.append(',');
        m_empty.last() = false;
    }
}

void JsonWriter::open(char bracket)
{
    beforeValue();
    m_out.append(bracket);
    m_empty.append(true);
}

void JsonWriter::close(char bracket)
{
    m_out.append(bracket);
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
    m_out.append('"').append(name.data(), name.size()).append("\":", 2);
    m_afterKey = true;
    return *this;
}

JsonWriter &JsonWriter::value(QStringView text)
{
    beforeValue();
    appendEscaped(m_out, text);
    return *this;
}

JsonWriter &JsonWriter::value(qint64 number)
{
    beforeValue();
    m_out.append(QByteArray::number(number));
    return *this;
}

JsonWriter &JsonWriter::value(bool flag)
{
    beforeValue();
    m_out.append(flag ? QByteArrayView("true") : QByteArrayView("false"));
    return *this;
}

JsonWriter &JsonWriter::null()
{
    beforeValue();
    m_out.append("null", 4);
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
    m_out.append('"');
    appendDigits(m_out, int(year), 4);
    m_out.append('-');
    appendDigits(m_out, month, 2);
    m_out.append('-');
    appendDigits(m_out, day, 2);
    m_out.append('T');
    appendDigits(m_out, seconds / 3600, 2);
    m_out.append(':');
    appendDigits(m_out, seconds / 60 % 60, 2);
    m_out.append(':');
    appendDigits(m_out, seconds % 60, 2);
    m_out.append("Z\"", 2);
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
        m_out.append(QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact));
        return *this;
    case QJsonValue::Object:
        beforeValue();
        m_out.append(QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact));
        return *this;
    }
    // A fractional number: QJsonDocument's shortest exact form.
    beforeValue();
    QByteArray wrapped = QJsonDocument(QJsonArray{json}).toJson(QJsonDocument::Compact);
    m_out.append(wrapped.sliced(1, wrapped.size() - 2));
    return *this;
}
