#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

// Counts events per key over a sliding time window, in memory (SPEC
// "Throttling": counters live in the process). Memory is bounded: at most
// maxKeys keys, the stalest dropped first.
class SlidingWindowCounter
{
public:
    SlidingWindowCounter(qint64 windowMs, int maxKeys = 100000);

    void add(const QString &key, qint64 nowMs);
    [[nodiscard]] int count(const QString &key, qint64 nowMs);
    [[nodiscard]] int keyCount() const { return int(m_events.size()); }

private:
    void prune(QList<qint64> &events, qint64 nowMs) const;
    void evictStalest();

    qint64 m_windowMs;
    int m_maxKeys;
    QHash<QString, QList<qint64>> m_events;
};

// SPEC's failed-login policy for SMTP, POP3 and HTTPS alike: from the Nth
// failure per client address in the window, logins from it are refused
// unchecked; from the Mth failure per user name (from anywhere), answers are
// delayed, never refused, so no one can lock the real user out.
class LoginThrottle
{
public:
    LoginThrottle(int windowSeconds, int failuresPerAddress, int failuresPerUsername);

    // Refused without a check: enough failures in the window.
    [[nodiscard]] bool addressBlocked(const QString &address, qint64 nowMs);
    // Attempts still being checked count too: otherwise many connections
    // sending a password at the same moment would all be checked before the
    // first failure is known. One that may not start yet waits its turn
    // (it is not refused: they may all be right).
    [[nodiscard]] bool mayStartAttempt(const QString &address, qint64 nowMs);
    [[nodiscard]] bool usernameSlowed(const QString &username, qint64 nowMs);
    void attemptStarted(const QString &address);
    void attemptFinished(const QString &address);
    // A successful login does not reset the address counter (SPEC).
    void recordFailure(const QString &address, const QString &username, qint64 nowMs);

private:
    QHash<QString, int> m_inFlight;
    SlidingWindowCounter m_byAddress;
    SlidingWindowCounter m_byUsername;
    int m_failuresPerAddress;
    int m_failuresPerUsername;
};
