#pragma once

#include <QByteArray>
#include <QByteArrayView>

// The transparency rule of DATA, RFC 5321 §4.5.2, both ways: the sender
// doubles a dot that begins a line (the very first line too) and ends the
// data with a line of one dot; the receiver drops the first dot of a line
// that begins with one, and the line "." alone ends the data.
namespace SmtpDotStuffing {

// The line that ends the data, after the CRLF of the last line.
inline constexpr QByteArrayView EndOfData = ".\r\n";

// Appends one line of the message (without its line end), stuffed, and CRLF:
// for a sender that builds the DATA payload line by line.
void appendLine(QByteArray &payload, QByteArrayView line);
// The whole DATA payload of `message`: every line ending in CRLF (a bare LF
// or CR becomes CRLF), each line stuffed, then EndOfData.
[[nodiscard]] QByteArray stuff(QByteArrayView message);
// RFC 1870 §6: the size of the message a stuff() payload carries, as CRLF
// lines without the dots stuffing added and without EndOfData (what MAIL
// FROM's SIZE= says).
[[nodiscard]] qint64 messageSize(QByteArrayView payload);

// Receiver: `line` (without its CRLF) is the end of the data. Only a line
// that began after a CRLF and ended in CRLF may be; the caller knows that.
[[nodiscard]] inline bool isEndOfData(QByteArrayView line)
{
    return line == EndOfData.first(1);
}
// Receiver: the line as the message holds it, its stuffed dot dropped.
[[nodiscard]] inline QByteArrayView unstuffLine(QByteArrayView line)
{
    return line.size() > 1 && line.startsWith('.') ? line.sliced(1) : line;
}

} // namespace SmtpDotStuffing
