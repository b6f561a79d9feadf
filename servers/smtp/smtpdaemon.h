#pragma once

#include "config.h"

#include <QObject>
#include <QSslConfiguration>

#include <memory>

class CertificateGenerator;
class ConnectionLimiter;
class ConnectionListener;
class SmtpBackend;

// mailroom-smtpd's start-up and shutdown: the data directory, the store,
// the TLS material (made on first start), the listeners. On shutDown(): no
// new connections; a delivery being committed finishes and is answered;
// every connection then gets 421 4.3.2 (a client in the middle of DATA
// too: its message is not stored). stopped() comes once.
class SmtpDaemon : public QObject
{
    Q_OBJECT
public:
    explicit SmtpDaemon(const Config &config, QObject *parent = nullptr);
    ~SmtpDaemon() override;

    void start();
    void shutDown();

    [[nodiscard]] quint16 port() const;
    [[nodiscard]] quint16 tlsPort() const;

Q_SIGNALS:
    void ready();
    void failed(const QString &error);
    void stopped();

private:
    void listen();
    void checkStopped();
    void finishStopping();

    Config m_config;
    QSslConfiguration m_tls;
    SmtpBackend *m_backend = nullptr;
    ConnectionListener *m_server = nullptr;
    ConnectionListener *m_tlsServer = nullptr;
    CertificateGenerator *m_generator = nullptr;
    std::unique_ptr<ConnectionLimiter> m_limiter; // shared by both listeners
    bool m_stopping = false;
    bool m_stopped = false;
};
