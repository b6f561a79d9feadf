#pragma once

#include "smtpsession.h"

#include <QObject>
#include <QSslConfiguration>
#include <QTimer>

class QSslSocket;
class SmtpBackend;

// One client: owns the socket and its session, feeds what it reads to the
// session, writes the replies, serves the session's requests through the
// backend, and upgrades to TLS or closes when the session says so.
class SmtpConnection : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        SmtpSessionSettings session;
        int idleTimeoutMs = 300000;
        int handshakeTimeoutMs = 10000;
    };

    SmtpConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options, SmtpBackend *backend,
                   QObject *parent = nullptr);

    void start();
    // Stop serving: finish what is in flight, then say 421 and close.
    void shutDown();
    [[nodiscard]] QString peerAddress() const { return m_peerAddress; }

Q_SIGNALS:
    void finished();

private:
    void readAvailable();
    void afterSession();
    void serveRequest();
    void beginTls();
    void closeSoon();

    QSslSocket *m_socket = nullptr;
    QSslConfiguration m_tls;
    Options m_options;
    SmtpBackend *m_backend = nullptr;
    QString m_peerAddress;
    SmtpSession m_session;
    QTimer m_idleTimer;
    QTimer m_handshakeTimer;
    bool m_closing = false;
    bool m_shutdownRequested = false;
};
