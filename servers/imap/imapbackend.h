#pragma once

#include "backendreply.h"
#include "config.h"
#include "imapchangecache.h"
#include "imapsession.h"
#include "store.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QThreadPool>
#include <QThreadStorage>

#include <deque>

class Authenticator;
class ImapMailbox;
class StoreChangeWatcher;

// Serves the IMAP sessions' requests. Logins go through the shared
// Authenticator (throttling, hashing on the thread pool); mailbox commands
// run on a pool of workers, each with its own store connection and
// ImapMailbox, so that a FETCH of large messages or a SEARCH of a large
// folder holds up its own client only. A StoreChangeWatcher hears of
// every commit of any process; the backend then asks the store which of
// its sessions' accounts moved on and tells them (accountsChanged).
class ImapBackend : public QObject
{
    Q_OBJECT
public:
    ImapBackend(const Config &config, QObject *parent = nullptr);
    ~ImapBackend() override;

    bool open(QString *error);

    // Called from any network thread. Answers come on the connection's
    // thread, through the reply it made with answerOn(): (outcome, account
    // id, the account's name).
    void login(const ImapLoginRequest &request, const QString &clientAddress,
               BackendReply<ImapLoginOutcome, qint64, QString> done);
    // The command's output; the state is the worker's until the answer.
    void execute(const ImapMailboxRequest &request, BackendReply<QByteArray> done);
    void update(const ImapUpdateRequest &request, BackendReply<QByteArray> done);

    // The accounts whose changes are listened for: one count per session;
    // any thread.
    void watchAccount(qint64 accountId);
    void unwatchAccount(qint64 accountId);

    [[nodiscard]] int requestsInFlight() const { return m_requestsInFlight.loadAcquire(); }

Q_SIGNALS:
    // Accounts that changed, by id, with their modseq now; connections on
    // other threads hear of it queued.
    void accountsChanged(const QHash<qint64, qint64> &modseqs);
    void requestsIdle();

private:
    using Work = std::function<void(ImapMailbox &)>;
    ImapMailbox &mailboxOfThisWorker();
    // Runs the work of one account's session on a worker; past
    // m_workersPerAccount of that account's at once, it waits its turn.
    void runOnWorker(qint64 accountId, Work work);
    void startOnWorker(qint64 accountId, Work work);
    void checkAccounts();
    void requestDone();

    Config m_config;
    Store m_store; // this thread's: account lookups for logins
    Authenticator *m_authenticator = nullptr;
    StoreChangeWatcher *m_watcher = nullptr;
    ImapChangeCache m_changeCache; // the workers'
    QHash<qint64, int> m_watched; // this thread's
    QHash<qint64, qint64> m_lastModseqs;
    bool m_checking = false;
    bool m_checkAgain = false;
    QAtomicInt m_requestsInFlight = 0; // counted up on the network threads
    // Per worker thread: its store connection and mailbox, kept as long as the pool.
    struct Worker;
    QThreadStorage<Worker *> m_workers;
    QThreadPool m_pool;
    // Fairness: one account's sessions (many connections with long SEARCHes,
    // say) hold at most half the workers; the rest of its work queues here,
    // not in the pool ahead of everyone else's.
    int m_workersPerAccount = 1;
    QMutex m_turnsMutex;
    QHash<qint64, int> m_running;               // by account: work on the workers
    QHash<qint64, std::deque<Work>> m_waiting; // by account: work waiting for its turn
    // Its own thread for asking which accounts changed, so that the news
    // for IDLE never waits behind long commands.
    QThreadPool m_checkPool;
};
