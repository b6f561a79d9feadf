#pragma once

#include "config.h"

#include <QString>

#include <optional>

namespace ServerCommandLine {

// The command line every Mailroom server shares: --help, --version, the
// option groups given, no positional arguments, a usable storage choice.
// On a bad command line it prints one line on stderr ("<app>: <what>") and
// returns nullopt: the caller exits with 2 (docs/PROTOCOL.md §2). Help and
// version exit 0.
[[nodiscard]] std::optional<Config> parse(const QString &description, const ConfigOptions &options);

// "<app>: <message>" on stderr; returns 2, the exit code for bad input.
int fail(const QString &message);

} // namespace ServerCommandLine
