// Command-line configuration: ListenAddress, DatabaseUrl, isValidHostname and
// ConfigOptions read through a real QCommandLineParser (docs/PROTOCOL.md §2,
// and the limits of docs/protocol/smtp.md §11 and docs/protocol/web.md §4).

#include "config.h"
#include "passwords.h"

#include <QCommandLineParser>
#include <QDir>
#include <QHostAddress>
#include <QRegularExpression>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

namespace {

QString absoluteFromCurrent(const QString &path)
{
    return QDir::cleanPath(QDir::current().absoluteFilePath(path));
}

constexpr ConfigOptions::Groups allGroups()
{
    return ConfigOptions::Groups(ConfigOptions::Storage) | ConfigOptions::Listen | ConfigOptions::ListenTls
        | ConfigOptions::RegistrationMode | ConfigOptions::SmtpLimits | ConfigOptions::WebLimits
        | ConfigOptions::Throttling;
}

QString defaultListen()
{
    return QStringLiteral("127.0.0.1:8025");
}

// Every field of a Config under a stable name, so that a test can say which
// fields an option changes and check that no other field moved.
QVariantMap fields(const Config &config)
{
    const auto listenText = [](const std::optional<ListenAddress> &address) {
        return address ? address->toString() : QStringLiteral("(none)");
    };
    const Limits &limits = config.limits;
    return {
        {QStringLiteral("dataDir"), config.dataDir},
        {QStringLiteral("database.kind"),
         config.database.kind == DatabaseUrl::Kind::Sqlite ? QStringLiteral("sqlite") : QStringLiteral("postgresql")},
        {QStringLiteral("database.sqlitePath"), config.database.sqlitePath},
        {QStringLiteral("database.host"), config.database.host},
        {QStringLiteral("database.port"), config.database.port},
        {QStringLiteral("database.user"), config.database.user},
        {QStringLiteral("database.password"), config.database.password},
        {QStringLiteral("database.databaseName"), config.database.databaseName},
        {QStringLiteral("domain"), config.domain},
        {QStringLiteral("hostname"), config.hostname},
        {QStringLiteral("certificateFile"), config.certificateFile},
        {QStringLiteral("keyFile"), config.keyFile},
        {QStringLiteral("tlsFilesGiven"), config.tlsFilesGiven},
        {QStringLiteral("listen"), listenText(config.listen)},
        {QStringLiteral("listenTls"), listenText(config.listenTls)},
        {QStringLiteral("registration"),
         config.registration == Registration::Open ? QStringLiteral("open") : QStringLiteral("closed")},
        {QStringLiteral("pbkdf2Iterations"), config.pbkdf2Iterations},
        {QStringLiteral("maxMessageBytes"), limits.maxMessageBytes},
        {QStringLiteral("maxHeaderBytes"), limits.maxHeaderBytes},
        {QStringLiteral("maxRecipients"), limits.maxRecipients},
        {QStringLiteral("maxConnections"), limits.maxConnections},
        {QStringLiteral("maxConnectionsPerAddress"), limits.maxConnectionsPerAddress},
        {QStringLiteral("idleTimeoutSeconds"), limits.idleTimeoutSeconds},
        {QStringLiteral("dataTimeoutSeconds"), limits.dataTimeoutSeconds},
        {QStringLiteral("maxRequestHeadBytes"), limits.maxRequestHeadBytes},
        {QStringLiteral("maxRequestBodyBytes"), limits.maxRequestBodyBytes},
        {QStringLiteral("keepAliveTimeoutSeconds"), limits.keepAliveTimeoutSeconds},
        {QStringLiteral("handshakeTimeoutSeconds"), limits.handshakeTimeoutSeconds},
        {QStringLiteral("tokenLifetimeSeconds"), limits.tokenLifetimeSeconds},
        {QStringLiteral("loginWindowSeconds"), limits.loginWindowSeconds},
        {QStringLiteral("failedLoginsPerAddress"), limits.failedLoginsPerAddress},
        {QStringLiteral("failedLoginsPerUsername"), limits.failedLoginsPerUsername},
    };
}

// The values docs/PROTOCOL.md §2 gives, written out rather than taken from Limits' initialisers.
QVariantMap specDefaults()
{
    const QString dataDir = absoluteFromCurrent(QStringLiteral("mailroom-data"));
    return {
        {QStringLiteral("dataDir"), dataDir},
        {QStringLiteral("database.kind"), QStringLiteral("sqlite")},
        {QStringLiteral("database.sqlitePath"), QString(dataDir + QStringLiteral("/mailroom.db"))},
        {QStringLiteral("database.host"), QString()},
        {QStringLiteral("database.port"), 5432},
        {QStringLiteral("database.user"), QString()},
        {QStringLiteral("database.password"), QString()},
        {QStringLiteral("database.databaseName"), QString()},
        {QStringLiteral("domain"), QStringLiteral("project.com")},
        {QStringLiteral("hostname"), defaultHostname()},
        {QStringLiteral("certificateFile"), QString(dataDir + QStringLiteral("/tls/cert.pem"))},
        {QStringLiteral("keyFile"), QString(dataDir + QStringLiteral("/tls/key.pem"))},
        {QStringLiteral("tlsFilesGiven"), false},
        {QStringLiteral("listen"), defaultListen()},
        {QStringLiteral("listenTls"), QStringLiteral("(none)")},
        {QStringLiteral("registration"), QStringLiteral("open")},
        {QStringLiteral("pbkdf2Iterations"), Passwords::DefaultIterations},
        {QStringLiteral("maxMessageBytes"), 25 * 1024 * 1024},
        {QStringLiteral("maxHeaderBytes"), 256 * 1024},
        {QStringLiteral("maxRecipients"), 100},
        {QStringLiteral("maxConnections"), 1024},
        {QStringLiteral("maxConnectionsPerAddress"), 64},
        {QStringLiteral("idleTimeoutSeconds"), 300},
        {QStringLiteral("dataTimeoutSeconds"), 600},
        {QStringLiteral("maxRequestHeadBytes"), 16 * 1024},
        {QStringLiteral("maxRequestBodyBytes"), 64 * 1024},
        {QStringLiteral("keepAliveTimeoutSeconds"), 60},
        {QStringLiteral("handshakeTimeoutSeconds"), 10},
        {QStringLiteral("tokenLifetimeSeconds"), 24 * 3600},
        {QStringLiteral("loginWindowSeconds"), 5 * 60},
        {QStringLiteral("failedLoginsPerAddress"), 10},
        {QStringLiteral("failedLoginsPerUsername"), 20},
    };
}

QStringList commandLine(const QStringList &arguments)
{
    return QStringList{QStringLiteral("mailroom-test")} + arguments;
}

} // namespace

class TestConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();

    void listenAddressParse_data();
    void listenAddressParse();

    void databaseUrlParse_data();
    void databaseUrlParse();

    void hostname_data();
    void hostname();

    void defaults();
    void optionChangesItsField_data();
    void optionChangesItsField();
    void badValueNamesOption_data();
    void badValueNamesOption();
    void groupsAddOnlyTheirOptions_data();
    void groupsAddOnlyTheirOptions();
    void everyOptionHasHelp();
    void databasePasswordSources_data();
    void databasePasswordSources();
};

void TestConfig::init()
{
    // Reading an option that was never added only warns; make that a failure.
    QTest::failOnWarning(QRegularExpression(QStringLiteral("QCommandLineParser")));
}

void TestConfig::listenAddressParse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host"); // QHostAddress text, or "any"
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("canonical"); // toString()

    const auto good = [](const char *tag, const QString &text, const QString &host, int port,
                         const QString &canonical) {
        QTest::newRow(tag) << text << true << host << port << canonical;
    };
    const auto bad = [](const char *tag, const QString &text) {
        QTest::newRow(tag) << text << false << QString() << 0 << QString();
    };
    good("ipv4", QStringLiteral("127.0.0.1:8025"), QStringLiteral("127.0.0.1"), 8025,
         QStringLiteral("127.0.0.1:8025"));
    good("ipv4 other", QStringLiteral("10.1.2.3:25"), QStringLiteral("10.1.2.3"), 25, QStringLiteral("10.1.2.3:25"));
    good("ipv6 loopback", QStringLiteral("[::1]:8025"), QStringLiteral("::1"), 8025, QStringLiteral("[::1]:8025"));
    good("ipv6 full", QStringLiteral("[2001:db8::7]:443"), QStringLiteral("2001:db8::7"), 443,
         QStringLiteral("[2001:db8::7]:443"));
    good("localhost", QStringLiteral("localhost:9999"), QStringLiteral("127.0.0.1"), 9999,
         QStringLiteral("127.0.0.1:9999"));
    good("any", QStringLiteral("*:8110"), QStringLiteral("any"), 8110, QString());
    good("port 0", QStringLiteral("127.0.0.1:0"), QStringLiteral("127.0.0.1"), 0, QStringLiteral("127.0.0.1:0"));
    good("port 65535", QStringLiteral("127.0.0.1:65535"), QStringLiteral("127.0.0.1"), 65535,
         QStringLiteral("127.0.0.1:65535"));

    bad("empty", QString());
    bad("missing port", QStringLiteral("127.0.0.1"));
    bad("empty port", QStringLiteral("127.0.0.1:"));
    bad("missing host", QStringLiteral(":8025"));
    bad("port 65536", QStringLiteral("127.0.0.1:65536"));
    bad("port 70000", QStringLiteral("127.0.0.1:70000"));
    bad("negative port", QStringLiteral("127.0.0.1:-1"));
    bad("port not a number", QStringLiteral("127.0.0.1:smtp"));
    bad("unbracketed ipv6", QStringLiteral("::1:8025"));
    bad("bracketed ipv6 without port", QStringLiteral("[::1]"));
    bad("host name", QStringLiteral("mail.example.com:25"));
    bad("single-label host name", QStringLiteral("mailhost:25"));
    bad("bad ipv4", QStringLiteral("127.0.0.256:25"));
    bad("nonsense", QStringLiteral("nonsense"));
    bad("bracketed ipv4", QStringLiteral("[127.0.0.1]:25"));
    bad("port with plus sign", QStringLiteral("127.0.0.1:+25"));
    bad("port with space", QStringLiteral("127.0.0.1: 25"));
}

void TestConfig::listenAddressParse()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, canonical);

    QString error;
    const std::optional<ListenAddress> address = ListenAddress::parse(text, &error);
    QCOMPARE(address.has_value(), valid);
    if (!valid) {
        QVERIFY2(!error.isEmpty(), "a refused address must come with an explanation");
        return;
    }
    const QHostAddress expectedHost = host == u"any" ? QHostAddress(QHostAddress::Any) : QHostAddress(host);
    QVERIFY(!expectedHost.isNull());
    QCOMPARE(address->host, expectedHost);
    QCOMPARE(int(address->port), port);
    if (!canonical.isEmpty()) {
        QCOMPARE(address->toString(), canonical);
        // What toString() writes parses back to the same address.
        QString again;
        const auto reparsed = ListenAddress::parse(address->toString(), &again);
        QVERIFY2(reparsed.has_value(), qPrintable(again));
        QCOMPARE(*reparsed, *address);
    }
}

void TestConfig::databaseUrlParse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<bool>("postgresql");
    QTest::addColumn<QString>("sqlitePath");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("databaseName");

    const auto sqlite = [](const char *tag, const QString &text, const QString &path) {
        QTest::newRow(tag) << text << true << false << path << QString() << 5432 << QString() << QString()
                           << QString();
    };
    const auto postgres = [](const char *tag, const QString &text, const QString &host, int port, const QString &user,
                             const QString &password, const QString &database) {
        QTest::newRow(tag) << text << true << true << QString() << host << port << user << password << database;
    };
    const auto bad = [](const char *tag, const QString &text) {
        QTest::newRow(tag) << text << false << false << QString() << QString() << 0 << QString() << QString()
                           << QString();
    };

    sqlite("bare relative file", QStringLiteral("mail.db"), absoluteFromCurrent(QStringLiteral("mail.db")));
    sqlite("bare relative path", QStringLiteral("data/../store/mail.db"),
           absoluteFromCurrent(QStringLiteral("store/mail.db")));
    sqlite("bare absolute path", QStringLiteral("/var/lib/mailroom/mail.db"),
           QStringLiteral("/var/lib/mailroom/mail.db"));
    sqlite("sqlite:relative", QStringLiteral("sqlite:rel.db"), absoluteFromCurrent(QStringLiteral("rel.db")));
    sqlite("sqlite:absolute", QStringLiteral("sqlite:/srv/m.db"), QStringLiteral("/srv/m.db"));
    sqlite("sqlite:///absolute", QStringLiteral("sqlite:///srv/mailroom/m.db"), QStringLiteral("/srv/mailroom/m.db"));

    postgres("postgresql with encoded password", QStringLiteral("postgresql://u:p%40x@h:5433/db"), QStringLiteral("h"),
             5433, QStringLiteral("u"), QStringLiteral("p@x"), QStringLiteral("db"));
    postgres("postgresql default port", QStringLiteral("postgresql://mailroom:Secr3tPw@db.example.test/mail"),
             QStringLiteral("db.example.test"), 5432, QStringLiteral("mailroom"), QStringLiteral("Secr3tPw"),
             QStringLiteral("mail"));
    postgres("postgresql without password", QStringLiteral("postgresql://mailroom@localhost/mail"),
             QStringLiteral("localhost"), 5432, QStringLiteral("mailroom"), QString(), QStringLiteral("mail"));
    postgres("postgresql encoded colon and slash in password",
             QStringLiteral("postgresql://u:a%3Ab%2Fc@10.0.0.5:6543/prod"), QStringLiteral("10.0.0.5"), 6543,
             QStringLiteral("u"), QStringLiteral("a:b/c"), QStringLiteral("prod"));
    postgres("postgres scheme alias", QStringLiteral("postgres://u:pw0rd@h/db"), QStringLiteral("h"), 5432,
             QStringLiteral("u"), QStringLiteral("pw0rd"), QStringLiteral("db"));

    bad("empty", QString());
    bad("sqlite: without path", QStringLiteral("sqlite:"));
    bad("postgresql missing host", QStringLiteral("postgresql://u:s3cret@/db"));
    bad("postgresql missing database", QStringLiteral("postgresql://u:p@h:5433"));
    bad("postgresql empty database", QStringLiteral("postgresql://u:p@h:5433/"));
    bad("postgresql bad port", QStringLiteral("postgresql://u:p@h:port/db"));
    bad("mysql", QStringLiteral("mysql://u:p@h:3306/db"));
    bad("http", QStringLiteral("http://example.com/db"));
}

void TestConfig::databaseUrlParse()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(bool, postgresql);
    QFETCH(QString, sqlitePath);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(QString, databaseName);

    QString error;
    const std::optional<DatabaseUrl> url = DatabaseUrl::parse(text, &error);
    QCOMPARE(url.has_value(), valid);
    if (!valid) {
        QVERIFY2(!error.isEmpty(), "a refused URL must come with an explanation");
        return;
    }
    QCOMPARE(url->kind == DatabaseUrl::Kind::Postgresql, postgresql);
    const QString display = url->displayString();
    if (!postgresql) {
        QCOMPARE(url->sqlitePath, sqlitePath);
        QVERIFY(QDir::isAbsolutePath(url->sqlitePath));
        QCOMPARE(display, sqlitePath);
        return;
    }
    QCOMPARE(url->host, host);
    QCOMPARE(url->port, port);
    QCOMPARE(url->user, user);
    QCOMPARE(url->password, password);
    QCOMPARE(url->databaseName, databaseName);

    QVERIFY2(display.contains(host), qPrintable(display));
    QVERIFY2(display.contains(databaseName), qPrintable(display));
    QVERIFY2(display.contains(QString::number(port)), qPrintable(display));
    if (!password.isEmpty()) {
        QVERIFY2(!display.contains(password), qPrintable(display));
        const QString encoded = QString::fromLatin1(QUrl::toPercentEncoding(password));
        QVERIFY2(!display.contains(encoded), qPrintable(display));
    }
}

void TestConfig::hostname_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");

    const QString label63(63, u'a');
    QTest::newRow("localhost") << QStringLiteral("localhost") << true;
    QTest::newRow("dotted") << QStringLiteral("mail.project.com") << true;
    QTest::newRow("single letter") << QStringLiteral("a") << true;
    QTest::newRow("hyphen inside") << QStringLiteral("mail-1.example-2.test") << true;
    QTest::newRow("digits first (RFC 1123)") << QStringLiteral("1mail.example") << true;
    QTest::newRow("upper case") << QStringLiteral("Mail.Example.COM") << true;
    QTest::newRow("punycode") << QStringLiteral("xn--bcher-kva.example") << true;
    QTest::newRow("63-char label") << label63 + QStringLiteral(".example") << true;
    QTest::newRow("253 chars") << label63 + u'.' + label63 + u'.' + label63 + u'.' + QString(61, u'b') << true;

    QTest::newRow("empty") << QString() << false;
    QTest::newRow("space") << QStringLiteral("bad domain") << false;
    QTest::newRow("leading hyphen") << QStringLiteral("-mail.example") << false;
    QTest::newRow("trailing hyphen") << QStringLiteral("mail-.example") << false;
    QTest::newRow("empty label") << QStringLiteral("mail..example") << false;
    QTest::newRow("leading dot") << QStringLiteral(".example") << false;
    QTest::newRow("trailing dot") << QStringLiteral("example.") << false;
    QTest::newRow("underscore") << QStringLiteral("mail_host.example") << false;
    QTest::newRow("non-ASCII letter") << QStringLiteral("b\u00fccher.example") << false;
    QTest::newRow("non-ASCII digit") << QStringLiteral("mail\u0663.example") << false;
    QTest::newRow("at sign") << QStringLiteral("user@example.com") << false;
    QTest::newRow("colon") << QStringLiteral("example.com:25") << false;
    QTest::newRow("newline") << QStringLiteral("example.com\n") << false;
    QTest::newRow("64-char label") << label63 + QStringLiteral("a.example") << false;
    QTest::newRow("254 chars") << label63 + u'.' + label63 + u'.' + label63 + u'.' + QString(62, u'b') << false;
}

void TestConfig::hostname()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(isValidHostname(name), valid);
}

void TestConfig::defaults()
{
    const ConfigOptions options(allGroups(), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    QVERIFY2(parser.parse(commandLine({})), qPrintable(parser.errorText()));

    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    QVERIFY2(config.has_value(), qPrintable(error));

    const QVariantMap actual = fields(*config);
    const QVariantMap expected = specDefaults();
    QCOMPARE(actual.keys(), expected.keys());
    for (auto it = expected.cbegin(); it != expected.cend(); ++it)
        QVERIFY2(actual.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1: got '%2', docs/PROTOCOL.md §2 says '%3'")
                                .arg(it.key(), actual.value(it.key()).toString(), it.value().toString())));

    QVERIFY(config->listen.has_value());
    QCOMPARE(config->listen->host, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(config->listen->port, quint16(8025));
    QCOMPARE(config->address(QStringLiteral("alice")), QStringLiteral("alice@project.com"));

    // Without a default listen address, --listen stays unset until given.
    const ConfigOptions noDefault(ConfigOptions::Listen);
    QCommandLineParser parser2;
    noDefault.addTo(parser2);
    QVERIFY2(parser2.parse(commandLine({})), qPrintable(parser2.errorText()));
    const std::optional<Config> config2 = noDefault.read(parser2, &error);
    QVERIFY2(config2.has_value(), qPrintable(error));
    QVERIFY(!config2->listen.has_value());
}

void TestConfig::optionChangesItsField_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QVariantMap>("changes"); // fields() names whose values differ from the defaults

    const auto row = [](const char *tag, const QStringList &arguments, const QVariantMap &changes) {
        QTest::newRow(tag) << arguments << changes;
    };
    const auto one = [&row](const char *tag, const QString &option, const QString &value, const QString &field,
                            const QVariant &expected) {
        row(tag, {QString(u"--" + option), value}, {{field, expected}});
    };

    row("--data-dir absolute", {QStringLiteral("--data-dir"), QStringLiteral("/srv/mailroom")},
        {{QStringLiteral("dataDir"), QStringLiteral("/srv/mailroom")},
         {QStringLiteral("database.sqlitePath"), QStringLiteral("/srv/mailroom/mailroom.db")},
         {QStringLiteral("certificateFile"), QStringLiteral("/srv/mailroom/tls/cert.pem")},
         {QStringLiteral("keyFile"), QStringLiteral("/srv/mailroom/tls/key.pem")}});
    const QString relative = absoluteFromCurrent(QStringLiteral("other-data"));
    row("--data-dir relative", {QStringLiteral("--data-dir=./other-data/")},
        {{QStringLiteral("dataDir"), relative},
         {QStringLiteral("database.sqlitePath"), QString(relative + QStringLiteral("/mailroom.db"))},
         {QStringLiteral("certificateFile"), QString(relative + QStringLiteral("/tls/cert.pem"))},
         {QStringLiteral("keyFile"), QString(relative + QStringLiteral("/tls/key.pem"))}});
    row("--database sqlite", {QStringLiteral("--database"), QStringLiteral("sqlite:elsewhere.db")},
        {{QStringLiteral("database.sqlitePath"), absoluteFromCurrent(QStringLiteral("elsewhere.db"))}});
    row("--database postgresql", {QStringLiteral("--database"), QStringLiteral("postgresql://u:p%40x@h:5433/db")},
        {{QStringLiteral("database.kind"), QStringLiteral("postgresql")},
         {QStringLiteral("database.sqlitePath"), QString()},
         {QStringLiteral("database.host"), QStringLiteral("h")},
         {QStringLiteral("database.port"), 5433},
         {QStringLiteral("database.user"), QStringLiteral("u")},
         {QStringLiteral("database.password"), QStringLiteral("p@x")},
         {QStringLiteral("database.databaseName"), QStringLiteral("db")}});
    one("--domain", QStringLiteral("domain"), QStringLiteral("example.org"), QStringLiteral("domain"),
        QStringLiteral("example.org"));
    one("--domain lower-cased", QStringLiteral("domain"), QStringLiteral("Example.ORG"), QStringLiteral("domain"),
        QStringLiteral("example.org"));
    one("--hostname", QStringLiteral("hostname"), QStringLiteral("mx1.example.test"), QStringLiteral("hostname"),
        QStringLiteral("mx1.example.test"));
    row("--cert and --key", {QStringLiteral("--cert"), QStringLiteral("pair/c.pem"), QStringLiteral("--key"),
                             QStringLiteral("/etc/ssl/private/k.pem")},
        {{QStringLiteral("certificateFile"), absoluteFromCurrent(QStringLiteral("pair/c.pem"))},
         {QStringLiteral("keyFile"), QStringLiteral("/etc/ssl/private/k.pem")},
         {QStringLiteral("tlsFilesGiven"), true}});
    one("--pbkdf2-iterations minimum", QStringLiteral("pbkdf2-iterations"),
        QString::number(Passwords::MinIterations), QStringLiteral("pbkdf2Iterations"), Passwords::MinIterations);
    one("--pbkdf2-iterations higher", QStringLiteral("pbkdf2-iterations"), QStringLiteral("200000"),
        QStringLiteral("pbkdf2Iterations"), 200000);
    one("--listen ipv4", QStringLiteral("listen"), QStringLiteral("0.0.0.0:2525"), QStringLiteral("listen"),
        QStringLiteral("0.0.0.0:2525"));
    one("--listen ipv6", QStringLiteral("listen"), QStringLiteral("[::1]:9025"), QStringLiteral("listen"),
        QStringLiteral("[::1]:9025"));
    one("--listen port 0", QStringLiteral("listen"), QStringLiteral("localhost:0"), QStringLiteral("listen"),
        QStringLiteral("127.0.0.1:0"));
    one("--listen-tls", QStringLiteral("listen-tls"), QStringLiteral("127.0.0.1:8465"), QStringLiteral("listenTls"),
        QStringLiteral("127.0.0.1:8465"));
    one("--registration closed", QStringLiteral("registration"), QStringLiteral("closed"),
        QStringLiteral("registration"), QStringLiteral("closed"));

    one("--max-message-size plain", QStringLiteral("max-message-size"), QStringLiteral("2048"),
        QStringLiteral("maxMessageBytes"), 2048);
    one("--max-message-size K", QStringLiteral("max-message-size"), QStringLiteral("512K"),
        QStringLiteral("maxMessageBytes"), 512 * 1024);
    one("--max-message-size k", QStringLiteral("max-message-size"), QStringLiteral("3k"),
        QStringLiteral("maxMessageBytes"), 3 * 1024);
    one("--max-message-size M", QStringLiteral("max-message-size"), QStringLiteral("10M"),
        QStringLiteral("maxMessageBytes"), 10 * 1024 * 1024);
    one("--max-message-size G", QStringLiteral("max-message-size"), QStringLiteral("1G"),
        QStringLiteral("maxMessageBytes"), 1024 * 1024 * 1024);
    one("--max-header-size K", QStringLiteral("max-header-size"), QStringLiteral("64K"),
        QStringLiteral("maxHeaderBytes"), 64 * 1024);
    one("--max-header-size plain", QStringLiteral("max-header-size"), QStringLiteral("1024"),
        QStringLiteral("maxHeaderBytes"), 1024);
    one("--data-timeout", QStringLiteral("data-timeout"), QStringLiteral("30"), QStringLiteral("dataTimeoutSeconds"),
        30);
    one("--max-recipients", QStringLiteral("max-recipients"), QStringLiteral("5"), QStringLiteral("maxRecipients"), 5);
    one("--max-connections", QStringLiteral("max-connections"), QStringLiteral("10"),
        QStringLiteral("maxConnections"), 10);
    one("--max-connections-per-address", QStringLiteral("max-connections-per-address"), QStringLiteral("3"),
        QStringLiteral("maxConnectionsPerAddress"), 3);
    one("--idle-timeout", QStringLiteral("idle-timeout"), QStringLiteral("30"), QStringLiteral("idleTimeoutSeconds"),
        30);
    one("--max-request-head K", QStringLiteral("max-request-head"), QStringLiteral("32K"),
        QStringLiteral("maxRequestHeadBytes"), 32 * 1024);
    one("--max-request-head plain", QStringLiteral("max-request-head"), QStringLiteral("4096"),
        QStringLiteral("maxRequestHeadBytes"), 4096);
    one("--max-request-body M", QStringLiteral("max-request-body"), QStringLiteral("1M"),
        QStringLiteral("maxRequestBodyBytes"), 1024 * 1024);
    one("--max-request-body K", QStringLiteral("max-request-body"), QStringLiteral("128K"),
        QStringLiteral("maxRequestBodyBytes"), 128 * 1024);
    one("--keepalive-timeout", QStringLiteral("keepalive-timeout"), QStringLiteral("5"),
        QStringLiteral("keepAliveTimeoutSeconds"), 5);
    one("--handshake-timeout", QStringLiteral("handshake-timeout"), QStringLiteral("2"),
        QStringLiteral("handshakeTimeoutSeconds"), 2);
    one("--token-lifetime", QStringLiteral("token-lifetime"), QStringLiteral("3600"),
        QStringLiteral("tokenLifetimeSeconds"), 3600);
    one("--login-window", QStringLiteral("login-window"), QStringLiteral("60"), QStringLiteral("loginWindowSeconds"),
        60);
    one("--max-failed-logins-per-address", QStringLiteral("max-failed-logins-per-address"), QStringLiteral("3"),
        QStringLiteral("failedLoginsPerAddress"), 3);
    one("--max-failed-logins-per-user", QStringLiteral("max-failed-logins-per-user"), QStringLiteral("4"),
        QStringLiteral("failedLoginsPerUsername"), 4);
}

void TestConfig::optionChangesItsField()
{
    QFETCH(QStringList, arguments);
    QFETCH(QVariantMap, changes);

    const ConfigOptions options(allGroups(), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    QVERIFY2(parser.parse(commandLine(arguments)), qPrintable(parser.errorText()));

    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    QVERIFY2(config.has_value(), qPrintable(error));

    const QVariantMap actual = fields(*config);
    QVariantMap expected = specDefaults();
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        QVERIFY2(expected.contains(it.key()), qPrintable(it.key()));
        QVERIFY2(expected.value(it.key()) != it.value(),
                 qPrintable(QStringLiteral("row expects %1 to change but gives its default").arg(it.key())));
        expected.insert(it.key(), it.value());
    }
    QCOMPARE(actual.keys(), expected.keys());
    for (auto it = expected.cbegin(); it != expected.cend(); ++it)
        QVERIFY2(actual.value(it.key()) == it.value(),
                 qPrintable(QStringLiteral("%1: got '%2', expected '%3'")
                                .arg(it.key(), actual.value(it.key()).toString(), it.value().toString())));
}

void TestConfig::badValueNamesOption_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("named"); // options the error must name, with their dashes

    const auto bad = [](const char *tag, const QString &option, const QString &value) {
        QTest::newRow(tag) << QStringList{QString(u"--" + option + u'=' + value)} << QStringList{QString(u"--" + option)};
    };
    bad("--max-message-size 10x", QStringLiteral("max-message-size"), QStringLiteral("10x"));
    bad("--max-message-size empty", QStringLiteral("max-message-size"), QString());
    bad("--max-message-size suffix only", QStringLiteral("max-message-size"), QStringLiteral("M"));
    bad("--max-message-size below 1K", QStringLiteral("max-message-size"), QStringLiteral("1023"));
    bad("--max-message-size 2G", QStringLiteral("max-message-size"), QStringLiteral("2G"));
    bad("--max-message-size negative", QStringLiteral("max-message-size"), QStringLiteral("-1K"));
    bad("--max-message-size fraction", QStringLiteral("max-message-size"), QStringLiteral("1.5M"));
    // 17179869185 = 2^34 + 1: times 2^30 this overflows 64 bits to exactly 1 GiB.
    bad("--max-message-size 64-bit overflow", QStringLiteral("max-message-size"), QStringLiteral("17179869185G"));
    bad("--max-message-size huge", QStringLiteral("max-message-size"), QStringLiteral("99999999999999999999"));
    bad("--max-header-size below 1K", QStringLiteral("max-header-size"), QStringLiteral("1023"));
    bad("--max-header-size 2G", QStringLiteral("max-header-size"), QStringLiteral("2G"));
    bad("--data-timeout 0", QStringLiteral("data-timeout"), QStringLiteral("0"));
    bad("--data-timeout above a day", QStringLiteral("data-timeout"), QStringLiteral("86401"));
    bad("--max-recipients 0", QStringLiteral("max-recipients"), QStringLiteral("0"));
    bad("--max-recipients no suffix", QStringLiteral("max-recipients"), QStringLiteral("1K"));
    bad("--max-recipients above maximum", QStringLiteral("max-recipients"), QStringLiteral("10001"));
    bad("--max-connections 0", QStringLiteral("max-connections"), QStringLiteral("0"));
    bad("--max-connections-per-address word", QStringLiteral("max-connections-per-address"), QStringLiteral("many"));
    bad("--idle-timeout negative", QStringLiteral("idle-timeout"), QStringLiteral("-5"));
    bad("--max-request-head 512", QStringLiteral("max-request-head"), QStringLiteral("512"));
    bad("--max-request-body 17M", QStringLiteral("max-request-body"), QStringLiteral("17M"));
    bad("--keepalive-timeout 0", QStringLiteral("keepalive-timeout"), QStringLiteral("0"));
    bad("--handshake-timeout 301", QStringLiteral("handshake-timeout"), QStringLiteral("301"));
    bad("--token-lifetime 59", QStringLiteral("token-lifetime"), QStringLiteral("59"));
    bad("--login-window 0", QStringLiteral("login-window"), QStringLiteral("0"));
    bad("--max-failed-logins-per-address 0", QStringLiteral("max-failed-logins-per-address"), QStringLiteral("0"));
    bad("--max-failed-logins-per-user x", QStringLiteral("max-failed-logins-per-user"), QStringLiteral("x"));
    bad("--registration maybe", QStringLiteral("registration"), QStringLiteral("maybe"));
    bad("--registration empty", QStringLiteral("registration"), QString());
    bad("--listen nonsense", QStringLiteral("listen"), QStringLiteral("nonsense"));
    bad("--listen empty", QStringLiteral("listen"), QString());
    bad("--listen port 70000", QStringLiteral("listen"), QStringLiteral("127.0.0.1:70000"));
    bad("--listen-tls host name", QStringLiteral("listen-tls"), QStringLiteral("mail.example.com:8465"));
    bad("--domain bad domain", QStringLiteral("domain"), QStringLiteral("bad domain"));
    bad("--domain empty", QStringLiteral("domain"), QString());
    bad("--hostname underscore", QStringLiteral("hostname"), QStringLiteral("mail_host"));
    bad("--database mysql", QStringLiteral("database"), QStringLiteral("mysql://u:s3cret@h/db"));
    bad("--database password with a slash", QStringLiteral("database"), QStringLiteral("postgresql://bob:pa/s3cret@db.example/mail"));
    bad("--database password with a hash", QStringLiteral("database"), QStringLiteral("postgresql://bob:s3cret#x@db.example/mail"));
    bad("--database bad port", QStringLiteral("database"), QStringLiteral("postgresql://bob:s3cret@db.example:99999/mail"));
    bad("--database postgresql without host", QStringLiteral("database"), QStringLiteral("postgresql://u:s3cret@/db"));
    bad("--max-recipients plus sign", QStringLiteral("max-recipients"), QStringLiteral("+5"));
    bad("--pbkdf2-iterations 999", QStringLiteral("pbkdf2-iterations"), QStringLiteral("999"));
    bad("--pbkdf2-iterations word", QStringLiteral("pbkdf2-iterations"), QStringLiteral("lots"));
    bad("--pbkdf2-iterations no suffix", QStringLiteral("pbkdf2-iterations"), QStringLiteral("100K"));
    QTest::newRow("--cert without --key") << QStringList{QStringLiteral("--cert"), QStringLiteral("c.pem")}
                                          << QStringList{QStringLiteral("--cert"), QStringLiteral("--key")};
    QTest::newRow("--key without --cert") << QStringList{QStringLiteral("--key"), QStringLiteral("k.pem")}
                                          << QStringList{QStringLiteral("--cert"), QStringLiteral("--key")};
}

void TestConfig::badValueNamesOption()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, named);

    const ConfigOptions options(allGroups(), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    QVERIFY2(parser.parse(commandLine(arguments)), qPrintable(parser.errorText()));

    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    if (config) {
        const QVariantMap defaults = specDefaults();
        const QVariantMap actual = fields(*config);
        QStringList taken;
        for (auto it = actual.cbegin(); it != actual.cend(); ++it) {
            if (it.value() != defaults.value(it.key()))
                taken += it.key() + u'=' + it.value().toString();
        }
        QFAIL(qPrintable(QStringLiteral("accepted '%1' as %2").arg(arguments.join(u' '), taken.join(u", "))));
    }
    QVERIFY2(!error.isEmpty(), "a refused option must come with an explanation");
    QVERIFY2(!error.contains(u'\n'), qPrintable(error)); // docs/PROTOCOL.md §2: a one-line error
    for (const QString &option : named)
        QVERIFY2(error.contains(option), qPrintable(QStringLiteral("'%1' does not name %2").arg(error, option)));
    // Errors end up in logs: a database password never does.
    QVERIFY2(!error.contains(QStringLiteral("s3cret")), qPrintable(error));
}

void TestConfig::groupsAddOnlyTheirOptions_data()
{
    QTest::addColumn<int>("groups");
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("known");

    using G = ConfigOptions;
    struct OptionOf
    {
        const char *name;
        const char *value;
        G::Groups groups; // an option belonging to several groups is in each
    };
    const QList<OptionOf> all = {
        {"data-dir", "/tmp/d", G::Storage},
        {"database", "sqlite:x.db", G::Storage},
        {"domain", "example.org", G::Storage},
        {"hostname", "mail.example.org", G::Storage},
        {"pbkdf2-iterations", "1000", G::Storage},
        {"listen", "127.0.0.1:1", G::Listen},
        {"listen-tls", "127.0.0.1:2", G::ListenTls},
        {"registration", "closed", G::RegistrationMode},
        {"max-message-size", "1M", G::SmtpLimits},
        {"max-recipients", "3", G::SmtpLimits},
        {"max-header-size", "2K", G::SmtpLimits},
        {"data-timeout", "3", G::SmtpLimits},
        {"max-connections", "3", G::Groups(G::SmtpLimits) | G::WebLimits},
        {"max-connections-per-address", "3", G::Groups(G::SmtpLimits) | G::WebLimits},
        {"idle-timeout", "3", G::SmtpLimits},
        {"handshake-timeout", "3", G::Groups(G::SmtpLimits) | G::WebLimits},
        {"max-request-head", "2K", G::WebLimits},
        {"max-request-body", "2K", G::WebLimits},
        {"keepalive-timeout", "3", G::WebLimits},
        {"token-lifetime", "600", G::WebLimits},
        {"login-window", "3", G::Throttling},
        {"max-failed-logins-per-address", "3", G::Throttling},
        {"max-failed-logins-per-user", "3", G::Throttling},
    };
    const QList<QPair<const char *, G::Group>> groups = {
        {"Storage", G::Storage},       {"Listen", G::Listen},         {"ListenTls", G::ListenTls},
        {"Registration", G::RegistrationMode}, {"SmtpLimits", G::SmtpLimits}, {"WebLimits", G::WebLimits},
        {"Throttling", G::Throttling},
    };
    for (const auto &[groupName, group] : groups) {
        for (const OptionOf &option : all) {
            const bool known = option.groups.testFlag(group);
            QTest::addRow("%s %s --%s", groupName, known ? "has" : "lacks", option.name)
                << int(group) << QString::fromLatin1(option.name) << QString::fromLatin1(option.value) << known;
        }
    }
    // --cert and --key come with Storage only.
    QTest::newRow("Storage has --cert") << int(G::Storage) << QStringLiteral("cert") << QStringLiteral("c.pem") << true;
    QTest::newRow("SmtpLimits lacks --cert")
        << int(G::SmtpLimits) << QStringLiteral("cert") << QStringLiteral("c.pem") << false;
    QTest::newRow("no groups lack --data-dir") << 0 << QStringLiteral("data-dir") << QStringLiteral("/x") << false;
}

void TestConfig::groupsAddOnlyTheirOptions()
{
    QFETCH(int, groups);
    QFETCH(QString, option);
    QFETCH(QString, value);
    QFETCH(bool, known);

    const ConfigOptions options(ConfigOptions::Groups::fromInt(groups), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    const bool parsed = parser.parse(commandLine({QString(u"--" + option), value}));
    if (!known) {
        QVERIFY2(!parsed, "an option of a group that was not requested was accepted");
        QCOMPARE(parser.unknownOptionNames(), QStringList{option});
        return;
    }
    QVERIFY2(parsed, qPrintable(parser.errorText()));
    QVERIFY(parser.isSet(option));
    if (option == u"cert")
        return; // needs --key as well; badValueNamesOption covers it
    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    QVERIFY2(config.has_value(), qPrintable(error));
    // The value took effect: the config differs from one read without it.
    QCommandLineParser plain;
    options.addTo(plain);
    QVERIFY(plain.parse(commandLine({})));
    const std::optional<Config> defaults = options.read(plain, &error);
    QVERIFY2(defaults.has_value(), qPrintable(error));
    QVERIFY2(fields(*config) != fields(*defaults), qPrintable(option));
}

void TestConfig::everyOptionHasHelp()
{
    const QStringList names = {
        QStringLiteral("data-dir"), QStringLiteral("database"), QStringLiteral("domain"),
        QStringLiteral("hostname"), QStringLiteral("cert"), QStringLiteral("key"),
        QStringLiteral("pbkdf2-iterations"), QStringLiteral("listen"), QStringLiteral("listen-tls"),
        QStringLiteral("registration"), QStringLiteral("max-message-size"), QStringLiteral("max-recipients"),
        QStringLiteral("max-connections"), QStringLiteral("max-connections-per-address"),
        QStringLiteral("idle-timeout"), QStringLiteral("max-request-head"), QStringLiteral("max-request-body"),
        QStringLiteral("keepalive-timeout"), QStringLiteral("handshake-timeout"), QStringLiteral("token-lifetime"),
        QStringLiteral("login-window"), QStringLiteral("max-failed-logins-per-address"),
        QStringLiteral("max-failed-logins-per-user"), QStringLiteral("database-password-file"),
        QStringLiteral("max-header-size"), QStringLiteral("data-timeout"),
    };
    const ConfigOptions options(allGroups(), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    const QStringList lines = parser.helpText().split(u'\n');
    for (const QString &name : names) {
        // "  --name <VALUE>   Description." on a line of its own.
        const QRegularExpression pattern(u"^\\s+--" + QRegularExpression::escape(name)
                                         + u"(?:\\s+<[^>]+>)?\\s{2,}\\S");
        QVERIFY(pattern.isValid());
        const qsizetype count = std::count_if(lines.cbegin(), lines.cend(),
                                              [&](const QString &line) { return pattern.match(line).hasMatch(); });
        QVERIFY2(count == 1, qPrintable(QStringLiteral("--%1 has %2 help lines in:\n%3")
                                            .arg(name).arg(count).arg(parser.helpText())));
    }
    // Nothing beyond these: every "--" option line is one of them.
    const QRegularExpression anyOption(QStringLiteral("^\\s+--([a-z0-9-]+)"));
    for (const QString &line : lines) {
        const QRegularExpressionMatch match = anyOption.match(line);
        if (match.hasMatch())
            QVERIFY2(names.contains(match.captured(1)), qPrintable(line));
    }
}

// The PostgreSQL password need not stand on the command line: a file (first
// line, line end dropped) wins over the environment, which wins over the URL.
void TestConfig::databasePasswordSources_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QByteArray>("file"); // written to a file given to --database-password-file; null: no option
    QTest::addColumn<QString>("environment"); // null: unset
    QTest::addColumn<QString>("password");    // null: refused
    QTest::addColumn<QString>("errorPart");

    const QString withPassword = QStringLiteral("postgresql://mail:from-url@127.0.0.1:5432/mail");
    const QString withoutPassword = QStringLiteral("postgresql://mail@127.0.0.1:5432/mail");
    QTest::newRow("URL only") << withPassword << QByteArray() << QString() << QStringLiteral("from-url") << QString();
    QTest::newRow("environment over URL") << withPassword << QByteArray() << QStringLiteral("from-env")
                                          << QStringLiteral("from-env") << QString();
    QTest::newRow("file over environment") << withoutPassword << QByteArray("from-file\n") << QStringLiteral("from-env")
                                           << QStringLiteral("from-file") << QString();
    QTest::newRow("file with CRLF and a second line")
        << withoutPassword << QByteArray("p@ss w:rd\r\nignored\n") << QString() << QStringLiteral("p@ss w:rd") << QString();
    QTest::newRow("file without line end") << withoutPassword << QByteArray("bare") << QString()
                                           << QStringLiteral("bare") << QString();
    QTest::newRow("empty file") << withoutPassword << QByteArray("") << QString() << QString()
                                << QStringLiteral("the password, is empty");
    QTest::newRow("no password anywhere") << withoutPassword << QByteArray() << QString() << QStringLiteral("")
                                          << QString();
    QTest::newRow("SQLite ignores both") << QStringLiteral("sqlite:/tmp/x.db") << QByteArray("unused\n")
                                         << QStringLiteral("unused") << QStringLiteral("") << QString();
}

void TestConfig::databasePasswordSources()
{
    QFETCH(QString, url);
    QFETCH(QByteArray, file);
    QFETCH(QString, environment);
    QFETCH(QString, password);
    QFETCH(QString, errorPart);

    QTemporaryDir dir;
    QStringList arguments{QStringLiteral("--database"), url};
    if (!file.isNull()) {
        const QString path = dir.filePath(QStringLiteral("password"));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(file);
        out.close();
        arguments << QStringLiteral("--database-password-file") << path;
    }
    if (environment.isNull())
        qunsetenv("MAILROOM_DATABASE_PASSWORD");
    else
        qputenv("MAILROOM_DATABASE_PASSWORD", environment.toUtf8());
    const ConfigOptions options(allGroups(), defaultListen());
    QCommandLineParser parser;
    options.addTo(parser);
    QVERIFY(parser.parse(commandLine(arguments)));
    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    qunsetenv("MAILROOM_DATABASE_PASSWORD");
    if (password.isNull()) {
        QVERIFY(!config);
        QVERIFY2(error.contains(errorPart), qPrintable(error));
        return;
    }
    QVERIFY2(config, qPrintable(error));
    QCOMPARE(config->database.password, password);
}

QTEST_GUILESS_MAIN(TestConfig)

#include "tst_config.moc"
