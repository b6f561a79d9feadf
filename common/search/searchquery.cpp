#include "searchquery.h"

#include <QLocale>
#include <QStringList>

#include <array>
#include <limits>
#include <utility>

namespace {

using Kind = SearchTerm::Kind;
using Field = SearchTerm::Field;
using Flag = SearchTerm::Flag;

bool isSpace(QChar c)
{
    return c.isSpace();
}

// Control characters other than the spaces: a fault wherever they are.
bool isControl(QChar c)
{
    return (c.unicode() < 0x20 || c.unicode() == 0x7f) && !c.isSpace();
}

bool isAsciiLetter(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}

// The field words, in the order the error for an unknown one lists them.
struct FieldWord
{
    const char16_t *name;
    Kind kind;
    Field field;
};
constexpr std::array<FieldWord, 13> FieldWords{{
    {u"from", Kind::Text, Field::From},
    {u"to", Kind::Text, Field::To},
    {u"cc", Kind::Text, Field::Cc},
    {u"subject", Kind::Text, Field::Subject},
    {u"body", Kind::Text, Field::Body},
    {u"filename", Kind::Text, Field::Filename},
    {u"is", Kind::Flag, Field::Any},
    {u"has", Kind::HasAttachment, Field::Any},
    {u"in", Kind::InFolder, Field::Any},
    {u"before", Kind::Before, Field::Any},
    {u"after", Kind::After, Field::Any},
    {u"larger", Kind::Larger, Field::Any},
    {u"smaller", Kind::Smaller, Field::Any},
}};

constexpr std::array<std::pair<const char16_t *, Flag>, 5> FlagWords{{
    {u"unread", Flag::Unread},
    {u"read", Flag::Read},
    {u"flagged", Flag::Flagged},
    {u"answered", Flag::Answered},
    {u"draft", Flag::Draft},
}};

QString fieldPrefix(const SearchTerm &term)
{
    for (const FieldWord &word : FieldWords) {
        if (word.kind == term.kind && (term.kind != Kind::Text || word.field == term.field))
            return QString::fromUtf16(word.name) + u':';
    }
    return QString(); // a text term in every field
}

QString quotedIf(bool phrase, const QString &text)
{
    return phrase ? u'"' + text + u'"' : text;
}

class Parser
{
public:
    explicit Parser(QStringView text)
        : m_text(text)
    {
    }

    SearchParse run()
    {
        if (m_text.size() > SearchQuery::MaxLength) {
            return failed(SearchQuery::MaxLength,
                          QStringLiteral("A query has at most %1 characters.")
                              .arg(QLocale(QLocale::English).toString(SearchQuery::MaxLength)));
        }
        for (qsizetype i = 0; i < m_text.size(); ++i) {
            if (isControl(m_text.at(i)))
                return failed(i, QStringLiteral("A query cannot hold control characters."));
        }
        skipSpaces();
        if (atEnd())
            return failed(0, QStringLiteral("The query is empty."));
        SearchQuery query;
        int terms = 0;
        while (!atEnd()) {
            QList<SearchTerm> clause;
            for (;;) {
                if (atOr())
                    return failed(m_at, QStringLiteral("OR needs a term before it."));
                std::optional<SearchTerm> next = term();
                if (!next)
                    return {std::nullopt, m_error};
                if (++terms > SearchQuery::MaxTerms) {
                    return failed(next->position,
                                  QStringLiteral("A query has at most %1 terms.").arg(SearchQuery::MaxTerms));
                }
                clause.append(std::move(*next));
                skipSpaces();
                if (!atOr())
                    break;
                const qsizetype orAt = m_at;
                m_at += 2;
                skipSpaces();
                if (atEnd())
                    return failed(orAt, QStringLiteral("OR needs a term after it."));
            }
            query.clauses.append(std::move(clause));
        }
        return {std::move(query), {}};
    }

private:
    SearchParse failed(qsizetype position, const QString &message)
    {
        m_error = {position, message};
        return {std::nullopt, m_error};
    }

    bool fail(qsizetype position, const QString &message)
    {
        m_error = {position, message};
        return false;
    }

    bool atEnd() const { return m_at >= m_text.size(); }
    QChar current() const { return m_text.at(m_at); }
    bool atSpaceOrEnd() const { return atEnd() || isSpace(current()); }

    void skipSpaces()
    {
        while (!atEnd() && isSpace(current()))
            ++m_at;
    }

    // OR as a word of its own, in capitals ("or" and "ORANGE" are words).
    bool atOr() const
    {
        return m_text.mid(m_at).startsWith(u"OR")
            && (m_at + 2 == m_text.size() || isSpace(m_text.at(m_at + 2)));
    }

    // A phrase from the quote at m_at; m_at ends after its closing quote.
    std::optional<QString> phrase()
    {
        const qsizetype open = m_at;
        const qsizetype close = m_text.indexOf(u'"', open + 1);
        if (close < 0) {
            fail(open, QStringLiteral("The phrase has no closing quote."));
            return std::nullopt;
        }
        const QStringView inside = m_text.sliced(open + 1, close - open - 1);
        if (inside.trimmed().isEmpty()) {
            fail(open, QStringLiteral("The phrase is empty."));
            return std::nullopt;
        }
        m_at = close + 1;
        if (!atSpaceOrEnd()) {
            fail(m_at, QStringLiteral("A phrase needs a space after its closing quote."));
            return std::nullopt;
        }
        return inside.toString();
    }

    // A word from m_at to the next space; a quote inside it is a fault.
    QStringView word()
    {
        const qsizetype start = m_at;
        while (!atSpaceOrEnd() && current() != u'"')
            ++m_at;
        if (!atEnd() && current() == u'"') {
            fail(m_at, QStringLiteral("A quote inside a word: a phrase begins after a space."));
            return {};
        }
        return m_text.sliced(start, m_at - start);
    }

    // A field's value, a word or a phrase: m_at is just after the colon.
    bool value(QStringView fieldName, SearchTerm *term)
    {
        if (atSpaceOrEnd())
            return fail(m_at, QStringLiteral("%1: needs a word or a phrase after it.").arg(fieldName));
        if (current() == u'"') {
            std::optional<QString> text = phrase();
            if (!text)
                return false;
            term->text = std::move(*text);
            term->phrase = true;
            return true;
        }
        const QStringView text = word();
        if (text.isEmpty())
            return false;
        term->text = text.toString();
        return true;
    }

    std::optional<SearchTerm> term()
    {
        SearchTerm term;
        term.position = m_at;
        if (current() == u'-') {
            term.negated = true;
            ++m_at;
            if (atSpaceOrEnd()) {
                fail(term.position, QStringLiteral("Nothing follows '-'."));
                return std::nullopt;
            }
            if (current() == u'-') {
                fail(m_at, QStringLiteral("One '-' is enough."));
                return std::nullopt;
            }
        }
        if (current() == u'"') {
            std::optional<QString> text = phrase();
            if (!text)
                return std::nullopt;
            term.text = std::move(*text);
            term.phrase = true;
            return term;
        }
        // A field: ASCII letters and a colon; anything else with a colon in
        // it ("10:30") is a word.
        const qsizetype start = m_at;
        qsizetype letters = start;
        while (letters < m_text.size() && isAsciiLetter(m_text.at(letters)))
            ++letters;
        if (letters > start && letters < m_text.size() && m_text.at(letters) == u':') {
            const QStringView name = m_text.sliced(start, letters - start);
            m_at = letters + 1;
            if (!fieldTerm(name, start, &term))
                return std::nullopt;
            return term;
        }
        const QStringView text = word();
        if (text.isEmpty())
            return std::nullopt;
        term.text = text.toString();
        return term;
    }

    bool fieldTerm(QStringView name, qsizetype nameAt, SearchTerm *term)
    {
        const FieldWord *known = nullptr;
        for (const FieldWord &candidate : FieldWords) {
            if (name.compare(QStringView(candidate.name), Qt::CaseInsensitive) == 0)
                known = &candidate;
        }
        if (!known) {
            QStringList names;
            for (const FieldWord &candidate : FieldWords)
                names.append(QString::fromUtf16(candidate.name) + u':');
            return fail(nameAt, QStringLiteral("Unknown field '%1:' (the fields are %2); a word with a colon "
                                               "in it goes in quotes.")
                                    .arg(name, names.join(u' ')));
        }
        term->kind = known->kind;
        term->field = known->field;
        const QString fieldName = QString::fromUtf16(known->name);
        const qsizetype valueAt = m_at;
        if (!value(fieldName, term))
            return false;
        switch (known->kind) {
        case Kind::Text:
        case Kind::InFolder:
            return true;
        case Kind::Flag:
            for (const auto &[flagName, flag] : FlagWords) {
                if (!term->phrase && term->text.compare(QStringView(flagName), Qt::CaseInsensitive) == 0) {
                    term->flag = flag;
                    term->text.clear();
                    return true;
                }
            }
            return fail(valueAt, QStringLiteral("is: takes unread, read, flagged, answered or draft."));
        case Kind::HasAttachment:
            if (!term->phrase && term->text.compare(u"attachment", Qt::CaseInsensitive) == 0) {
                term->text.clear();
                return true;
            }
            return fail(valueAt, QStringLiteral("has: takes attachment."));
        case Kind::Before:
        case Kind::After:
            term->day = dayFrom(term->phrase ? QString() : term->text);
            if (!term->day.isValid())
                return fail(valueAt, QStringLiteral("%1: takes a day as YYYY-MM-DD.").arg(fieldName));
            term->text.clear();
            return true;
        case Kind::Larger:
        case Kind::Smaller:
            if (const std::optional<qint64> bytes = sizeFrom(term->phrase ? QString() : term->text)) {
                term->bytes = *bytes;
                term->text.clear();
                return true;
            }
            return fail(valueAt, QStringLiteral("%1: takes a size in bytes, such as 500, 100K or 2M "
                                                "(K = 1024, M = 1024 K).")
                                     .arg(fieldName));
        }
        return true;
    }

    static QDate dayFrom(const QString &text)
    {
        if (text.size() != 10 || text.at(4) != u'-' || text.at(7) != u'-')
            return {};
        const auto number = [&text](qsizetype from, qsizetype length) {
            int value = 0;
            for (qsizetype i = from; i < from + length; ++i) {
                if (text.at(i) < u'0' || text.at(i) > u'9')
                    return -1;
                value = value * 10 + (text.at(i).unicode() - u'0');
            }
            return value;
        };
        const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
        if (year < 0 || month < 0 || day < 0)
            return {};
        return QDate(year, month, day);
    }

    static constexpr qint64 MaxSizeBytes = 999'999'999'999'999;
    static std::optional<qint64> sizeFrom(QString text)
    {
        qint64 unit = 1;
        if (text.endsWith(u'K', Qt::CaseInsensitive))
            unit = 1024;
        else if (text.endsWith(u'M', Qt::CaseInsensitive))
            unit = 1024 * 1024;
        if (unit != 1)
            text.chop(1);
        // 15 digits: no size a message can have is larger.
        if (text.isEmpty() || text.size() > 15)
            return std::nullopt;
        qint64 number = 0;
        for (QChar c : std::as_const(text)) {
            if (c < u'0' || c > u'9')
                return std::nullopt;
            number = number * 10 + (c.unicode() - u'0');
        }
        // In bytes too at most 15 digits, so that the canonical form (the
        // size in bytes) reads back (fuzz_search_query found 123456789012100K);
        // compared before multiplying, which 15 digits of M would overflow
        // (it found 976599999999M too).
        if (number > MaxSizeBytes / unit)
            return std::nullopt;
        return number * unit;
    }

    QStringView m_text;
    qsizetype m_at = 0;
    SearchError m_error;
};

} // namespace

SearchParse SearchQuery::parse(QStringView text)
{
    return Parser(text).run();
}

bool SearchQuery::meansSameAs(const SearchQuery &other) const
{
    const auto placeless = [](SearchQuery query) {
        for (QList<SearchTerm> &clause : query.clauses) {
            for (SearchTerm &term : clause)
                term.position = 0;
        }
        return query;
    };
    return placeless(*this) == placeless(other);
}

QString SearchQuery::toString() const
{
    QStringList written;
    for (const QList<SearchTerm> &clause : clauses) {
        QStringList alternatives;
        for (const SearchTerm &term : clause) {
            QString body;
            switch (term.kind) {
            case Kind::Text:
            case Kind::InFolder:
                body = fieldPrefix(term) + quotedIf(term.phrase, term.text);
                break;
            case Kind::Flag:
                for (const auto &[flagName, flag] : FlagWords) {
                    if (flag == term.flag)
                        body = fieldPrefix(term) + QString::fromUtf16(flagName);
                }
                break;
            case Kind::HasAttachment:
                body = fieldPrefix(term) + QStringLiteral("attachment");
                break;
            case Kind::Before:
            case Kind::After:
                body = fieldPrefix(term) + term.day.toString(Qt::ISODate);
                break;
            case Kind::Larger:
            case Kind::Smaller:
                body = fieldPrefix(term) + QString::number(term.bytes);
                break;
            }
            alternatives.append(term.negated ? u'-' + body : body);
        }
        written.append(alternatives.join(QStringLiteral(" OR ")));
    }
    return written.join(u' ');
}
