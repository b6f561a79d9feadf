#include "pop3daemon.h"

#include "pop3backend.h"
#include "pop3connection.h"
#include "pop3logging.h"

Pop3Daemon::Pop3Daemon(const Config &config, QObject *parent)
    : ServerDaemon(config, lcPop3(), parent)
{
}

bool Pop3Daemon::openBackend(QString *error)
{
    m_backend = new Pop3Backend(config(), this);
    // A client may be gone while its QUIT is still being committed.
    connect(m_backend, &Pop3Backend::commitsIdle, this, &Pop3Daemon::checkStopped);
    return m_backend->open(error);
}

ServerConnection *Pop3Daemon::makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent)
{
    Pop3Connection::Options options;
    options.session.implicitTls = implicitTls;
    options.session.domain = config().domain;
    options.idleTimeoutMs = config().limits.idleTimeoutSeconds * 1000;
    options.handshakeTimeoutMs = config().limits.handshakeTimeoutSeconds * 1000;
    return new Pop3Connection(socket, tls(), options, m_backend, parent);
}

QByteArray Pop3Daemon::tooManyConnectionsLine() const
{
    return QByteArrayLiteral("-ERR [SYS/TEMP] Too many connections\r\n");
}

QByteArray Pop3Daemon::shuttingDownLine() const
{
    return QByteArrayLiteral("-ERR [SYS/TEMP] Server shutting down\r\n");
}

bool Pop3Daemon::backendBusy() const
{
    return m_backend && m_backend->commitsInFlight() > 0;
}
