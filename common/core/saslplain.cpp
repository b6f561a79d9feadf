#include "saslplain.h"

#include <QList>

namespace SaslPlain {

std::optional<Message> parse(QByteArrayView decoded)
{
    const QList<QByteArray> fields = decoded.toByteArray().split('\0');
    if (fields.size() != 3)
        return std::nullopt;
    return Message{fields.at(0), QString::fromUtf8(fields.at(1)), QString::fromUtf8(fields.at(2))};
}

QByteArray encode(const QString &loginName, const QString &password)
{
    return '\0' + loginName.toUtf8() + '\0' + password.toUtf8();
}

} // namespace SaslPlain
