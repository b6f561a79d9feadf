#include "charsets.h"

#include <QStringDecoder>

namespace Charsets {

namespace {
bool isAscii(QByteArrayView bytes)
{
    for (char c : bytes) {
        if (static_cast<unsigned char>(c) >= 0x80)
            return false;
    }
    return true;
}

QByteArray normalizedLabel(QByteArrayView charset)
{
    QByteArray label = charset.trimmed().toByteArray().toLower();
    // RFC 2231 §5: a language suffix may follow the charset ("utf-8*en").
    const qsizetype star = label.indexOf('*');
    if (star >= 0)
        label.truncate(star);
    if (label.size() >= 2 && label.startsWith('"') && label.endsWith('"'))
        label = label.mid(1, label.size() - 2);
    return label;
}

// Charsets whose ASCII bytes are not ASCII text: "+AOk-" is "é" in UTF-7,
// and UTF-16 or UTF-32 turn any byte pair or quad into other characters.
bool isAsciiCompatible(const QByteArray &label)
{
    return !(label.startsWith("utf-7") || label.startsWith("utf7") || label.startsWith("unicode-1-1-utf-7")
             || label.startsWith("utf-16") || label.startsWith("utf16") || label.startsWith("utf-32")
             || label.startsWith("utf32") || label.startsWith("ucs-2") || label.startsWith("ucs-4")
             || label == "unicode" || label == "csunicode");
}

// A decoder of a charset that counts in UTF-16 units (UTF-7 above all, whose
// base64 runs are UTF-16 units) passes a lone surrogate through: as text it
// is invalid, so that no such string reaches JSON, a database or the client,
// it becomes U+FFFD like any other undecodable input.
QString withoutLoneSurrogates(QString text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate()) {
            ++i;
            continue;
        }
        if (c.isSurrogate())
            text[i] = QChar::ReplacementCharacter;
    }
    return text;
}

bool meansWindows1252(const QByteArray &label)
{
    static const QByteArrayView labels[] = {
        "us-ascii", "ascii", "ansi_x3.4-1968", "iso-ir-6", "iso646-us", "us", "ibm367", "cp367",
        "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "l1", "iso-ir-100",
        "ibm819", "cp819", "csisolatin1", "iso88591", "windows-1252", "cp1252", "x-cp1252",
    };
    for (QByteArrayView known : labels) {
        if (label == known)
            return true;
    }
    return false;
}
} // namespace

bool isValidUtf8(QByteArrayView bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder.decode(bytes);
    return !decoder.hasError();
}

QString decode(QByteArrayView bytes, QByteArrayView charset, bool *known)
{
    if (known)
        *known = true;
    QByteArray label = normalizedLabel(charset);
    if (isAscii(bytes) && isAsciiCompatible(label))
        return QString::fromLatin1(bytes);
    if (label.isEmpty() || label == "us-ascii" || label == "ascii") {
        // Undeclared 8-bit text is most often UTF-8 nowadays.
        if (isValidUtf8(bytes))
            return QString::fromUtf8(bytes);
    }
    if (label.isEmpty() || meansWindows1252(label))
        label = "windows-1252";
    if (label == "utf-8" || label == "utf8")
        return QString::fromUtf8(bytes);
    QStringDecoder decoder(label.constData());
    if (!decoder.isValid()) {
        if (known)
            *known = false;
        return QString::fromLatin1(bytes);
    }
    return withoutLoneSurrogates(decoder.decode(bytes));
}

QString decodeHeaderBytes(QByteArrayView bytes)
{
    if (isAscii(bytes) || isValidUtf8(bytes))
        return QString::fromUtf8(bytes);
    return decode(bytes, "windows-1252");
}

} // namespace Charsets
