// Store: the search index and searching it (docs/protocol/search.md,
// docs/STORAGE.md "Search index"). A query's terms become one SQL
// condition each over the owner's entries; a word or phrase is a lookup in
// the index of message words (FTS5 or a GIN index), the rest plain columns.

#include "store.h"

#include "logging.h"
#include "mimemessage.h"
#include "searchquery.h"
#include "searchwords.h"
#include "store_p.h"
#include "storesearch_p.h"
#include "storesql_p.h"

#include <QSqlError>
#include <QSet>
#include <QSqlQuery>

#include <algorithm>
#include <cmath>
#include <limits>

using StoreSql::FinishedOnExit;

NewMessage Store::parsedMessage(const QByteArray &raw)
{
    const MimeMessage parsed = MimeMessage::parse(raw);
    NewMessage message;
    message.raw = raw;
    message.summary = parsed.summary();
    message.words = searchWords(message.summary, parsed.readableText());
    return message;
}

MessageWords Store::searchWords(const MessageSummary &summary, const QString &text)
{
    using StoreSearch::MaxCharacters, StoreSearch::MaxWords, StoreSearch::MaxTextRead;
    MessageWords words;
    qsizetype characters = 0;
    qsizetype count = 0;
    // Each field takes from what the ones before it left.
    const auto add = [&](QString *field, QStringView value) {
        const qsizetype before = field->size();
        const bool complete = SearchWords::append(value, field, MaxCharacters - characters + before, &count, MaxWords);
        characters += field->size() - before;
        return complete;
    };
    const auto addAddresses = [&](QString *field, const QList<MailAddress> &addresses) {
        for (const MailAddress &address : addresses) {
            if (!add(field, address.name) || !add(field, address.address))
                return false;
        }
        return true;
    };
    const bool complete = add(&words.subject, summary.subject) && add(&words.sender, summary.from.name)
        && add(&words.sender, summary.from.address) && addAddresses(&words.to, summary.to)
        && addAddresses(&words.cc, summary.cc);
    if (complete) {
        for (const AttachmentInfo &attachment : summary.attachments) {
            if (!add(&words.filenames, attachment.filename))
                return words;
        }
        // Folding reads only as much of the text as can yield the words
        // kept (NFKD of a 25 MiB text would cost a second).
        add(&words.body, QStringView(text).left(MaxTextRead));
    }
    return words;
}

namespace StoreSearch {

const QString &insertWordsSql()
{
    static const QString sql =
        QStringLiteral("INSERT INTO message_words (message_id, %1) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .arg(QLatin1StringView(StoreSchema::SearchColumns));
    return sql;
}

namespace {

bool bindAndRunWords(QSqlQuery &statement, qint64 messageId, const MessageWords &words)
{
    const QString *const fields[] = {&words.subject, &words.sender, &words.to,
                                     &words.cc,      &words.body,   &words.filenames};
    statement.bindValue(0, messageId);
    for (int i = 0; i < 6; ++i)
        statement.bindValue(i + 1, fields[i]->isNull() ? QStringLiteral("") : *fields[i]);
    const bool done = statement.exec();
    // Like the message's raw bytes: a cached statement must not keep a long
    // text alive until the next message.
    statement.bindValue(5, QVariant());
    return done;
}

} // namespace

bool insertWords(QSqlQuery &insert, qint64 messageId, const MessageWords &words)
{
    return bindAndRunWords(insert, messageId, words);
}

const QString &indexWordsSql()
{
    static const QString sql = QStringLiteral("INSERT INTO message_index (rowid, %1) VALUES (?, ?, ?, ?, ?, ?, ?)")
                                   .arg(QLatin1StringView(StoreSchema::SearchColumns));
    return sql;
}

bool indexWords(QSqlQuery &index, qint64 messageId, const MessageWords &words)
{
    return bindAndRunWords(index, messageId, words);
}

const QString &rebuildIndexSql()
{
    static const QString sql = QStringLiteral("INSERT INTO message_index (message_index) VALUES ('rebuild')");
    return sql;
}

} // namespace StoreSearch

namespace {

// The index's column of a field; Any: none (every column).
QString columnOf(SearchTerm::Field field)
{
    switch (field) {
    case SearchTerm::Field::Any:
        return {};
    case SearchTerm::Field::From:
        return QStringLiteral("sender");
    case SearchTerm::Field::To:
        return QStringLiteral("to_addresses");
    case SearchTerm::Field::Cc:
        return QStringLiteral("cc_addresses");
    case SearchTerm::Field::Subject:
        return QStringLiteral("subject");
    case SearchTerm::Field::Body:
        return QStringLiteral("body");
    case SearchTerm::Field::Filename:
        return QStringLiteral("filenames");
    }
    return {};
}

// A text term as an FTS5 query: a phrase of its folded words (letters and
// digits only, so nothing in them needs quoting), in its column.
QString ftsMatch(const SearchTerm &term, const QStringList &words)
{
    const QString match = QStringLiteral("\"%1\"").arg(words.join(QLatin1Char(' ')));
    const QString column = columnOf(term.field);
    return column.isEmpty() ? match : QStringLiteral("{%1} : %2").arg(column, match);
}

// The words of every column as a tsvector, stored (migration 8) and
// indexed by GIN: the index finds a rare word's messages, and a walk of an
// account's entries tests each message against it without parsing.
const QString &postgresqlDocument()
{
    static const QString document = QStringLiteral("w.document");
    return document;
}

// One term as SQL over `e` (the entry) and `m` (its message), its values
// appended to `values` in the order of their placeholders.
class SearchSql
{
public:
    SearchSql(Store::Engine engine, const QList<MailFolder> &folders) : m_engine(engine), m_folders(folders) {}

    // SQLite: the search starts from the messages the index found (few),
    // so the entries' other indexes must not be chosen over looking those
    // up: a unary + makes a column no index can serve (SQLite's planner
    // would rather read an owner's or a folder's entries in order).
    void setDriven(bool driven) { m_driven = driven; }
    // Whether a condition reads the message's row (size, date,
    // attachments): otherwise entries are chosen without reading it.
    [[nodiscard]] bool readsMessages() const { return m_readsMessages; }
    [[nodiscard]] QString column(const char *name) const
    {
        return (m_driven ? QStringLiteral("+") : QString()) + QLatin1StringView(name);
    }

    std::optional<QString> condition(const SearchTerm &term, QVariantList *values, SearchFault *fault)
    {
        const std::optional<QString> sql = positiveCondition(term, values, fault);
        if (sql && sql->contains(QLatin1StringView("m.")))
            m_readsMessages = true;
        if (!sql || !term.negated)
            return sql;
        return QStringLiteral("NOT (%1)").arg(*sql);
    }

    // The folder an in: term names: a role word (any case), else the
    // folder of that exact name, else the one folder of that name in
    // another case.
    const MailFolder *folderNamed(const QString &name) const
    {
        if (const auto role = roleFromName(name.toLower())) {
            for (const MailFolder &folder : m_folders) {
                if (folder.role == role)
                    return &folder;
            }
        }
        const MailFolder *caseless = nullptr;
        int caselessCount = 0;
        for (const MailFolder &folder : m_folders) {
            if (folder.name == name)
                return &folder;
            if (folder.name.compare(name, Qt::CaseInsensitive) == 0) {
                caseless = &folder;
                ++caselessCount;
            }
        }
        return caselessCount == 1 ? caseless : nullptr;
    }

private:
    std::optional<QString> positiveCondition(const SearchTerm &term, QVariantList *values, SearchFault *fault) const
    {
        switch (term.kind) {
        case SearchTerm::Kind::Text:
            return textCondition(term, values, fault);
        case SearchTerm::Kind::Flag:
            switch (term.flag) {
            case SearchTerm::Flag::Unread:
                return QStringLiteral("e.seen = 0");
            case SearchTerm::Flag::Read:
                return QStringLiteral("e.seen = 1");
            case SearchTerm::Flag::Flagged:
                return QStringLiteral("e.flagged = 1");
            case SearchTerm::Flag::Answered:
                return QStringLiteral("e.answered = 1");
            case SearchTerm::Flag::Draft:
                return QStringLiteral("e.draft = 1");
            }
            break;
        case SearchTerm::Kind::HasAttachment:
            return QStringLiteral("m.attachments <> '[]'");
        case SearchTerm::Kind::InFolder: {
            const MailFolder *folder = folderNamed(term.text);
            if (!folder) {
                *fault = {term.position, QStringLiteral("There is no folder named \"%1\".").arg(term.text)};
                return std::nullopt;
            }
            values->append(folder->id);
            return column("e.folder_id") + QStringLiteral(" = ?");
        }
        case SearchTerm::Kind::Before:
        case SearchTerm::Kind::After: {
            // The message's Date:, or when it has none its arrival.
            values->append(QDateTime(term.day, QTime(0, 0), Qt::UTC).toMSecsSinceEpoch());
            return term.kind == SearchTerm::Kind::Before ? QStringLiteral("coalesce(m.date, m.received_at) < ?")
                                                         : QStringLiteral("coalesce(m.date, m.received_at) >= ?");
        }
        case SearchTerm::Kind::Larger:
            values->append(term.bytes);
            return QStringLiteral("m.size > ?");
        case SearchTerm::Kind::Smaller:
            values->append(term.bytes);
            return QStringLiteral("m.size < ?");
        }
        *fault = {term.position, QStringLiteral("This term cannot be searched for.")};
        return std::nullopt;
    }

    std::optional<QString> textCondition(const SearchTerm &term, QVariantList *values, SearchFault *fault) const
    {
        const QStringList words = SearchWords::words(term.text);
        if (words.isEmpty()) {
            *fault = {term.position, QStringLiteral("\"%1\" has no letters or digits to search for.").arg(term.text)};
            return std::nullopt;
        }
        const QString phrase = words.join(QLatin1Char(' '));
        const QString column = columnOf(term.field);
        if (m_engine == Store::Engine::Sqlite) {
            // A word or phrase in a clause with other kinds of terms (`is:x
            // OR word`): a check of the one message (FTS5 seeks its rowid in
            // the word's list).
            values->append(ftsMatch(term, words));
            return QStringLiteral("EXISTS (SELECT 1 FROM message_index WHERE message_index MATCH ?"
                                  " AND rowid = e.message_id)");
        }
        // The GIN index finds the messages that have all the words, as
        // lexemes (positions ignored: a tsvector keeps at most 255 of a
        // word, none past 16,383, so phrases there would miss what SQLite
        // finds). A field, or a phrase, is then checked on the stored words
        // themselves: folded and separated by single spaces, so ' w1 w2 '
        // in ' ' || column || ' ' is exactly "these words in this order".
        QString sql = QStringLiteral("e.message_id IN (SELECT w.message_id FROM message_words w WHERE %1"
                                     " @@ plainto_tsquery('simple'::regconfig, ?)")
                          .arg(postgresqlDocument());
        values->append(phrase);
        QStringList checkColumns;
        if (!column.isEmpty())
            checkColumns.append(column);
        else if (words.size() > 1)
            checkColumns = QString::fromLatin1(StoreSchema::SearchColumns).split(QStringLiteral(", "));
        QStringList checks;
        for (const QString &checked : std::as_const(checkColumns)) {
            checks.append(QStringLiteral("position(? IN ' ' || w.%1 || ' ') > 0").arg(checked));
            values->append(QString(QLatin1Char(' ') + phrase + QLatin1Char(' ')));
        }
        if (!checks.isEmpty())
            sql += QStringLiteral(" AND (%1)").arg(checks.join(QStringLiteral(" OR ")));
        return sql + QLatin1Char(')');
    }

    Store::Engine m_engine;
    const QList<MailFolder> &m_folders;
    bool m_driven = false;
    bool m_readsMessages = false;
};

} // namespace

std::optional<FolderPage> Store::search(qint64 ownerId, const SearchQuery &query, int limit,
                                        std::optional<qint64> before, SearchFault *fault)
{
    clearError();
    SearchFault unused;
    if (!fault)
        fault = &unused;
    if (limit < 1) {
        fail(Error::Failed, QStringLiteral("a search needs a limit of at least 1"));
        return std::nullopt;
    }
    const std::optional<QList<MailFolder>> owned = folders(ownerId);
    if (!owned)
        return std::nullopt;
    SearchSql terms(m_engine, *owned);
    const auto refuse = [this, fault](const SearchFault &found) -> std::optional<FolderPage> {
        *fault = found;
        fail(Error::Invalid, found.message);
        return std::nullopt;
    };

    // SQLite: the clauses made of words and phrases alone become one FTS5
    // query (docs/protocol/search.md §3), which FTS5 answers as one list of
    // messages; the rest are SQL conditions.
    const auto isExcludedWords = [this](const QList<SearchTerm> &clause) {
        return m_engine == Engine::Sqlite && clause.size() == 1 && clause.first().kind == SearchTerm::Kind::Text
            && clause.first().negated;
    };
    QStringList ftsClauses;
    QStringList ftsExclusions;
    QList<const QList<SearchTerm> *> sqlClauses;
    for (const QList<SearchTerm> &clause : query.clauses) {
        const bool words = m_engine == Engine::Sqlite
            && std::all_of(clause.cbegin(), clause.cend(), [](const SearchTerm &term) {
                   return term.kind == SearchTerm::Kind::Text && !term.negated;
               });
        if (!words && !isExcludedWords(clause)) {
            sqlClauses.append(&clause);
            continue;
        }
        QStringList alternatives;
        for (const SearchTerm &term : clause) {
            const QStringList words = SearchWords::words(term.text);
            if (words.isEmpty())
                return refuse(
                    {term.position, QStringLiteral("\"%1\" has no letters or digits to search for.").arg(term.text)});
            alternatives.append(ftsMatch(term, words));
        }
        if (words)
            ftsClauses.append(QStringLiteral("(%1)").arg(alternatives.join(QStringLiteral(" OR "))));
        else
            ftsExclusions.append(alternatives.first());
    }
    // FTS5's NOT needs something to take from: without a clause of words,
    // an excluded word is an SQL condition like any other.
    if (ftsClauses.isEmpty()) {
        for (const QList<SearchTerm> &clause : query.clauses) {
            if (isExcludedWords(clause))
                sqlClauses.append(&clause);
        }
        ftsExclusions.clear();
    }
    QString ftsQuery = ftsClauses.join(QStringLiteral(" AND "));
    for (const QString &exclusion : std::as_const(ftsExclusions))
        ftsQuery += QStringLiteral(" NOT ") + exclusion;

    // Few matches: look their entries up. Many: read the owner's entries
    // newest first and keep those whose message matches.
    bool driven = false;
    if (!ftsQuery.isEmpty()) {
        const std::optional<bool> few = fewSearchMatches(ftsQuery, *owned);
        if (!few)
            return std::nullopt;
        driven = *few;
    }
    terms.setDriven(driven);

    QVariantList values{ownerId};
    QStringList conditions{terms.column("e.owner_id") + QStringLiteral(" = ?")};
    // Without an in: term, everything but Trash and Junk.
    bool namesFolder = false;
    for (const QList<SearchTerm> &clause : query.clauses) {
        for (const SearchTerm &term : clause)
            namesFolder = namesFolder || (term.kind == SearchTerm::Kind::InFolder && !term.negated);
    }
    if (!namesFolder) {
        for (const MailFolder &folder : *owned) {
            if (folder.role == FolderRole::Trash || folder.role == FolderRole::Junk) {
                conditions.append(QStringLiteral("e.folder_id <> ?"));
                values.append(folder.id);
            }
        }
    }
    for (const QList<SearchTerm> *clause : std::as_const(sqlClauses)) {
        QStringList alternatives;
        for (const SearchTerm &term : *clause) {
            SearchFault found;
            const std::optional<QString> condition = terms.condition(term, &values, &found);
            if (!condition)
                return refuse(found);
            alternatives.append(*condition);
        }
        conditions.append(alternatives.size() == 1 ? alternatives.first()
                                                   : QStringLiteral("(%1)").arg(alternatives.join(QStringLiteral(" OR "))));
    }
    // The entries are chosen by their own columns (and the message's only
    // when a condition needs them), then the page's rows read by id: the
    // message rows, the largest, are read for the page alone.
    const QString from = terms.readsMessages()
        ? QStringLiteral("mailbox_entries e JOIN messages m ON m.id = e.message_id")
        : QStringLiteral("mailbox_entries e");
    std::optional<qint64> chosenNextBefore;
    if (!ftsQuery.isEmpty()) {
        std::optional<QList<qint64>> ids;
        if (driven) {
            conditions.append(
                QStringLiteral("e.message_id IN (SELECT rowid FROM message_index WHERE message_index MATCH ?)"));
            values.append(ftsQuery);
            ids = searchEntryIds(from, conditions + QStringList{terms.column("e.id") + QStringLiteral(" < ?")},
                                 values + QVariantList{before.value_or(std::numeric_limits<qint64>::max())}, limit + 1);
        } else {
            ids = scanForMatches(ownerId, from, conditions, values, ftsQuery, limit + 1, before);
        }
        if (!ids)
            return std::nullopt;
        // The page's rows are read by id below, after the ids were chosen:
        // whether more follow is decided here, so an entry deleted in
        // between cannot end the paging early.
        if (ids->size() > limit) {
            ids->resize(limit);
            chosenNextBefore = ids->last();
        }
        // "+": the ids are looked up by the primary key. Through the index
        // of the owner's entries, which SQLite otherwise prefers for the
        // order, it read every entry of the owner looking for one more row
        // than the ids (~140 ms at a million).
        conditions = {QStringLiteral("+e.owner_id = ?")};
        values = {ownerId};
        QStringList places;
        for (const qint64 id : *ids) {
            places.append(QStringLiteral("?"));
            values.append(id);
        }
        conditions.append(places.isEmpty() ? QStringLiteral("0 = 1")
                                           : QStringLiteral("e.id IN (%1)").arg(places.join(QStringLiteral(", "))));
    }
    conditions.append(terms.column("e.id") + QStringLiteral(" < ?"));
    values.append(before.value_or(std::numeric_limits<qint64>::max()));
    // One row more than asked tells whether anything older exists.
    values.append(limit + 1);
    const QString sql = QStringLiteral("SELECT %1 FROM mailbox_entries e JOIN messages m ON m.id = e.message_id"
                                       " WHERE %2 ORDER BY e.id DESC LIMIT ?")
                            .arg(QLatin1StringView(StoreSchema::ListingColumns),
                                 conditions.join(QStringLiteral(" AND ")));

    FolderPage page;
    QList<qint64> receivedAtMs;
    {
        QSqlQuery statement(database());
        statement.setForwardOnly(true);
        if (!statement.prepare(sql)) {
            failQuery(statement, QStringLiteral("preparing a search"));
            return std::nullopt;
        }
        for (const QVariant &value : std::as_const(values))
            statement.addBindValue(value);
        if (!statement.exec()) {
            failQuery(statement, QStringLiteral("searching the mail of account %1").arg(ownerId));
            return std::nullopt;
        }
        while (statement.next()) {
            if (page.entries.size() == limit) {
                page.nextBefore = page.entries.last().id;
                break;
            }
            page.entries.append(StoreSql::entryFromQuery(statement, ownerId, 0, false));
            receivedAtMs.append(statement.value(2).toLongLong());
        }
    }
    if (chosenNextBefore)
        page.nextBefore = chosenNextBefore;
    if (!summarizePage(&page, receivedAtMs))
        return std::nullopt;
    return page;
}

std::optional<QList<qint64>> Store::searchEntryIds(const QString &from, const QStringList &conditions,
                                                   const QVariantList &values, int wanted)
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.prepare(QStringLiteral("SELECT e.id FROM %1 WHERE %2 ORDER BY e.id DESC LIMIT ?")
                           .arg(from, conditions.join(QStringLiteral(" AND "))))) {
        failQuery(query, QStringLiteral("preparing a search"));
        return std::nullopt;
    }
    for (const QVariant &value : values)
        query.addBindValue(value);
    query.addBindValue(wanted);
    if (!query.exec()) {
        failQuery(query, QStringLiteral("searching"));
        return std::nullopt;
    }
    QList<qint64> ids;
    while (query.next())
        ids.append(query.value(0).toLongLong());
    return ids;
}

std::optional<bool> Store::fewSearchMatches(const QString &ftsQuery, const QList<MailFolder> &folders)
{
    // Looking up a match's entries costs ~10 us per match; reading the
    // owner's entries newest first and keeping those whose message matches
    // costs ~1 us per entry read, about entries / (the owner's matches)
    // per result. The first wins below about sqrt(50 x entries) matches
    // (docs/performance.md, "Search"). Counting up to that bound is cheap:
    // FTS5 reads its lists of messages, no rows.
    qint64 entries = 0;
    for (const MailFolder &folder : folders)
        entries += folder.total;
    const qint64 bound = std::clamp<qint64>(qint64(std::sqrt(50.0 * double(entries))), 500, 50000);
    QSqlQuery *count = cachedStatement(
        QStringLiteral("SELECT count(*) FROM (SELECT 1 FROM message_index WHERE message_index MATCH ? LIMIT ?)"),
        QStringLiteral("counting a search's matches"));
    if (!count)
        return std::nullopt;
    const FinishedOnExit finished(count);
    count->bindValue(0, ftsQuery);
    count->bindValue(1, bound);
    if (!count->exec() || !count->next()) {
        failQuery(*count, QStringLiteral("counting a search's matches"));
        return std::nullopt;
    }
    return count->value(0).toLongLong() < bound;
}

std::optional<QList<qint64>> Store::scanForMatches(qint64 ownerId, const QString &from, const QStringList &conditions,
                                                   const QVariantList &values, const QString &ftsQuery, int wanted,
                                                   std::optional<qint64> before)
{
    // The owner's entries that meet the other conditions, newest first, a
    // chunk at a time (growing: a common word fills a page from the first);
    // the messages among a chunk's that match, from FTS5 in one range read.
    const QString chunkSql =
        QStringLiteral("SELECT e.id, e.message_id FROM %1 WHERE %2 AND e.id < ? ORDER BY e.id DESC LIMIT ?")
            .arg(from, conditions.join(QStringLiteral(" AND ")));
    QSqlQuery chunk(database());
    chunk.setForwardOnly(true);
    if (!chunk.prepare(chunkSql)) {
        failQuery(chunk, QStringLiteral("preparing a search"));
        return std::nullopt;
    }
    QSqlQuery *matches = cachedStatement(QStringLiteral("SELECT rowid FROM message_index"
                                                        " WHERE message_index MATCH ? AND rowid BETWEEN ? AND ?"),
                                         QStringLiteral("searching the index"));
    if (!matches)
        return std::nullopt;
    const FinishedOnExit matchesFinished(matches);
    QList<qint64> found;
    qint64 below = before.value_or(std::numeric_limits<qint64>::max());
    int chunkSize = 256;
    for (;;) {
        for (qsizetype i = 0; i < values.size(); ++i)
            chunk.bindValue(int(i), values.at(i));
        chunk.bindValue(int(values.size()), below);
        chunk.bindValue(int(values.size()) + 1, chunkSize);
        if (!chunk.exec()) {
            failQuery(chunk, QStringLiteral("searching the mail of account %1").arg(ownerId));
            return std::nullopt;
        }
        QList<std::pair<qint64, qint64>> rows; // entry, message
        qint64 lowest = std::numeric_limits<qint64>::max();
        qint64 highest = 0;
        while (chunk.next()) {
            rows.append({chunk.value(0).toLongLong(), chunk.value(1).toLongLong()});
            lowest = std::min(lowest, rows.last().second);
            highest = std::max(highest, rows.last().second);
        }
        chunk.finish();
        if (rows.isEmpty())
            return found;
        matches->bindValue(0, ftsQuery);
        matches->bindValue(1, lowest);
        matches->bindValue(2, highest);
        if (!matches->exec()) {
            failQuery(*matches, QStringLiteral("searching the index"));
            return std::nullopt;
        }
        QSet<qint64> matching;
        while (matches->next())
            matching.insert(matches->value(0).toLongLong());
        matches->finish();
        for (const auto &[entryId, messageId] : std::as_const(rows)) {
            if (matching.contains(messageId)) {
                found.append(entryId);
                if (found.size() == wanted)
                    return found;
            }
        }
        if (rows.size() < chunkSize)
            return found;
        below = rows.last().first;
        chunkSize = std::min(chunkSize * 2, 8192);
    }
}

bool Store::indexStoredMessages()
{
    // Inside migration 7's transaction: messages in batches by id, parsed
    // once each, as a delivery would have.
    constexpr int Batch = 200;
    QSqlQuery read(database());
    read.setForwardOnly(true);
    QSqlQuery raw(database());
    raw.setForwardOnly(true);
    QSqlQuery insert(database());
    if (!insert.prepare(StoreSearch::insertWordsSql()) || !raw.prepare(QStringLiteral("SELECT raw FROM messages WHERE id = ?")))
        return failQuery(insert, QStringLiteral("migration 7: preparing the search index"));
    qint64 last = 0;
    qint64 indexed = 0;
    for (;;) {
        // Ids a batch at a time, each message's bytes alone: messages may
        // be 25 MiB each, and a batch of them must not be held at once.
        read.prepare(QStringLiteral("SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT %1").arg(Batch));
        read.addBindValue(last);
        if (!read.exec())
            return failQuery(read, QStringLiteral("migration 7: reading the stored messages"));
        QList<qint64> messages;
        while (read.next())
            messages.append(read.value(0).toLongLong());
        read.finish();
        for (const qint64 id : std::as_const(messages)) {
            raw.bindValue(0, id);
            if (!raw.exec() || !raw.next())
                return failQuery(raw, QStringLiteral("migration 7: reading message %1").arg(id));
            const MimeMessage parsed = MimeMessage::parse(raw.value(0).toByteArray());
            raw.finish();
            if (!StoreSearch::insertWords(insert, id, searchWords(parsed.summary(), parsed.readableText())))
                return failQuery(insert, QStringLiteral("migration 7: indexing message %1").arg(id));
            last = id;
        }
        indexed += messages.size();
        if (messages.size() < Batch)
            break;
        if (indexed % 10000 == 0)
            qCInfo(lcStore) << "migration 7: indexed" << indexed << "messages";
    }
    return true;
}
