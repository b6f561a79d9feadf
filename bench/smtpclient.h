#pragma once

// The SMTP side of mailroom-load: one client connection driven by the
// server's replies, and the messages it sends.

#include "loadcommon.h"
#include "smtpreply.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>

#include <array>
#include <vector>

class QSslSocket;

namespace MailroomLoad {

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
// is exercised), sent dot-stuffed and terminated by <CRLF>.<CRLF>; or, for
// IMAP's APPEND, the same message as it is (Format::Raw).
class MessageFactory
{
public:
    enum class Format { SmtpData, Raw };
    explicit MessageFactory(const SmtpOptions &options, Format format = Format::SmtpData);

    // The DATA bytes (or the message) of message `sequence` of connection `connection`.
    void build(QByteArray &wire, int connection, qint64 sequence) const;

private:
    static constexpr qsizetype LineLength = 78;

    void appendLine(QByteArray &wire, qsizetype index, qsizetype length) const;

    const SmtpOptions &m_options;
    Format m_format = Format::SmtpData;
    QByteArray m_date;
    QByteArray m_runId;
    QByteArray m_text;   // no dot anywhere
    QByteArray m_dotted; // m_text with a dot for its first byte
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
    [[nodiscard]] QJsonObject percentiles(double percent);
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

    void start(const Common &common);

    // Sends the messages (Ready state only).
    void begin();

    // Ends an idle connection with QUIT.
    void quit();
    void abort(const QString &reason) { fail(reason); }

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] int id() const { return m_id; }
    [[nodiscard]] bool reachedReady() const { return m_reachedReady; }
    [[nodiscard]] int undelivered() const { return m_options.messagesPerConnection - m_delivered; }

private:
    void setState(State state);
    static int phaseOf(State state);
    void send(const QByteArray &bytes);
    void onEncrypted();
    void onReadyRead();
    void unexpected(const char *step, const SmtpReply &reply);
    void afterEhlo(const SmtpReply &reply, bool encrypted);
    void becomeReady();
    void handle(const SmtpReply &reply);
    void sendTransaction();
    void sendQuit();
    void fail(const QString &error);

    int m_id = 0;
    const SmtpOptions &m_options;
    const MessageFactory &m_factory;
    SmtpObserver *m_observer = nullptr;
    PhaseLog *m_phases = nullptr;
    QSslSocket *m_socket = nullptr;
    State m_state = State::Idle;
    qint64 m_stateSinceNs = 0;
    SmtpReplyParser m_replies;
    QByteArray m_wire;
    qint64 m_startNs = 0;
    qint64 m_endOfDataNs = 0;
    qint64 m_sequence = 0;
    int m_delivered = 0;
    bool m_reachedReady = false;
};

} // namespace MailroomLoad
