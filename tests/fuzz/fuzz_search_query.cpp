// SearchQuery::parse fed any text (the bytes as UTF-8): a query or one fault,
// never both. A fault lies within the text and says something; a query has
// at least one clause, no empty clause, at most MaxTerms terms, each term
// well formed and beginning after the one before it, and its canonical form
// (toString) parses to the same terms and writes back unchanged.
//
// Input: the query's bytes.

#include "fuzzsupport.h"
#include "searchquery.h"

using FuzzSupport::check;

namespace {

bool hasControl(const QString &text)
{
    return std::any_of(text.cbegin(), text.cend(),
                       [](QChar c) { return (c.unicode() < 0x20 || c.unicode() == 0x7f) && !c.isSpace(); });
}

void checkTerm(const SearchTerm &term, qsizetype length, const QByteArray &detail)
{
    check(term.position >= 0 && term.position < length, "a term begins outside the query", detail);
    check(!hasControl(term.text), "a term holds a control character", detail);
    switch (term.kind) {
    case SearchTerm::Kind::Text:
    case SearchTerm::Kind::InFolder:
        check(!term.text.trimmed().isEmpty(), "a text or folder term without text", detail);
        check(term.phrase || !term.text.contains(u'"'), "a word with a quote in it", detail);
        check(term.phrase || std::none_of(term.text.cbegin(), term.text.cend(), [](QChar c) { return c.isSpace(); }),
              "a word with a space in it", detail);
        break;
    case SearchTerm::Kind::Before:
    case SearchTerm::Kind::After:
        check(term.day.isValid(), "a day term with an invalid day", detail);
        break;
    case SearchTerm::Kind::Larger:
    case SearchTerm::Kind::Smaller:
        check(term.bytes >= 0, "a negative size", detail);
        break;
    case SearchTerm::Kind::Flag:
    case SearchTerm::Kind::HasAttachment:
        check(term.text.isEmpty(), "a flag or attachment term with text", detail);
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const bool initialized = (FuzzSupport::initialize(), true);
    Q_UNUSED(initialized);
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);
    const SearchParse parsed = SearchQuery::parse(text);
    if (!parsed.query) {
        check(parsed.error.position >= 0 && parsed.error.position <= std::min(text.size(), SearchQuery::MaxLength),
              "a fault outside the query", bytes);
        check(!parsed.error.message.isEmpty(), "a fault without a message", bytes);
        return 0;
    }
    const SearchQuery &query = *parsed.query;
    check(text.size() <= SearchQuery::MaxLength, "a query over the length accepted", bytes);
    check(!query.clauses.isEmpty(), "a query without clauses", bytes);
    qsizetype terms = 0;
    qsizetype previous = -1;
    for (const QList<SearchTerm> &clause : query.clauses) {
        check(!clause.isEmpty(), "an empty clause", bytes);
        for (const SearchTerm &term : clause) {
            checkTerm(term, text.size(), bytes);
            check(term.position > previous, "terms out of order", bytes);
            previous = term.position;
            ++terms;
        }
    }
    check(terms <= SearchQuery::MaxTerms, "more terms than allowed", bytes);

    const QString canonical = query.toString();
    const SearchParse again = SearchQuery::parse(canonical);
    if (!again.query)
        FuzzSupport::fail("the canonical form does not parse", canonical.toUtf8() + " <- " + bytes);
    check(again.query->meansSameAs(query), "the canonical form means something else",
          canonical.toUtf8() + " <- " + bytes);
    check(again.query->toString() == canonical, "the canonical form is not stable", canonical.toUtf8());
    return 0;
}
