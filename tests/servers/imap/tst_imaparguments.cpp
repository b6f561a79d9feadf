// ImapArgumentReader: a command's arguments read item by item by RFC 9051's
// grammar (§9). Each row gives the command's parts (lines and literals in
// turn, as ImapCommandReader frames them), the items to read, and what
// each read gives: its value, "NIL", or its fault; then what is left.

#include "imaparguments.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {

QString sequenceText(const ImapSequenceSet &set)
{
    QStringList ranges;
    const auto number = [](quint32 n) -> QString { return n == ImapSequenceSet::Star ? u"*"_s : QString::number(n); };
    for (const ImapSequenceSet::Range &range : set.ranges)
        ranges.append(range.first == range.last ? number(range.first) : QString(number(range.first) + u':' + number(range.last)));
    return ranges.join(u',');
}

QString faultOf(const ImapArgumentReader &reader)
{
    return u"fault: "_s + QString::fromLatin1(reader.fault());
}

// One read: its item's value as text, or "fault: ..." (the first fault).
QString readItem(ImapArgumentReader &reader, const QString &item)
{
    const auto shown = [&reader](const std::optional<QByteArray> &value) -> QString {
        if (!value)
            return faultOf(reader);
        return u"'"_s + QString::fromUtf8(*value) + u"'"_s;
    };
    const auto shownNumber = [&reader](const auto &value) -> QString {
        return value ? QString::number(*value) : faultOf(reader);
    };
    if (item == u"sp")
        return reader.space() ? u"sp"_s : faultOf(reader);
    if (item == u"(" || item == u")")
        return reader.take(item.at(0).toLatin1()) ? item : faultOf(reader);
    if (item == u"atom")
        return shown(reader.atom());
    if (item == u"astring")
        return shown(reader.astring());
    if (item == u"string")
        return shown(reader.string());
    if (item == u"nstring") {
        const auto value = reader.nstring();
        return value || !reader.ok() ? shown(value) : u"NIL"_s;
    }
    if (item == u"mailbox")
        return shown(reader.listMailbox());
    if (item == u"number")
        return shownNumber(reader.number());
    if (item == u"nz")
        return shownNumber(reader.nzNumber());
    if (item == u"number64")
        return shownNumber(reader.number64());
    if (item == u"seq") {
        const auto set = reader.sequenceSet();
        return set ? sequenceText(*set) : faultOf(reader);
    }
    if (item.startsWith(u"word "))
        return reader.takeWord(item.mid(5).toLatin1()) ? item.mid(5) : faultOf(reader);
    return QString(u"unknown item "_s + item);
}

} // namespace

class TestImapArguments : public QObject
{
    Q_OBJECT

private slots:
    void items_data();
    void items();
    void firstFaultIsKept();
    void atomCharacters();
};

void TestImapArguments::items_data()
{
    QTest::addColumn<QByteArrayList>("parts");
    QTest::addColumn<QStringList>("items");
    QTest::addColumn<QStringList>("results");
    QTest::addColumn<bool>("atEnd");

    const auto row = [](const char *name, const QByteArrayList &parts, const QStringList &items,
                        const QStringList &results, bool atEnd) {
        QTest::newRow(name) << parts << items << results << atEnd;
    };
    // Strings.
    row("LOGIN with atoms", {" joe secret"_ba}, {u"sp"_s, u"astring"_s, u"sp"_s, u"astring"_s},
        {u"sp"_s, u"'joe'"_s, u"sp"_s, u"'secret'"_s}, true);
    row("quoted, with escapes", {" \"a \\\"b\\\" \\\\c\""_ba}, {u"sp"_s, u"astring"_s}, {u"sp"_s, u"'a \"b\" \\c'"_s},
        true);
    row("an empty quoted string", {" \"\""_ba}, {u"sp"_s, u"string"_s}, {u"sp"_s, u"''"_s}, true);
    row("UTF-8 in a quoted string", {" \"Entw\xc3\xbcrfe\""_ba}, {u"sp"_s, u"astring"_s},
        {u"sp"_s, u"'Entwürfe'"_s}, true);
    row("a literal", {" {3}"_ba, "joe"_ba, " pw"_ba}, {u"sp"_s, u"astring"_s, u"sp"_s, u"astring"_s},
        {u"sp"_s, u"'joe'"_s, u"sp"_s, u"'pw'"_s}, true);
    row("a non-synchronizing literal", {" {3+}"_ba, "a b"_ba, ""_ba}, {u"sp"_s, u"string"_s}, {u"sp"_s, u"'a b'"_s},
        true);
    row("an empty literal", {" {0}"_ba, ""_ba, ""_ba}, {u"sp"_s, u"string"_s}, {u"sp"_s, u"''"_s}, true);
    row("a binary literal is no string", {" ~{2}"_ba, "hi"_ba, ""_ba}, {u"sp"_s, u"string"_s},
        {u"sp"_s, u"fault: expected a string, not a binary literal at a literal"_s}, false);
    row("] in an astring", {" INBOX]x"_ba}, {u"sp"_s, u"astring"_s}, {u"sp"_s, u"'INBOX]x'"_s}, true);
    row("] ends an atom", {" BODY[]"_ba}, {u"sp"_s, u"atom"_s}, {u"sp"_s, u"'BODY['"_s}, false);
    row("unterminated quote", {" \"abc"_ba}, {u"sp"_s, u"astring"_s},
        {u"sp"_s, u"fault: expected the end of a quoted string at \"\"abc\""_s}, false);
    row("a bad escape", {" \"a\\b\""_ba}, {u"sp"_s, u"string"_s},
        {u"sp"_s, u"fault: expected '\"' or '\\' after '\\' in a quoted string at \"\"a\\b\"\""_s}, false);
    row("a bare CR in a quoted string", {" \"a\rb\""_ba}, {u"sp"_s, u"string"_s},
        {u"sp"_s, u"fault: expected no NUL or CR in a quoted string at \"\"a\rb\"\""_s}, false);
    row("an atom is no string", {" abc"_ba}, {u"sp"_s, u"string"_s}, {u"sp"_s, u"fault: expected a string at \"abc\""_s},
        false);
    row("NIL", {" NIL nil \"NIL\""_ba}, {u"sp"_s, u"nstring"_s, u"sp"_s, u"nstring"_s, u"sp"_s, u"nstring"_s},
        {u"sp"_s, u"NIL"_s, u"sp"_s, u"NIL"_s, u"sp"_s, u"'NIL'"_s}, true);
    row("NILS is not NIL", {" NILS"_ba}, {u"sp"_s, u"nstring"_s},
        {u"sp"_s, u"fault: expected a string or NIL at \"NILS\""_s}, false);
    row("one space, not two", {" x"_ba}, {u"sp"_s, u"sp"_s}, {u"sp"_s, u"fault: expected ' ' at \"x\""_s}, false);
    row("nothing left", {""_ba}, {u"sp"_s}, {u"fault: expected ' ' at the end of the command"_s}, true);

    // LIST patterns.
    row("wildcards", {" \"\" %/*"_ba}, {u"sp"_s, u"mailbox"_s, u"sp"_s, u"mailbox"_s},
        {u"sp"_s, u"''"_s, u"sp"_s, u"'%/*'"_s}, true);
    row("a pattern is no atom", {" *"_ba}, {u"sp"_s, u"atom"_s}, {u"sp"_s, u"fault: expected an atom at \"*\""_s},
        false);

    // Numbers.
    row("numbers", {" 0 4294967295"_ba}, {u"sp"_s, u"number"_s, u"sp"_s, u"number"_s},
        {u"sp"_s, u"0"_s, u"sp"_s, u"4294967295"_s}, true);
    row("past 32 bits", {" 4294967296"_ba}, {u"sp"_s, u"number"_s},
        {u"sp"_s, u"fault: expected a number below 4294967296 at \"4294967296\""_s}, false);
    row("nz-number refuses 0", {" 0"_ba}, {u"sp"_s, u"nz"_s}, {u"sp"_s, u"fault: expected a number above 0 at \"0\""_s},
        false);
    row("number64", {" 9223372036854775807"_ba}, {u"sp"_s, u"number64"_s}, {u"sp"_s, u"9223372036854775807"_s}, true);
    row("past number64", {" 9223372036854775808"_ba}, {u"sp"_s, u"number64"_s},
        {u"sp"_s, u"fault: expected a number of at most 63 bits at \"9223372036854775808\""_s}, false);

    // Sequence sets.
    row("a sequence set", {" 1,3:5,7:*,*,9:2"_ba}, {u"sp"_s, u"seq"_s}, {u"sp"_s, u"1,3:5,7:*,*,9:2"_s}, true);
    row("uids up to 2^32-1", {" 4294967295"_ba}, {u"sp"_s, u"seq"_s}, {u"sp"_s, u"4294967295"_s}, true);
    row("uids past 2^32", {" 1:4294967296"_ba}, {u"sp"_s, u"seq"_s},
        {u"sp"_s, u"fault: expected a number below 4294967296 at \"4294967296\""_s}, false);
    row("zero is no message number", {" 0:3"_ba}, {u"sp"_s, u"seq"_s},
        {u"sp"_s, u"fault: expected a number above 0 at \"0:3\""_s}, false);
    row("a trailing comma", {" 1,"_ba}, {u"sp"_s, u"seq"_s},
        {u"sp"_s, u"fault: expected a message number, a uid or '*' at the end of the command"_s}, true);
    row("an open range", {" 1:"_ba}, {u"sp"_s, u"seq"_s},
        {u"sp"_s, u"fault: expected a message number, a uid or '*' at the end of the command"_s}, true);

    // Lists and words.
    row("a parenthesized list", {" (FLAGS UID)"_ba},
        {u"sp"_s, u"("_s, u"word flags"_s, u"sp"_s, u"word UID"_s, u")"_s},
        {u"sp"_s, u"("_s, u"flags"_s, u"sp"_s, u"UID"_s, u")"_s}, true);
    row("a word is whole", {" FLAGSX"_ba}, {u"sp"_s, u"word FLAGS"_s}, {u"sp"_s, u"fault: expected FLAGS at \"FLAGSX\""_s},
        false);
    row("a literal inside a list", {" (a {2}"_ba, "b)"_ba, " c)"_ba},
        {u"sp"_s, u"("_s, u"astring"_s, u"sp"_s, u"astring"_s, u"sp"_s, u"astring"_s, u")"_s},
        {u"sp"_s, u"("_s, u"'a'"_s, u"sp"_s, u"'b)'"_s, u"sp"_s, u"'c'"_s, u")"_s}, true);
    row("nothing is read past a literal's marker", {" {2}"_ba, "ab"_ba, ""_ba}, {u"sp"_s, u"atom"_s},
        {u"sp"_s, u"fault: expected an atom at a literal"_s}, false);
}

void TestImapArguments::items()
{
    QFETCH(QByteArrayList, parts);
    QFETCH(QStringList, items);
    QFETCH(QStringList, results);
    QFETCH(bool, atEnd);
    ImapArgumentReader reader(parts);
    QStringList got;
    for (const QString &item : std::as_const(items))
        got.append(readItem(reader, item));
    QCOMPARE(got, results);
    QCOMPARE(reader.atEnd(), atEnd);
}

// The first fault is what the client is told; later ones do not replace it.
void TestImapArguments::firstFaultIsKept()
{
    const QByteArrayList parts{" x y"_ba};
    ImapArgumentReader reader(parts);
    QVERIFY(reader.ok());
    QVERIFY(!reader.number());
    QVERIFY(!reader.ok());
    const QByteArray first = reader.fault();
    QCOMPARE(first, "expected a number at \" x y\""_ba);
    QVERIFY(reader.space());
    QVERIFY(!reader.string());
    QCOMPARE(reader.fault(), first);
}

void TestImapArguments::atomCharacters()
{
    for (int c = 0; c < 256; ++c) {
        const char ch = char(c);
        const bool special = c <= 0x1f || c >= 0x7f || QByteArrayView("(){ %*\"\\]").contains(ch);
        QCOMPARE(ImapArgumentReader::isAtomChar(ch), !special);
    }
}

QTEST_GUILESS_MAIN(TestImapArguments)
#include "tst_imaparguments.moc"
