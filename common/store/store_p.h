#pragma once

// The store's schema and the SQL whose query plans tests check. Internal to
// common/store and its tests.

#include "config.h"

#include <QList>
#include <QStringList>

#include <iterator>

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

// The role folders every account has (docs/STORAGE.md, "Folders, flags and
// changes"), in the order of their creation modseqs 1 to 6.
struct RoleFolder
{
    const char *role;
    const char *name;
};
inline constexpr RoleFolder RoleFolders[] = {{"inbox", "Inbox"},     {"drafts", "Drafts"}, {"sent", "Sent"},
                                             {"archive", "Archive"}, {"trash", "Trash"},   {"junk", "Junk"}};
inline constexpr int RoleFolderCount = int(std::size(RoleFolders));

// A SELECT of the six (name, role, position) rows, for INSERT ... SELECT.
inline QString roleFoldersSql()
{
    QStringList rows;
    for (int i = 0; i < RoleFolderCount; ++i)
        rows.append(QStringLiteral("SELECT '%1' AS name, '%2' AS role, %3 AS position")
                        .arg(QLatin1StringView(RoleFolders[i].name), QLatin1StringView(RoleFolders[i].role))
                        .arg(i + 1));
    return rows.join(QStringLiteral(" UNION ALL "));
}

// Each folder's total, unseen, uid_next and highest_modseq from its entries
// and its own modseq. Migration 6 runs it once; a restore runs it after
// copying, since the counting triggers counted every copied entry again.
inline QString folderCountersSql()
{
    return QStringLiteral(
        "UPDATE folders SET"
        " total = (SELECT count(*) FROM mailbox_entries e WHERE e.folder_id = folders.id),"
        " unseen = (SELECT count(*) FROM mailbox_entries e WHERE e.folder_id = folders.id AND e.seen = 0)");
}

// A restore puts back older modseqs and uids: every account's modseq goes
// past the larger of the two databases' (so no modseq means two things),
// its removals count as forgotten there (clients start over: `reset`), and
// every folder gets a uidValidity it never had (uids given since the backup
// are given again). Before the rows are replaced: keep the accounts' numbers.
inline QString restoreKeepAccountNumbersSql(DatabaseUrl::Kind engine)
{
    return engine == DatabaseUrl::Kind::Sqlite
        ? QStringLiteral("CREATE TEMP TABLE restore_accounts AS SELECT id, modseq, last_uid_validity FROM main.accounts")
        : QStringLiteral("CREATE TEMP TABLE restore_accounts ON COMMIT DROP AS"
                         " SELECT id, modseq, last_uid_validity FROM accounts");
}

// After the rows are replaced.
inline QStringList restoreAccountNumbersSql(DatabaseUrl::Kind engine)
{
    const bool sqlite = engine == DatabaseUrl::Kind::Sqlite;
    const QString greatest = sqlite ? QStringLiteral("max") : QStringLiteral("greatest");
    const QString now = sqlite ? QStringLiteral("CAST(strftime('%s', 'now') AS INTEGER)")
                               : QStringLiteral("CAST(extract(epoch FROM now()) AS BIGINT)");
    const QString kept = sqlite ? QStringLiteral("temp.restore_accounts") : QStringLiteral("restore_accounts");
    QStringList steps{
        QStringLiteral("UPDATE accounts SET"
                       " modseq = 1 + %1(modseq, coalesce((SELECT r.modseq FROM %2 r WHERE r.id = accounts.id), 0)),"
                       " last_uid_validity = %1(last_uid_validity + 1, %3,"
                       " coalesce((SELECT r.last_uid_validity + 1 FROM %2 r WHERE r.id = accounts.id), 0))")
            .arg(greatest, kept, now),
        QStringLiteral("UPDATE accounts SET removals_forgotten = modseq"),
        QStringLiteral("UPDATE folders SET uid_validity = (SELECT a.last_uid_validity FROM accounts a WHERE a.id = folders.owner_id)"),
    };
    if (sqlite)
        steps.append(QStringLiteral("DROP TABLE temp.restore_accounts"));
    return steps;
}

// Migration 6 on either engine: the same tables and columns in the same
// order, with what differs (types, trigger bodies, the rebuild of
// mailbox_entries on SQLite, which cannot drop a column in a constraint)
// chosen here.
inline QStringList mailboxModelSteps(DatabaseUrl::Kind engine)
{
    const bool sqlite = engine == DatabaseUrl::Kind::Sqlite;
    const QString id = sqlite ? QStringLiteral("INTEGER PRIMARY KEY AUTOINCREMENT")
                              : QStringLiteral("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    const QString integer = sqlite ? QStringLiteral("INTEGER") : QStringLiteral("BIGINT");
    const QString flag = sqlite ? QStringLiteral("INTEGER") : QStringLiteral("SMALLINT");
    const auto flagColumns = [&flag](const QString &prefix) {
        QStringList columns;
        for (const char *name : {"answered", "flagged", "deleted", "draft"})
            columns.append(QStringLiteral(" %1%2 %3 NOT NULL DEFAULT 0 CHECK (%2 IN (0, 1))")
                               .arg(prefix, QLatin1StringView(name), flag));
        return columns.join(QStringLiteral(","));
    };
    QStringList steps{
        // The account's last modseq; the last uidValidity it gave a folder;
        // the highest modseq of the removals it has forgotten.
        QStringLiteral("ALTER TABLE accounts ADD COLUMN modseq %1 NOT NULL DEFAULT 0").arg(integer),
        QStringLiteral("ALTER TABLE accounts ADD COLUMN last_uid_validity %1 NOT NULL DEFAULT 0").arg(integer),
        QStringLiteral("ALTER TABLE accounts ADD COLUMN removals_forgotten %1 NOT NULL DEFAULT 0").arg(integer),
        QStringLiteral("CREATE TABLE folders ("
                       " id %1,"
                       " owner_id %2 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                       " name TEXT NOT NULL,"
                       " role TEXT CHECK (role IN ('inbox', 'drafts', 'sent', 'archive', 'trash', 'junk')),"
                       " uid_validity %2 NOT NULL,"
                       " uid_next %2 NOT NULL DEFAULT 1,"
                       // the folder's own last change (created, renamed)
                       " modseq %2 NOT NULL,"
                       " highest_modseq %2 NOT NULL,"
                       // kept by the triggers below
                       " total %2 NOT NULL DEFAULT 0,"
                       " unseen %2 NOT NULL DEFAULT 0,"
                       " UNIQUE (owner_id, name))")
            .arg(id, integer),
        QStringLiteral("CREATE UNIQUE INDEX folders_by_role ON folders (owner_id, role) WHERE role IS NOT NULL"),
        // Role folders of every account: modseqs 1 to 6, uidValidity the
        // account's creation second.
        QStringLiteral("INSERT INTO folders (owner_id, name, role, uid_validity, uid_next, modseq, highest_modseq)"
                       " SELECT a.id, r.name, r.role,"
                       " CASE WHEN a.created_at / 1000 > 0 THEN a.created_at / 1000 ELSE 1 END, 1, r.position, r.position"
                       " FROM accounts a CROSS JOIN (%1) r")
            .arg(roleFoldersSql()),
        QStringLiteral("UPDATE accounts SET last_uid_validity ="
                       " CASE WHEN created_at / 1000 > 0 THEN created_at / 1000 ELSE 1 END, modseq = %1")
            .arg(RoleFolderCount),
        QStringLiteral("CREATE TABLE removals ("
                       " id %1,"
                       " owner_id %2 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                       " modseq %2 NOT NULL,"
                       // entry: removed; moved: left folder_id for another
                       // folder (IMAP's expunge there; the API reports the
                       // move as an update); folder: the folder removed.
                       " kind TEXT NOT NULL CHECK (kind IN ('entry', 'moved', 'folder')),"
                       " object_id %2 NOT NULL,"
                       " folder_id %2 NOT NULL,"
                       " uid %2 NOT NULL,"
                       " removed_at %2 NOT NULL)")
            .arg(id, integer),
        QStringLiteral("CREATE INDEX removals_by_modseq ON removals (owner_id, modseq)"),
        QStringLiteral("CREATE INDEX removals_by_time ON removals (removed_at)"),
    };
    // Entries: folder_id for the folder name, IMAP's uid, the modseq of the
    // last change and of the creation, the other flags, keywords (atoms
    // separated by spaces). The uids and modseqs of the entries already
    // there follow their ids, per folder and per account.
    const QString newEntries = QStringLiteral(
        " SELECT e.id AS id, f.id AS folder_id,"
        " row_number() OVER (PARTITION BY e.owner_id, e.folder ORDER BY e.id) AS uid,"
        " %1 + row_number() OVER (PARTITION BY e.owner_id ORDER BY e.id) AS modseq"
        " FROM mailbox_entries e JOIN folders f ON f.owner_id = e.owner_id AND f.role = e.folder")
                                   .arg(RoleFolderCount);
    const QString newColumns =
        QStringLiteral(" folder_id %1 NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
                       " uid %1 NOT NULL,"
                       " modseq %1 NOT NULL,"
                       " created_modseq %1 NOT NULL,")
            .arg(integer)
        + flagColumns(QString()) + QStringLiteral(", keywords TEXT NOT NULL DEFAULT ''");
    if (sqlite) {
        steps += {
            QStringLiteral("CREATE TABLE mailbox_entries_v6 ("
                           " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                           " owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                           " message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
                           " seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1)),")
                + newColumns + QStringLiteral(", UNIQUE (folder_id, uid))"),
            QStringLiteral("INSERT INTO mailbox_entries_v6 (id, owner_id, message_id, seen, folder_id, uid, modseq,"
                           " created_modseq)"
                           " SELECT o.id, o.owner_id, o.message_id, o.seen, n.folder_id, n.uid, n.modseq, n.modseq"
                           " FROM mailbox_entries o JOIN (%1) n ON n.id = o.id")
                .arg(newEntries),
            // Ids given out and deleted stay unused: the old counter goes on.
            QStringLiteral("DELETE FROM sqlite_sequence WHERE name = 'mailbox_entries_v6'"),
            QStringLiteral("INSERT INTO sqlite_sequence (name, seq)"
                           " SELECT 'mailbox_entries_v6', seq FROM sqlite_sequence WHERE name = 'mailbox_entries'"),
            QStringLiteral("DROP TRIGGER messages_drop_unreferenced"),
            QStringLiteral("DROP TABLE mailbox_entries"),
            QStringLiteral("ALTER TABLE mailbox_entries_v6 RENAME TO mailbox_entries"),
            QStringLiteral("CREATE TRIGGER messages_drop_unreferenced AFTER DELETE ON mailbox_entries"
                           " WHEN NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE message_id = OLD.message_id)"
                           " BEGIN DELETE FROM messages WHERE id = OLD.message_id; END"),
            QStringLiteral("CREATE INDEX mailbox_entries_by_message ON mailbox_entries (message_id)"),
            QStringLiteral("CREATE TRIGGER folders_count_added AFTER INSERT ON mailbox_entries BEGIN"
                           " UPDATE folders SET total = total + 1, unseen = unseen + 1 - NEW.seen WHERE id = NEW.folder_id;"
                           " END"),
            QStringLiteral("CREATE TRIGGER folders_count_removed AFTER DELETE ON mailbox_entries BEGIN"
                           " UPDATE folders SET total = total - 1, unseen = unseen - 1 + OLD.seen WHERE id = OLD.folder_id;"
                           " END"),
            QStringLiteral("CREATE TRIGGER folders_count_changed AFTER UPDATE OF folder_id, seen ON mailbox_entries"
                           " WHEN OLD.folder_id != NEW.folder_id OR OLD.seen != NEW.seen BEGIN"
                           " UPDATE folders SET total = total - 1, unseen = unseen - 1 + OLD.seen WHERE id = OLD.folder_id;"
                           " UPDATE folders SET total = total + 1, unseen = unseen + 1 - NEW.seen WHERE id = NEW.folder_id;"
                           " END"),
        };
    } else {
        steps += {
            QStringLiteral("ALTER TABLE mailbox_entries ADD COLUMN folder_id BIGINT REFERENCES folders(id) ON DELETE CASCADE,"
                           " ADD COLUMN uid BIGINT, ADD COLUMN modseq BIGINT, ADD COLUMN created_modseq BIGINT,")
                + flagColumns(QStringLiteral("ADD COLUMN ")) + QStringLiteral(", ADD COLUMN keywords TEXT NOT NULL DEFAULT ''"),
            QStringLiteral("UPDATE mailbox_entries o SET folder_id = n.folder_id, uid = n.uid, modseq = n.modseq,"
                           " created_modseq = n.modseq FROM (%1) n WHERE n.id = o.id")
                .arg(newEntries),
            QStringLiteral("ALTER TABLE mailbox_entries ALTER COLUMN folder_id SET NOT NULL,"
                           " ALTER COLUMN uid SET NOT NULL, ALTER COLUMN modseq SET NOT NULL,"
                           " ALTER COLUMN created_modseq SET NOT NULL"),
            // Also drops the unique (owner, folder, message) constraint and
            // the index by folder name.
            QStringLiteral("ALTER TABLE mailbox_entries DROP COLUMN folder"),
            QStringLiteral("ALTER TABLE mailbox_entries ADD UNIQUE (folder_id, uid)"),
            QStringLiteral("CREATE FUNCTION folders_count_entries() RETURNS trigger LANGUAGE plpgsql AS $$"
                           " BEGIN"
                           " IF TG_OP = 'UPDATE' AND OLD.folder_id = NEW.folder_id AND OLD.seen = NEW.seen THEN"
                           " RETURN NULL;"
                           " END IF;"
                           " IF TG_OP IN ('DELETE', 'UPDATE') THEN"
                           " UPDATE folders SET total = total - 1, unseen = unseen - 1 + OLD.seen WHERE id = OLD.folder_id;"
                           " END IF;"
                           " IF TG_OP IN ('INSERT', 'UPDATE') THEN"
                           " UPDATE folders SET total = total + 1, unseen = unseen + 1 - NEW.seen WHERE id = NEW.folder_id;"
                           " END IF;"
                           " RETURN NULL;"
                           " END $$"),
            QStringLiteral("CREATE TRIGGER folders_count_entries AFTER INSERT OR DELETE OR UPDATE OF folder_id, seen"
                           " ON mailbox_entries FOR EACH ROW EXECUTE FUNCTION folders_count_entries()"),
            QStringLiteral("CREATE TRIGGER folders_notify_change AFTER INSERT OR UPDATE OR DELETE"
                           " ON folders FOR EACH STATEMENT EXECUTE FUNCTION mailroom_notify_change()"),
        };
    }
    steps += {
        QStringLiteral("CREATE INDEX mailbox_entries_by_folder ON mailbox_entries (folder_id, id)"),
        QStringLiteral("CREATE INDEX mailbox_entries_by_modseq ON mailbox_entries (owner_id, modseq)"),
        folderCountersSql(),
        QStringLiteral("UPDATE folders SET"
                       " uid_next = 1 + coalesce((SELECT max(uid) FROM mailbox_entries e WHERE e.folder_id = folders.id), 0),"
                       " highest_modseq = coalesce((SELECT max(modseq) FROM mailbox_entries e"
                       " WHERE e.folder_id = folders.id), folders.modseq)"),
        QStringLiteral("UPDATE accounts SET modseq = %1 + (SELECT count(*) FROM mailbox_entries e WHERE e.owner_id = accounts.id)")
            .arg(RoleFolderCount),
    };
    return steps;
}

// The search index (migration 7; docs/STORAGE.md, "Search index"): each
// message's words, folded by SearchWords, one column per field, in
// message_words, a table like any other (backups and restores copy it);
// the index over it is SQLite's FTS5 with message_words as its external
// content (so the words are stored once) and kept by triggers, or
// PostgreSQL's GIN index of the words' tsvector (configuration "simple":
// the words are folded already, and no language's stemmer applies).
inline constexpr int SearchIndexVersion = 7;
// PostgreSQL: the words of a message_words row as one tsvector (configuration
// "simple": the words are folded already).
inline QString postgresqlWordsDocumentSql()
{
    return QStringLiteral("to_tsvector('simple'::regconfig, subject || ' ' || sender || ' ' || to_addresses"
                          " || ' ' || cc_addresses || ' ' || body || ' ' || filenames)");
}
inline constexpr char SearchColumns[] = "subject, sender, to_addresses, cc_addresses, body, filenames";
inline QStringList searchIndexSteps(DatabaseUrl::Kind engine)
{
    const bool sqlite = engine == DatabaseUrl::Kind::Sqlite;
    const QString columns = QLatin1StringView(SearchColumns);
    QStringList steps{
        // A search reads an owner's entries newest first, across folders.
        QStringLiteral("CREATE INDEX mailbox_entries_by_owner ON mailbox_entries (owner_id, id)"),
        QStringLiteral("CREATE TABLE message_words ("
                       " message_id %1 PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
                       " subject TEXT NOT NULL, sender TEXT NOT NULL, to_addresses TEXT NOT NULL,"
                       " cc_addresses TEXT NOT NULL, body TEXT NOT NULL, filenames TEXT NOT NULL)")
            .arg(sqlite ? QStringLiteral("INTEGER") : QStringLiteral("BIGINT")),
    };
    if (sqlite) {
        QString newValues = QStringLiteral("new.message_id");
        QString oldValues = QStringLiteral("'delete', old.message_id");
        for (const QString &column : columns.split(QStringLiteral(", "))) {
            newValues += QStringLiteral(", new.") + column;
            oldValues += QStringLiteral(", old.") + column;
        }
        steps += {
            QStringLiteral("CREATE VIRTUAL TABLE message_index USING fts5(%1, content='message_words',"
                           " content_rowid='message_id', tokenize='unicode61 remove_diacritics 0')")
                .arg(columns),
            QStringLiteral("CREATE TRIGGER message_words_indexed AFTER INSERT ON message_words"
                           " BEGIN INSERT INTO message_index (rowid, %1) VALUES (%2); END")
                .arg(columns, newValues),
            QStringLiteral("CREATE TRIGGER message_words_unindexed AFTER DELETE ON message_words"
                           " BEGIN INSERT INTO message_index (message_index, rowid, %1) VALUES (%2); END")
                .arg(columns, oldValues),
        };
    } else {
        steps += QStringLiteral("CREATE INDEX message_words_index ON message_words USING gin (%1)")
                     .arg(QStringLiteral("to_tsvector('simple'::regconfig, subject || ' ' || sender || ' ' || to_addresses"
                                         " || ' ' || cc_addresses || ' ' || body || ' ' || filenames)"));
    }
    return steps;
}

// Migration 8, how the index is written and read.
// - SQLite: the FTS5 rows of new messages are written by the store, after
//   the other writes of their transaction, no longer by the trigger of
//   migration 7 (StoreSearch::indexWordsSql says why: the trigger cost a
//   delivery a third of its speed). Removals still go through the trigger
//   message_words_unindexed.
// - PostgreSQL: the words' tsvector is stored in a generated column,
//   `document`, and the GIN index is over it. The expression index alone
//   gave the planner no cheap way to test one message: a search that
//   walks an account's entries newest first (its usual plan for a word of
//   middling frequency) computed to_tsvector of each message's words
//   again, ~80 us a message.
inline QStringList indexWrittenByStoreSteps(DatabaseUrl::Kind engine)
{
    if (engine == DatabaseUrl::Kind::Sqlite)
        return {QStringLiteral("DROP TRIGGER message_words_indexed")};
    return {
        QStringLiteral("ALTER TABLE message_words ADD COLUMN document tsvector GENERATED ALWAYS AS (%1) STORED")
            .arg(postgresqlWordsDocumentSql()),
        QStringLiteral("CREATE INDEX message_words_by_document ON message_words USING gin (document)"),
        QStringLiteral("DROP INDEX message_words_index"),
        // The planner needs to know rare words as rare: with the default
        // 100 most common words sampled, a word in 1 of 1,000 messages was
        // guessed five times as common, and a walk of a million entries
        // (1 s) chosen over the GIN index (0.09 s).
        QStringLiteral("ALTER TABLE message_words ALTER COLUMN document SET STATISTICS 10000"),
        QStringLiteral("ANALYZE message_words"),
    };
}

// Migration 9, what IMAP needs besides: folders.selectable (0 for a
// folder IMAP's DELETE emptied and kept for its sub-folders, \Noselect),
// added at the end of the table on both engines so rows still copy between
// them; and the account's subscriptions (RFC 9051 §6.3.9: names, folders
// or not).
// PostgreSQL: the folders' counts are kept once per statement, not once per
// row. A statement that changes many entries of a folder (IMAP's STORE,
// COPY, MOVE, EXPUNGE on thousands) updated the folder's row once per
// entry, and every update of one row in one transaction makes its chain of
// versions longer, which the next update walks: 10,000 flags took 6.6 s,
// growing with the square of the count. SQLite, which keeps no versions,
// keeps its triggers of migration 6.
inline QStringList postgresqlStatementCountingSteps()
{
    // The change of each folder's (total, unseen) a statement made, from
    // its transition tables, as `deltas`.
    const auto countBy = [](const QString &name, const QString &event, const QString &referencing,
                            const QString &deltas) {
        return QStringList{
            QStringLiteral("CREATE FUNCTION %1() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                           " UPDATE folders f SET total = f.total + d.total, unseen = f.unseen + d.unseen"
                           " FROM (SELECT folder_id, sum(total) AS total, sum(unseen) AS unseen FROM (%2) c"
                           " GROUP BY folder_id) d"
                           " WHERE f.id = d.folder_id AND (d.total <> 0 OR d.unseen <> 0);"
                           " RETURN NULL; END $$")
                .arg(name, deltas),
            QStringLiteral("CREATE TRIGGER %1 AFTER %2 ON mailbox_entries REFERENCING %3 FOR EACH STATEMENT"
                           " EXECUTE FUNCTION %1()")
                .arg(name, event, referencing),
        };
    };
    const QString moved = QStringLiteral(" FROM old_entries o JOIN new_entries n ON n.id = o.id"
                                         " WHERE o.folder_id <> n.folder_id OR o.seen <> n.seen");
    return QStringList{QStringLiteral("DROP TRIGGER folders_count_entries ON mailbox_entries"),
                       QStringLiteral("DROP FUNCTION folders_count_entries()")}
        + countBy(QStringLiteral("folders_count_added"), QStringLiteral("INSERT"), QStringLiteral("NEW TABLE AS new_entries"),
                  QStringLiteral("SELECT folder_id, 1 AS total, 1 - seen AS unseen FROM new_entries"))
        + countBy(QStringLiteral("folders_count_removed"), QStringLiteral("DELETE"), QStringLiteral("OLD TABLE AS old_entries"),
                  QStringLiteral("SELECT folder_id, -1 AS total, seen - 1 AS unseen FROM old_entries"))
        + countBy(QStringLiteral("folders_count_changed"), QStringLiteral("UPDATE"),
                  QStringLiteral("OLD TABLE AS old_entries NEW TABLE AS new_entries"),
                  QStringLiteral("SELECT o.folder_id, -1 AS total, o.seen - 1 AS unseen") + moved
                      + QStringLiteral(" UNION ALL SELECT n.folder_id, 1, 1 - n.seen") + moved);
}

inline QStringList imapSteps(DatabaseUrl::Kind engine)
{
    const bool sqlite = engine == DatabaseUrl::Kind::Sqlite;
    const QString id = sqlite ? QStringLiteral("INTEGER PRIMARY KEY AUTOINCREMENT")
                              : QStringLiteral("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    return (sqlite ? QStringList() : postgresqlStatementCountingSteps()) + QStringList{
        QStringLiteral("ALTER TABLE folders ADD COLUMN selectable %1 NOT NULL DEFAULT 1 CHECK (selectable IN (0, 1))")
            .arg(sqlite ? QStringLiteral("INTEGER") : QStringLiteral("SMALLINT")),
        // The id is only a key to copy rows by (backups page by it).
        QStringLiteral("CREATE TABLE subscriptions ("
                       " id %1,"
                       " owner_id %2 NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
                       " name TEXT NOT NULL,"
                       " UNIQUE (owner_id, name))")
            .arg(id, sqlite ? QStringLiteral("INTEGER") : QStringLiteral("BIGINT")),
    };
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
        // 6: the mailbox model of version 2 (docs/STORAGE.md, "Folders,
        // flags and changes"): folders with roles and IMAP's uids, flags and
        // keywords per entry, modseqs, remembered removals. Entries keep
        // their ids and the id counter its value.
        mailboxModelSteps(DatabaseUrl::Kind::Sqlite),
        // 7: the search index (the words of messages stored before are
        // added by Store::indexStoredMessages in the same transaction).
        searchIndexSteps(DatabaseUrl::Kind::Sqlite),
        // 8: the store writes the index rows itself.
        indexWrittenByStoreSteps(DatabaseUrl::Kind::Sqlite),
        // 9: folders that are not selectable; subscriptions.
        imapSteps(DatabaseUrl::Kind::Sqlite),
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
        // 6: the mailbox model of version 2, as on SQLite; the entries'
        // table is altered in place (its identity and triggers stay), to
        // the same columns in the same order as SQLite's rebuilt one.
        mailboxModelSteps(DatabaseUrl::Kind::Postgresql),
        // 7: the search index (the words of messages stored before are
        // added by Store::indexStoredMessages in the same transaction).
        searchIndexSteps(DatabaseUrl::Kind::Postgresql),
        // 8: the words' tsvector stored, the GIN index over it.
        indexWrittenByStoreSteps(DatabaseUrl::Kind::Postgresql),
        // 9: folders that are not selectable; subscriptions.
        imapSteps(DatabaseUrl::Kind::Postgresql),
    };
    return steps;
}

// Tables in the order rows can be copied in without breaking a foreign key.
inline const QStringList &tablesInDependencyOrder()
{
    static const QStringList tables = {QStringLiteral("accounts"),        QStringLiteral("messages"),
                                       QStringLiteral("folders"),         QStringLiteral("mailbox_entries"),
                                       QStringLiteral("removals"),        QStringLiteral("api_tokens"),
                                       QStringLiteral("subscriptions"),   QStringLiteral("message_words")};
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

// An entry's own columns, as entryFromQuery (storesql_p.h) reads them: the
// flags as one number and keywords NULL when there are none, since a
// listing reads these for every row (each column is a QVariant the driver
// makes and frees). A listing reads the first ListingColumnCount: not
// IMAP's uid and modseq.
#define MAILROOM_FLAGS_AND_KEYWORDS                                                                                     \
    "e.seen + 2 * e.answered + 4 * e.flagged + 8 * e.deleted + 16 * e.draft, NULLIF(e.keywords, '')"
#define MAILROOM_LISTING_COLUMNS "e.id, e.message_id, m.received_at, m.size, e.folder_id, " MAILROOM_FLAGS_AND_KEYWORDS
inline constexpr char ListingColumns[] = MAILROOM_LISTING_COLUMNS;
inline constexpr char EntryColumns[] = MAILROOM_LISTING_COLUMNS ", e.uid, e.modseq";
// What IMAP keeps of an entry (StoreSql::folderEntryStateFromQuery): no
// message row is read.
inline constexpr char FolderEntryStateColumns[] = "e.uid, e.id, e.modseq, " MAILROOM_FLAGS_AND_KEYWORDS;
#undef MAILROOM_LISTING_COLUMNS
#undef MAILROOM_FLAGS_AND_KEYWORDS
inline constexpr int ListingColumnCount = 7;
inline constexpr int EntryColumnCount = 9;

// Every entry of a folder in uid order (Store::folderEntries): one range of
// the index of UNIQUE (folder_id, uid), already in uid order (tst_storeimap
// checks the plan).
inline QString folderEntriesSql()
{
    return QStringLiteral("SELECT %1 FROM mailbox_entries e WHERE e.folder_id = ? ORDER BY e.uid")
        .arg(QLatin1StringView(FolderEntryStateColumns));
}

// The entries of one folder changed in a range of modseqs (Store::
// folderChanges): the account's changes by mailbox_entries_by_modseq, the
// folder's picked from them (+: never the folder's index, which would read
// every entry of the folder to find the few changed).
inline QString folderChangedEntriesSql()
{
    return QStringLiteral("SELECT %1 FROM mailbox_entries e"
                          " WHERE e.owner_id = ? AND e.modseq > ? AND e.modseq <= ? AND +e.folder_id = ?"
                          " ORDER BY e.modseq")
        .arg(QLatin1StringView(FolderEntryStateColumns));
}

// Statements over many rows at once (Store::runInBatches): BatchRows rows
// a statement.
inline constexpr int BatchRows = 200;

// BatchRows rows for VALUES, each place cast to its column's type
// (PostgreSQL takes a place's type from there).
inline QString batchRowsSql(const QStringList &types)
{
    QStringList places;
    for (const QString &type : types)
        places.append(QStringLiteral("CAST(? AS %1)").arg(type));
    const QString row = QLatin1Char('(') + places.join(QStringLiteral(", ")) + QLatin1Char(')');
    return QStringList(BatchRows, row).join(QStringLiteral(", "));
}

// BatchRows places, for IN.
inline QString batchPlacesSql()
{
    return QStringList(BatchRows, QStringLiteral("?")).join(QStringLiteral(", "));
}

// One entry of one owner: the entry's columns, then its summary's.
inline QString entrySql(DatabaseUrl::Kind engine)
{
    return QStringLiteral("SELECT %1, ").arg(QLatin1StringView(EntryColumns)) + summaryColumnsSql(engine)
        + QStringLiteral(" FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                         " WHERE e.id = ? AND e.owner_id = ?");
}

// One page of a folder, newest first, without the summaries (the store
// keeps those it read: messages never change): must stay an index range
// scan on mailbox_entries_by_folder (tests/common/tst_store checks the
// plan). The folder is found by id or by role, on the owner's row, so
// another account's folder id lists nothing.
inline QString folderPageSql(bool byRole)
{
    return QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                          " WHERE e.folder_id = (SELECT f.id FROM folders f WHERE f.%2 = :folder AND f.owner_id = :owner)"
                          " AND e.id < :before ORDER BY e.id DESC LIMIT :limit")
        .arg(QLatin1StringView(ListingColumns), byRole ? QStringLiteral("role") : QStringLiteral("id"));
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
