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
#include <QSqlQuery>

#include <limits>

using StoreSql::FinishedOnExit;

namespace StoreSearch {

MessageWords wordsOf(const MessageSummary &summary, const QString &text)
{
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
        add(&words.body, text);
    }
    return words;
}

const QString &insertWordsSql()
{
    static const QString sql =
        QStringLiteral("INSERT INTO message_words (message_id, %1) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .arg(QLatin1StringView(StoreSchema::SearchColumns));
    return sql;
}

bool insertWords(QSqlQuery &insert, qint64 messageId, const MessageWords &words)
{
    const QString *const fields[] = {&words.subject, &words.sender, &words.to,
                                     &words.cc,      &words.body,   &words.filenames};
    insert.bindValue(0, messageId);
    for (int i = 0; i < 6; ++i)
        insert.bindValue(i + 1, fields[i]->isNull() ? QStringLiteral("") : *fields[i]);
    const bool done = insert.exec();
    // Like the message's raw bytes: a cached statement must not keep a long
    // text alive until the next message.
    insert.bindValue(5, QVariant());
    return done;
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

// The words of every column as PostgreSQL's GIN index has them: the
// query must name this very expression for the index to serve it.
const QString &postgresqlDocument()
{
    static const QString document =
        QStringLiteral("to_tsvector('simple'::regconfig, w.subject || ' ' || w.sender || ' ' || w.to_addresses"
                       " || ' ' || w.cc_addresses || ' ' || w.body || ' ' || w.filenames)");
    return document;
}

// One term as SQL over `e` (the entry) and `m` (its message), its values
// appended to `values` in the order of their placeholders.
class SearchSql
{
public:
    SearchSql(Store::Engine engine, const QList<MailFolder> &folders) : m_engine(engine), m_folders(folders) {}

    std::optional<QString> condition(const SearchTerm &term, QVariantList *values, SearchFault *fault) const
    {
        const std::optional<QString> sql = positiveCondition(term, values, fault);
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
            return QStringLiteral("e.folder_id = ?");
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
            // An FTS5 phrase: the words are letters and digits only, so
            // nothing in them needs quoting.
            const QString match = QStringLiteral("\"%1\"").arg(phrase);
            values->append(column.isEmpty() ? match : QStringLiteral("{%1} : %2").arg(column, match));
            return QStringLiteral("e.message_id IN (SELECT rowid FROM message_index WHERE message_index MATCH ?)");
        }
        // The GIN index finds the candidates; a field's own words, or for a
        // phrase any single field's (the document runs the fields
        // together), decide.
        QString sql = QStringLiteral("e.message_id IN (SELECT w.message_id FROM message_words w WHERE %1"
                                     " @@ phraseto_tsquery('simple'::regconfig, ?)")
                          .arg(postgresqlDocument());
        values->append(phrase);
        QStringList recheckColumns;
        if (!column.isEmpty())
            recheckColumns.append(column);
        else if (words.size() > 1)
            recheckColumns = QString::fromLatin1(StoreSchema::SearchColumns).split(QStringLiteral(", "));
        QStringList rechecks;
        for (const QString &recheck : std::as_const(recheckColumns)) {
            rechecks.append(
                QStringLiteral("to_tsvector('simple'::regconfig, w.%1) @@ phraseto_tsquery('simple'::regconfig, ?)")
                    .arg(recheck));
            values->append(phrase);
        }
        if (!rechecks.isEmpty())
            sql += QStringLiteral(" AND (%1)").arg(rechecks.join(QStringLiteral(" OR ")));
        return sql + QLatin1Char(')');
    }

    Store::Engine m_engine;
    const QList<MailFolder> &m_folders;
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
    const SearchSql terms(m_engine, *owned);

    QVariantList values{ownerId};
    QStringList conditions{QStringLiteral("e.owner_id = ?")};
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
    for (const QList<SearchTerm> &clause : query.clauses) {
        QStringList alternatives;
        for (const SearchTerm &term : clause) {
            const std::optional<QString> condition = terms.condition(term, &values, fault);
            if (!condition) {
                fail(Error::Invalid, fault->message);
                return std::nullopt;
            }
            alternatives.append(*condition);
        }
        conditions.append(alternatives.size() == 1 ? alternatives.first()
                                                   : QStringLiteral("(%1)").arg(alternatives.join(QStringLiteral(" OR "))));
    }
    conditions.append(QStringLiteral("e.id < ?"));
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
    if (!summarizePage(&page, receivedAtMs))
        return std::nullopt;
    return page;
}

bool Store::indexStoredMessages()
{
    // Inside migration 7's transaction: messages in batches by id, parsed
    // once each, as a delivery would have.
    constexpr int Batch = 200;
    QSqlQuery read(database());
    read.setForwardOnly(true);
    QSqlQuery insert(database());
    if (!insert.prepare(StoreSearch::insertWordsSql()))
        return failQuery(insert, QStringLiteral("migration 7: preparing the search index"));
    qint64 last = 0;
    qint64 indexed = 0;
    for (;;) {
        read.prepare(QStringLiteral("SELECT id, raw FROM messages WHERE id > ? ORDER BY id LIMIT %1").arg(Batch));
        read.addBindValue(last);
        if (!read.exec())
            return failQuery(read, QStringLiteral("migration 7: reading the stored messages"));
        QList<std::pair<qint64, QByteArray>> messages;
        while (read.next())
            messages.append({read.value(0).toLongLong(), read.value(1).toByteArray()});
        read.finish();
        for (const auto &[id, raw] : std::as_const(messages)) {
            const MimeMessage parsed = MimeMessage::parse(raw);
            if (!StoreSearch::insertWords(insert, id, StoreSearch::wordsOf(parsed.summary(), parsed.readableText())))
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
