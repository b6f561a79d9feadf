#include "pop3logging.h"

Q_LOGGING_CATEGORY(lcPop3, "mailroom.pop3", QtInfoMsg)
