#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// How values go on the wire in a server response (RFC 9051 §4.3, §9):
// the one place that decides between an atom, a quoted string and a literal.
namespace ImapResponse {

// A quoted string when the bytes allow one (7-bit, or with utf8 valid
// UTF-8, which IMAP4rev2 and UTF8=ACCEPT clients read in quoted strings; no
// CR or LF; at most a line's worth), else a literal "{N}\r\n" and the bytes.
// No IMAP string holds NUL, not even a literal: 0x80 stands in for it (as
// Dovecot's does in message data); bytes that may hold NUL go as literal8.
[[nodiscard]] QByteArray string(QByteArrayView bytes, bool utf8 = false);
// string(), or NIL for none.
[[nodiscard]] QByteArray nstring(const QByteArray *bytes);
// An astring: the bare atom when every byte is an ASTRING-CHAR, else string().
[[nodiscard]] QByteArray astring(QByteArrayView bytes, bool utf8 = false);
// Text for a response's human part (RFC 9051 resp-text): what a client
// sent may be quoted in it (a fault's place), but no CR, LF, NUL or other
// control character, which could end the line or forge another; 8-bit
// bytes that are not UTF-8 neither. Each such byte becomes '?'.
[[nodiscard]] QByteArray text(QByteArrayView bytes);
// A literal (RFC 3516's literal8 "~{N}" when binary is set).
[[nodiscard]] QByteArray literal(QByteArrayView bytes, bool binary = false);

} // namespace ImapResponse

#include <QDateTime>

#include <optional>

// IMAP's own date forms (RFC 9051 §9 date-time and date), which are not
// RFC 5322's.
namespace ImapDate {

// "dd-Mon-yyyy hh:mm:ss +zzzz" (the day may be padded with a space): the
// internal date of APPEND and FETCH INTERNALDATE.
[[nodiscard]] std::optional<QDateTime> parseDateTime(QByteArrayView text);
[[nodiscard]] QByteArray formatDateTime(const QDateTime &time); // UTC, "+0000"
// "d-Mon-yyyy": SEARCH's dates.
[[nodiscard]] std::optional<QDate> parseDate(QByteArrayView text);

} // namespace ImapDate
