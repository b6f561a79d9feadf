#pragma once

#include <QByteArrayView>
#include <QString>

namespace Charsets {

// Converts text in a MIME charset (RFC 2046 §4.1.2) to a QString with every
// charset ICU knows. Labels are read as the WHATWG Encoding Standard and all
// browsers do: us-ascii and iso-8859-1 mean windows-1252, which real mail
// that claims ISO-8859-1 usually is. An empty label means us-ascii, except
// that bytes that are valid UTF-8 are read as UTF-8. An unknown label is read
// as ISO-8859-1 and clears *known.
[[nodiscard]] QString decode(QByteArrayView bytes, QByteArrayView charset, bool *known = nullptr);

// Raw 8-bit bytes in a header (RFC 6532 allows UTF-8): UTF-8 when valid,
// else windows-1252.
[[nodiscard]] QString decodeHeaderBytes(QByteArrayView bytes);

[[nodiscard]] bool isValidUtf8(QByteArrayView bytes);

} // namespace Charsets
