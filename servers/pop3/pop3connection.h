#pragma once

#include "pop3session.h"
#include "sessionconnection.h"

class Pop3Backend;

// One POP3 client: the socket and its Pop3Session (SessionConnection), with
// the session's requests (login, RETR/TOP, the QUIT commit) served by the
// backend, and RETR's entries marked seen.
class Pop3Connection : public SessionConnection<Pop3Session>
{
public:
    struct Options
    {
        Pop3SessionSettings session;
        int idleTimeoutMs = 300000;
        int handshakeTimeoutMs = 10000;
    };

    Pop3Connection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options, Pop3Backend *backend,
                   QObject *parent = nullptr);

private:
    void serveRequest() override;
    void markRetrievedSeen();

    Pop3Backend *m_backend = nullptr;
};
