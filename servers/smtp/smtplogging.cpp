#include "smtplogging.h"

Q_LOGGING_CATEGORY(lcSmtp, "mailroom.smtp", QtInfoMsg)
