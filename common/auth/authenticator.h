#pragma once

#include "config.h"
#include "throttle.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

class PasswordHasher;
class Store;
struct LoginFailureCounts;

// Unavailable: the store could not be asked (a database that is down): no
// answer about the password, and no failure counted against anyone.
enum class LoginOutcome { Accepted, Rejected, Throttled, Unavailable };

// Checks logins the way docs/PROTOCOL.md §6 asks, for any of the servers:
// from the 10th failure in the window an address is refused without a
// password check; from the 20th failure for one name, answers come after a
// second (never a lock-out); an unknown name costs a full hash like a known
// one. Hashing runs on the thread pool (PasswordHasher); the account lookup
// and the failure counts are indexed queries on the caller's store, on this
// thread: use it only from the thread it lives in, as that store.
//
// Failures are counted in the store (Store::countLoginFailures), so every
// process on one database, on one machine or many, holds to one budget per
// address and per name. Only the checks under way are counted per process:
// a burst that reaches several processes in the same instant, before any of
// its failures is recorded, may get one budget's checks from each. When the
// counts cannot be read the login is Unavailable (not checked, so no guess
// goes uncounted); a failure the store cannot record counts in this process.
//
// A client that logs in again and again (a connection per message) does
// not pay PBKDF2 each time: a verified login is remembered for a few minutes
// as a keyed SHA-256 of the password and the stored hash, under a key made
// fresh for each process. It never holds a password; a password change
// (here or by another process, mailroomctl passwd) changes the stored hash
// and so misses; failures are never remembered.
//
// A stored hash with fewer iterations than configured is hashed anew at the
// account's next successful login (docs/PROTOCOL.md §6; the count can be
// raised later), so that after a raise known names do not answer faster
// than unknown ones, whose check always costs the configured count.
class Authenticator : public QObject
{
    Q_OBJECT
public:
    Authenticator(const Config &config, Store *store, QObject *parent = nullptr);

    // `username` already normalized (Username::fromLogin). The answer comes
    // later, on the event loop, and only while `context` lives.
    void login(const QString &username, const QString &password, const QString &clientAddress, QObject *context,
               std::function<void(LoginOutcome, qint64 accountId)> done);
    static constexpr int RememberSeconds = 300;
    static constexpr int MaxRemembered = 10000;

    // A password check that failed elsewhere (e.g. the current password of
    // a password change) counts like a failed login.
    void recordFailure(const QString &clientAddress, const QString &username);
    // Failures older than the window are deleted from the store at most this often.
    static constexpr qint64 PruneIntervalMs = 60 * 1000;
    // How many PBKDF2 checks were started (a remembered login starts none).
    [[nodiscard]] quint64 passwordChecks() const { return m_passwordChecks; }

private:
    struct Request
    {
        QString username;
        QString password;
        QString clientAddress;
        QPointer<QObject> context;
        std::function<void(LoginOutcome, qint64)> done;
    };
    void handle(Request request);
    void startNextWaiting(const QString &clientAddress);

    struct Pending
    {
        QString clientAddress;
        QString username;
        qint64 accountId = 0; // 0: no such account
        QByteArray rememberKey; // set when the account exists
        QPointer<QObject> context;
        std::function<void(LoginOutcome, qint64)> done;
        // Set only when the stored hash is weaker than configured: the
        // password is needed once more to hash it anew if it matches.
        QString weakHash;
        QString passwordForUpgrade;
    };
    struct Upgrade
    {
        qint64 accountId = 0;
        QString weakHash;
    };
    void onVerified(quint64 ticket, bool matches);
    void onHashed(quint64 ticket, const QString &stronger);
    [[nodiscard]] QByteArray rememberKey(const QString &password, const QString &storedHash) const;
    [[nodiscard]] std::optional<LoginFailureCounts> failures(const QString &clientAddress, const QString &username,
                                                             qint64 now);

    Store *m_store;
    PasswordHasher *m_hasher = nullptr;
    QString m_dummyHash;
    LoginThrottle m_throttle;
    QHash<quint64, Pending> m_pending;
    QHash<quint64, Upgrade> m_upgrades;
    QHash<QString, QList<Request>> m_waiting; // by address: checks that wait for a free slot
    QByteArray m_rememberSecret;              // random, this process only
    QHash<QByteArray, qint64> m_remembered;   // key -> expiry (ms since epoch)
    quint64 m_passwordChecks = 0;
    qint64 m_lastPruneMs = 0;
};
