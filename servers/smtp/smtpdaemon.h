#pragma once

#include "serverdaemon.h"

class SmtpBackend;

// mailroom-smtpd: ServerDaemon with SMTP connections. On shutDown(), a
// delivery being committed finishes and is answered; every connection then
// gets 421 4.3.2 (a client in the middle of DATA too: its message is not
// stored).
class SmtpDaemon : public ServerDaemon
{
    Q_OBJECT
public:
    explicit SmtpDaemon(const Config &config, QObject *parent = nullptr);

private:
    bool openBackend(QString *error) override;
    ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) override;
    [[nodiscard]] QByteArray tooManyConnectionsLine() const override;
    [[nodiscard]] QByteArray shuttingDownLine() const override;
    [[nodiscard]] bool backendBusy() const override;
    [[nodiscard]] int networkThreadCount() const override;

    SmtpBackend *m_backend = nullptr;
};
