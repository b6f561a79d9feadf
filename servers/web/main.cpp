#include "datadir.h"
#include "tlsmaterial.h"
#include "unixsignals.h"
#include "webapi.h"
#include "weblogging.h"
#include "webserver.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/stat.h>

namespace {
int failWith(const QString &message)
{
    std::fprintf(stderr, "mailroom-webd: %s\n", qPrintable(message));
    return 2;
}
} // namespace

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-webd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Mailroom's HTTPS JSON API."));
    parser.addHelpOption();
    parser.addVersionOption();
    const ConfigOptions options(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::WebLimits
                                    | ConfigOptions::Throttling,
                                QStringLiteral("127.0.0.1:9999"));
    options.addTo(parser);
    if (!parser.parse(QCoreApplication::arguments()))
        return failWith(parser.errorText() + QStringLiteral(" (see --help)"));
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    if (!config)
        return failWith(error);
    if (config->database.kind != DatabaseUrl::Kind::Sqlite)
        return failWith(QStringLiteral("PostgreSQL storage is not available in this build yet: leave out --database"));
    if (!DataDirectory::prepare(config->dataDir, DataDirectory::Mode::Create, &error))
        return failWith(error);
    signal(SIGPIPE, SIG_IGN);

    WebApi api(*config);
    if (!api.open(&error))
        return failWith(error);
    WebServer *server = nullptr;
    const auto listen = [&] {
        QString tlsError;
        const auto tls = TlsMaterial::loadServerConfiguration(config->certificateFile, config->keyFile, &tlsError);
        if (!tls) {
            failWith(tlsError);
            app.exit(2);
            return;
        }
        WebServer::Options serverOptions;
        serverOptions.limits = {config->limits.maxRequestHeadBytes, config->limits.maxRequestBodyBytes};
        serverOptions.keepAliveMs = config->limits.keepAliveTimeoutSeconds * 1000;
        serverOptions.handshakeTimeoutMs = config->limits.handshakeTimeoutSeconds * 1000;
        serverOptions.maxConnections = config->limits.maxConnections;
        server = new WebServer(*tls, &api, serverOptions, &app);
        if (!server->listen(config->listen->host, config->listen->port)) {
            failWith(QStringLiteral("cannot listen on %1: %2 (choose another address with --listen)")
                         .arg(config->listen->toString(), server->errorString()));
            app.exit(2);
            return;
        }
        qCInfo(lcWeb).noquote() << "listening on"
                                << ListenAddress{server->serverAddress(), server->serverPort()}.toString() << "(HTTPS)";
    };
    CertificateGenerator generator;
    if (QFileInfo::exists(config->certificateFile) || QFileInfo::exists(config->keyFile) || config->tlsFilesGiven) {
        QTimer::singleShot(0, &app, listen);
    } else {
        QObject::connect(&generator, &CertificateGenerator::finished, &app, listen);
        QObject::connect(&generator, &CertificateGenerator::failed, &app, [&](const QString &message) {
            failWith(message);
            app.exit(2);
        });
        generator.start(config->certificateFile, config->keyFile, config->hostname);
    }
    UnixSignalWatcher signalWatcher({SIGTERM, SIGINT});
    bool stopping = false;
    QObject::connect(&signalWatcher, &UnixSignalWatcher::received, &app, [&] {
        if (std::exchange(stopping, true))
            return;
        qCInfo(lcWeb) << "shutting down";
        if (!server) {
            app.exit(0);
            return;
        }
        QObject::connect(server, &WebServer::allConnectionsClosed, &app, [&] { app.exit(0); });
        server->shutDown();
        QTimer::singleShot(30000, &app, [&] { app.exit(0); });
    });
    return app.exec();
}
