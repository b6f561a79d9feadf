#include "loads.h"
#include "smtpclient.h"

#include <QTimer>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

// idle mode: N connections through STARTTLS and the second EHLO, opened at
// most `concurrency` at a time, held for `hold` seconds; with --server-pid
// the server's VmRSS before, once all are up, after the hold and after
// they are closed.
class IdleLoad : public HoldRun<SmtpClient>, public SmtpObserver
{
public:
    IdleLoad(const Common &common, const SmtpOptions &options, int connections, int concurrency, double holdSeconds)
        : HoldRun(common)
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
        armTimeout();
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
        closeAll([](SmtpClient *client) { client->quit(); });
    }

    void stopWindows() override { m_window.stop(); }

    void report() override
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
        addRss(json, m_rssHeld, m_stillOpen);
        finishRun(json, m_outcome);
    }

    SmtpOptions m_options;
    MessageFactory m_factory;
    int m_connections = 0;
    int m_concurrency = 50;
    double m_holdSeconds = 0;
    Window m_window;
    int m_launched = 0;
    int m_opening = 0;
    int m_established = 0;
    int m_stillOpen = 0;
    int m_lostWhileHeld = 0;
    bool m_holding = false;
    std::vector<qint64> m_setup;
    PhaseLog m_phases;
};

} // namespace

std::unique_ptr<QObject> startIdleLoad(const Common &common, const SmtpOptions &options, int connections,
                                       int concurrency, double holdSeconds)
{
    return startRun<IdleLoad>(common, options, connections, concurrency, holdSeconds);
}

} // namespace MailroomLoad
