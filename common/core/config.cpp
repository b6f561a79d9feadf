#include "config.h"

#include "pbkdf2iterations.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QSysInfo>
#include <QUrl>

#include <algorithm>
#include <limits>

namespace {

struct NumericOption
{
    ConfigOptions::Groups groups;
    QString name;
    QString valueName;
    QString help;
    int Limits::*member;
    int minimum;
    int maximum;
    bool bytes; // accepts K/M/G suffixes (powers of 1024)
};

const QList<NumericOption> &numericOptions()
{
    using G = ConfigOptions;
    static const QList<NumericOption> options = {
        {G::Groups(G::SmtpLimits) | G::MessageLimits, QStringLiteral("max-message-size"), QStringLiteral("BYTES"),
         QStringLiteral("Largest message accepted, K/M/G suffixes allowed (default 25M)."), &Limits::maxMessageBytes,
         1024, 1 << 30, true},
        {G::Groups(G::SmtpLimits) | G::MessageLimits, QStringLiteral("max-header-size"), QStringLiteral("BYTES"),
         QStringLiteral("Largest header section of a message, K/M/G suffixes allowed (default 256K)."),
         &Limits::maxHeaderBytes, 1024, 1 << 30, true},
        {G::SmtpLimits, QStringLiteral("max-recipients"), QStringLiteral("N"),
         QStringLiteral("Recipients per message (default 100)."), &Limits::maxRecipients, 1, 10000, false},
        {G::Groups(G::SmtpLimits) | G::WebLimits | G::ConnectionLimits, QStringLiteral("max-connections"), QStringLiteral("N"),
         QStringLiteral("Open connections in all (default 1024)."), &Limits::maxConnections, 1, 100000, false},
        {G::Groups(G::SmtpLimits) | G::WebLimits | G::ConnectionLimits, QStringLiteral("max-connections-per-address"), QStringLiteral("N"),
         QStringLiteral("Open connections from one client address (default 64)."), &Limits::maxConnectionsPerAddress,
         1, 100000, false},
        {G::Groups(G::SmtpLimits) | G::ConnectionLimits, QStringLiteral("idle-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("Time allowed per command and per data chunk (default 300)."), &Limits::idleTimeoutSeconds, 1,
         86400, false},
        {G::SmtpLimits, QStringLiteral("data-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("Time allowed for a message's whole DATA (default 600)."), &Limits::dataTimeoutSeconds, 1,
         86400, false},
        {G::WebLimits, QStringLiteral("max-request-head"), QStringLiteral("BYTES"),
         QStringLiteral("Largest request line plus headers (default 16K)."), &Limits::maxRequestHeadBytes, 1024,
         1 << 20, true},
        {G::WebLimits, QStringLiteral("max-request-body"), QStringLiteral("BYTES"),
         QStringLiteral("Largest request body (default 64K)."), &Limits::maxRequestBodyBytes, 1024, 16 << 20, true},
        {G::WebLimits, QStringLiteral("keepalive-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("Idle time before a kept-alive connection is closed (default 60)."),
         &Limits::keepAliveTimeoutSeconds, 1, 3600, false},
        {G::Groups(G::SmtpLimits) | G::WebLimits | G::ConnectionLimits, QStringLiteral("handshake-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("Time allowed for a TLS handshake (default 10)."), &Limits::handshakeTimeoutSeconds, 1, 300,
         false},
        {G::WebLimits, QStringLiteral("token-lifetime"), QStringLiteral("SECONDS"),
         QStringLiteral("How long a login token is valid (default 86400)."), &Limits::tokenLifetimeSeconds, 60,
         90 * 86400, false},
        {G::Throttling, QStringLiteral("login-window"), QStringLiteral("SECONDS"),
         QStringLiteral("Sliding window for counting failed logins (default 300)."), &Limits::loginWindowSeconds, 1,
         86400, false},
        {G::Throttling, QStringLiteral("max-failed-logins-per-address"), QStringLiteral("N"),
         QStringLiteral("Failed logins from one address before it is refused (default 10)."),
         &Limits::failedLoginsPerAddress, 1, 100000, false},
        {G::Throttling, QStringLiteral("max-failed-logins-per-user"), QStringLiteral("N"),
         QStringLiteral("Failed logins for one name before answers are delayed (default 20)."),
         &Limits::failedLoginsPerUsername, 1, 100000, false},
        {G::NetworkThreads, QStringLiteral("threads"), QStringLiteral("N"),
         QStringLiteral("Event-loop threads serving connections (default: one per CPU core, at most 8)."),
         &Limits::networkThreads, 1, 64, false},
    };
    return options;
}

std::optional<qint64> parseAmount(QString text, bool bytes)
{
    qint64 multiplier = 1;
    if (bytes && !text.isEmpty()) {
        const QChar suffix = text.back().toUpper();
        const qint64 shift = suffix == u'K' ? 10 : suffix == u'M' ? 20 : suffix == u'G' ? 30 : 0;
        if (shift) {
            multiplier = qint64(1) << shift;
            text.chop(1);
        }
    }
    if (text.isEmpty() || !std::all_of(text.cbegin(), text.cend(), [](QChar c) { return c.isDigit(); }))
        return std::nullopt;
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value > std::numeric_limits<qint64>::max() / multiplier)
        return std::nullopt;
    return value * multiplier;
}

// Error messages end up in logs: a database URL's password must not. Done
// on the text, since a URL that does not parse may hold one too
// ("postgresql://bob:pa/ss@host/db"): whatever stands between the first
// ':' after "scheme://" and the last '@' goes.
QString withoutPassword(const QString &value)
{
    const qsizetype scheme = value.indexOf(QStringLiteral("://"));
    if (scheme < 0)
        return value;
    const qsizetype at = value.lastIndexOf(u'@');
    const qsizetype colon = value.indexOf(u':', scheme + 3);
    if (at < 0 || colon < 0 || colon > at)
        return value;
    return value.left(colon + 1) + QStringLiteral("***") + value.sliced(at);
}

QString optionError(const QString &name, const QString &value, const QString &fix)
{
    return QStringLiteral("invalid --%1 '%2': %3").arg(name, value, fix);
}

QString absolute(const QString &path)
{
    return QDir::cleanPath(QDir::current().absoluteFilePath(path));
}

// The password need not stand on the command line, where every user of the
// machine can read it (ps): a file only the service can read (systemd's
// LoadCredential) or the environment.
bool readDatabasePassword(const QCommandLineParser &parser, DatabaseUrl *database, QString *error)
{
    if (database->kind != DatabaseUrl::Kind::Postgresql)
        return true;
    if (parser.isSet(QStringLiteral("database-password-file"))) {
        const QString path = parser.value(QStringLiteral("database-password-file"));
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = optionError(QStringLiteral("database-password-file"), path,
                                 QStringLiteral("cannot read it (%1)").arg(file.errorString()));
            return false;
        }
        QByteArray line = file.readLine(4096);
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            *error = optionError(QStringLiteral("database-password-file"), path,
                                 QStringLiteral("its first line, the password, is empty"));
            return false;
        }
        database->password = QString::fromUtf8(line);
    } else if (qEnvironmentVariableIsSet("MAILROOM_DATABASE_PASSWORD")) {
        database->password = qEnvironmentVariable("MAILROOM_DATABASE_PASSWORD");
    }
    return true;
}

} // namespace

QString ListenAddress::toString() const
{
    const QString hostText = host.protocol() == QAbstractSocket::IPv6Protocol
        ? u'[' + host.toString() + u']'
        : host.toString();
    return hostText + u':' + QString::number(port);
}

std::optional<ListenAddress> ListenAddress::parse(QStringView text, QString *error)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon <= 0) {
        *error = QStringLiteral("expected HOST:PORT, e.g. 127.0.0.1:8025 or [::1]:8025");
        return std::nullopt;
    }
    QStringView hostText = text.first(colon);
    const QStringView portText = text.sliced(colon + 1);
    bool ok = !portText.isEmpty()
        && std::all_of(portText.cbegin(), portText.cend(), [](QChar c) { return c.isDigit(); });
    const uint port = ok ? portText.toUInt(&ok) : 0;
    if (!ok || port > 65535) {
        *error = QStringLiteral("the port must be a number from 0 to 65535");
        return std::nullopt;
    }
    ListenAddress result;
    result.port = quint16(port);
    const bool bracketed = hostText.startsWith(u'[') && hostText.endsWith(u']');
    if (bracketed)
        hostText = hostText.sliced(1, hostText.size() - 2);
    else if (hostText.contains(u':')) {
        *error = QStringLiteral("write an IPv6 address in brackets, e.g. [::1]:8025");
        return std::nullopt;
    }
    if (hostText == u"localhost")
        result.host = QHostAddress(QHostAddress::LocalHost);
    else if (hostText == u"*")
        result.host = QHostAddress(QHostAddress::Any);
    else if (!result.host.setAddress(hostText.toString())) {
        *error = QStringLiteral("the host must be an IP address, 'localhost' or '*'");
        return std::nullopt;
    }
    if (bracketed && result.host.protocol() != QAbstractSocket::IPv6Protocol) {
        *error = QStringLiteral("only IPv6 addresses go in brackets");
        return std::nullopt;
    }
    return result;
}

std::optional<DatabaseUrl> DatabaseUrl::parse(const QString &text, QString *error)
{
    DatabaseUrl result;
    if (text.startsWith(u"postgresql://") || text.startsWith(u"postgres://")) {
        const QUrl url(text, QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty() || url.path().size() < 2) {
            *error = QStringLiteral("expected postgresql://user:password@host:port/database");
            return std::nullopt;
        }
        result.kind = Kind::Postgresql;
        result.host = url.host();
        result.port = url.port(5432);
        result.user = url.userName(QUrl::FullyDecoded);
        result.password = url.password(QUrl::FullyDecoded);
        result.databaseName = url.path(QUrl::FullyDecoded).sliced(1);
        return result;
    }
    QString path = text;
    if (path.startsWith(u"sqlite://"))
        path = path.sliced(9); // sqlite:///abs/path keeps its leading slash
    else if (path.startsWith(u"sqlite:"))
        path = path.sliced(7);
    else if (path.contains(u"://")) {
        *error = QStringLiteral("use a file path, sqlite:PATH or postgresql://user:password@host:port/database");
        return std::nullopt;
    }
    if (path.isEmpty()) {
        *error = QStringLiteral("the SQLite file path is empty");
        return std::nullopt;
    }
    result.sqlitePath = absolute(path);
    return result;
}

QString DatabaseUrl::displayString() const
{
    if (kind == Kind::Sqlite)
        return sqlitePath;
    return QStringLiteral("postgresql://%1@%2:%3/%4").arg(user, host).arg(port).arg(databaseName);
}

bool isValidHostname(QStringView name)
{
    if (name.isEmpty() || name.size() > 253)
        return false;
    for (QStringView label : name.split(u'.')) {
        if (label.isEmpty() || label.size() > 63 || label.startsWith(u'-') || label.endsWith(u'-'))
            return false;
        for (QChar c : label) {
            if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != u'-')
                return false;
        }
    }
    return true;
}

QString defaultHostname()
{
    const QString machine = QSysInfo::machineHostName();
    return isValidHostname(machine) ? machine : QStringLiteral("localhost");
}

ConfigOptions::ConfigOptions(Groups groups, QString defaultListen)
    : m_groups(groups)
    , m_defaultListen(std::move(defaultListen))
{
}

void ConfigOptions::addTo(QCommandLineParser &parser) const
{
    if (m_groups & Storage) {
        parser.addOptions({
            {QStringLiteral("data-dir"), QStringLiteral("Data directory (default ./mailroom-data)."),
             QStringLiteral("DIR"), QStringLiteral("./mailroom-data")},
            {QStringLiteral("database"),
             QStringLiteral("Database URL (default: the SQLite file DIR/mailroom.db), or "
                            "postgresql://USER@HOST:PORT/DATABASE."),
             QStringLiteral("URL")},
            {QStringLiteral("database-password-file"),
             QStringLiteral("File whose first line is the PostgreSQL password (else $MAILROOM_DATABASE_PASSWORD, "
                            "else the URL's, else libpq's ~/.pgpass)."),
             QStringLiteral("FILE")},
            {QStringLiteral("domain"), QStringLiteral("Mail domain of the accounts (default project.com)."),
             QStringLiteral("DOMAIN"), QStringLiteral("project.com")},
            {QStringLiteral("hostname"),
             QStringLiteral("Host name for greetings and the certificate (default: this machine's)."),
             QStringLiteral("NAME")},
            {QStringLiteral("cert"), QStringLiteral("PEM certificate to use instead of DIR/tls/cert.pem."),
             QStringLiteral("FILE")},
            {QStringLiteral("key"), QStringLiteral("PEM private key to use instead of DIR/tls/key.pem."),
             QStringLiteral("FILE")},
            {QStringLiteral("pbkdf2-iterations"),
             QStringLiteral("PBKDF2 iterations for new password hashes (default %1; tests only may lower it).")
                 .arg(Pbkdf2Iterations::Default),
             QStringLiteral("N")},
        });
    }
    if (m_groups & Listen) {
        parser.addOption({QStringLiteral("listen"),
                          QStringLiteral("Address to listen on (default %1).").arg(m_defaultListen),
                          QStringLiteral("HOST:PORT"), m_defaultListen});
    }
    if (m_groups & ListenTls) {
        parser.addOption({QStringLiteral("listen-tls"),
                          QStringLiteral("Also listen with implicit TLS on this address (default: off)."),
                          QStringLiteral("HOST:PORT")});
    }
    if (m_groups & RegistrationMode) {
        parser.addOption({QStringLiteral("registration"),
                          QStringLiteral("Whether REG may create accounts: open or closed (default open)."),
                          QStringLiteral("open|closed"), QStringLiteral("open")});
    }
    for (const NumericOption &option : numericOptions()) {
        if (m_groups & option.groups)
            parser.addOption({option.name, option.help, option.valueName});
    }
}

std::optional<Config> ConfigOptions::read(const QCommandLineParser &parser, QString *error) const
{
    Config config;
    if (m_groups & Storage) {
        config.dataDir = absolute(parser.value(QStringLiteral("data-dir")));
        if (parser.isSet(QStringLiteral("database"))) {
            QString why;
            const auto url = DatabaseUrl::parse(parser.value(QStringLiteral("database")), &why);
            if (!url) {
                *error = optionError(QStringLiteral("database"), withoutPassword(parser.value(QStringLiteral("database"))),
                                     why);
                return std::nullopt;
            }
            config.database = *url;
            if (!readDatabasePassword(parser, &config.database, error))
                return std::nullopt;
        } else {
            config.database.sqlitePath = config.dataDir + QStringLiteral("/mailroom.db");
        }
        config.domain = parser.value(QStringLiteral("domain")).toLower();
        if (!isValidHostname(config.domain)) {
            *error = optionError(QStringLiteral("domain"), config.domain,
                                 QStringLiteral("give a domain name such as project.com"));
            return std::nullopt;
        }
        config.hostname = parser.isSet(QStringLiteral("hostname")) ? parser.value(QStringLiteral("hostname"))
                                                                   : defaultHostname();
        if (!isValidHostname(config.hostname)) {
            *error = optionError(QStringLiteral("hostname"), config.hostname,
                                 QStringLiteral("give a host name such as mail.project.com"));
            return std::nullopt;
        }
        const bool certGiven = parser.isSet(QStringLiteral("cert"));
        if (certGiven != parser.isSet(QStringLiteral("key"))) {
            *error = QStringLiteral("--cert and --key go together: give both or neither");
            return std::nullopt;
        }
        config.tlsFilesGiven = certGiven;
        config.certificateFile = certGiven ? absolute(parser.value(QStringLiteral("cert")))
                                           : config.dataDir + QStringLiteral("/tls/cert.pem");
        config.keyFile = certGiven ? absolute(parser.value(QStringLiteral("key")))
                                   : config.dataDir + QStringLiteral("/tls/key.pem");
        config.pbkdf2Iterations = Pbkdf2Iterations::Default;
        if (parser.isSet(QStringLiteral("pbkdf2-iterations"))) {
            const QString value = parser.value(QStringLiteral("pbkdf2-iterations"));
            const auto iterations = parseAmount(value, false);
            if (!iterations || *iterations < Pbkdf2Iterations::Minimum || *iterations > 100'000'000) {
                *error = optionError(QStringLiteral("pbkdf2-iterations"), value,
                                     QStringLiteral("give a number from %1 up").arg(Pbkdf2Iterations::Minimum));
                return std::nullopt;
            }
            config.pbkdf2Iterations = int(*iterations);
        }
    }
    const auto readListen = [&](const QString &name, std::optional<ListenAddress> *target) {
        if (!parser.isSet(name) && parser.value(name).isEmpty())
            return true;
        QString why;
        *target = ListenAddress::parse(parser.value(name), &why);
        if (!*target)
            *error = optionError(name, parser.value(name), why);
        return target->has_value();
    };
    if ((m_groups & Listen) && !readListen(QStringLiteral("listen"), &config.listen))
        return std::nullopt;
    if ((m_groups & ListenTls) && !readListen(QStringLiteral("listen-tls"), &config.listenTls))
        return std::nullopt;
    if (m_groups & RegistrationMode) {
        const QString mode = parser.value(QStringLiteral("registration"));
        if (mode != u"open" && mode != u"closed") {
            *error = optionError(QStringLiteral("registration"), mode, QStringLiteral("use open or closed"));
            return std::nullopt;
        }
        config.registration = mode == u"open" ? Registration::Open : Registration::Closed;
    }
    for (const NumericOption &option : numericOptions()) {
        if (!(m_groups & option.groups) || !parser.isSet(option.name))
            continue;
        const QString value = parser.value(option.name);
        const auto amount = parseAmount(value, option.bytes);
        if (!amount || *amount < option.minimum || *amount > option.maximum) {
            *error = optionError(option.name, value,
                                 QStringLiteral("give a number from %1 to %2").arg(option.minimum).arg(option.maximum));
            return std::nullopt;
        }
        config.limits.*option.member = int(*amount);
    }
    return config;
}
