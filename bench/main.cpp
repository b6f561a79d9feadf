// mailroom-load: the benchmark load generator for mailroom-smtpd and
// mailroom-webd (bench/run-bench.sh runs the whole matrix).
//
//   mailroom-load smtp --port P --connections C --messages M --size S --starttls --auth USER:PASS ...
//   mailroom-load smtp --port P --one-per-connection --connections C --total N ...
//   mailroom-load web  --port P --user U --password W --connections C --requests N [--list-only]
//   mailroom-load web-latency --port P --user U --password W [--light-user U2 --light-password W2]
//                      [--connections K] [--limit N | --heavy raw] [--interval MS] [--duration S]
//   mailroom-load idle --port P --connections N --hold SECONDS [--server-pid PID]
//   mailroom-load imap --port P [--tls] --user U --password W --connections C --requests N [--size S]
//   mailroom-load imap-idle --port P [--tls] --user U --password W --connections N [--rounds R] [--server-pid PID]
//   mailroom-load table [FILE]          (JSON lines in, a markdown table of medians out)
//   mailroom-load compare BEFORE AFTER  (two such files, before and after side by side)
//
// Every load mode prints one JSON line. Everything runs on one Qt event loop
// with non-blocking sockets, so the generator's own CPU share
// ("generator_cpu", CPU seconds per wall second over the measured window)
// says how much of the machine it took from the server it measures. It
// talks to the servers only over the wire, like any outside client; the
// SMTP, HTTP and IMAP parsers it reads them with are the project's
// (common/smtp, common/http, and the IMAP server's reader of lines and
// literals).

#include "loads.h"
#include "smtpclient.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSslCertificate>
#include <QSslSocket>
#include <QTextStream>

#include <sys/resource.h>

#include <memory>

using namespace Qt::StringLiterals;
using namespace MailroomLoad;

namespace {

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
        "Modes: smtp, web, web-latency, idle, imap, imap-idle; 'table [FILE]' turns JSON lines into a markdown table of medians,\n"
        "'compare BEFORE AFTER' two files of them into one table."_s);
    parser.addHelpOption();
    parser.addPositionalArgument(u"mode"_s, u"smtp | web | web-latency | idle | imap | imap-idle | table | compare"_s);
    const QCommandLineOption host(u"host"_s, u"Server address (default 127.0.0.1)."_s, u"HOST"_s, u"127.0.0.1"_s);
    const QCommandLineOption port(u"port"_s, u"Server port (required)."_s, u"PORT"_s);
    const QCommandLineOption connections(u"connections"_s,
                                         u"Concurrent connections (default 50; idle, imap-idle: connections to "
                                           "hold; web-latency: heavy connections, default 4)."_s,
                                         u"C"_s, u"50"_s);
    const QCommandLineOption messages(u"messages"_s, u"smtp: messages per connection (default 100)."_s, u"M"_s,
                                      u"100"_s);
    const QCommandLineOption onePer(u"one-per-connection"_s,
                                    u"smtp: one message per connection, --total of them, --connections at a time."_s);
    const QCommandLineOption total(u"total"_s, u"smtp --one-per-connection: messages in all (default 2000)."_s,
                                   u"N"_s, u"2000"_s);
    const QCommandLineOption size(u"size"_s, u"smtp: message size in bytes (default 1024; imap: APPEND's, 2048)."_s,
                                  u"S"_s);
    const QCommandLineOption starttls(
        u"starttls"_s, u"smtp, idle, imap: upgrade with STARTTLS (idle and imap do unless --tls)."_s);
    const QCommandLineOption tls(u"tls"_s, u"smtp, idle, imap, imap-idle: implicit TLS (the --listen-tls port)."_s);
    const QCommandLineOption pipelining(u"pipelining"_s, u"smtp: send MAIL, RCPT and DATA together (RFC 2920)."_s);
    const QCommandLineOption auth(u"auth"_s, u"smtp: AUTH PLAIN with USER:PASS."_s, u"USER:PASS"_s);
    const QCommandLineOption from(u"from"_s, u"smtp: sender address (default USER@DOMAIN of --auth)."_s,
                                  u"ADDRESS"_s);
    const QCommandLineOption to(u"to"_s, u"smtp: recipient (default the sender)."_s, u"ADDRESS"_s);
    const QCommandLineOption domain(u"domain"_s, u"Domain for --from's default (default project.com)."_s,
                                    u"DOMAIN"_s, u"project.com"_s);
    const QCommandLineOption user(u"user"_s, u"web, web-latency, imap, imap-idle: account name."_s, u"NAME"_s);
    const QCommandLineOption password(u"password"_s, u"web, web-latency, imap, imap-idle: password."_s,
                                      u"PASSWORD"_s);
    const QCommandLineOption requests(u"requests"_s,
                                      u"web: requests in all; imap: operations, in whole cycles (default 10000)."_s,
                                      u"N"_s, u"10000"_s);
    const QCommandLineOption headers(u"headers"_s, u"imap: the newest N headers fetched each cycle (default 20)."_s,
                                     u"N"_s, u"20"_s);
    const QCommandLineOption rounds(u"rounds"_s,
                                    u"imap-idle: messages appended one at a time while they idle (default 5)."_s,
                                    u"N"_s, u"5"_s);
    const QCommandLineOption limit(u"limit"_s, u"web: listing size (default 50; web-latency: 500)."_s, u"N"_s);
    const QCommandLineOption listOnly(u"list-only"_s, u"web: listings only (default: a listing, then a message)."_s);
    const QCommandLineOption heavy(u"heavy"_s,
                                   u"web-latency: what the heavy connections ask for: list (the listing of "
                                   "--limit, default) or raw (the largest message's bytes)."_s,
                                   u"list|raw"_s, u"list"_s);
    const QCommandLineOption lightUser(u"light-user"_s,
                                       u"web-latency: another account whose small listing is timed too."_s,
                                       u"NAME"_s);
    const QCommandLineOption lightPassword(u"light-password"_s, u"web-latency: its password."_s, u"PASSWORD"_s);
    const QCommandLineOption interval(u"interval"_s,
                                      u"web-latency: ms between two light requests of a connection (default 20)."_s,
                                      u"MS"_s, u"20"_s);
    const QCommandLineOption duration(u"duration"_s, u"web-latency: seconds measured (default 10)."_s,
                                      u"SECONDS"_s, u"10"_s);
    const QCommandLineOption hold(u"hold"_s, u"idle: seconds to hold the connections (default 10)."_s,
                                  u"SECONDS"_s, u"10"_s);
    const QCommandLineOption concurrency(u"open-concurrency"_s,
                                         u"idle, imap-idle: connections being opened at once (default 50)."_s, u"N"_s,
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
                       to, domain, user, password, requests, headers, rounds, limit, listOnly, heavy, lightUser, lightPassword,
                       interval, duration, hold, concurrency, caCert, insecure, serverPid, label, note, timeout});
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageError(u"name a mode: smtp, web, web-latency, idle, imap, imap-idle, table or compare"_s);
    const QString mode = positional.first();
    if (mode == u"table"_s)
        return printTable(positional.value(1));
    if (mode == u"compare"_s) {
        if (positional.size() != 3)
            return usageError(u"compare needs two files: BEFORE AFTER"_s);
        return printComparison(positional.at(1), positional.at(2));
    }
    if (positional.size() > 1)
        return usageError(u"unexpected argument '%1'"_s.arg(positional.at(1)));
    if (mode != u"smtp"_s && mode != u"web"_s && mode != u"web-latency"_s && mode != u"idle"_s && mode != u"imap"_s
        && mode != u"imap-idle"_s)
        return usageError(u"unknown mode '%1'"_s.arg(mode));

    // Every connection is a descriptor: thousands of idle ones need the
    // hard limit, whatever soft limit the shell gave.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

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
    const auto connectionCount = mode == u"web-latency"_s && !parser.isSet(connections) ? std::optional<qint64>(4)
                                                                                          : number(connections, 1);
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
        const auto sizeValue = parser.isSet(size) ? number(size, 1) : std::optional<qint64>(1024);
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
            load = startSmtpLoad(common, options, int(*connectionCount), onePerConnection, *totalValue);
        } else {
            bool ok = false;
            const double holdValue = parser.value(hold).toDouble(&ok);
            if (!ok || holdValue < 0 || holdValue > 86400)
                return bad(hold);
            const auto concurrencyValue = number(concurrency, 1);
            if (!concurrencyValue)
                return bad(concurrency);
            load = startIdleLoad(common, options, int(*connectionCount),
                                 int(std::min<qint64>(*concurrencyValue, 100000)), holdValue);
        }
    } else if (mode == u"imap"_s || mode == u"imap-idle"_s) {
        ImapOptions options;
        options.client.implicitTls = parser.isSet(tls);
        if (options.client.implicitTls && parser.isSet(starttls))
            return usageError(u"--tls and --starttls exclude each other"_s);
        options.client.user = parser.value(user).toUtf8();
        options.client.password = parser.value(password).toUtf8();
        if (options.client.user.isEmpty() || !parser.isSet(password))
            return usageError(u"%1 needs --user and --password"_s.arg(mode));
        options.address = options.client.user.contains('@') ? options.client.user
                                                             : options.client.user + '@' + parser.value(domain).toUtf8();
        const auto sizeValue = parser.isSet(size) ? number(size, 1) : std::optional<qint64>(2048);
        if (!sizeValue || *sizeValue > 25 * 1024 * 1024)
            return bad(size);
        options.appendSize = *sizeValue;
        const auto headerCount = number(headers, 1);
        if (!headerCount || *headerCount > 100000)
            return bad(headers);
        options.headers = int(*headerCount);
        const auto roundCount = number(rounds, 1);
        if (!roundCount || *roundCount > 10000)
            return bad(rounds);
        options.rounds = int(*roundCount);
        if (mode == u"imap"_s) {
            const auto operations = number(requests, 1);
            if (!operations || *operations > 1000000000)
                return bad(requests);
            load = startImapLoad(common, options, int(*connectionCount), *operations);
        } else {
            const auto concurrencyValue = number(concurrency, 1);
            if (!concurrencyValue)
                return bad(concurrency);
            load = startImapIdle(common, options, int(*connectionCount), int(std::min<qint64>(*concurrencyValue, 100000)));
        }
    } else {
        WebOptions options;
        options.user = parser.value(user).toUtf8();
        options.password = parser.value(password).toUtf8();
        if (options.user.isEmpty() || !parser.isSet(password))
            return usageError(u"%1 needs --user and --password"_s.arg(mode));
        const bool latency = mode == u"web-latency"_s;
        const auto limitValue = parser.isSet(limit) ? number(limit, 1) : std::optional<qint64>(latency ? 500 : 50);
        if (!limitValue || *limitValue > 500)
            return bad(limit);
        options.limit = int(*limitValue);
        options.listOnly = parser.isSet(listOnly);
        if (!latency) {
            const auto requestCount = number(requests, 1);
            if (!requestCount || *requestCount > 1000000000)
                return bad(requests);
            load = startWebLoad(common, options, int(*connectionCount), *requestCount);
        } else {
            WebLatencyOptions latencyOptions;
            latencyOptions.heavy = options;
            if (parser.value(heavy) != u"list"_s && parser.value(heavy) != u"raw"_s)
                return bad(heavy);
            latencyOptions.heavyRaw = parser.value(heavy) == u"raw"_s;
            latencyOptions.lightUser = parser.value(lightUser).toUtf8();
            latencyOptions.lightPassword = parser.value(lightPassword).toUtf8();
            if (!latencyOptions.lightUser.isEmpty() && !parser.isSet(lightPassword))
                return usageError(u"--light-user needs --light-password"_s);
            bool ok = false;
            latencyOptions.intervalMs = parser.value(interval).toDouble(&ok);
            if (!ok || latencyOptions.intervalMs < 1 || latencyOptions.intervalMs > 60000)
                return bad(interval);
            latencyOptions.durationSeconds = parser.value(duration).toDouble(&ok);
            if (!ok || latencyOptions.durationSeconds <= 0 || latencyOptions.durationSeconds > 86400)
                return bad(duration);
            load = startWebLatency(common, latencyOptions, int(*connectionCount));
        }
    }
    return QCoreApplication::exec();
}