#pragma once

#include <QDate>
#include <QList>
#include <QString>
#include <QStringView>

#include <optional>

// One term of the search language (docs/protocol/search.md §1).
struct SearchTerm
{
    enum class Kind {
        Text,          // a word or a phrase, in `field`
        Flag,          // is:unread, is:read, is:flagged, is:answered, is:draft
        HasAttachment, // has:attachment
        InFolder,      // in:NAME (a role word or a folder name)
        Before,        // before:YYYY-MM-DD, by the message date
        After,         // after:YYYY-MM-DD (that day included)
        Larger,        // larger:SIZE
        Smaller,       // smaller:SIZE
    };
    // Where a text term must match; Any: subject, sender, recipients, the
    // readable text and attachment file names.
    enum class Field { Any, From, To, Cc, Subject, Body, Filename };
    enum class Flag { Unread, Read, Flagged, Answered, Draft };

    Kind kind = Kind::Text;
    bool negated = false;
    Field field = Field::Any;
    // Text: the word or the phrase's text; InFolder: the name or role word.
    QString text;
    bool phrase = false; // Text and InFolder: written in quotes
    Flag flag = Flag::Unread;
    QDate day;        // Before, After
    qint64 bytes = 0; // Larger, Smaller
    // Where the term begins in the query (its '-' included), in UTF-16
    // units as QString and JavaScript count.
    qsizetype position = 0;

    friend bool operator==(const SearchTerm &, const SearchTerm &) = default;
};

struct SearchParse;

// A parsed query: every clause must match, and a clause matches when one of
// its terms does (OR binds tighter than the implicit AND).
struct SearchQuery
{
    // Bounds on what one query may ask of the index.
    static constexpr qsizetype MaxLength = 4096; // UTF-16 units
    static constexpr int MaxTerms = 64;

    QList<QList<SearchTerm>> clauses;

    // The query, or its first fault.
    [[nodiscard]] static SearchParse parse(QStringView text);

    // The query written back in the language; it parses to the same terms.
    [[nodiscard]] QString toString() const;
    // The same terms, wherever they were written in their queries.
    [[nodiscard]] bool meansSameAs(const SearchQuery &other) const;

    friend bool operator==(const SearchQuery &, const SearchQuery &) = default;
};

struct SearchError
{
    qsizetype position = 0; // of the fault, in UTF-16 units
    QString message;
};

struct SearchParse
{
    std::optional<SearchQuery> query;
    SearchError error; // when there is no query
};
