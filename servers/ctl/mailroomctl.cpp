#include "mailroomctl.h"

#include "passwords.h"
#include "tlsmaterial.h"
#include "username.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSqlQuery>
#include <QSslCertificate>
#include <QTimer>

#include <cstdio>

namespace {

constexpr int ExitOk = 0;
constexpr int ExitError = 2;

const QString CommandsHelp = QStringLiteral(
    "Commands:\n"
    "  init              Create the data directory, the database and a self-signed certificate.\n"
    "  add-user NAME     Create an account; the password is read from the terminal or one line of stdin.\n"
    "  passwd NAME       Set a new password (read the same way) and end the account's sessions.\n"
    "  del-user NAME     Delete an account, its sessions and its mailbox entries.\n"
    "  list-users        List the accounts.\n"
    "  stats             Show counts and sizes.\n"
    "  backup FILE       Write a consistent copy of the database to FILE, a new name (safe while servers run).\n"
    "  restore FILE      Replace the database's contents with those of a backup; ends every session.");

struct CommandSpec
{
    QString name;
    int arguments;
    QString usage;
};

const QList<CommandSpec> &commands()
{
    static const QList<CommandSpec> specs = {
        {QStringLiteral("init"), 0, QStringLiteral("init")},
        {QStringLiteral("add-user"), 1, QStringLiteral("add-user NAME")},
        {QStringLiteral("passwd"), 1, QStringLiteral("passwd NAME")},
        {QStringLiteral("del-user"), 1, QStringLiteral("del-user NAME")},
        {QStringLiteral("list-users"), 0, QStringLiteral("list-users")},
        {QStringLiteral("stats"), 0, QStringLiteral("stats")},
        {QStringLiteral("backup"), 1, QStringLiteral("backup FILE")},
        {QStringLiteral("restore"), 1, QStringLiteral("restore FILE")},
    };
    return specs;
}

QString isoUtc(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODate);
}

} // namespace

MailroomCtl::MailroomCtl(QObject *parent)
    : QObject(parent)
    , m_out(stdout)
    , m_err(stderr)
{
}

MailroomCtl::~MailroomCtl() = default;

void MailroomCtl::start(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Administers a Mailroom data directory.\n\n") + CommandsHelp);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("verbose"), QStringLiteral("Log what the store does on stderr.")});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("What to do (see Commands)."),
                                 QStringLiteral("COMMAND [ARG]"));
    const ConfigOptions options(ConfigOptions::Storage);
    options.addTo(parser);
    if (!parser.parse(arguments)) {
        fail(parser.errorText() + QStringLiteral(" (see --help)"));
        return;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        m_out << parser.helpText() << Qt::flush;
        succeed();
        return;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        m_out << QCoreApplication::applicationName() << u' ' << QCoreApplication::applicationVersion() << Qt::endl;
        succeed();
        return;
    }
    // The tool reports errors itself, in one line; the store's log lines are
    // for --verbose.
    if (!parser.isSet(QStringLiteral("verbose")))
        QLoggingCategory::setFilterRules(QStringLiteral("mailroom.*.info=false\nmailroom.*.warning=false"));
    QString error;
    const std::optional<Config> config = options.read(parser, &error);
    if (!config) {
        fail(error);
        return;
    }
    m_config = *config;
    m_initHint = QStringLiteral("mailroomctl --data-dir %1").arg(m_config.dataDir)
        + (parser.isSet(QStringLiteral("database")) ? QStringLiteral(" --database ") + parser.value(QStringLiteral("database"))
                                                    : QString())
        + QStringLiteral(" init");
    m_hasher = new PasswordHasher(this, m_config.pbkdf2Iterations);

    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty()) {
        fail(QStringLiteral("no command given (see --help)"));
        return;
    }
    const QString command = positional.first();
    const QStringList args = positional.mid(1);
    const auto spec = std::find_if(commands().cbegin(), commands().cend(),
                                   [&](const CommandSpec &candidate) { return candidate.name == command; });
    if (spec == commands().cend()) {
        fail(QStringLiteral("unknown command '%1' (see --help)").arg(command));
        return;
    }
    if (args.size() != spec->arguments) {
        fail(QStringLiteral("usage: mailroomctl [options] %1").arg(spec->usage));
        return;
    }
    if (command == u"init")
        runInit();
    else if (command == u"add-user")
        runAddUser(args.first());
    else if (command == u"passwd")
        runPasswd(args.first());
    else if (command == u"del-user")
        runDelUser(args.first());
    else if (command == u"list-users")
        runListUsers();
    else if (command == u"stats")
        runStats();
    else if (command == u"backup")
        runBackup(args.first());
    else if (command == u"restore")
        runRestore(args.first());
}

bool MailroomCtl::openStore(DataDirectory::Mode mode)
{
    // A --database outside the data directory: check its place before
    // anything is created, so a refused command leaves nothing behind.
    const bool sqlite = m_config.database.kind == DatabaseUrl::Kind::Sqlite;
    const QFileInfo databaseFile(m_config.database.sqlitePath);
    if (sqlite && databaseFile.absolutePath() != QDir::cleanPath(m_config.dataDir) && !databaseFile.dir().exists()) {
        fail(QStringLiteral("directory %1 for the database does not exist").arg(databaseFile.absolutePath()));
        return false;
    }
    const QString path = m_config.database.displayString();
    const auto openMode = mode == DataDirectory::Mode::Create ? Store::OpenMode::CreateIfMissing
                                                              : Store::OpenMode::MustExist;
    const auto openDatabase = [&] {
        if (m_store.open(m_config.database, openMode))
            return true;
        if (m_store.lastError() == Store::Error::NotFound)
            fail(QStringLiteral("no database at %1: run '%2' first").arg(path, m_initHint));
        else
            failStore();
        return false;
    };
    // PostgreSQL first: a database that cannot be reached leaves no data
    // directory behind. The SQLite file needs its directory first.
    if (!sqlite && !openDatabase())
        return false;
    QString error;
    bool created = false;
    if (!DataDirectory::prepare(m_config.dataDir, mode, &error, &created)) {
        fail(error);
        return false;
    }
    if (created)
        m_out << "created data directory " << m_config.dataDir << Qt::endl;
    const bool existed = !sqlite || QFileInfo::exists(path);
    if (sqlite && !openDatabase())
        return false;
    if (!existed)
        m_out << "created database " << path << " (schema version " << m_store.schemaVersion() << ')' << Qt::endl;
    return true;
}

std::optional<QString> MailroomCtl::normalizedName(const QString &name)
{
    const auto username = Username::normalize(name);
    if (!username)
        fail(QStringLiteral("invalid username '%1': use 1 to %2 characters of a-z 0-9 . _ -, starting and ending "
                            "with a letter or digit, no two dots in a row")
                 .arg(name)
                 .arg(Username::MaxLength));
    return username;
}

std::optional<QString> MailroomCtl::readPassword(const QString &username)
{
    const auto password = m_passwordInput.readNewPassword(m_config.address(username));
    if (!password) {
        fail(m_passwordInput.errorString());
        return std::nullopt;
    }
    const Passwords::Strength strength = Passwords::checkStrength(*password);
    if (strength != Passwords::Strength::Acceptable) {
        fail(Passwords::strengthMessage(strength));
        return std::nullopt;
    }
    return password;
}

void MailroomCtl::runInit()
{
    if (!openStore(DataDirectory::Mode::Create))
        return;
    if (m_config.tlsFilesGiven || QFileInfo::exists(m_config.certificateFile) || QFileInfo::exists(m_config.keyFile)) {
        reportCertificate();
        return;
    }
    m_certificateGenerator = new CertificateGenerator(this);
    connect(m_certificateGenerator, &CertificateGenerator::finished, this, [this] {
        m_out << "created a self-signed certificate for " << TlsMaterial::subjectAltNames(m_config.hostname).join(u", ")
              << Qt::endl;
        reportCertificate();
    });
    connect(m_certificateGenerator, &CertificateGenerator::failed, this, &MailroomCtl::fail);
    m_certificateGenerator->start(m_config.certificateFile, m_config.keyFile, m_config.hostname);
}

void MailroomCtl::reportCertificate()
{
    QString error;
    if (!TlsMaterial::loadServerConfiguration(m_config.certificateFile, m_config.keyFile, &error)) {
        fail(error);
        return;
    }
    const QSslCertificate certificate = QSslCertificate::fromPath(m_config.certificateFile).value(0);
    m_out << "certificate " << m_config.certificateFile << " (SHA-256 "
          << certificate.digest(QCryptographicHash::Sha256).toHex(':') << ", valid until "
          << isoUtc(certificate.expiryDate()) << ')' << Qt::endl;
    m_out << "private key " << m_config.keyFile << Qt::endl;
    m_out << "data directory " << m_config.dataDir << " is ready" << Qt::endl;
    succeed();
}

void MailroomCtl::runAddUser(const QString &name)
{
    const auto username = normalizedName(name);
    if (!username || !openStore(DataDirectory::Mode::MustExist))
        return;
    if (m_store.findAccount(*username)) {
        fail(QStringLiteral("account %1 already exists (names are not case-sensitive)").arg(*username));
        return;
    }
    if (m_store.lastError() != Store::Error::NotFound) {
        failStore();
        return;
    }
    const auto password = readPassword(*username);
    if (!password)
        return;
    connect(m_hasher, &PasswordHasher::hashed, this, [this, username](quint64, const QString &stored) {
        const auto account = m_store.createAccount(*username, stored);
        if (!account) {
            if (m_store.lastError() == Store::Error::AlreadyExists)
                fail(QStringLiteral("account %1 already exists (names are not case-sensitive)").arg(*username));
            else
                failStore();
            return;
        }
        m_out << "created account " << m_config.address(account->username) << " (id " << account->id << ')'
              << Qt::endl;
        succeed();
    });
    m_hasher->hashAsync(*password);
}

void MailroomCtl::runPasswd(const QString &name)
{
    const auto username = normalizedName(name);
    if (!username || !openStore(DataDirectory::Mode::MustExist))
        return;
    const auto account = m_store.findAccount(*username);
    if (!account) {
        fail(m_store.lastError() == Store::Error::NotFound ? QStringLiteral("no account %1").arg(*username)
                                                           : m_store.lastErrorText());
        return;
    }
    const auto password = readPassword(*username);
    if (!password)
        return;
    const qint64 accountId = account->id;
    connect(m_hasher, &PasswordHasher::hashed, this, [this, accountId, username](quint64, const QString &stored) {
        if (!m_store.changePassword(accountId, stored)) {
            failStore();
            return;
        }
        m_out << "changed the password of " << m_config.address(*username) << "; its sessions have ended"
              << Qt::endl;
        succeed();
    });
    m_hasher->hashAsync(*password);
}

void MailroomCtl::runDelUser(const QString &name)
{
    const auto username = normalizedName(name);
    if (!username || !openStore(DataDirectory::Mode::MustExist))
        return;
    const auto account = m_store.findAccount(*username);
    if (!account) {
        fail(m_store.lastError() == Store::Error::NotFound ? QStringLiteral("no account %1").arg(*username)
                                                           : m_store.lastErrorText());
        return;
    }
    if (!m_store.deleteAccount(account->id)) {
        failStore();
        return;
    }
    m_out << "deleted account " << m_config.address(*username) << " with its mailbox and sessions" << Qt::endl;
    succeed();
}

void MailroomCtl::runListUsers()
{
    if (!openStore(DataDirectory::Mode::MustExist))
        return;
    const auto accounts = m_store.listAccounts();
    if (!accounts) {
        failStore();
        return;
    }
    m_out << qSetFieldWidth(8) << Qt::left << "ID" << qSetFieldWidth(0) << "ADDRESS" << Qt::endl;
    for (const Account &account : *accounts) {
        m_out << qSetFieldWidth(8) << account.id << qSetFieldWidth(0) << m_config.address(account.username)
              << "  (created " << isoUtc(account.createdAt) << ')' << Qt::endl;
    }
    succeed();
}

void MailroomCtl::runStats()
{
    if (!openStore(DataDirectory::Mode::MustExist))
        return;
    const auto stats = m_store.stats();
    if (!stats) {
        failStore();
        return;
    }
    qint64 fileBytes = 0;
    if (m_config.database.kind == DatabaseUrl::Kind::Sqlite) {
        fileBytes = QFileInfo(m_config.database.sqlitePath).size()
            + QFileInfo(m_config.database.sqlitePath + QStringLiteral("-wal")).size();
    } else {
        QSqlQuery size(m_store.database());
        if (size.exec(QStringLiteral("SELECT pg_database_size(current_database())")) && size.next())
            fileBytes = size.value(0).toLongLong();
    }
    m_out << "database:        " << m_config.database.displayString() << Qt::endl
          << "schema version:  " << stats->schemaVersion << Qt::endl
          << "accounts:        " << stats->accounts << Qt::endl
          << "messages:        " << stats->messages << Qt::endl
          << "message bytes:   " << stats->messageBytes << Qt::endl
          << "mailbox entries: " << stats->mailboxEntries << Qt::endl
          << "active sessions: " << stats->activeTokens << Qt::endl
          << "file bytes:      " << fileBytes << Qt::endl;
    succeed();
}

void MailroomCtl::runBackup(const QString &file)
{
    if (!openStore(DataDirectory::Mode::MustExist))
        return;
    if (!m_store.backupTo(file)) {
        failStore();
        return;
    }
    m_out << "backed up " << m_config.database.displayString() << " to " << QFileInfo(file).absoluteFilePath() << Qt::endl;
    succeed();
}

void MailroomCtl::runRestore(const QString &file)
{
    if (!openStore(DataDirectory::Mode::Create))
        return;
    if (!m_store.restoreFrom(file)) {
        failStore();
        return;
    }
    const auto stats = m_store.stats();
    m_out << "restored " << m_config.database.displayString() << " from " << QFileInfo(file).absoluteFilePath();
    if (stats)
        m_out << " (" << stats->accounts << " accounts, " << stats->messages << " messages)";
    m_out << "; every session has ended" << Qt::endl;
    succeed();
}

void MailroomCtl::failStore()
{
    if (m_store.lastError() == Store::Error::Busy)
        fail(QStringLiteral("database %1 stayed locked by another process: try again (%2)")
                 .arg(m_config.database.displayString(), m_store.lastErrorText()));
    else if (m_store.lastError() == Store::Error::DiskFull)
        fail(QStringLiteral("the disk holding %1 is full: free some space (%2)")
                 .arg(m_config.database.displayString(), m_store.lastErrorText()));
    else
        fail(m_store.lastErrorText());
}

void MailroomCtl::succeed()
{
    if (m_done)
        return;
    m_done = true;
    m_out.flush();
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(ExitOk); }, Qt::QueuedConnection);
}

void MailroomCtl::fail(const QString &message)
{
    if (m_done)
        return;
    m_done = true;
    m_out.flush();
    m_err << QCoreApplication::applicationName() << ": " << message << Qt::endl;
    QMetaObject::invokeMethod(this, [this] { Q_EMIT finished(ExitError); }, Qt::QueuedConnection);
}
