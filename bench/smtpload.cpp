#include "loads.h"
#include "smtpclient.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

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
        abortAll<SmtpClient>(this, u"timed out"_s);
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

} // namespace

std::unique_ptr<QObject> startSmtpLoad(const Common &common, const SmtpOptions &options, int connections,
                                       bool onePerConnection, qint64 total)
{
    return startRun<SmtpLoad>(common, options, connections, onePerConnection, total);
}

} // namespace MailroomLoad
