#pragma once

#include "config.h"

#include <QLoggingCategory>
#include <QObject>
#include <QSslConfiguration>

#include <memory>

class CertificateGenerator;
class ConnectionLimiter;
class ConnectionListener;
class NetworkThreads;
class QSslSocket;
class ServerConnection;

// First thing in a server's main(), before its QCoreApplication: the event
// loops (the main thread's and the network threads') are Qt's own, not
// GLib's. GLib's adds and removes a socket's notifier (for every write that
// has to wait) by walking a list of all the thread's sockets, Qt's in a
// hash: with 10,000 clients in IMAP IDLE, telling all of one new message
// took 1.3 s of CPU on GLib's loop and 0.4 s on Qt's (docs/performance.md).
void useQtEventLoop();

// A protocol server's start-up and shutdown (mailroom-smtpd, mailroom-pop3d,
// mailroom-webd): the data directory, the backend, the TLS material (made on
// first start), the listeners (STARTTLS and implicit TLS, or one HTTPS port)
// sharing one connection limit and one pool of network threads. On
// shutDown(): no new connections; work being committed finishes and is
// answered; every connection is then told and closed. stopped() comes once.
// Subclasses supply the protocol.
class ServerDaemon : public QObject
{
    Q_OBJECT
public:
    ~ServerDaemon() override;

    void start();
    void shutDown();

    // The first STARTTLS listener's port, and the first implicit-TLS one's.
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] quint16 tlsPort() const;
    // Clients handed to the network threads and not done with yet.
    [[nodiscard]] int connectionCount() const;

Q_SIGNALS:
    void ready();
    void failed(const QString &error);
    void stopped();

protected:
    ServerDaemon(const Config &config, const QLoggingCategory &category, QObject *parent);

    // A port to listen on.
    struct Listener
    {
        ListenAddress address;
        bool implicitTls = false;
        QString option; // the command-line option that chooses the address
        QString kind;   // the log line's name for it: "(STARTTLS)"
    };
    // By default --listen (STARTTLS) and --listen-tls (implicit TLS), each
    // when configured.
    [[nodiscard]] virtual QList<Listener> listeners() const;

    // Opens the store(s) the connections are served from.
    virtual bool openBackend(QString *error) = 0;
    virtual ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) = 0;
    // What a refused client is told in plain text (too many connections,
    // shutting down); never said with implicit TLS.
    [[nodiscard]] virtual QByteArray tooManyConnectionsLine() const { return {}; }
    [[nodiscard]] virtual QByteArray shuttingDownLine() const { return {}; }
    // Work that must finish before stopping (a commit under way).
    [[nodiscard]] virtual bool backendBusy() const { return false; }
    // How many event-loop threads serve the connections (1: this one).
    // makeConnection() is then called on those threads.
    [[nodiscard]] virtual int networkThreadCount() const { return 1; }
    // Subclasses call it when backendBusy() may have become false.
    void checkStopped();
    // Ends the network threads and their connections. A subclass whose
    // members the connections use (rather than children, which outlive this
    // class's destructor) calls it first in its own destructor.
    void stopNetworkThreads();

    [[nodiscard]] const Config &config() const { return m_config; }
    [[nodiscard]] const QSslConfiguration &tls() const { return m_tls; }

private:
    void listen();
    void finishStopping();

    Config m_config;
    const QLoggingCategory &m_category;
    QSslConfiguration m_tls;
    struct Listening
    {
        ConnectionListener *server = nullptr;
        bool implicitTls = false;
    };
    QList<Listening> m_listening;
    CertificateGenerator *m_generator = nullptr;
    std::unique_ptr<ConnectionLimiter> m_limiter; // shared by the listeners
    std::unique_ptr<NetworkThreads> m_threads;    // shared by the listeners
    bool m_stopping = false;
    bool m_stopped = false;
};
