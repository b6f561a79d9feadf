#pragma once

// The modes of mailroom-load. Each start function makes the run, which
// begins once the event loop runs, prints its JSON line at the end and
// leaves the event loop with the run's exit code.

#include "imapclient.h"
#include "loadcommon.h"

#include <QByteArray>
#include <QObject>

#include <memory>

namespace MailroomLoad {

struct SmtpOptions;

// smtp: `connections` connections with options.messagesPerConnection
// messages each, or (onePerConnection) `total` one-message connections.
[[nodiscard]] std::unique_ptr<QObject> startSmtpLoad(const Common &common, const SmtpOptions &options,
                                                     int connections, bool onePerConnection, qint64 total);
// idle: connections through STARTTLS and EHLO, held `holdSeconds`.
[[nodiscard]] std::unique_ptr<QObject> startIdleLoad(const Common &common, const SmtpOptions &options,
                                                     int connections, int concurrency, double holdSeconds);

struct WebOptions
{
    QByteArray user;
    QByteArray password;
    int limit = 50;
    bool listOnly = false;
    QByteArray folder = "inbox";
};

// web: keep-alive connections listing (and fetching) as fast as answered.
[[nodiscard]] std::unique_ptr<QObject> startWebLoad(const Common &common, const WebOptions &options,
                                                    int connections, qint64 requests);

struct WebLatencyOptions
{
    WebOptions heavy;          // the account whose biggest requests keep webd busy
    bool heavyRaw = false;     // fetch the largest message's raw bytes, not the listing
    QByteArray lightUser;      // another account, listed lightly; empty: /healthz only
    QByteArray lightPassword;
    int lightLimit = 10;
    double intervalMs = 20;    // between two light requests of one connection
    double durationSeconds = 10;
    double targetMs = 100;     // the light requests' p99 to stay under
};

// web-latency: `connections` connections make the heaviest requests the
// limits allow while light ones (/healthz, another account's small listing)
// go out at a steady rate; their latency is the figure.
[[nodiscard]] std::unique_ptr<QObject> startWebLatency(const Common &common, const WebLatencyOptions &options,
                                                       int connections);

struct ImapOptions
{
    ImapClientOptions client;
    QByteArray address;      // the account's address, for the appended messages' From and To
    qsizetype appendSize = 2048;
    int headers = 20;        // imap: the newest this many headers, each cycle
    int rounds = 5;          // imap-idle: messages appended, one at a time
};

// imap: C connections log in once, then each goes round SELECT INBOX, FETCH
// of the newest headers, FETCH of one message, STORE of \Seen, APPEND of a
// message flagged \Deleted, UID EXPUNGE of it; `operations` in all.
[[nodiscard]] std::unique_ptr<QObject> startImapLoad(const Common &common, const ImapOptions &options,
                                                     int connections, qint64 operations);
// imap-idle: N connections (LOGIN, SELECT INBOX, IDLE) held; then
// messages appended on another connection, each timed until every idle
// connection has said its EXISTS.
[[nodiscard]] std::unique_ptr<QObject> startImapIdle(const Common &common, const ImapOptions &options,
                                                     int connections, int concurrency);

// table: JSON lines in, a markdown table of the medians per scenario out.
int printTable(const QString &path);
// compare: two files of JSON lines (before, after), one row per scenario.
int printComparison(const QString &beforePath, const QString &afterPath);

} // namespace MailroomLoad
