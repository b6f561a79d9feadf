#pragma once

#include <QBasicTimer>
#include <QObject>

#include <chrono>
#include <functional>

// A connection's idle timeout, restarted by every read and write. Restarting
// only notes the time: the timer underneath is armed once and, when it fires
// before the deadline (which moved on meanwhile), armed again for the rest.
// A QTimer restarted on every step walks its thread's list of all timers
// twice (Qt's timer list is unsorted for removal): with 10,000 connections
// on a thread, waking them all in IDLE spent most of its time there.
class IdleDeadline : public QObject
{
public:
    IdleDeadline(int intervalMs, std::function<void()> expired, QObject *parent = nullptr);

    // Expires intervalMs from now, unless started again or stopped.
    void start();
    void stop() { m_running = false; }
    [[nodiscard]] bool isActive() const { return m_running; }
    // From now on: a running deadline becomes its last start plus this.
    void setInterval(int intervalMs);
    [[nodiscard]] int interval() const { return m_intervalMs; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    using Clock = std::chrono::steady_clock;
    [[nodiscard]] Clock::time_point deadline() const { return m_startedAt + std::chrono::milliseconds(m_intervalMs); }
    void armUntil(Clock::time_point when);

    std::function<void()> m_expired;
    QBasicTimer m_timer;
    Clock::time_point m_startedAt;
    Clock::time_point m_armedUntil; // when m_timer fires, if active
    int m_intervalMs = 0;
    bool m_running = false;
};
