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

// A line-protocol server's start-up and shutdown (mailroom-smtpd,
// mailroom-pop3d): the data directory, the backend, the TLS material (made
// on first start), the STARTTLS and implicit-TLS listeners sharing one
// connection limit. On shutDown(): no new connections; work being committed
// finishes and is answered; every connection is then told and closed.
// stopped() comes once. Subclasses supply the protocol.
class ServerDaemon : public QObject
{
    Q_OBJECT
public:
    ~ServerDaemon() override;

    void start();
    void shutDown();

    [[nodiscard]] quint16 port() const;
    [[nodiscard]] quint16 tlsPort() const;

Q_SIGNALS:
    void ready();
    void failed(const QString &error);
    void stopped();

protected:
    ServerDaemon(const Config &config, const QLoggingCategory &category, QObject *parent);

    // Opens the store(s) the connections are served from.
    virtual bool openBackend(QString *error) = 0;
    virtual ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) = 0;
    // What a refused client is told in plain text (too many connections,
    // shutting down); never said with implicit TLS.
    [[nodiscard]] virtual QByteArray tooManyConnectionsLine() const = 0;
    [[nodiscard]] virtual QByteArray shuttingDownLine() const = 0;
    // Work that must finish before stopping (a commit under way).
    [[nodiscard]] virtual bool backendBusy() const = 0;
    // How many event-loop threads serve the connections (1: this one).
    // makeConnection() is then called on those threads.
    [[nodiscard]] virtual int networkThreadCount() const { return 1; }
    // Subclasses call it when backendBusy() may have become false.
    void checkStopped();

    [[nodiscard]] const Config &config() const { return m_config; }
    [[nodiscard]] const QSslConfiguration &tls() const { return m_tls; }

private:
    void listen();
    void finishStopping();

    Config m_config;
    const QLoggingCategory &m_category;
    QSslConfiguration m_tls;
    ConnectionListener *m_server = nullptr;
    ConnectionListener *m_tlsServer = nullptr;
    CertificateGenerator *m_generator = nullptr;
    std::unique_ptr<ConnectionLimiter> m_limiter; // shared by both listeners
    std::unique_ptr<NetworkThreads> m_threads;    // shared by both listeners
    bool m_stopping = false;
    bool m_stopped = false;
};
