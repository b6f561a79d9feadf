#pragma once

// The store's schema and the SQL whose query plans tests check. Internal to
// common/store and its tests.

#include "config.h"

#include <QList>
#include <QStringList>

namespace StoreSchema {

// "MlRm": marks a SQLite file as Mailroom's (PRAGMA application_id).
inline constexpr int ApplicationId = 0x4d6c526d;

// Address lists of the summary (messages.to_list, cc_list): a JSON array of
// the field's addresses; when the field held more than are kept (the first
// MaxStoredAddresses, MessageSummary::MaxListedAddresses: all that any view
// of a summary shows), the object {"count": every address in the field,
// "addresses": the kept ones}.
inline constexpr int MaxStoredAddresses = 50;

// Brings lists stored whole before version 3 to that form, on either engine.
inline QString sqliteTrimmedAddressListSql(const QString &column)
{
    // json(value): a JSON subtype does not survive the subquery.
    return QStringLiteral("UPDATE messages SET %1 = json_object('count', json_array_length(%1), 'addresses',"
                          " (SELECT json_group_array(json(value)) FROM"
                          " (SELECT value FROM json_each(messages.%1) ORDER BY key LIMIT %2)))"
                          " WHERE json_array_length(%1) > %2")
        .arg(column)
        .arg(MaxStoredAddresses);
}

inline QString postgresqlTrimmedAddressListSql(const QString &column)
{
    return QStringLiteral("UPDATE messages SET %1 = json_build_object('count', json_array_length(%1::json),"
                          " 'addresses', (SELECT json_agg(element ORDER BY position)"
                          " FROM json_array_elements(%1::json) WITH ORDINALITY AS t(element, position)"
                          " WHERE position <= %2))::text"
                          " WHERE json_array_length(%1::json) > %2")
        .arg(column)
        .arg(MaxStoredAddresses);
}

// The PostgreSQL notification channel of committed changes (migration 5).
inline constexpr char ChangeChannel[] = "mailroom_changes";

// Step 4 on both engines: columns added at the end of accounts, in the
// same order on both, so rows still copy between them.
inline QStringList accountDisplayNameSteps()
{
    return {QStringLiteral("ALTER TABLE accounts ADD COLUMN display_name TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("ALTER TABLE accounts ADD COLUMN display_name_key TEXT NOT NULL DEFAULT ''")};
}

// Migration N (1-based) turns schema version N-1 into N. Released steps are
// never edited: a change is a new step. A step that rewrites a message's
// summary columns (as 3 does) runs only at start-up, before any server
// serves: running servers keep the summaries they read (storecaches_p.h).
inline const QList<QStringList> &migrations()
{
    static const QList<QStringList> steps = {
        // 1: accounts, messages stored once, mailbox entries per (owner, folder).
        {
            QStringLiteral("PRAGMA application_id = %1").arg(ApplicationId),
            QStringLiteral("CREATE TABLE accounts ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT," // AUTOINCREMENT: ids are never reused
                           " username TEXT NOT NULL UNIQUE,"
                           " password_hash TEXT NOT NULL,"
                           " created_at INTEGER NOT NULL)"),
            QStringLiteral("CREATE TABLE messages ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " received_at INTEGER NOT NULL,"
                           " size INTEGER NOT NULL,"
                           " from_name TEXT NOT NULL,"
                           " from_address TEXT NOT NULL,"
                           " to_list TEXT NOT NULL,"
                           " cc_list TEXT NOT NULL,"
                           " subject TEXT NOT NULL,"
                           " date INTEGER,"
                           " message_id TEXT NOT NULL,"
                           " in_reply_to TEXT NOT NULL,"
                           " preview TEXT NOT NULL,"
                           " attachments TEXT NOT NULL,"
                           // Last, so listings never touch its overflow pages.
                           " raw BLOB NOT NULL)"),
            QStringLiteral("CREATE TABLE mailbox_entries ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                           " folder TEXT NOT NULL CHECK (folder IN ('inbox', 'sent')),"
                           " message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
                           " seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1)),"
                           " UNIQUE (owner_id, folder, message_id))"),
            QStringLiteral("CREATE INDEX mailbox_entries_by_folder ON mailbox_entries (owner_id, folder, id)"),
            QStringLiteral("CREATE INDEX mailbox_entries_by_message ON mailbox_entries (message_id)"),
            // A message lives as long as some mailbox shows it (docs/protocol/messages.md §2).
            QStringLiteral("CREATE TRIGGER messages_drop_unreferenced AFTER DELETE ON mailbox_entries"
                           " WHEN NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE message_id = OLD.message_id)"
                           " BEGIN DELETE FROM messages WHERE id = OLD.message_id; END"),
        },
        // 2: login tokens of the HTTPS API, stored only as SHA-256 hashes.
        {
            QStringLiteral("CREATE TABLE api_tokens ("
                           " token_hash BLOB PRIMARY KEY,"
                           " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                           " created_at INTEGER NOT NULL,"
                           " expires_at INTEGER NOT NULL) WITHOUT ROWID"),
            QStringLiteral("CREATE INDEX api_tokens_by_account ON api_tokens (account_id)"),
        },
        // 3: failed logins in the shared store, so that every server process
        // on one database counts against one budget; address lists of the
        // summary bounded (see sqliteTrimmedAddressListSql).
        {
            QStringLiteral("CREATE TABLE login_failures ("
                           " id INTEGER PRIMARY KEY,"
                           " failed_at INTEGER NOT NULL,"
                           " client_address TEXT NOT NULL,"
                           " username TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX login_failures_by_address ON login_failures (client_address, failed_at)"),
            QStringLiteral("CREATE INDEX login_failures_by_username ON login_failures (username, failed_at)"),
            QStringLiteral("CREATE INDEX login_failures_by_time ON login_failures (failed_at)"),
            sqliteTrimmedAddressListSql(QStringLiteral("to_list")),
            sqliteTrimmedAddressListSql(QStringLiteral("cc_list")),
        },
        // 4: display names, and the form without case and accents that the
        // directory matches prefixes against (docs/protocol/web.md §1).
        accountDisplayNameSteps(),
        // 5: nothing on SQLite, whose change counter (PRAGMA data_version)
        // tells other connections of a commit; PostgreSQL's notifications.
        {},
    };
    return steps;
}

// The same schema on PostgreSQL, step for step: version N is the same set
// of tables and columns, in the same order, on both engines, so rows copy
// between them (mailroomctl backup and restore) and every query but the few
// in StoreDialect runs on both. The differences, named:
// - ids: GENERATED BY DEFAULT AS IDENTITY (a sequence, never reused) for
//   AUTOINCREMENT; BYTEA for BLOB; BIGINT where SQLite's INTEGER is 64-bit.
// - identity and version: the table mailroom_schema for SQLite's
//   application_id and user_version pragmas.
// - the trigger that drops unreferenced messages is a PL/pgSQL function. It
//   locks the message row before it looks for other entries: without that,
//   two transactions deleting a message's last two entries at once would
//   each still see the other's, and the message would stay forever.
inline const QList<QStringList> &postgresqlMigrations()
{
    static const QList<QStringList> steps = {
        // 1: accounts, messages stored once, mailbox entries per (owner, folder).
        {
            QStringLiteral("CREATE TABLE mailroom_schema (application_id INTEGER NOT NULL, version INTEGER NOT NULL)"),
            QStringLiteral("INSERT INTO mailroom_schema (application_id, version) VALUES (%1, 0)").arg(ApplicationId),
            QStringLiteral("CREATE TABLE accounts ("
                           " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                           " username TEXT NOT NULL UNIQUE,"
                           " password_hash TEXT NOT NULL,"
                           " created_at BIGINT NOT NULL)"),
            QStringLiteral("CREATE TABLE messages ("
                           " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                           " received_at BIGINT NOT NULL,"
                           " size BIGINT NOT NULL,"
                           " from_name TEXT NOT NULL,"
                           " from_address TEXT NOT NULL,"
                           " to_list TEXT NOT NULL,"
                           " cc_list TEXT NOT NULL,"
                           " subject TEXT NOT NULL,"
                           " date BIGINT,"
                           " message_id TEXT NOT NULL,"
                           " in_reply_to TEXT NOT NULL,"
                           " preview TEXT NOT NULL,"
                           " attachments TEXT NOT NULL,"
                           " raw BYTEA NOT NULL)"),
            QStringLiteral("CREATE TABLE mailbox_entries ("
                           " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                           " owner_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                           " folder TEXT NOT NULL CHECK (folder IN ('inbox', 'sent')),"
                           " message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
                           " seen SMALLINT NOT NULL DEFAULT 0 CHECK (seen IN (0, 1)),"
                           " UNIQUE (owner_id, folder, message_id))"),
            QStringLiteral("CREATE INDEX mailbox_entries_by_folder ON mailbox_entries (owner_id, folder, id)"),
            QStringLiteral("CREATE INDEX mailbox_entries_by_message ON mailbox_entries (message_id)"),
            QStringLiteral("CREATE FUNCTION messages_drop_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$"
                           " BEGIN"
                           " PERFORM 1 FROM messages WHERE id = OLD.message_id FOR UPDATE;"
                           " IF NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE message_id = OLD.message_id) THEN"
                           " DELETE FROM messages WHERE id = OLD.message_id;"
                           " END IF;"
                           " RETURN NULL;"
                           " END $$"),
            QStringLiteral("CREATE TRIGGER messages_drop_unreferenced AFTER DELETE ON mailbox_entries"
                           " FOR EACH ROW EXECUTE FUNCTION messages_drop_unreferenced()"),
        },
        // 2: login tokens of the HTTPS API, stored only as SHA-256 hashes.
        {
            QStringLiteral("CREATE TABLE api_tokens ("
                           " token_hash BYTEA PRIMARY KEY,"
                           " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                           " created_at BIGINT NOT NULL,"
                           " expires_at BIGINT NOT NULL)"),
            QStringLiteral("CREATE INDEX api_tokens_by_account ON api_tokens (account_id)"),
        },
        // 3: failed logins in the shared store; address lists bounded.
        {
            QStringLiteral("CREATE TABLE login_failures ("
                           " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                           " failed_at BIGINT NOT NULL,"
                           " client_address TEXT NOT NULL,"
                           " username TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX login_failures_by_address ON login_failures (client_address, failed_at)"),
            QStringLiteral("CREATE INDEX login_failures_by_username ON login_failures (username, failed_at)"),
            QStringLiteral("CREATE INDEX login_failures_by_time ON login_failures (failed_at)"),
            postgresqlTrimmedAddressListSql(QStringLiteral("to_list")),
            postgresqlTrimmedAddressListSql(QStringLiteral("cc_list")),
        },
        // 4: display names.
        accountDisplayNameSteps(),
        // 5: every statement that changes mailbox entries or accounts sends
        // a notification on ChangeChannel, delivered when its transaction
        // commits (and once per transaction however many rows changed), so
        // StoreChangeWatcher hears of commits by every process.
        {
            QStringLiteral("CREATE FUNCTION mailroom_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$"
                           " BEGIN PERFORM pg_notify('%1', ''); RETURN NULL; END $$")
                .arg(QLatin1StringView(ChangeChannel)),
            QStringLiteral("CREATE TRIGGER mailbox_entries_notify_change AFTER INSERT OR UPDATE OR DELETE"
                           " ON mailbox_entries FOR EACH STATEMENT EXECUTE FUNCTION mailroom_notify_change()"),
            QStringLiteral("CREATE TRIGGER accounts_notify_change AFTER INSERT OR UPDATE OR DELETE"
                           " ON accounts FOR EACH STATEMENT EXECUTE FUNCTION mailroom_notify_change()"),
        },
    };
    return steps;
}

// Tables in the order rows can be copied in without breaking a foreign key.
inline const QStringList &tablesInDependencyOrder()
{
    static const QStringList tables = {QStringLiteral("accounts"), QStringLiteral("messages"),
                                       QStringLiteral("mailbox_entries"), QStringLiteral("api_tokens")};
    return tables;
}

// A message's summary columns, as summaryFromQuery (storefolders.cpp)
// reads them. SQLite hands text to Qt's driver as UTF-16, a conversion and
// an allocation inside SQLite for every text column of every row (a third
// of a listing's time); cast to BLOB it comes as the UTF-8 it is stored
// in, and QString::fromUtf8 is far cheaper. PostgreSQL's driver gets UTF-8
// text anyway (and its bytea cast would read backslashes as escapes).
inline QString summaryColumnsSql(DatabaseUrl::Kind engine)
{
    const bool sqlite = engine == DatabaseUrl::Kind::Sqlite;
    const auto text = [sqlite](const char *column) {
        const QString name = QLatin1StringView(column);
        return sqlite ? QStringLiteral("CAST(%1 AS BLOB)").arg(name) : name;
    };
    return QStringList{text("m.from_name"), text("m.from_address"), text("m.to_list"), text("m.cc_list"),
                       text("m.subject"), QStringLiteral("m.date"), text("m.message_id"), text("m.in_reply_to"),
                       text("m.preview"), text("m.attachments")}
        .join(QStringLiteral(", "));
}

// One entry of one owner: the entry's columns (as the listing's keys
// below), then its summary's.
inline QString entrySql(DatabaseUrl::Kind engine)
{
    return QStringLiteral("SELECT e.id, e.seen, e.message_id, m.received_at, m.size, e.folder, ")
        + summaryColumnsSql(engine)
        + QStringLiteral(" FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                         " WHERE e.id = ? AND e.owner_id = ?");
}

// One page of a folder, newest first, without the summaries (the store
// keeps those it read: messages never change): must stay an index range
// scan on mailbox_entries_by_folder (tests/common/tst_store checks the plan).
inline const QString &folderPageSql()
{
    static const QString sql = QStringLiteral(
        "SELECT e.id, e.seen, e.message_id, m.received_at, m.size"
        " FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
        " WHERE e.owner_id = :owner AND e.folder = :folder AND e.id < :before"
        " ORDER BY e.id DESC LIMIT :limit");
    return sql;
}

// The summaries of up to SummaryBatch messages by id (unused places bound
// to 0, which no message has), each row its id, received_at and size, then
// the summary.
inline constexpr int SummaryBatch = 50;
inline QString summariesSql(DatabaseUrl::Kind engine)
{
    QStringList places;
    for (int i = 0; i < SummaryBatch; ++i)
        places.append(QStringLiteral("?"));
    return QStringLiteral("SELECT m.id, m.received_at, m.size, ") + summaryColumnsSql(engine)
        + QStringLiteral(" FROM messages m WHERE m.id IN (") + places.join(QStringLiteral(", "))
        + QStringLiteral(")");
}

} // namespace StoreSchema
