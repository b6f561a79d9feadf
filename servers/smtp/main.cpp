#include "servercommandline.h"
#include "smtpdaemon.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
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
