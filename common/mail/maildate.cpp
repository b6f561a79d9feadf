#include "maildate.h"

#include <QList>
#include <QTimeZone>

namespace MailDate {

namespace {

const char *const MonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
const char *const DayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

bool allDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int monthNumber(QByteArrayView word)
{
    if (word.size() < 3)
        return 0;
    const QByteArray prefix = word.first(3).toByteArray().toLower();
    for (int i = 0; i < 12; ++i) {
        if (prefix == MonthNames[i])
            return i + 1;
    }
    return 0;
}

bool isDayName(QByteArrayView word)
{
    if (word.size() < 3)
        return false;
    const QByteArray prefix = word.first(3).toByteArray().toLower();
    return std::any_of(std::begin(DayNames), std::end(DayNames), [&](const char *day) { return prefix == day; });
}

// Minutes east of UTC; nullopt when the word is not a zone at all.
std::optional<int> zoneOffset(QByteArrayView word)
{
    QByteArray zone = word.toByteArray().toUpper();
    // "GMT+0100", "UTC-05:00": a name glued to an offset
    for (const char *prefix : {"GMT", "UTC", "UT"}) {
        if (zone.size() > qsizetype(qstrlen(prefix)) && zone.startsWith(prefix)
            && (zone[qstrlen(prefix)] == '+' || zone[qstrlen(prefix)] == '-')) {
            zone = zone.mid(qstrlen(prefix));
            break;
        }
    }
    if (zone.size() >= 2 && (zone[0] == '+' || zone[0] == '-')) {
        QByteArray digits = zone.mid(1);
        digits.replace(':', QByteArray());
        if (!allDigits(digits) || (digits.size() != 4 && digits.size() != 2 && digits.size() != 1))
            return std::nullopt;
        const int value = digits.toInt();
        const int hours = digits.size() == 4 ? value / 100 : value;
        const int minutes = digits.size() == 4 ? value % 100 : 0;
        if (hours > 23 || minutes > 59)
            return std::nullopt;
        return (zone[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
    }
    static const QList<std::pair<QByteArray, int>> named = {
        {"UT", 0},         {"UTC", 0},        {"GMT", 0},        {"Z", 0},          {"EST", -5 * 60},
        {"EDT", -4 * 60},  {"CST", -6 * 60},  {"CDT", -5 * 60},  {"MST", -7 * 60},  {"MDT", -6 * 60},
        {"PST", -8 * 60},  {"PDT", -7 * 60},
    };
    for (const auto &[name, offset] : named) {
        if (zone == name)
            return offset;
    }
    // RFC 5322 §4.3: military zones were defined wrongly; read them as -0000.
    if (zone.size() == 1 && zone[0] >= 'A' && zone[0] <= 'Z' && zone[0] != 'J')
        return 0;
    return std::nullopt;
}

} // namespace

std::optional<QDateTime> parse(QByteArrayView raw)
{
    // Comments go (they only repeat the zone), commas become separators.
    QByteArray text;
    int depth = 0;
    for (char c : raw) {
        if (c == '(')
            ++depth;
        else if (c == ')' && depth > 0)
            --depth;
        else if (depth == 0)
            text.append(c == ',' ? ' ' : c);
    }
    QList<QByteArray> words = text.simplified().split(' ');
    words.removeAll(QByteArray());
    if (!words.isEmpty() && isDayName(words.first()) && monthNumber(words.first()) == 0)
        words.removeFirst();
    if (words.size() < 4 || words.size() > 6)
        return std::nullopt;

    // day month year, or (asctime-like and some broken mailers) month day year
    int day = 0;
    int month = 0;
    if (allDigits(words[0]) && monthNumber(words[1])) {
        day = words[0].toInt();
        month = monthNumber(words[1]);
    } else if (monthNumber(words[0]) && allDigits(words[1])) {
        month = monthNumber(words[0]);
        day = words[1].toInt();
    } else {
        return std::nullopt;
    }
    qsizetype next = 2;
    QByteArray yearWord = words[next];
    QByteArray timeWord = next + 1 < words.size() ? words[next + 1] : QByteArray();
    // "Nov 22 13:05:00 2026": time before year
    if (yearWord.contains(':') && allDigits(timeWord))
        std::swap(yearWord, timeWord);
    next += 2;
    if (!allDigits(yearWord) || yearWord.size() > 4)
        return std::nullopt;
    int year = yearWord.toInt();
    if (yearWord.size() == 2)
        year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
    else if (yearWord.size() == 3)
        year += 1900;

    const QList<QByteArray> clock = timeWord.split(':');
    if (clock.size() < 2 || clock.size() > 3 || !std::all_of(clock.cbegin(), clock.cend(), [](const QByteArray &part) {
            return allDigits(part) && part.size() <= 2;
        }))
        return std::nullopt;
    const int hour = clock[0].toInt();
    const int minute = clock[1].toInt();
    int second = clock.size() == 3 ? clock[2].toInt() : 0;
    if (second == 60)
        second = 59; // a leap second: QTime has none

    int offsetMinutes = 0; // no zone at all: read as UTC
    if (next < words.size()) {
        const auto offset = zoneOffset(words[next]);
        if (!offset)
            return std::nullopt;
        offsetMinutes = *offset;
        ++next;
        // "+0100 CET" and similar: a second, redundant zone name
        if (next < words.size() && !zoneOffset(words[next]) && !std::all_of(words[next].cbegin(), words[next].cend(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            }))
            return std::nullopt;
        if (next < words.size())
            ++next;
    }
    if (next != words.size())
        return std::nullopt;

    const QDate date(year, month, day);
    const QTime time(hour, minute, second);
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    return QDateTime(date, time, Qt::OffsetFromUTC, offsetMinutes * 60).toUTC();
}

QByteArray format(const QDateTime &time)
{
    // Fixed English names: the C locale, whatever the process's locale is.
    const QDateTime utc = time.toUTC();
    const QDate date = utc.date();
    return QByteArray(DayNames[date.dayOfWeek() - 1]).left(1).toUpper() + QByteArray(DayNames[date.dayOfWeek() - 1]).mid(1)
        + ", " + QByteArray::number(date.day()) + ' '
        + QByteArray(MonthNames[date.month() - 1]).left(1).toUpper() + QByteArray(MonthNames[date.month() - 1]).mid(1)
        + ' ' + QByteArray::number(date.year()) + ' ' + utc.time().toString(QStringLiteral("HH:mm:ss")).toLatin1()
        + " +0000";
}

} // namespace MailDate
