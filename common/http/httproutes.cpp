#include "httproutes.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {

bool asciiDigits(QStringView segment, qsizetype maxDigits)
{
    return !segment.isEmpty() && segment.size() <= maxDigits
        && std::all_of(segment.cbegin(), segment.cend(), [](QChar c) { return c.isDigit() && c.unicode() < 128; });
}

} // namespace

std::optional<qint64> httpPositiveInteger(QStringView text)
{
    // 18 digits stay below 2^63, so toLongLong() cannot overflow.
    if (!asciiDigits(text, 18))
        return std::nullopt;
    const qint64 value = text.toLongLong();
    return value > 0 ? std::optional<qint64>(value) : std::nullopt;
}

QString HttpPathParameters::value(QStringView name) const
{
    for (const auto &[key, value] : m_values) {
        if (key == name)
            return value;
    }
    return {};
}

HttpPathPattern::Types HttpPathPattern::builtInTypes()
{
    return {
        {u"int"_s, [](QStringView segment) { return httpPositiveInteger(segment).has_value(); }},
        {u"index"_s, [](QStringView segment) { return asciiDigits(segment, 6); }},
    };
}

QStringList HttpPathPattern::segments(QStringView path)
{
    QStringList segments = path.toString().split(u'/');
    if (!segments.isEmpty() && segments.first().isEmpty())
        segments.removeFirst();
    return segments;
}

HttpPathPattern::HttpPathPattern(QStringView pattern, const Types &types)
{
    for (const QString &segment : segments(pattern)) {
        if (!segment.startsWith(u'{')) {
            m_valid = m_valid && !segment.contains(u'{') && !segment.contains(u'}');
            m_segments.append(Segment{segment, {}, {}});
            continue;
        }
        const qsizetype colon = segment.indexOf(u':');
        const QString name = segment.mid(1, colon - 1);
        const QString type = segment.mid(colon + 1).chopped(1);
        const bool wellFormed = colon > 1 && segment.endsWith(u'}') && types.contains(type);
        m_valid = m_valid && wellFormed;
        m_segments.append(Segment{{}, name, wellFormed ? types.value(type) : Type()});
    }
}

bool HttpPathPattern::match(const QStringList &segments, HttpPathParameters *parameters) const
{
    if (!m_valid || segments.size() != m_segments.size())
        return false;
    HttpPathParameters found;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const Segment &segment = m_segments.at(i);
        if (segment.name.isEmpty()) {
            if (segments.at(i) != segment.literal)
                return false;
        } else if (segment.type(segments.at(i))) {
            found.insert(segment.name, segments.at(i));
        } else {
            return false;
        }
    }
    *parameters = std::move(found);
    return true;
}
