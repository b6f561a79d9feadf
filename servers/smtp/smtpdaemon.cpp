#include "smtpdaemon.h"

#include "connectionlistener.h"
#include "smtpbackend.h"
#include "smtpcodes.h"
#include "smtpconnection.h"
#include "smtplogging.h"

SmtpDaemon::SmtpDaemon(const Config &config, QObject *parent)
    : ServerDaemon(config, lcSmtp(), parent)
{
}

bool SmtpDaemon::openBackend(QString *error)
{
    m_backend = new SmtpBackend(config(), this);
    // A client may be gone while its delivery is still being committed.
    connect(m_backend, &SmtpBackend::deliveriesIdle, this, &SmtpDaemon::checkStopped);
    return m_backend->open(error);
}

ServerConnection *SmtpDaemon::makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent)
{
    SmtpConnection::Options options;
    options.session.hostname = config().hostname;
    options.session.domain = config().domain;
    options.session.maxMessageBytes = config().limits.maxMessageBytes;
    options.session.maxHeaderBytes = config().limits.maxHeaderBytes;
    options.session.maxRecipients = config().limits.maxRecipients;
    options.session.registration = config().registration;
    options.session.implicitTls = implicitTls;
    options.idleTimeoutMs = config().limits.idleTimeoutSeconds * 1000;
    options.handshakeTimeoutMs = config().limits.handshakeTimeoutSeconds * 1000;
    options.dataTimeoutMs = config().limits.dataTimeoutSeconds * 1000;
    return new SmtpConnection(socket, tls(), options, m_backend, parent);
}

QByteArray SmtpDaemon::tooManyConnectionsLine() const
{
    return SmtpReplies::TooManyConnections.toBytes();
}

QByteArray SmtpDaemon::shuttingDownLine() const
{
    return SmtpReplies::ShuttingDown.toBytes();
}

bool SmtpDaemon::backendBusy() const
{
    return m_backend && m_backend->deliveriesInFlight() > 0;
}

int SmtpDaemon::networkThreadCount() const
{
    return NetworkThreads::resolveCount(config().limits.networkThreads);
}
