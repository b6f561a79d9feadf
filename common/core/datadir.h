#pragma once

#include <QString>

namespace DataDirectory {

enum class Mode { Create, MustExist };

// Makes sure the data directory is usable: an existing, writable directory,
// created (mode 0700: it holds the private key and the mail) in Create mode.
// The error is one sentence naming the directory and the fix.
[[nodiscard]] bool prepare(const QString &path, Mode mode, QString *error, bool *created = nullptr);

} // namespace DataDirectory
