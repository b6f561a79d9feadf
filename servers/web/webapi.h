#pragma once

#include "config.h"
#include "httpmessage.h"
#include "store.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>
#include <variant>

class EventHub;
class PasswordHasher;
class RequestWorkers;
class SharedAuthenticator;

// docs/protocol/web.md: routing, sessions, mailboxes and messages.
// Every answer goes to done(), later, on the event loop (logins and password
// changes wait for a hash off the event-loop thread). Every read is scoped
// to the token's account: another account's ids are 404, never 403. One per
// network thread, each with its own store connection; the logins go through
// the process's one SharedAuthenticator.
class WebApi : public QObject
{
    Q_OBJECT
public:
    // With an authenticator of its own (one thread serves every client).
    explicit WebApi(const Config &config, QObject *parent = nullptr);
    // `authenticator` is shared with the other threads' WebApis and outlives them.
    WebApi(const Config &config, SharedAuthenticator *authenticator, QObject *parent = nullptr);
    ~WebApi() override;

    // Opens this WebApi's store connection (and its own authenticator's).
    bool open(QString *error);
    // Where the store work of requests runs (webd: a RequestWorkers shared by
    // every network thread's WebApi); without, it runs here, on the calling
    // thread (tests, one-thread servers).
    void setRequestWorkers(RequestWorkers *workers) { m_workers = workers; }
    // The source of event streams (GET /api/v1/events); without, 503.
    void setEventHub(EventHub *hub) { m_eventHub = hub; }
    [[nodiscard]] EventHub *eventHub() const { return m_eventHub; }
    [[nodiscard]] const Config &config() const { return m_config; }
    // Whether a request to this path may carry a message (an append) as
    // its body, larger than other requests' (WebConnection admits it).
    [[nodiscard]] static bool takesUpload(const QString &path);
    void handle(const HttpRequest &request, const QString &clientAddress, QObject *context,
                std::function<void(HttpResponse)> done);

    // A token's stored form (SHA-256), so a database leak yields no usable token.
    [[nodiscard]] static QByteArray tokenHash(const QByteArray &token);

private:
    using Done = std::function<void(HttpResponse)>;
    struct Caller
    {
        Account account;
        QByteArray tokenHash;
    };

    // Whether the store is open; one that could not be opened (this thread's
    // first request, or out of file descriptors) is tried again, at most once
    // a second, so a thread or worker recovers instead of failing for good.
    bool storeReady();
    std::optional<Caller> authenticate(const HttpRequest &request, HttpResponse *failure);
    void login(const HttpRequest &request, const QString &clientAddress, QPointer<QObject> context, Done done);
    void changePassword(const HttpRequest &request, const Caller &caller, const QString &clientAddress,
                        QPointer<QObject> context, Done done);
    // Store writes wait for the database's write lock (SQLite's busy
    // timeout: seconds): they run on a request worker, so the network
    // thread's other connections are answered meanwhile; here without one.
    void runStoreWrite(std::function<void(WebApi &api)> work);
    // A verified login's token: stored, then answered.
    void issueToken(qint64 accountId, const QString &username, const QString &clientAddress, const Done &answer);
    HttpResponse account(const Caller &caller);
    HttpResponse patchAccount(const HttpRequest &request, const Caller &caller);
    HttpResponse directory(const HttpRequest &request);
    // A role folder (the v1 mailboxes) or one by id (404 when not the caller's).
    HttpResponse listFolder(const HttpRequest &request, const Caller &caller, std::variant<FolderRole, qint64> folder);
    // Version 2's folders, flags, moves, copies and changes (webmailbox.cpp).
    HttpResponse folders(const Caller &caller);
    HttpResponse createFolder(const HttpRequest &request, const Caller &caller);
    HttpResponse renameFolder(const HttpRequest &request, const Caller &caller, qint64 folderId);
    HttpResponse deleteFolder(const Caller &caller, qint64 folderId);
    HttpResponse copyMessage(const HttpRequest &request, const Caller &caller, qint64 entryId);
    HttpResponse changes(const HttpRequest &request, const Caller &caller);
    HttpResponse search(const HttpRequest &request, const Caller &caller);
    HttpResponse openEventStream(const HttpRequest &request, const Caller &caller);
    HttpResponse appendMessage(const HttpRequest &request, const Caller &caller, qint64 folderId);
    // A refused store write as its answer: 404, 400, 409, or a failure.
    HttpResponse storeRefusal();
    HttpResponse message(const Caller &caller, qint64 entryId);
    HttpResponse rawMessage(const Caller &caller, qint64 entryId);
    HttpResponse attachment(const Caller &caller, qint64 entryId, int index);
    HttpResponse patchMessage(const HttpRequest &request, const Caller &caller, qint64 entryId);
    HttpResponse deleteMessage(const Caller &caller, qint64 entryId);
    HttpResponse storeFailure();
    HttpResponse unavailable();

    Config m_config;
    Store m_store;
    PasswordHasher *m_hasher = nullptr;
    SharedAuthenticator *m_authenticator = nullptr;
    bool m_ownsAuthenticator = false;
    RequestWorkers *m_workers = nullptr;
    EventHub *m_eventHub = nullptr;
    QElapsedTimer m_lastOpenAttempt;
    QHash<quint64, std::function<void(bool)>> m_verifications;
    QHash<quint64, std::function<void(const QString &)>> m_hashes;
};
