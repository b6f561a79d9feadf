#include "logging.h"

Q_LOGGING_CATEGORY(lcStore, "mailroom.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "mailroom.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTls, "mailroom.tls", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "mailroom.config", QtInfoMsg)
