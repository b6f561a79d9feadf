#include "serverendpoint.h"
#include "servertrust.h"
#include "session.h"

#include "mainwindow.h"

#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace {

int fail(const QString &message)
{
    std::fprintf(stderr, "mailroom: %s\n", qPrintable(message));
    return 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QGuiApplication::setOrganizationName(u"Mailroom"_s);
    QGuiApplication::setApplicationName(u"mailroom"_s);
    QGuiApplication::setApplicationDisplayName(u"Mailroom"_s);
    QGuiApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Mailroom's desktop client."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption smtpOption(u"smtp"_s, u"mailroom-smtpd's address (default 127.0.0.1:8025)."_s,
                                        u"HOST:PORT"_s, u"127.0.0.1:8025"_s);
    const QCommandLineOption webOption(u"web"_s, u"mailroom-webd's address (default 127.0.0.1:9999)."_s,
                                       u"HOST:PORT"_s, u"127.0.0.1:9999"_s);
    const QCommandLineOption caOption(u"ca-cert"_s,
                                      u"Verify the servers against the certificates in FILE (PEM), e.g. the "
                                      u"data directory's tls/cert.pem; without it, trust on first use."_s,
                                      u"FILE"_s);
    const QCommandLineOption pinOption(u"pin-file"_s,
                                       u"Keep the trusted-on-first-use fingerprints in FILE (INI) instead of the "
                                       u"user's settings."_s,
                                       u"FILE"_s);
    parser.addOptions({smtpOption, webOption, caOption, pinOption});
    parser.process(app);

    ClientSettings settings;
    const auto smtp = ServerEndpoint::parse(parser.value(smtpOption));
    if (!smtp)
        return fail(u"--smtp %1 is not HOST:PORT (e.g. 127.0.0.1:8025)"_s.arg(parser.value(smtpOption)));
    const auto web = ServerEndpoint::parse(parser.value(webOption));
    if (!web)
        return fail(u"--web %1 is not HOST:PORT (e.g. 127.0.0.1:9999)"_s.arg(parser.value(webOption)));
    settings.smtp = *smtp;
    settings.web = *web;
    settings.caCertificateFile = parser.value(caOption);
    settings.pinFile = parser.value(pinOption);

    Session session(settings);
    if (!session.trust()->caFileError().isEmpty())
        return fail(session.errorString() + u" (check --ca-cert)"_s);

    MainWindow::applyStyle();
    QQmlApplicationEngine engine;
    QString error;
    if (!MainWindow::load(engine, session, &error))
        return fail(error);
    return QGuiApplication::exec();
}
