#include "smtpbackend.h"

#include "mimemessage.h"
#include "passwords.h"
#include "smtplogging.h"

#include <QDateTime>
#include <QMutexLocker>
#include <QTimer>

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
    if (!m_store.open(m_config.database.sqlitePath, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    m_worker = new DeliveryWorker(m_config.database.sqlitePath);
    return m_worker->startIn(m_deliveryThread, QStringLiteral("delivery"), error);
}

std::optional<qint64> SmtpBackend::accountId(const QString &username)
{
    const auto account = m_store.findAccount(username);
    if (!account && m_store.lastError() != Store::Error::NotFound)
        qCWarning(lcSmtp).noquote() << "account lookup failed:" << m_store.lastErrorText();
    return account ? std::optional<qint64>(account->id) : std::nullopt;
}

void SmtpBackend::login(const SmtpLoginRequest &request, const QString &clientAddress, QObject *context,
                        std::function<void(LoginOutcome, qint64)> done)
{
    m_authenticator->login(request.username, request.password, clientAddress, context, std::move(done));
}

void SmtpBackend::registerAccount(const SmtpRegisterRequest &request, const QString &clientAddress, QObject *context,
                                  std::function<void(RegisterOutcome)> done)
{
    // Registrations still being hashed count too, so parallel connections
    // cannot all pass the limit at once.
    if (m_registrations.count(clientAddress, nowMs()) + m_registrationsInFlight.value(clientAddress) >= RegistrationsPerHour) {
        qCInfo(lcSmtp).noquote() << clientAddress << "registration refused: rate limit";
        QTimer::singleShot(0, context, [done] { done(RegisterOutcome::RateLimited); });
        return;
    }
    ++m_registrationsInFlight[clientAddress];
    const quint64 ticket = m_hasher->hashAsync(request.password);
    m_registrationsPending.insert(ticket, PendingRegistration{clientAddress, request.username, context, std::move(done)});
}

void SmtpBackend::onHashed(quint64 ticket, const QString &stored)
{
    PendingRegistration pending = m_registrationsPending.take(ticket);
    if (!pending.done)
        return;
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
                    if (pending.context)
                        pending.done(outcome);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void SmtpBackend::deliver(const SmtpDeliveryRequest &request, QObject *context, std::function<void(DeliveryOutcome)> done)
{
    const quint64 job = m_nextJob++;
    m_deliveries.insert(job, PendingDelivery{context, std::move(done)});
    // Group commit: what queues up while the worker is busy with one commit
    // goes into the next one, a single transaction and disk flush for all.
    if (m_worker->enqueue(job, request)) {
        DeliveryWorker *worker = m_worker;
        QMetaObject::invokeMethod(
            worker,
            [this, worker] {
                const QList<QPair<quint64, DeliveryOutcome>> outcomes = worker->deliverQueued();
                QMetaObject::invokeMethod(
                    this,
                    [this, outcomes] {
                        for (const auto &[done, outcome] : outcomes)
                            onDelivered(done, outcome);
                    },
                    Qt::QueuedConnection);
            },
            Qt::QueuedConnection);
    }
}

void SmtpBackend::onDelivered(quint64 job, DeliveryOutcome outcome)
{
    PendingDelivery pending = m_deliveries.take(job);
    if (pending.context && pending.done)
        pending.done(outcome);
    if (m_deliveries.isEmpty())
        Q_EMIT deliveriesIdle();
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

bool DeliveryWorker::enqueue(quint64 job, const SmtpDeliveryRequest &request)
{
    QMutexLocker lock(&m_queueMutex);
    m_queue.append({job, request});
    return !std::exchange(m_drainScheduled, true);
}

QList<QPair<quint64, DeliveryOutcome>> DeliveryWorker::deliverQueued()
{
    QList<QPair<quint64, SmtpDeliveryRequest>> jobs;
    {
        QMutexLocker lock(&m_queueMutex);
        jobs.swap(m_queue);
        m_drainScheduled = false; // what comes from now on is scheduled anew
    }
    QList<NewMessage> messages;
    messages.reserve(jobs.size());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const auto &[job, request] : std::as_const(jobs)) {
        NewMessage message;
        message.raw = request.message;
        message.summary = MimeMessage::parse(request.message).summary();
        message.receivedAt = now;
        message.senderId = request.senderId;
        message.recipientIds = request.recipientIds;
        messages.append(std::move(message));
    }
    QList<Store::DeliveryError> errors;
    const QList<std::optional<Delivery>> deliveries = store()->deliverAll(messages, &errors);
    QList<QPair<quint64, DeliveryOutcome>> outcomes;
    outcomes.reserve(jobs.size());
    for (qsizetype i = 0; i < jobs.size(); ++i) {
        DeliveryOutcome outcome = DeliveryOutcome::Stored;
        if (!deliveries.value(i)) {
            const Store::DeliveryError error = errors.value(i);
            qCWarning(lcSmtp).noquote() << "delivery of" << jobs.at(i).second.queueId << "failed:" << error.text;
            outcome = error.error == Store::Error::DiskFull ? DeliveryOutcome::DiskFull
                : error.error == Store::Error::NotFound    ? DeliveryOutcome::RecipientGone
                                                           : DeliveryOutcome::Failed;
        }
        outcomes.append({jobs.at(i).first, outcome});
    }
    return outcomes;
}
