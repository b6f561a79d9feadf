#include "smtppath.h"

std::optional<SmtpPath> SmtpPath::parse(const QByteArray &argument, QByteArrayView keyword)
{
    if (argument.size() < keyword.size() || argument.first(keyword.size()).toUpper() != keyword.toByteArray().toUpper())
        return std::nullopt;
    const QByteArray rest = argument.mid(keyword.size()).trimmed();
    if (!rest.startsWith('<'))
        return std::nullopt;
    const qsizetype close = rest.indexOf('>');
    if (close < 0)
        return std::nullopt;
    SmtpPath path;
    path.address = rest.mid(1, close - 1).trimmed();
    // RFC 5321 §4.1.2 source route "@a,@b:user@host": only the mailbox counts.
    if (path.address.startsWith('@')) {
        const qsizetype colon = path.address.indexOf(':');
        path.address = colon < 0 ? QByteArray() : path.address.mid(colon + 1);
    }
    for (const QByteArray &parameter : rest.mid(close + 1).split(' ')) {
        if (parameter.isEmpty())
            continue;
        const qsizetype equals = parameter.indexOf('=');
        path.parameters.append({(equals < 0 ? parameter : parameter.left(equals)).toUpper(),
                                equals < 0 ? QByteArray() : parameter.mid(equals + 1)});
    }
    return path;
}

QByteArray SmtpCommands::mailFrom(QByteArrayView address, std::optional<qint64> size)
{
    QByteArray line = "MAIL FROM:<" + address.toByteArray() + '>';
    if (size)
        line += " SIZE=" + QByteArray::number(*size);
    return line;
}

QByteArray SmtpCommands::rcptTo(QByteArrayView address)
{
    return "RCPT TO:<" + address.toByteArray() + '>';
}
