#include "servercommandline.h"
#include "smtpdaemon.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <malloc.h>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    // A message's buffers are megabytes (up to --max-message-size, and a
    // copy or two while it is stored). glibc serves a block that large from
    // a mapping of its own, but raises that threshold to the size of every
    // such block freed (up to 32 MiB): after one large message, the next
    // ones' buffers come from the heap, which keeps them when freed. Found:
    // 1.15 GB still held after a huge message; measured here: 58 MiB held
    // after a 24 MiB message with the moving threshold, 2 MiB with a fixed
    // one. A fixed threshold keeps every block of 1 MiB or more in a mapping
    // that goes back to the system when freed (a few system calls per
    // large message; smaller blocks are as before).
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    useQtEventLoop();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-smtpd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    const std::optional<Config> config = ServerCommandLine::parse(
        QStringLiteral("Mailroom's ESMTP server: submission with STARTTLS and AUTH."),
        ConfigOptions(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::ListenTls
                          | ConfigOptions::RegistrationMode | ConfigOptions::SmtpLimits | ConfigOptions::Throttling
                          | ConfigOptions::NetworkThreads,
                      QStringLiteral("127.0.0.1:8025")));
    if (!config)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    SmtpDaemon daemon(*config);
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &daemon, &SmtpDaemon::shutDown);
    QObject::connect(&daemon, &SmtpDaemon::failed, &app, [&](const QString &message) {
        app.exit(ServerCommandLine::fail(message));
    });
    QObject::connect(&daemon, &SmtpDaemon::stopped, &app, [&] { app.exit(0); });
    QTimer::singleShot(0, &daemon, &SmtpDaemon::start);
    return app.exec();
}
