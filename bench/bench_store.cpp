// Store figures: delivery commits per second (one transaction each,
// synchronous=FULL), and listing pages of a mailbox of N messages.
// Usage: bench_store [MESSAGES] [DELIVERIES] [DATA_DIR]   (default 1000000 and 2000)
// With DATA_DIR (which must not exist yet) the database is kept there as
// DATA_DIR/mailroom.db, and bob's password is "bench-load-password", so that
// mailroom-webd can be measured on a mailbox of MESSAGES:
//   mailroom-webd --data-dir DATA_DIR --listen 127.0.0.1:0
//   mailroom-load web --user bob --password bench-load-password --connections 1 --list-only ...

#include "passwords.h"
#include "sqltransaction.h"
#include "store.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const qint64 mailboxSize = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    const int deliveries = argc > 2 ? QByteArray(argv[2]).toInt() : 2000;
    QTextStream out(stdout);
    QTemporaryDir dir;
    const QString keptDir = argc > 3 ? QString::fromLocal8Bit(argv[3]) : QString();
    if (!keptDir.isEmpty() && (QFileInfo::exists(keptDir) || !QDir().mkpath(keptDir))) {
        out << keptDir << " exists already or cannot be made" << Qt::endl;
        return 1;
    }
    const QString path = keptDir.isEmpty() ? dir.filePath(QStringLiteral("bench.db"))
                                           : QDir(keptDir).filePath(QStringLiteral("mailroom.db"));
    Store store;
    if (!dir.isValid() || !store.open(path, Store::OpenMode::CreateIfMissing)) {
        out << "cannot open a store: " << store.lastErrorText() << Qt::endl;
        return 1;
    }
    const QString passwordHash = Passwords::hash(QStringLiteral("bench-load-password"), Passwords::MinIterations);
    const auto alice = store.createAccount(QStringLiteral("alice"), passwordHash);
    const auto bob = store.createAccount(QStringLiteral("bob"), passwordHash);

    NewMessage message;
    message.raw = QByteArray("Subject: benchmark\r\n\r\n") + QByteArray(1000, 'x') + "\r\n";
    message.summary.subject = QStringLiteral("benchmark");
    message.summary.from = {QStringLiteral("Alice"), QStringLiteral("alice@project.com")};
    message.summary.to = {{QString(), QStringLiteral("bob@project.com")}};
    message.senderId = alice->id;
    message.recipientIds = {bob->id};
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < deliveries; ++i) {
        message.receivedAt = QDateTime::currentDateTimeUtc();
        if (!store.deliver(message)) {
            out << "delivery failed: " << store.lastErrorText() << Qt::endl;
            return 1;
        }
    }
    const double seconds = timer.nsecsElapsed() / 1e9;
    out << deliveries << " deliveries of 1 KB (message + inbox + sent entry, one commit each): "
        << QString::number(deliveries / seconds, 'f', 0) << " per second" << Qt::endl;

    timer.restart();
    {
        SqlWriteTransaction transaction(store.database());
        QSqlQuery query(store.database());
        query.exec(QStringLiteral(
            "INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
            " message_id, in_reply_to, preview, attachments, raw)"
            " SELECT 0, 1000, 'Alice', 'alice@project.com', '[]', '[]', 'bulk ' || i, NULL, '', '', 'preview', '[]',"
            " zeroblob(1000)"
            " FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %1) SELECT i FROM n)")
                       .arg(mailboxSize));
        const qint64 inbox = store.roleFolder(bob->id, FolderRole::Inbox)->id;
        query.exec(QStringLiteral("INSERT INTO mailbox_entries (owner_id, message_id, seen, folder_id, uid, modseq,"
                                  " created_modseq) SELECT %1, id, 0, %2, id, id + 6, id + 6 FROM messages"
                                  " WHERE subject LIKE 'bulk %'")
                       .arg(bob->id)
                       .arg(inbox));
        query.exec(QStringLiteral("UPDATE folders SET uid_next = (SELECT max(uid) + 1 FROM mailbox_entries"
                                  " WHERE folder_id = %1) WHERE id = %1").arg(inbox));
        query.exec(QStringLiteral("UPDATE accounts SET modseq = (SELECT max(modseq) FROM mailbox_entries"
                                  " WHERE owner_id = %1) WHERE id = %1").arg(bob->id));
        query.exec(QStringLiteral("ANALYZE"));
        query.finish();
        if (!transaction.commit()) {
            out << "filling failed: " << transaction.lastError().text() << Qt::endl;
            return 1;
        }
    }
    out << "filled bob's inbox with " << mailboxSize << " messages in "
        << QString::number(timer.nsecsElapsed() / 1e9, 'f', 1) << " s" << Qt::endl;

    const auto time = [&](const char *what, std::optional<qint64> before) {
        constexpr int Runs = 200;
        timer.restart();
        qsizetype rows = 0;
        for (int i = 0; i < Runs; ++i)
            rows += store.listFolder(bob->id, FolderRole::Inbox, 50, before).value_or(FolderPage{}).entries.size();
        out << "  " << what << ": " << QString::number(timer.nsecsElapsed() / 1e3 / Runs, 'f', 0) << " us per page of "
            << rows / Runs << Qt::endl;
    };
    out << "listing 50 of " << mailboxSize << ":" << Qt::endl;
    // Pages no listing of this connection showed before: their summaries
    // are read, where the pages below, listed again and again, find them kept.
    {
        constexpr int Pages = 100;
        timer.restart();
        qsizetype rows = 0;
        std::optional<qint64> before = mailboxSize / 2 + Pages * 50;
        for (int i = 0; i < Pages && before; ++i) {
            const auto page = store.listFolder(bob->id, FolderRole::Inbox, 50, before);
            rows += page ? page->entries.size() : 0;
            before = page ? page->nextBefore : std::nullopt;
        }
        out << "  pages listed for the first time: " << QString::number(timer.nsecsElapsed() / 1e3 / Pages, 'f', 0)
            << " us per page of " << rows / Pages << Qt::endl;
    }
    time("newest page", std::nullopt);
    time("page from the middle", mailboxSize / 2);
    time("oldest page", 60);
    timer.restart();
    const auto counts = store.counts(bob->id);
    out << "  inbox counts (" << (counts ? counts->inbox.total : -1) << " total): "
        << QString::number(timer.nsecsElapsed() / 1e6, 'f', 1) << " ms" << Qt::endl;
    return 0;
}
