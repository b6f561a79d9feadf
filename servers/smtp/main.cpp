#include "smtpdaemon.h"
#include "unixsignals.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/stat.h>

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-smtpd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Mailroom's ESMTP server: submission with STARTTLS and AUTH."));
    parser.addHelpOption();
    parser.addVersionOption();
    const ConfigOptions options(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::ListenTls
                                    | ConfigOptions::RegistrationMode | ConfigOptions::SmtpLimits
                                    | ConfigOptions::Throttling,
                                QStringLiteral("127.0.0.1:8025"));
    options.addTo(parser);
    const auto failWith = [](const QString &message) {
        std::fprintf(stderr, "mailroom-smtpd: %s\n", qPrintable(message));
        return 2;
    };
    if (!parser.parse(QCoreApplication::arguments()))
        return failWith(parser.errorText() + QStringLiteral(" (see --help)"));
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty())
        return failWith(QStringLiteral("unexpected argument '%1' (see --help)").arg(parser.positionalArguments().first()));
    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    if (!config)
        return failWith(error);
    if (config->database.kind != DatabaseUrl::Kind::Sqlite)
        return failWith(QStringLiteral("PostgreSQL storage is not available in this build yet: leave out --database"));

    signal(SIGPIPE, SIG_IGN);
    SmtpDaemon daemon(*config);
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &daemon, &SmtpDaemon::shutDown);
    QObject::connect(&daemon, &SmtpDaemon::failed, &app, [&](const QString &message) {
        std::fprintf(stderr, "mailroom-smtpd: %s\n", qPrintable(message));
        app.exit(2);
    });
    QObject::connect(&daemon, &SmtpDaemon::stopped, &app, [&] { app.exit(0); });
    QTimer::singleShot(0, &daemon, &SmtpDaemon::start);
    return app.exec();
}
