#include "serverendpoint.h"

#include <QHostAddress>

std::optional<ServerEndpoint> ServerEndpoint::parse(QStringView text)
{
    text = text.trimmed();
    QStringView host;
    QStringView port;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || close + 1 >= text.size() || text.at(close + 1) != u':')
            return std::nullopt;
        host = text.mid(1, close - 1);
        port = text.mid(close + 2);
        if (QHostAddress(host.toString()).protocol() != QAbstractSocket::IPv6Protocol)
            return std::nullopt;
    } else {
        const qsizetype colon = text.lastIndexOf(u':');
        if (colon <= 0 || text.indexOf(u':') != colon)
            return std::nullopt; // a bare IPv6 address needs brackets
        host = text.first(colon);
        port = text.mid(colon + 1);
        for (QChar c : host) {
            if (!(c.isLetterOrNumber() || c == u'.' || c == u'-' || c == u'_') || c.unicode() > 0x7f)
                return std::nullopt;
        }
    }
    // Digits only: toUInt would also take "+25" and " 25".
    if (port.isEmpty() || !std::all_of(port.begin(), port.end(), [](QChar c) { return c.isDigit() && c.unicode() < 0x80; }))
        return std::nullopt;
    bool ok = false;
    const uint number = port.toUInt(&ok);
    if (!ok || number == 0 || number > 65535 || host.isEmpty())
        return std::nullopt;
    return ServerEndpoint{host.toString(), quint16(number)};
}

QString ServerEndpoint::toString() const
{
    if (host.contains(u':'))
        return u'[' + host + u"]:" + QString::number(port);
    return host + u':' + QString::number(port);
}
