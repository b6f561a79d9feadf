// mailroom-load: the benchmark load generator for mailroom-smtpd and
// mailroom-webd (bench/run-bench.sh runs the whole matrix).
//
//   mailroom-load smtp --port P --connections C --messages M --size S --starttls --auth USER:PASS ...
//   mailroom-load smtp --port P --one-per-connection --connections C --total N ...
//   mailroom-load web  --port P --user U --password W --connections C --requests N [--list-only]
//   mailroom-load idle --port P --connections N --hold SECONDS [--server-pid PID]
//   mailroom-load table [FILE]          (JSON lines in, a markdown table of medians out)
//
// Every load mode prints one JSON line. Everything runs on one Qt event loop
// with non-blocking sockets, so the generator's own CPU share
// ("generator_cpu", CPU seconds per wall second over the measured window)
// says how much of the machine it took from the server it measures.

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QLocale>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStringList>
#include <QTextStream>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

using namespace Qt::StringLiterals;

namespace {

// ---------------------------------------------------------------- measuring

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
    [[nodiscard]] QByteArray toJson() const
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

private:
    QList<std::pair<QString, QJsonValue>> m_fields;
};

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
            firstError = u"timed out after %1 s"_s.arg(seconds);
    }
    [[nodiscard]] int exitCode() const { return errors == 0 && !timedOut ? 0 : 1; }
};

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

void addCommon(JsonLine &json, const Common &common)
{
    if (!common.label.isEmpty())
        json.add(u"scenario"_s, common.label);
    if (!common.note.isEmpty())
        json.add(u"note"_s, common.note);
}

// TCP_NODELAY: without it a command written right after the TLS Finished
// waits for the server's delayed ACK (Nagle), up to 40 ms a time.
void setLowDelay(QSslSocket *socket)
{
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
}

// ---------------------------------------------------------------- SMTP

struct SmtpReply
{
    int code = 0;
    QList<QByteArray> lines; // text after "250-" / "250 "
};

// RFC 5321 §4.2.1: a reply is one or more whole lines "ddd-text" ending with
// "ddd text". Only complete lines are parsed; a reply split across reads
// waits for the rest.
class SmtpReplyReader
{
public:
    void append(const QByteArray &data) { m_buffer += data; }
    [[nodiscard]] bool hasBufferedBytes() const { return m_position < m_buffer.size(); }

    // The next complete reply; nullopt when more bytes are needed or on an
    // error (then `error` is set).
    std::optional<SmtpReply> next(QString *error)
    {
        for (;;) {
            const qsizetype end = m_buffer.indexOf('\n', m_position);
            if (end < 0) {
                m_buffer.remove(0, m_position);
                m_position = 0;
                if (m_buffer.size() > MaxLine)
                    *error = u"reply line over %1 bytes"_s.arg(MaxLine);
                return std::nullopt;
            }
            QByteArray line = m_buffer.mid(m_position, end - m_position);
            m_position = end + 1;
            if (line.endsWith('\r'))
                line.chop(1);
            if (line.size() < 3
                || !std::all_of(line.cbegin(), line.cbegin() + 3, [](char c) { return c >= '0' && c <= '9'; })
                || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
                *error = u"malformed reply line: %1"_s.arg(QString::fromLatin1(line.left(80)));
                return std::nullopt;
            }
            const int code = line.left(3).toInt();
            if (!m_partial.lines.isEmpty() && m_partial.code != code) {
                *error = u"reply code changed inside a multi-line reply: %1"_s.arg(QString::fromLatin1(line.left(80)));
                return std::nullopt;
            }
            m_partial.code = code;
            m_partial.lines.append(line.mid(4));
            if (line.size() == 3 || line[3] == ' ') {
                SmtpReply reply = std::move(m_partial);
                m_partial = {};
                if (m_position == m_buffer.size()) {
                    m_buffer.clear();
                    m_position = 0;
                }
                return reply;
            }
        }
    }

private:
    static constexpr qsizetype MaxLine = 4096;
    QByteArray m_buffer;
    qsizetype m_position = 0;
    SmtpReply m_partial;
};

struct SmtpOptions
{
    bool implicitTls = false;
    bool starttls = false;
    bool pipelining = false;
    bool idle = false; // stop after the (second) EHLO and hold the connection
    QByteArray authPlain; // base64 initial response; empty: no AUTH
    QByteArray from;
    QByteArray to;
    qsizetype size = 1024;
    int messagesPerConnection = 1;
    QByteArray ehloName = "mailroom-load.invalid";
};

// Builds the messages: a valid RFC 5322 message with From: the
// authenticated address and a unique Message-ID, padded to exactly `size`
// bytes with 78-character lines, some starting with a dot (so dot-stuffing
// is exercised), sent dot-stuffed and terminated by <CRLF>.<CRLF>.
class MessageFactory
{
public:
    explicit MessageFactory(const SmtpOptions &options)
        : m_options(options)
        , m_date(QLocale::c().toString(QDateTime::currentDateTimeUtc(), u"ddd, dd MMM yyyy hh:mm:ss"_s).toLatin1()
                 + " +0000")
        , m_runId(QByteArray::number(QCoreApplication::applicationPid()) + '.'
                  + QByteArray::number(QDateTime::currentMSecsSinceEpoch()))
    {
        const QByteArray words = "the quick brown fox jumps over the lazy dog while mailroom counts every byte ";
        while (m_text.size() < LineLength + 1)
            m_text += words;
    }

    // The DATA bytes of message `sequence` of connection `connection`.
    void build(QByteArray &wire, int connection, qint64 sequence) const
    {
        wire.clear();
        wire.reserve(m_options.size + m_options.size / 40 + 64);
        const QByteArray tag = QByteArray::number(connection) + '.' + QByteArray::number(sequence);
        wire += "From: <" + m_options.from + ">\r\nTo: <" + m_options.to + ">\r\nSubject: mailroom-load " + tag
            + "\r\nDate: " + m_date + "\r\nMessage-ID: <" + tag + '.' + m_runId
            + "@mailroom-load.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
        // Unstuffed bytes still to add; the dots added by stuffing don't count.
        qsizetype remaining = m_options.size - wire.size();
        if (remaining <= 0)
            remaining = 2; // one empty body line: as small as a valid message gets
        qsizetype full = remaining / (LineLength + 2);
        qsizetype rest = remaining % (LineLength + 2);
        qsizetype longLine = 0; // a one-byte rest goes into one line a byte longer
        if (rest == 1 && full > 0) {
            longLine = 1;
            rest = 0;
        } else if (rest == 1) {
            rest = 2;
        }
        for (qsizetype i = 0; i < full; ++i)
            appendLine(wire, i, LineLength + (i == 0 ? longLine : 0));
        if (rest >= 2)
            appendLine(wire, full, rest - 2);
        wire += ".\r\n";
    }

private:
    static constexpr qsizetype LineLength = 78;

    void appendLine(QByteArray &wire, qsizetype index, qsizetype length) const
    {
        if (length > 0 && index % 16 == 3) {
            wire += ".."; // a line starting with '.', stuffed (RFC 5321 §4.5.2)
            wire.append(m_text.constData() + 1, length - 1);
        } else {
            wire.append(m_text.constData() + (index % 7), length);
        }
        wire += "\r\n";
    }

    const SmtpOptions &m_options;
    QByteArray m_date;
    QByteArray m_runId;
    QByteArray m_text;
};

// How long each step of the dialogue took (from sending a command, or from
// the connect, to its reply), so that a slow setup or a slow MAIL shows
// where the time goes.
struct PhaseLog
{
    enum Phase { Connect, Greeting, Ehlo, StartTls, TlsHandshake, EhloTls, Auth, Mail, Rcpt, Data, PhaseCount };
    static constexpr const char16_t *Names[PhaseCount] = {u"connect",       u"greeting", u"ehlo", u"starttls",
                                                          u"tls_handshake", u"ehlo_tls", u"auth", u"mail",
                                                          u"rcpt",          u"data"};
    std::array<std::vector<qint64>, PhaseCount> samples;

    // {"connect": p, ...} for the phases seen, in milliseconds.
    [[nodiscard]] QJsonObject percentiles(double percent)
    {
        QJsonObject object;
        for (size_t phase = 0; phase < PhaseCount; ++phase) {
            if (!samples[phase].empty())
                object.insert(QString::fromUtf16(Names[phase]), rounded(percentileMs(samples[phase], percent), 3));
        }
        return object;
    }
};

class SmtpClient;

// What a run learns from its SMTP connections.
class SmtpObserver
{
public:
    virtual ~SmtpObserver() = default;
    // Greeting, EHLO, STARTTLS, EHLO, AUTH done (idle: EHLO after STARTTLS).
    virtual void sessionReady(SmtpClient *client, qint64 setupNs) = 0;
    virtual void messageDone(SmtpClient *client, qint64 latencyNs) = 0;
    // Once per connection: after 221, or on the first error (`error` set).
    virtual void sessionFinished(SmtpClient *client, const QString &error) = 0;
};

// One SMTP connection, driven by the server's replies.
class SmtpClient : public QObject
{
public:
    enum class State {
        Idle, // not started
        Connecting,
        Greeting,
        Ehlo,
        StartTls,
        Handshake,
        EhloTls,
        Auth,
        Ready, // waiting for begin()
        Mail,
        Rcpt,
        Data,
        Body, // end of data sent, waiting for 250
        Holding, // idle mode
        Quit,
        Done,
        Failed,
    };

    SmtpClient(QObject *parent, int id, const SmtpOptions &options, const MessageFactory &factory,
               SmtpObserver *observer, PhaseLog *phases)
        : QObject(parent)
        , m_id(id)
        , m_options(options)
        , m_factory(factory)
        , m_observer(observer)
        , m_phases(phases)
    {
    }

    void start(const Common &common)
    {
        m_startNs = nowNs();
        m_socket = new QSslSocket(this);
        m_socket->setSslConfiguration(common.tls);
        connect(m_socket, &QSslSocket::connected, this, [this] {
            setLowDelay(m_socket);
            // Implicit TLS: the handshake, then the greeting.
            setState(m_options.implicitTls ? State::Handshake : State::Greeting);
        });
        connect(m_socket, &QSslSocket::readyRead, this, &SmtpClient::onReadyRead);
        connect(m_socket, &QSslSocket::encrypted, this, &SmtpClient::onEncrypted);
        connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
            fail(m_socket->errorString());
        });
        connect(m_socket, &QSslSocket::disconnected, this, [this] { fail(u"connection closed by the server"_s); });
        connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            QStringList texts;
            for (const QSslError &error : errors)
                texts.append(error.errorString());
            fail(u"TLS: "_s + texts.join(u"; "_s) + u" (pass --ca-cert FILE or --insecure)"_s);
        });
        m_stateSinceNs = m_startNs;
        m_state = State::Connecting;
        if (m_options.implicitTls)
            m_socket->connectToHostEncrypted(common.host, common.port);
        else
            m_socket->connectToHost(common.host, common.port);
    }

    // Sends the messages (Ready state only).
    void begin()
    {
        if (m_state == State::Ready)
            sendTransaction();
    }

    // Ends an idle connection with QUIT.
    void quit()
    {
        if (m_state == State::Holding)
            sendQuit();
    }

    void abort(const QString &reason) { fail(reason); }

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] int id() const { return m_id; }
    [[nodiscard]] bool reachedReady() const { return m_reachedReady; }
    [[nodiscard]] int undelivered() const { return m_options.messagesPerConnection - m_delivered; }

private:
    void setState(State state)
    {
        const qint64 now = nowNs();
        if (const int phase = phaseOf(m_state); phase >= 0 && state != State::Failed)
            m_phases->samples[size_t(phase)].push_back(now - m_stateSinceNs);
        m_stateSinceNs = now;
        m_state = state;
    }

    static int phaseOf(State state)
    {
        switch (state) {
        case State::Connecting:
            return PhaseLog::Connect;
        case State::Greeting:
            return PhaseLog::Greeting;
        case State::Ehlo:
            return PhaseLog::Ehlo;
        case State::StartTls:
            return PhaseLog::StartTls;
        case State::Handshake:
            return PhaseLog::TlsHandshake;
        case State::EhloTls:
            return PhaseLog::EhloTls;
        case State::Auth:
            return PhaseLog::Auth;
        case State::Mail:
            return PhaseLog::Mail;
        case State::Rcpt:
            return PhaseLog::Rcpt;
        case State::Data:
            return PhaseLog::Data;
        default:
            return -1;
        }
    }

    void send(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        // Hand the bytes to the kernel now rather than on a later event-loop
        // pass: lower latency, fewer wake-ups (flush never blocks).
        m_socket->flush();
    }

    void onEncrypted()
    {
        if (m_state != State::Handshake)
            return;
        if (m_options.implicitTls) {
            setState(State::Greeting);
            // The greeting may have come with the end of the handshake.
            if (m_socket->bytesAvailable() > 0)
                onReadyRead();
            return;
        }
        setState(State::EhloTls);
        send("EHLO " + m_options.ehloName + "\r\n");
    }

    void onReadyRead()
    {
        m_reader.append(m_socket->readAll());
        QString error;
        while (m_state != State::Done && m_state != State::Failed) {
            const std::optional<SmtpReply> reply = m_reader.next(&error);
            if (!reply)
                break;
            handle(*reply);
        }
        if (!error.isEmpty())
            fail(error);
    }

    void unexpected(const char *step, const SmtpReply &reply)
    {
        fail(u"unexpected reply to %1: %2 %3"_s.arg(QString::fromLatin1(step))
                 .arg(reply.code)
                 .arg(QString::fromLatin1(reply.lines.value(0).left(120))));
    }

    void afterEhlo(const SmtpReply &reply, bool encrypted)
    {
        if (reply.code != 250)
            return unexpected("EHLO", reply);
        if (!encrypted && m_options.starttls) {
            setState(State::StartTls);
            send("STARTTLS\r\n");
        } else if (m_options.idle) {
            setState(State::Holding);
            m_reachedReady = true;
            m_observer->sessionReady(this, nowNs() - m_startNs);
        } else if (!m_options.authPlain.isEmpty()) {
            setState(State::Auth);
            send("AUTH PLAIN " + m_options.authPlain + "\r\n");
        } else {
            becomeReady();
        }
    }

    void becomeReady()
    {
        setState(State::Ready);
        m_reachedReady = true;
        m_observer->sessionReady(this, nowNs() - m_startNs);
    }

    void handle(const SmtpReply &reply)
    {
        switch (m_state) {
        case State::Greeting:
            if (reply.code != 220)
                return unexpected("the greeting", reply);
            setState(State::Ehlo);
            send("EHLO " + m_options.ehloName + "\r\n");
            return;
        case State::Ehlo:
            return afterEhlo(reply, m_options.implicitTls);
        case State::StartTls:
            if (reply.code != 220)
                return unexpected("STARTTLS", reply);
            // Nothing may follow the 220 in plaintext: it would be read as if
            // it came over TLS (STARTTLS injection, QT64-NOTES).
            if (m_reader.hasBufferedBytes() || m_socket->bytesAvailable() > 0)
                return fail(u"plaintext after the STARTTLS 220 reply"_s);
            setState(State::Handshake);
            m_socket->startClientEncryption();
            return;
        case State::EhloTls:
            return afterEhlo(reply, true);
        case State::Auth:
            if (reply.code != 235)
                return unexpected("AUTH PLAIN", reply);
            return becomeReady();
        case State::Mail:
            if (reply.code != 250)
                return unexpected("MAIL", reply);
            setState(State::Rcpt);
            if (!m_options.pipelining)
                send("RCPT TO:<" + m_options.to + ">\r\n");
            return;
        case State::Rcpt:
            if (reply.code != 250)
                return unexpected("RCPT", reply);
            setState(State::Data);
            if (!m_options.pipelining)
                send("DATA\r\n");
            return;
        case State::Data:
            if (reply.code != 354)
                return unexpected("DATA", reply);
            setState(State::Body);
            m_factory.build(m_wire, m_id, m_sequence++);
            send(m_wire);
            m_endOfDataNs = nowNs();
            return;
        case State::Body:
            if (reply.code != 250)
                return unexpected("the end of data", reply);
            ++m_delivered;
            m_observer->messageDone(this, nowNs() - m_endOfDataNs);
            if (m_state != State::Body)
                return; // the run ended meanwhile
            if (m_delivered < m_options.messagesPerConnection)
                sendTransaction();
            else
                sendQuit();
            return;
        case State::Quit:
            if (reply.code != 221)
                return unexpected("QUIT", reply);
            setState(State::Done);
            m_socket->disconnectFromHost();
            m_observer->sessionFinished(this, QString());
            return;
        case State::Idle:
        case State::Connecting:
        case State::Handshake:
        case State::Ready:
        case State::Holding:
        case State::Done:
        case State::Failed:
            return unexpected("nothing", reply);
        }
    }

    void sendTransaction()
    {
        setState(State::Mail);
        const QByteArray mail
            = "MAIL FROM:<" + m_options.from + "> SIZE=" + QByteArray::number(m_options.size) + "\r\n";
        if (m_options.pipelining) // RFC 2920: DATA ends the group
            send(mail + "RCPT TO:<" + m_options.to + ">\r\nDATA\r\n");
        else
            send(mail);
    }

    void sendQuit()
    {
        setState(State::Quit);
        send("QUIT\r\n");
    }

    void fail(const QString &error)
    {
        if (m_state == State::Done || m_state == State::Failed)
            return;
        setState(State::Failed);
        m_socket->abort();
        m_observer->sessionFinished(this, error);
    }

    int m_id = 0;
    const SmtpOptions &m_options;
    const MessageFactory &m_factory;
    SmtpObserver *m_observer = nullptr;
    PhaseLog *m_phases = nullptr;
    QSslSocket *m_socket = nullptr;
    State m_state = State::Idle;
    qint64 m_stateSinceNs = 0;
    SmtpReplyReader m_reader;
    QByteArray m_wire;
    qint64 m_startNs = 0;
    qint64 m_endOfDataNs = 0;
    qint64 m_sequence = 0;
    int m_delivered = 0;
    bool m_reachedReady = false;
};

// smtp mode: C connections with M messages each (timed from the moment all
// are authenticated), or N one-message connections, C at a time (timed
// from the first connect: the TLS handshake and AUTH are part of it).
class SmtpLoad : public QObject, public SmtpObserver
{
public:
    SmtpLoad(const Common &common, const SmtpOptions &options, int connections, bool onePerConnection, qint64 total)
        : m_common(common)
        , m_options(options)
        , m_factory(m_options)
        , m_connections(connections)
        , m_onePerConnection(onePerConnection)
        , m_expected(onePerConnection ? total : qint64(connections) * options.messagesPerConnection)
        , m_window(common.serverPid)
    {
        m_latencies.reserve(size_t(m_expected));
    }

    void start()
    {
        QTimer::singleShot(m_common.timeoutSeconds * 1000, this, [this] { timeout(); });
        if (m_onePerConnection)
            m_window.start();
        const qint64 first = m_onePerConnection ? std::min<qint64>(m_connections, m_expected) : m_connections;
        for (qint64 i = 0; i < first; ++i)
            launch();
        finishIfDone();
    }


private:
    void launch()
    {
        auto *client = new SmtpClient(this, int(m_launched++), m_options, m_factory, this, &m_phases);
        ++m_open;
        client->start(m_common);
    }

    void sessionReady(SmtpClient *client, qint64 setupNs) override
    {
        m_setup.push_back(setupNs);
        if (m_onePerConnection) {
            client->begin();
            return;
        }
        ++m_ready;
        maybeGo();
    }

    void maybeGo()
    {
        if (m_window.started() || m_ready + m_failedBeforeReady < m_connections)
            return;
        m_window.start();
        const QList<SmtpClient *> clients = findChildren<SmtpClient *>(Qt::FindDirectChildrenOnly);
        for (SmtpClient *client : clients)
            client->begin();
    }

    void messageDone(SmtpClient *, qint64 latencyNs) override
    {
        m_latencies.push_back(latencyNs);
        ++m_delivered;
        ++m_resolved;
        if (m_resolved >= m_expected)
            m_window.stop();
    }

    void sessionFinished(SmtpClient *client, const QString &error) override
    {
        --m_open;
        if (!error.isEmpty()) {
            m_outcome.fail(error);
            m_resolved += client->undelivered();
            if (!client->reachedReady() && !m_onePerConnection) {
                ++m_failedBeforeReady;
                maybeGo();
            }
            if (m_resolved >= m_expected)
                m_window.stop();
        }
        client->deleteLater();
        if (m_onePerConnection && m_launched < m_expected && !m_outcome.timedOut)
            launch();
        finishIfDone();
    }

    void timeout()
    {
        if (m_reported)
            return;
        m_outcome.timeOut(m_common.timeoutSeconds);
        const QList<SmtpClient *> clients = findChildren<SmtpClient *>(Qt::FindDirectChildrenOnly);
        for (SmtpClient *client : clients)
            client->abort(u"timed out"_s);
        finishIfDone();
    }

    void finishIfDone()
    {
        if (m_reported || m_open > 0 || (m_onePerConnection && m_launched < m_expected && !m_outcome.timedOut))
            return;
        m_reported = true;
        if (!m_window.started())
            m_window.start();
        m_window.stop();
        const double seconds = m_window.seconds();
        JsonLine json;
        json.add(u"mode"_s, u"smtp"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_connections)
            .add(u"one_per_connection"_s, m_onePerConnection)
            .add(u"messages"_s, m_delivered)
            .add(u"per_connection"_s, m_options.messagesPerConnection)
            .add(u"attempted"_s, m_expected)
            .add(u"size"_s, m_options.size)
            .add(u"starttls"_s, m_options.starttls)
            .add(u"implicit_tls"_s, m_options.implicitTls)
            .add(u"auth"_s, !m_options.authPlain.isEmpty())
            .add(u"pipelining"_s, m_options.pipelining)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, rounded(seconds > 0 ? double(m_delivered) / seconds : 0.0, 1))
            .add(u"unit"_s, u"msg/s"_s)
            .add(u"p50_ms"_s, rounded(percentileMs(m_latencies, 50), 3))
            .add(u"p99_ms"_s, rounded(percentileMs(m_latencies, 99), 3))
            .add(u"max_ms"_s, rounded(percentileMs(m_latencies, 100), 3))
            .add(u"setup_p50_ms"_s, rounded(percentileMs(m_setup, 50), 3))
            .add(u"setup_p99_ms"_s, rounded(percentileMs(m_setup, 99), 3))
            .add(u"errors"_s, m_outcome.errors);
        addCpu(json, m_window);
        json.add(u"phase_p50_ms"_s, m_phases.percentiles(50)).add(u"phase_p99_ms"_s, m_phases.percentiles(99));
        finishRun(json, m_outcome);
    }

    Common m_common;
    SmtpOptions m_options;
    MessageFactory m_factory;
    int m_connections = 0;
    bool m_onePerConnection = false;
    qint64 m_expected = 0;
    Window m_window;
    qint64 m_launched = 0;
    int m_open = 0;
    int m_ready = 0;
    int m_failedBeforeReady = 0;
    qint64 m_delivered = 0;
    qint64 m_resolved = 0;
    RunOutcome m_outcome;
    bool m_reported = false;
    std::vector<qint64> m_latencies;
    std::vector<qint64> m_setup;
    PhaseLog m_phases;
};

// idle mode: N connections through STARTTLS and the second EHLO, opened at
// most `concurrency` at a time, held for `hold` seconds; with --server-pid
// the server's VmRSS before, once all are up, after the hold and after
// they are closed.
class IdleLoad : public QObject, public SmtpObserver
{
public:
    IdleLoad(const Common &common, const SmtpOptions &options, int connections, int concurrency, double holdSeconds)
        : m_common(common)
        , m_options(options)
        , m_factory(m_options)
        , m_connections(connections)
        , m_concurrency(std::max(1, concurrency))
        , m_holdSeconds(holdSeconds)
        , m_window(common.serverPid)
    {
    }

    void start()
    {
        QTimer::singleShot(m_common.timeoutSeconds * 1000, this, [this] { timeout(); });
        m_rssBefore = processRssKb(m_common.serverPid);
        m_window.start();
        fill();
        checkAllUp();
    }


private:
    void fill()
    {
        while (m_launched < m_connections && m_opening < m_concurrency && !m_holding) {
            auto *client = new SmtpClient(this, m_launched++, m_options, m_factory, this, &m_phases);
            ++m_opening;
            ++m_open;
            client->start(m_common);
        }
    }

    void sessionReady(SmtpClient *, qint64 setupNs) override
    {
        m_setup.push_back(setupNs);
        --m_opening;
        ++m_established;
        fill();
        checkAllUp();
    }

    void messageDone(SmtpClient *, qint64) override { }

    void sessionFinished(SmtpClient *client, const QString &error) override
    {
        --m_open;
        if (!error.isEmpty()) {
            m_outcome.fail(error);
            if (!client->reachedReady())
                --m_opening;
            else if (!m_closing)
                ++m_lostWhileHeld; // the server dropped an idle connection
        }
        client->deleteLater();
        fill();
        checkAllUp();
        if (m_closing && m_open == 0)
            allClosed();
    }

    void checkAllUp()
    {
        if (m_holding || m_launched < m_connections || m_opening > 0)
            return;
        m_holding = true;
        m_window.stop(); // the opening phase
        m_rssUp = processRssKb(m_common.serverPid);
        QTimer::singleShot(qint64(m_holdSeconds * 1000), this, [this] { endHold(); });
    }

    void endHold()
    {
        if (m_closing)
            return;
        m_rssHeld = processRssKb(m_common.serverPid);
        m_stillOpen = m_open;
        m_closing = true;
        const QList<SmtpClient *> clients = findChildren<SmtpClient *>(Qt::FindDirectChildrenOnly);
        for (SmtpClient *client : clients)
            client->quit();
        if (m_open == 0)
            allClosed();
        // Connections that don't answer QUIT within 10 s are counted as errors.
        QTimer::singleShot(10000, this, [this] {
            const QList<SmtpClient *> clients = findChildren<SmtpClient *>(Qt::FindDirectChildrenOnly);
            for (SmtpClient *client : clients)
                client->abort(u"no reply to QUIT"_s);
            allClosed();
        });
    }

    void allClosed()
    {
        if (m_reported)
            return;
        // Let the server release what it frees on close before measuring.
        QTimer::singleShot(1000, this, [this] {
            m_rssClosed = processRssKb(m_common.serverPid);
            report();
        });
        m_reported = true;
    }

    void timeout()
    {
        if (m_reported)
            return;
        m_outcome.timeOut(m_common.timeoutSeconds);
        m_window.stop();
        const QList<SmtpClient *> clients = findChildren<SmtpClient *>(Qt::FindDirectChildrenOnly);
        m_closing = true;
        for (SmtpClient *client : clients)
            client->abort(u"timed out"_s);
        allClosed();
    }

    void report()
    {
        const double seconds = m_window.seconds();
        JsonLine json;
        json.add(u"mode"_s, u"idle"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_connections)
            .add(u"established"_s, m_established)
            .add(u"held"_s, m_stillOpen)
            .add(u"hold_seconds"_s, m_holdSeconds)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, rounded(seconds > 0 ? double(m_established) / seconds : 0.0, 1))
            .add(u"unit"_s, u"conn/s"_s)
            .add(u"p50_ms"_s, rounded(percentileMs(m_setup, 50), 3))
            .add(u"p99_ms"_s, rounded(percentileMs(m_setup, 99), 3))
            .add(u"errors"_s, m_outcome.errors)
            .add(u"dropped_while_held"_s, m_lostWhileHeld);
        addCpu(json, m_window);
        json.add(u"phase_p50_ms"_s, m_phases.percentiles(50)).add(u"phase_p99_ms"_s, m_phases.percentiles(99));
        const auto kb = [](const std::optional<qint64> &value) { return value ? QJsonValue(*value) : QJsonValue(); };
        if (m_rssBefore) {
            json.add(u"rss_before_kb"_s, kb(m_rssBefore))
                .add(u"rss_up_kb"_s, kb(m_rssUp))
                .add(u"rss_held_kb"_s, kb(m_rssHeld))
                .add(u"rss_closed_kb"_s, kb(m_rssClosed));
            if (m_rssHeld && m_stillOpen > 0)
                json.add(u"rss_per_conn_kb"_s, rounded(double(*m_rssHeld - *m_rssBefore) / m_stillOpen, 1));
        }
        finishRun(json, m_outcome);
    }

    Common m_common;
    SmtpOptions m_options;
    MessageFactory m_factory;
    int m_connections = 0;
    int m_concurrency = 50;
    double m_holdSeconds = 0;
    Window m_window;
    int m_launched = 0;
    int m_opening = 0;
    int m_open = 0;
    int m_established = 0;
    int m_stillOpen = 0;
    int m_lostWhileHeld = 0;
    RunOutcome m_outcome;
    bool m_holding = false;
    bool m_closing = false;
    bool m_reported = false;
    std::optional<qint64> m_rssBefore, m_rssUp, m_rssHeld, m_rssClosed;
    std::vector<qint64> m_setup;
    PhaseLog m_phases;
};

// ---------------------------------------------------------------- HTTPS

struct HttpResponse
{
    int status = 0;
    QByteArray body;
    bool close = false;
};

// A minimal HTTP/1.1 response reader: status line, headers, a
// Content-Length body (what mailroom-webd sends); chunked is refused.
class HttpResponseReader
{
public:
    void append(const QByteArray &data) { m_buffer += data; }

    std::optional<HttpResponse> next(QString *error)
    {
        if (m_bodyLength < 0) {
            const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n", m_position);
            if (headEnd < 0) {
                if (m_buffer.size() - m_position > MaxHead)
                    *error = u"response head over %1 bytes"_s.arg(MaxHead);
                compact();
                return std::nullopt;
            }
            const QList<QByteArray> lines = m_buffer.mid(m_position, headEnd - m_position).split('\n');
            m_position = headEnd + 4;
            const QByteArray statusLine = lines.value(0).trimmed();
            if (!statusLine.startsWith("HTTP/1.") || statusLine.size() < 12) {
                *error = u"malformed status line: %1"_s.arg(QString::fromLatin1(statusLine.left(80)));
                return std::nullopt;
            }
            m_current = {};
            m_current.status = statusLine.mid(9, 3).toInt();
            m_bodyLength = 0;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray &line = lines[i];
                const qsizetype colon = line.indexOf(':');
                if (colon < 0)
                    continue;
                const QByteArray name = line.left(colon).trimmed().toLower();
                const QByteArray value = line.mid(colon + 1).trimmed();
                if (name == "content-length") {
                    m_bodyLength = value.toLongLong();
                } else if (name == "connection") {
                    m_current.close = value.toLower() == "close";
                } else if (name == "transfer-encoding") {
                    *error = u"Transfer-Encoding is not supported by this client"_s;
                    return std::nullopt;
                }
            }
        }
        if (m_buffer.size() - m_position < m_bodyLength) {
            compact();
            return std::nullopt;
        }
        m_current.body = m_buffer.mid(m_position, m_bodyLength);
        m_position += m_bodyLength;
        m_bodyLength = -1;
        compact();
        return std::move(m_current);
    }

private:
    void compact()
    {
        if (m_position == 0)
            return;
        m_buffer.remove(0, m_position);
        m_position = 0;
    }

    static constexpr qsizetype MaxHead = 64 * 1024;
    QByteArray m_buffer;
    qsizetype m_position = 0;
    qint64 m_bodyLength = -1; // -1: reading the head
    HttpResponse m_current;
};

enum class WebRequest { List, Fetch };

class WebClient;

class WebObserver
{
public:
    virtual ~WebObserver() = default;
    virtual void sessionReady(WebClient *client) = 0;
    // Whether another request may be made (takes one from the budget).
    virtual bool takeRequest() = 0;
    virtual void requestDone(WebRequest kind, qint64 latencyNs) = 0;
    // Ids seen in the first listing; empty until then.
    virtual const QList<qint64> &messageIds() const = 0;
    [[nodiscard]] virtual bool idsLearnt() const = 0;
    virtual void learnIds(const QByteArray &listing) = 0;
    virtual void sessionFinished(WebClient *client, const QString &error) = 0;
};

struct WebOptions
{
    QByteArray user;
    QByteArray password;
    int limit = 50;
    bool listOnly = false;
    QByteArray folder = "inbox";
};

// One keep-alive HTTPS connection: log in, then list / fetch until the
// run's request budget is spent.
class WebClient : public QObject
{
public:
    enum class State { Idle, Handshake, Login, Ready, List, Fetch, Done, Failed };

    WebClient(QObject *parent, int id, const WebOptions &options, WebObserver *observer)
        : QObject(parent)
        , m_id(id)
        , m_options(options)
        , m_observer(observer)
    {
    }

    void start(const Common &common)
    {
        const QByteArray host
            = common.host.contains(u':') ? '[' + common.host.toLatin1() + ']' : common.host.toLatin1();
        m_hostHeader = "Host: " + host + ':' + QByteArray::number(common.port) + "\r\n";
        m_socket = new QSslSocket(this);
        m_socket->setSslConfiguration(common.tls);
        connect(m_socket, &QSslSocket::connected, this, [this] { setLowDelay(m_socket); });
        connect(m_socket, &QSslSocket::encrypted, this, &WebClient::login);
        connect(m_socket, &QSslSocket::readyRead, this, &WebClient::onReadyRead);
        connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
            fail(m_socket->errorString());
        });
        connect(m_socket, &QSslSocket::disconnected, this, [this] { fail(u"connection closed by the server"_s); });
        connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            QStringList texts;
            for (const QSslError &error : errors)
                texts.append(error.errorString());
            fail(u"TLS: "_s + texts.join(u"; "_s) + u" (pass --ca-cert FILE or --insecure)"_s);
        });
        m_state = State::Handshake;
        m_socket->connectToHostEncrypted(common.host, common.port);
    }

    void begin()
    {
        if (m_state == State::Ready)
            next();
    }

    void abort(const QString &reason) { fail(reason); }
    [[nodiscard]] int id() const { return m_id; }
    // Whether it logged in (a failure after that is not a setup failure).
    [[nodiscard]] bool everReady() const { return m_everReady; }

private:
    void send(const QByteArray &bytes)
    {
        m_sentNs = nowNs();
        m_socket->write(bytes);
        m_socket->flush();
    }

    void login()
    {
        const QByteArray body = QJsonDocument(QJsonObject{{u"username"_s, QString::fromUtf8(m_options.user)},
                                                          {u"password"_s, QString::fromUtf8(m_options.password)}})
                                    .toJson(QJsonDocument::Compact);
        m_state = State::Login;
        send("POST /api/v1/session HTTP/1.1\r\n" + m_hostHeader
             + "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n"
             + body);
    }

    void next()
    {
        if (!m_observer->takeRequest()) {
            m_state = State::Done;
            m_socket->disconnectFromHost();
            m_observer->sessionFinished(this, QString());
            return;
        }
        const QList<qint64> &ids = m_observer->messageIds();
        if (m_state == State::List && !m_options.listOnly && !ids.isEmpty()) {
            m_state = State::Fetch;
            const qint64 id = ids.at(qsizetype(m_fetches++ % quint64(ids.size())));
            send("GET /api/v1/messages/" + QByteArray::number(id) + " HTTP/1.1\r\n" + m_hostHeader + m_authorization
                 + "\r\n");
        } else {
            m_state = State::List;
            send(m_listRequest);
        }
    }

    void onReadyRead()
    {
        m_reader.append(m_socket->readAll());
        QString error;
        while (m_state != State::Done && m_state != State::Failed) {
            std::optional<HttpResponse> response = m_reader.next(&error);
            if (!response)
                break;
            handle(*response);
        }
        if (!error.isEmpty())
            fail(error);
    }

    void handle(const HttpResponse &response)
    {
        const qint64 latency = nowNs() - m_sentNs;
        if (response.close)
            return fail(u"the server closed the keep-alive connection (status %1)"_s.arg(response.status));
        switch (m_state) {
        case State::Login: {
            if (response.status != 200)
                return fail(
                    u"login failed: HTTP %1 %2"_s.arg(response.status).arg(QString::fromUtf8(response.body.left(200))));
            const QByteArray token
                = QJsonDocument::fromJson(response.body).object().value(u"token"_s).toString().toLatin1();
            if (token.isEmpty())
                return fail(u"login answer without a token"_s);
            m_authorization = "Authorization: Bearer " + token + "\r\n";
            m_listRequest = "GET /api/v1/mailboxes/" + m_options.folder + "/messages?limit="
                + QByteArray::number(m_options.limit) + " HTTP/1.1\r\n" + m_hostHeader + m_authorization + "\r\n";
            m_state = State::Ready;
            m_everReady = true;
            m_observer->sessionReady(this);
            return;
        }
        case State::List:
            if (response.status != 200)
                return fail(
                    u"listing: HTTP %1 %2"_s.arg(response.status).arg(QString::fromUtf8(response.body.left(200))));
            // Parsing every listing would add a JSON parse per request to
            // the generator's cost: the ids are learnt once per run.
            if (!m_observer->idsLearnt())
                m_observer->learnIds(response.body);
            m_observer->requestDone(WebRequest::List, latency);
            return next();
        case State::Fetch:
            if (response.status != 200)
                return fail(
                    u"message: HTTP %1 %2"_s.arg(response.status).arg(QString::fromUtf8(response.body.left(200))));
            m_observer->requestDone(WebRequest::Fetch, latency);
            return next();
        case State::Idle:
        case State::Handshake:
        case State::Ready:
        case State::Done:
        case State::Failed:
            return fail(u"unexpected response (status %1)"_s.arg(response.status));
        }
    }

    void fail(const QString &error)
    {
        if (m_state == State::Done || m_state == State::Failed)
            return;
        m_state = State::Failed;
        m_socket->abort();
        m_observer->sessionFinished(this, error);
    }

    int m_id = 0;
    const WebOptions &m_options;
    WebObserver *m_observer = nullptr;
    QSslSocket *m_socket = nullptr;
    State m_state = State::Idle;
    HttpResponseReader m_reader;
    QByteArray m_hostHeader;
    QByteArray m_authorization;
    QByteArray m_listRequest;
    qint64 m_sentNs = 0;
    quint64 m_fetches = 0;
    bool m_everReady = false;
};

// web mode: C keep-alive connections log in; once all are in, N requests
// in all (a listing of the newest `limit`, then one message from it, in
// turn; or listings only), timed from then.
class WebLoad : public QObject, public WebObserver
{
public:
    WebLoad(const Common &common, const WebOptions &options, int connections, qint64 requests)
        : m_common(common)
        , m_options(options)
        , m_connections(connections)
        , m_budget(requests)
        , m_requests(requests)
        , m_window(common.serverPid)
    {
        m_all.reserve(size_t(requests));
    }

    void start()
    {
        QTimer::singleShot(m_common.timeoutSeconds * 1000, this, [this] { timeout(); });
        for (int i = 0; i < m_connections; ++i) {
            auto *client = new WebClient(this, i, m_options, this);
            ++m_open;
            client->start(m_common);
        }
        finishIfDone();
    }


private:
    void sessionReady(WebClient *) override
    {
        ++m_ready;
        maybeGo();
    }

    void maybeGo()
    {
        if (m_window.started() || m_ready + m_failedBeforeReady < m_connections)
            return;
        m_window.start();
        const QList<WebClient *> clients = findChildren<WebClient *>(Qt::FindDirectChildrenOnly);
        for (WebClient *client : clients)
            client->begin();
    }

    bool takeRequest() override
    {
        if (m_budget <= 0 || m_outcome.timedOut)
            return false;
        --m_budget;
        return true;
    }

    void requestDone(WebRequest kind, qint64 latencyNs) override
    {
        m_all.push_back(latencyNs);
        (kind == WebRequest::List ? m_list : m_fetch).push_back(latencyNs);
        if (qint64(m_all.size()) >= m_requests)
            m_window.stop();
    }

    const QList<qint64> &messageIds() const override { return m_ids; }
    bool idsLearnt() const override { return m_idsLearnt; }

    void learnIds(const QByteArray &listing) override
    {
        m_idsLearnt = true;
        const QJsonArray messages = QJsonDocument::fromJson(listing).object().value(u"messages"_s).toArray();
        for (const QJsonValue &message : messages)
            m_ids.append(message.toObject().value(u"id"_s).toInteger());
        m_listingSize = listing.size();
        if (m_ids.isEmpty() && !m_options.listOnly) {
            m_outcome.fail(u"the mailbox is empty: nothing to fetch (fill it first)"_s);
        }
    }

    void sessionFinished(WebClient *client, const QString &error) override
    {
        --m_open;
        if (!error.isEmpty()) {
            m_outcome.fail(error);
            if (!client->everReady()) {
                ++m_failedBeforeReady;
                maybeGo();
            }
        }
        client->deleteLater();
        finishIfDone();
    }

    void timeout()
    {
        if (m_reported)
            return;
        m_outcome.timeOut(m_common.timeoutSeconds);
        const QList<WebClient *> clients = findChildren<WebClient *>(Qt::FindDirectChildrenOnly);
        for (WebClient *client : clients)
            client->abort(u"timed out"_s);
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
        const double seconds = m_window.seconds();
        const auto perSecond
            = [seconds](size_t count) { return rounded(seconds > 0 ? double(count) / seconds : 0.0, 1); };
        const size_t lists = m_list.size();
        const size_t fetches = m_fetch.size();
        JsonLine json;
        json.add(u"mode"_s, u"web"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_connections)
            .add(u"requests"_s, qint64(m_all.size()))
            .add(u"attempted"_s, m_requests)
            .add(u"listings"_s, qint64(lists))
            .add(u"fetches"_s, qint64(fetches))
            .add(u"limit"_s, m_options.limit)
            .add(u"listing_bytes"_s, m_listingSize)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, perSecond(m_all.size()))
            .add(u"unit"_s, u"req/s"_s)
            .add(u"listing_rate"_s, perSecond(lists))
            .add(u"p50_ms"_s, rounded(percentileMs(m_all, 50), 3))
            .add(u"p99_ms"_s, rounded(percentileMs(m_all, 99), 3))
            .add(u"list_p50_ms"_s, rounded(percentileMs(m_list, 50), 3))
            .add(u"list_p99_ms"_s, rounded(percentileMs(m_list, 99), 3));
        if (fetches > 0) {
            json.add(u"fetch_p50_ms"_s, rounded(percentileMs(m_fetch, 50), 3))
                .add(u"fetch_p99_ms"_s, rounded(percentileMs(m_fetch, 99), 3));
        }
        json.add(u"errors"_s, m_outcome.errors);
        addCpu(json, m_window);
        finishRun(json, m_outcome);
    }

    Common m_common;
    WebOptions m_options;
    int m_connections = 0;
    qint64 m_budget = 0;
    qint64 m_requests = 0;
    Window m_window;
    int m_open = 0;
    int m_ready = 0;
    int m_failedBeforeReady = 0;
    RunOutcome m_outcome;
    qint64 m_listingSize = 0;
    bool m_reported = false;
    QList<qint64> m_ids;
    bool m_idsLearnt = false;
    std::vector<qint64> m_all;
    std::vector<qint64> m_list;
    std::vector<qint64> m_fetch;
};

// ---------------------------------------------------------------- table

double median(std::vector<double> values)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const size_t middle = values.size() / 2;
    return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Reads JSON lines and prints one markdown row per scenario: the median of
// each figure over its runs (each column on its own), errors summed.
int printTable(const QString &path)
{
    QFile file;
    if (path.isEmpty() || path == u"-"_s) {
        if (!file.open(stdin, QIODevice::ReadOnly))
            return 2;
    } else {
        file.setFileName(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err() << "mailroom-load: cannot read " << path << ": " << file.errorString() << Qt::endl;
            return 2;
        }
    }
    QStringList order;
    QHash<QString, QList<QJsonObject>> runs;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (!line.startsWith('{'))
            continue;
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        if (object.isEmpty())
            continue;
        QString name = object.value(u"scenario"_s).toString();
        if (name.isEmpty())
            name = object.value(u"mode"_s).toString();
        if (!runs.contains(name))
            order.append(name);
        runs[name].append(object);
    }
    const auto column = [](const QList<QJsonObject> &objects, const QString &key) -> std::optional<double> {
        std::vector<double> values;
        for (const QJsonObject &object : objects) {
            if (object.contains(key))
                values.push_back(object.value(key).toDouble());
        }
        if (values.empty())
            return std::nullopt;
        return median(values);
    };
    const auto cell = [](std::optional<double> value, int decimals) {
        return value ? QLocale::c().toString(*value, 'f', decimals) : u"–"_s;
    };
    QTextStream out(stdout);
    out << "| scenario | runs | rate (median) | p50 ms | p99 ms | errors | generator CPU | server CPU | busiest server "
           "thread | other CPU | RSS/conn KiB | target |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const QString &name : std::as_const(order)) {
        const QList<QJsonObject> &objects = runs[name];
        qint64 errors = 0;
        for (const QJsonObject &object : objects)
            errors += object.value(u"errors"_s).toInteger() + (object.value(u"timed_out"_s).toBool() ? 1 : 0);
        const QString unit = objects.first().value(u"unit"_s).toString();
        out << "| " << name << " | " << objects.size() << " | " << cell(column(objects, u"rate"_s), 0) << ' ' << unit
            << " | " << cell(column(objects, u"p50_ms"_s), 2) << " | " << cell(column(objects, u"p99_ms"_s), 2)
            << " | " << errors << " | " << cell(column(objects, u"generator_cpu"_s), 2) << " | "
            << cell(column(objects, u"server_cpu"_s), 2) << " | "
            << cell(column(objects, u"server_busiest_thread"_s), 2) << " | "
            << cell(column(objects, u"other_cpu"_s), 2) << " | "
            << cell(column(objects, u"rss_per_conn_kb"_s), 1)
            << " | " << objects.first().value(u"note"_s).toString() << " |\n";
    }
    out.flush();
    return 0;
}

// ---------------------------------------------------------------- main

int usageError(const QString &message)
{
    err() << "mailroom-load: " << message << " (see --help)" << Qt::endl;
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"mailroom-load"_s);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Mailroom's benchmark load generator: prints one JSON line per run.\n"
        "Modes: smtp, web, idle; 'table [FILE]' turns JSON lines into a markdown table of medians."_s);
    parser.addHelpOption();
    parser.addPositionalArgument(u"mode"_s, u"smtp | web | idle | table"_s);
    const QCommandLineOption host(u"host"_s, u"Server address (default 127.0.0.1)."_s, u"HOST"_s, u"127.0.0.1"_s);
    const QCommandLineOption port(u"port"_s, u"Server port (required)."_s, u"PORT"_s);
    const QCommandLineOption connections(u"connections"_s,
                                         u"Concurrent connections (default 50; idle: connections to hold)."_s,
                                         u"C"_s, u"50"_s);
    const QCommandLineOption messages(u"messages"_s, u"smtp: messages per connection (default 100)."_s, u"M"_s,
                                      u"100"_s);
    const QCommandLineOption onePer(u"one-per-connection"_s,
                                    u"smtp: one message per connection, --total of them, --connections at a time."_s);
    const QCommandLineOption total(u"total"_s, u"smtp --one-per-connection: messages in all (default 2000)."_s,
                                   u"N"_s, u"2000"_s);
    const QCommandLineOption size(u"size"_s, u"smtp: message size in bytes (default 1024)."_s, u"S"_s, u"1024"_s);
    const QCommandLineOption starttls(u"starttls"_s, u"smtp, idle: upgrade with STARTTLS (idle always does)."_s);
    const QCommandLineOption tls(u"tls"_s, u"smtp: implicit TLS (the --listen-tls port)."_s);
    const QCommandLineOption pipelining(u"pipelining"_s, u"smtp: send MAIL, RCPT and DATA together (RFC 2920)."_s);
    const QCommandLineOption auth(u"auth"_s, u"smtp: AUTH PLAIN with USER:PASS."_s, u"USER:PASS"_s);
    const QCommandLineOption from(u"from"_s, u"smtp: sender address (default USER@DOMAIN of --auth)."_s,
                                  u"ADDRESS"_s);
    const QCommandLineOption to(u"to"_s, u"smtp: recipient (default the sender)."_s, u"ADDRESS"_s);
    const QCommandLineOption domain(u"domain"_s, u"Domain for --from's default (default project.com)."_s,
                                    u"DOMAIN"_s, u"project.com"_s);
    const QCommandLineOption user(u"user"_s, u"web: account name."_s, u"NAME"_s);
    const QCommandLineOption password(u"password"_s, u"web: password."_s, u"PASSWORD"_s);
    const QCommandLineOption requests(u"requests"_s, u"web: requests in all (default 10000)."_s, u"N"_s,
                                      u"10000"_s);
    const QCommandLineOption limit(u"limit"_s, u"web: listing size (default 50)."_s, u"N"_s, u"50"_s);
    const QCommandLineOption listOnly(u"list-only"_s, u"web: listings only (default: a listing, then a message)."_s);
    const QCommandLineOption hold(u"hold"_s, u"idle: seconds to hold the connections (default 10)."_s,
                                  u"SECONDS"_s, u"10"_s);
    const QCommandLineOption concurrency(u"open-concurrency"_s,
                                         u"idle: connections being opened at once (default 50)."_s, u"N"_s,
                                         u"50"_s);
    const QCommandLineOption caCert(u"ca-cert"_s, u"Trust this CA / self-signed certificate (PEM)."_s,
                                    u"FILE"_s);
    const QCommandLineOption insecure(u"insecure"_s, u"Do not verify the server's certificate."_s);
    const QCommandLineOption serverPid(u"server-pid"_s,
                                       u"Also report this process's CPU share (and idle: its VmRSS)."_s, u"PID"_s);
    const QCommandLineOption label(u"label"_s, u"Scenario name put in the JSON line."_s, u"NAME"_s);
    const QCommandLineOption note(u"note"_s, u"Free text put in the JSON line (e.g. the target)."_s, u"TEXT"_s);
    const QCommandLineOption timeout(u"timeout"_s, u"Give up after this many seconds (default 600)."_s,
                                     u"SECONDS"_s, u"600"_s);
    parser.addOptions({host, port, connections, messages, onePer, total, size, starttls, tls, pipelining, auth, from,
                       to, domain, user, password, requests, limit, listOnly, hold, concurrency, caCert, insecure,
                       serverPid, label, note, timeout});
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageError(u"name a mode: smtp, web, idle or table"_s);
    const QString mode = positional.first();
    if (mode == u"table"_s)
        return printTable(positional.value(1));
    if (positional.size() > 1)
        return usageError(u"unexpected argument '%1'"_s.arg(positional.at(1)));
    if (mode != u"smtp"_s && mode != u"web"_s && mode != u"idle"_s)
        return usageError(u"unknown mode '%1'"_s.arg(mode));

    const auto number = [&parser](const QCommandLineOption &option, qint64 minimum) -> std::optional<qint64> {
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value < minimum)
            return std::nullopt;
        return value;
    };
    const auto bad = [](const QCommandLineOption &option) {
        return usageError(u"bad value for --%1"_s.arg(option.names().constFirst()));
    };

    Common common;
    common.host = parser.value(host);
    const auto portValue = number(port, 1);
    if (!portValue || *portValue > 65535)
        return usageError(u"--port is required (1-65535)"_s);
    common.port = quint16(*portValue);
    common.tls = QSslConfiguration::defaultConfiguration();
    if (parser.isSet(caCert)) {
        const QList<QSslCertificate> certificates = QSslCertificate::fromPath(parser.value(caCert));
        if (certificates.isEmpty())
            return usageError(u"no PEM certificate in %1"_s.arg(parser.value(caCert)));
        // Only this CA: a configuration holding the system's hundred-odd CAs
        // costs every new connection a bigger certificate store.
        common.tls.setCaCertificates(certificates);
    }
    if (parser.isSet(insecure))
        common.tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    if (parser.isSet(serverPid)) {
        const auto pid = number(serverPid, 1);
        if (!pid)
            return bad(serverPid);
        common.serverPid = *pid;
    }
    common.label = parser.value(label);
    common.note = parser.value(note);
    const auto timeoutValue = number(timeout, 1);
    if (!timeoutValue)
        return bad(timeout);
    common.timeoutSeconds = int(std::min<qint64>(*timeoutValue, 24 * 3600));
    const auto connectionCount = number(connections, 1);
    if (!connectionCount || *connectionCount > 100000)
        return bad(connections);

    std::unique_ptr<QObject> load;
    if (mode == u"smtp"_s || mode == u"idle"_s) {
        SmtpOptions options;
        options.implicitTls = parser.isSet(tls);
        options.starttls = mode == u"idle"_s ? !options.implicitTls : parser.isSet(starttls);
        if (options.implicitTls && parser.isSet(starttls))
            return usageError(u"--tls and --starttls exclude each other"_s);
        options.pipelining = parser.isSet(pipelining);
        options.idle = mode == u"idle"_s;
        QByteArray address;
        if (parser.isSet(auth)) {
            const QString value = parser.value(auth);
            const qsizetype colon = value.indexOf(u':');
            if (colon <= 0)
                return bad(auth);
            const QByteArray name = value.left(colon).toUtf8();
            const QByteArray plain = QByteArray(1, '\0') + name + '\0' + value.mid(colon + 1).toUtf8();
            options.authPlain = plain.toBase64();
            address = name.contains('@') ? name : name + '@' + parser.value(domain).toUtf8();
        }
        options.from = parser.isSet(from) ? parser.value(from).toUtf8() : address;
        options.to = parser.isSet(to) ? parser.value(to).toUtf8() : options.from;
        if (mode == u"smtp"_s && (options.from.isEmpty() || options.to.isEmpty()))
            return usageError(u"smtp needs --from (or --auth) and --to"_s);
        const auto sizeValue = number(size, 1);
        if (!sizeValue || *sizeValue > 1024LL * 1024 * 1024)
            return bad(size);
        options.size = *sizeValue;
        const bool onePerConnection = parser.isSet(onePer);
        const auto messageCount = number(messages, 1);
        if (!messageCount || *messageCount > 100000000)
            return bad(messages);
        options.messagesPerConnection = onePerConnection ? 1 : int(*messageCount);
        const auto totalValue = number(total, 1);
        if (!totalValue)
            return bad(total);
        if (mode == u"smtp"_s) {
            auto smtp = std::make_unique<SmtpLoad>(common, options, int(*connectionCount), onePerConnection,
                                                   *totalValue);
            QTimer::singleShot(0, smtp.get(), [smtp = smtp.get()] { smtp->start(); });
            load = std::move(smtp);
        } else {
            bool ok = false;
            const double holdValue = parser.value(hold).toDouble(&ok);
            if (!ok || holdValue < 0 || holdValue > 86400)
                return bad(hold);
            const auto concurrencyValue = number(concurrency, 1);
            if (!concurrencyValue)
                return bad(concurrency);
            auto idle = std::make_unique<IdleLoad>(common, options, int(*connectionCount),
                                                   int(std::min<qint64>(*concurrencyValue, 100000)), holdValue);
            QTimer::singleShot(0, idle.get(), [idle = idle.get()] { idle->start(); });
            load = std::move(idle);
        }
    } else {
        WebOptions options;
        options.user = parser.value(user).toUtf8();
        options.password = parser.value(password).toUtf8();
        if (options.user.isEmpty() || !parser.isSet(password))
            return usageError(u"web needs --user and --password"_s);
        const auto limitValue = number(limit, 1);
        if (!limitValue || *limitValue > 500)
            return bad(limit);
        options.limit = int(*limitValue);
        options.listOnly = parser.isSet(listOnly);
        const auto requestCount = number(requests, 1);
        if (!requestCount || *requestCount > 1000000000)
            return bad(requests);
        auto web = std::make_unique<WebLoad>(common, options, int(*connectionCount), *requestCount);
        QTimer::singleShot(0, web.get(), [web = web.get()] { web->start(); });
        load = std::move(web);
    }
    return QCoreApplication::exec();
}
