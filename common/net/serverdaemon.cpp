#include "serverdaemon.h"

#include "connectionlistener.h"
#include "datadir.h"
#include "tlsmaterial.h"

#include <QFileInfo>
#include <QTimer>

ServerDaemon::ServerDaemon(const Config &config, const QLoggingCategory &category, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_category(category)
{
}

ServerDaemon::~ServerDaemon()
{
    // The connections on other threads go first, while the backend they
    // call (a child, deleted after this) still exists.
    m_threads.reset();
}

void ServerDaemon::start()
{
    QString error;
    if (!DataDirectory::prepare(m_config.dataDir, DataDirectory::Mode::Create, &error)) {
        Q_EMIT failed(error);
        return;
    }
    if (!openBackend(&error)) {
        Q_EMIT failed(error);
        return;
    }
    const bool haveTls = QFileInfo::exists(m_config.certificateFile) || QFileInfo::exists(m_config.keyFile);
    if (haveTls || m_config.tlsFilesGiven) {
        listen();
        return;
    }
    qCInfo(m_category).noquote() << "no certificate in" << m_config.certificateFile << "- creating a self-signed one";
    m_generator = new CertificateGenerator(this);
    connect(m_generator, &CertificateGenerator::finished, this, &ServerDaemon::listen);
    connect(m_generator, &CertificateGenerator::failed, this, &ServerDaemon::failed);
    m_generator->start(m_config.certificateFile, m_config.keyFile, m_config.hostname);
}

void ServerDaemon::listen()
{
    QString error;
    const auto tls = TlsMaterial::loadServerConfiguration(m_config.certificateFile, m_config.keyFile, &error);
    if (!tls) {
        Q_EMIT failed(error);
        return;
    }
    m_tls = *tls;
    m_limiter = std::make_unique<ConnectionLimiter>(m_config.limits.maxConnections, m_config.limits.maxConnectionsPerAddress);
    m_threads = std::make_unique<NetworkThreads>(networkThreadCount());
    const auto makeServer = [&](const ListenAddress &address, bool implicitTls) -> ConnectionListener * {
        const auto factory = [this, implicitTls](QSslSocket *socket, QObject *parent) {
            return makeConnection(socket, implicitTls, parent);
        };
        // With implicit TLS a refusal cannot be said in plain text.
        const ConnectionListener::Refusals refusals = implicitTls
            ? ConnectionListener::Refusals{}
            : ConnectionListener::Refusals{tooManyConnectionsLine(), shuttingDownLine()};
        auto *server = new ConnectionListener(factory, refusals, m_limiter.get(), m_config.limits.maxConnections,
                                              *m_threads, m_category, this);
        if (!server->listen(address.host, address.port)) {
            Q_EMIT failed(QStringLiteral("cannot listen on %1: %2 (choose another address with --listen%3)")
                              .arg(address.toString(), server->errorString(),
                                   implicitTls ? QStringLiteral("-tls") : QString()));
            return nullptr;
        }
        connect(server, &ConnectionListener::allConnectionsClosed, this, &ServerDaemon::checkStopped);
        qCInfo(m_category).noquote() << "listening on"
                                     << ListenAddress{server->serverAddress(), server->serverPort()}.toString()
                                     << (implicitTls ? "(implicit TLS)" : "(STARTTLS)");
        return server;
    };
    if (m_config.listen && !(m_server = makeServer(*m_config.listen, false)))
        return;
    if (m_config.listenTls && !(m_tlsServer = makeServer(*m_config.listenTls, true)))
        return;
    Q_EMIT ready();
}

quint16 ServerDaemon::port() const
{
    return m_server ? m_server->serverPort() : 0;
}

quint16 ServerDaemon::tlsPort() const
{
    return m_tlsServer ? m_tlsServer->serverPort() : 0;
}

void ServerDaemon::shutDown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(m_category).noquote() << "shutting down";
    if (m_server)
        m_server->shutDown();
    if (m_tlsServer)
        m_tlsServer->shutDown();
    // Whatever still hangs on (a client that does not read) gets 30 s.
    QTimer::singleShot(30000, this, [this] { finishStopping(); });
    checkStopped();
}

void ServerDaemon::finishStopping()
{
    if (std::exchange(m_stopped, true))
        return;
    Q_EMIT stopped();
}

void ServerDaemon::checkStopped()
{
    if (!m_stopping)
        return;
    const bool serversIdle = (!m_server || m_server->connectionCount() == 0)
        && (!m_tlsServer || m_tlsServer->connectionCount() == 0);
    if (serversIdle && !backendBusy())
        finishStopping();
}
