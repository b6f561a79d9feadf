#include "servercommandline.h"
#include "unixsignals.h"
#include "webdaemon.h"

#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    useQtEventLoop();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-webd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    const std::optional<Config> config = ServerCommandLine::parse(
        QStringLiteral("Mailroom's HTTPS JSON API."),
        ConfigOptions(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::WebLimits
                          | ConfigOptions::Throttling | ConfigOptions::NetworkThreads,
                      QStringLiteral("127.0.0.1:9999")));
    if (!config)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    WebDaemon daemon(*config);
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &daemon, &WebDaemon::shutDown);
    QObject::connect(&daemon, &WebDaemon::failed, &app, [&](const QString &message) {
        app.exit(ServerCommandLine::fail(message));
    });
    QObject::connect(&daemon, &WebDaemon::stopped, &app, [&] { app.exit(0); });
    QTimer::singleShot(0, &daemon, &WebDaemon::start);
    return app.exec();
}
