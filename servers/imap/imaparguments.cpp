#include "imaparguments.h"

#include "imapcommandreader.h"

#include <limits>

ImapArgumentReader::ImapArgumentReader(const QList<QByteArray> &parts)
    : m_parts(parts)
{
}

// RFC 9051 §9: ATOM-CHAR is any CHAR but atom-specials: "(" ")" "{" SP
// CTL "%" "*" DQUOTE "\" "]".
bool ImapArgumentReader::isAtomChar(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x1f || byte >= 0x7f)
        return false;
    switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
        return false;
    default:
        return true;
    }
}

QByteArrayView ImapArgumentReader::rest() const
{
    if (m_part >= m_parts.size())
        return {};
    return QByteArrayView(m_parts.at(m_part)).sliced(m_pos);
}

bool ImapArgumentReader::atLiteral() const
{
    if (m_part + 1 >= m_parts.size())
        return false;
    // The framing leaves every line but the last ending with its marker.
    const QByteArray &line = m_parts.at(m_part);
    const qsizetype open = line.lastIndexOf('{');
    return m_pos == open || (m_pos + 1 == open && line.at(m_pos) == '~');
}

bool ImapArgumentReader::atEnd() const
{
    return m_part + 1 >= m_parts.size() && rest().isEmpty();
}

char ImapArgumentReader::peek() const
{
    const QByteArrayView left = rest();
    return left.isEmpty() || atLiteral() ? '\0' : left.front();
}

void ImapArgumentReader::fail(const QByteArray &what)
{
    if (!m_fault.isEmpty())
        return;
    const QByteArrayView left = rest();
    if (atLiteral())
        m_fault = what + " at a literal";
    else if (left.isEmpty())
        m_fault = what + " at the end of the command";
    else
        m_fault = what + " at \"" + left.first(std::min<qsizetype>(left.size(), 20)).toByteArray() + '"';
}

template<typename T>
std::optional<T> ImapArgumentReader::expected(const char *what)
{
    fail(QByteArray("expected ") + what);
    return std::nullopt;
}

bool ImapArgumentReader::take(char expectedChar)
{
    if (peek() != expectedChar) {
        fail(QByteArray("expected '") + expectedChar + '\'');
        return false;
    }
    ++m_pos;
    return true;
}

bool ImapArgumentReader::space()
{
    return take(' ');
}

bool ImapArgumentReader::accept(char expected)
{
    if (peek() != expected)
        return false;
    ++m_pos;
    return true;
}

bool ImapArgumentReader::acceptWord(QByteArrayView word)
{
    const QByteArrayView left = atLiteral() ? QByteArrayView() : rest();
    if (left.size() < word.size() || QByteArrayView(left.first(word.size())).compare(word, Qt::CaseInsensitive) != 0
        || (left.size() > word.size() && isAtomChar(left.at(word.size()))))
        return false;
    m_pos += word.size();
    return true;
}

bool ImapArgumentReader::acceptPrefix(QByteArrayView word)
{
    const QByteArrayView left = atLiteral() ? QByteArrayView() : rest();
    if (left.size() < word.size() || QByteArrayView(left.first(word.size())).compare(word, Qt::CaseInsensitive) != 0)
        return false;
    m_pos += word.size();
    return true;
}

bool ImapArgumentReader::takeWord(QByteArrayView word)
{
    if (acceptWord(word))
        return true;
    fail("expected " + word.toByteArray());
    return false;
}

std::optional<QByteArray> ImapArgumentReader::atom()
{
    const QByteArrayView left = atLiteral() ? QByteArrayView() : rest();
    qsizetype end = 0;
    while (end < left.size() && isAtomChar(left.at(end)))
        ++end;
    if (end == 0)
        return expected<QByteArray>("an atom");
    m_pos += end;
    return left.first(end).toByteArray();
}

std::optional<QByteArray> ImapArgumentReader::quoted()
{
    const QByteArrayView left = rest();
    QByteArray value;
    for (qsizetype i = 1; i < left.size(); ++i) {
        const char c = left.at(i);
        if (c == '"') {
            m_pos += i + 1;
            return value;
        }
        if (c == '\\') {
            // Only a quote or a backslash may be escaped (quoted-specials).
            if (i + 1 >= left.size() || (left.at(i + 1) != '"' && left.at(i + 1) != '\\'))
                return expected<QByteArray>("'\"' or '\\' after '\\' in a quoted string");
            value += left.at(++i);
        } else if (c == '\0' || c == '\r') {
            // TEXT-CHAR: no NUL, and no CR (LF cannot come: it ends the line).
            return expected<QByteArray>("no NUL or CR in a quoted string");
        } else {
            value += c; // 8-bit bytes too: UTF-8 (RFC 9051 §4.3)
        }
    }
    return expected<QByteArray>("the end of a quoted string");
}

std::optional<QByteArray> ImapArgumentReader::literal()
{
    if (!atLiteral() || rest().front() != '{')
        return expected<QByteArray>("a string, not a binary literal");
    const QByteArray value = m_parts.at(m_part + 1);
    m_part += 2;
    m_pos = 0;
    return value;
}

std::optional<QByteArray> ImapArgumentReader::messageLiteral()
{
    if (!atLiteral())
        return expected<QByteArray>("a literal");
    const QByteArray value = m_parts.at(m_part + 1);
    m_part += 2;
    m_pos = 0;
    return value;
}

std::optional<QByteArray> ImapArgumentReader::string()
{
    if (atLiteral())
        return literal();
    if (peek() == '"')
        return quoted();
    return expected<QByteArray>("a string");
}

std::optional<QByteArray> ImapArgumentReader::astring()
{
    if (atLiteral() || peek() == '"')
        return string();
    const QByteArrayView left = rest();
    qsizetype end = 0;
    while (end < left.size() && (isAtomChar(left.at(end)) || left.at(end) == ']'))
        ++end;
    if (end == 0)
        return expected<QByteArray>("an atom or a string");
    m_pos += end;
    return left.first(end).toByteArray();
}

std::optional<QByteArray> ImapArgumentReader::nstring()
{
    if (atLiteral() || peek() == '"')
        return string();
    const QByteArrayView left = rest();
    if (left.size() >= 3 && left.first(3).compare("NIL", Qt::CaseInsensitive) == 0
        && (left.size() == 3 || !isAtomChar(left.at(3)))) {
        m_pos += 3;
        return std::nullopt;
    }
    return expected<QByteArray>("a string or NIL");
}

std::optional<QByteArray> ImapArgumentReader::listMailbox()
{
    if (atLiteral() || peek() == '"')
        return string();
    const QByteArrayView left = rest();
    qsizetype end = 0;
    while (end < left.size()
           && (isAtomChar(left.at(end)) || left.at(end) == '%' || left.at(end) == '*' || left.at(end) == ']'))
        ++end;
    if (end == 0)
        return expected<QByteArray>("a mailbox name or pattern");
    m_pos += end;
    return left.first(end).toByteArray();
}

std::optional<quint64> ImapArgumentReader::number64()
{
    const QByteArrayView left = atLiteral() ? QByteArrayView() : rest();
    qsizetype end = 0;
    quint64 value = 0;
    constexpr quint64 Largest = quint64(std::numeric_limits<qint64>::max()); // number64 (RFC 9051)
    while (end < left.size() && left.at(end) >= '0' && left.at(end) <= '9') {
        const unsigned digit = unsigned(left.at(end) - '0');
        if (value > (Largest - digit) / 10)
            return expected<quint64>("a number of at most 63 bits");
        value = value * 10 + digit;
        ++end;
    }
    if (end == 0)
        return expected<quint64>("a number");
    m_pos += end;
    return value;
}

std::optional<quint32> ImapArgumentReader::number()
{
    const QByteArrayView left = atLiteral() ? QByteArrayView() : rest();
    qsizetype end = 0;
    quint64 value = 0;
    while (end < left.size() && left.at(end) >= '0' && left.at(end) <= '9') {
        value = value * 10 + unsigned(left.at(end) - '0');
        if (value > std::numeric_limits<quint32>::max())
            return expected<quint32>("a number below 4294967296");
        ++end;
    }
    if (end == 0)
        return expected<quint32>("a number");
    m_pos += end;
    return quint32(value);
}

std::optional<quint32> ImapArgumentReader::nzNumber()
{
    if (peek() == '0')
        return expected<quint32>("a number above 0");
    return number();
}

std::optional<quint32> ImapArgumentReader::sequenceNumber()
{
    if (peek() == '*') {
        ++m_pos;
        return ImapSequenceSet::Star;
    }
    if (peek() < '0' || peek() > '9')
        return expected<quint32>("a message number, a uid or '*'");
    return nzNumber();
}

std::optional<ImapSequenceSet> ImapArgumentReader::sequenceSet()
{
    ImapSequenceSet set;
    do {
        const std::optional<quint32> first = sequenceNumber();
        if (!first)
            return std::nullopt;
        ImapSequenceSet::Range range{*first, *first};
        if (peek() == ':') {
            ++m_pos;
            const std::optional<quint32> last = sequenceNumber();
            if (!last)
                return std::nullopt;
            range.last = *last;
        }
        set.ranges.append(range);
    } while (peek() == ',' && (++m_pos, true));
    return set;
}
