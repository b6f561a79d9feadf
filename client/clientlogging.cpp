#include "clientlogging.h"

Q_LOGGING_CATEGORY(lcClient, "mailroom.client", QtInfoMsg)
Q_LOGGING_CATEGORY(lcClientWire, "mailroom.client.wire", QtWarningMsg)
