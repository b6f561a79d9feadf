#include "smtpbackend.h"

#include "passwords.h"
#include "smtplogging.h"

#include <QDateTime>
#include <QMutexLocker>

namespace {
constexpr int RegistrationsPerHour = 5;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}
} // namespace

SmtpBackend::SmtpBackend(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_registrations(3600 * 1000)
{
    m_hasher = new PasswordHasher(this, config.pbkdf2Iterations);
    connect(m_hasher, &PasswordHasher::hashed, this, &SmtpBackend::onHashed);
    m_authenticator = new Authenticator(config, &m_store, this);
}

SmtpBackend::~SmtpBackend()
{
    m_deliveryThread.quit();
    m_deliveryThread.wait(); // lets a commit in progress finish: nothing half-stored
}

bool SmtpBackend::open(QString *error)
{
    if (!m_store.open(m_config.database, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    m_worker = new DeliveryWorker(m_config.database);
    return m_worker->startIn(m_deliveryThread, QStringLiteral("delivery"), error);
}

Store *SmtpBackend::storeOfThisThread()
{
    if (QThread::currentThread() == thread())
        return &m_store;
    // A network thread: a connection of its own, so that the RCPT lookups of
    // its clients neither wait for nor serialise with the other threads.
    if (!m_networkThreadStores.hasLocalData()) {
        auto *store = new Store;
        if (!store->open(m_config.database, Store::OpenMode::MustExist))
            qCWarning(lcSmtp).noquote() << "cannot open the store on" << QThread::currentThread()->objectName() << ":"
                                        << store->lastErrorText();
        m_networkThreadStores.setLocalData(store); // deleted as the thread ends
    }
    return m_networkThreadStores.localData();
}

AccountLookup SmtpBackend::lookUpAccount(const QString &username)
{
    Store *store = storeOfThisThread();
    const auto account = store->findAccount(username);
    if (account)
        return {AccountLookup::Result::Found, account->id};
    if (store->lastError() == Store::Error::NotFound)
        return {AccountLookup::Result::NoSuchAccount, 0};
    qCWarning(lcSmtp).noquote() << "account lookup failed:" << store->lastErrorText();
    return {AccountLookup::Result::Unavailable, 0};
}

void SmtpBackend::login(const SmtpLoginRequest &request, const QString &clientAddress,
                        BackendReply<LoginOutcome, qint64> done)
{
    // Throttling and remembered logins are one state for all threads: the
    // check runs on the backend's thread.
    QMetaObject::invokeMethod(this, [this, request, clientAddress, done = std::move(done)] {
        m_authenticator->login(request.username, request.password, clientAddress, this, done);
    });
}

void SmtpBackend::registerAccount(const SmtpRegisterRequest &request, const QString &clientAddress,
                                  BackendReply<RegisterOutcome> done)
{
    QMetaObject::invokeMethod(this, [this, request, clientAddress, done = std::move(done)] {
        startRegistration(request, clientAddress, done);
    });
}

void SmtpBackend::startRegistration(const SmtpRegisterRequest &request, const QString &clientAddress,
                                    BackendReply<RegisterOutcome> done)
{
    // Registrations still being hashed count too, so parallel connections
    // cannot all pass the limit at once.
    if (m_registrations.count(clientAddress, nowMs()) + m_registrationsInFlight.value(clientAddress) >= RegistrationsPerHour) {
        qCInfo(lcSmtp).noquote() << clientAddress << "registration refused: rate limit";
        done(RegisterOutcome::RateLimited); // queued: never inside the connection's own call
        return;
    }
    ++m_registrationsInFlight[clientAddress];
    const quint64 ticket = m_hasher->hashAsync(request.password);
    m_registrationsPending.insert(ticket, PendingRegistration{clientAddress, request.username, std::move(done)});
}

void SmtpBackend::onHashed(quint64 ticket, const QString &stored)
{
    const auto found = m_registrationsPending.constFind(ticket);
    if (found == m_registrationsPending.constEnd())
        return;
    const PendingRegistration pending = *found;
    m_registrationsPending.erase(found);
    // The insert is a durable write that may wait for another process's
    // lock: it runs on the delivery thread, never on the event loop.
    DeliveryWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker,
        [this, worker, pending, stored] {
            const RegisterOutcome outcome = worker->createAccount(pending.username, stored);
            QMetaObject::invokeMethod(
                this,
                [this, pending, outcome] {
                    auto it = m_registrationsInFlight.find(pending.clientAddress);
                    if (it != m_registrationsInFlight.end() && --*it <= 0)
                        m_registrationsInFlight.erase(it);
                    if (outcome == RegisterOutcome::Created)
                        m_registrations.add(pending.clientAddress, nowMs());
                    pending.done(outcome);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void SmtpBackend::deliver(const SmtpDeliveryRequest &request, BackendReply<DeliveryOutcome> done)
{
    m_deliveriesInFlight.ref();
    // Group commit: what queues up while the worker is busy with one commit
    // goes into the next one, a single transaction and disk flush for all.
    // The answers go from the delivery thread straight to the connections'
    // threads.
    if (m_worker->enqueue(request, std::move(done))) {
        DeliveryWorker *worker = m_worker;
        QMetaObject::invokeMethod(
            worker,
            [this, worker] {
                const int answered = worker->deliverQueued();
                if (m_deliveriesInFlight.fetchAndSubOrdered(answered) == answered)
                    Q_EMIT deliveriesIdle();
            },
            Qt::QueuedConnection);
    }
}

RegisterOutcome DeliveryWorker::createAccount(const QString &username, const QString &passwordHash)
{
    if (store()->createAccount(username, passwordHash))
        return RegisterOutcome::Created;
    if (store()->lastError() == Store::Error::AlreadyExists)
        return RegisterOutcome::Taken; // registered by someone else meanwhile
    qCWarning(lcSmtp).noquote() << "registration failed:" << store()->lastErrorText();
    return RegisterOutcome::Failed;
}

bool DeliveryWorker::enqueue(const SmtpDeliveryRequest &request, Answer done)
{
    NewMessage message = Store::parsedMessage(request.message);
    message.senderId = request.senderId;
    message.recipientIds = request.recipientIds;
    QMutexLocker lock(&m_queueMutex);
    m_queue.append({request.queueId, std::move(message), std::move(done)});
    return !std::exchange(m_drainScheduled, true);
}

int DeliveryWorker::deliverQueued()
{
    QList<Queued> jobs;
    {
        QMutexLocker lock(&m_queueMutex);
        jobs.swap(m_queue);
        m_drainScheduled = false; // what comes from now on is scheduled anew
    }
    QList<NewMessage> messages;
    messages.reserve(jobs.size());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (Queued &job : jobs) {
        job.message.receivedAt = now;
        messages.append(std::move(job.message));
    }
    QList<Store::DeliveryError> errors;
    const QList<std::optional<Delivery>> deliveries = store()->deliverAll(messages, &errors);
    messages.clear(); // the message data is not held while the answers go out
    for (qsizetype i = 0; i < jobs.size(); ++i) {
        DeliveryOutcome outcome = DeliveryOutcome::Stored;
        if (!deliveries.value(i)) {
            const Store::DeliveryError error = errors.value(i);
            qCWarning(lcSmtp).noquote() << "delivery of" << jobs.at(i).queueId << "failed:" << error.text;
            outcome = error.error == Store::Error::DiskFull ? DeliveryOutcome::DiskFull
                : error.error == Store::Error::NotFound    ? DeliveryOutcome::RecipientGone
                                                           : DeliveryOutcome::Failed;
        }
        jobs.at(i).done(outcome);
    }
    return int(jobs.size());
}
