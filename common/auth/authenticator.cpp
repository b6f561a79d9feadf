#include "authenticator.h"

#include "logging.h"
#include "passwords.h"
#include "store.h"
#include "username.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QThread>
#include <QTimer>

Authenticator::Authenticator(const Config &config, Store *store, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_throttle(config.limits.loginWindowSeconds, config.limits.failedLoginsPerAddress,
                 config.limits.failedLoginsPerUsername)
{
    m_hasher = new PasswordHasher(this, config.pbkdf2Iterations);
    connect(m_hasher, &PasswordHasher::verified, this, &Authenticator::onVerified);
    connect(m_hasher, &PasswordHasher::hashed, this, &Authenticator::onHashed);
    // Same cost as a real account's hash, so an unknown name is not faster.
    m_dummyHash = Passwords::unknownAccountHash(config.pbkdf2Iterations);
    m_rememberSecret.resize(32);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(m_rememberSecret.data()), 8);
}

QByteArray Authenticator::rememberKey(const QString &password, const QString &storedHash) const
{
    return QMessageAuthenticationCode::hash(storedHash.toUtf8() + '\0' + password.toUtf8(), m_rememberSecret,
                                            QCryptographicHash::Sha256);
}

void Authenticator::login(const QString &username, const QString &password, const QString &clientAddress,
                          QObject *context, std::function<void(LoginOutcome, qint64)> done)
{
    // The store is this thread's connection, and the counts of checks under way are not locked.
    Q_ASSERT_X(QThread::currentThread() == thread(), "Authenticator::login", "called from another thread");
    handle(Request{username, password, clientAddress, context, std::move(done)});
}

namespace {

// What the shared store keeps of a failed login's name: a valid name as it
// is, anything else only as a hash, since it may be a password typed into
// the wrong field (the servers never log such a name either).
QString storedFailureName(const QString &username)
{
    if (username.isEmpty() || Username::isValid(username))
        return username;
    return QStringLiteral("sha256:")
        + QString::fromLatin1(QCryptographicHash::hash(username.toUtf8(), QCryptographicHash::Sha256).toHex());
}

} // namespace

std::optional<LoginFailureCounts> Authenticator::failures(const QString &clientAddress, const QString &username,
                                                          qint64 now)
{
    return m_store->countLoginFailures(clientAddress, storedFailureName(username), now - m_throttle.windowMs(),
                                       m_throttle.countLimit());
}

void Authenticator::handle(Request request)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // Without the counts nobody can tell whether this address may still
    // try: no check, so no guess goes uncounted (the account lookup would
    // most likely fail the same way).
    const std::optional<LoginFailureCounts> counted = failures(request.clientAddress, request.username, now);
    if (!counted) {
        qCWarning(lcAuth).noquote() << "login check impossible now:" << m_store->lastErrorText();
        QTimer::singleShot(0, this, [context = request.context, done = request.done] {
            if (context)
                done(LoginOutcome::Unavailable, 0);
        });
        return;
    }
    if (m_throttle.addressBlocked(request.clientAddress, counted->byAddress, now)) {
        qCInfo(lcAuth).noquote() << request.clientAddress << "login refused: too many failures from this address";
        QTimer::singleShot(0, this, [context = request.context, done = request.done] {
            if (context)
                done(LoginOutcome::Throttled, 0);
        });
        return;
    }
    std::optional<Account> account =
        request.username.isEmpty() ? std::nullopt : m_store->findAccount(request.username);
    if (!account && !request.username.isEmpty() && m_store->lastError() != Store::Error::NotFound) {
        qCWarning(lcAuth).noquote() << "login check impossible now:" << m_store->lastErrorText();
        QTimer::singleShot(0, this, [context = request.context, done = request.done] {
            if (context)
                done(LoginOutcome::Unavailable, 0);
        });
        return;
    }
    const QByteArray key = account ? rememberKey(request.password, account->passwordHash) : QByteArray();
    if (account) {
        const auto remembered = m_remembered.constFind(key);
        if (remembered != m_remembered.constEnd() && *remembered > now) {
            QTimer::singleShot(0, this, [context = request.context, done = request.done, id = account->id] {
                if (context)
                    done(LoginOutcome::Accepted, id);
            });
            return;
        }
    }
    if (!m_throttle.mayStartAttempt(request.clientAddress, counted->byAddress, now)) {
        m_waiting[request.clientAddress].append(std::move(request)); // its turn comes when a check ends
        return;
    }
    m_throttle.attemptStarted(request.clientAddress);
    ++m_passwordChecks;
    // No password may hold a control character (docs/PROTOCOL.md §6), and
    // HMAC's zero padding would let "secret\0" match "secret": checked against
    // the dummy like an unknown name, so it fails in the same time.
    if (Passwords::containsControlCharacter(request.password))
        account.reset();
    const quint64 ticket = m_hasher->verifyAsync(request.password, account ? account->passwordHash : m_dummyHash);
    Pending pending{request.clientAddress, request.username, account ? account->id : 0, key,
                    request.context, std::move(request.done), {}, {}};
    if (account && Passwords::iterationsOf(account->passwordHash) < m_hasher->iterations()) {
        pending.weakHash = account->passwordHash;
        pending.passwordForUpgrade = request.password;
    }
    m_pending.insert(ticket, std::move(pending));
}

void Authenticator::startNextWaiting(const QString &clientAddress)
{
    auto waiting = m_waiting.find(clientAddress);
    if (waiting == m_waiting.end())
        return;
    // Each waiting request is looked at again: refused now, remembered, started, or waiting on.
    QList<Request> requests = std::exchange(*waiting, {});
    m_waiting.erase(waiting);
    for (Request &request : requests) {
        if (request.context)
            handle(std::move(request));
    }
}

void Authenticator::onVerified(quint64 ticket, bool matches)
{
    Pending pending = m_pending.take(ticket);
    if (!pending.done)
        return;
    m_throttle.attemptFinished(pending.clientAddress);
    // After this one's outcome is counted, below.
    QTimer::singleShot(0, this, [this, address = pending.clientAddress] { startNextWaiting(address); });
    if (matches && pending.accountId != 0) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (m_remembered.size() >= MaxRemembered)
            m_remembered.removeIf([now](const auto &entry) { return entry.value() <= now; });
        if (m_remembered.size() < MaxRemembered)
            m_remembered.insert(pending.rememberKey, now + RememberSeconds * 1000);
        if (!pending.weakHash.isEmpty())
            m_upgrades.insert(m_hasher->hashAsync(pending.passwordForUpgrade), {pending.accountId, pending.weakHash});
        if (pending.context)
            pending.done(LoginOutcome::Accepted, pending.accountId);
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // Counts that cannot be read slow the answer down: never faster than allowed.
    const std::optional<LoginFailureCounts> counted = failures(pending.clientAddress, pending.username, now);
    const bool slowed = !counted || m_throttle.usernameSlowed(pending.username, counted->byUsername, now);
    recordFailure(pending.clientAddress, pending.username);
    // Many failures for one name, from anywhere: answer slowly, never refuse.
    QTimer::singleShot(slowed ? 1000 : 0, this, [pending] {
        if (pending.context)
            pending.done(LoginOutcome::Rejected, 0);
    });
}

void Authenticator::recordFailure(const QString &clientAddress, const QString &username)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!m_store->addLoginFailure(clientAddress, storedFailureName(username), now)) {
        qCWarning(lcAuth).noquote() << "a failed login counts in this process only:" << m_store->lastErrorText();
        m_throttle.addUnrecordedFailure(clientAddress, username, now);
        return;
    }
    // Every process prunes, each at most once a minute, with one range
    // delete on the time index: rows live about a window, whoever wrote them.
    if (now - m_lastPruneMs >= PruneIntervalMs) {
        m_lastPruneMs = now;
        if (!m_store->purgeLoginFailures(now - m_throttle.windowMs()))
            qCWarning(lcAuth).noquote() << "old failed logins not pruned now:" << m_store->lastErrorText();
    }
}

void Authenticator::onHashed(quint64 ticket, const QString &stronger)
{
    const auto upgrade = m_upgrades.constFind(ticket);
    if (upgrade == m_upgrades.constEnd())
        return;
    const Upgrade done = *upgrade;
    m_upgrades.erase(upgrade);
    // Only over the hash that was verified: a password changed meanwhile stays.
    if (m_store->replacePasswordHash(done.accountId, done.weakHash, stronger))
        qCInfo(lcAuth).noquote() << "password hash of account" << done.accountId << "raised to"
                                 << m_hasher->iterations() << "iterations";
}
