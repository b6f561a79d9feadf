#include "smtpdaemon.h"

#include "datadir.h"
#include "smtpbackend.h"
#include "smtplogging.h"
#include "connectionlistener.h"
#include "smtpconnection.h"
#include "tlsmaterial.h"

#include <QFileInfo>
#include <QTimer>

SmtpDaemon::SmtpDaemon(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
}

SmtpDaemon::~SmtpDaemon() = default;

void SmtpDaemon::start()
{
    QString error;
    if (!DataDirectory::prepare(m_config.dataDir, DataDirectory::Mode::Create, &error)) {
        Q_EMIT failed(error);
        return;
    }
    m_backend = new SmtpBackend(m_config, this);
    // A client may be gone while its delivery is still being committed.
    connect(m_backend, &SmtpBackend::deliveriesIdle, this, &SmtpDaemon::checkStopped);
    if (!m_backend->open(&error)) {
        Q_EMIT failed(error);
        return;
    }
    const bool haveTls = QFileInfo::exists(m_config.certificateFile) || QFileInfo::exists(m_config.keyFile);
    if (haveTls || m_config.tlsFilesGiven) {
        listen();
        return;
    }
    qCInfo(lcSmtp).noquote() << "no certificate in" << m_config.certificateFile << "- creating a self-signed one";
    m_generator = new CertificateGenerator(this);
    connect(m_generator, &CertificateGenerator::finished, this, &SmtpDaemon::listen);
    connect(m_generator, &CertificateGenerator::failed, this, &SmtpDaemon::failed);
    m_generator->start(m_config.certificateFile, m_config.keyFile, m_config.hostname);
}

void SmtpDaemon::listen()
{
    QString error;
    const auto tls = TlsMaterial::loadServerConfiguration(m_config.certificateFile, m_config.keyFile, &error);
    if (!tls) {
        Q_EMIT failed(error);
        return;
    }
    m_tls = *tls;
    m_limiter = std::make_unique<ConnectionLimiter>(m_config.limits.maxConnections, m_config.limits.maxConnectionsPerAddress);
    SmtpConnection::Options options;
    options.session.hostname = m_config.hostname;
    options.session.domain = m_config.domain;
    options.session.maxMessageBytes = m_config.limits.maxMessageBytes;
    options.session.maxRecipients = m_config.limits.maxRecipients;
    options.session.registration = m_config.registration;
    options.idleTimeoutMs = m_config.limits.idleTimeoutSeconds * 1000;
    options.handshakeTimeoutMs = m_config.limits.handshakeTimeoutSeconds * 1000;

    const auto makeServer = [&](const ListenAddress &address, bool implicitTls) -> ConnectionListener * {
        SmtpConnection::Options serverOptions = options;
        serverOptions.session.implicitTls = implicitTls;
        const auto factory = [this, serverOptions](QSslSocket *socket, QObject *parent) -> ServerConnection * {
            return new SmtpConnection(socket, m_tls, serverOptions, m_backend, parent);
        };
        // With implicit TLS a refusal cannot be said in plain text.
        const ConnectionListener::Refusals refusals = implicitTls
            ? ConnectionListener::Refusals{}
            : ConnectionListener::Refusals{"421 4.7.0 Too many connections\r\n", "421 4.3.2 Service shutting down\r\n"};
        auto *server = new ConnectionListener(factory, refusals, m_limiter.get(), m_config.limits.maxConnections,
                                              lcSmtp(), this);
        if (!server->listen(address.host, address.port)) {
            Q_EMIT failed(QStringLiteral("cannot listen on %1: %2 (choose another address with --listen%3)")
                              .arg(address.toString(), server->errorString(),
                                   implicitTls ? QStringLiteral("-tls") : QString()));
            return nullptr;
        }
        connect(server, &ConnectionListener::allConnectionsClosed, this, &SmtpDaemon::checkStopped);
        qCInfo(lcSmtp).noquote() << "listening on" << ListenAddress{server->serverAddress(), server->serverPort()}.toString()
                                 << (implicitTls ? "(implicit TLS)" : "(STARTTLS)");
        return server;
    };
    if (m_config.listen && !(m_server = makeServer(*m_config.listen, false)))
        return;
    if (m_config.listenTls && !(m_tlsServer = makeServer(*m_config.listenTls, true)))
        return;
    Q_EMIT ready();
}

quint16 SmtpDaemon::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

quint16 SmtpDaemon::tlsPort() const
{
    return m_tlsServer ? m_tlsServer->serverPort() : 0;
}

void SmtpDaemon::shutDown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcSmtp).noquote() << "shutting down";
    if (m_server)
        m_server->shutDown();
    if (m_tlsServer)
        m_tlsServer->shutDown();
    // Whatever still hangs on (a client that does not read) gets 30 s.
    QTimer::singleShot(30000, this, [this] { finishStopping(); });
    checkStopped();
}

void SmtpDaemon::finishStopping()
{
    if (std::exchange(m_stopped, true))
        return;
    Q_EMIT stopped();
}

void SmtpDaemon::checkStopped()
{
    if (!m_stopping)
        return;
    const bool serversIdle = (!m_server || m_server->connectionCount() == 0)
        && (!m_tlsServer || m_tlsServer->connectionCount() == 0);
    if (serversIdle && (!m_backend || m_backend->deliveriesInFlight() == 0))
        finishStopping();
}
