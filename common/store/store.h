#pragma once

#include "config.h"
#include "messagesummary.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>

#include <map>
#include <memory>
#include <optional>

class SqlWriteTransaction;
class StoredAddressLists;
class StoredSummaries;

// Mail folders of an account (docs/protocol/messages.md §3: inbox and sent).
enum class Folder { Inbox, Sent };
[[nodiscard]] QString folderName(Folder folder);
[[nodiscard]] std::optional<Folder> folderFromName(QStringView name);

struct Account
{
    qint64 id = 0;
    QString username;
    QString passwordHash;
    QDateTime createdAt;
    QString displayName; // may be empty (docs/protocol/web.md §1)
};

// An account as the directory shows it (address completion).
struct DirectoryEntry
{
    QString username;
    QString displayName;
};

// One message as one owner's folder shows it.
struct MailboxEntry
{
    qint64 id = 0;
    qint64 ownerId = 0;
    Folder folder = Folder::Inbox;
    bool seen = false;
    qint64 messageId = 0;
    QDateTime receivedAt;
    qint64 size = 0;
    MessageSummary summary;
};

struct FolderPage
{
    QList<MailboxEntry> entries;
    std::optional<qint64> nextBefore; // the last id of the page, unset when nothing is older
};

struct FolderCounts
{
    qint64 total = 0;
    qint64 unseen = 0;
};

struct AccountCounts
{
    FolderCounts inbox;
    FolderCounts sent;
};

// What the SMTP server hands over after DATA: stored once, shown in each
// recipient's inbox and in the sender's sent folder (already seen).
struct NewMessage
{
    QByteArray raw;
    MessageSummary summary;
    QDateTime receivedAt;
    qint64 senderId = 0; // 0: no sent entry
    QList<qint64> recipientIds;
};

struct Delivery
{
    qint64 messageId = 0;
    QList<qint64> inboxEntryIds; // in the order of NewMessage::recipientIds, duplicates dropped
    qint64 sentEntryId = 0;
};

// Failed logins in the throttling window (Store::countLoginFailures).
struct LoginFailureCounts
{
    int byAddress = 0;
    int byUsername = 0;
};

struct StoreStats
{
    int schemaVersion = 0;
    qint64 accounts = 0;
    qint64 messages = 0;
    qint64 messageBytes = 0;
    qint64 mailboxEntries = 0;
    qint64 activeTokens = 0;
};

// The mail store over QtSql: the embedded SQLite file (WAL, foreign keys, a
// busy timeout and synchronous=FULL, so that several processes share one file
// and a commit survives a crash or power loss) or a PostgreSQL database that
// several servers on several machines share (the QPSQL driver). One Store is
// one connection and is used from the thread that opened it. Every write is
// one transaction.
//
// A PostgreSQL connection can be lost while the server runs (a restart of the
// database, a network fault): the operation that finds out fails with
// Unavailable, and later operations reconnect, at most once per back-off
// delay (100 ms doubling to 5 s), so a database that is down costs a failed
// connect now and then rather than one per request.
class Store
{
public:
    // MustExist: an existing Mailroom database; an empty file is refused.
    enum class OpenMode { CreateIfMissing, MustExist };
    // Unavailable: the database server cannot be reached now; try later.
    enum class Error { None, NotFound, AlreadyExists, DiskFull, Busy, Unavailable, Failed };
    using Engine = DatabaseUrl::Kind;

    Store();
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    [[nodiscard]] static int latestSchemaVersion();

    // Opens the file and applies pending migrations up to schemaVersion
    // (default: all). Refuses files that are not Mailroom databases and
    // databases written by a newer Mailroom.
    bool open(const DatabaseUrl &database, OpenMode mode, int schemaVersion = latestSchemaVersion());
    // The SQLite file at path.
    bool open(const QString &path, OpenMode mode, int schemaVersion = latestSchemaVersion());
    void close();
    [[nodiscard]] bool isOpen() const;
    [[nodiscard]] Engine engine() const { return m_engine; }
    // The SQLite file, or the PostgreSQL URL without its password: for messages.
    [[nodiscard]] QString path() const { return m_path; }
    [[nodiscard]] int schemaVersion();

    [[nodiscard]] Error lastError() const { return m_error; }
    [[nodiscard]] QString lastErrorText() const { return m_errorText; }

    // Accounts. Names must already be normalized (see Username::normalize).
    std::optional<Account> createAccount(const QString &username, const QString &passwordHash,
                                         const QDateTime &createdAt = QDateTime::currentDateTimeUtc());
    std::optional<Account> findAccount(const QString &username);
    std::optional<Account> findAccount(qint64 id);
    // As given; the directory matches it case and accents aside.
    bool setDisplayName(qint64 accountId, const QString &displayName);
    // Up to `limit` accounts whose name or display name begins with
    // `prefix`, case and accents aside, by name.
    std::optional<QList<DirectoryEntry>> directory(const QString &prefix, int limit);
    std::optional<QList<Account>> listAccounts();
    bool setPasswordHash(qint64 accountId, const QString &passwordHash);
    // Replaces the hash only while it is still `expected`; false (NotFound)
    // when the account is gone or its password changed meanwhile.
    bool replacePasswordHash(qint64 accountId, const QString &expected, const QString &replacement);
    // A new password hash and the end of every session but keepToken's, in
    // one transaction: never a new password with the old sessions alive.
    bool changePassword(qint64 accountId, const QString &passwordHash, const QByteArray &keepToken = {});
    // Also deletes the account's tokens and mailbox entries, and messages no one else holds.
    bool deleteAccount(qint64 accountId);

    // All of it or nothing, in one transaction.
    std::optional<Delivery> deliver(const NewMessage &message);
    // Group commit: the messages in one transaction (one disk flush for all),
    // each all or nothing on its own (a savepoint each), in order. A message
    // that fails has no Delivery and its error in `errors`; when the commit
    // itself fails none is stored and every entry is unset.
    struct DeliveryError
    {
        Error error = Error::None;
        QString text;
    };
    QList<std::optional<Delivery>> deliverAll(const QList<NewMessage> &messages, QList<DeliveryError> *errors = nullptr);

    // Newest first, entries with id < before (keyset paging); limit >= 1.
    std::optional<FolderPage> listFolder(qint64 ownerId, Folder folder, int limit,
                                         std::optional<qint64> before = std::nullopt);
    // Only the owner's entries are found: another account's id is NotFound.
    std::optional<MailboxEntry> entry(qint64 ownerId, qint64 entryId);
    std::optional<QByteArray> rawMessage(qint64 ownerId, qint64 entryId);
    bool setSeen(qint64 ownerId, qint64 entryId, bool seen);
    bool deleteEntry(qint64 ownerId, qint64 entryId);
    // Deletes the owner's entries among these in one transaction (a POP3
    // QUIT); ids that are gone already are no error.
    bool deleteEntries(qint64 ownerId, const QList<qint64> &entryIds);
    // Every inbox entry of the owner, oldest first, with its message's size
    // (a POP3 maildrop).
    std::optional<QList<MailboxEntry>> inbox(qint64 ownerId);
    std::optional<AccountCounts> counts(qint64 ownerId);

    // Login tokens, stored as hashes only.
    bool addToken(const QByteArray &tokenHash, qint64 accountId, const QDateTime &createdAt,
                  const QDateTime &expiresAt);
    // The account of an unexpired token (its id alone: tokenAccount).
    std::optional<Account> tokenOwner(const QByteArray &tokenHash, const QDateTime &now);
    std::optional<qint64> tokenAccount(const QByteArray &tokenHash, const QDateTime &now);
    bool deleteToken(const QByteArray &tokenHash);
    // Ends every token of the account but keep (used on a password change).
    bool deleteOtherTokens(qint64 accountId, const QByteArray &keep = {});
    std::optional<qint64> purgeExpiredTokens(const QDateTime &now);

    // Failed logins, kept here so that every server process on the database
    // counts against one budget (docs/PROTOCOL.md §6). Times
    // are ms since the epoch; names and addresses past 256 characters are
    // cut there (no account has such a name).
    bool addLoginFailure(const QString &clientAddress, const QString &username, qint64 failedAtMs);
    // Failures after sinceMs from the address and for the name, each counted
    // up to `limit` (enough to decide; the work stays bounded).
    std::optional<LoginFailureCounts> countLoginFailures(const QString &clientAddress, const QString &username,
                                                         qint64 sinceMs, int limit);
    // Forgets the failures at or before untilMs; how many.
    std::optional<qint64> purgeLoginFailures(qint64 untilMs);

    std::optional<StoreStats> stats();

    // A consistent copy of the whole database taken while others write, as
    // a SQLite file on both engines (VACUUM INTO; from PostgreSQL, the rows
    // of one repeatable-read snapshot). Refuses when anything is at `file`
    // (a symbolic link too, dangling or not: never followed), and creates
    // nothing but `file` and, while it works, a private directory beside it.
    bool backupTo(const QString &file);
    // Replaces accounts, messages and mailbox entries with those of a backup
    // (or a copy of a database file, its -wal included) in one transaction,
    // so that processes sharing the file see the old or the new data, never
    // a mix. Every session ends, and ids continue after the larger of the
    // two databases' counters, so none is ever reused.
    bool restoreFrom(const QString &file);

    // Changes other connections committed (StoreChangeWatcher): SQLite's
    // change counter, which moves with every commit of another connection
    // to the file (PRAGMA data_version); nullopt on PostgreSQL or an error.
    std::optional<qint64> sqliteDataVersion();
    // PostgreSQL: LISTEN to the notification every change sends (migration
    // 5), delivered through database().driver()'s notification signal.
    bool subscribeToChanges();
    [[nodiscard]] bool subscribedToChanges() const;
    // A trivial query: true while the connection serves. Like any query it
    // reconnects a lost PostgreSQL connection when the back-off allows.
    bool ping();

    // The connection, for tests that inspect query plans.
    [[nodiscard]] QSqlDatabase database() const;
    // A QPSQL connection named connectionName to database (not yet open),
    // set up as the store's own: for tools and tests beside a Store.
    static QSqlDatabase addPostgresqlConnection(const DatabaseUrl &database, const QString &connectionName);

private:
    bool connect();
    bool configureConnection();
    bool checkIdentity(OpenMode mode, int *version);
    bool checkPostgresqlIdentity(OpenMode mode, int *version);
    bool refuseNewerSchema(int version);
    bool migrate(int from, int to);
    bool fail(Error error, const QString &text);
    bool failQuery(const QSqlQuery &query, const QString &what);
    // Also notes a lost PostgreSQL connection, for the next reconnect.
    Error classify(const QSqlError &error);
    // Starts every operation: forgets the last error and, when the
    // connection was lost and the back-off delay has passed, reconnects.
    void clearError();
    void reconnectIfDue();
    // A connection the database ended while it sat idle (a restart does
    // that) fails its next statement. When the operation under way is the
    // one that found out, reconnect at once: true when the caller may run
    // it again (once), rather than fail a client for an idle connection.
    bool reconnectedAfterStaleConnection();
    // SAVEPOINT and its kin: cached on SQLite; PostgreSQL cannot prepare them.
    bool execControl(const QString &sql, QSqlError *error);
    // deliverAll's steps (storedelivery.cpp). A write transaction for the
    // group, reconnecting once for a stale connection.
    bool beginDelivery(std::optional<SqlWriteTransaction> *transaction);
    // One message of the group in a savepoint of its own: a message that
    // fails is undone alone and has its error in `error`. False when the
    // savepoint fails, which ends the group.
    bool deliverInSavepoint(QSqlQuery &insert, QSqlQuery &addEntry, const NewMessage &message,
                            std::optional<Delivery> *delivery, DeliveryError *error);
    // backupTo's and restoreFrom's steps (storebackup.cpp).
    bool backupPostgresqlTo(const QString &file);
    // A private copy of the backup, made by SQLite from a read-only connection.
    bool copyBackupFile(const QString &file, const QString &copy);
    // The copy opens as a Mailroom database (migrated to this schema) and is intact.
    bool checkBackupCopy(const QString &copy, const QString &file);
    bool restoreSqliteFrom(const QString &backupCopy, const QString &file);
    // On a connection that has the copy attached as restore_source.
    bool replaceFromAttachedBackup(QSqlQuery &query, const QString &file);
    bool restorePostgresqlFrom(const QString &backupCopy, const QString &file);
    // The statement for sql, prepared on first use and kept for the life of
    // the connection (preparing is a good part of a short query's cost);
    // nullptr, with the error recorded, when it does not prepare. Callers
    // bind by position or name and hold a FinishedOnExit while they use it.
    QSqlQuery *cachedStatement(const QString &sql, const QString &what);
    // A cached SELECT of one row with `keys` bound in order: the statement on
    // its row (the caller holds a FinishedOnExit), or nullptr with the error
    // recorded, NotFound (`missing`) when there is no such row.
    QSqlQuery *selectRow(const QString &sql, const QVariantList &keys, const QString &what, const QString &missing);
    // What this connection keeps of the summaries it read (storecaches_p.h).
    StoredAddressLists &addressLists();
    StoredSummaries &summaries();
    // A summary as read with what identifies its message (storefolders.cpp).
    struct ReadSummary
    {
        qint64 receivedAtMs = 0;
        qint64 size = 0;
        MessageSummary summary;
    };
    // The summaries of these messages, by message id; a message that is
    // gone is missing.
    bool readSummaries(const QList<qint64> &messageIds, QHash<qint64, ReadSummary> *read);

    QString m_connectionName;
    std::unique_ptr<StoredAddressLists> m_addressLists;
    std::unique_ptr<StoredSummaries> m_summaries;
    // Node-based, so a pointer handed out stays valid as others are added.
    std::map<QString, QSqlQuery> m_statements;
    QString m_path;
    DatabaseUrl m_database;
    Engine m_engine = Engine::Sqlite;
    bool m_connectionLost = false;
    bool m_healthyAtStart = true; // of the operation under way
    QElapsedTimer m_sinceReconnectAttempt;
    int m_reconnectDelayMs = 0;
    Error m_error = Error::None;
    QString m_errorText;
};
