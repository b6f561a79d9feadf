#include "idledeadline.h"

#include <QTimerEvent>

IdleDeadline::IdleDeadline(int intervalMs, std::function<void()> expired, QObject *parent)
    : QObject(parent)
    , m_expired(std::move(expired))
    , m_intervalMs(intervalMs)
{
}

void IdleDeadline::start()
{
    m_startedAt = Clock::now();
    m_running = true;
    // A timer that fires early finds the deadline moved and waits again;
    // one that would fire late (the interval was shortened) is moved.
    if (!m_timer.isActive() || m_armedUntil > deadline())
        armUntil(deadline());
}

void IdleDeadline::setInterval(int intervalMs)
{
    if (intervalMs == m_intervalMs)
        return;
    m_intervalMs = intervalMs;
    if (m_running && (!m_timer.isActive() || m_armedUntil > deadline()))
        armUntil(deadline());
}

void IdleDeadline::armUntil(Clock::time_point when)
{
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(when - Clock::now());
    m_armedUntil = when;
    m_timer.start(std::max<qint64>(0, wait.count()), Qt::CoarseTimer, this);
}

void IdleDeadline::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_timer.stop();
    if (!m_running)
        return;
    if (Clock::now() < deadline()) {
        armUntil(deadline());
        return;
    }
    m_running = false;
    m_expired();
}
