// Delivers COUNT messages from SENDER to RECIPIENT in the store at PATH, one
// transaction each, as mailroom-smtpd would. Used by tests to have a second
// process write to a database file while the test process uses it too.
// Usage: store_writer PATH SENDER RECIPIENT COUNT [START_AT]
// START_AT (ms since the epoch) lets several writers begin at one moment, so
// that their process start-up times do not keep them apart.
// Or: store_writer --create PATH NAME START_AT
// opens (creating if need be) the database at START_AT and adds account NAME,
// as a server starting on a new data directory would.
// Exits 0 when every delivery committed; else prints the error, exits 1.

#include "store.h"

#include <QCoreApplication>
#include <QTextStream>
#include <QThread>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QTextStream err(stderr);
    const QStringList args = QCoreApplication::arguments();
    const auto waitUntil = [](const QString &startAt) {
        const qint64 wait = startAt.toLongLong() - QDateTime::currentMSecsSinceEpoch();
        if (wait > 0)
            QThread::msleep(wait);
    };
    if (args.size() == 5 && args.at(1) == u"--create") {
        waitUntil(args.at(4));
        Store store;
        if (!store.open(args.at(2), Store::OpenMode::CreateIfMissing) || !store.createAccount(args.at(3), QStringLiteral("h"))) {
            err << "store_writer: " << store.lastErrorText() << Qt::endl;
            return 1;
        }
        return 0;
    }
    if (args.size() != 5 && args.size() != 6) {
        err << "usage: store_writer PATH SENDER RECIPIENT COUNT [START_AT]" << Qt::endl;
        return 2;
    }
    Store store;
    if (!store.open(args.at(1), Store::OpenMode::MustExist)) {
        err << "store_writer: " << store.lastErrorText() << Qt::endl;
        return 1;
    }
    const auto sender = store.findAccount(args.at(2));
    const auto recipient = store.findAccount(args.at(3));
    if (!sender || !recipient) {
        err << "store_writer: unknown account" << Qt::endl;
        return 1;
    }
    const int count = args.at(4).toInt();
    if (args.size() == 6)
        waitUntil(args.at(5));
    for (int i = 0; i < count; ++i) {
        NewMessage message;
        message.summary.from = {QString(), sender->username + QStringLiteral("@project.com")};
        message.summary.to = {{QString(), recipient->username + QStringLiteral("@project.com")}};
        message.summary.subject = QStringLiteral("message %1 of pid %2").arg(i).arg(QCoreApplication::applicationPid());
        message.summary.preview = QStringLiteral("body %1").arg(i);
        message.raw = "Subject: " + message.summary.subject.toUtf8() + "\r\n\r\nbody " + QByteArray::number(i) + "\r\n";
        message.receivedAt = QDateTime::currentDateTimeUtc();
        message.senderId = sender->id;
        message.recipientIds = {recipient->id};
        if (!store.deliver(message)) {
            err << "store_writer: delivery " << i << " failed: " << store.lastErrorText() << Qt::endl;
            return 1;
        }
        // A server reads the next message from the network between two
        // commits. Without any pause, SQLite's busy handler lets one writer
        // keep the lock and the others wait until it is done (no queue).
        QThread::usleep(500);
    }
    return 0;
}
