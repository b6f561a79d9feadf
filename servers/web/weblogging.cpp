#include "weblogging.h"

Q_LOGGING_CATEGORY(lcWeb, "mailroom.web", QtInfoMsg)
