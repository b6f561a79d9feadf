#include "smtpreply.h"

#include <QRegularExpression>

#include <cstring>

using namespace Qt::StringLiterals;

QString SmtpReply::toString() const
{
    QString out = QString::number(code);
    if (!enhanced.isEmpty())
        out += u' ' + enhanced;
    const QString joined = text();
    if (!joined.isEmpty())
        out += u' ' + joined;
    return out;
}

namespace {

// RFC 3463 §2: class "." subject "." detail, the class matching the reply's.
std::optional<QString> enhancedCodeOf(QStringView text, int code)
{
    static const QRegularExpression pattern(u"^([245])\\.(\\d{1,3})\\.(\\d{1,3})(?: |$)"_s);
    const auto match = pattern.match(text.toString());
    if (!match.hasMatch() || match.capturedView(1).toInt() != code / 100)
        return std::nullopt;
    return match.captured(0).trimmed();
}

} // namespace

std::optional<SmtpReply> SmtpReplyParser::next()
{
    while (m_error.isEmpty()) {
        const qsizetype newline = m_buffer.indexOf('\n');
        if (newline < 0) {
            if (m_buffer.size() > MaxLineLength)
                m_error = u"the server sent a reply line over %1 bytes"_s.arg(MaxLineLength);
            return std::nullopt;
        }
        if (newline > MaxLineLength) {
            m_error = u"the server sent a reply line over %1 bytes"_s.arg(MaxLineLength);
            return std::nullopt;
        }
        QByteArrayView line(m_buffer.constData(), newline);
        if (line.endsWith('\r'))
            line.chop(1);
        // "ddd", "ddd text" or "ddd-text" (RFC 5321 §4.2.1)
        bool last = true;
        int code = 0;
        bool valid = line.size() >= 3;
        for (int i = 0; valid && i < 3; ++i) {
            const char c = line.at(i);
            valid = c >= '0' && c <= '9' && (i > 0 || (c >= '2' && c <= '5'));
            code = code * 10 + (c - '0');
        }
        if (valid && line.size() > 3) {
            valid = line.at(3) == ' ' || line.at(3) == '-';
            last = line.at(3) == ' ';
        }
        if (!valid) {
            m_error = u"the server sent something that is not an SMTP reply: \"%1\""_s.arg(
                QString::fromLatin1(line.first(std::min<qsizetype>(line.size(), 80))));
            return std::nullopt;
        }
        if (!m_partial.lines.isEmpty() && code != m_partial.code) {
            m_error = u"the server mixed reply codes %1 and %2 in one reply"_s.arg(m_partial.code).arg(code);
            return std::nullopt;
        }
        QString text = line.size() > 4 ? QString::fromUtf8(line.sliced(4)) : QString();
        if (const auto enhanced = enhancedCodeOf(text, code)) {
            if (m_partial.lines.isEmpty())
                m_partial.enhanced = *enhanced;
            if (*enhanced == m_partial.enhanced)
                text = text.mid(enhanced->size()).trimmed();
        }
        m_partial.code = code;
        m_partial.lines.append(text);
        m_buffer.remove(0, newline + 1);
        if (last) {
            SmtpReply reply = std::move(m_partial);
            m_partial = {};
            return reply;
        }
        if (m_partial.lines.size() >= MaxLines) {
            m_error = u"the server sent a reply of over %1 lines"_s.arg(MaxLines);
            return std::nullopt;
        }
    }
    return std::nullopt;
}

char *toString(const SmtpReply &reply)
{
    const QByteArray text = reply.lines.size() > 1
        ? (reply.toString() + u" (" + QString::number(reply.lines.size()) + u" lines)").toUtf8()
        : reply.toString().toUtf8();
    char *out = new char[size_t(text.size()) + 1];
    std::memcpy(out, text.constData(), size_t(text.size()) + 1);
    return out;
}
