#include "saslplain.h"

#include "username.h"

#include <QList>

namespace SaslPlain {

std::optional<Message> parse(QByteArrayView decoded)
{
    const QList<QByteArray> fields = decoded.toByteArray().split('\0');
    if (fields.size() != 3)
        return std::nullopt;
    return Message{fields.at(0), QString::fromUtf8(fields.at(1)), QString::fromUtf8(fields.at(2))};
}

std::optional<Message> parseLogin(QByteArrayView base64, const QString &domain)
{
    const auto decoded = QByteArray::fromBase64Encoding(base64.trimmed().toByteArray(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    std::optional<Message> plain = decoded ? parse(decoded.decoded) : std::nullopt;
    if (!plain || plain->loginName.isEmpty()
        || (!plain->authorizationId.isEmpty()
            && !Username::sameAccount(QString::fromUtf8(plain->authorizationId), plain->loginName, domain)))
        return std::nullopt;
    return plain;
}

QByteArray encode(const QString &loginName, const QString &password)
{
    return '\0' + loginName.toUtf8() + '\0' + password.toUtf8();
}

} // namespace SaslPlain
