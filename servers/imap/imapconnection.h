#pragma once

#include "imapsession.h"
#include "sessionconnection.h"

#include <QPointer>

class ImapBackend;

// One IMAP client: the socket and its ImapSession (SessionConnection), with
// the session's requests served by the backend, and the news of changes
// in its account handed to the session (IDLE hears of them at once).
class ImapConnection : public SessionConnection<ImapSession>
{
public:
    struct Options
    {
        ImapSessionSettings session;
        int idleTimeoutMs = 300000;
        int handshakeTimeoutMs = 10000;
    };
    // RFC 9051 §5.4: a client in IDLE may stay 30 minutes without a word.
    static constexpr int IdleCommandTimeoutMs = 30 * 60 * 1000;

    ImapConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options, ImapBackend *backend,
                   QObject *parent = nullptr);
    ~ImapConnection() override;

private:
    void serveRequest() override;
    void sessionStepped() override;
    void accountsChanged(const QHash<qint64, qint64> &modseqs);

    // The daemon may delete its backend before the connections it still
    // holds at the very end of a shutdown.
    QPointer<ImapBackend> m_backend;
    int m_idleTimeoutMs = 0;
    qint64 m_watchedAccount = 0;
};
