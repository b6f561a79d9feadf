#pragma once

// The store's schema and the SQL whose query plans tests check. Internal to
// common/ and its tests.

#include <QList>
#include <QStringList>

namespace StoreSchema {

// "MlRm": marks a SQLite file as Mailroom's (PRAGMA application_id).
inline constexpr int ApplicationId = 0x4d6c526d;

// Migration N (1-based) turns schema version N-1 into N. Released steps are
// never edited: a change is a new step.
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
            // A message lives as long as some mailbox shows it (SPEC "Storage").
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

// One page of a folder, newest first: must stay an index range scan on
// mailbox_entries_by_folder (tests/common/tst_store checks the plan).
inline const QString &folderPageSql()
{
    static const QString sql = QStringLiteral(
        "SELECT e.id, e.owner_id, e.folder, e.seen, m.id, m.received_at, m.size, m.from_name, m.from_address,"
        " m.to_list, m.cc_list, m.subject, m.date, m.message_id, m.in_reply_to, m.preview, m.attachments"
        " FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
        " WHERE e.owner_id = :owner AND e.folder = :folder AND e.id < :before"
        " ORDER BY e.id DESC LIMIT :limit");
    return sql;
}

} // namespace StoreSchema
