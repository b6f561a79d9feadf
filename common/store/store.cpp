// Store: the connection (open, configure, reconnect with back-off) and how
// errors are classified and recorded. The other concerns live beside it:
// storeschema.cpp, storeaccounts.cpp, storedelivery.cpp, storefolders.cpp,
// storeimap.cpp, storetokens.cpp, storestats.cpp, storebackup.cpp.

#include "store.h"

#include "logging.h"
#include "store_p.h"
#include "storecaches_p.h"
#include "storesql_p.h"

#include <QAtomicInteger>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

using StoreSql::BusyTimeoutMs;

namespace {

// SQLite result codes as QSqlError::nativeErrorCode() reports them: the
// extended code where there is one; its low byte is the primary code.
constexpr int SqliteBusy = 5;
constexpr int SqliteLocked = 6;
constexpr int SqliteFull = 13;
constexpr int SqliteConstraintUnique = 2067;
constexpr int SqliteConstraintPrimaryKey = 1555;
constexpr int SqliteConstraintForeignKey = 787;

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

} // namespace

Store::Store()
    : m_connectionName(QStringLiteral("mailroom-store-%1").arg(connectionCounter.fetchAndAddRelaxed(1)))
{
}

Store::~Store()
{
    close();
}

QSqlDatabase Store::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

std::optional<qint64> Store::sqliteDataVersion()
{
    if (m_engine != Engine::Sqlite)
        return std::nullopt;
    QSqlQuery *statement = cachedStatement(QStringLiteral("PRAGMA data_version"), QStringLiteral("reading data_version"));
    if (!statement)
        return std::nullopt;
    const StoreSql::FinishedOnExit finished(statement);
    if (!statement->exec() || !statement->next()) {
        failQuery(*statement, QStringLiteral("reading data_version"));
        return std::nullopt;
    }
    return statement->value(0).toLongLong();
}

bool Store::subscribeToChanges()
{
    if (m_engine != Engine::Postgresql)
        return false;
    QSqlDriver *driver = database().driver();
    const QString channel = QLatin1StringView(StoreSchema::ChangeChannel);
    if (driver->subscribedToNotifications().contains(channel))
        return true;
    if (!driver->subscribeToNotification(channel))
        return fail(classify(driver->lastError()),
                    QStringLiteral("listening for changes: %1").arg(driver->lastError().text()));
    return true;
}

bool Store::ping()
{
    clearError(); // reconnects a lost connection when the back-off allows
    QSqlQuery query(database());
    if (!query.exec(QStringLiteral("SELECT 1")))
        return failQuery(query, QStringLiteral("checking the connection"));
    // Read to the end: QPSQL reads a forward-only result row by row, and a
    // connection left inside a result hears no notification (LISTEN) until
    // its next query.
    while (query.next()) {
    }
    return true;
}

bool Store::subscribedToChanges() const
{
    return m_engine == Engine::Postgresql
        && database().driver()->subscribedToNotifications().contains(QLatin1StringView(StoreSchema::ChangeChannel));
}

bool Store::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && database().isOpen();
}

void Store::close()
{
    m_statements.clear(); // they hold the connection
    m_summaries.reset();  // of that database
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
    // temp_store: a statement that fires triggers or checks foreign keys
    // keeps the pages it changes in a statement journal, a temporary file by
    // default: two write calls a page, a fifth of a delivery's writes.
    for (const QString &pragma : {QStringLiteral("PRAGMA foreign_keys = ON"), QStringLiteral("PRAGMA synchronous = FULL"),
                                  QStringLiteral("PRAGMA temp_store = MEMORY"),
                                  QStringLiteral("PRAGMA busy_timeout = %1").arg(BusyTimeoutMs)}) {
        if (!query.exec(pragma))
            return failQuery(query, pragma);
    }
    if (!query.exec(QStringLiteral("PRAGMA foreign_keys")) || !query.next() || query.value(0).toInt() != 1)
        return fail(Error::Failed, QStringLiteral("this SQLite cannot enforce foreign keys"));
    return true;
}
