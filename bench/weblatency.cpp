#include "loads.h"
#include "webclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cmath>
#include <vector>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

// web-latency mode: what one expensive request costs everyone else. K
// connections log in as one account and ask, back to back, for the
// heaviest thing the limits allow (its newest 500 as one listing, or the
// raw bytes of its largest message); meanwhile one connection asks for
// /healthz and (with --light-user) another for a small listing of another
// account, each every --interval ms. A light connection has one request
// out at a time: the turns that pass while it waits are skipped and
// counted (light_turns_skipped), so a stall shows as one slow request plus
// skipped turns. The light requests' latency is the figure (target: p99
// under 100 ms); the heavy rate says the heavy connections were busy
// meanwhile.
class WebLatencyLoad : public QObject, public WebSessionObserver
{
public:
    WebLatencyLoad(const Common &common, const WebLatencyOptions &options, int connections)
        : m_common(common)
        , m_options(options)
        , m_heavyConnections(connections)
        , m_window(common.serverPid)
    {
        m_heavyTarget = "/api/v1/mailboxes/" + m_options.heavy.folder
            + "/messages?limit=" + QByteArray::number(m_options.heavy.limit);
        m_lightTarget = "/api/v1/mailboxes/inbox/messages?limit=" + QByteArray::number(m_options.lightLimit);
        m_intervalNs = qint64(std::llround(m_options.intervalMs * 1e6));
        m_ticker.setTimerType(Qt::PreciseTimer);
        m_ticker.setInterval(std::max(1, int(std::lround(m_options.intervalMs))));
        connect(&m_ticker, &QTimer::timeout, this, [this] { sendLightDue(); });
    }

    void start()
    {
        QTimer::singleShot(m_common.timeoutSeconds * 1000, this, [this] { timeout(); });
        for (int i = 0; i < m_heavyConnections; ++i)
            open(Role::Heavy, m_options.heavy.user, m_options.heavy.password);
        open(Role::Health, {}, {});
        if (!m_options.lightUser.isEmpty())
            open(Role::LightListing, m_options.lightUser, m_options.lightPassword);
    }

private:
    enum class Role { Heavy, Health, LightListing };

    struct PerSession
    {
        Role role = Role::Heavy;
        qint64 nextDueNs = 0; // light ones: when the next request is due
    };

    void open(Role role, const QByteArray &user, const QByteArray &password)
    {
        auto *session = new WebSession(this, int(m_sessions.size()), this);
        m_sessions.push_back({role, 0});
        ++m_open;
        session->start(m_common, user, password);
    }

    [[nodiscard]] Role roleOf(WebSession *session) const { return m_sessions[size_t(session->id())].role; }

    [[nodiscard]] QList<WebSession *> sessions() const
    {
        return findChildren<WebSession *>(Qt::FindDirectChildrenOnly);
    }

    void sessionReady(WebSession *session) override
    {
        ++m_ready;
        if (m_stopping)
            return session->finish();
        // For --heavy raw, the first heavy connection finds the largest
        // message before the clock starts.
        if (m_options.heavyRaw && roleOf(session) == Role::Heavy && !m_probing && m_rawTarget.isEmpty()) {
            m_probing = true;
            session->get("/api/v1/mailboxes/" + m_options.heavy.folder + "/messages?limit=500");
            return;
        }
        maybeGo();
    }

    void maybeGo()
    {
        if (m_window.started() || m_stopping || m_ready + m_failedBeforeReady < int(m_sessions.size())
            || (m_options.heavyRaw && m_rawTarget.isEmpty()))
            return;
        m_window.start();
        const qint64 now = nowNs();
        for (WebSession *session : sessions()) {
            PerSession &state = m_sessions[size_t(session->id())];
            state.nextDueNs = now;
            if (session->idle())
                sendNext(session);
        }
        m_ticker.start();
        QTimer::singleShot(qint64(m_options.durationSeconds * 1000), this, [this] { stop(); });
    }

    // Heavy: the next heavy request at once. Light: every request whose
    // turn has come, one at a time.
    void sendNext(WebSession *session)
    {
        if (m_stopping)
            return session->finish();
        PerSession &state = m_sessions[size_t(session->id())];
        switch (state.role) {
        case Role::Heavy:
            return session->get(m_options.heavyRaw ? m_rawTarget : m_heavyTarget);
        case Role::Health:
        case Role::LightListing: {
            const qint64 now = nowNs();
            if (state.nextDueNs > now)
                return;
            session->get(state.role == Role::Health ? QByteArrayLiteral("/healthz") : m_lightTarget);
            for (state.nextDueNs += m_intervalNs; state.nextDueNs <= now; state.nextDueNs += m_intervalNs)
                ++m_skippedTurns;
            return;
        }
        }
    }

    void sendLightDue()
    {
        for (WebSession *session : sessions()) {
            if (session->idle() && roleOf(session) != Role::Heavy)
                sendNext(session);
        }
    }

    void responseReceived(WebSession *session, const HttpResponse &response, qint64 latencyNs) override
    {
        const Role role = roleOf(session);
        if (response.status != 200) {
            return session->abort(u"%1: HTTP %2 %3"_s.arg(describe(role))
                                      .arg(response.status)
                                      .arg(QString::fromUtf8(response.body.left(200))));
        }
        if (m_probing) {
            m_probing = false;
            findLargest(response.body);
            if (m_rawTarget.isEmpty())
                return session->abort(u"the mailbox is empty: nothing to fetch (fill it first)"_s);
            return maybeGo();
        }
        switch (role) {
        case Role::Heavy:
            m_heavy.push_back(latencyNs);
            m_heavyBytes += response.body.size();
            break;
        case Role::Health:
            m_health.push_back(latencyNs);
            m_light.push_back(latencyNs);
            break;
        case Role::LightListing:
            m_listing.push_back(latencyNs);
            m_light.push_back(latencyNs);
            break;
        }
        sendNext(session);
    }

    static QString describe(Role role)
    {
        switch (role) {
        case Role::Heavy:
            return u"heavy request"_s;
        case Role::Health:
            return u"/healthz"_s;
        case Role::LightListing:
            return u"light listing"_s;
        }
        return {};
    }

    void findLargest(const QByteArray &listing)
    {
        const QJsonArray messages = QJsonDocument::fromJson(listing).object().value(u"messages"_s).toArray();
        qint64 largest = -1;
        for (const QJsonValue &value : messages) {
            const QJsonObject message = value.toObject();
            if (message.value(u"size"_s).toInteger() > largest) {
                largest = message.value(u"size"_s).toInteger();
                m_rawTarget = "/api/v1/messages/" + QByteArray::number(message.value(u"id"_s).toInteger()) + "/raw";
            }
        }
    }

    // The measured time is over: each connection ends once its request in
    // flight is answered (counted: it went out within the window).
    void stop()
    {
        if (m_stopping)
            return;
        m_stopping = true;
        m_ticker.stop();
        m_window.stop();
        for (WebSession *session : sessions()) {
            if (session->idle())
                session->finish();
        }
    }

    void sessionFinished(WebSession *session, const QString &error) override
    {
        --m_open;
        if (!error.isEmpty()) {
            m_outcome.fail(error);
            if (!session->everReady()) {
                ++m_failedBeforeReady;
                maybeGo();
            }
            // One connection lost spoils the comparison: end the run.
            stop();
        }
        session->deleteLater();
        if (m_open == 0)
            report();
    }

    void timeout()
    {
        if (m_reported)
            return;
        m_outcome.timeOut(m_common.timeoutSeconds);
        m_ticker.stop();
        abortAll<WebSession>(this, u"timed out"_s);
    }

    void report()
    {
        if (m_reported)
            return;
        m_reported = true;
        if (!m_window.started())
            m_window.start();
        m_window.stop();
        const double seconds = m_window.seconds();
        const auto perSecond = [seconds](size_t count) { return rounded(seconds > 0 ? double(count) / seconds : 0.0, 1); };
        const double p99 = percentileMs(m_light, 99);
        JsonLine json;
        json.add(u"mode"_s, u"web-latency"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_heavyConnections)
            .add(u"heavy"_s, m_options.heavyRaw ? u"raw of the largest message"_s
                                                : u"listing of %1"_s.arg(m_options.heavy.limit))
            .add(u"heavy_requests"_s, qint64(m_heavy.size()))
            .add(u"heavy_bytes"_s, m_heavyBytes)
            .add(u"heavy_p50_ms"_s, rounded(percentileMs(m_heavy, 50), 3))
            .add(u"heavy_p99_ms"_s, rounded(percentileMs(m_heavy, 99), 3))
            .add(u"interval_ms"_s, m_options.intervalMs)
            .add(u"light_requests"_s, qint64(m_light.size()))
            .add(u"light_turns_skipped"_s, m_skippedTurns)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, perSecond(m_heavy.size()))
            .add(u"unit"_s, u"heavy req/s"_s)
            .add(u"p50_ms"_s, rounded(percentileMs(m_light, 50), 3))
            .add(u"p99_ms"_s, rounded(p99, 3))
            .add(u"max_ms"_s, rounded(percentileMs(m_light, 100), 3))
            .add(u"healthz_p50_ms"_s, rounded(percentileMs(m_health, 50), 3))
            .add(u"healthz_p99_ms"_s, rounded(percentileMs(m_health, 99), 3))
            .add(u"healthz_max_ms"_s, rounded(percentileMs(m_health, 100), 3));
        if (!m_listing.empty()) {
            json.add(u"light_listing_p50_ms"_s, rounded(percentileMs(m_listing, 50), 3))
                .add(u"light_listing_p99_ms"_s, rounded(percentileMs(m_listing, 99), 3))
                .add(u"light_listing_max_ms"_s, rounded(percentileMs(m_listing, 100), 3));
        }
        // Printed, not enforced: the exit code says only whether the run worked.
        json.add(u"target"_s, u"light requests p99 < %1 ms"_s.arg(m_options.targetMs))
            .add(u"within_target"_s, !m_light.empty() && p99 < m_options.targetMs)
            .add(u"errors"_s, m_outcome.errors);
        addCpu(json, m_window);
        finishRun(json, m_outcome);
    }

    Common m_common;
    WebLatencyOptions m_options;
    int m_heavyConnections = 0;
    Window m_window;
    QTimer m_ticker;
    QByteArray m_heavyTarget;
    QByteArray m_lightTarget;
    QByteArray m_rawTarget;
    qint64 m_intervalNs = 0;
    std::vector<PerSession> m_sessions; // by session id
    int m_open = 0;
    int m_ready = 0;
    int m_failedBeforeReady = 0;
    bool m_probing = false;
    bool m_stopping = false;
    bool m_reported = false;
    RunOutcome m_outcome;
    qint64 m_heavyBytes = 0;
    qint64 m_skippedTurns = 0;
    std::vector<qint64> m_heavy;
    std::vector<qint64> m_light;
    std::vector<qint64> m_health;
    std::vector<qint64> m_listing;
};

} // namespace

std::unique_ptr<QObject> startWebLatency(const Common &common, const WebLatencyOptions &options, int connections)
{
    return startRun<WebLatencyLoad>(common, options, connections);
}

} // namespace MailroomLoad
