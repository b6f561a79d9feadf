#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Content-Transfer-Encoding, RFC 2045 §6. Decoders tolerate what real mail
// gets wrong: they decode what they can and never fail.
namespace TransferEncoding {

// RFC 2045 §6.7: soft line breaks ("=" at a line end, also with trailing
// white space before the line end), =XX in either case; an "=" that starts
// no valid sequence is kept as written. Line ends are kept as they are.
[[nodiscard]] QByteArray decodeQuotedPrintable(QByteArrayView encoded);

// RFC 2045 §6.8: characters outside the alphabet are skipped, missing
// padding is tolerated, a truncated last group yields its whole bytes.
[[nodiscard]] QByteArray decodeBase64(QByteArrayView encoded);

// Decodes by the Content-Transfer-Encoding value (7bit, 8bit, binary and
// unknown values: unchanged).
[[nodiscard]] QByteArray decode(QByteArrayView body, QByteArrayView encoding);

// RFC 2045 §6.7 with CRLF line ends: lines of at most 76 characters, "=" and
// bytes outside printable ASCII encoded, white space before a line end
// encoded, a leading "From " or "." escaped so no transport can change them.
[[nodiscard]] QByteArray encodeQuotedPrintable(QByteArrayView text);

} // namespace TransferEncoding
