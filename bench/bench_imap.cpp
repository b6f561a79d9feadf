// IMAP figures on a large folder (docs/performance.md, "IMAP"): one
// account's inbox of MESSAGES messages of about 1.8 KB delivered through
// Store::deliverAll in groups of 500 (as bench_search fills its inbox),
// then ImapMailbox run in-process on it, as a worker of mailroom-imapd runs
// it (server time: no network, no TLS, no session):
// - SELECT INBOX, which reads every entry of the folder into the session's
//   view: its time, and the memory the view holds (heap in use and VmRSS
//   before and after);
// - FETCH <n-49>:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)]),
//   the newest 50 headers as a mail client asks for them: p50, p90, p99;
//   the same for 50 at a random place in the folder (pages the database
//   has not just read).
//
// Usage: bench_imap [MESSAGES] [DATABASE]   (default 1000000, a new SQLite
// file; DATABASE: a URL as mailroomctl takes it, with the password in
// PGPASSWORD for PostgreSQL; the database must exist. One this filled
// before is measured again without filling.)

#include "benchstore.h"
#include "imapcommandreader.h"
#include "imapmailbox.h"
#include "store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QLocale>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTextStream>

#include <malloc.h>

#include <algorithm>

namespace {

// Bytes the heap hands out now (glibc): what the selected view holds,
// without the freed memory the allocator keeps, which VmRSS counts.
qint64 heapInUse()
{
    const struct mallinfo2 info = mallinfo2();
    return qint64(info.uordblks + info.hblkhd);
}

qint64 rssKb()
{
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.simplified().split(' ').value(1).toLongLong();
    }
    return 0;
}

// A command as the session hands it to ImapMailbox: framed by the reader.
ImapCommandReader::Command command(const QByteArray &line)
{
    ImapCommandReader reader;
    reader.append(QByteArray(line + "\r\n"));
    return reader.next()->command;
}

QString row(const QString &name, std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    const auto at = [&ms](double q) { return ms.at(std::min(ms.size() - 1, size_t(q * double(ms.size())))); };
    return QStringLiteral("  %1 n=%2  p50 %3 ms  p90 %4 ms  p99 %5 ms  max %6 ms")
        .arg(name, -44)
        .arg(ms.size(), 4)
        .arg(at(0.5), 7, 'f', 3)
        .arg(at(0.9), 7, 'f', 3)
        .arg(at(0.99), 7, 'f', 3)
        .arg(ms.back(), 7, 'f', 3);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const qint64 messages = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    QTextStream out(stdout);
    if (messages < 50) {
        out << "MESSAGES must be at least 50" << Qt::endl;
        return 2;
    }
    QTemporaryDir dir;
    const std::optional<DatabaseUrl> database = benchDatabase(argc, argv, 2, dir, out);
    if (!database)
        return 2;
    Store store;
    if (!openStore(store, *database, out))
        return 1;
    const std::optional<Account> filled = store.findAccount(QStringLiteral("bob"));
    const auto bob = filled ? filled : store.createAccount(QStringLiteral("bob"), QStringLiteral("x"));
    if (!bob) {
        out << "cannot create the account: " << store.lastErrorText() << Qt::endl;
        return 1;
    }
    const QString engine = database->kind == DatabaseUrl::Kind::Sqlite ? QStringLiteral("SQLite") : QStringLiteral("PostgreSQL");

    // Messages as a mail client finds them: a plain header section, a text
    // body of 20 lines.
    static const char *const words[] = {"meeting", "report", "quarter", "budget", "review", "draft", "schedule",
                                        "invoice", "release", "notes", "travel", "update", "question", "agenda"};
    QRandomGenerator random(9);
    const auto text = [&random](int count) {
        QByteArray text;
        for (int i = 0; i < count; ++i)
            text += (i ? " " : "") + QByteArray(words[random.bounded(int(std::size(words)))]);
        return text;
    };
    QByteArray body;
    for (int line = 0; line < 20; ++line)
        body += text(9) + "\r\n";
    GroupDelivery delivery(store, out);
    for (qint64 i = 0; i < (filled ? 0 : messages); ++i) {
        NewMessage message;
        const int sender = int(random.bounded(500));
        const QByteArray subject = text(5);
        const QDateTime date = QDateTime::currentDateTimeUtc().addSecs(-(messages - i) * 60);
        message.summary.subject = QString::fromLatin1(subject);
        message.summary.from = {QStringLiteral("Sender %1").arg(sender), QStringLiteral("sender%1@example.org").arg(sender)};
        message.summary.to = {{QStringLiteral("Bob"), QStringLiteral("bob@project.com")}};
        message.summary.date = date;
        message.summary.preview = QString::fromLatin1(body.left(160));
        message.raw = "From: Sender " + QByteArray::number(sender) + " <sender" + QByteArray::number(sender)
            + "@example.org>\r\nTo: Bob <bob@project.com>\r\nSubject: " + subject + "\r\nDate: "
            + QLocale::c().toString(date, QStringLiteral("ddd, dd MMM yyyy hh:mm:ss")).toLatin1() + " +0000\r\nMessage-ID: <"
            + QByteArray::number(i) + ".bench-imap@example.org>\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body;
        message.text = QString::fromLatin1(body);
        message.receivedAt = date;
        message.recipientIds = {bob->id};
        if (!delivery.add(std::move(message)))
            return 1;
    }
    if (!delivery.finish())
        return 1;
    if (filled)
        out << engine << ": measuring the " << messages << " messages delivered before" << Qt::endl;
    else
        out << engine << ": " << messages << " messages delivered in groups of " << GroupDelivery::Group << ": "
            << QString::number(delivery.perSecond(), 'f', 0) << " per second" << Qt::endl;
    QElapsedTimer timer;
    timer.start();

    ImapMailbox mailbox(&store, ImapMailbox::Settings());
    ImapMailboxState state;
    state.accountId = bob->id;
    state.username = QStringLiteral("bob");

    // SELECT, a few times: each reads the whole folder again. The view of
    // the last one is kept for the FETCHes, as a session keeps it.
    const qint64 heapBefore = heapInUse();
    const qint64 rssBefore = rssKb();
    std::vector<double> selects;
    qint64 heapSelected = 0;
    qint64 rssSelected = 0;
    QByteArray selectOutput;
    for (int i = 0; i < 5; ++i) {
        if (i == 1) { // the first view's memory, before the next SELECT builds its own
            heapSelected = heapInUse();
            rssSelected = rssKb();
        }
        timer.restart();
        selectOutput = mailbox.execute(state, command("s SELECT INBOX"));
        selects.push_back(timer.nsecsElapsed() / 1e6);
        if (!selectOutput.contains("s OK [READ-WRITE]")) {
            out << "SELECT failed: " << selectOutput.right(200) << Qt::endl;
            return 1;
        }
    }
    const qint64 count = state.selected->view.count();
    out << "SELECT INBOX of " << count << " messages (every entry into the view):" << Qt::endl;
    out << row(QStringLiteral("SELECT"), selects) << Qt::endl << "  each, the first after opening the store:";
    for (const double ms : selects)
        out << ' ' << QString::number(ms, 'f', 0) << " ms";
    out << Qt::endl;
    out << "  the selected view: heap in use +" << QString::number((heapSelected - heapBefore) / 1048576.0, 'f', 1)
        << " MiB (" << QString::number(double(heapSelected - heapBefore) / double(count), 'f', 1)
        << " bytes a message), VmRSS +" << QString::number((rssSelected - rssBefore) / 1024.0, 'f', 1) << " MiB"
        << Qt::endl;

    const auto fetchTimes = [&](const std::function<qint64()> &first, int runs) {
        std::vector<double> ms;
        for (int i = 0; i < runs; ++i) {
            const qint64 from = first();
            const ImapCommandReader::Command fetch = command(
                "f FETCH " + QByteArray::number(from) + ':' + (from + 49 >= count ? QByteArray("*") : QByteArray::number(from + 49))
                + " (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])");
            timer.restart();
            const QByteArray output = mailbox.execute(state, fetch);
            ms.push_back(timer.nsecsElapsed() / 1e6);
            if (!output.endsWith("f OK FETCH completed\r\n") || output.count(" FETCH (") != 50) {
                out << "FETCH failed: " << output.right(300) << Qt::endl;
                std::exit(1);
            }
        }
        return ms;
    };
    out << "FETCH of 50 (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)]):" << Qt::endl;
    // Warm the statement cache and the newest pages, as a running server's are.
    fetchTimes([&] { return count - 49; }, 20);
    out << row(QStringLiteral("the newest 50 (n-49:*)"), fetchTimes([&] { return count - 49; }, 1000)) << Qt::endl;
    out << row(QStringLiteral("50 at a random place"),
               fetchTimes([&] { return 1 + qint64(random.bounded(quint64(count - 49))); }, 300))
        << Qt::endl;
    return 0;
}
