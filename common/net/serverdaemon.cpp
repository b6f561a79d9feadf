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
    stopNetworkThreads();
}

void ServerDaemon::stopNetworkThreads()
{
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
    const QList<Listener> wanted = listeners();
    for (const Listener &listener : wanted) {
        const bool implicitTls = listener.implicitTls;
        const auto factory = [this, implicitTls](QSslSocket *socket, QObject *parent) {
            return makeConnection(socket, implicitTls, parent);
        };
        // With implicit TLS a refusal cannot be said in plain text.
        const ConnectionListener::Refusals refusals = implicitTls
            ? ConnectionListener::Refusals{}
            : ConnectionListener::Refusals{tooManyConnectionsLine(), shuttingDownLine()};
        auto *server = new ConnectionListener(factory, refusals, m_limiter.get(), m_config.limits.maxConnections,
                                              *m_threads, m_category, this);
        if (!server->listen(listener.address.host, listener.address.port)) {
            Q_EMIT failed(QStringLiteral("cannot listen on %1: %2 (choose another address with %3)")
                              .arg(listener.address.toString(), server->errorString(), listener.option));
            return;
        }
        connect(server, &ConnectionListener::allConnectionsClosed, this, &ServerDaemon::checkStopped);
        qCInfo(m_category).noquote() << "listening on"
                                     << ListenAddress{server->serverAddress(), server->serverPort()}.toString()
                                     << listener.kind;
        m_listening.append(Listening{server, implicitTls});
    }
    Q_EMIT ready();
}

QList<ServerDaemon::Listener> ServerDaemon::listeners() const
{
    QList<Listener> list;
    if (m_config.listen)
        list.append({*m_config.listen, false, QStringLiteral("--listen"), QStringLiteral("(STARTTLS)")});
    if (m_config.listenTls)
        list.append({*m_config.listenTls, true, QStringLiteral("--listen-tls"), QStringLiteral("(implicit TLS)")});
    return list;
}

quint16 ServerDaemon::port() const
{
    for (const Listening &listening : m_listening) {
        if (!listening.implicitTls)
            return listening.server->serverPort();
    }
    return 0;
}

quint16 ServerDaemon::tlsPort() const
{
    for (const Listening &listening : m_listening) {
        if (listening.implicitTls)
            return listening.server->serverPort();
    }
    return 0;
}

int ServerDaemon::connectionCount() const
{
    int count = 0;
    for (const Listening &listening : m_listening)
        count += listening.server->connectionCount();
    return count;
}

void ServerDaemon::shutDown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(m_category).noquote() << "shutting down";
    for (const Listening &listening : std::as_const(m_listening))
        listening.server->shutDown();
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
    if (connectionCount() == 0 && !backendBusy())
        finishStopping();
}

void useQtEventLoop()
{
    qputenv("QT_NO_GLIB", "1");
}
