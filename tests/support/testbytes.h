#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QRandomGenerator>
#include <QString>

#include <algorithm>

// Byte helpers the protocol tests share.
namespace TestBytes {

// A well-formed TLS 1.2/1.3 application-data record of 256 random bytes:
// written beneath a client's TLS session, it cannot decrypt.
inline QByteArray garbageTlsRecord()
{
    QByteArray record = QByteArrayLiteral("\x17\x03\x03\x01\x00");
    for (int i = 0; i < 256; ++i)
        record += char(QRandomGenerator::global()->bounded(256));
    return record;
}

// AUTH PLAIN's response (RFC 4616): base64 of [authzid] NUL authcid NUL passwd.
inline QByteArray plainCredentials(const QByteArray &user, const QByteArray &password, const QByteArray &authzid = {})
{
    return QByteArray(authzid + '\0' + user + '\0' + password).toBase64();
}

// Bytes as one readable line for a failure message: CR, LF, TAB and NUL by
// name, other control and non-ASCII bytes as \xNN, cut after `max` bytes.
inline QString printable(QByteArrayView bytes, qsizetype max = 240)
{
    QString out;
    for (const char c : bytes.first(std::min(bytes.size(), max))) {
        const auto u = static_cast<uchar>(c);
        if (c == '\r')
            out += QLatin1String("\\r");
        else if (c == '\n')
            out += QLatin1String("\\n");
        else if (c == '\t')
            out += QLatin1String("\\t");
        else if (c == '\0')
            out += QLatin1String("\\0");
        else if (u < 0x20 || u >= 0x7f)
            out += QLatin1String("\\x") + QString::number(u, 16).rightJustified(2, u'0');
        else
            out += QLatin1Char(c);
    }
    if (bytes.size() > max)
        out += QStringLiteral("... (%1 bytes)").arg(bytes.size());
    return out;
}

} // namespace TestBytes
