// Change-feed latency: how long from a commit on one store connection until
// StoreChangeWatcher on another says so (docs/STORAGE.md, "Changes"), from
// deliver()'s return (PostgreSQL's notification can come before it).
// A writer thread delivers COMMITS messages, one every GAP_MS (longer than
// the watcher's poll, so each commit is its own signal); the main thread's
// watcher timestamps each signal. Prints median, p99 and max in ms.
// Another process is the same to SQLite's change counter and to
// PostgreSQL's notifications as another connection here.
//
// Usage: bench_changes [COMMITS] [GAP_MS] [DATABASE]   (default 200, 60, a
// new SQLite file; DATABASE: a URL as mailroomctl takes it, with the
// password in PGPASSWORD for PostgreSQL; the database must exist, and
// gains two accounts)

#include "benchstore.h"
#include "storechangewatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <mutex>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int commits = argc > 1 ? QByteArray(argv[1]).toInt() : 200;
    const int gapMs = argc > 2 ? QByteArray(argv[2]).toInt() : 60;
    QTextStream out(stdout);
    QTemporaryDir dir;
    const std::optional<DatabaseUrl> database = benchDatabase(argc, argv, 3, dir, out);
    if (!database)
        return 2;

    qint64 alice = 0, bob = 0;
    {
        Store setup;
        if (!openStore(setup, *database, out))
            return 1;
        const QString suffix = QString::number(QCoreApplication::applicationPid());
        alice = setup.createAccount(QStringLiteral("bench-a") + suffix, QStringLiteral("x")).value_or(Account()).id;
        bob = setup.createAccount(QStringLiteral("bench-b") + suffix, QStringLiteral("x")).value_or(Account()).id;
        if (!alice || !bob) {
            out << "cannot create accounts: " << setup.lastErrorText() << Qt::endl;
            return 1;
        }
    }

    StoreChangeWatcher watcher(*database);
    QString error;
    if (!watcher.start(&error)) {
        out << "cannot watch: " << error << Qt::endl;
        return 1;
    }
    QElapsedTimer clock;
    clock.start();
    std::mutex lock;
    // ns on `clock`: when each delivery began and when it returned. A
    // notification may arrive before deliver() returns (PostgreSQL sends
    // it at COMMIT), so a commit's signal is the first one after it began.
    QList<qint64> beganAt;
    QList<qint64> committedAt;
    QList<qint64> heardAt;
    QObject::connect(&watcher, &StoreChangeWatcher::changed, &app, [&] {
        const std::lock_guard guard(lock);
        heardAt.append(clock.nsecsElapsed());
    });

    std::atomic<bool> failed = false;
    QThread *writer = QThread::create([&] {
        Store store;
        if (!store.open(*database, Store::OpenMode::MustExist)) {
            failed = true;
            return;
        }
        NewMessage message;
        message.raw = "Subject: change\r\n\r\nbody\r\n";
        message.summary.subject = QStringLiteral("change");
        message.senderId = alice;
        message.recipientIds = {bob};
        for (int i = 0; i < commits; ++i) {
            message.receivedAt = QDateTime::currentDateTimeUtc();
            const qint64 began = clock.nsecsElapsed();
            if (!store.deliver(message)) {
                failed = true;
                return;
            }
            {
                const std::lock_guard guard(lock);
                beganAt.append(began);
                committedAt.append(clock.nsecsElapsed());
            }
            QThread::msleep(gapMs);
        }
    });
    QObject::connect(writer, &QThread::finished, &app, [&] {
        // The last commit's signal comes within a poll or two.
        QTimer::singleShot(500, &app, &QCoreApplication::quit);
    });
    writer->start();
    app.exec();
    writer->wait();
    delete writer;
    if (failed) {
        out << "the writer failed" << Qt::endl;
        return 1;
    }

    // Each commit's latency: from deliver()'s return to the first signal
    // after the delivery began (0 when it came before the return).
    QList<double> latenciesMs;
    qsizetype next = 0;
    for (qsizetype i = 0; i < committedAt.size(); ++i) {
        while (next < heardAt.size() && heardAt.at(next) < beganAt.at(i))
            ++next;
        if (next == heardAt.size())
            break;
        latenciesMs.append(std::max<qint64>(0, heardAt.at(next) - committedAt.at(i)) / 1e6);
        ++next;
    }
    std::sort(latenciesMs.begin(), latenciesMs.end());
    const auto at = [&](double fraction) {
        return latenciesMs.isEmpty() ? -1.0 : latenciesMs.at(std::min<qsizetype>(latenciesMs.size() - 1, qsizetype(fraction * latenciesMs.size())));
    };
    out << (database->kind == DatabaseUrl::Kind::Sqlite ? "SQLite" : "PostgreSQL") << ", " << committedAt.size()
        << " commits " << gapMs << " ms apart, " << heardAt.size() << " signals, " << latenciesMs.size()
        << " commits heard: commit to signal median " << QString::number(at(0.5), 'f', 1) << " ms, p99 "
        << QString::number(at(0.99), 'f', 1) << " ms, max " << QString::number(at(1.0), 'f', 1) << " ms" << Qt::endl;
    return latenciesMs.size() == committedAt.size() ? 0 : 1;
}
