#include "loadcommon.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslSocket>
#include <QStringList>
#include <QTextStream>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

// utime + stime from a /proc/.../stat file (fields 14 and 15).
std::optional<double> statCpuSeconds(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray stat = file.readAll();
    // The command name (field 2) may hold spaces: count fields after its ')'.
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return std::nullopt;
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    if (fields.size() < 13) // fields[0] is field 3 (state)
        return std::nullopt;
    const double ticks = double(sysconf(_SC_CLK_TCK));
    return (fields[11].toDouble() + fields[12].toDouble()) / ticks;
}

} // namespace

// One monotonic clock for every timestamp of the run.
qint64 nowNs()
{
    static const QElapsedTimer clock = [] {
        QElapsedTimer timer;
        timer.start();
        return timer;
    }();
    return clock.nsecsElapsed();
}

double ownCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}


std::optional<double> processCpuSeconds(qint64 pid)
{
    if (pid <= 0)
        return std::nullopt;
    return statCpuSeconds(u"/proc/%1/stat"_s.arg(pid));
}

// CPU seconds the whole machine spent busy (all CPUs), from /proc/stat.
std::optional<double> machineBusySeconds()
{
    QFile file(u"/proc/stat"_s);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QList<QByteArray> fields = file.readLine().simplified().split(' ');
    if (fields.size() < 8 || fields[0] != "cpu")
        return std::nullopt;
    double busy = 0;
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    for (qsizetype i = 1; i <= 8 && i < fields.size(); ++i) {
        if (i != 4 && i != 5)
            busy += fields[i].toDouble();
    }
    return busy / double(sysconf(_SC_CLK_TCK));
}

// CPU seconds of each thread of a process, by thread id.
QHash<QString, double> threadCpuSeconds(qint64 pid)
{
    QHash<QString, double> threads;
    if (pid <= 0)
        return threads;
    const QString tasks = u"/proc/%1/task"_s.arg(pid);
    const QStringList ids = QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &id : ids) {
        if (const auto seconds = statCpuSeconds(tasks + u'/' + id + u"/stat"_s))
            threads.insert(id, *seconds);
    }
    return threads;
}

// VmRSS of another process in KiB, from /proc/PID/status.
std::optional<qint64> processRssKb(qint64 pid)
{
    if (pid <= 0)
        return std::nullopt;
    QFile file(u"/proc/%1/status"_s.arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmRSS:")) {
            const QList<QByteArray> parts = line.simplified().split(' ');
            if (parts.size() >= 2)
                return parts[1].toLongLong();
        }
    }
    return std::nullopt;
}

// Nearest-rank percentile in milliseconds; sorts `samples`.
double percentileMs(std::vector<qint64> &samples, double percent)
{
    if (samples.empty())
        return 0.0;
    std::sort(samples.begin(), samples.end());
    auto rank = qsizetype(std::ceil(percent / 100.0 * double(samples.size())));
    rank = std::clamp<qsizetype>(rank, 1, qsizetype(samples.size()));
    return double(samples[size_t(rank - 1)]) / 1e6;
}

double rounded(double value, int decimals)
{
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}


QByteArray JsonLine::toJson() const
{
    QByteArray out = "{";
    for (const auto &[key, value] : m_fields) {
        if (out.size() > 1)
            out += ',';
        // One-element arrays serialize a single value with Qt's escaping.
        const QByteArray k = QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact);
        const QByteArray v = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
        out += k.mid(1, k.size() - 2) + ':' + v.mid(1, v.size() - 2);
    }
    return out + '}';
}

void printLine(const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

// The CPU shares of a measured window, as every mode reports them.
void addCpu(JsonLine &json, const Window &window)
{
    json.add(u"generator_cpu"_s, rounded(window.generatorCpu(), 3));
    if (const auto server = window.serverCpu())
        json.add(u"server_cpu"_s, rounded(*server, 3));
    if (const auto thread = window.serverBusiestThread())
        json.add(u"server_busiest_thread"_s, rounded(*thread, 3));
    if (const auto other = window.otherCpu())
        json.add(u"other_cpu"_s, rounded(*other, 3));
}


// Ends a mode's result line (how it ended), prints it, and leaves the event
// loop with the run's exit code once the caller has returned.
void finishRun(JsonLine &json, const RunOutcome &outcome)
{
    if (outcome.timedOut)
        json.add(u"timed_out"_s, true);
    if (!outcome.firstError.isEmpty())
        json.add(u"first_error"_s, outcome.firstError);
    printLine(json.toJson());
    QTimer::singleShot(0, qApp, [exitCode = outcome.exitCode()] { QCoreApplication::exit(exitCode); });
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

void addCommon(JsonLine &json, const Common &common)
{
    if (!common.label.isEmpty())
        json.add(u"scenario"_s, common.label);
    if (!common.note.isEmpty())
        json.add(u"note"_s, common.note);
}

QSslSocket *clientSocket(QObject *owner, const Common &common, const std::function<void(const QString &)> &fail)
{
    auto *socket = new QSslSocket(owner);
    socket->setSslConfiguration(common.tls);
    // TCP_NODELAY: without it a command written right after the TLS Finished
    // waits for the server's delayed ACK (Nagle), up to 40 ms a time.
    QObject::connect(socket, &QSslSocket::connected, owner,
                     [socket] { socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); });
    QObject::connect(socket, &QSslSocket::errorOccurred, owner,
                     [socket, fail](QAbstractSocket::SocketError) { fail(socket->errorString()); });
    QObject::connect(socket, &QSslSocket::disconnected, owner,
                     [fail] { fail(QStringLiteral("connection closed by the server")); });
    QObject::connect(socket, &QSslSocket::sslErrors, owner,
                     [fail](const QList<QSslError> &errors) { fail(tlsFailure(errors)); });
    return socket;
}

QString tlsFailure(const QList<QSslError> &errors)
{
    QStringList texts;
    for (const QSslError &error : errors)
        texts.append(error.errorString());
    return u"TLS: "_s + texts.join(u"; "_s) + u" (pass --ca-cert FILE or --insecure)"_s;
}

} // namespace MailroomLoad
