#pragma once

#include "sessionconnection.h"
#include "smtpsession.h"

class SmtpBackend;

// One SMTP client: the socket and its SmtpSession (SessionConnection), with
// the session's requests (logins, registrations, deliveries) served by the
// backend.
class SmtpConnection : public SessionConnection<SmtpSession>
{
public:
    struct Options
    {
        SmtpSessionSettings session;
        int idleTimeoutMs = 300000;
        int handshakeTimeoutMs = 10000;
    };

    SmtpConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options, SmtpBackend *backend,
                   QObject *parent = nullptr);

private:
    void serveRequest() override;

    SmtpBackend *m_backend = nullptr;
};
