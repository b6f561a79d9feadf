#include "imapdaemon.h"

#include "connectionlistener.h"
#include "imapbackend.h"
#include "imapconnection.h"
#include "imapmailbox.h"

ImapDaemon::ImapDaemon(const Config &config, QObject *parent)
    : ServerDaemon(config, lcImap(), parent)
{
}

bool ImapDaemon::openBackend(QString *error)
{
    m_backend = new ImapBackend(config(), this);
    connect(m_backend, &ImapBackend::requestsIdle, this, &ImapDaemon::checkStopped);
    return m_backend->open(error);
}

ServerConnection *ImapDaemon::makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent)
{
    ImapConnection::Options options;
    options.session.implicitTls = implicitTls;
    options.session.domain = config().domain;
    options.session.appendLimit = config().limits.maxMessageBytes;
    options.idleTimeoutMs = config().limits.idleTimeoutSeconds * 1000;
    options.handshakeTimeoutMs = config().limits.handshakeTimeoutSeconds * 1000;
    return new ImapConnection(socket, tls(), options, m_backend, parent);
}

QByteArray ImapDaemon::tooManyConnectionsLine() const
{
    return QByteArrayLiteral("* BYE [UNAVAILABLE] Too many connections\r\n");
}

QByteArray ImapDaemon::shuttingDownLine() const
{
    return QByteArrayLiteral("* BYE [UNAVAILABLE] Server shutting down\r\n");
}

bool ImapDaemon::backendBusy() const
{
    return m_backend && m_backend->requestsInFlight() > 0;
}

int ImapDaemon::networkThreadCount() const
{
    return NetworkThreads::resolveCount(config().limits.networkThreads);
}
