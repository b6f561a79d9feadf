#include "loads.h"
#include "smtpclient.h"

#include <QJsonArray>
#include <QRandomGenerator>
#include <QTimer>

#include <array>
#include <vector>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

// The appended messages, as APPEND carries them: MessageFactory's, not dot-stuffed.
SmtpOptions messageOptions(const ImapOptions &options)
{
    SmtpOptions message;
    message.from = options.address;
    message.to = options.address;
    message.size = options.appendSize;
    return message;
}

// "[APPENDUID uidvalidity uid]" of APPEND's completion (RFC 4315); 0 without it.
qint64 appendedUid(const QByteArray &text)
{
    const qsizetype code = text.indexOf("[APPENDUID ");
    if (code < 0)
        return 0;
    const QList<QByteArray> words = text.mid(code + 11, text.indexOf(']', code) - code - 11).split(' ');
    return words.size() == 2 ? words[1].toLongLong() : 0;
}

// imap mode: C connections log in; once all are in, each goes round the
// cycle below until `operations` are done (whole cycles: the last ones
// started finish), timed from then.
class ImapLoad : public ReadyRun<ImapClient>, public ImapObserver
{
public:
    enum Op { Select, Headers, Body, Store, Append, Expunge, OpCount };
    static constexpr std::array<const char16_t *, OpCount> Names = {u"select", u"fetch_headers", u"fetch_body",
                                                                    u"store",  u"append",        u"expunge"};

    ImapLoad(const Common &common, const ImapOptions &options, int connections, qint64 operations)
        : ReadyRun(common, connections)
        , m_options(options)
        , m_messageOptions(messageOptions(options))
        , m_factory(m_messageOptions, MessageFactory::Format::Raw)
        , m_budget(operations)
        , m_clients(size_t(connections))
    {
        m_all.reserve(size_t(operations + OpCount * connections));
    }

    void start()
    {
        armTimeout();
        for (int i = 0; i < m_connections; ++i) {
            auto *client = new ImapClient(this, i, m_options.client, this);
            ++m_open;
            client->start(m_common);
        }
        finishIfDone();
    }

private:
    struct PerClient
    {
        int op = Select;
        qint64 message = 0; // the message number of this cycle's FETCH and STORE
        qint64 appended = 0; // the uid of this cycle's APPEND
        qint64 cycles = 0;
    };

    void sessionReady(ImapClient *, qint64 setupNs) override
    {
        m_setup.push_back(setupNs);
        connectionReady();
    }

    void go() override
    {
        const QList<ImapClient *> clients = findChildren<ImapClient *>(Qt::FindDirectChildrenOnly);
        for (ImapClient *client : clients) {
            if (client->reachedReady())
                next(client);
        }
    }

    void next(ImapClient *client)
    {
        PerClient &state = m_clients[size_t(client->id())];
        const qint64 exists = client->exists();
        switch (Op(state.op)) {
        case Select:
            // A cycle is started whole or not at all.
            if (m_budget <= 0 || m_outcome.timedOut)
                return client->logout();
            m_budget -= OpCount;
            m_reserved += OpCount;
            return client->command("SELECT INBOX");
        case Headers:
            return client->command("FETCH " + QByteArray::number(std::max<qint64>(1, exists - m_options.headers + 1))
                                   + ":* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])");
        case Body:
            // Among the messages no connection expunges: the newest (at most
            // one APPEND per connection) may be gone before they are read.
            state.message = 1 + qint64(QRandomGenerator::global()->bounded(quint64(std::max<qint64>(1, exists - m_connections))));
            return client->command("FETCH " + QByteArray::number(state.message) + " BODY.PEEK[]");
        case Store:
            // \Seen set, then cleared the next cycle: every STORE changes a
            // flag (in a folder all read, +FLAGS would change nothing).
            return client->command("STORE " + QByteArray::number(state.message)
                                   + (state.cycles % 2 == 0 ? " +FLAGS (\\Seen)" : " -FLAGS (\\Seen)"));
        case Append:
            m_factory.build(m_message, client->id(), state.cycles);
            return client->command("APPEND INBOX (\\Deleted)", m_message);
        case Expunge:
            return client->command("UID EXPUNGE " + QByteArray::number(state.appended));
        case OpCount:
            break;
        }
    }

    void commandDone(ImapClient *client, const ImapReply &reply, qint64 latencyNs) override
    {
        PerClient &state = m_clients[size_t(client->id())];
        const auto op = Op(state.op);
        const QString name = QString::fromUtf16(Names[size_t(op)]);
        if (!reply.ok())
            return client->abort(name + u": "_s + QString::fromLatin1(reply.status + ' ' + reply.text.left(200)));
        switch (op) {
        case Select:
            if (client->exists() == 0)
                return client->abort(u"the mailbox is empty: nothing to fetch (fill it first)"_s);
            if (m_mailbox == 0)
                m_mailbox = client->exists();
            break;
        case Headers:
            m_headerFetches += reply.fetches;
            m_headerBytes += reply.literalBytes;
            break;
        case Body:
            if (reply.literalBytes == 0)
                return client->abort(u"fetch_body: no message bytes for message %1"_s.arg(state.message));
            m_bodyBytes += reply.literalBytes;
            break;
        case Append:
            state.appended = appendedUid(reply.text);
            if (state.appended == 0)
                return client->abort(u"append: no APPENDUID in "_s + QString::fromLatin1(reply.text.left(200)));
            break;
        case Expunge:
            // The connection's own expunge comes back as "* n EXPUNGE"
            // (others' may come along): none means it was not removed.
            if (reply.expunges == 0)
                ++m_expungeMissed;
            break;
        case Store:
        case OpCount:
            break;
        }
        m_all.push_back(latencyNs);
        m_byOp[size_t(op)].push_back(latencyNs);
        if (++state.op == OpCount) {
            state.op = Select;
            ++state.cycles;
        }
        if (m_budget <= 0 && qint64(m_all.size()) == m_reserved)
            m_window.stop(); // the last cycle ended (LOGOUTs are not timed)
        next(client);
    }

    void sessionFinished(ImapClient *client, const QString &error) override
    {
        connectionEnded(client, error, client->reachedReady());
    }

    void report() override
    {
        const double seconds = m_window.seconds();
        qint64 cycles = 0;
        for (const PerClient &state : m_clients)
            cycles += state.cycles;
        const size_t headerFetches = m_byOp[Headers].size();
        JsonLine json;
        json.add(u"mode"_s, u"imap"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_connections)
            .add(u"operations"_s, qint64(m_all.size()))
            .add(u"cycles"_s, cycles)
            .add(u"mailbox_messages"_s, m_mailbox)
            .add(u"append_size"_s, m_options.appendSize)
            .add(u"implicit_tls"_s, m_options.client.implicitTls)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, rounded(seconds > 0 ? double(m_all.size()) / seconds : 0.0, 1))
            .add(u"unit"_s, u"op/s"_s)
            .add(u"p50_ms"_s, rounded(percentileMs(m_all, 50), 3))
            .add(u"p99_ms"_s, rounded(percentileMs(m_all, 99), 3));
        for (size_t op = 0; op < OpCount; ++op) {
            const QString name = QString::fromUtf16(Names[op]);
            json.add(name + u"_p50_ms"_s, rounded(percentileMs(m_byOp[op], 50), 3))
                .add(name + u"_p99_ms"_s, rounded(percentileMs(m_byOp[op], 99), 3));
        }
        json.add(u"headers_per_fetch"_s, headerFetches ? rounded(double(m_headerFetches) / double(headerFetches), 2) : 0.0)
            .add(u"header_bytes_per_fetch"_s, headerFetches ? qint64(m_headerBytes / qint64(headerFetches)) : 0)
            .add(u"body_bytes_per_fetch"_s, m_byOp[Body].empty() ? 0 : qint64(m_bodyBytes / qint64(m_byOp[Body].size())))
            .add(u"expunges_missed"_s, m_expungeMissed)
            .add(u"setup_p50_ms"_s, rounded(percentileMs(m_setup, 50), 3))
            .add(u"setup_p99_ms"_s, rounded(percentileMs(m_setup, 99), 3))
            .add(u"errors"_s, m_outcome.errors);
        addCpu(json, m_window);
        finishRun(json, m_outcome);
    }

    ImapOptions m_options;
    SmtpOptions m_messageOptions;
    MessageFactory m_factory;
    QByteArray m_message;
    qint64 m_budget = 0;
    std::vector<PerClient> m_clients; // by client id
    qint64 m_reserved = 0; // operations of the cycles started
    qint64 m_mailbox = 0;
    qint64 m_headerFetches = 0;
    qint64 m_headerBytes = 0;
    qint64 m_bodyBytes = 0;
    qint64 m_expungeMissed = 0;
    std::vector<qint64> m_all;
    std::array<std::vector<qint64>, OpCount> m_byOp;
    std::vector<qint64> m_setup;
};

// imap-idle mode: N connections, opened at most `concurrency` at a time,
// each LOGIN, SELECT INBOX and IDLE; with --server-pid the server's VmRSS
// before, once all idle, and after they closed. Then `rounds` messages are
// appended to the inbox on one more connection, one at a time, 1 s apart;
// each is timed from the APPEND being sent until every idle connection has
// said "* n EXISTS" for it.
class ImapIdleLoad : public HoldRun<ImapClient>, public ImapObserver
{
public:
    ImapIdleLoad(const Common &common, const ImapOptions &options, int connections, int concurrency)
        : HoldRun(common)
        , m_options(options)
        , m_messageOptions(messageOptions(options))
        , m_factory(m_messageOptions, MessageFactory::Format::Raw)
        , m_connections(connections)
        , m_concurrency(std::max(1, concurrency))
        , m_opening(common.serverPid)
        , m_waking(common.serverPid)
        , m_clients(size_t(connections))
    {
    }

    void start()
    {
        armTimeout();
        m_rssBefore = processRssKb(m_common.serverPid);
        m_deliverer = new ImapClient(this, Deliverer, m_options.client, this);
        ++m_open;
        m_deliverer->start(m_common);
        m_opening.start();
        fill();
    }

private:
    static constexpr int Deliverer = -1; // the id of the connection that appends
    static constexpr int RoundSeconds = 60; // an idle connection not told by then is an error

    struct PerClient
    {
        bool idling = false;
        qint64 initial = 0; // EXISTS when IDLE began
        int seenRound = -1;
    };

    void fill()
    {
        while (m_launched < m_connections && m_inFlight < m_concurrency && !m_closing) {
            auto *client = new ImapClient(this, m_launched++, m_options.client, this);
            ++m_inFlight;
            ++m_open;
            client->start(m_common);
        }
    }

    void sessionReady(ImapClient *client, qint64 setupNs) override
    {
        if (client->id() == Deliverer)
            return checkAllUp();
        m_setup.push_back(setupNs);
        client->command("SELECT INBOX");
    }

    void commandDone(ImapClient *client, const ImapReply &reply, qint64 latencyNs) override
    {
        if (client->id() == Deliverer) {
            m_appendPending = false;
            if (!reply.ok())
                return client->abort(u"append: "_s + QString::fromLatin1(reply.status + ' ' + reply.text.left(200)));
            m_append.push_back(latencyNs);
            if (std::exchange(m_roundWaiting, false))
                startRound();
            return;
        }
        if (!reply.ok())
            return client->abort(u"SELECT or IDLE: "_s + QString::fromLatin1(reply.status + ' ' + reply.text.left(200)));
        if (m_closing) // IDLE ended by DONE
            return client->logout();
        m_mailbox = std::max(m_mailbox, client->exists());
        client->idle();
    }

    void idling(ImapClient *client) override
    {
        PerClient &state = m_clients[size_t(client->id())];
        state.idling = true;
        state.initial = client->exists();
        --m_inFlight;
        ++m_idle;
        fill();
        checkAllUp();
    }

    void existsChanged(ImapClient *client, qint64 exists) override
    {
        if (client->id() == Deliverer || !m_roundOpen)
            return;
        PerClient &state = m_clients[size_t(client->id())];
        if (!state.idling || state.seenRound >= m_round || exists < state.initial + m_round + 1)
            return;
        state.seenRound = m_round;
        const qint64 latency = nowNs() - m_roundStartNs;
        m_wake.push_back(latency);
        m_roundMaxNs = std::max(m_roundMaxNs, latency);
        if (++m_seenThisRound >= m_idle)
            endRound();
    }

    void sessionFinished(ImapClient *client, const QString &error) override
    {
        --m_open;
        const bool deliverer = client->id() == Deliverer;
        if (!error.isEmpty())
            m_outcome.fail(error);
        if (deliverer) {
            m_deliverer = nullptr;
        } else if (!m_clients[size_t(client->id())].idling) {
            --m_inFlight;
        } else if (!m_closing) {
            --m_idle;
            ++m_lostWhileHeld; // the server dropped an idle connection
        }
        client->deleteLater();
        if (m_closing) {
            if (m_open == 0)
                allClosed();
            return;
        }
        fill();
        checkAllUp();
        if (deliverer && m_allUp)
            finish(); // no more rounds without it
    }

    void checkAllUp()
    {
        if (m_allUp || m_launched < m_connections || m_inFlight > 0 || (m_deliverer && !m_deliverer->reachedReady()))
            return;
        m_allUp = true;
        m_opening.stop();
        if (!m_deliverer)
            return finish();
        // Let the server settle (TLS and login work freed) before its RSS is read.
        QTimer::singleShot(1000, this, [this] {
            m_rssUp = processRssKb(m_common.serverPid);
            m_waking.start();
            startRound();
        });
    }

    void startRound()
    {
        if (m_closing || !m_deliverer)
            return;
        if (m_appendPending) { // the last APPEND's OK is still to come
            m_roundWaiting = true;
            return;
        }
        ++m_round;
        m_roundOpen = true;
        m_seenThisRound = 0;
        m_roundMaxNs = 0;
        m_factory.build(m_message, Deliverer, m_round);
        m_appendPending = true;
        m_roundStartNs = nowNs();
        m_deliverer->command("APPEND INBOX", m_message);
        QTimer::singleShot(RoundSeconds * 1000, this, [this, round = m_round] {
            if (m_round == round)
                endRound();
        });
        if (m_idle == 0)
            endRound();
    }

    void endRound()
    {
        if (!m_roundOpen)
            return;
        m_roundOpen = false;
        m_roundMax.push_back(m_roundMaxNs);
        if (const qint64 missing = m_idle - m_seenThisRound; missing > 0) {
            m_missed += missing;
            m_outcome.fail(u"%1 idle connections were not told of message %2 within %3 s"_s.arg(missing)
                               .arg(m_round + 1)
                               .arg(RoundSeconds));
        }
        if (m_round + 1 < m_options.rounds)
            QTimer::singleShot(1000, this, [this] { startRound(); });
        else
            finish();
    }

    void finish()
    {
        if (m_closing)
            return;
        m_waking.stop();
        m_rssHeld = processRssKb(m_common.serverPid);
        m_stillOpen = m_idle;
        // DONE, then LOGOUT once IDLE completed (commandDone).
        closeAll([](ImapClient *client) { client->id() == Deliverer ? client->logout() : client->endIdle(); });
    }

    void stopWindows() override
    {
        m_opening.stop();
        m_waking.stop();
    }

    void report() override
    {
        const double seconds = m_opening.seconds();
        QJsonArray roundMaxMs;
        for (const qint64 ns : m_roundMax)
            roundMaxMs.append(rounded(double(ns) / 1e6, 1));
        JsonLine json;
        json.add(u"mode"_s, u"imap-idle"_s);
        addCommon(json, m_common);
        json.add(u"connections"_s, m_connections)
            .add(u"established"_s, m_idle + m_lostWhileHeld)
            .add(u"held"_s, m_stillOpen)
            .add(u"mailbox_messages"_s, m_mailbox)
            .add(u"implicit_tls"_s, m_options.client.implicitTls)
            .add(u"seconds"_s, rounded(seconds, 3))
            .add(u"rate"_s, rounded(seconds > 0 ? double(m_setup.size()) / seconds : 0.0, 1))
            .add(u"unit"_s, u"conn/s"_s)
            .add(u"rounds"_s, qint64(m_roundMax.size()))
            .add(u"p50_ms"_s, rounded(percentileMs(m_wake, 50), 3))
            .add(u"p99_ms"_s, rounded(percentileMs(m_wake, 99), 3))
            .add(u"max_ms"_s, rounded(percentileMs(m_wake, 100), 3))
            .add(u"round_max_ms"_s, roundMaxMs)
            .add(u"append_p50_ms"_s, rounded(percentileMs(m_append, 50), 3))
            .add(u"not_told"_s, m_missed)
            .add(u"setup_p50_ms"_s, rounded(percentileMs(m_setup, 50), 3))
            .add(u"setup_p99_ms"_s, rounded(percentileMs(m_setup, 99), 3))
            .add(u"errors"_s, m_outcome.errors)
            .add(u"dropped_while_held"_s, m_lostWhileHeld);
        addCpu(json, m_opening);
        // CPU time over the rounds (the 1 s pauses between them cost next to nothing).
        if (!m_roundMax.empty()) {
            const double perMessage = m_waking.seconds() * 1000 / double(m_roundMax.size());
            json.add(u"generator_cpu_ms_per_message"_s, rounded(m_waking.generatorCpu() * perMessage, 1));
            if (const auto server = m_waking.serverCpu())
                json.add(u"server_cpu_ms_per_message"_s, rounded(*server * perMessage, 1));
        }
        // Per connection: all idle, before any message came.
        addRss(json, m_rssUp, m_idle + m_lostWhileHeld);
        finishRun(json, m_outcome);
    }

    ImapOptions m_options;
    SmtpOptions m_messageOptions;
    MessageFactory m_factory;
    QByteArray m_message;
    int m_connections = 0;
    int m_concurrency = 50;
    Window m_opening; // from the first connect until all are idle
    Window m_waking;  // the rounds
    std::vector<PerClient> m_clients; // by client id
    ImapClient *m_deliverer = nullptr;
    int m_launched = 0;
    int m_inFlight = 0; // started and not idle yet
    int m_idle = 0;
    int m_stillOpen = 0;
    int m_lostWhileHeld = 0;
    bool m_allUp = false;
    qint64 m_mailbox = 0;
    int m_round = -1;
    bool m_roundOpen = false;
    bool m_appendPending = false;
    bool m_roundWaiting = false;
    int m_seenThisRound = 0;
    qint64 m_roundStartNs = 0;
    qint64 m_roundMaxNs = 0;
    qint64 m_missed = 0;
    std::vector<qint64> m_setup;
    std::vector<qint64> m_wake;
    std::vector<qint64> m_roundMax;
    std::vector<qint64> m_append;
};

} // namespace

std::unique_ptr<QObject> startImapLoad(const Common &common, const ImapOptions &options, int connections,
                                       qint64 operations)
{
    return startRun<ImapLoad>(common, options, connections, operations);
}

std::unique_ptr<QObject> startImapIdle(const Common &common, const ImapOptions &options, int connections,
                                       int concurrency)
{
    return startRun<ImapIdleLoad>(common, options, connections, concurrency);
}

} // namespace MailroomLoad

