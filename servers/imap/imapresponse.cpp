#include "imapresponse.h"

#include "imaparguments.h"

namespace ImapResponse {

namespace {

// Longer values go as literals: a quoted string must fit a client's line
// buffer, and some clients' (Thunderbird's among them) are small.
constexpr qsizetype MaxQuoted = 1000;

bool quotable(QByteArrayView bytes, bool utf8)
{
    if (bytes.size() > MaxQuoted)
        return false;
    bool eightBit = false;
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '\r' || u == '\n')
            return false;
        eightBit = eightBit || u >= 0x80;
    }
    return !eightBit || (utf8 && bytes.isValidUtf8());
}

} // namespace

QByteArray literal(QByteArrayView bytes, bool binary)
{
    QByteArray out;
    out.reserve(bytes.size() + 24);
    if (binary)
        out += '~';
    out += '{' + QByteArray::number(bytes.size()) + "}\r\n";
    out += bytes;
    return out;
}

QByteArray string(QByteArrayView text, bool utf8)
{
    QByteArray withoutNul;
    if (text.contains('\0')) {
        withoutNul = text.toByteArray().replace('\0', '\x80');
        text = withoutNul;
    }
    const QByteArrayView bytes = text;
    if (!quotable(bytes, utf8))
        return literal(bytes);
    QByteArray out;
    out.reserve(bytes.size() + 2);
    out += '"';
    for (const char c : bytes) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

QByteArray text(QByteArrayView bytes)
{
    const bool utf8 = bytes.isValidUtf8();
    QByteArray out = bytes.toByteArray();
    for (char &c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && !utf8))
            c = '?';
    }
    return out;
}

QByteArray nstring(const QByteArray *bytes)
{
    return bytes ? string(*bytes) : QByteArrayLiteral("NIL");
}

QByteArray astring(QByteArrayView bytes, bool utf8)
{
    bool atom = !bytes.isEmpty();
    for (const char c : bytes)
        atom = atom && (ImapArgumentReader::isAtomChar(c) || c == ']');
    // NIL as a bare word would read as no value at all.
    if (atom && bytes.compare(QByteArrayView("NIL"), Qt::CaseInsensitive) != 0)
        return bytes.toByteArray();
    return string(bytes, utf8);
}

} // namespace ImapResponse

namespace ImapDate {

namespace {

constexpr const char *MonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<int> digits(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 4)
        return std::nullopt;
    int value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

// "d-Mon-yyyy", the day one or two digits (or space-padded).
std::optional<QDate> date(QByteArrayView text)
{
    const QList<QByteArrayView> parts = [&] {
        QList<QByteArrayView> split;
        qsizetype start = 0;
        for (qsizetype i = 0; i <= text.size(); ++i) {
            if (i == text.size() || text.at(i) == '-') {
                split.append(text.sliced(start, i - start));
                start = i + 1;
            }
        }
        return split;
    }();
    if (parts.size() != 3 || parts.at(1).size() != 3 || parts.at(2).size() != 4)
        return std::nullopt;
    QByteArrayView day = parts.at(0);
    if (day.size() == 2 && day.at(0) == ' ')
        day = day.sliced(1);
    const std::optional<int> dayNumber = day.size() <= 2 ? digits(day) : std::nullopt;
    const std::optional<int> year = digits(parts.at(2));
    int month = 0;
    for (int i = 0; i < 12; ++i) {
        if (parts.at(1).compare(QByteArrayView(MonthNames[i]), Qt::CaseInsensitive) == 0)
            month = i + 1;
    }
    if (!dayNumber || !year || month == 0)
        return std::nullopt;
    const QDate result(*year, month, *dayNumber);
    if (!result.isValid())
        return std::nullopt;
    return result;
}

} // namespace

std::optional<QDate> parseDate(QByteArrayView text)
{
    return date(text);
}

std::optional<QDateTime> parseDateTime(QByteArrayView text)
{
    // 11 characters of date, a space, 8 of time, a space, 5 of zone.
    if (text.size() != 26 || text.at(11) != ' ' || text.at(20) != ' ')
        return std::nullopt;
    const std::optional<QDate> day = date(text.first(11));
    const QByteArrayView time = text.sliced(12, 8);
    const QByteArrayView zone = text.sliced(21, 5);
    if (!day || time.at(2) != ':' || time.at(5) != ':' || (zone.at(0) != '+' && zone.at(0) != '-'))
        return std::nullopt;
    const std::optional<int> hours = digits(time.first(2));
    const std::optional<int> minutes = digits(time.sliced(3, 2));
    const std::optional<int> seconds = digits(time.sliced(6, 2));
    const std::optional<int> zoneHours = digits(zone.sliced(1, 2));
    const std::optional<int> zoneMinutes = digits(zone.sliced(3, 2));
    if (!hours || !minutes || !seconds || !zoneHours || !zoneMinutes || *zoneMinutes > 59)
        return std::nullopt;
    const QTime clock(*hours, *minutes, *seconds);
    if (!clock.isValid())
        return std::nullopt;
    const int offset = (zone.at(0) == '-' ? -1 : 1) * (*zoneHours * 3600 + *zoneMinutes * 60);
    return QDateTime(*day, clock, Qt::OffsetFromUTC, offset).toUTC();
}

QByteArray formatDateTime(const QDateTime &time)
{
    const QDateTime utc = time.toUTC();
    const QDate day = utc.date();
    return QByteArray::number(day.day()).rightJustified(2, '0') + '-' + MonthNames[day.month() - 1] + '-'
        + QByteArray::number(day.year()).rightJustified(4, '0') + ' ' + utc.time().toString(u"hh:mm:ss").toLatin1()
        + " +0000";
}

} // namespace ImapDate
