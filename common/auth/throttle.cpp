#include "throttle.h"

#include <limits>

SlidingWindowCounter::SlidingWindowCounter(qint64 windowMs, int maxKeys)
    : m_windowMs(windowMs)
    , m_maxKeys(maxKeys)
{
}

void SlidingWindowCounter::prune(QList<qint64> &events, qint64 nowMs) const
{
    qsizetype expired = 0;
    while (expired < events.size() && events.at(expired) <= nowMs - m_windowMs)
        ++expired;
    events.remove(0, expired);
}

void SlidingWindowCounter::evictStalest()
{
    auto stalest = m_events.end();
    qint64 oldest = std::numeric_limits<qint64>::max();
    for (auto it = m_events.begin(); it != m_events.end(); ++it) {
        const qint64 last = it->isEmpty() ? std::numeric_limits<qint64>::min() : it->last();
        if (last < oldest) {
            oldest = last;
            stalest = it;
        }
    }
    if (stalest != m_events.end())
        m_events.erase(stalest);
}

void SlidingWindowCounter::add(const QString &key, qint64 nowMs)
{
    auto it = m_events.find(key);
    if (it == m_events.end()) {
        if (m_events.size() >= m_maxKeys) {
            // Drop keys whose window has passed first; only then the stalest.
            m_events.removeIf([&](QHash<QString, QList<qint64>>::iterator entry) {
                return entry->isEmpty() || entry->last() <= nowMs - m_windowMs;
            });
            if (m_events.size() >= m_maxKeys)
                evictStalest();
        }
        it = m_events.insert(key, {});
    }
    prune(*it, nowMs);
    it->append(nowMs);
}

int SlidingWindowCounter::count(const QString &key, qint64 nowMs)
{
    auto it = m_events.find(key);
    if (it == m_events.end())
        return 0;
    prune(*it, nowMs);
    if (it->isEmpty()) {
        m_events.erase(it);
        return 0;
    }
    return int(it->size());
}

LoginThrottle::LoginThrottle(int windowSeconds, int failuresPerAddress, int failuresPerUsername)
    : m_windowMs(qint64(windowSeconds) * 1000)
    , m_unrecordedByAddress(m_windowMs)
    , m_unrecordedByUsername(m_windowMs)
    , m_failuresPerAddress(failuresPerAddress)
    , m_failuresPerUsername(failuresPerUsername)
{
}

bool LoginThrottle::addressBlocked(const QString &address, int failures, qint64 nowMs)
{
    // "From the 10th on": nine failures are allowed, the tenth attempt is refused unchecked.
    return failures + m_unrecordedByAddress.count(address, nowMs) >= m_failuresPerAddress - 1;
}

bool LoginThrottle::mayStartAttempt(const QString &address, int failures, qint64 nowMs)
{
    // Checks under way may all still fail: never more of them than failures remain allowed.
    return failures + m_unrecordedByAddress.count(address, nowMs) + m_inFlight.value(address)
        < m_failuresPerAddress - 1;
}

void LoginThrottle::attemptStarted(const QString &address)
{
    ++m_inFlight[address];
}

void LoginThrottle::attemptFinished(const QString &address)
{
    auto it = m_inFlight.find(address);
    if (it != m_inFlight.end() && --*it <= 0)
        m_inFlight.erase(it);
}

bool LoginThrottle::usernameSlowed(const QString &username, int failures, qint64 nowMs)
{
    return failures + m_unrecordedByUsername.count(username, nowMs) >= m_failuresPerUsername - 1;
}

void LoginThrottle::addUnrecordedFailure(const QString &address, const QString &username, qint64 nowMs)
{
    m_unrecordedByAddress.add(address, nowMs);
    m_unrecordedByUsername.add(username, nowMs);
}
