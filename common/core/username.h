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

// The name a login is checked and its failures counted under, in every
// server: the account's name, or for a login that names no valid account
// what was typed, lower-cased and cut to a bound (it names no account, so
// its tail changes nothing but the work).
[[nodiscard]] QString loginKey(QStringView input, QStringView domain);

// Whether an authorization identity (RFC 4616's authzid) names the same
// account as the login name, so that it asks for nothing beyond logging in:
// the same text, or both the same valid account however written ("Alice",
// "alice@<domain>"). Acting for another account is not offered.
[[nodiscard]] bool sameAccount(QStringView authorizationId, QStringView loginName, QStringView domain);

} // namespace Username
