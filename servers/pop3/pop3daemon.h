#pragma once

#include "serverdaemon.h"

class Pop3Backend;

// mailroom-pop3d: ServerDaemon with POP3 connections. On shutDown(), a QUIT
// being committed finishes and is answered; every other connection gets
// "-ERR [SYS/TEMP]" and closes with nothing deleted.
class Pop3Daemon : public ServerDaemon
{
    Q_OBJECT
public:
    explicit Pop3Daemon(const Config &config, QObject *parent = nullptr);

private:
    bool openBackend(QString *error) override;
    ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) override;
    [[nodiscard]] QByteArray tooManyConnectionsLine() const override;
    [[nodiscard]] QByteArray shuttingDownLine() const override;
    [[nodiscard]] bool backendBusy() const override;

    Pop3Backend *m_backend = nullptr;
};
