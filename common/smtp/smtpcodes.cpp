#include "smtpcodes.h"

QByteArray SmtpServerReply::line(const QString &formattedText) const
{
    QByteArray out = QByteArray::number(code) + ' ';
    if (enhanced)
        out += QByteArray(enhanced) + ' ';
    out += formattedText.toUtf8() + "\r\n";
    return out;
}

bool SmtpServerReply::matches(const SmtpReply &reply) const
{
    return reply.code == code && reply.enhanced == QLatin1StringView(enhanced ? enhanced : "");
}
