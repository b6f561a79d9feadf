#include "imapdaemon.h"
#include "servercommandline.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    useQtEventLoop();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-imapd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    const std::optional<Config> config = ServerCommandLine::parse(
        QStringLiteral("Mailroom's IMAP server: every folder for standard mail clients, with IDLE."),
        ConfigOptions(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::ListenTls
                          | ConfigOptions::ConnectionLimits | ConfigOptions::Throttling
                          | ConfigOptions::MessageLimits | ConfigOptions::NetworkThreads,
                      QStringLiteral("127.0.0.1:8143")));
    if (!config)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    ImapDaemon daemon(*config);
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &daemon, &ImapDaemon::shutDown);
    QObject::connect(&daemon, &ImapDaemon::failed, &app, [&](const QString &message) {
        app.exit(ServerCommandLine::fail(message));
    });
    QObject::connect(&daemon, &ImapDaemon::stopped, &app, [&] { app.exit(0); });
    QTimer::singleShot(0, &daemon, &ImapDaemon::start);
    return app.exec();
}
