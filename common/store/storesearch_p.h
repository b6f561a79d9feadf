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

} // namespace StoreSearch
