#include "pop3daemon.h"
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
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-pop3d"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    const std::optional<Config> config = ServerCommandLine::parse(
        QStringLiteral("Mailroom's POP3 server: the inbox for standard mail clients, with STLS."),
        ConfigOptions(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::ListenTls
                          | ConfigOptions::ConnectionLimits | ConfigOptions::Throttling,
                      QStringLiteral("127.0.0.1:8110")));
    if (!config)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    Pop3Daemon daemon(*config);
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &daemon, &Pop3Daemon::shutDown);
    QObject::connect(&daemon, &Pop3Daemon::failed, &app, [&](const QString &message) {
        app.exit(ServerCommandLine::fail(message));
    });
    QObject::connect(&daemon, &Pop3Daemon::stopped, &app, [&] { app.exit(0); });
    QTimer::singleShot(0, &daemon, &Pop3Daemon::start);
    return app.exec();
}
