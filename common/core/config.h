#pragma once

#include <QFlags>
#include <QHostAddress>
#include <QString>

#include <optional>

class QCommandLineParser;

// HOST:PORT as given to --listen; "[::1]:8025" for IPv6 (RFC 3986 §3.2.2 brackets).
struct ListenAddress
{
    QHostAddress host;
    quint16 port = 0;

    [[nodiscard]] QString toString() const;
    // Port 0 is accepted: the system picks one (used by tests).
    [[nodiscard]] static std::optional<ListenAddress> parse(QStringView text, QString *error);
    friend bool operator==(const ListenAddress &, const ListenAddress &) = default;
};

// --database: the embedded SQLite file by default, or postgresql://user:pass@host:port/db.
struct DatabaseUrl
{
    enum class Kind { Sqlite, Postgresql };
    Kind kind = Kind::Sqlite;
    QString sqlitePath;
    QString host;
    int port = 5432;
    QString user;
    QString password;
    QString databaseName;

    // "sqlite:PATH", "sqlite:///ABS/PATH", a bare file path, or postgresql://...
    [[nodiscard]] static std::optional<DatabaseUrl> parse(const QString &text, QString *error);
    // For logs and messages: never shows the password.
    [[nodiscard]] QString displayString() const;
};

enum class Registration { Open, Closed };

// Limits and timeouts, with the defaults of docs/PROTOCOL.md §2.
struct Limits
{
    int maxMessageBytes = 25 * 1024 * 1024;
    // docs/protocol/smtp.md §7: work per message stays bounded whatever the
    // header holds (e.g. millions of addresses in To:).
    int maxHeaderBytes = 256 * 1024;
    int maxRecipients = 100;
    int maxConnections = 1024;
    int maxConnectionsPerAddress = 64;
    int idleTimeoutSeconds = 300;
    // SMTP DATA as a whole, however steadily the data trickles in.
    int dataTimeoutSeconds = 600;
    int maxRequestHeadBytes = 16 * 1024;
    int maxRequestBodyBytes = 64 * 1024;
    int keepAliveTimeoutSeconds = 60;
    int handshakeTimeoutSeconds = 10;
    int tokenLifetimeSeconds = 24 * 3600;
    int loginWindowSeconds = 300;
    int failedLoginsPerAddress = 10;
    int failedLoginsPerUsername = 20;
    // Event-loop threads the connections are spread over; 0: one per CPU
    // core (at most 8).
    int networkThreads = 0;
};

// The options every executable shares (docs/PROTOCOL.md §2).
struct Config
{
    QString dataDir = QStringLiteral("./mailroom-data");
    DatabaseUrl database; // resolved: defaults to <dataDir>/mailroom.db
    QString domain = QStringLiteral("project.com");
    QString hostname;
    QString certificateFile; // resolved: defaults to <dataDir>/tls/cert.pem
    QString keyFile;         // resolved: defaults to <dataDir>/tls/key.pem
    bool tlsFilesGiven = false; // --cert/--key: use them, never generate
    std::optional<ListenAddress> listen;
    std::optional<ListenAddress> listenTls;
    Registration registration = Registration::Open;
    Limits limits;
    int pbkdf2Iterations = 0; // 0: Pbkdf2Iterations::Default

    [[nodiscard]] QString address(const QString &username) const { return username + u'@' + domain; }
};

// Adds the option groups an executable uses to a QCommandLineParser and reads
// them back validated. A bad value yields one line naming the option and the fix.
class ConfigOptions
{
public:
    enum Group {
        Storage = 0x1,      // --data-dir --database --domain --hostname --cert --key --pbkdf2-iterations
        Listen = 0x2,       // --listen
        ListenTls = 0x4,    // --listen-tls
        RegistrationMode = 0x8, // --registration
        SmtpLimits = 0x10,  // message and header size, recipients, connections, idle and DATA timeouts
        WebLimits = 0x20,   // head/body sizes, keep-alive, handshake, token lifetime, connections
        Throttling = 0x40,  // failed-login window and thresholds
        ConnectionLimits = 0x80, // connections (in all, per address), idle and handshake timeouts (POP3)
        NetworkThreads = 0x100,  // --threads
        MessageLimits = 0x200,   // message and header size alone (imapd's APPEND)
    };
    Q_DECLARE_FLAGS(Groups, Group)

    // defaultListen is used when --listen is not given (e.g. "127.0.0.1:8025").
    ConfigOptions(Groups groups, QString defaultListen = {});

    void addTo(QCommandLineParser &parser) const;
    [[nodiscard]] std::optional<Config> read(const QCommandLineParser &parser, QString *error) const;

private:
    Groups m_groups;
    QString m_defaultListen;
};

Q_DECLARE_OPERATORS_FOR_FLAGS(ConfigOptions::Groups)

// A host name for the greeting and the certificate: RFC 1123 labels.
[[nodiscard]] bool isValidHostname(QStringView name);
// The machine's host name when it is a valid one, else "localhost".
[[nodiscard]] QString defaultHostname();
