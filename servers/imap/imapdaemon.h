#pragma once

#include "serverdaemon.h"

class ImapBackend;

// mailroom-imapd: ServerDaemon with IMAP connections. On shutDown(), a
// command being run finishes and is answered; then every connection gets
// "* BYE" and closes.
class ImapDaemon : public ServerDaemon
{
    Q_OBJECT
public:
    explicit ImapDaemon(const Config &config, QObject *parent = nullptr);

private:
    bool openBackend(QString *error) override;
    ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) override;
    [[nodiscard]] QByteArray tooManyConnectionsLine() const override;
    [[nodiscard]] QByteArray shuttingDownLine() const override;
    [[nodiscard]] bool backendBusy() const override;
    [[nodiscard]] int networkThreadCount() const override;

    ImapBackend *m_backend = nullptr;
};
