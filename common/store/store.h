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
#include <QStringList>

#include <functional>
#include <map>
#include <memory>
#include <optional>

class SqlWriteTransaction;
struct SearchQuery;
class StoredAddressLists;
class StoredSummaries;

// The folders every account has, by their role (RFC 6154 special use;
// docs/STORAGE.md, "Folders, flags and changes").
enum class FolderRole { Inbox, Drafts, Sent, Archive, Trash, Junk };
// "inbox", "drafts", ...: the role as the API and the database name it.
[[nodiscard]] QString roleName(FolderRole role);
[[nodiscard]] std::optional<FolderRole> roleFromName(QStringView name);

struct MailFolder
{
    qint64 id = 0;
    qint64 ownerId = 0;
    QString name; // levels separated by '/'
    std::optional<FolderRole> role;
    qint64 uidValidity = 0;
    qint64 uidNext = 0;
    qint64 modseq = 0; // of its own last change: created or renamed
    qint64 highestModseq = 0;
    qint64 total = 0;
    qint64 unseen = 0;
    // False for a folder IMAP shows as \Noselect: emptied by
    // Store::emptyFolderKeepingChildren, kept for its sub-folders, holding
    // no entries until createFolder of its name makes it selectable again.
    bool selectable = true;
};

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

// IMAP's system flags of an entry (\Seen ... \Draft).
struct EntryFlags
{
    bool seen = false;
    bool answered = false;
    bool flagged = false;
    bool deleted = false;
    bool draft = false;
    friend bool operator==(const EntryFlags &, const EntryFlags &) = default;
};

// One message as one owner's folder shows it.
struct MailboxEntry
{
    qint64 id = 0;
    qint64 ownerId = 0;
    qint64 folderId = 0;
    qint64 uid = 0;
    qint64 modseq = 0;
    bool seen = false;
    bool answered = false;
    bool flagged = false;
    bool deleted = false;
    bool draft = false;
    QStringList keywords;
    qint64 messageId = 0;
    QDateTime receivedAt;
    qint64 size = 0;
    MessageSummary summary;
};

// An entry as IMAP keeps it for a selected folder (Store::folderEntries).
struct FolderEntryState
{
    qint64 uid = 0;
    qint64 entryId = 0;
    qint64 modseq = 0;
    EntryFlags flags;
    QStringList keywords;
};

// What changed in one folder after a modseq (Store::folderChanges): what
// an IMAP session learns at NOOP or IDLE, and QRESYNC's answer.
struct FolderChanges
{
    MailFolder folder; // as read first: pass its highestModseq as the next `since`
    QList<FolderEntryState> changed; // in the folder now, modseq > since: new or flags changed; uid order
    QList<qint64> removedUids; // left the folder (removed or moved away) after since; ascending
    // Removals after `since` may be forgotten (Store::forgetRemovals): the
    // caller resyncs from folderEntries; the lists are then empty.
    bool removalsForgotten = false;
};

// A change of flags on many entries (Store::storeFlags): IMAP's STORE, with
// CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).
struct FlagsChange
{
    enum class Mode { Replace, Add, Remove };
    Mode mode = Mode::Replace;
    EntryFlags flags; // the system flags named: all five for Replace
    QStringList keywords;
    std::optional<qint64> unchangedSince;
};

struct FlagsResult
{
    QList<FolderEntryState> changed; // as they are now, with their new modseqs; uid order
    QList<qint64> refusedEntryIds; // modseq above unchangedSince: left as they were; uid order
};

// An entry copied or moved (Store::copyEntries, moveEntries): UIDPLUS's COPYUID.
struct CopiedEntry
{
    qint64 sourceEntryId = 0;
    qint64 sourceUid = 0;
    qint64 entryId = 0; // a move keeps the id
    qint64 uid = 0; // in the target
};

struct CopyResult
{
    qint64 uidValidity = 0; // the target's
    QList<CopiedEntry> entries; // in the order of the source uids
};

// What FETCH reads of an entry besides its flags (Store::entryDetails).
struct EntryDetails
{
    qint64 entryId = 0;
    QDateTime receivedAt; // IMAP's internal date
    qint64 size = 0;
    QByteArray raw; // when asked for
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

// What an entry's owner changes of it (Store::updateEntry): what is set.
struct EntryUpdate
{
    std::optional<bool> seen;
    std::optional<bool> answered;
    std::optional<bool> flagged;
    std::optional<bool> deleted;
    std::optional<bool> draft;
    std::optional<QStringList> keywords;
    std::optional<qint64> folderId; // a move
};

// What changed in an account after a modseq (Store::changes).
struct ChangeSet
{
    qint64 modseq = 0; // pass as the next `since`
    bool reset = false; // removals since then are forgotten: list the folders again
    QList<MailboxEntry> created; // with summaries
    QList<MailboxEntry> updated; // without
    QList<qint64> removed;
    QList<MailFolder> folders; // created, renamed, or holding a change here
    QList<qint64> foldersRemoved;
    bool more = false;
};

// What the search index holds of a message (docs/protocol/search.md §2):
// each field's words folded by SearchWords, separated by spaces.
struct MessageWords
{
    QString subject;
    QString sender;
    QString to;
    QString cc;
    QString body;
    QString filenames;
};

// What the SMTP server hands over after DATA: stored once, shown in each
// recipient's inbox and in the sender's sent folder (already seen). Also
// what an append stores (no recipients, no sender).
struct NewMessage
{
    QByteArray raw;
    MessageSummary summary;
    QDateTime receivedAt;
    qint64 senderId = 0; // 0: no sent entry
    QList<qint64> recipientIds;
    // The readable text (MimeMessage::readableText): its words go into the
    // search index with the summary's, in the same transaction. A caller
    // with threads to spare folds them itself (Store::searchWords) into
    // `words`, and the store's transaction only writes them.
    QString text;
    std::optional<MessageWords> words;
};

// One message of an append of several (Store::appendMessages, IMAP's
// MULTIAPPEND): message.receivedAt is its internal date.
struct AppendedMessage
{
    NewMessage message;
    EntryFlags flags;
    QStringList keywords;
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

// Why a search query cannot run (Store::search): where its fault is.
struct SearchFault
{
    qsizetype position = 0; // of the term, in UTF-16 units
    QString message;
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
    // Invalid: the caller asked for something the rules refuse (a bad
    // folder name, renaming a role folder, a modseq in the future).
    enum class Error { None, NotFound, AlreadyExists, Invalid, DiskFull, Busy, Unavailable, Failed };
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
    // each all or nothing on its own, in order. A message that fails has no
    // Delivery and its error in `errors` (the group is rolled back and stored
    // again without it); when the database itself fails (busy, unavailable,
    // full) or the commit does, none is stored and every entry is unset.
    struct DeliveryError
    {
        Error error = Error::None;
        QString text;
    };
    QList<std::optional<Delivery>> deliverAll(const QList<NewMessage> &messages, QList<DeliveryError> *errors = nullptr);

    // Folders (storemailbox.cpp). Names: 1 to MaxFolderNameLength
    // characters, no control characters, '/' between non-empty levels, not
    // "inbox" in any case but the Inbox itself; at most MaxFolders per account.
    static constexpr int MaxFolders = 1000;
    static constexpr int MaxFolderNameLength = 200;
    // Why a name is refused, or nothing for a good one.
    [[nodiscard]] static std::optional<QString> folderNameFault(const QString &name);
    std::optional<QList<MailFolder>> folders(qint64 ownerId);
    std::optional<MailFolder> folder(qint64 ownerId, qint64 folderId);
    std::optional<MailFolder> roleFolder(qint64 ownerId, FolderRole role);
    // Invalid for a bad name, AlreadyExists when the account has it. A
    // folder of that name that is not selectable becomes selectable again,
    // with a new uidValidity.
    std::optional<MailFolder> createFolder(qint64 ownerId, const QString &name);
    // Its sub-folders move with it; a new uidValidity for each. Invalid for
    // a role folder, a bad name or a name under itself.
    std::optional<MailFolder> renameFolder(qint64 ownerId, qint64 folderId, const QString &name);
    // With its sub-folders and every entry in them. Invalid for a role folder.
    bool deleteFolder(qint64 ownerId, qint64 folderId);
    // IMAP's DELETE of a folder with sub-folders (RFC 9051 §6.3.5): its
    // entries removed, the folder kept, not selectable, for the
    // sub-folders. Invalid for a role folder. Entries cannot be put into it
    // (Invalid) until createFolder of its name.
    bool emptyFolderKeepingChildren(qint64 ownerId, qint64 folderId);
    // The octets of its messages (IMAP's STATUS SIZE; storeimap.cpp): a sum over its entries.
    std::optional<qint64> folderSize(qint64 ownerId, qint64 folderId);

    // IMAP's subscriptions (storemailbox.cpp): names, folders or not
    // (RFC 9051 §6.3.9), of folderNameFault's rules, at most MaxFolders per
    // account. A rename takes the subscriptions of the folder and its
    // sub-folders along; a deletion keeps them.
    bool subscribe(qint64 ownerId, const QString &name); // subscribed already is no error
    bool unsubscribe(qint64 ownerId, const QString &name); // NotFound when not subscribed
    std::optional<QStringList> subscriptions(qint64 ownerId); // by name

    // Newest first, entries with id < before (keyset paging); limit >= 1.
    // Another account's folder lists as empty.
    std::optional<FolderPage> listFolder(qint64 ownerId, qint64 folderId, int limit,
                                         std::optional<qint64> before = std::nullopt);
    std::optional<FolderPage> listFolder(qint64 ownerId, FolderRole role, int limit,
                                         std::optional<qint64> before = std::nullopt);
    // Only the owner's entries are found: another account's id is NotFound.
    std::optional<MailboxEntry> entry(qint64 ownerId, qint64 entryId);
    std::optional<QByteArray> rawMessage(qint64 ownerId, qint64 entryId);
    bool setSeen(qint64 ownerId, qint64 entryId, bool seen);
    // Entries (storeentries.cpp). Keywords: IMAP atoms of at most
    // MaxKeywordLength characters, at most MaxKeywords per entry.
    static constexpr int MaxKeywords = 50;
    static constexpr int MaxKeywordLength = 100;
    [[nodiscard]] static std::optional<QString> keywordFault(const QString &keyword);
    // Flags, keywords and a move (the id stays; the uid is the target's
    // next); the entry as it is now. A change that changes nothing takes no
    // modseq. NotFound for another account's entry or folder.
    std::optional<MailboxEntry> updateEntry(qint64 ownerId, qint64 entryId, const EntryUpdate &update);
    // A new entry of the same message in folderId, with the same flags.
    std::optional<MailboxEntry> copyEntry(qint64 ownerId, qint64 entryId, qint64 folderId);
    // Stores a message into the owner's folder without delivering it.
    std::optional<MailboxEntry> appendMessage(qint64 ownerId, qint64 folderId, const NewMessage &message,
                                              const EntryFlags &flags, const QStringList &keywords = {});
    // Several, in one transaction, all or none, with consecutive uids in
    // their order (IMAP's MULTIAPPEND, RFC 3502).
    std::optional<QList<MailboxEntry>> appendMessages(qint64 ownerId, qint64 folderId,
                                                      const QList<AppendedMessage> &messages);

    // IMAP (storeimap.cpp). Every call that takes entry ids skips those that
    // are not, or no longer, the owner's in that folder (expunged by another
    // session meanwhile): no error. NotFound for a folder that is gone.
    // Every entry of the folder, in uid order: read the folder first, so
    // that a change committed between the two reads is in this list and in
    // folderChanges(folder.highestModseq) again, never in neither.
    std::optional<QList<FolderEntryState>> folderEntries(qint64 ownerId, qint64 folderId);
    // Invalid for a since below 0.
    std::optional<FolderChanges> folderChanges(qint64 ownerId, qint64 folderId, qint64 since);
    // In one transaction; an entry whose flags stay as they are takes no
    // modseq. Invalid for a bad keyword, or when an entry would hold more
    // than MaxKeywords (nothing is changed then).
    std::optional<FlagsResult> storeFlags(qint64 ownerId, qint64 folderId, const QList<qint64> &entryIds,
                                          const FlagsChange &change);
    // All or nothing, the target's uids consecutive in the order of the
    // source uids. A copy keeps flags and keywords; a move keeps the entry
    // (as updateEntry's move: a removal of kind 'moved' in the source).
    std::optional<CopyResult> copyEntries(qint64 ownerId, qint64 sourceFolderId, const QList<qint64> &entryIds,
                                          qint64 targetFolderId);
    std::optional<CopyResult> moveEntries(qint64 ownerId, qint64 sourceFolderId, const QList<qint64> &entryIds,
                                          qint64 targetFolderId);
    // Removes those of the entries still flagged deleted when the
    // transaction runs (another session may have cleared the flag); their
    // uids, ascending.
    std::optional<QList<qint64>> expungeEntries(qint64 ownerId, qint64 folderId, const QList<qint64> &entryIds);
    // In the order of the ids asked; an entry that is gone is missing.
    std::optional<QList<EntryDetails>> entryDetails(qint64 ownerId, const QList<qint64> &entryIds, bool withRaw);
    // The words the index keeps of a message with this summary and text.
    [[nodiscard]] static MessageWords searchWords(const MessageSummary &summary, const QString &text);
    // A message as the servers store one: parsed for its summary, its
    // words folded here (on the caller's thread, not in the store's write
    // transaction). The caller sets the rest (date, sender, recipients).
    [[nodiscard]] static NewMessage parsedMessage(const QByteArray &raw);
    // Search (storesearch.cpp; docs/protocol/search.md): the owner's
    // entries that match, newest first, paged as listings. A term that
    // cannot run (no words in it, no such folder) is Invalid, with its
    // position in `fault`.
    std::optional<FolderPage> search(qint64 ownerId, const SearchQuery &query, int limit,
                                     std::optional<qint64> before = std::nullopt, SearchFault *fault = nullptr);
    // Changes (storechanges.cpp): at most `limit` items after `since`, in
    // modseq order. Invalid for a since below 0 or above the account's modseq.
    static constexpr int MaxChanges = 1000;
    std::optional<ChangeSet> changes(qint64 ownerId, qint64 since, int limit = MaxChanges);
    std::optional<qint64> accountModseq(qint64 ownerId);
    // The modseqs of these accounts, by id, in one query per hundred (an
    // account that is gone is missing): which of many accounts changed.
    std::optional<QHash<qint64, qint64>> accountModseqs(const QList<qint64> &ownerIds);
    // Forgets removals at or before untilMs (older than clients are owed);
    // a later request for changes from before them is answered with reset.
    std::optional<qint64> forgetRemovals(qint64 untilMs);
    bool deleteEntry(qint64 ownerId, qint64 entryId);
    // Deletes the owner's entries among these in one transaction; ids that
    // are gone already, or not in the folder of `onlyIn` when given (a POP3
    // QUIT: what was moved out of the inbox meanwhile stays), are no error.
    bool deleteEntries(qint64 ownerId, const QList<qint64> &entryIds,
                       std::optional<FolderRole> onlyIn = std::nullopt);
    // Every entry of the owner's inbox, oldest first, with its message's
    // size (a POP3 maildrop).
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
public:
    // The cached statements a delivery runs (storedelivery.cpp).
    struct DeliveryStatements
    {
        QSqlQuery *insertMessage = nullptr;
        QSqlQuery *insertWords = nullptr; // the search index's row
        QSqlQuery *addEntry = nullptr;
        QSqlQuery *indexWords = nullptr; // SQLite's FTS5 row, written last
    };
    // The modseqs and uids a delivery group took, a range per account and
    // per role folder, handed out in the order of the messages (one that
    // fails leaves a gap: modseqs and uids need only grow).
    struct DeliveryNumbers
    {
        struct Folder
        {
            qint64 id = 0;
            qint64 nextUid = 0;
        };
        QHash<qint64, qint64> nextModseq; // by account
        QHash<QPair<qint64, int>, Folder> folders; // by account and FolderRole
    };

private:
    // deliverAll's steps (storedelivery.cpp). A write transaction for the
    // group, reconnecting once for a stale connection.
    bool beginDelivery(std::optional<SqlWriteTransaction> *transaction);
    bool takeDeliveryNumbers(const QList<const NewMessage *> &messages, DeliveryNumbers *numbers);
    // One write transaction around body, which records its own failure and
    // returns false to roll back; BEGIN is tried again once on a stale
    // connection, as lookups are.
    bool inWriteTransaction(const QString &what, const std::function<bool()> &body);
    // Inside a write transaction (storeentries.cpp). On PostgreSQL, the
    // account's row locked: its changes are made one at a time, so modseqs
    // are committed in the order they are taken (SQLite's write lock does
    // that for the whole file).
    bool lockAccount(qint64 ownerId);
    // `count` new modseqs of the account; the last of them.
    std::optional<qint64> takeModseqs(qint64 ownerId, qint64 count);
    // `count` new uids of the owner's folder, whose highest modseq becomes
    // `modseq`; the first of them. NotFound for another account's folder,
    // Invalid for one that is not selectable (it holds no entries).
    std::optional<qint64> takeUids(qint64 ownerId, qint64 folderId, qint64 count, qint64 modseq);
    // The keywords an entry is to hold: each once (the first spelling),
    // checked; nothing, with Invalid recorded, when one is bad or there are
    // more than MaxKeywords.
    std::optional<QStringList> checkedKeywords(const QStringList &keywords);
    // Runs `sql`, written for StoreSchema::BatchRows rows of values, over
    // `rows`, that many at a time, the last time filled up with `filler`
    // rows (which change and select nothing); `fixed` is bound after the
    // rows; `read` sees each run's result rows. One statement a batch, not
    // one per row: a round trip each on PostgreSQL.
    bool runInBatches(const QString &sql, const QList<QVariantList> &rows, const QVariantList &filler,
                      const QVariantList &fixed, const QString &what,
                      const std::function<void(const QSqlQuery &)> &read = {});
    // The owner's entries among these that are in the folder, each once, in
    // uid order (without summaries).
    std::optional<QList<MailboxEntry>> entriesInFolder(qint64 ownerId, qint64 folderId, const QList<qint64> &entryIds);
    // copyEntries' and moveEntries' transaction.
    std::optional<CopyResult> copyOrMoveEntries(qint64 ownerId, qint64 sourceFolderId, const QList<qint64> &entryIds,
                                                qint64 targetFolderId, bool move);
    bool setHighestModseq(qint64 folderId, qint64 modseq);
    // The highest modseq of the account's forgotten removals: changes from
    // before it cannot be told whole.
    std::optional<qint64> removalsForgotten(qint64 ownerId);
    bool recordRemoval(qint64 ownerId, qint64 modseq, const QString &kind, qint64 objectId, qint64 folderId, qint64 uid);
    // The entry's own columns (no summary), NotFound when the owner has no such entry.
    std::optional<MailboxEntry> readEntry(qint64 ownerId, qint64 entryId);
    // A removal of `kind` for each entry, with the folder and uid it has
    // there, modseqs from firstModseq on in the entries' order; each
    // folder's highest modseq moved to its last.
    bool recordRemovals(qint64 ownerId, const QString &kind, const QList<MailboxEntry> &entries, qint64 firstModseq);
    // Removes these entries of the owner, a modseq and a removal each (with
    // the folder and uid it had), in their order.
    bool removeEntries(qint64 ownerId, const QList<MailboxEntry> &entries);
    // The owner's folder that a rename or delete changes, with the
    // account locked and all its folders read; Invalid (the role folder
    // `refusal`) for a role folder, NotFound for none of the owner's.
    std::optional<MailFolder> userFolderToChange(qint64 ownerId, qint64 folderId, const QString &refusal,
                                                 QList<MailFolder> *all);
    // A folder kept for its sub-folders selectable again (createFolder of its name).
    bool makeSelectable(qint64 ownerId, qint64 folderId);
    // The entries of these folders, by folder and id.
    std::optional<QList<MailboxEntry>> entriesOfFolders(qint64 ownerId, const QList<qint64> &folderIds);
    // A rename's: the subscriptions of `from` and of names under it to `to`.
    bool renameSubscriptions(qint64 ownerId, const QString &from, const QString &to);
    // A uidValidity no folder of the account has had: the current second,
    // or one more than the last given.
    std::optional<qint64> takeUidValidity(qint64 ownerId);
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
    // A page of the folder with this id (qint64) or role name (QString).
    std::optional<FolderPage> listFolderPage(qint64 ownerId, const QVariant &folder, int limit,
                                             std::optional<qint64> before);
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
    // Gives a page read with ListingColumns its summaries (keys: one per
    // entry, from its row); drops entries whose message went meanwhile.
    bool summarizePage(FolderPage *page, const QList<qint64> &receivedAtMs);
    // SQLite's two ways to run a search's FTS5 query (storesearch.cpp):
    // whether its matches are few enough to look up one by one; else the
    // ids of up to `wanted` entries meeting the conditions whose message
    // matches, newest first, found by reading the owner's entries.
    std::optional<bool> fewSearchMatches(const QString &ftsQuery, const QList<MailFolder> &folders);
    std::optional<QList<qint64>> scanForMatches(qint64 ownerId, const QString &from, const QStringList &conditions,
                                                const QVariantList &values, const QString &ftsQuery, int wanted,
                                                std::optional<qint64> before);
    // SELECT e.id FROM `from` WHERE the conditions, newest first, up to `wanted`.
    std::optional<QList<qint64>> searchEntryIds(const QString &from, const QStringList &conditions,
                                                const QVariantList &values, int wanted);
    // Migration 7: the words of every message stored before it.
    bool indexStoredMessages();

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
