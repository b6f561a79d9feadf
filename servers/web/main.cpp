#include "datadir.h"
#include "servercommandline.h"
#include "tlsmaterial.h"
#include "unixsignals.h"
#include "webapi.h"
#include "weblogging.h"
#include "webserver.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QTimer>

#include <csignal>
#include <sys/stat.h>

using ServerCommandLine::fail;

int main(int argc, char *argv[])
{
    umask(077); // the database, its -wal and a new key are the owner's alone
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroom-webd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));
    const std::optional<Config> config = ServerCommandLine::parse(
        QStringLiteral("Mailroom's HTTPS JSON API."),
        ConfigOptions(ConfigOptions::Storage | ConfigOptions::Listen | ConfigOptions::WebLimits | ConfigOptions::Throttling,
                      QStringLiteral("127.0.0.1:9999")));
    if (!config)
        return 2;
    QString error;
    if (!DataDirectory::prepare(config->dataDir, DataDirectory::Mode::Create, &error))
        return fail(error);
    signal(SIGPIPE, SIG_IGN);

    WebApi api(*config);
    if (!api.open(&error))
        return fail(error);
    WebServer *server = nullptr;
    const auto listen = [&] {
        QString tlsError;
        const auto tls = TlsMaterial::loadServerConfiguration(config->certificateFile, config->keyFile, &tlsError);
        if (!tls) {
            fail(tlsError);
            app.exit(2);
            return;
        }
        WebServer::Options serverOptions;
        serverOptions.limits = {config->limits.maxRequestHeadBytes, config->limits.maxRequestBodyBytes};
        serverOptions.keepAliveMs = config->limits.keepAliveTimeoutSeconds * 1000;
        serverOptions.handshakeTimeoutMs = config->limits.handshakeTimeoutSeconds * 1000;
        serverOptions.maxConnections = config->limits.maxConnections;
        serverOptions.maxConnectionsPerAddress = config->limits.maxConnectionsPerAddress;
        server = new WebServer(*tls, &api, serverOptions, &app);
        if (!server->listen(config->listen->host, config->listen->port)) {
            fail(QStringLiteral("cannot listen on %1: %2 (choose another address with --listen)")
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
            fail(message);
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
