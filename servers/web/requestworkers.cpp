#include "requestworkers.h"

#include "webapi.h"
#include "weblogging.h"

#include <QThread>

#include <algorithm>

int RequestWorkers::defaultCount()
{
    return std::max(4, 2 * QThread::idealThreadCount());
}

RequestWorkers::RequestWorkers(const Config &config, SharedAuthenticator *authenticator, int count)
    : m_config(config)
    , m_authenticator(authenticator)
{
    m_pool.setObjectName(QStringLiteral("webd request workers"));
    m_pool.setMaxThreadCount(std::max(1, count));
    // A worker that ended would take its store connection with it; keep them.
    m_pool.setExpiryTimeout(-1);
}

RequestWorkers::~RequestWorkers()
{
    m_pool.waitForDone();
}

void RequestWorkers::run(std::function<void(WebApi &api)> work)
{
    m_pool.start([this, work = std::move(work)] { work(apiOfThisWorker()); });
}

WebApi &RequestWorkers::apiOfThisWorker()
{
    if (!m_apis.hasLocalData()) {
        auto *api = new WebApi(m_config, m_authenticator);
        api->setEventHub(m_eventHub);
        QString error;
        // Until the store opens (WebApi::storeReady tries again, once a
        // second), this worker's requests are answered 503.
        if (!api->open(&error))
            qCWarning(lcWeb).noquote() << "a request worker cannot open the store:" << error;
        m_apis.setLocalData(api);
    }
    return *m_apis.localData();
}
