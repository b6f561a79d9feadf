#include "logging.h"

Q_LOGGING_CATEGORY(lcStore, "mailroom.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "mailroom.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTls, "mailroom.tls", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "mailroom.config", QtInfoMsg)

QString Logging::printable(const QString &text)
{
    QString out = text.left(200);
    for (QChar &c : out) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.category() == QChar::Other_Control)
            c = u'?';
    }
    return out;
}
