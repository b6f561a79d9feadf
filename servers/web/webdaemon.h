#pragma once

#include "serverdaemon.h"

#include <QHash>
#include <QMutex>

#include <memory>

class EventHub;
class RequestWorkers;
class SharedAuthenticator;
class WebApi;

// mailroom-webd: ServerDaemon with one implicit-TLS port (--listen, HTTPS)
// and WebConnections spread over the network threads. Each thread answers
// its clients with a WebApi and a store connection of its own; the store
// work of a request runs on RequestWorkers, so listings use every core and a
// slow request holds up only its own connection; the logins of all threads go through one SharedAuthenticator on this thread,
// and password hashing runs on the thread pool. On shutDown(), requests
// being answered are answered ("Connection: close"), then every connection
// closes.
class WebDaemon : public ServerDaemon
{
    Q_OBJECT
public:
    explicit WebDaemon(const Config &config, QObject *parent = nullptr);
    ~WebDaemon() override;

private:
    bool openBackend(QString *error) override;
    [[nodiscard]] QList<Listener> listeners() const override;
    ServerConnection *makeConnection(QSslSocket *socket, bool implicitTls, QObject *parent) override;
    [[nodiscard]] int networkThreadCount() const override;
    // The calling network thread's WebApi, made on its first connection.
    WebApi *apiOfThisThread();

    SharedAuthenticator *m_authenticator = nullptr;
    QMutex m_apisMutex;
    QHash<QThread *, WebApi *> m_apis;
    // Declared first so destroyed last: the workers' WebApis use it.
    std::unique_ptr<EventHub> m_eventHub;
    std::unique_ptr<RequestWorkers> m_workers;
};
