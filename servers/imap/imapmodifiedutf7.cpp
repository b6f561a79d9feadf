#include "imapmodifiedutf7.h"

namespace {

// Not QByteArray::fromBase64: its alphabets have no ",", and it accepts
// the loose spellings (leftover bits, "=") that a folder name must not have.
constexpr char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool isDirect(char16_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

int sextetOf(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

// A run of UTF-16 code units as modified base64 (no padding).
void appendEncodedRun(QByteArray *out, QStringView run)
{
    quint32 bits = 0;
    int count = 0;
    for (const QChar unit : run) {
        bits = (bits << 16) | unit.unicode();
        count += 16;
        while (count >= 6) {
            count -= 6;
            out->append(Alphabet[(bits >> count) & 0x3f]);
        }
        bits &= (1u << count) - 1;
    }
    if (count > 0)
        out->append(Alphabet[(bits << (6 - count)) & 0x3f]);
}

} // namespace

namespace ImapModifiedUtf7 {

QByteArray encode(const QString &name)
{
    QByteArray out;
    qsizetype i = 0;
    while (i < name.size()) {
        const char16_t c = name.at(i).unicode();
        if (c == u'&') {
            out += "&-";
            ++i;
        } else if (isDirect(c)) {
            out += char(c);
            ++i;
        } else {
            qsizetype end = i;
            while (end < name.size() && !isDirect(name.at(end).unicode()))
                ++end;
            out += '&';
            appendEncodedRun(&out, QStringView(name).sliced(i, end - i));
            out += '-';
            i = end;
        }
    }
    return out;
}

std::optional<QString> decode(QByteArrayView name)
{
    QString out;
    bool previousWasRun = false; // an encoded run just ended
    qsizetype i = 0;
    while (i < name.size()) {
        const char c = name.at(i);
        if (!isDirect(char16_t(static_cast<unsigned char>(c))))
            return std::nullopt;
        if (c != '&') {
            out += QLatin1Char(c);
            previousWasRun = false;
            ++i;
            continue;
        }
        const qsizetype dash = name.indexOf('-', i + 1);
        if (dash < 0)
            return std::nullopt;
        if (dash == i + 1) { // "&-": the ampersand itself
            out += QLatin1Char('&');
            previousWasRun = false;
            i = dash + 1;
            continue;
        }
        if (previousWasRun)
            return std::nullopt; // "&..-&..-": one run spelled as two
        quint32 bits = 0;
        int count = 0;
        QString run;
        for (qsizetype k = i + 1; k < dash; ++k) {
            const int sextet = sextetOf(name.at(k));
            if (sextet < 0)
                return std::nullopt;
            bits = (bits << 6) | quint32(sextet);
            count += 6;
            if (count >= 16) {
                count -= 16;
                run += QChar(char16_t((bits >> count) & 0xffff));
                bits &= (1u << count) - 1;
            }
        }
        // What is left over is padding: fewer than 6 bits, all zero.
        if (count >= 6 || bits != 0 || run.isEmpty())
            return std::nullopt;
        for (qsizetype k = 0; k < run.size(); ++k) {
            const QChar unit = run.at(k);
            if (isDirect(unit.unicode()))
                return std::nullopt; // must have stood for itself
            if (unit.isHighSurrogate()) {
                if (k + 1 >= run.size() || !run.at(k + 1).isLowSurrogate())
                    return std::nullopt;
                ++k;
            } else if (unit.isLowSurrogate()) {
                return std::nullopt;
            }
        }
        out += run;
        previousWasRun = true;
        i = dash + 1;
    }
    return out;
}

} // namespace ImapModifiedUtf7
