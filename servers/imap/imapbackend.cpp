#include "imapbackend.h"

#include "authenticator.h"
#include "imapmailbox.h"
#include "logging.h"
#include "storechangewatcher.h"
#include "username.h"

#include <QThread>

struct ImapBackend::Worker
{
    Store store;
    std::unique_ptr<ImapMailbox> mailbox;
};

ImapBackend::ImapBackend(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
    m_authenticator = new Authenticator(config, &m_store, this);
    m_pool.setObjectName(QStringLiteral("imapd workers"));
    // Enough that a few long commands leave workers for everyone else.
    m_pool.setMaxThreadCount(std::max(4, 2 * QThread::idealThreadCount()));
    m_pool.setExpiryTimeout(-1); // a worker that ended would take its store connection with it
    m_workersPerAccount = std::max(1, m_pool.maxThreadCount() / 2);
    m_checkPool.setObjectName(QStringLiteral("imapd change checks"));
    m_checkPool.setMaxThreadCount(1);
    m_checkPool.setExpiryTimeout(-1);
}

ImapBackend::~ImapBackend()
{
    m_checkPool.waitForDone();
    m_pool.waitForDone();
}

bool ImapBackend::open(QString *error)
{
    if (!m_store.open(m_config.database, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    m_watcher = new StoreChangeWatcher(m_config.database, this);
    connect(m_watcher, &StoreChangeWatcher::changed, this, &ImapBackend::checkAccounts);
    return m_watcher->start(error);
}

ImapMailbox &ImapBackend::mailboxOfThisWorker()
{
    if (!m_workers.hasLocalData()) {
        auto *worker = new Worker;
        if (!worker->store.open(m_config.database, Store::OpenMode::MustExist))
            qCWarning(lcImap).noquote() << "a worker cannot open the store:" << worker->store.lastErrorText();
        ImapMailbox::Settings settings;
        settings.appendLimit = m_config.limits.maxMessageBytes;
        settings.maxHeaderBytes = m_config.limits.maxHeaderBytes;
        settings.changeCache = &m_changeCache;
        worker->mailbox = std::make_unique<ImapMailbox>(&worker->store, settings);
        m_workers.setLocalData(worker);
    }
    return *m_workers.localData()->mailbox;
}

void ImapBackend::runOnWorker(qint64 accountId, Work work)
{
    m_requestsInFlight.ref();
    {
        const QMutexLocker locker(&m_turnsMutex);
        int &running = m_running[accountId];
        if (running >= m_workersPerAccount) {
            m_waiting[accountId].push_back(std::move(work));
            return;
        }
        ++running;
    }
    startOnWorker(accountId, std::move(work));
}

void ImapBackend::startOnWorker(qint64 accountId, Work work)
{
    m_pool.start([this, accountId, work = std::move(work)] {
        work(mailboxOfThisWorker());
        Work next;
        {
            const QMutexLocker locker(&m_turnsMutex);
            const auto waiting = m_waiting.find(accountId);
            if (waiting != m_waiting.end()) {
                next = std::move(waiting->front());
                waiting->pop_front();
                if (waiting->empty())
                    m_waiting.erase(waiting);
            } else if (const auto running = m_running.find(accountId); --*running == 0) {
                m_running.erase(running);
            }
        }
        // The account's next turn goes to the back of the pool's queue,
        // behind what other accounts asked for meanwhile.
        if (next)
            startOnWorker(accountId, std::move(next));
        QMetaObject::invokeMethod(this, &ImapBackend::requestDone);
    });
}

void ImapBackend::requestDone()
{
    if (!m_requestsInFlight.deref())
        Q_EMIT requestsIdle();
}

void ImapBackend::login(const ImapLoginRequest &request, const QString &clientAddress,
                        BackendReply<ImapLoginOutcome, qint64, QString> done)
{
    // The name or the full address in our domain; anything else is a failed
    // login like a wrong password (counted under what was typed).
    const QString username = Username::loginKey(request.username, m_config.domain);
    const auto finished = [done, clientAddress, username](LoginOutcome outcome, qint64 accountId) {
        if (outcome != LoginOutcome::Accepted) {
            qCInfo(lcImap).noquote() << clientAddress << "login failed for" << Logging::printable(username)
                                     << (outcome == LoginOutcome::Throttled ? "(throttled)" : "");
            done(outcome == LoginOutcome::Throttled       ? ImapLoginOutcome::Throttled
                     : outcome == LoginOutcome::Unavailable ? ImapLoginOutcome::Failed
                                                            : ImapLoginOutcome::Rejected,
                 0, {});
            return;
        }
        qCInfo(lcImap).noquote() << clientAddress << "authenticated as" << Logging::printable(username);
        done(ImapLoginOutcome::Accepted, accountId, username);
    };
    // Throttling and remembered logins are one state for all network
    // threads: the Authenticator runs on the backend's thread.
    QMetaObject::invokeMethod(this, [this, username, password = request.password, clientAddress, finished] {
        m_authenticator->login(username, password, clientAddress, this, finished);
    });
}

void ImapBackend::execute(const ImapMailboxRequest &request, BackendReply<QByteArray> done)
{
    // A client gone while its command waited has it dropped unrun: it was
    // told nothing, so nothing it asked for may happen (its APPEND is sent
    // again when it comes back).
    runOnWorker(request.state->accountId, [request, done](ImapMailbox &mailbox) {
        if (!done.isGone())
            done(mailbox.execute(*request.state, request.command));
    });
}

void ImapBackend::update(const ImapUpdateRequest &request, BackendReply<QByteArray> done)
{
    runOnWorker(request.state->accountId, [request, done](ImapMailbox &mailbox) {
        if (!done.isGone())
            done(mailbox.update(*request.state));
    });
}

void ImapBackend::watchAccount(qint64 accountId)
{
    QMetaObject::invokeMethod(this, [this, accountId] { ++m_watched[accountId]; });
}

void ImapBackend::unwatchAccount(qint64 accountId)
{
    QMetaObject::invokeMethod(this, [this, accountId] {
        const auto found = m_watched.find(accountId);
        if (found != m_watched.end() && --*found <= 0) {
            m_watched.erase(found);
            m_lastModseqs.remove(accountId);
        }
    });
}

void ImapBackend::checkAccounts()
{
    if (m_watched.isEmpty())
        return;
    // One check at a time; commits during it make one more after it.
    if (m_checking) {
        m_checkAgain = true;
        return;
    }
    m_checking = true;
    const QList<qint64> accounts = m_watched.keys();
    const BackendReply<QHash<qint64, qint64>> answer(this, [this](const QHash<qint64, qint64> &modseqs) {
        QHash<qint64, qint64> changed;
        for (auto it = modseqs.cbegin(); it != modseqs.cend(); ++it) {
            qint64 &last = m_lastModseqs[it.key()];
            if (it.value() > last) {
                last = it.value();
                changed.insert(it.key(), it.value());
            }
        }
        m_checking = false;
        if (!changed.isEmpty())
            Q_EMIT accountsChanged(changed);
        if (std::exchange(m_checkAgain, false))
            checkAccounts();
    });
    m_checkPool.start([this, accounts, answer] {
        Store &store = [this]() -> Store & {
            mailboxOfThisWorker();
            return m_workers.localData()->store;
        }();
        const std::optional<QHash<qint64, qint64>> modseqs = store.accountModseqs(accounts);
        if (!modseqs)
            qCWarning(lcImap).noquote() << "reading the accounts' modseqs failed:" << store.lastErrorText();
        answer(modseqs.value_or(QHash<qint64, qint64>()));
    });
}
