#pragma once

// What every mode of mailroom-load shares: the clock and the CPU and memory
// readings of a measured window, the JSON result line, how a run ends, the
// options common to all modes.

#include <QByteArray>
#include <QHash>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QSslConfiguration>
#include <QSslError>
#include <QString>
#include <QTimer>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

class QSslSocket;
class QTextStream;

namespace MailroomLoad {

// One monotonic clock for every timestamp of the run.
[[nodiscard]] qint64 nowNs();
[[nodiscard]] double ownCpuSeconds();
[[nodiscard]] std::optional<double> processCpuSeconds(qint64 pid);
// CPU seconds the whole machine spent busy (all CPUs), from /proc/stat.
[[nodiscard]] std::optional<double> machineBusySeconds();
// CPU seconds of each thread of a process, by thread id.
[[nodiscard]] QHash<QString, double> threadCpuSeconds(qint64 pid);
// VmRSS of another process in KiB, from /proc/PID/status.
[[nodiscard]] std::optional<qint64> processRssKb(qint64 pid);

// Wall time, the generator's CPU and (optionally) the server's CPU over
// one measured window.
class Window
{
public:
    explicit Window(qint64 serverPid)
        : m_serverPid(serverPid)
    {
    }
    void start()
    {
        m_startNs = nowNs();
        m_cpuStart = ownCpuSeconds();
        m_serverStart = processCpuSeconds(m_serverPid);
        m_threadsStart = threadCpuSeconds(m_serverPid);
        m_machineStart = machineBusySeconds();
        m_started = true;
    }
    void stop()
    {
        if (!m_started || m_stopped)
            return;
        m_stopNs = nowNs();
        m_cpuStop = ownCpuSeconds();
        m_serverStop = processCpuSeconds(m_serverPid);
        m_threadsStop = threadCpuSeconds(m_serverPid);
        m_machineStop = machineBusySeconds();
        m_stopped = true;
    }
    [[nodiscard]] bool started() const { return m_started; }
    [[nodiscard]] bool stopped() const { return m_stopped; }
    [[nodiscard]] double seconds() const { return m_stopped ? double(m_stopNs - m_startNs) / 1e9 : 0.0; }
    // Shares over a window under a millisecond mean nothing: 0.
    [[nodiscard]] double generatorCpu() const
    {
        return seconds() >= 0.001 ? (m_cpuStop - m_cpuStart) / seconds() : 0.0;
    }
    [[nodiscard]] std::optional<double> serverCpu() const
    {
        if (!m_serverStart || !m_serverStop || seconds() < 0.001)
            return std::nullopt;
        return (*m_serverStop - *m_serverStart) / seconds();
    }
    // CPUs' worth of work done by everything else on the machine (other
    // processes, interrupts) meanwhile: well above 0, the figures are
    // disturbed. With /proc/stat's tick granularity, ±0.05 is noise.
    [[nodiscard]] std::optional<double> otherCpu() const
    {
        if (!m_machineStart || !m_machineStop || seconds() < 0.001)
            return std::nullopt;
        const double machine = (*m_machineStop - *m_machineStart) / seconds();
        return std::max(0.0, machine - generatorCpu() - serverCpu().value_or(0.0));
    }
    // The CPU share of the server's busiest thread: near 1.0, that thread
    // (an event loop, say) is what limits the run.
    [[nodiscard]] std::optional<double> serverBusiestThread() const
    {
        if (m_threadsStop.isEmpty() || seconds() < 0.001)
            return std::nullopt;
        double busiest = 0;
        for (auto it = m_threadsStop.cbegin(); it != m_threadsStop.cend(); ++it)
            busiest = std::max(busiest, it.value() - m_threadsStart.value(it.key(), 0.0));
        return busiest / seconds();
    }

private:
    qint64 m_serverPid = 0;
    bool m_started = false;
    bool m_stopped = false;
    qint64 m_startNs = 0;
    qint64 m_stopNs = 0;
    double m_cpuStart = 0;
    double m_cpuStop = 0;
    std::optional<double> m_serverStart;
    std::optional<double> m_serverStop;
    QHash<QString, double> m_threadsStart;
    QHash<QString, double> m_threadsStop;
    std::optional<double> m_machineStart;
    std::optional<double> m_machineStop;
};


// Nearest-rank percentile in milliseconds; sorts `samples`.
[[nodiscard]] double percentileMs(std::vector<qint64> &samples, double percent);
[[nodiscard]] double rounded(double value, int decimals);

// A JSON object that keeps its keys in insertion order (QJsonObject sorts
// them), so that the line reads in the order of the issue.
class JsonLine
{
public:
    JsonLine &add(const QString &key, const QJsonValue &value)
    {
        m_fields.append({key, value});
        return *this;
    }
    [[nodiscard]] QByteArray toJson() const;

private:
    QList<std::pair<QString, QJsonValue>> m_fields;
};

void printLine(const QByteArray &line);
// The CPU shares of a measured window, as every mode reports them.
void addCpu(JsonLine &json, const Window &window);

// How a run ended: its errors (the first one kept for the report) and
// whether it ran out of time.
struct RunOutcome
{
    qint64 errors = 0;
    QString firstError;
    bool timedOut = false;

    void fail(const QString &error)
    {
        ++errors;
        if (firstError.isEmpty())
            firstError = error;
    }
    void timeOut(int seconds)
    {
        timedOut = true;
        if (firstError.isEmpty())
            firstError = QStringLiteral("timed out after %1 s").arg(seconds);
    }
    [[nodiscard]] int exitCode() const { return errors == 0 && !timedOut ? 0 : 1; }
};

// Ends a mode's result line (how it ended), prints it, and leaves the event
// loop with the run's exit code once the caller has returned.
void finishRun(JsonLine &json, const RunOutcome &outcome);

QTextStream &err();

// Options every load mode shares.
struct Common
{
    QString host;
    quint16 port = 0;
    QSslConfiguration tls;
    qint64 serverPid = 0;
    QString label;
    QString note;
    int timeoutSeconds = 600;
};

void addCommon(JsonLine &json, const Common &common);

// A client connection's socket, child of `owner`: the run's TLS
// configuration, TCP_NODELAY once connected, and the failures every client
// treats alike (a socket error, the server closing, a certificate not
// trusted) handed to `fail`.
[[nodiscard]] QSslSocket *clientSocket(QObject *owner, const Common &common,
                                       const std::function<void(const QString &)> &fail);
// A certificate failure, with the options that get past it.
[[nodiscard]] QString tlsFailure(const QList<QSslError> &errors);
// Aborts every connection of a run (its direct children of that type).
template<typename Connection>
void abortAll(const QObject *run, const QString &reason)
{
    const QList<Connection *> connections = run->findChildren<Connection *>(Qt::FindDirectChildrenOnly);
    for (Connection *connection : connections)
        connection->abort(reason);
}

// A mode's run, started once the event loop runs.
template<typename Run, typename... Arguments>
[[nodiscard]] std::unique_ptr<QObject> startRun(Arguments &&...arguments)
{
    auto run = std::make_unique<Run>(std::forward<Arguments>(arguments)...);
    QTimer::singleShot(0, run.get(), [run = run.get()] { run->start(); });
    return run;
}

// What every mode of connections keeps: its options, its outcome, the
// connections open (counted by the mode), whether it reported, and its
// deadline (--timeout): when it passes, beforeAbort(), then every connection
// still open is aborted (an error each), then afterAbort().
template<typename Connection>
class ConnectionRun : public QObject
{
protected:
    explicit ConnectionRun(const Common &common)
        : m_common(common)
    {
    }

    virtual void beforeAbort() { }
    virtual void afterAbort() = 0;

    void armTimeout()
    {
        QTimer::singleShot(m_common.timeoutSeconds * 1000, this, [this] {
            if (m_reported)
                return;
            m_outcome.timeOut(m_common.timeoutSeconds);
            beforeAbort();
            abortAll<Connection>(this, QStringLiteral("timed out"));
            afterAbort();
        });
    }

    Common m_common;
    RunOutcome m_outcome;
    int m_open = 0;
    bool m_reported = false;
};

// A mode whose connections all get ready (connected, logged in) before its
// measured window starts, and which reports once the last one ended (web,
// imap). The mode opens its connections, hands on their readiness and
// their ends, and says what it does once all are in (go(): the window has
// started) and what it prints (report(): every connection ended, the
// window stopped).
template<typename Connection>
class ReadyRun : public ConnectionRun<Connection>
{
protected:
    using ConnectionRun<Connection>::m_open;
    using ConnectionRun<Connection>::m_outcome;
    using ConnectionRun<Connection>::m_reported;

    ReadyRun(const Common &common, int connections)
        : ConnectionRun<Connection>(common)
        , m_connections(connections)
        , m_window(common.serverPid)
    {
    }

    virtual void go() = 0;
    virtual void report() = 0;

    void connectionReady()
    {
        ++m_ready;
        maybeGo();
    }
    // Once per connection; `wasReady`: it got ready before it ended.
    void connectionEnded(Connection *connection, const QString &error, bool wasReady)
    {
        --m_open;
        if (!error.isEmpty()) {
            m_outcome.fail(error);
            if (!wasReady) {
                ++m_failedBeforeReady;
                maybeGo();
            }
        }
        connection->deleteLater();
        finishIfDone();
    }
    void finishIfDone()
    {
        if (m_reported || m_open > 0)
            return;
        m_reported = true;
        if (!m_window.started())
            m_window.start();
        m_window.stop();
        report();
    }
    void afterAbort() override { finishIfDone(); }

    int m_connections = 0;
    Window m_window;

private:
    void maybeGo()
    {
        if (m_window.started() || m_ready + m_failedBeforeReady < m_connections)
            return;
        m_window.start();
        go();
    }

    int m_ready = 0;
    int m_failedBeforeReady = 0;
};

// A mode that holds its connections and reads the server's VmRSS (idle,
// imap-idle): before they open, once all are up, after the hold, and a
// second after the last one closed (what closing freed given back). It
// ends by closeAll() or its deadline, and reports once the last connection
// ended (the mode calls allClosed()).
template<typename Connection>
class HoldRun : public ConnectionRun<Connection>
{
protected:
    using ConnectionRun<Connection>::m_common;
    using ConnectionRun<Connection>::m_open;
    using ConnectionRun<Connection>::m_reported;

    explicit HoldRun(const Common &common)
        : ConnectionRun<Connection>(common)
    {
    }

    virtual void stopWindows() = 0;
    virtual void report() = 0;

    // `close` asks each connection to end (QUIT, LOGOUT); those still there
    // 10 s later (2 ms a connection when more: ten thousand take their
    // time) are aborted, an error each.
    void closeAll(const std::function<void(Connection *)> &close)
    {
        m_closing = true;
        const QList<Connection *> connections = this->template findChildren<Connection *>(Qt::FindDirectChildrenOnly);
        for (Connection *connection : connections)
            close(connection);
        if (m_open == 0)
            allClosed();
        QTimer::singleShot(std::max<qsizetype>(10000, 2 * connections.size()), this, [this] {
            abortAll<Connection>(this, QStringLiteral("no answer when asked to end"));
            allClosed();
        });
    }
    void allClosed()
    {
        if (std::exchange(m_reported, true))
            return;
        QTimer::singleShot(1000, this, [this] {
            m_rssClosed = processRssKb(m_common.serverPid);
            report();
        });
    }
    void beforeAbort() override
    {
        stopWindows();
        m_closing = true;
    }
    void afterAbort() override { allClosed(); }

    // The readings, and per connection what the server held at `measured`
    // more than before (over `connections`).
    void addRss(JsonLine &json, const std::optional<qint64> &measured, int connections) const
    {
        if (!m_rssBefore)
            return;
        const auto kb = [](const std::optional<qint64> &value) { return value ? QJsonValue(*value) : QJsonValue(); };
        json.add(QStringLiteral("rss_before_kb"), kb(m_rssBefore))
            .add(QStringLiteral("rss_up_kb"), kb(m_rssUp))
            .add(QStringLiteral("rss_held_kb"), kb(m_rssHeld))
            .add(QStringLiteral("rss_closed_kb"), kb(m_rssClosed));
        if (measured && connections > 0)
            json.add(QStringLiteral("rss_per_conn_kb"), rounded(double(*measured - *m_rssBefore) / connections, 1));
    }

    bool m_closing = false;
    std::optional<qint64> m_rssBefore, m_rssUp, m_rssHeld, m_rssClosed;
};

} // namespace MailroomLoad
