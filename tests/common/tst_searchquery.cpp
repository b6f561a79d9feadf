#include "searchquery.h"

#include <QTest>

using namespace Qt::StringLiterals;

// The search language (docs/protocol/search.md §1): what each query parses
// to, written back canonically, and every fault with its position.
class TestSearchQuery : public QObject
{
    Q_OBJECT

private slots:
    void parses_data();
    void parses();
    void terms();
    void faults_data();
    void faults();
    void bounds();
};

namespace {

QString words(int count)
{
    QStringList list;
    for (int i = 0; i < count; ++i)
        list.append(u"w%1"_s.arg(i));
    return list.join(u' ');
}

} // namespace

void TestSearchQuery::parses_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("canonical"); // SearchQuery::toString()
    QTest::addColumn<int>("clauses");

    QTest::newRow("a word") << u"bob"_s << u"bob"_s << 1;
    QTest::newRow("words, spaces around") << u"  bob \t alice\n"_s << u"bob alice"_s << 2;
    QTest::newRow("a phrase") << u"\"quarterly report\""_s << u"\"quarterly report\""_s << 1;
    QTest::newRow("fields") << u"from:bob to:a@b.org cc:carol subject:\"quarterly report\" body:budget filename:q3.pdf"_s
                            << u"from:bob to:a@b.org cc:carol subject:\"quarterly report\" body:budget filename:q3.pdf"_s << 6;
    QTest::newRow("field names in any case") << u"FROM:Bob Subject:Hi"_s << u"from:Bob subject:Hi"_s << 2;
    QTest::newRow("flags") << u"is:unread is:READ is:flagged is:answered is:draft"_s
                           << u"is:unread is:read is:flagged is:answered is:draft"_s << 5;
    QTest::newRow("attachments") << u"has:attachment"_s << u"has:attachment"_s << 1;
    QTest::newRow("folders") << u"in:inbox in:\"My Projects/2027\" in:Projects/2027"_s
                             << u"in:inbox in:\"My Projects/2027\" in:Projects/2027"_s << 3;
    QTest::newRow("days") << u"before:2026-12-01 after:2024-02-29"_s << u"before:2026-12-01 after:2024-02-29"_s << 2;
    QTest::newRow("sizes") << u"larger:100K smaller:2M larger:500 larger:1k smaller:3m"_s
                           << u"larger:102400 smaller:2097152 larger:500 larger:1024 smaller:3145728"_s << 5;
    QTest::newRow("exclusions") << u"-spam -from:bob -is:read -\"a b\""_s << u"-spam -from:bob -is:read -\"a b\""_s << 4;
    QTest::newRow("OR binds tighter than AND") << u"a OR b c"_s << u"a OR b c"_s << 2;
    QTest::newRow("OR chains") << u"a OR b OR c d OR e"_s << u"a OR b OR c d OR e"_s << 2;
    QTest::newRow("OR with exclusions and fields") << u"-a OR from:\"b c\""_s << u"-a OR from:\"b c\""_s << 1;
    QTest::newRow("or, ORANGE and OR- are words") << u"or ORANGE OR-x"_s << u"or ORANGE OR-x"_s << 3;
    QTest::newRow("an excluded OR is a word") << u"-OR"_s << u"-OR"_s << 1;
    QTest::newRow("OR in a phrase") << u"\"OR\" x"_s << u"\"OR\" x"_s << 2;
    QTest::newRow("colons that are no field") << u"10:30 re2:x :x"_s << u"10:30 re2:x :x"_s << 3;
    QTest::newRow("a field value with a colon or a dash") << u"from:a:b subject:-x"_s << u"from:a:b subject:-x"_s << 2;
    QTest::newRow("a dash inside a word") << u"e-mail"_s << u"e-mail"_s << 1;
    QTest::newRow("non-ASCII") << u"Gr\u00fc\u00dfe \u6771\u4eac from:J\u00fcrgen"_s
                               << u"Gr\u00fc\u00dfe \u6771\u4eac from:J\u00fcrgen"_s << 3;
    QTest::newRow("astral") << u"\U0001F4EC"_s << u"\U0001F4EC"_s << 1;
    QTest::newRow("a phrase keeps its spaces") << u"\" a  b \""_s << u"\" a  b \""_s << 1;
    QTest::newRow("as many terms as allowed") << words(SearchQuery::MaxTerms) << words(SearchQuery::MaxTerms)
                                              << SearchQuery::MaxTerms;
}

void TestSearchQuery::parses()
{
    QFETCH(QString, query);
    QFETCH(QString, canonical);
    QFETCH(int, clauses);
    const SearchParse parsed = SearchQuery::parse(query);
    QVERIFY2(parsed.query, qPrintable(u"at %1: %2"_s.arg(parsed.error.position).arg(parsed.error.message)));
    QCOMPARE(parsed.query->clauses.size(), clauses);
    QCOMPARE(parsed.query->toString(), canonical);
    // The canonical form means the same.
    const SearchParse again = SearchQuery::parse(canonical);
    QVERIFY(again.query);
    QVERIFY(again.query->meansSameAs(*parsed.query));
}

// What the terms hold, and where each begins.
void TestSearchQuery::terms()
{
    const QString text = u"a OR -from:\"c d\"  larger:1M before:2026-02-28 is:flagged in:\"My Folder\" has:attachment"_s;
    const SearchParse parsed = SearchQuery::parse(text);
    QVERIFY(parsed.query);
    const QList<QList<SearchTerm>> &clauses = parsed.query->clauses;
    QCOMPARE(clauses.size(), 6);

    QCOMPARE(clauses.at(0).size(), 2);
    const SearchTerm &a = clauses.at(0).at(0);
    QCOMPARE(a.kind, SearchTerm::Kind::Text);
    QCOMPARE(a.field, SearchTerm::Field::Any);
    QCOMPARE(a.text, u"a"_s);
    QVERIFY(!a.negated && !a.phrase);
    QCOMPARE(a.position, 0);
    const SearchTerm &from = clauses.at(0).at(1);
    QCOMPARE(from.kind, SearchTerm::Kind::Text);
    QCOMPARE(from.field, SearchTerm::Field::From);
    QCOMPARE(from.text, u"c d"_s);
    QVERIFY(from.negated && from.phrase);
    QCOMPARE(from.position, text.indexOf(u"-from"));

    const SearchTerm &larger = clauses.at(1).at(0);
    QCOMPARE(larger.kind, SearchTerm::Kind::Larger);
    QCOMPARE(larger.bytes, 1024 * 1024);
    QCOMPARE(larger.position, text.indexOf(u"larger"));
    const SearchTerm &before = clauses.at(2).at(0);
    QCOMPARE(before.kind, SearchTerm::Kind::Before);
    QCOMPARE(before.day, QDate(2026, 2, 28));
    const SearchTerm &flagged = clauses.at(3).at(0);
    QCOMPARE(flagged.kind, SearchTerm::Kind::Flag);
    QCOMPARE(flagged.flag, SearchTerm::Flag::Flagged);
    const SearchTerm &folder = clauses.at(4).at(0);
    QCOMPARE(folder.kind, SearchTerm::Kind::InFolder);
    QCOMPARE(folder.text, u"My Folder"_s);
    QVERIFY(folder.phrase);
    QCOMPARE(clauses.at(5).at(0).kind, SearchTerm::Kind::HasAttachment);
    QCOMPARE(clauses.at(5).at(0).position, text.indexOf(u"has:"));

    // Positions aside, the same terms in the same order mean the same.
    const auto query = [](const QString &written) { return *SearchQuery::parse(written).query; };
    QVERIFY(query(u"a  b"_s).meansSameAs(query(u"a b"_s)));
    QVERIFY(!(query(u"a  b"_s) == query(u"a b"_s)));
    QVERIFY(query(u"FROM:x"_s).meansSameAs(query(u"from:x"_s)));
    QVERIFY(!query(u"a b"_s).meansSameAs(query(u"b a"_s)));
    QVERIFY(!query(u"a OR b"_s).meansSameAs(query(u"a b"_s)));
    QVERIFY(!query(u"\"a\""_s).meansSameAs(query(u"a"_s)));
}

void TestSearchQuery::faults_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("position");
    QTest::addColumn<QString>("message"); // a part of it

    QTest::newRow("empty") << QString() << 0 << u"empty"_s;
    QTest::newRow("only spaces") << u" \t "_s << 0 << u"empty"_s;
    QTest::newRow("unclosed phrase") << u"x \"abc"_s << 2 << u"no closing quote"_s;
    QTest::newRow("unclosed phrase of a field") << u"from:\"abc"_s << 5 << u"no closing quote"_s;
    QTest::newRow("empty phrase") << u"x \"\""_s << 2 << u"phrase is empty"_s;
    QTest::newRow("blank phrase") << u"\"  \""_s << 0 << u"phrase is empty"_s;
    QTest::newRow("no space after a phrase") << u"\"a\"b"_s << 3 << u"space after"_s;
    QTest::newRow("a quote inside a word") << u"ab\"c\""_s << 2 << u"quote inside a word"_s;
    QTest::newRow("a quote inside a field's word") << u"from:b\"c"_s << 6 << u"quote inside a word"_s;
    QTest::newRow("OR first") << u"OR a"_s << 0 << u"OR needs a term before it"_s;
    QTest::newRow("OR last") << u"a OR"_s << 2 << u"OR needs a term after it"_s;
    QTest::newRow("OR last, spaces after") << u"a OR  "_s << 2 << u"OR needs a term after it"_s;
    QTest::newRow("OR twice") << u"a OR OR b"_s << 5 << u"OR needs a term before it"_s;
    QTest::newRow("a lone dash") << u"a - b"_s << 2 << u"Nothing follows '-'"_s;
    QTest::newRow("a dash at the end") << u"a -"_s << 2 << u"Nothing follows '-'"_s;
    QTest::newRow("two dashes") << u"--a"_s << 1 << u"One '-' is enough"_s;
    QTest::newRow("unknown field") << u"foo:bar"_s << 0 << u"Unknown field 'foo:'"_s;
    QTest::newRow("unknown field, excluded") << u"x -Re:meeting"_s << 3 << u"Unknown field 'Re:'"_s;
    QTest::newRow("field without a value") << u"from:"_s << 5 << u"from: needs a word or a phrase"_s;
    QTest::newRow("field, then a space") << u"subject: hi"_s << 8 << u"subject: needs"_s;
    QTest::newRow("unknown flag") << u"is:unseen"_s << 3 << u"is: takes unread"_s;
    QTest::newRow("flag as a phrase") << u"is:\"unread\""_s << 3 << u"is: takes"_s;
    QTest::newRow("has: something else") << u"has:attachments"_s << 4 << u"has: takes attachment"_s;
    QTest::newRow("month 13") << u"before:2026-13-01"_s << 7 << u"YYYY-MM-DD"_s;
    QTest::newRow("short day") << u"after:2026-1-1"_s << 6 << u"YYYY-MM-DD"_s;
    QTest::newRow("30 February") << u"before:2026-02-30"_s << 7 << u"YYYY-MM-DD"_s;
    QTest::newRow("not a leap year") << u"after:2026-02-29"_s << 6 << u"YYYY-MM-DD"_s;
    QTest::newRow("non-ASCII digits") << u"after:\u0662\u0660\u0662\u0666-01-01"_s << 6 << u"YYYY-MM-DD"_s;
    QTest::newRow("size unit G") << u"larger:10G"_s << 7 << u"size in bytes"_s;
    QTest::newRow("negative size") << u"smaller:-5"_s << 8 << u"size in bytes"_s;
    QTest::newRow("size without digits") << u"larger:K"_s << 7 << u"size in bytes"_s;
    QTest::newRow("size of 16 digits") << u"larger:1234567890123456"_s << 7 << u"size in bytes"_s;
    QTest::newRow("size of 16 digits in bytes") << u"larger:123456789012100K"_s << 7 << u"size in bytes"_s;
    QTest::newRow("size of 22 digits in bytes") << u"smaller:976599999999M"_s << 8 << u"size in bytes"_s;
    QTest::newRow("15 digits of M") << u"larger:999999999999999M"_s << 7 << u"size in bytes"_s;
    QTest::newRow("16 digits in bytes, in M") << u"smaller:976562499999M"_s << 8 << u"size in bytes"_s;
    QTest::newRow("a control character") << u"bob\x01"_s << 3 << u"control characters"_s;
    QTest::newRow("DEL") << u"a \x7f"_s << 2 << u"control characters"_s;
    QTest::newRow("a control character in a phrase") << u"\"a\x1b\""_s << 2 << u"control characters"_s;
}

void TestSearchQuery::faults()
{
    QFETCH(QString, query);
    QFETCH(int, position);
    QFETCH(QString, message);
    const SearchParse parsed = SearchQuery::parse(query);
    QVERIFY2(!parsed.query, qPrintable(parsed.query ? parsed.query->toString() : QString()));
    QVERIFY2(parsed.error.message.contains(message), qPrintable(parsed.error.message));
    QCOMPARE(parsed.error.position, position);
}

// What one query may ask: its length and its number of terms.
void TestSearchQuery::bounds()
{
    const QString longest = QString(SearchQuery::MaxLength, u'x');
    QVERIFY(SearchQuery::parse(longest).query);
    const SearchParse tooLong = SearchQuery::parse(QString(longest + u'x'));
    QVERIFY(!tooLong.query);
    QCOMPARE(tooLong.error.position, SearchQuery::MaxLength);
    QVERIFY2(tooLong.error.message.contains(u"4,096 characters"), qPrintable(tooLong.error.message));
    // 64 KiB, as a client might send: refused before anything is parsed.
    QCOMPARE(SearchQuery::parse(QString(64 * 1024, u'a')).error.position, SearchQuery::MaxLength);

    const QString many = words(SearchQuery::MaxTerms + 1);
    const SearchParse tooMany = SearchQuery::parse(many);
    QVERIFY(!tooMany.query);
    QCOMPARE(tooMany.error.position, many.lastIndexOf(u' ') + 1);
    QVERIFY2(tooMany.error.message.contains(u"64 terms"), qPrintable(tooMany.error.message));
    // Terms joined by OR count one by one too.
    const QString ored = words(SearchQuery::MaxTerms + 1).replace(u" "_s, u" OR "_s);
    QVERIFY(!SearchQuery::parse(ored).query);
    // A query of thousands of terms fails at the first term too many.
    QString tiny;
    for (int i = 0; i < 2000; ++i)
        tiny += u"a "_s;
    QCOMPARE(SearchQuery::parse(tiny).error.position, 2 * SearchQuery::MaxTerms);
}

QTEST_GUILESS_MAIN(TestSearchQuery)
#include "tst_searchquery.moc"
