#include "clienterror.h"

#include "smtpcodes.h"

#include <cstring>

using namespace Qt::StringLiterals;

namespace {

ClientError make(ClientError::Kind kind, const QString &message, const QString &detail, const ServerEndpoint &server)
{
    ClientError error;
    error.kind = kind;
    error.message = message;
    error.detail = detail;
    error.server = server;
    return error;
}

QString serverText(const SmtpReply &reply)
{
    QString text = reply.text().trimmed();
    if (!text.isEmpty() && !text.endsWith(u'.'))
        text += u'.';
    return text;
}

// "Prefix: what the server said." or, when it said nothing, "Prefix."
QString withServerText(const QString &prefix, const SmtpReply &reply)
{
    const QString text = serverText(reply);
    return text.isEmpty() ? QString(prefix + u'.') : QString(prefix + u": " + text);
}

} // namespace

QString ClientError::toString() const
{
    return detail.isEmpty() ? message : message + u" (" + detail + u')';
}

ClientError ClientError::fromSmtp(const SmtpFailure &failure, const ServerEndpoint &server)
{
    using Kind = ClientError::Kind;
    const QString where = server.toString();
    if (!failure.reply || !failure.protocolError.isEmpty()) {
        const QString detail = failure.reply ? failure.protocolError + u": " + failure.reply->toString()
                                             : failure.protocolError;
        if (failure.stage == SmtpStage::StartTls)
            return make(Kind::Protocol,
                        u"The mail server at %1 did not set up encryption properly, so nothing was sent."_s.arg(where),
                        detail, server);
        return make(Kind::Protocol, u"The mail server at %1 sent an answer Mailroom does not understand."_s.arg(where),
                    detail, server);
    }
    const SmtpReply &reply = *failure.reply;
    const QString detail = reply.toString();
    const auto error = [&](Kind kind, const QString &message) { return make(kind, message, detail, server); };
    const int code = reply.code;
    const QString &enhanced = reply.enhanced;

    if (code == SmtpCode::ServiceNotAvailable) {
        if (enhanced == u"4.4.2")
            return error(Kind::Timeout, u"The mail server at %1 closed the connection after waiting too long."_s.arg(where));
        if (enhanced == u"4.7.0" && failure.stage == SmtpStage::Auth)
            return error(Kind::Throttled, u"Too many failed logins; try again in a few minutes."_s);
        return error(Kind::Refused, u"The mail server at %1 is not taking connections now; try again later. %2"_s
                                        .arg(where, serverText(reply)).trimmed());
    }
    switch (failure.stage) {
    case SmtpStage::StartTls:
        return error(code >= 500 ? Kind::Protocol : Kind::Refused,
                     u"The mail server at %1 could not start encryption, so nothing was sent."_s.arg(where));
    case SmtpStage::Auth:
        if (code == SmtpCode::AuthInvalid)
            return error(Kind::WrongCredentials, u"The user name or password is wrong."_s);
        if (code == SmtpCode::TemporaryAuthFailure && enhanced == u"4.7.0")
            return error(Kind::Throttled, u"Too many failed logins from this computer; try again in a few minutes."_s);
        break;
    case SmtpStage::Register:
        if (code == SmtpCode::MailboxNameNotAllowed)
            return error(Kind::Invalid, u"That user name cannot be used: use 1 to 64 of a-z, 0-9, dot, hyphen and "
                                        u"underscore, starting and ending with a letter or digit."_s);
        if (SmtpReplies::UsernameTaken.matches(reply))
            return error(Kind::Invalid, u"That user name is already taken."_s);
        if (code == SmtpCode::MailboxUnavailable && enhanced == u"5.7.1")
            return error(Kind::Refused, withServerText(u"The server refused to create the account"_s, reply));
        if (code == SmtpCode::MailboxUnavailableTemporarily)
            return error(Kind::Throttled, u"Too many accounts were created from this computer; try again later."_s);
        break;
    case SmtpStage::LookUp:
        if (code == SmtpCode::MailboxUnavailable)
            return error(Kind::NotFound, u"There is no such user."_s);
        break;
    case SmtpStage::MailFrom:
        if (code == SmtpCode::MailboxNameNotAllowed)
            return error(Kind::Refused, u"The mail server does not let this account send as that address."_s);
        if (code == SmtpCode::ExceededStorage)
            return error(Kind::Refused, u"The message is too big for the mail server."_s);
        break;
    case SmtpStage::RcptTo:
        if (SmtpReplies::NoSuchRecipient.matches(reply))
            return error(Kind::NotFound, u"There is no account %1."_s.arg(failure.argument));
        if (code == SmtpCode::MailboxUnavailable && enhanced == u"5.7.1")
            return error(Kind::Refused, u"%1 is outside this mail system; Mailroom delivers only to its own "
                                        u"domain's accounts."_s.arg(failure.argument));
        if (code == SmtpCode::InsufficientStorage)
            return error(Kind::Refused, u"Too many recipients for one message."_s);
        break;
    case SmtpStage::Message:
        if (code == SmtpCode::ExceededStorage)
            return error(Kind::Refused, u"The message is too big for the mail server."_s);
        if (code == SmtpCode::MailboxUnavailable && enhanced == u"5.6.0")
            return error(Kind::Refused, withServerText(u"The mail server refused the message's format"_s, reply));
        if (code == SmtpCode::MailboxUnavailable && enhanced == u"5.7.1")
            return error(Kind::Refused, u"The message's From address is not this account's."_s);
        if (code == SmtpCode::InsufficientStorage)
            return error(Kind::ServerError, u"The mail server is out of disk space; the message was not sent."_s);
        if (code == SmtpCode::LocalError)
            return error(Kind::ServerError, u"The mail server could not store the message; try again later."_s);
        break;
    default:
        break;
    }
    if (code == SmtpCode::AuthRequired || code == SmtpCode::EncryptionRequired)
        return error(Kind::Protocol, u"The mail server asked for a login or encryption Mailroom had already "
                                     u"given; it was not sent."_s);
    if (code >= 400 && code < 500)
        return error(Kind::Refused, u"The mail server cannot do that right now; try again later. %1"_s
                                        .arg(serverText(reply)).trimmed());
    return error(Kind::Refused, withServerText(u"The mail server refused the request"_s, reply));
}

ClientError ClientError::fromSocket(QAbstractSocket::SocketError socketError, const QString &systemText,
                                    const ServerEndpoint &server)
{
    const QString where = server.toString();
    switch (socketError) {
    case QAbstractSocket::HostNotFoundError:
        return make(Kind::Unreachable, u"Cannot find the server %1; check its name."_s.arg(where), systemText, server);
    case QAbstractSocket::ConnectionRefusedError:
    case QAbstractSocket::NetworkError:
    case QAbstractSocket::SocketAccessError:
    case QAbstractSocket::UnsupportedSocketOperationError:
        return make(Kind::Unreachable, u"Cannot reach the server at %1; is it running?"_s.arg(where), systemText, server);
    case QAbstractSocket::SocketTimeoutError:
        return timeout(server);
    case QAbstractSocket::RemoteHostClosedError:
        return make(Kind::ConnectionLost, u"The server at %1 closed the connection unexpectedly."_s.arg(where),
                    systemText, server);
    case QAbstractSocket::SslHandshakeFailedError:
    case QAbstractSocket::SslInternalError:
    case QAbstractSocket::SslInvalidUserDataError:
        return make(Kind::Untrusted, u"A secure connection to the server at %1 could not be set up."_s.arg(where),
                    systemText, server);
    default:
        return make(Kind::ConnectionLost, u"The connection to the server at %1 failed."_s.arg(where), systemText, server);
    }
}

ClientError ClientError::fromHttp(int status, const QString &code, const QString &serverMessage, int retryAfterSeconds,
                                  bool loggingIn, const ServerEndpoint &server)
{
    const QString detail = u"HTTP %1 %2: %3"_s.arg(QString::number(status), code, serverMessage);
    switch (status) {
    case 401:
        if (loggingIn)
            return make(Kind::WrongCredentials, u"The user name or password is wrong."_s, detail, server);
        return make(Kind::SessionExpired, u"Your session has expired; log in again."_s, detail, server);
    case 429:
        if (retryAfterSeconds > 0)
            return make(Kind::Throttled,
                        u"Too many failed logins from this computer; try again in %1 s."_s.arg(retryAfterSeconds),
                        detail, server);
        return make(Kind::Throttled, u"Too many failed logins from this computer; try again later."_s, detail, server);
    case 404:
        return make(Kind::NotFound, u"That message no longer exists."_s, detail, server);
    case 400:
        return make(Kind::Invalid, serverMessage.isEmpty() ? u"The server refused the request."_s : serverMessage,
                    detail, server);
    case 408:
        return timeout(server);
    case 413:
        return make(Kind::Refused, u"The request is too large for the server."_s, detail, server);
    default:
        break;
    }
    if (status >= 500)
        return make(Kind::ServerError, u"The server at %1 had an internal error; try again later."_s.arg(server.toString()),
                    detail, server);
    return make(Kind::Refused, u"The server refused the request."_s, detail, server);
}

ClientError ClientError::fromNetwork(QNetworkReply::NetworkError networkError, const QString &systemText,
                                     const ServerEndpoint &server)
{
    const QString where = server.toString();
    switch (networkError) {
    case QNetworkReply::HostNotFoundError:
        return make(Kind::Unreachable, u"Cannot find the server %1; check its name."_s.arg(where), systemText, server);
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
        return make(Kind::Unreachable, u"Cannot reach the server at %1; is it running?"_s.arg(where), systemText, server);
    case QNetworkReply::TimeoutError:
    case QNetworkReply::OperationCanceledError: // the transfer timeout aborts this way
        return timeout(server);
    case QNetworkReply::RemoteHostClosedError:
        return make(Kind::ConnectionLost, u"The server at %1 closed the connection unexpectedly."_s.arg(where),
                    systemText, server);
    case QNetworkReply::SslHandshakeFailedError:
        return make(Kind::Untrusted, u"A secure connection to the server at %1 could not be set up."_s.arg(where),
                    systemText, server);
    default:
        return make(Kind::Protocol, u"The server at %1 answered in a way Mailroom does not understand."_s.arg(where),
                    systemText, server);
    }
}

ClientError ClientError::untrusted(const ServerEndpoint &server, const QString &reasons)
{
    return make(Kind::Untrusted,
                u"The certificate of the server at %1 is not trusted, so Mailroom did not connect."_s.arg(server.toString()),
                reasons, server);
}

ClientError ClientError::certificateChanged(const ServerEndpoint &server, const QString &pinnedFingerprint,
                                            const QString &presentedFingerprint)
{
    ClientError error = make(Kind::CertificateChanged,
                u"The server at %1 presented a different certificate from the one trusted before, so Mailroom did "
                u"not connect. Someone may be intercepting the connection; if the server's certificate was replaced "
                u"on purpose, compare the new fingerprint with the server's before trusting it."_s
                    .arg(server.toString()),
                u"trusted SHA-256 %1, presented SHA-256 %2"_s.arg(pinnedFingerprint, presentedFingerprint), server);
    error.presentedFingerprint = presentedFingerprint;
    error.pinnedFingerprint = pinnedFingerprint;
    return error;
}

ClientError ClientError::certificateUnknown(const ServerEndpoint &server, const QString &presentedFingerprint)
{
    ClientError error = make(Kind::CertificateUnknown,
                u"Mailroom has not connected to the server at %1 before and sent nothing to it. Compare its "
                u"certificate's fingerprint with the one the server's administrator gives, then trust it to "
                u"continue."_s.arg(server.toString()),
                u"presented SHA-256 %1, nothing pinned"_s.arg(presentedFingerprint), server);
    error.presentedFingerprint = presentedFingerprint;
    return error;
}

ClientError ClientError::timeout(const ServerEndpoint &server)
{
    return make(Kind::Timeout, u"The server at %1 did not answer in time."_s.arg(server.toString()), {}, server);
}

ClientError ClientError::invalid(const QString &message)
{
    return make(Kind::Invalid, message, {}, {});
}

char *toString(const ClientError &error)
{
    const QByteArray text = (u"[kind %1] "_s.arg(int(error.kind)) + error.toString()).toUtf8();
    char *out = new char[size_t(text.size()) + 1];
    std::memcpy(out, text.constData(), size_t(text.size()) + 1);
    return out;
}
