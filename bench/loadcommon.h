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

#include <algorithm>
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

// TCP_NODELAY: without it a command written right after the TLS Finished
// waits for the server's delayed ACK (Nagle), up to 40 ms a time.
void setLowDelay(QSslSocket *socket);
// Aborts every connection of a run (its direct children of that type).
template<typename Connection>
void abortAll(const QObject *run, const QString &reason)
{
    const QList<Connection *> connections = run->findChildren<Connection *>(Qt::FindDirectChildrenOnly);
    for (Connection *connection : connections)
        connection->abort(reason);
}

// A certificate failure, with the options that get past it.
[[nodiscard]] QString tlsFailure(const QList<QSslError> &errors);

} // namespace MailroomLoad
