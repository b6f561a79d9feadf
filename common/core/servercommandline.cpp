#include "servercommandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

namespace ServerCommandLine {

int fail(const QString &message)
{
    std::fprintf(stderr, "%s: %s\n", qPrintable(QCoreApplication::applicationName()), qPrintable(message));
    return 2;
}

std::optional<Config> parse(const QString &description, const ConfigOptions &options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addVersionOption();
    options.addTo(parser);
    if (!parser.parse(QCoreApplication::arguments())) {
        fail(parser.errorText() + QStringLiteral(" (see --help)"));
        return std::nullopt;
    }
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty()) {
        fail(QStringLiteral("unexpected argument '%1' (see --help)").arg(parser.positionalArguments().first()));
        return std::nullopt;
    }
    QString error;
    std::optional<Config> config = options.read(parser, &error);
    if (!config) {
        fail(error);
        return std::nullopt;
    }
    return config;
}

} // namespace ServerCommandLine
