#include "webdaemon.h"

#include "eventhub.h"
#include "requestworkers.h"
#include "sharedauthenticator.h"
#include "webapi.h"
#include "webconnection.h"
#include "weblogging.h"

#include <QMutexLocker>
#include <QThread>

WebDaemon::WebDaemon(const Config &config, QObject *parent)
    : ServerDaemon(config, lcWeb(), parent)
{
}

WebDaemon::~WebDaemon()
{
    // The connections and their WebApis use the request workers and the
    // per-thread map below: they end first.
    stopNetworkThreads();
}

bool WebDaemon::openBackend(QString *error)
{
    // Opened first, here: a database that cannot be opened (or migrated)
    // stops the start, as before any thread serves a client.
    m_authenticator = new SharedAuthenticator(config(), this);
    if (!m_authenticator->open(error))
        return false;
    m_workers = std::make_unique<RequestWorkers>(config(), m_authenticator, RequestWorkers::defaultCount());
    m_eventHub = std::make_unique<EventHub>(config());
    m_workers->setEventHub(m_eventHub.get());
    return m_eventHub->start(error);
}

QList<ServerDaemon::Listener> WebDaemon::listeners() const
{
    if (!config().listen)
        return {};
    return {{*config().listen, true, QStringLiteral("--listen"), QStringLiteral("(HTTPS)")}};
}

int WebDaemon::networkThreadCount() const
{
    return NetworkThreads::resolveCount(config().limits.networkThreads);
}

ServerConnection *WebDaemon::makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent)
{
    Q_UNUSED(implicitTls); // always: HTTPS
    WebConnection::Options options;
    options.limits = {config().limits.maxRequestHeadBytes, config().limits.maxRequestBodyBytes};
    options.keepAliveMs = config().limits.keepAliveTimeoutSeconds * 1000;
    options.handshakeTimeoutMs = config().limits.handshakeTimeoutSeconds * 1000;
    options.maxUploadBytes = config().limits.maxMessageBytes;
    return new WebConnection(socket, tls(), apiOfThisThread(), options, parent);
}

WebApi *WebDaemon::apiOfThisThread()
{
    QThread *current = QThread::currentThread();
    const QMutexLocker lock(&m_apisMutex);
    if (WebApi *api = m_apis.value(current))
        return api;
    auto *api = new WebApi(config(), m_authenticator);
    api->setRequestWorkers(m_workers.get());
    api->setEventHub(m_eventHub.get());
    QString error;
    // Until the store opens (WebApi::storeReady tries again, once a
    // second), this thread's requests are answered 503.
    if (!api->open(&error))
        qCWarning(lcWeb).noquote() << "cannot open the store on" << current->objectName() << ":" << error;
    if (current == thread()) {
        api->setParent(this);
    } else {
        // Deleted on its own thread as that thread stops, after the
        // connections it served (their host goes first, connected earlier).
        connect(current, &QThread::finished, api, &QObject::deleteLater, Qt::DirectConnection);
    }
    m_apis.insert(current, api);
    return api;
}
