#pragma once

#include "sessionconnection.h"
#include "smtpsession.h"

#include <QTimer>

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
        int dataTimeoutMs = 600000;
    };

    SmtpConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options, SmtpBackend *backend,
                   QObject *parent = nullptr);

private:
    void serveRequest() override;
    void sessionStepped() override;

    SmtpBackend *m_backend = nullptr;
    // DATA as a whole, from the 354 to the final dot. The idle timeout alone
    // is per chunk: one byte every few seconds kept a DATA open for ever.
    QTimer m_dataDeadline;
    quint64 m_dataStartsSeen = 0;
};
