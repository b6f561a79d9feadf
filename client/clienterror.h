#pragma once

#include "serverendpoint.h"
#include "smtpdialogue.h"

#include <QAbstractSocket>
#include <QMetaType>
#include <QNetworkReply>
#include <QString>

// A failure as the user sees it: what kind it is, a sentence to show, and
// what the server said (code and text) or the system reported, kept for the
// details line. Every failure of the client is mapped here, in one place
// (as KSmtp's Job::handleErrors does), so the UI never shows a bare code.
struct ClientError
{
    enum class Kind {
        Unreachable,        // no connection: refused, no route, unknown host
        Timeout,            // connected, but no answer in time
        ConnectionLost,     // the server closed the connection mid-way
        Untrusted,          // the certificate does not verify against the CA file
        CertificateChanged, // trust on first use: not the certificate pinned before
        CertificateUnknown, // trust on first use: no pin yet, the user is asked first
        WrongCredentials,
        SessionExpired,
        Throttled,
        NotFound,
        Invalid,            // the request broke a rule (a user name, a password, an address)
        Refused,            // the server said no for another reason
        ServerError,        // the server failed (5xx HTTP, 451 SMTP)
        Protocol,           // the server spoke something else than the protocol
    };

    Kind kind = Kind::Refused;
    QString message; // a sentence for the user
    QString detail;  // "535 5.7.8 Authentication credentials invalid", "HTTP 404 not_found: ...", a socket error
    ServerEndpoint server;
    QString presentedFingerprint; // CertificateChanged/Unknown: what the server showed
    QString pinnedFingerprint;    // CertificateChanged: the pin it differs from

    // The message with the detail in brackets, for one-line displays and logs.
    [[nodiscard]] QString toString() const;

    // An SMTP reply other than the expected one, or an SMTP protocol error.
    [[nodiscard]] static ClientError fromSmtp(const SmtpFailure &failure, const ServerEndpoint &server);
    // A socket error before or during a conversation.
    [[nodiscard]] static ClientError fromSocket(QAbstractSocket::SocketError error, const QString &systemText,
                                                const ServerEndpoint &server);
    // An HTTP error answer of mailroom-webd (its {"error":{code,message}}
    // body given as code and message), or a network error with no answer.
    // `loggingIn`: a 401 is then wrong credentials, else an expired session.
    [[nodiscard]] static ClientError fromHttp(int status, const QString &code, const QString &serverMessage,
                                              int retryAfterSeconds, bool loggingIn, const ServerEndpoint &server);
    [[nodiscard]] static ClientError fromNetwork(QNetworkReply::NetworkError error, const QString &systemText,
                                                 const ServerEndpoint &server);
    // The certificate did not verify against the CA file (or the system's CAs).
    [[nodiscard]] static ClientError untrusted(const ServerEndpoint &server, const QString &reasons);
    // Trust on first use: the server presented another certificate than the pinned one.
    [[nodiscard]] static ClientError certificateChanged(const ServerEndpoint &server, const QString &pinnedFingerprint,
                                                        const QString &presentedFingerprint);
    // Trust on first use: a server with no pin yet; nothing was sent to it.
    [[nodiscard]] static ClientError certificateUnknown(const ServerEndpoint &server, const QString &presentedFingerprint);
    [[nodiscard]] static ClientError timeout(const ServerEndpoint &server);
    [[nodiscard]] static ClientError invalid(const QString &message);

    friend bool operator==(const ClientError &, const ClientError &) = default;
};

char *toString(const ClientError &error); // for QCOMPARE

Q_DECLARE_METATYPE(ClientError)
