#pragma once

#include <QLoggingCategory>

// One category per subsystem; enable with QT_LOGGING_RULES="mailroom.*.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcStore)
Q_DECLARE_LOGGING_CATEGORY(lcAuth)
Q_DECLARE_LOGGING_CATEGORY(lcTls)
Q_DECLARE_LOGGING_CATEGORY(lcConfig)

namespace Logging {
// Text a client chose (a user name) made safe for one log line: control
// characters become '?', so nobody can forge further lines.
[[nodiscard]] QString printable(const QString &text);
} // namespace Logging
