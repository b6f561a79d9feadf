#include "pop3backend.h"

#include "logging.h"
#include "pop3logging.h"
#include "username.h"

Pop3Backend::Pop3Backend(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
    m_authenticator = new Authenticator(config, &m_store, this);
}

Pop3Backend::~Pop3Backend()
{
    m_thread.quit();
    m_thread.wait(); // lets a commit in progress finish: all deletions or none
}

bool Pop3Backend::open(QString *error)
{
    if (!m_store.open(m_config.database, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    m_worker = new Pop3Worker(m_config.database);
    return m_worker->startIn(m_thread, QStringLiteral("pop3-store"), error);
}

template<typename Result>
void Pop3Backend::onWorker(std::function<Result(Pop3Worker *)> work, std::function<void(Result)> answer)
{
    Pop3Worker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker, work = std::move(work), answer = std::move(answer)] {
        answer(work(worker));
    });
}

void Pop3Backend::login(const Pop3LoginRequest &request, const QString &clientAddress,
                        BackendReply<Pop3LoginOutcome, qint64, QList<Pop3Message>> done)
{
    // The name or the full address in our domain; anything else is a failed
    // login like a wrong password (counted under what was typed).
    const QString username = Username::loginKey(request.username, m_config.domain);
    // A client gone meanwhile cancels its check (and a check still waiting
    // for its turn) when it was served on this thread.
    QObject *context = done.receiverHere() ? done.receiverHere() : this;
    m_authenticator->login(username, request.password, clientAddress, context,
                           [this, done, clientAddress, username](LoginOutcome outcome, qint64 accountId) {
        if (outcome != LoginOutcome::Accepted) {
            qCInfo(lcPop3).noquote() << clientAddress << "login failed for" << Logging::printable(username)
                                     << (outcome == LoginOutcome::Throttled ? "(throttled)" : "");
            done(outcome == LoginOutcome::Throttled     ? Pop3LoginOutcome::Throttled
                     : outcome == LoginOutcome::Unavailable ? Pop3LoginOutcome::Failed
                                                            : Pop3LoginOutcome::Rejected,
                 0, {});
            return;
        }
        if (done.isGone())
            return; // nobody to read the maildrop for
        // docs/PROTOCOL.md: the maildrop is the inbox as it was at login.
        onWorker<std::optional<QList<Pop3Message>>>(
            [accountId](Pop3Worker *worker) { return worker->maildrop(accountId); },
            [done, accountId, clientAddress, username](const std::optional<QList<Pop3Message>> &maildrop) {
                if (!maildrop) {
                    done(Pop3LoginOutcome::Failed, 0, {});
                    return;
                }
                qCInfo(lcPop3).noquote() << clientAddress << "authenticated as" << Logging::printable(username) << "with"
                                         << maildrop->size() << "messages";
                done(Pop3LoginOutcome::Accepted, accountId, *maildrop);
            });
    });
}

void Pop3Backend::fetch(qint64 accountId, const Pop3FetchRequest &request, BackendReply<std::optional<QByteArray>> done)
{
    onWorker<std::optional<QByteArray>>(
        [accountId, request](Pop3Worker *worker) { return worker->fetch(accountId, request); }, done);
}

void Pop3Backend::commit(const Pop3CommitRequest &request, BackendReply<bool> done)
{
    ++m_commitsInFlight;
    // Counted here, on the backend's thread, even when the client is gone
    // meanwhile: the commit itself always runs to its end.
    onWorker<bool>([request](Pop3Worker *worker) { return worker->commit(request); },
                   [this, done, request](bool committed) {
        QMetaObject::invokeMethod(this, [this, done, request, committed] {
            qCInfo(lcPop3).noquote() << "account" << request.accountId << (committed ? "deleted" : "could not delete")
                                     << request.deletedEntryIds.size() << "messages";
            done(committed);
            if (--m_commitsInFlight == 0)
                Q_EMIT commitsIdle();
        });
    });
}

void Pop3Backend::markSeen(qint64 accountId, const QList<qint64> &entryIds)
{
    if (entryIds.isEmpty())
        return;
    Pop3Worker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker, accountId, entryIds] { worker->markSeen(accountId, entryIds); });
}

std::optional<QList<Pop3Message>> Pop3Worker::maildrop(qint64 accountId)
{
    const auto entries = store()->inbox(accountId);
    if (!entries) {
        qCWarning(lcPop3).noquote() << "reading the maildrop failed:" << store()->lastErrorText();
        return std::nullopt;
    }
    QList<Pop3Message> maildrop;
    maildrop.reserve(entries->size());
    for (const MailboxEntry &entry : *entries)
        maildrop.append({entry.id, entry.size});
    return maildrop;
}

std::optional<QByteArray> Pop3Worker::fetch(qint64 accountId, const Pop3FetchRequest &request)
{
    std::optional<QByteArray> raw = store()->rawMessage(accountId, request.entryId);
    if (!raw) {
        if (store()->lastError() != Store::Error::NotFound)
            qCWarning(lcPop3).noquote() << "reading a message failed:" << store()->lastErrorText();
        return std::nullopt;
    }
    if (request.bodyLines)
        return Pop3Session::topOf(*raw, *request.bodyLines);
    return raw;
}

bool Pop3Worker::commit(const Pop3CommitRequest &request)
{
    if (store()->deleteEntries(request.accountId, request.deletedEntryIds, FolderRole::Inbox))
        return true;
    qCWarning(lcPop3).noquote() << "committing deletions failed:" << store()->lastErrorText();
    return false;
}

void Pop3Worker::markSeen(qint64 accountId, const QList<qint64> &entryIds)
{
    for (const qint64 entryId : entryIds) {
        if (!store()->setSeen(accountId, entryId, true) && store()->lastError() != Store::Error::NotFound)
            qCWarning(lcPop3).noquote() << "marking a message seen failed:" << store()->lastErrorText();
    }
}
