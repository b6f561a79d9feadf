#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// RFC 2047 encoded words ("=?charset?B|Q?text?=") in header values.
namespace EncodedWords {

// Decodes an unfolded header value: B and Q words in any charset ICU knows;
// white space between two adjacent encoded words dropped (§6.2), and the
// bytes of adjacent words in one charset joined before conversion, so a
// character split across two words survives. A malformed word is kept as
// written. Raw 8-bit bytes are read as UTF-8, else windows-1252.
[[nodiscard]] QString decode(QByteArrayView raw);

// Unstructured text (Subject): as is when it is printable ASCII that cannot
// be mistaken for an encoded word, else UTF-8 B words of at most 75
// characters each (§2), separated by folding white space (CRLF SP).
[[nodiscard]] QByteArray encodeText(const QString &text);

// A display name (RFC 5322 phrase): atoms, a quoted string when it holds
// specials, or encoded words when it is not ASCII (§5(3)).
[[nodiscard]] QByteArray encodePhrase(const QString &text);

} // namespace EncodedWords
