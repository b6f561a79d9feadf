#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>

#include <optional>

namespace MailDate {

// RFC 5322 §3.3 date-time, UTC, with §4.3 obsolete forms and common
// mistakes: day of week optional (and not checked), two- and three-digit
// years, seconds optional, named zones (UT, GMT, EST ... PDT; military
// letters and unknown names count as -0000), a missing zone read as UTC,
// trailing comments such as "(CET)", "GMT+0100". Anything else is
// unparsable: nullopt, never a guess.
[[nodiscard]] std::optional<QDateTime> parse(QByteArrayView raw);

// "Sun, 22 Nov 2026 13:05:00 +0000" for a Date: header.
[[nodiscard]] QByteArray format(const QDateTime &time);

} // namespace MailDate
