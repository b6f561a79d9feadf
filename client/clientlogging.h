#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcClient)
// The SMTP conversation as "C: "/"S: " lines, AUTH and REG arguments redacted;
// enable with QT_LOGGING_RULES="mailroom.client.wire.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcClientWire)
