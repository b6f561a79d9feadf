#pragma once

#include "config.h"
#include "smtpsession.h"
#include "store.h"
#include "storeworker.h"
#include "throttle.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>

class PasswordHasher;
class DeliveryWorker;

// Serves the sessions' requests: logins (with SPEC's throttling), REG (with
// its rate limit), deliveries. Password hashing runs on QThreadPool and
// deliveries (parsing and the durable commit) on a thread of their own, so
// the event loop keeps serving every other connection meanwhile. Account
// lookups are single indexed queries and run here.
class SmtpBackend : public QObject, public SmtpDirectory
{
    Q_OBJECT
public:
    SmtpBackend(const Config &config, QObject *parent = nullptr);
    ~SmtpBackend() override;

    // Opens the store here and in the delivery thread.
    bool open(QString *error);

    std::optional<qint64> accountId(const QString &username) override;

    // Each answer comes later, on the event loop, and only while context lives.
    void login(const SmtpLoginRequest &request, const QString &clientAddress, QObject *context,
               std::function<void(LoginOutcome, qint64)> done);
    void registerAccount(const SmtpRegisterRequest &request, const QString &clientAddress, QObject *context,
                         std::function<void(RegisterOutcome)> done);
    void deliver(const SmtpDeliveryRequest &request, QObject *context, std::function<void(DeliveryOutcome)> done);

    [[nodiscard]] int deliveriesInFlight() const { return int(m_deliveries.size()); }

Q_SIGNALS:
    void deliveriesIdle();

private:
    struct PendingRegistration
    {
        QString clientAddress;
        QString username;
        QPointer<QObject> context;
        std::function<void(RegisterOutcome)> done;
    };
    struct PendingDelivery
    {
        QPointer<QObject> context;
        std::function<void(DeliveryOutcome)> done;
    };

    void onHashed(quint64 ticket, const QString &stored);
    void onDelivered(quint64 job, DeliveryOutcome outcome);

    Config m_config;
    Store m_store;
    PasswordHasher *m_hasher = nullptr; // for REG
    Authenticator *m_authenticator = nullptr;
    SlidingWindowCounter m_registrations;
    QHash<quint64, PendingRegistration> m_registrationsPending;
    QHash<QString, int> m_registrationsInFlight;
    QHash<quint64, PendingDelivery> m_deliveries;
    quint64 m_nextJob = 1;
    QThread m_deliveryThread;
    DeliveryWorker *m_worker = nullptr;
};

// Lives in the delivery thread with a store connection of its own: parses
// each message for its summary and commits the messages that queued up
// meanwhile in one transaction, and inserts new accounts: every write of
// the SMTP server happens here, off the event loop.
class DeliveryWorker : public StoreWorker
{
    Q_OBJECT
public:
    using StoreWorker::StoreWorker;
    // Any thread: queues a delivery; true when a deliverQueued() must be
    // scheduled (none is pending that will take this one).
    bool enqueue(quint64 job, const SmtpDeliveryRequest &request);
    // The worker's thread: parses and commits everything queued in one
    // transaction (group commit); an outcome per job, in order.
    QList<QPair<quint64, DeliveryOutcome>> deliverQueued();
    RegisterOutcome createAccount(const QString &username, const QString &passwordHash);

private:
    QMutex m_queueMutex;
    QList<QPair<quint64, SmtpDeliveryRequest>> m_queue;
    bool m_drainScheduled = false;
};
