#pragma once

#include "config.h"

#include <QThreadPool>
#include <QThreadStorage>

#include <functional>

class SharedAuthenticator;
class EventHub;
class WebApi;

// The threads webd's store work runs on (listings, messages, raw bytes,
// attachments, changes), so that a network thread only parses and writes
// HTTP: a request that takes seconds to build holds up its own connection
// and one worker, never the other connections of its network thread, and
// /healthz, logins and every other client on that thread go on being
// answered. Each worker has a WebApi and a store connection of its own,
// made on its first request and kept as long as the pool.
class RequestWorkers
{
public:
    // The default number of workers: enough that a few large requests at
    // once leave workers free for everyone else, while a burst of small
    // ones still fills every core.
    [[nodiscard]] static int defaultCount();

    RequestWorkers(const Config &config, SharedAuthenticator *authenticator, int count);
    // Waits for the work under way (its answers are dropped: the
    // connections have closed by then).
    ~RequestWorkers();

    // Runs `work` on a worker with that worker's WebApi; any thread.
    void run(std::function<void(WebApi &api)> work);
    // The event hub the workers' WebApis tell of ended sessions; set before
    // the first run.
    void setEventHub(EventHub *hub) { m_eventHub = hub; }

private:
    WebApi &apiOfThisWorker();

    Config m_config;
    SharedAuthenticator *m_authenticator = nullptr;
    EventHub *m_eventHub = nullptr;
    QThreadStorage<WebApi *> m_apis; // deleted as each worker thread ends
    QThreadPool m_pool;
};
