#pragma once

#include "config.h"

#include <QObject>
#include <QSslConfiguration>

class CertificateGenerator;
class SmtpBackend;
class SmtpServer;

// mailroom-smtpd's start-up and shutdown: the data directory, the store,
// the TLS material (made on first start), the listeners; on shutDown() no
// new connections, transactions in flight finish, the rest get 421.
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

    Config m_config;
    QSslConfiguration m_tls;
    SmtpBackend *m_backend = nullptr;
    SmtpServer *m_server = nullptr;
    SmtpServer *m_tlsServer = nullptr;
    CertificateGenerator *m_generator = nullptr;
    bool m_stopping = false;
};
