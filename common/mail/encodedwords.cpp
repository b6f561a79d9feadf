#include "encodedwords.h"

#include "charsets.h"
#include "transferencoding.h"

#include <QList>

#include <cctype>

namespace EncodedWords {

namespace {

struct Token
{
    bool encoded = false;
    QByteArray charset; // lower-case, for encoded tokens
    QByteArray bytes;   // decoded octets, or the literal text
};

bool isBase64Char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'
        || c == '=';
}

// Parses the encoded word starting at raw[pos] ("=?"); on success sets
// *end past "?=" and fills token.
bool parseWord(QByteArrayView raw, qsizetype pos, qsizetype *end, Token *token)
{
    // Searches are bounded so that a header full of "=?" stays linear. RFC
    // 2047 words are at most 75 characters; real mail stretches that a bit.
    constexpr qsizetype MaxCharset = 80;
    constexpr qsizetype MaxText = 1000;
    const qsizetype charsetEnd = raw.first(std::min(raw.size(), pos + 2 + MaxCharset)).indexOf('?', pos + 2);
    if (charsetEnd < 0 || charsetEnd == pos + 2)
        return false;
    if (charsetEnd + 2 >= raw.size() || raw[charsetEnd + 2] != '?')
        return false;
    const char encoding = raw[charsetEnd + 1];
    const qsizetype textStart = charsetEnd + 3;
    const qsizetype textEnd = raw.first(std::min(raw.size(), textStart + MaxText + 2)).indexOf("?=", textStart);
    if (textEnd < 0)
        return false;
    const QByteArrayView charset = raw.sliced(pos + 2, charsetEnd - pos - 2);
    const QByteArrayView text = raw.sliced(textStart, textEnd - textStart);
    for (char c : charset) {
        if (c <= ' ' || c >= 127)
            return false;
    }
    for (char c : text) {
        if (c == ' ' || c == '\t')
            return false; // an encoded word holds no white space (§5)
    }
    if (encoding == 'B' || encoding == 'b') {
        if (!std::all_of(text.begin(), text.end(), isBase64Char))
            return false;
        token->bytes = TransferEncoding::decodeBase64(text);
    } else if (encoding == 'Q' || encoding == 'q') {
        // Every "=" must start a hex escape; otherwise the word is malformed.
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text[i] == '=' && (i + 2 >= text.size() || !isxdigit(static_cast<unsigned char>(text[i + 1]))
                                   || !isxdigit(static_cast<unsigned char>(text[i + 2]))))
                return false;
        }
        QByteArray underscoresAsSpaces = text.toByteArray();
        underscoresAsSpaces.replace('_', ' ');
        token->bytes = TransferEncoding::decodeQuotedPrintable(underscoresAsSpaces);
    } else {
        return false;
    }
    token->encoded = true;
    token->charset = charset.toByteArray().toLower();
    const qsizetype star = token->charset.indexOf('*'); // RFC 2231 §5 language
    if (star >= 0)
        token->charset.truncate(star);
    *end = textEnd + 2;
    return true;
}

bool isBlank(const QByteArray &bytes)
{
    return std::all_of(bytes.cbegin(), bytes.cend(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

} // namespace

QString decode(QByteArrayView raw)
{
    if (!raw.contains("=?"))
        return Charsets::decodeHeaderBytes(raw);
    QList<Token> tokens;
    qsizetype literalStart = 0;
    qsizetype pos = 0;
    while ((pos = raw.indexOf("=?", pos)) >= 0) {
        Token word;
        qsizetype end = 0;
        if (!parseWord(raw, pos, &end, &word)) {
            pos += 2;
            continue;
        }
        if (pos > literalStart)
            tokens.append({false, {}, raw.sliced(literalStart, pos - literalStart).toByteArray()});
        tokens.append(word);
        pos = literalStart = end;
    }
    if (literalStart < raw.size())
        tokens.append({false, {}, raw.sliced(literalStart).toByteArray()});

    QString out;
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        const Token &token = tokens.at(i);
        if (!token.encoded) {
            const bool betweenWords = i > 0 && i + 1 < tokens.size() && tokens.at(i - 1).encoded
                && tokens.at(i + 1).encoded && isBlank(token.bytes);
            if (!betweenWords)
                out += Charsets::decodeHeaderBytes(token.bytes);
            continue;
        }
        QByteArray bytes = token.bytes;
        // Join the following words of the same charset, with or without a blank between.
        for (;;) {
            const qsizetype next = i + 1 < tokens.size() && !tokens.at(i + 1).encoded && isBlank(tokens.at(i + 1).bytes)
                ? i + 2
                : i + 1;
            if (next >= tokens.size() || !tokens.at(next).encoded || tokens.at(next).charset != token.charset)
                break;
            bytes += tokens.at(next).bytes;
            i = next;
        }
        out += Charsets::decode(bytes, token.charset);
    }
    return out;
}

namespace {

bool isPlainAscii(const QString &text)
{
    for (QChar c : text) {
        if (c.unicode() < 32 || c.unicode() > 126)
            return false;
    }
    return !text.contains(QStringLiteral("=?"));
}

// UTF-8 B words, each whole characters. 39 bytes are 52 base64 characters,
// a 64-character word: with a field name ("Subject: ") or the folding space
// before it, the line stays under 78 characters (RFC 2047 §2 allows 75 per
// word and 76 per line).
QList<QByteArray> encodeWords(const QString &text)
{
    constexpr qsizetype MaxBytesPerWord = 39;
    QList<QByteArray> words;
    QByteArray chunk;
    const QList<uint> codePoints = text.toUcs4();
    for (uint codePoint : codePoints) {
        const QByteArray utf8 = QString::fromUcs4(reinterpret_cast<const char32_t *>(&codePoint), 1).toUtf8();
        if (chunk.size() + utf8.size() > MaxBytesPerWord) {
            words.append("=?UTF-8?B?" + chunk.toBase64() + "?=");
            chunk.clear();
        }
        chunk += utf8;
    }
    if (!chunk.isEmpty())
        words.append("=?UTF-8?B?" + chunk.toBase64() + "?=");
    return words;
}

} // namespace

QByteArray encodeText(const QString &text)
{
    if (isPlainAscii(text))
        return text.toLatin1();
    return encodeWords(text).join("\r\n ");
}

QByteArray encodePhrase(const QString &text)
{
    if (!isPlainAscii(text))
        return encodeWords(text).join("\r\n "); // folding white space between words
    static const QByteArrayView specials = "()<>[]:;@\\,.\"";
    const QByteArray ascii = text.toLatin1();
    const bool needsQuotes = ascii.isEmpty() || ascii.startsWith(' ') || ascii.endsWith(' ') || ascii.contains("  ")
        || std::any_of(ascii.cbegin(), ascii.cend(), [](char c) { return specials.contains(c) || c == '\t'; });
    if (!needsQuotes)
        return ascii;
    QByteArray quoted = "\"";
    for (char c : ascii) {
        if (c == '"' || c == '\\')
            quoted += '\\';
        quoted += c;
    }
    return quoted + '"';
}

} // namespace EncodedWords
