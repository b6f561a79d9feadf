#include "loads.h"
#include "webclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <vector>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

enum class WebRequest { None, List, Fetch };

// web mode: C keep-alive connections log in; once all are in, N requests
// in all (a listing of the newest `limit`, then one message from it, in
// turn; or listings only), timed from then.
class WebLoad : public ReadyRun<WebSession>, public WebSessionObserver
{
public:
    WebLoad(const Common &common, const WebOptions &options, int connections, qint64 requests)
        : ReadyRun(common, connections)
        , m_options(options)
        , m_budget(requests)
        , m_requests(requests)
        , m_sessions(size_t(connections))
    {
        m_all.reserve(size_t(requests));
        m_listRequest = "/api/v1/mailboxes/" + m_options.folder + "/messages?limit=" + QByteArray::number(m_options.limit);
    }

    void start()
    {
        armTimeout();
        for (int i = 0; i < m_connections; ++i) {
            auto *session = new WebSession(this, i, this);
            ++m_open;
            session->start(m_common, m_options.user, m_options.password);
        }
        finishIfDone();
    }

private:
    void sessionReady(WebSession *) override { connectionReady(); }

    void go() override
    {
        const QList<WebSession *> sessions = findChildren<WebSession *>(Qt::FindDirectChildrenOnly);
        for (WebSession *session : sessions) {
            if (session->idle())
                next(session);
        }
    }

    // A listing, then (unless --list-only) one message of it, in turn.
    void next(WebSession *session)
    {
        if (m_budget <= 0 || m_outcome.timedOut)
            return session->finish();
        --m_budget;
        PerSession &state = m_sessions[size_t(session->id())];
        if (state.last == WebRequest::List && !m_options.listOnly && !m_ids.isEmpty()) {
            state.last = WebRequest::Fetch;
            const qint64 id = m_ids.at(qsizetype(state.fetches++ % quint64(m_ids.size())));
            session->get("/api/v1/messages/" + QByteArray::number(id));
        } else {
            state.last = WebRequest::List;
            session->get(m_listRequest);
        }
    }

    void responseReceived(WebSession *session, const HttpResponse &response, qint64 latencyNs) override
    {
        const WebRequest kind = m_sessions[size_t(session->id())].last;
        if (response.status != 200) {
            return session->abort(u"%1: HTTP %2 %3"_s.arg(kind == WebRequest::List ? u"listing"_s : u"message"_s)
                                      .arg(response.status)
                                      .arg(QString::fromUtf8(response.body.left(200))));
        }
        // Parsing every listing would add a JSON parse per request to the
        // generator's cost: the ids are learnt once per run.
        if (kind == WebRequest::List && !m_idsLearnt)
            learnIds(response.body);
        m_all.push_back(latencyNs);
        (kind == WebRequest::List ? m_list : m_fetch).push_back(latencyNs);
        if (qint64(m_all.size()) >= m_requests)
            m_window.stop();
        next(session);
    }

    void learnIds(const QByteArray &listing)
    {
        m_idsLearnt = true;
        const QJsonArray messages = QJsonDocument::fromJson(listing).object().value(u"messages"_s).toArray();
        for (const QJsonValue &message : messages)
            m_ids.append(message.toObject().value(u"id"_s).toInteger());
        m_listingSize = listing.size();
        if (m_ids.isEmpty() && !m_options.listOnly)
            m_outcome.fail(u"the mailbox is empty: nothing to fetch (fill it first)"_s);
    }

    void sessionFinished(WebSession *session, const QString &error) override
    {
        connectionEnded(session, error, session->everReady());
    }

    void report() override
    {
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

    WebOptions m_options;
    qint64 m_budget = 0;
    qint64 m_requests = 0;
    QByteArray m_listRequest;
    struct PerSession
    {
        WebRequest last = WebRequest::None;
        quint64 fetches = 0;
    };
    std::vector<PerSession> m_sessions; // by session id
    qint64 m_listingSize = 0;
    QList<qint64> m_ids;
    bool m_idsLearnt = false;
    std::vector<qint64> m_all;
    std::vector<qint64> m_list;
    std::vector<qint64> m_fetch;
};

} // namespace

std::unique_ptr<QObject> startWebLoad(const Common &common, const WebOptions &options, int connections,
                                      qint64 requests)
{
    return startRun<WebLoad>(common, options, connections, requests);
}

} // namespace MailroomLoad
