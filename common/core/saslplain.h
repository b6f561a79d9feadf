#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>

// The SASL PLAIN message (RFC 4616 §2), as smtpd and pop3d read it and the
// client writes it: authzid NUL authcid NUL passwd, before base64.
namespace SaslPlain {

struct Message
{
    QByteArray authorizationId; // empty: the login name's own
    QString loginName;
    QString password;
};

// Exactly three fields, or nullopt. What an authorization identity may
// name is each server's policy (Username::sameAccount).
[[nodiscard]] std::optional<Message> parse(QByteArrayView decoded);

// A client's base64 response to AUTH(ENTICATE) PLAIN as a login: the
// message when it decodes, has a login name, and names no authorization
// identity but the login name's own account (in `domain`); anything else
// is refused like a wrong password (acting for someone else is not offered).
[[nodiscard]] std::optional<Message> parseLogin(QByteArrayView base64, const QString &domain);

// A message without an authorization identity.
[[nodiscard]] QByteArray encode(const QString &loginName, const QString &password);

} // namespace SaslPlain
