#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

#include <algorithm>

// Counts events per key over a sliding time window, in memory. Memory is
// bounded: at most maxKeys keys, the stalest dropped first.
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

// The failed-login policy of docs/PROTOCOL.md §6, for SMTP, POP3 and HTTPS
// alike: from the Nth failure per client address in the window, logins from
// it are refused unchecked; from the Mth failure per user name (from
// anywhere), answers are delayed, never refused, so no one can lock the real
// user out.
//
// The failures themselves are counted by the store, which every server
// process shares (Store::countLoginFailures); this holds what only this
// process knows: the checks under way here, and the failures the store
// could not record (a full disk, a lost database), which count on here so
// that a store error never opens the door.
class LoginThrottle
{
public:
    LoginThrottle(int windowSeconds, int failuresPerAddress, int failuresPerUsername);

    [[nodiscard]] qint64 windowMs() const { return m_windowMs; }
    // How far the store needs to count to decide.
    [[nodiscard]] int countLimit() const { return std::max(m_failuresPerAddress, m_failuresPerUsername); }

    // `failures`: the store's count in the window, for the address or the
    // name; the failures it could not record are added here.
    // Refused without a check: enough failures in the window.
    [[nodiscard]] bool addressBlocked(const QString &address, int failures, qint64 nowMs);
    // Attempts still being checked count too: otherwise many connections
    // sending a password at the same moment would all be checked before the
    // first failure is known. One that may not start yet waits its turn
    // (it is not refused: they may all be right).
    [[nodiscard]] bool mayStartAttempt(const QString &address, int failures, qint64 nowMs);
    [[nodiscard]] bool usernameSlowed(const QString &username, int failures, qint64 nowMs);
    void attemptStarted(const QString &address);
    void attemptFinished(const QString &address);
    // A failure the store could not record.
    void addUnrecordedFailure(const QString &address, const QString &username, qint64 nowMs);

private:
    qint64 m_windowMs;
    QHash<QString, int> m_inFlight;
    SlidingWindowCounter m_unrecordedByAddress;
    SlidingWindowCounter m_unrecordedByUsername;
    int m_failuresPerAddress;
    int m_failuresPerUsername;
};
