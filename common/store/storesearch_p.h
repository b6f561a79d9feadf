#pragma once

// The search index's rows (storesearch.cpp): what storedelivery.cpp writes
// with each new message. Internal to common/store.

#include "messagesummary.h"

#include <QSqlQuery>
#include <QString>

namespace StoreSearch {

// What of a message is indexed: at most this many characters and words
// in all, in the order subject, sender, To, Cc, attachment file names,
// readable text (so a long text is cut, never the headers). Bounds a row of
// the index, and on PostgreSQL keeps its tsvector (at most 1 MiB) far from
// the limit whatever the text.
inline constexpr qsizetype MaxCharacters = 100000;
inline constexpr qsizetype MaxWords = 30000;
// Of the readable text, at most this much is read for its words.
inline constexpr qsizetype MaxTextRead = 2 * MaxCharacters;

// INSERT of a message_words row: message id, then the six fields.
[[nodiscard]] const QString &insertWordsSql();
// Binds and runs it.
bool insertWords(QSqlQuery &insert, qint64 messageId, const MessageWords &words);

// SQLite: INSERT of the message's row of the FTS5 index, the same words as
// its message_words row's. The store writes it itself, last in its
// transaction, and no trigger does (migration 8 dropped the one of
// migration 7): FTS5 writes out what it has gathered at every savepoint,
// and SQLite opens one for every statement that fires a trigger or checks
// a foreign key once the index has joined the transaction. Indexed by a
// trigger, each message of a group became a segment of its own, to be
// merged again and again; indexed after the group's other writes, the
// group is one segment, written at the commit.
[[nodiscard]] const QString &indexWordsSql();
bool indexWords(QSqlQuery &index, qint64 messageId, const MessageWords &words);
// SQLite: builds the FTS5 index anew from message_words (after rows were
// copied in by a restore or a backup).
[[nodiscard]] const QString &rebuildIndexSql();

} // namespace StoreSearch
