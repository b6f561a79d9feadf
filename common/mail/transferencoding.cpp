#include "transferencoding.h"

#include <array>

namespace TransferEncoding {

namespace {
int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}
} // namespace

QByteArray decodeQuotedPrintable(QByteArrayView encoded)
{
    QByteArray out;
    out.reserve(encoded.size());
    const qsizetype n = encoded.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char c = encoded[i];
        if (c != '=') {
            out.append(c);
            continue;
        }
        // Soft line break: "=", optional white space, then CRLF, LF or the end.
        qsizetype j = i + 1;
        while (j < n && isSpace(encoded[j]))
            ++j;
        if (j == n) {
            i = j - 1;
            continue;
        }
        if (encoded[j] == '\n' || (encoded[j] == '\r' && j + 1 < n && encoded[j + 1] == '\n')) {
            i = encoded[j] == '\r' ? j + 1 : j;
            continue;
        }
        if (i + 2 < n) {
            const int high = hexValue(encoded[i + 1]);
            const int low = hexValue(encoded[i + 2]);
            if (high >= 0 && low >= 0) {
                out.append(char(high * 16 + low));
                i += 2;
                continue;
            }
        }
        out.append('='); // not an escape: as written
    }
    return out;
}

QByteArray decodeBase64(QByteArrayView encoded)
{
    static const auto table = [] {
        std::array<signed char, 256> values{};
        values.fill(-1);
        const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i)
            values[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
        return values;
    }();
    QByteArray out;
    out.reserve(encoded.size() * 3 / 4);
    quint32 buffer = 0;
    int bits = 0;
    for (char c : encoded) {
        const int value = table[static_cast<unsigned char>(c)];
        if (value < 0)
            continue; // line ends, padding, stray characters
        buffer = (buffer << 6) | quint32(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(char((buffer >> bits) & 0xff));
        }
    }
    return out;
}

QByteArray decode(QByteArrayView body, QByteArrayView encoding)
{
    const QByteArray name = encoding.trimmed().toByteArray().toLower();
    if (name == "base64")
        return decodeBase64(body);
    if (name == "quoted-printable")
        return decodeQuotedPrintable(body);
    return body.toByteArray();
}

QByteArray encodeQuotedPrintable(QByteArrayView text)
{
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(text.size() * 11 / 10 + 16);
    qsizetype lineLength = 0;
    const auto appendEncoded = [&](unsigned char c) {
        out.append('=');
        out.append(hex[c >> 4]);
        out.append(hex[c & 0xf]);
    };
    const auto softBreakIfNeeded = [&](int needed) {
        if (lineLength + needed > 75) { // 75 plus the "=" of the soft break is 76
            out.append("=\r\n");
            lineLength = 0;
        }
    };
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
            continue; // the LF writes the line end
        if (c == '\n') {
            out.append("\r\n");
            lineLength = 0;
            continue;
        }
        const bool atLineEnd = i + 1 == n || text[i + 1] == '\n' || (text[i + 1] == '\r' && i + 2 < n && text[i + 2] == '\n');
        const bool lineStart = lineLength == 0;
        const bool escape = c == '=' || c == '\r' || (c < 32 && c != '\t') || c > 126
            || ((c == ' ' || c == '\t') && atLineEnd)
            || (lineStart && c == '.')
            || (lineStart && c == 'F' && text.sliced(i).startsWith("From "));
        if (escape) {
            softBreakIfNeeded(3);
            appendEncoded(c);
            lineLength += 3;
        } else {
            softBreakIfNeeded(1);
            out.append(char(c));
            lineLength += 1;
        }
    }
    return out;
}

} // namespace TransferEncoding
