#pragma once

#include "backendreply.h"
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
#include <QThreadStorage>
#include <QAtomicInt>

#include <functional>

class PasswordHasher;
class DeliveryWorker;

// Serves the sessions' requests: logins (with the throttling of
// docs/PROTOCOL.md), REG (with
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

    AccountLookup lookUpAccount(const QString &username) override;

    // Any thread (a connection's). Each answer comes later, on the
    // connection's thread, through the reply it made with answerOn().
    void login(const SmtpLoginRequest &request, const QString &clientAddress, BackendReply<LoginOutcome, qint64> done);
    void registerAccount(const SmtpRegisterRequest &request, const QString &clientAddress,
                         BackendReply<RegisterOutcome> done);
    void deliver(const SmtpDeliveryRequest &request, BackendReply<DeliveryOutcome> done);

    [[nodiscard]] int deliveriesInFlight() const { return m_deliveriesInFlight.loadAcquire(); }

Q_SIGNALS:
    // Emitted on the delivery thread.
    void deliveriesIdle();

private:
    struct PendingRegistration
    {
        QString clientAddress;
        QString username;
        BackendReply<RegisterOutcome> done;
    };

    void startRegistration(const SmtpRegisterRequest &request, const QString &clientAddress,
                           BackendReply<RegisterOutcome> done);
    void onHashed(quint64 ticket, const QString &stored);
    // This thread's own store (the event loop's, or a network thread's).
    Store *storeOfThisThread();

    Config m_config;
    Store m_store;
    QThreadStorage<Store *> m_networkThreadStores;
    PasswordHasher *m_hasher = nullptr; // for REG
    Authenticator *m_authenticator = nullptr;
    SlidingWindowCounter m_registrations;
    QHash<quint64, PendingRegistration> m_registrationsPending;
    QHash<QString, int> m_registrationsInFlight;
    QAtomicInt m_deliveriesInFlight = 0;
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
    using Answer = BackendReply<DeliveryOutcome>;
    // Any thread: parses the message and folds its words for the search
    // index there (the connection's thread), then queues it; true when a
    // deliverQueued() must be scheduled (none is pending that will take
    // this one). The one delivery thread is left only the writing.
    bool enqueue(const SmtpDeliveryRequest &request, Answer done);
    // The worker's thread: commits everything queued in one transaction
    // (group commit), then answers each, in order; returns how many were
    // answered.
    int deliverQueued();
    RegisterOutcome createAccount(const QString &username, const QString &passwordHash);

private:
    QMutex m_queueMutex;
    struct Queued
    {
        QString queueId;
        NewMessage message;
        Answer done;
    };
    QList<Queued> m_queue;
    bool m_drainScheduled = false;
};
