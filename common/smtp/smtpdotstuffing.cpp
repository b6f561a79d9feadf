#include "smtpdotstuffing.h"

void SmtpDotStuffing::appendLine(QByteArray &payload, QByteArrayView line)
{
    if (line.startsWith('.'))
        payload += '.';
    payload.append(line).append("\r\n", 2);
}

QByteArray SmtpDotStuffing::stuff(QByteArrayView message)
{
    QByteArray out;
    out.reserve(message.size() + message.size() / 32 + 5);
    qsizetype start = 0;
    while (start < message.size()) {
        qsizetype end = start;
        while (end < message.size() && message.at(end) != '\r' && message.at(end) != '\n')
            ++end;
        appendLine(out, message.sliced(start, end - start));
        if (end < message.size() && message.at(end) == '\r' && end + 1 < message.size() && message.at(end + 1) == '\n')
            ++end;
        start = end + 1;
    }
    out += EndOfData;
    return out;
}

qint64 SmtpDotStuffing::messageSize(QByteArrayView payload)
{
    if (payload.size() < EndOfData.size())
        return 0;
    qint64 stuffed = payload.startsWith("..") ? 1 : 0;
    for (qsizetype at = payload.indexOf("\r\n.."); at >= 0; at = payload.indexOf("\r\n..", at + 3))
        ++stuffed;
    return payload.size() - EndOfData.size() - stuffed;
}
