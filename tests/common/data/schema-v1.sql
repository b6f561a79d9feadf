-- The schema as Mailroom's first migration wrote it (user_version 1), with a
-- few rows: tst_store opens it to check the upgrade to the current schema.
-- Never edit: it stands for databases that already exist.
PRAGMA application_id = 1298944621;
CREATE TABLE accounts ( id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE messages ( id INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, size INTEGER NOT NULL, from_name TEXT NOT NULL, from_address TEXT NOT NULL, to_list TEXT NOT NULL, cc_list TEXT NOT NULL, subject TEXT NOT NULL, date INTEGER, message_id TEXT NOT NULL, in_reply_to TEXT NOT NULL, preview TEXT NOT NULL, attachments TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE mailbox_entries ( id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, folder TEXT NOT NULL CHECK (folder IN ('inbox', 'sent')), message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1)), UNIQUE (owner_id, folder, message_id));
CREATE INDEX mailbox_entries_by_folder ON mailbox_entries (owner_id, folder, id);
CREATE INDEX mailbox_entries_by_message ON mailbox_entries (message_id);
CREATE TRIGGER messages_drop_unreferenced AFTER DELETE ON mailbox_entries WHEN NOT EXISTS (SELECT 1 FROM mailbox_entries WHERE message_id = OLD.message_id) BEGIN DELETE FROM messages WHERE id = OLD.message_id; END;
INSERT INTO accounts (id, username, password_hash, created_at) VALUES (1, 'alice', 'pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 1795000000000);
INSERT INTO accounts (id, username, password_hash, created_at) VALUES (2, 'bob', 'pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 1795000000000);
INSERT INTO messages (id, received_at, size, from_name, from_address, to_list, cc_list, subject, date, message_id, in_reply_to, preview, attachments, raw) VALUES (1, 1795000060000, 33, 'Alice', 'alice@project.com', '[{"address":"bob@project.com","name":""}]', '[]', 'Hello from v1', NULL, '<v1@project.com>', '', 'hello', '[]', X'5375626A6563743A2048656C6C6F2066726F6D2076310D0A0D0A68656C6C6F0D0A');
INSERT INTO mailbox_entries (id, owner_id, folder, message_id, seen) VALUES (1, 2, 'inbox', 1, 0);
INSERT INTO mailbox_entries (id, owner_id, folder, message_id, seen) VALUES (2, 1, 'sent', 1, 1);
PRAGMA user_version = 1;
