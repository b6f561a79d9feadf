#pragma once

#include "authenticator.h"
#include "backendreply.h"
#include "config.h"
#include "pop3session.h"
#include "store.h"
#include "storeworker.h"

#include <QObject>
#include <QThread>

#include <functional>
#include <memory>

class Pop3Worker;

// Serves the POP3 sessions' requests. Logins go through the shared
// Authenticator (throttling as docs/PROTOCOL.md says, hashing on the thread
// pool); reading a
// maildrop or a message, marking entries seen and committing deletions run
// on a thread of their own with its own store connection, so the event loop
// keeps serving every other connection (a message may be 25 MiB, a commit
// waits for the disk).
class Pop3Backend : public QObject
{
    Q_OBJECT
public:
    Pop3Backend(const Config &config, QObject *parent = nullptr);
    ~Pop3Backend() override;

    bool open(QString *error);

    // On the backend's thread. Each answer comes later, on the connection's
    // thread, through the reply it made with answerOn(): (outcome, account id, maildrop).
    void login(const Pop3LoginRequest &request, const QString &clientAddress,
               BackendReply<Pop3LoginOutcome, qint64, QList<Pop3Message>> done);
    void fetch(qint64 accountId, const Pop3FetchRequest &request, BackendReply<std::optional<QByteArray>> done);
    void commit(const Pop3CommitRequest &request, BackendReply<bool> done);
    // RETR's side effect (docs/PROTOCOL.md): no answer needed.
    void markSeen(qint64 accountId, const QList<qint64> &entryIds);

    [[nodiscard]] int commitsInFlight() const { return m_commitsInFlight; }

Q_SIGNALS:
    void commitsIdle();

private:
    // Runs `work` on the worker thread, then hands its result to `answer` there.
    template<typename Result>
    void onWorker(std::function<Result(Pop3Worker *)> work, std::function<void(Result)> answer);

    Config m_config;
    Store m_store; // this thread's: account lookups for logins
    Authenticator *m_authenticator = nullptr;
    QThread m_thread;
    Pop3Worker *m_worker = nullptr;
    int m_commitsInFlight = 0;
};

// Lives in the backend's thread with a store connection of its own.
class Pop3Worker : public StoreWorker
{
    Q_OBJECT
public:
    using StoreWorker::StoreWorker;
    std::optional<QList<Pop3Message>> maildrop(qint64 accountId);
    std::optional<QByteArray> fetch(qint64 accountId, const Pop3FetchRequest &request);
    bool commit(const Pop3CommitRequest &request);
    void markSeen(qint64 accountId, const QList<qint64> &entryIds);
};
