#include "store.h"

#include "logging.h"
#include "messagejson.h"
#include "sqltransaction.h"
#include "store_p.h"

#include <QAtomicInteger>
#include <QElapsedTimer>
#include <QThread>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QScopeGuard>
#include <QTemporaryDir>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// SQLite result codes as QSqlError::nativeErrorCode() reports them: the
// extended code where there is one; its low byte is the primary code.
constexpr int SqliteBusy = 5;
constexpr int SqliteLocked = 6;
constexpr int SqliteFull = 13;
constexpr int SqliteConstraintUnique = 2067;
constexpr int SqliteConstraintPrimaryKey = 1555;
constexpr int SqliteConstraintForeignKey = 787;

constexpr int BusyTimeoutMs = 10000;

// PostgreSQL: how long a connect may take, and the reconnect back-off. A
// connect blocks the thread that tries it (QPSQL has no asynchronous
// connect): against a host that drops packets rather than refusing, each
// try costs this much of that thread's time, at most once per back-off
// delay. 2 s is libpq's smallest.
constexpr int ConnectTimeoutSeconds = 2;
constexpr int FirstReconnectDelayMs = 100;
constexpr int LongestReconnectDelayMs = 5000;

// SQLSTATEs (PostgreSQL appendix A) as QPSQL's nativeErrorCode() gives them.
bool isConnectionFailure(const QString &sqlState)
{
    // No SQLSTATE: libpq's own error, which is a lost or refused connection.
    // Class 08: connection exception. 57P01-57P03: the server is shutting
    // down, crashed or is starting. 53300: too many connections.
    return sqlState.isEmpty() || sqlState.startsWith(u"08") || sqlState == u"57P01" || sqlState == u"57P02"
        || sqlState == u"57P03" || sqlState == u"53300";
}

QAtomicInteger<quint64> connectionCounter;

// A null QString binds as SQL NULL; the text columns hold "" for "none".
// PostgreSQL's text cannot hold U+0000 (an encoded word can decode to it):
// it becomes U+FFFD on both engines, so both store the same.
QString text(const QString &value)
{
    if (value.isNull())
        return QStringLiteral("");
    if (!value.contains(QChar(0)))
        return value;
    QString cleaned = value;
    cleaned.replace(QChar(0), QChar::ReplacementCharacter);
    return cleaned;
}

qint64 toMs(const QDateTime &time)
{
    return time.toMSecsSinceEpoch();
}

QDateTime fromMs(const QVariant &value)
{
    if (value.isNull())
        return {};
    return QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

// Address and attachment lists are kept as compact JSON text, in the API's form.
QString compactJson(const QJsonArray &array)
{
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

QJsonArray jsonArray(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).array();
}

// To and Cc: at most MaxStoredAddresses kept, and the field's count when it
// held more (the form StoreSchema::MaxStoredAddresses describes). A summary
// made by hand with more is cut here too.
QString storedAddressesJson(const QList<MailAddress> &addresses, qint64 count)
{
    static_assert(MessageSummary::MaxListedAddresses == StoreSchema::MaxStoredAddresses);
    const QJsonValue stored = MessageJson::storedAddresses(
        addresses.first(std::min<qsizetype>(addresses.size(), StoreSchema::MaxStoredAddresses)),
        std::max<qint64>(count, addresses.size()));
    const QJsonDocument document =
        stored.isObject() ? QJsonDocument(stored.toObject()) : QJsonDocument(stored.toArray());
    return QString::fromUtf8(document.toJson(QJsonDocument::Compact));
}

MessageJson::StoredAddresses storedAddressesFrom(const QString &text)
{
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8());
    return MessageJson::storedAddressesFrom(document.isObject() ? QJsonValue(document.object())
                                                                : QJsonValue(document.array()));
}

Account accountFromQuery(const QSqlQuery &query)
{
    return Account{query.value(0).toLongLong(), query.value(1).toString(), query.value(2).toString(),
                   fromMs(query.value(3))};
}

// Reads the columns of StoreSchema::folderPageSql() (and entry()).
MailboxEntry entryFromQuery(const QSqlQuery &query)
{
    MailboxEntry entry;
    entry.id = query.value(0).toLongLong();
    entry.ownerId = query.value(1).toLongLong();
    entry.folder = folderFromName(query.value(2).toString()).value_or(Folder::Inbox);
    entry.seen = query.value(3).toBool();
    entry.messageId = query.value(4).toLongLong();
    entry.receivedAt = fromMs(query.value(5));
    entry.size = query.value(6).toLongLong();
    MessageSummary &summary = entry.summary;
    summary.from = {query.value(7).toString(), query.value(8).toString()};
    MessageJson::StoredAddresses to = storedAddressesFrom(query.value(9).toString());
    summary.to = std::move(to.addresses);
    summary.toCount = to.count;
    MessageJson::StoredAddresses cc = storedAddressesFrom(query.value(10).toString());
    summary.cc = std::move(cc.addresses);
    summary.ccCount = cc.count;
    summary.subject = query.value(11).toString();
    summary.date = fromMs(query.value(12));
    summary.messageId = query.value(13).toString();
    summary.inReplyTo = query.value(14).toString();
    summary.preview = query.value(15).toString();
    summary.attachments = MessageJson::attachmentsFrom(jsonArray(query.value(16).toString()));
    return entry;
}

// A cached statement is reset when its user is done with it: a SELECT left
// open would hold its read snapshot (and block WAL checkpoints) until the
// statement's next use.
class FinishedOnExit
{
public:
    explicit FinishedOnExit(QSqlQuery *query) : m_query(query) {}
    ~FinishedOnExit()
    {
        if (m_query)
            m_query->finish();
    }
    FinishedOnExit(const FinishedOnExit &) = delete;
    FinishedOnExit &operator=(const FinishedOnExit &) = delete;

private:
    QSqlQuery *m_query;
};
} // namespace

QString folderName(Folder folder)
{
    return folder == Folder::Inbox ? QStringLiteral("inbox") : QStringLiteral("sent");
}

std::optional<Folder> folderFromName(QStringView name)
{
    if (name == u"inbox")
        return Folder::Inbox;
    if (name == u"sent")
        return Folder::Sent;
    return std::nullopt;
}

Store::Store()
    : m_connectionName(QStringLiteral("mailroom-store-%1").arg(connectionCounter.fetchAndAddRelaxed(1)))
{
}

Store::~Store()
{
    close();
}

int Store::latestSchemaVersion()
{
    return int(StoreSchema::migrations().size());
}

QSqlDatabase Store::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool Store::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && database().isOpen();
}

void Store::close()
{
    m_statements.clear(); // they hold the connection
    if (!QSqlDatabase::contains(m_connectionName))
        return;
    {
        QSqlDatabase db = database();
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool Store::fail(Error error, const QString &text)
{
    m_error = error;
    m_errorText = text;
    return false;
}

Store::Error Store::classify(const QSqlError &sqlError)
{
    if (m_engine == Engine::Postgresql) {
        const QString sqlState = sqlError.nativeErrorCode();
        if (sqlState == u"23505")
            return Error::AlreadyExists;
        if (sqlState == u"23503")
            return Error::NotFound;
        if (sqlState == u"53100")
            return Error::DiskFull;
        // Serialization failure, deadlock, lock not available: try again.
        if (sqlState == u"40001" || sqlState == u"40P01" || sqlState == u"55P03")
            return Error::Busy;
        if (isConnectionFailure(sqlState) || !database().isOpen()) {
            if (!m_connectionLost)
                qCWarning(lcStore) << "lost the connection to" << m_path << ":" << sqlError.text();
            m_connectionLost = true;
            return Error::Unavailable;
        }
        return Error::Failed;
    }
    const int code = sqlError.nativeErrorCode().toInt();
    switch (code) {
    case SqliteConstraintUnique:
    case SqliteConstraintPrimaryKey:
        return Error::AlreadyExists;
    case SqliteConstraintForeignKey:
        return Error::NotFound; // a row it refers to is gone, e.g. a recipient deleted meanwhile
    }
    switch (code & 0xff) {
    case SqliteFull:
        return Error::DiskFull;
    case SqliteBusy:
    case SqliteLocked:
        return Error::Busy;
    }
    return Error::Failed;
}

bool Store::failQuery(const QSqlQuery &query, const QString &what)
{
    const QSqlError sqlError = query.lastError();
    const Error error = classify(sqlError);
    qCWarning(lcStore) << what << "failed:" << sqlError.text();
    return fail(error, what + QStringLiteral(": ") + sqlError.text());
}

QSqlQuery *Store::cachedStatement(const QString &sql, const QString &what)
{
    auto it = m_statements.find(sql);
    if (it != m_statements.end())
        return &it->second;
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.prepare(sql)) {
        failQuery(query, what);
        return nullptr;
    }
    return &m_statements.emplace(sql, std::move(query)).first->second;
}

QSqlQuery *Store::selectRow(const QString &sql, const QVariantList &keys, const QString &what,
                            const QString &missing)
{
    clearError();
    for (;;) {
        QSqlQuery *query = cachedStatement(sql, what);
        if (query) {
            for (qsizetype i = 0; i < keys.size(); ++i)
                query->bindValue(int(i), keys.at(i));
            if (query->exec()) {
                if (query->next())
                    return query;
                fail(Error::NotFound, missing);
                query->finish();
                return nullptr;
            }
            failQuery(*query, what);
            query->finish();
        }
        if (!reconnectedAfterStaleConnection())
            return nullptr;
    }
}

bool Store::reconnectedAfterStaleConnection()
{
    if (m_engine != Engine::Postgresql || m_error != Error::Unavailable || !m_healthyAtStart)
        return false;
    m_healthyAtStart = false; // once per operation
    m_sinceReconnectAttempt.invalidate();
    reconnectIfDue();
    return !m_connectionLost;
}

void Store::clearError()
{
    reconnectIfDue();
    m_healthyAtStart = !m_connectionLost;
    // The operation's own statements say what went wrong, if anything.
    m_error = Error::None;
    m_errorText.clear();
}

bool Store::open(const QString &path, OpenMode mode, int schemaVersion)
{
    DatabaseUrl database;
    database.sqlitePath = path;
    return open(database, mode, schemaVersion);
}

bool Store::open(const DatabaseUrl &database, OpenMode mode, int schemaVersion)
{
    close();
    m_database = database;
    m_engine = database.kind;
    m_connectionLost = false;
    m_reconnectDelayMs = FirstReconnectDelayMs;
    clearError();
    m_path = database.displayString();
    if (m_engine == Engine::Postgresql) {
        if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
            return fail(Error::Failed,
                        QStringLiteral("Qt's PostgreSQL driver is missing: install libqt6sql6-psql (Debian) for %1")
                            .arg(m_path));
        int version = 0;
        if (!connect() || !checkPostgresqlIdentity(mode, &version) || !migrate(version, schemaVersion)) {
            const Error error = m_error;
            const QString text = m_errorText;
            close();
            return fail(error, text);
        }
        qCDebug(lcStore) << "opened" << m_path << "at schema version" << schemaVersion;
        return true;
    }
    const QString path = database.sqlitePath;
    const QFileInfo info(path);
    if (mode == OpenMode::MustExist && !info.exists())
        return fail(Error::NotFound, QStringLiteral("no database at %1").arg(path));
    if (info.exists() && !info.isFile())
        return fail(Error::Failed, QStringLiteral("%1 is not a file").arg(path));
    if (!info.dir().exists())
        return fail(Error::Failed, QStringLiteral("directory %1 for the database does not exist").arg(info.absolutePath()));
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return fail(Error::Failed, QStringLiteral("Qt's SQLite driver is missing: install libqt6sql6-sqlite"));

    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(BusyTimeoutMs));
        if (!db.open()) {
            const QString text = db.lastError().text();
            close();
            return fail(Error::Failed, QStringLiteral("cannot open database %1: %2").arg(path, text));
        }
    }
    // Identity first: a file that is not ours must not even be switched to WAL.
    int version = 0;
    if (!checkIdentity(mode, &version) || !configureConnection() || !migrate(version, schemaVersion)) {
        const Error error = m_error;
        const QString text = m_errorText;
        close();
        return fail(error, text);
    }
    qCDebug(lcStore) << "opened" << path << "at schema version" << schemaVersion;
    return true;
}

QSqlDatabase Store::addPostgresqlConnection(const DatabaseUrl &database, const QString &connectionName)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connectionName);
    db.setHostName(database.host);
    db.setPort(database.port);
    db.setUserName(database.user);
    db.setPassword(database.password);
    db.setDatabaseName(database.databaseName);
    db.setConnectOptions(QStringLiteral("connect_timeout=%1;application_name=mailroom").arg(ConnectTimeoutSeconds));
    return db;
}

// PostgreSQL only: a new connection, or a reconnect of a lost one.
bool Store::connect()
{
    if (!QSqlDatabase::contains(m_connectionName))
        addPostgresqlConnection(m_database, m_connectionName);
    QSqlDatabase db = database();
    if (!db.open()) {
        // libpq's text names the cause: refused, timed out, password, no such database.
        const QString cause = db.lastError().text().simplified();
        return fail(Error::Unavailable, QStringLiteral("cannot connect to %1: %2").arg(m_path, cause));
    }
    QSqlQuery query(db);
    // Times are stored as milliseconds, so the session's time zone does not
    // matter; READ COMMITTED is PostgreSQL's default and what every
    // operation here is written for (each write is one statement or holds
    // the row locks it needs).
    if (!query.exec(QStringLiteral("SET default_transaction_isolation = 'read committed'")))
        return failQuery(query, QStringLiteral("configuring the connection to %1").arg(m_path));
    return true;
}

void Store::reconnectIfDue()
{
    if (!m_connectionLost || m_engine != Engine::Postgresql)
        return;
    if (m_sinceReconnectAttempt.isValid() && m_sinceReconnectAttempt.elapsed() < m_reconnectDelayMs)
        return;
    m_sinceReconnectAttempt.start();
    m_statements.clear(); // prepared on the connection that is gone
    database().close();
    if (connect()) {
        m_connectionLost = false;
        m_reconnectDelayMs = FirstReconnectDelayMs;
        qCInfo(lcStore) << "reconnected to" << m_path;
    } else {
        database().close(); // later queries fail at once, as Unavailable
        qCWarning(lcStore).noquote() << m_errorText << QStringLiteral("(next try in %1 ms)").arg(m_reconnectDelayMs);
        m_reconnectDelayMs = std::min(m_reconnectDelayMs * 2, LongestReconnectDelayMs);
    }
}

bool Store::execControl(const QString &sql, QSqlError *error)
{
    if (m_engine == Engine::Sqlite) {
        QSqlQuery *statement = cachedStatement(sql, sql);
        if (statement && statement->exec())
            return true;
        *error = statement ? statement->lastError() : QSqlError(m_errorText, {}, QSqlError::StatementError);
        return false;
    }
    QSqlQuery query(database());
    if (query.exec(sql))
        return true;
    *error = query.lastError();
    return false;
}

bool Store::configureConnection()
{
    QSqlQuery query(database());
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers
    // SQLITE_BUSY at once instead of waiting when another process is opening
    // the same new file: retry for as long as the busy timeout allows.
    QElapsedTimer waited;
    waited.start();
    for (int attempt = 0;; ++attempt) {
        if (query.exec(QStringLiteral("PRAGMA journal_mode = WAL")) && query.next())
            break;
        if (classify(query.lastError()) != Error::Busy || waited.elapsed() > BusyTimeoutMs)
            return failQuery(query, QStringLiteral("switching %1 to WAL mode").arg(m_path));
        QThread::msleep(std::min(50, 1 + attempt * 5)); // start-up only: nothing else is served yet
    }
    if (query.value(0).toString() != u"wal")
        return fail(Error::Failed, QStringLiteral("%1: cannot switch to WAL mode").arg(m_path));
    for (const QString &pragma : {QStringLiteral("PRAGMA foreign_keys = ON"), QStringLiteral("PRAGMA synchronous = FULL"),
                                  QStringLiteral("PRAGMA busy_timeout = %1").arg(BusyTimeoutMs)}) {
        if (!query.exec(pragma))
            return failQuery(query, pragma);
    }
    if (!query.exec(QStringLiteral("PRAGMA foreign_keys")) || !query.next() || query.value(0).toInt() != 1)
        return fail(Error::Failed, QStringLiteral("this SQLite cannot enforce foreign keys"));
    return true;
}

bool Store::checkIdentity(OpenMode mode, int *version)
{
    QSqlQuery query(database());
    // A file that is not SQLite fails here, on the first read of its header.
    if (!query.exec(QStringLiteral("SELECT (SELECT application_id FROM pragma_application_id),"
                                   " (SELECT user_version FROM pragma_user_version),"
                                   " (SELECT count(*) FROM sqlite_schema)"))
        || !query.next())
        return fail(Error::Failed, QStringLiteral("%1 is not a usable SQLite database: %2")
                                       .arg(m_path, query.lastError().text()));
    const int applicationId = query.value(0).toInt();
    *version = query.value(1).toInt();
    const qint64 objects = query.value(2).toLongLong();
    const bool empty = applicationId == 0 && *version == 0 && objects == 0;
    // An existing file that is empty (or SQLite without tables) is not a
    // database someone has: turning it into a new one would, e.g., make a
    // restore from an empty file wipe everything.
    if (empty && mode == OpenMode::MustExist)
        return fail(Error::NotFound, QStringLiteral("%1 holds no Mailroom database").arg(m_path));
    if (applicationId != StoreSchema::ApplicationId && !empty)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database").arg(m_path));
    return refuseNewerSchema(*version);
}

bool Store::refuseNewerSchema(int version)
{
    if (version <= latestSchemaVersion())
        return true;
    return fail(Error::Failed,
                QStringLiteral("%1 has schema version %2, newer than this Mailroom knows (%3): upgrade Mailroom")
                    .arg(m_path)
                    .arg(version)
                    .arg(latestSchemaVersion()));
}

bool Store::checkPostgresqlIdentity(OpenMode mode, int *version)
{
    QSqlQuery query(database());
    if (!query.exec(QStringLiteral("SELECT (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()),"
                                   " to_regclass('mailroom_schema') IS NOT NULL"))
        || !query.next())
        return failQuery(query, QStringLiteral("reading the tables of %1").arg(m_path));
    const qint64 tables = query.value(0).toLongLong();
    const bool ours = query.value(1).toBool();
    *version = 0;
    if (tables == 0) {
        if (mode == OpenMode::MustExist)
            return fail(Error::NotFound, QStringLiteral("%1 holds no Mailroom database").arg(m_path));
        return true;
    }
    if (!ours)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database (it has other tables)").arg(m_path));
    if (!query.exec(QStringLiteral("SELECT application_id, version FROM mailroom_schema")) || !query.next())
        return failQuery(query, QStringLiteral("reading the schema version of %1").arg(m_path));
    if (query.value(0).toInt() != StoreSchema::ApplicationId)
        return fail(Error::Failed, QStringLiteral("%1 is not a Mailroom database").arg(m_path));
    *version = query.value(1).toInt();
    return refuseNewerSchema(*version);
}

bool Store::migrate(int from, int to)
{
    const bool postgresql = m_engine == Engine::Postgresql;
    const QList<QStringList> &steps = postgresql ? StoreSchema::postgresqlMigrations() : StoreSchema::migrations();
    for (int version = from + 1; version <= to; ++version) {
        SqlWriteTransaction transaction(database());
        if (!transaction.isActive())
            return fail(classify(transaction.lastError()), QStringLiteral("cannot start migration %1: %2")
                                         .arg(version)
                                         .arg(transaction.lastError().text()));
        QSqlQuery query(database());
        // On PostgreSQL, DDL takes no lock that orders two servers starting
        // on a new database: an advisory lock does, for this transaction.
        if (postgresql && !query.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(StoreSchema::ApplicationId)))
            return failQuery(query, QStringLiteral("locking for migration %1").arg(version));
        // Another process may have migrated while we waited for the lock.
        if (schemaVersion() >= version)
            continue;
        for (const QString &statement : steps.at(version - 1)) {
            if (!query.exec(statement))
                return failQuery(query, QStringLiteral("migration %1").arg(version));
        }
        // PRAGMA takes no bound values; the number is ours, not input.
        const QString setVersion = postgresql ? QStringLiteral("UPDATE mailroom_schema SET version = %1").arg(version)
                                              : QStringLiteral("PRAGMA user_version = %1").arg(version);
        if (!query.exec(setVersion))
            return failQuery(query, QStringLiteral("migration %1").arg(version));
        query.finish();
        if (!transaction.commit())
            return fail(Error::Failed, QStringLiteral("committing migration %1: %2")
                                           .arg(version)
                                           .arg(transaction.lastError().text()));
        qCInfo(lcStore) << "migrated" << m_path << "to schema version" << version;
    }
    return true;
}

int Store::schemaVersion()
{
    QSqlQuery query(database());
    if (m_engine == Engine::Postgresql) {
        // Before migration 1 there is no table to read.
        if (!query.exec(QStringLiteral("SELECT to_regclass('mailroom_schema') IS NOT NULL")) || !query.next()
            || !query.value(0).toBool())
            return 0;
        if (!query.exec(QStringLiteral("SELECT version FROM mailroom_schema")) || !query.next())
            return 0;
        return query.value(0).toInt();
    }
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next())
        return 0;
    return query.value(0).toInt();
}

std::optional<Account> Store::createAccount(const QString &username, const QString &passwordHash,
                                            const QDateTime &createdAt)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral(
        "INSERT INTO accounts (username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id"));
    query.addBindValue(text(username));
    query.addBindValue(text(passwordHash));
    query.addBindValue(toMs(createdAt));
    if (!query.exec() || !query.next()) {
        failQuery(query, QStringLiteral("creating account %1").arg(username));
        return std::nullopt;
    }
    const qint64 id = query.value(0).toLongLong();
    query.finish();
    qCInfo(lcStore) << "created account" << username;
    return Account{id, username, passwordHash,
                   QDateTime::fromMSecsSinceEpoch(toMs(createdAt), Qt::UTC)};
}

std::optional<Account> Store::findAccount(const QString &username)
{
    // No name holds U+0000 (Username), and QPSQL, which writes bound values
    // into the statement's text, would cut the name there and fail the query:
    // such a name is simply no account, on both engines.
    if (username.contains(QChar(0))) {
        clearError();
        fail(Error::NotFound, QStringLiteral("no account %1").arg(QString(username).replace(QChar(0), QStringLiteral("\\0"))));
        return std::nullopt;
    }
    QSqlQuery *row = selectRow(
        QStringLiteral("SELECT id, username, password_hash, created_at FROM accounts WHERE username = ?"), {username},
        QStringLiteral("looking up account %1").arg(username), QStringLiteral("no account %1").arg(username));
    const FinishedOnExit finished(row);
    return row ? std::optional<Account>(accountFromQuery(*row)) : std::nullopt;
}

std::optional<Account> Store::findAccount(qint64 id)
{
    QSqlQuery *row = selectRow(
        QStringLiteral("SELECT id, username, password_hash, created_at FROM accounts WHERE id = ?"), {id},
        QStringLiteral("looking up account %1").arg(id), QStringLiteral("no account with id %1").arg(id));
    const FinishedOnExit finished(row);
    return row ? std::optional<Account>(accountFromQuery(*row)) : std::nullopt;
}

std::optional<QList<Account>> Store::listAccounts()
{
    clearError();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT id, username, password_hash, created_at FROM accounts ORDER BY id"))) {
        failQuery(query, QStringLiteral("listing accounts"));
        return std::nullopt;
    }
    QList<Account> accounts;
    while (query.next())
        accounts.append(accountFromQuery(query));
    return accounts;
}

bool Store::setPasswordHash(qint64 accountId, const QString &passwordHash)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ?"));
    query.addBindValue(passwordHash);
    query.addBindValue(accountId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("setting the password of account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
    return true;
}

bool Store::replacePasswordHash(qint64 accountId, const QString &expected, const QString &replacement)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?"));
    query.addBindValue(replacement);
    query.addBindValue(accountId);
    query.addBindValue(expected);
    if (!query.exec())
        return failQuery(query, QStringLiteral("replacing the password hash of account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("account %1 is gone or has another password").arg(accountId));
    return true;
}

bool Store::changePassword(qint64 accountId, const QString &passwordHash, const QByteArray &keepToken)
{
    clearError();
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start the password change: %1").arg(transaction.lastError().text()));
    {
        QSqlQuery query(database());
        query.prepare(QStringLiteral("UPDATE accounts SET password_hash = ? WHERE id = ?"));
        query.addBindValue(text(passwordHash));
        query.addBindValue(accountId);
        if (!query.exec())
            return failQuery(query, QStringLiteral("setting the password of account %1").arg(accountId));
        if (query.numRowsAffected() == 0)
            return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
        query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE account_id = ? AND token_hash IS DISTINCT FROM ?"));
        query.addBindValue(accountId);
        query.addBindValue(keepToken.isEmpty() ? QVariant() : QVariant(keepToken));
        if (!query.exec())
            return failQuery(query, QStringLiteral("ending the sessions of account %1").arg(accountId));
    }
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the password change: %1").arg(transaction.lastError().text()));
    return true;
}

bool Store::deleteAccount(qint64 accountId)
{
    clearError();
    // Foreign keys cascade to tokens and entries; the trigger drops messages
    // no mailbox shows any more. One statement, so one atomic change.
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM accounts WHERE id = ?"));
    query.addBindValue(accountId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting account %1").arg(accountId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no account with id %1").arg(accountId));
    qCInfo(lcStore) << "deleted account" << accountId;
    return true;
}

std::optional<Delivery> Store::deliver(const NewMessage &message)
{
    QList<DeliveryError> errors;
    const QList<std::optional<Delivery>> deliveries = deliverAll({message}, &errors);
    if (!deliveries.value(0))
        fail(errors.value(0).error, errors.value(0).text);
    return deliveries.value(0);
}

QList<std::optional<Delivery>> Store::deliverAll(const QList<NewMessage> &messages, QList<DeliveryError> *errors)
{
    clearError();
    QList<std::optional<Delivery>> deliveries(messages.size());
    QList<DeliveryError> failures(messages.size());
    const auto failAll = [&](Error error, const QString &text) {
        fail(error, text);
        for (qsizetype i = 0; i < messages.size(); ++i) {
            deliveries[i].reset();
            if (failures[i].error == Error::None)
                failures[i] = {error, text};
        }
        if (errors)
            *errors = failures;
        return deliveries;
    };
    std::optional<SqlWriteTransaction> began;
    for (;;) {
        began.emplace(database());
        if (began->isActive())
            break;
        const QSqlError error = began->lastError();
        began.reset();
        fail(classify(error), QStringLiteral("cannot start the delivery: %1").arg(error.text()));
        if (!reconnectedAfterStaleConnection())
            return failAll(m_error, m_errorText);
    }
    SqlWriteTransaction &transaction = *began;

    const QString preparing = QStringLiteral("preparing a delivery");
    QSqlQuery *insertStatement = cachedStatement(
        QStringLiteral(
            "INSERT INTO messages (received_at, size, from_name, from_address, to_list, cc_list, subject, date,"
            " message_id, in_reply_to, preview, attachments, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id"),
        preparing);
    QSqlQuery *addEntryStatement = cachedStatement(
        QStringLiteral("INSERT INTO mailbox_entries (owner_id, folder, message_id, seen) VALUES (?, ?, ?, ?) RETURNING id"),
        preparing);
    if (!insertStatement || !addEntryStatement)
        return failAll(m_error, m_errorText);
    const FinishedOnExit insertFinished(insertStatement), addEntryFinished(addEntryStatement);
    QSqlQuery &insert = *insertStatement;
    QSqlQuery &addEntry = *addEntryStatement;
    QSqlError controlError;

    for (qsizetype i = 0; i < messages.size(); ++i) {
        const NewMessage &message = messages.at(i);
        const MessageSummary &summary = message.summary;
        if (!execControl(QStringLiteral("SAVEPOINT delivery"), &controlError))
            return failAll(classify(controlError), controlError.text());
        Delivery delivery;
        QString failure;
        Error failureKind = Error::None;
        const auto failed = [&](const QSqlQuery &query, const QString &what) {
            failureKind = classify(query.lastError());
            failure = what + QStringLiteral(": ") + query.lastError().text();
            return false;
        };
        const auto store = [&]() -> bool {
            insert.bindValue(0, toMs(message.receivedAt));
            insert.bindValue(1, qint64(message.raw.size()));
            insert.bindValue(2, text(summary.from.name));
            insert.bindValue(3, text(summary.from.address));
            insert.bindValue(4, storedAddressesJson(summary.to, summary.toCount));
            insert.bindValue(5, storedAddressesJson(summary.cc, summary.ccCount));
            insert.bindValue(6, text(summary.subject));
            insert.bindValue(7, summary.date.isValid() ? QVariant(toMs(summary.date)) : QVariant(QMetaType::fromType<qint64>()));
            insert.bindValue(8, text(summary.messageId));
            insert.bindValue(9, text(summary.inReplyTo));
            insert.bindValue(10, text(summary.preview));
            insert.bindValue(11, compactJson(MessageJson::attachments(summary.attachments)));
            insert.bindValue(12, message.raw);
            // The statement is cached: its bound raw would keep the last
            // message alive until the next delivery (found: 24 MiB held by
            // smtpd after a 24 MiB message), on success and failure alike.
            const auto releaseRaw = qScopeGuard([&insert] { insert.bindValue(12, QVariant()); });
            if (!insert.exec() || !insert.next())
                return failed(insert, QStringLiteral("storing a message"));
            delivery.messageId = insert.value(0).toLongLong();
            // SQLite made the change in the first step; a statement left
            // running would keep RELEASE from completing.
            insert.finish();
            const auto add = [&](qint64 ownerId, Folder folder) -> std::optional<qint64> {
                addEntry.bindValue(0, ownerId);
                addEntry.bindValue(1, folderName(folder));
                addEntry.bindValue(2, delivery.messageId);
                addEntry.bindValue(3, folder == Folder::Sent ? 1 : 0);
                if (!addEntry.exec() || !addEntry.next()) {
                    failed(addEntry, QStringLiteral("adding the message to %1 of account %2").arg(folderName(folder)).arg(ownerId));
                    return std::nullopt;
                }
                const qint64 id = addEntry.value(0).toLongLong();
                addEntry.finish();
                return id;
            };
            QList<qint64> recipients;
            for (qint64 recipient : message.recipientIds) {
                if (!recipients.contains(recipient))
                    recipients.append(recipient);
            }
            for (qint64 recipient : recipients) {
                const auto id = add(recipient, Folder::Inbox);
                if (!id)
                    return false;
                delivery.inboxEntryIds.append(*id);
            }
            if (message.senderId) {
                const auto id = add(message.senderId, Folder::Sent);
                if (!id)
                    return false;
                delivery.sentEntryId = *id;
            }
            return true;
        };
        if (store()) {
            deliveries[i] = delivery;
        } else {
            failures[i] = {failureKind, failure};
            // This message only: the others of the group stay.
            if (!execControl(QStringLiteral("ROLLBACK TO delivery"), &controlError))
                return failAll(classify(controlError), controlError.text());
        }
        if (!execControl(QStringLiteral("RELEASE delivery"), &controlError))
            return failAll(classify(controlError), controlError.text());
    }
    if (!transaction.commit()) {
        const QSqlError error = transaction.lastError();
        return failAll(classify(error), QStringLiteral("committing a delivery: %1").arg(error.text()));
    }
    if (errors)
        *errors = failures;
    return deliveries;
}

std::optional<FolderPage> Store::listFolder(qint64 ownerId, Folder folder, int limit, std::optional<qint64> before)
{
    clearError();
    if (limit < 1) {
        fail(Error::Failed, QStringLiteral("a folder page needs a limit of at least 1"));
        return std::nullopt;
    }
    QSqlQuery *statement = cachedStatement(StoreSchema::folderPageSql(), QStringLiteral("listing a folder"));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(QStringLiteral(":owner"), ownerId);
    query.bindValue(QStringLiteral(":folder"), folderName(folder));
    query.bindValue(QStringLiteral(":before"), before.value_or(std::numeric_limits<qint64>::max()));
    // One row more than asked tells whether anything older exists.
    query.bindValue(QStringLiteral(":limit"), limit + 1);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("listing %1 of account %2").arg(folderName(folder)).arg(ownerId));
        return std::nullopt;
    }
    FolderPage page;
    while (query.next()) {
        if (page.entries.size() == limit) {
            page.nextBefore = page.entries.last().id;
            break;
        }
        page.entries.append(entryFromQuery(query));
    }
    return page;
}

std::optional<MailboxEntry> Store::entry(qint64 ownerId, qint64 entryId)
{
    QSqlQuery *row = selectRow(
        QStringLiteral(
            "SELECT e.id, e.owner_id, e.folder, e.seen, m.id, m.received_at, m.size, m.from_name, m.from_address,"
            " m.to_list, m.cc_list, m.subject, m.date, m.message_id, m.in_reply_to, m.preview, m.attachments"
            " FROM mailbox_entries e JOIN messages m ON m.id = e.message_id WHERE e.id = ? AND e.owner_id = ?"),
        {entryId, ownerId}, QStringLiteral("reading entry %1").arg(entryId),
        QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<MailboxEntry>(entryFromQuery(*row)) : std::nullopt;
}

std::optional<QByteArray> Store::rawMessage(qint64 ownerId, qint64 entryId)
{
    QSqlQuery *row = selectRow(QStringLiteral("SELECT m.raw FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                                              " WHERE e.id = ? AND e.owner_id = ?"),
                               {entryId, ownerId}, QStringLiteral("reading message of entry %1").arg(entryId),
                               QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    const FinishedOnExit finished(row);
    return row ? std::optional<QByteArray>(row->value(0).toByteArray()) : std::nullopt;
}

bool Store::setSeen(qint64 ownerId, qint64 entryId, bool seen)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("UPDATE mailbox_entries SET seen = ? WHERE id = ? AND owner_id = ?"),
        QStringLiteral("marking entry %1").arg(entryId));
    if (!statement)
        return false;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(0, seen ? 1 : 0);
    query.bindValue(1, entryId);
    query.bindValue(2, ownerId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("marking entry %1").arg(entryId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    return true;
}

bool Store::deleteEntry(qint64 ownerId, qint64 entryId)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM mailbox_entries WHERE id = ? AND owner_id = ?"));
    query.addBindValue(entryId);
    query.addBindValue(ownerId);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting entry %1").arg(entryId));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no entry %1 for account %2").arg(entryId).arg(ownerId));
    return true;
}

bool Store::deleteEntries(qint64 ownerId, const QList<qint64> &entryIds)
{
    clearError();
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start deleting entries: %1").arg(transaction.lastError().text()));
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM mailbox_entries WHERE id = ? AND owner_id = ?"));
    for (const qint64 entryId : entryIds) {
        query.addBindValue(entryId);
        query.addBindValue(ownerId);
        if (!query.exec())
            return failQuery(query, QStringLiteral("deleting entry %1").arg(entryId));
    }
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the deletions: %1").arg(transaction.lastError().text()));
    return true;
}

std::optional<QList<MailboxEntry>> Store::inbox(qint64 ownerId)
{
    clearError();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT e.id, e.seen, e.message_id, m.received_at, m.size FROM mailbox_entries e"
                                 " JOIN messages m ON m.id = e.message_id"
                                 " WHERE e.owner_id = ? AND e.folder = 'inbox' ORDER BY e.id"));
    query.addBindValue(ownerId);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("listing the inbox of account %1").arg(ownerId));
        return std::nullopt;
    }
    QList<MailboxEntry> entries;
    while (query.next()) {
        MailboxEntry entry;
        entry.id = query.value(0).toLongLong();
        entry.ownerId = ownerId;
        entry.folder = Folder::Inbox;
        entry.seen = query.value(1).toBool();
        entry.messageId = query.value(2).toLongLong();
        entry.receivedAt = fromMs(query.value(3));
        entry.size = query.value(4).toLongLong();
        entries.append(entry);
    }
    return entries;
}

std::optional<AccountCounts> Store::counts(qint64 ownerId)
{
    clearError();
    QSqlQuery *statement = cachedStatement(
        QStringLiteral("SELECT folder, count(*), count(*) FILTER (WHERE seen = 0) FROM mailbox_entries WHERE owner_id = ? GROUP BY folder"),
        QStringLiteral("counting the mail of account %1").arg(ownerId));
    if (!statement)
        return std::nullopt;
    const FinishedOnExit finished(statement);
    QSqlQuery &query = *statement;
    query.bindValue(0, ownerId);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("counting the mail of account %1").arg(ownerId));
        return std::nullopt;
    }
    AccountCounts counts;
    while (query.next()) {
        const FolderCounts folder{query.value(1).toLongLong(), query.value(2).toLongLong()};
        (query.value(0).toString() == u"inbox" ? counts.inbox : counts.sent) = folder;
    }
    return counts;
}

bool Store::addToken(const QByteArray &tokenHash, qint64 accountId, const QDateTime &createdAt,
                     const QDateTime &expiresAt)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral(
        "INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)"));
    query.addBindValue(tokenHash);
    query.addBindValue(accountId);
    query.addBindValue(toMs(createdAt));
    query.addBindValue(toMs(expiresAt));
    if (!query.exec())
        return failQuery(query, QStringLiteral("storing a token for account %1").arg(accountId));
    return true;
}

std::optional<qint64> Store::tokenAccount(const QByteArray &tokenHash, const QDateTime &now)
{
    QSqlQuery *row = selectRow(QStringLiteral("SELECT account_id FROM api_tokens WHERE token_hash = ? AND expires_at > ?"),
                               {tokenHash, toMs(now)}, QStringLiteral("looking up a token"),
                               QStringLiteral("no such token"));
    const FinishedOnExit finished(row);
    return row ? std::optional<qint64>(row->value(0).toLongLong()) : std::nullopt;
}

bool Store::deleteToken(const QByteArray &tokenHash)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE token_hash = ?"));
    query.addBindValue(tokenHash);
    if (!query.exec())
        return failQuery(query, QStringLiteral("deleting a token"));
    if (query.numRowsAffected() == 0)
        return fail(Error::NotFound, QStringLiteral("no such token"));
    return true;
}

bool Store::deleteOtherTokens(qint64 accountId, const QByteArray &keep)
{
    clearError();
    QSqlQuery query(database());
    // IS DISTINCT FROM: an empty keep binds as NULL, and "!= NULL" would match nothing.
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE account_id = ? AND token_hash IS DISTINCT FROM ?"));
    query.addBindValue(accountId);
    query.addBindValue(keep);
    if (!query.exec())
        return failQuery(query, QStringLiteral("ending the tokens of account %1").arg(accountId));
    return true;
}

std::optional<qint64> Store::purgeExpiredTokens(const QDateTime &now)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM api_tokens WHERE expires_at <= ?"));
    query.addBindValue(toMs(now));
    if (!query.exec()) {
        failQuery(query, QStringLiteral("purging expired tokens"));
        return std::nullopt;
    }
    return query.numRowsAffected();
}

namespace {
// A row's key: bounded, so a client cannot make rows as large as a line it sends.
QString loginFailureKey(const QString &value)
{
    return text(value.left(256));
}
} // namespace

bool Store::addLoginFailure(const QString &clientAddress, const QString &username, qint64 failedAtMs)
{
    clearError();
    const QString what = QStringLiteral("recording a failed login");
    for (;;) {
        if (QSqlQuery *query = cachedStatement(
                QStringLiteral("INSERT INTO login_failures (failed_at, client_address, username) VALUES (?, ?, ?)"), what)) {
            const FinishedOnExit finished(query);
            query->bindValue(0, failedAtMs);
            query->bindValue(1, loginFailureKey(clientAddress));
            query->bindValue(2, loginFailureKey(username));
            if (query->exec())
                return true;
            failQuery(*query, what);
        }
        if (!reconnectedAfterStaleConnection())
            return false;
    }
}

std::optional<LoginFailureCounts> Store::countLoginFailures(const QString &clientAddress, const QString &username,
                                                            qint64 sinceMs, int limit)
{
    // Each count a range of its own index, stopped at the limit.
    QSqlQuery *row = selectRow(
        QStringLiteral("SELECT (SELECT count(*) FROM (SELECT 1 FROM login_failures"
                       " WHERE client_address = ? AND failed_at > ? LIMIT ?) AS by_address),"
                       " (SELECT count(*) FROM (SELECT 1 FROM login_failures"
                       " WHERE username = ? AND failed_at > ? LIMIT ?) AS by_username)"),
        {loginFailureKey(clientAddress), sinceMs, limit, loginFailureKey(username), sinceMs, limit},
        QStringLiteral("counting failed logins"), QStringLiteral("no counts"));
    const FinishedOnExit finished(row);
    if (!row)
        return std::nullopt;
    return LoginFailureCounts{row->value(0).toInt(), row->value(1).toInt()};
}

std::optional<qint64> Store::purgeLoginFailures(qint64 untilMs)
{
    clearError();
    QSqlQuery query(database());
    query.prepare(QStringLiteral("DELETE FROM login_failures WHERE failed_at <= ?"));
    query.addBindValue(untilMs);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("purging old failed logins"));
        return std::nullopt;
    }
    return query.numRowsAffected();
}

std::optional<StoreStats> Store::stats()
{
    clearError();
    QSqlQuery query(database());
    // One statement reads one snapshot, so the figures agree with each other.
    const QString version = m_engine == Engine::Postgresql ? QStringLiteral("SELECT version FROM mailroom_schema")
                                                           : QStringLiteral("SELECT user_version FROM pragma_user_version");
    query.prepare(QStringLiteral("SELECT (%1), (SELECT count(*) FROM accounts),"
                                 " (SELECT count(*) FROM messages), (SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM messages),"
                                 " (SELECT count(*) FROM mailbox_entries),"
                                 " (SELECT count(*) FROM api_tokens WHERE expires_at > ?)")
                      .arg(version));
    query.addBindValue(toMs(QDateTime::currentDateTimeUtc()));
    if (!query.exec() || !query.next()) {
        failQuery(query, QStringLiteral("reading statistics"));
        return std::nullopt;
    }
    return StoreStats{query.value(0).toInt(),      query.value(1).toLongLong(),
                      query.value(2).toLongLong(), query.value(3).toLongLong(),
                      query.value(4).toLongLong(), query.value(5).toLongLong()};
}

namespace {

// Where a backup is written before it takes its name: a fresh 0700
// directory beside the target holding one empty 0600 file made with
// O_EXCL|O_NOFOLLOW, which SQLite then fills (VACUUM INTO and a new
// database both take an empty file). The directory is held open and
// everything in it is reached through that descriptor (SQLite through
// /proc/self/fd/N/), never through its name: someone who can write to the
// target's directory may rename ours and put a link in its place, and the
// copy must not follow it. Whatever happens, what is in it goes away at
// the end: a failed backup leaves no file that looks complete.
class BackupStaging
{
public:
    explicit BackupStaging(const QByteArray &parentDirectory)
    {
        m_parent = ::open(parentDirectory.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m_parent < 0) {
            m_errno = errno;
            return;
        }
        QByteArray path = parentDirectory + "/.mailroom-backup-XXXXXX";
        if (!::mkdtemp(path.data())) {
            m_errno = errno;
            return;
        }
        m_name = path.mid(path.lastIndexOf('/') + 1);
        m_directory = ::openat(m_parent, m_name.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat status = {};
        if (m_directory < 0 || ::fstat(m_directory, &status) != 0 || status.st_uid != ::geteuid()
            || (status.st_mode & 0077) != 0) {
            // Swapped between mkdtemp and open: not ours, not touched.
            m_errno = m_directory < 0 ? errno : EEXIST;
            m_name.clear();
            return;
        }
        const int fd = ::openat(m_directory, FileName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            m_errno = errno;
            return;
        }
        ::close(fd);
    }
    ~BackupStaging()
    {
        if (m_directory >= 0) {
            // SQLite may have left a journal beside the copy.
            const int listing = ::dup(m_directory);
            if (DIR *entries = listing >= 0 ? ::fdopendir(listing) : nullptr) {
                while (const dirent *entry = ::readdir(entries)) {
                    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
                        ::unlinkat(m_directory, entry->d_name, 0);
                }
                ::closedir(entries);
            } else if (listing >= 0) {
                ::close(listing);
            }
            ::close(m_directory);
        }
        // A link put in its place is not a directory: AT_REMOVEDIR leaves it.
        if (!m_name.isEmpty())
            ::unlinkat(m_parent, m_name.constData(), AT_REMOVEDIR);
        if (m_parent >= 0)
            ::close(m_parent);
    }
    BackupStaging(const BackupStaging &) = delete;
    BackupStaging &operator=(const BackupStaging &) = delete;

    [[nodiscard]] int error() const { return m_errno; }
    // The copy's path for SQLite, through the held directory.
    [[nodiscard]] QString file() const
    {
        return QStringLiteral("/proc/self/fd/%1/%2").arg(m_directory).arg(QLatin1StringView(FileName));
    }

    // Gives the file its final name, never replacing what is there (a file,
    // a directory, a symbolic link, dangling or not): 0 or an errno.
    int publish(const QByteArray &target) const
    {
#ifdef RENAME_NOREPLACE
        if (::renameat2(m_directory, FileName, AT_FDCWD, target.constData(), RENAME_NOREPLACE) == 0)
            return 0;
        // Some file systems do not support the flag; link() never replaces either.
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return errno;
#endif
        if (::linkat(m_directory, FileName, AT_FDCWD, target.constData(), 0) != 0)
            return errno;
        ::unlinkat(m_directory, FileName, 0);
        return 0;
    }

private:
    static constexpr const char *FileName = "backup.db";
    int m_parent = -1;
    int m_directory = -1;
    QByteArray m_name; // set while the directory is ours to remove
    int m_errno = 0;
};

} // namespace

bool Store::backupTo(const QString &file)
{
    clearError();
    const QFileInfo target(file);
    const QByteArray targetPath = QFile::encodeName(target.absoluteFilePath());
    // lstat, not QFileInfo::exists(), which follows links: a dangling
    // symbolic link at FILE once had the copy written where it pointed.
    struct stat existing = {};
    if (::lstat(targetPath.constData(), &existing) == 0) {
        const QString link = S_ISLNK(existing.st_mode) ? QStringLiteral(" (a symbolic link, never followed)") : QString();
        return fail(Error::AlreadyExists, QStringLiteral("%1 already exists%2: choose a new file name").arg(file, link));
    }
    if (!target.dir().exists())
        return fail(Error::NotFound, QStringLiteral("directory %1 does not exist").arg(target.absolutePath()));
    const BackupStaging staging(QFile::encodeName(target.absolutePath()));
    if (staging.error())
        return fail(Error::Failed, QStringLiteral("cannot write a backup in %1: %2")
                                       .arg(target.absolutePath(), qt_error_string(staging.error())));
    if (m_engine == Engine::Postgresql) {
        // Its errors name the file it writes: the user knows theirs.
        if (!backupPostgresqlTo(staging.file()))
            return fail(m_error, QString(m_errorText).replace(staging.file(), file));
    } else {
        QSqlQuery query(database());
        query.prepare(QStringLiteral("VACUUM INTO ?"));
        query.addBindValue(staging.file());
        if (!query.exec())
            return failQuery(query, QStringLiteral("backing up to %1").arg(file));
    }
    if (const int error = staging.publish(targetPath)) {
        // EEXIST: something took the name while the copy was being made.
        if (error == EEXIST)
            return fail(Error::AlreadyExists, QStringLiteral("%1 already exists: choose a new file name").arg(file));
        return fail(Error::Failed, QStringLiteral("cannot name the backup %1: %2").arg(file, qt_error_string(error)));
    }
    qCInfo(lcStore) << "backed up" << m_path << "to" << file;
    return true;
}

bool Store::restoreFrom(const QString &file)
{
    clearError();
    if (!QFileInfo(file).isFile())
        return fail(Error::NotFound, QStringLiteral("no backup file %1").arg(file));
    // Work on a private copy, made by SQLite itself from a read-only
    // connection: commits still in a -wal beside the file are included, and
    // the user's file is not changed. Opening the copy checks that it is a
    // Mailroom database and brings an older backup up to the current schema.
    QTemporaryDir workDir(m_engine == Engine::Postgresql
                              ? QDir::tempPath() + QStringLiteral("/mailroom-restore-XXXXXX")
                              : QFileInfo(m_path).absolutePath() + QStringLiteral("/.restore-XXXXXX"));
    if (!workDir.isValid())
        return fail(Error::Failed, QStringLiteral("cannot create a work directory: %1").arg(workDir.errorString()));
    const QString copy = workDir.filePath(QStringLiteral("restore.db"));
    {
        const QString sourceConnection = m_connectionName + QStringLiteral("-restore-source");
        QString readError;
        {
            QSqlDatabase source = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), sourceConnection);
            source.setDatabaseName(file);
            source.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=%1").arg(BusyTimeoutMs));
            if (!source.open()) {
                readError = source.lastError().text();
            } else {
                QSqlQuery vacuum(source);
                vacuum.prepare(QStringLiteral("VACUUM INTO ?"));
                vacuum.addBindValue(copy);
                if (!vacuum.exec())
                    readError = vacuum.lastError().text();
            }
            source.close();
        }
        QSqlDatabase::removeDatabase(sourceConnection);
        if (!readError.isEmpty())
            return fail(Error::Failed, QStringLiteral("cannot read backup %1: %2").arg(file, readError));
    }
    {
        Store source;
        if (!source.open(copy, OpenMode::MustExist))
            return fail(Error::Failed, QStringLiteral("backup %1 is unusable: %2")
                                           .arg(file, source.lastErrorText().replace(copy, file)));
        QSqlQuery check(source.database());
        if (!check.exec(QStringLiteral("PRAGMA integrity_check")) || !check.next()
            || check.value(0).toString() != u"ok")
            return fail(Error::Failed, QStringLiteral("backup %1 is damaged (integrity check failed)").arg(file));
    }
    if (m_engine == Engine::Postgresql)
        return restorePostgresqlFrom(copy, file);

    QSqlQuery query(database());
    query.prepare(QStringLiteral("ATTACH DATABASE ? AS restore_source"));
    query.addBindValue(copy);
    if (!query.exec())
        return failQuery(query, QStringLiteral("opening backup %1").arg(file));
    bool restored = false;
    {
        SqlWriteTransaction transaction(database());
        if (!transaction.isActive()) {
            fail(classify(transaction.lastError()),
                 QStringLiteral("cannot lock the database: %1").arg(transaction.lastError().text()));
        } else {
            // Ids never go back (SPEC: never reused; POP3 UIDLs depend on
            // it): each counter continues from the larger of the two.
            QStringList statements{QStringLiteral(
                "CREATE TEMP TABLE restore_counters AS SELECT name, seq FROM main.sqlite_sequence")};
            const QStringList &tables = StoreSchema::tablesInDependencyOrder();
            for (auto it = tables.crbegin(); it != tables.crend(); ++it)
                statements.append(QStringLiteral("DELETE FROM main.%1").arg(*it));
            // Both files are at the same schema version, so the columns line
            // up. Login tokens are not restored: sessions ended since the
            // backup must stay ended, so a restore ends every session.
            for (const QString &table : tables) {
                if (table != u"api_tokens")
                    statements.append(QStringLiteral("INSERT INTO main.%1 SELECT * FROM restore_source.%1").arg(table));
            }
            statements.append(QStringLiteral("DELETE FROM main.sqlite_sequence"));
            statements.append(QStringLiteral(
                "INSERT INTO main.sqlite_sequence (name, seq) SELECT name, max(seq) FROM"
                " (SELECT name, seq FROM restore_source.sqlite_sequence UNION ALL SELECT name, seq FROM temp.restore_counters)"
                " GROUP BY name"));
            statements.append(QStringLiteral("DROP TABLE temp.restore_counters"));
            restored = true;
            for (const QString &statement : statements) {
                if (!query.exec(statement)) {
                    failQuery(query, QStringLiteral("restoring from %1").arg(file));
                    restored = false;
                    break;
                }
            }
            query.finish();
            if (restored && !transaction.commit()) {
                fail(classify(transaction.lastError()),
                     QStringLiteral("committing the restore: %1").arg(transaction.lastError().text()));
                restored = false;
            }
        }
    }
    if (!query.exec(QStringLiteral("DETACH DATABASE restore_source")))
        qCWarning(lcStore) << "detaching the backup failed:" << query.lastError().text();
    if (restored)
        qCInfo(lcStore) << "restored" << m_path << "from" << file;
    return restored;
}

namespace {

// Copies every row of table from one connection to another in pages of
// `key` order, so a large database never sits in memory whole. Both are at
// the same schema version, so the columns line up (StoreSchema).
bool copyTable(const QSqlDatabase &from, const QSqlDatabase &to, const QString &table, const QString &key,
               QString *error)
{
    constexpr int PageRows = 256;
    QSqlQuery read(from);
    read.setForwardOnly(true);
    QSqlQuery write(to);
    bool writePrepared = false;
    QVariant last;
    for (;;) {
        read.prepare(last.isValid()
                         ? QStringLiteral("SELECT * FROM %1 WHERE %2 > ? ORDER BY %2 LIMIT %3").arg(table, key).arg(PageRows)
                         : QStringLiteral("SELECT * FROM %1 ORDER BY %2 LIMIT %3").arg(table, key).arg(PageRows));
        if (last.isValid())
            read.addBindValue(last);
        if (!read.exec()) {
            *error = QStringLiteral("reading %1: %2").arg(table, read.lastError().text());
            return false;
        }
        int rows = 0;
        while (read.next()) {
            const QSqlRecord record = read.record();
            if (!writePrepared) {
                QStringList placeholders(record.count(), QStringLiteral("?"));
                if (!write.prepare(QStringLiteral("INSERT INTO %1 VALUES (%2)").arg(table, placeholders.join(u',')))) {
                    *error = QStringLiteral("writing %1: %2").arg(table, write.lastError().text());
                    return false;
                }
                writePrepared = true;
            }
            for (int column = 0; column < record.count(); ++column)
                write.bindValue(column, record.value(column));
            if (!write.exec()) {
                *error = QStringLiteral("writing %1: %2").arg(table, write.lastError().text());
                return false;
            }
            last = record.value(key);
            ++rows;
        }
        if (rows < PageRows)
            return true;
    }
}

QString keyOf(const QString &table)
{
    return table == u"api_tokens" ? QStringLiteral("token_hash") : QStringLiteral("id");
}

// The next id each table's counter gives out minus one, on PostgreSQL: the
// sequence's last value, 0 when it never gave one.
std::optional<std::map<QString, qint64>> postgresqlCounters(const QSqlDatabase &db, QString *error)
{
    std::map<QString, qint64> counters;
    QSqlQuery query(db);
    for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
        if (table == u"api_tokens")
            continue;
        if (!query.exec(QStringLiteral("SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('%1', 'id')), 0)")
                            .arg(table))
            || !query.next()) {
            *error = QStringLiteral("reading the id counter of %1: %2").arg(table, query.lastError().text());
            return std::nullopt;
        }
        counters[table] = query.value(0).toLongLong();
    }
    return counters;
}

} // namespace

bool Store::backupPostgresqlTo(const QString &file)
{
    Store copy;
    if (!copy.open(file, OpenMode::CreateIfMissing, schemaVersion()))
        return fail(Error::Failed, QStringLiteral("cannot create the backup file: %1").arg(copy.lastErrorText()));
    // One snapshot for every table, so the copy is consistent while others write.
    QSqlQuery snapshot(database());
    if (!snapshot.exec(QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
        return failQuery(snapshot, QStringLiteral("starting the backup"));
    QString error;
    bool copied = false;
    {
        SqlWriteTransaction target(copy.database());
        copied = target.isActive();
        for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
            if (copied && !copyTable(database(), copy.database(), table, keyOf(table), &error))
                copied = false;
        }
        // SQLite's counters continue where PostgreSQL's are, so ids given
        // out and deleted since stay unused after a restore too.
        const auto counters = copied ? postgresqlCounters(database(), &error) : std::nullopt;
        QSqlQuery sequence(copy.database());
        if (counters) {
            for (const auto &[table, value] : *counters) {
                sequence.prepare(QStringLiteral("DELETE FROM sqlite_sequence WHERE name = ?"));
                sequence.addBindValue(table);
                const bool deleted = sequence.exec();
                sequence.prepare(QStringLiteral(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT ?, max(?, coalesce((SELECT max(id) FROM %1), 0))")
                                     .arg(table));
                sequence.addBindValue(table);
                sequence.addBindValue(value);
                if (!deleted || !sequence.exec()) {
                    error = QStringLiteral("writing the id counters: %1").arg(sequence.lastError().text());
                    copied = false;
                    break;
                }
            }
        } else {
            copied = false;
        }
        if (copied && !target.commit()) {
            error = target.lastError().text();
            copied = false;
        }
        if (error.isEmpty() && !copied)
            error = target.lastError().text();
    }
    if (!snapshot.exec(QStringLiteral("COMMIT")))
        qCWarning(lcStore) << "ending the backup snapshot failed:" << snapshot.lastError().text();
    if (!copied)
        return fail(Error::Failed, QStringLiteral("backing up to %1: %2").arg(file, error));
    return true;
}

bool Store::restorePostgresqlFrom(const QString &backupCopy, const QString &file)
{
    Store source;
    if (!source.open(backupCopy, OpenMode::MustExist))
        return fail(Error::Failed, QStringLiteral("backup %1 is unusable: %2").arg(file, source.lastErrorText()));
    SqlWriteTransaction transaction(database());
    if (!transaction.isActive())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("cannot start the restore: %1").arg(transaction.lastError().text()));
    QSqlQuery query(database());
    // Other servers wait until the new data is complete: they see the old
    // or the new, never a mix.
    if (!query.exec(QStringLiteral("LOCK TABLE accounts, messages, mailbox_entries, api_tokens IN ACCESS EXCLUSIVE MODE")))
        return failQuery(query, QStringLiteral("locking the tables for the restore"));
    QString error;
    const auto before = postgresqlCounters(database(), &error);
    if (!before)
        return fail(Error::Failed, error);
    // Login tokens are not restored: sessions ended since the backup must
    // stay ended, so a restore ends every session.
    if (!query.exec(QStringLiteral("TRUNCATE api_tokens, mailbox_entries, messages, accounts")))
        return failQuery(query, QStringLiteral("emptying the tables for the restore"));
    for (const QString &table : StoreSchema::tablesInDependencyOrder()) {
        if (table != u"api_tokens" && !copyTable(source.database(), database(), table, keyOf(table), &error))
            return fail(Error::Failed, QStringLiteral("restoring from %1: %2").arg(file, error));
    }
    // Ids never go back (SPEC: never reused; POP3 UIDLs depend on it): each
    // counter continues from the largest of the two databases' counters.
    QSqlQuery backupCounters(source.database());
    for (const auto &[table, value] : *before) {
        backupCounters.prepare(QStringLiteral("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)"));
        backupCounters.addBindValue(table);
        if (!backupCounters.exec() || !backupCounters.next())
            return fail(Error::Failed, QStringLiteral("reading the id counters of %1: %2")
                                           .arg(file, backupCounters.lastError().text()));
        const qint64 counter = std::max(value, backupCounters.value(0).toLongLong());
        query.prepare(QStringLiteral("SELECT setval(pg_get_serial_sequence('%1', 'id'),"
                                     " greatest(?, (SELECT coalesce(max(id), 0) FROM %1), 1), ?)")
                          .arg(table));
        query.addBindValue(counter);
        query.addBindValue(counter > 0);
        if (!query.exec())
            return failQuery(query, QStringLiteral("setting the id counter of %1").arg(table));
    }
    query.finish();
    if (!transaction.commit())
        return fail(classify(transaction.lastError()),
                    QStringLiteral("committing the restore: %1").arg(transaction.lastError().text()));
    qCInfo(lcStore) << "restored" << m_path << "from" << file;
    return true;
}
