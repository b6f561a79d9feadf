#pragma once

#include <QString>
#include <QStringView>

#include <optional>

// Account names, docs/PROTOCOL.md §6: the local part of <name>@<domain>.
namespace Username {

inline constexpr int MaxLength = 64;

// True for 1 to 64 characters of a-z 0-9 . _ -, a letter or digit at both
// ends and no two dots in a row. Upper case is not valid here: normalize first.
[[nodiscard]] bool isValid(QStringView name);

// Lower-cases the input (so "Bob" and "bob" are one account) and validates it.
[[nodiscard]] std::optional<QString> normalize(QStringView input);

// What a user types to log in: the name, or the full address in our domain
// (RFC 5321 §2.4: the domain part is case-insensitive).
[[nodiscard]] std::optional<QString> fromLogin(QStringView input, QStringView domain);

} // namespace Username
