#pragma once

#include "authenticator.h"
#include "config.h"
#include "pop3session.h"
#include "store.h"
#include "storeworker.h"

#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>
#include <memory>

class Pop3Worker;

// Serves the POP3 sessions' requests. Logins go through the shared
// Authenticator (SPEC's throttling, hashing on the thread pool); reading a
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

    // Each answer comes later, on the event loop, and only while context lives.
    void login(const Pop3LoginRequest &request, const QString &clientAddress, QObject *context,
               std::function<void(Pop3LoginOutcome, qint64 accountId, QList<Pop3Message> maildrop)> done);
    void fetch(qint64 accountId, const Pop3FetchRequest &request, QObject *context,
               std::function<void(std::optional<QByteArray>)> done);
    void commit(const Pop3CommitRequest &request, QObject *context, std::function<void(bool committed)> done);
    // RETR's side effect (SPEC): no answer needed.
    void markSeen(qint64 accountId, const QList<qint64> &entryIds);

    [[nodiscard]] int commitsInFlight() const { return m_commitsInFlight; }

Q_SIGNALS:
    void commitsIdle();

private:
    // Runs `work` on the worker thread, then `answer` with its result here.
    template<typename Result>
    void onWorker(std::function<Result(Pop3Worker *)> work, QObject *context, std::function<void(Result)> answer);

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
