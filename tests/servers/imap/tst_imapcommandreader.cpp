// ImapCommandReader: where each IMAP command ends, with its literals, and
// what is refused before it is read. Every row's input is also fed one byte
// at a time and in two pieces split at every position: the events must not
// depend on how the bytes arrive.

#include "imapcommandreader.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {

// Small limits, so that rows can cross them.
ImapCommandReader::Limits testLimits()
{
    ImapCommandReader::Limits limits;
    limits.maxLine = 64;
    limits.maxLiteral = 10;
    limits.maxAppendLiteral = 20;
    limits.maxCommand = 100;
    limits.maxAppendCommand = 200;
    return limits;
}

QString faultName(ImapCommandReader::Fault fault)
{
    using Fault = ImapCommandReader::Fault;
    switch (fault) {
    case Fault::None: return u"none"_s;
    case Fault::BadTag: return u"bad-tag"_s;
    case Fault::NoCommand: return u"no-command"_s;
    case Fault::LineTooLong: return u"line-too-long"_s;
    case Fault::LiteralTooLarge: return u"literal-too-large"_s;
    case Fault::CommandTooLarge: return u"command-too-large"_s;
    case Fault::BadLiteral: return u"bad-literal"_s;
    }
    return u"?"_s;
}

// An event as one line of text: "command TAG NAME [part|part|...]",
// "continue TAG NAME", "refused TAG NAME FAULT [close]" (CR and LF in
// parts written as \r and \n).
QString describe(const ImapCommandReader::Event &event)
{
    using Kind = ImapCommandReader::Event::Kind;
    const QString tag = QString::fromLatin1(event.command.tag);
    const QString name = QString::fromLatin1(event.command.name);
    switch (event.kind) {
    case Kind::Command: {
        QStringList parts;
        for (const QByteArray &part : event.command.parts)
            parts.append(QString::fromLatin1(part).replace(u'\r', u"\\r"_s).replace(u'\n', u"\\n"_s));
        return u"command %1 %2 [%3]"_s.arg(tag, name, parts.join(u'|'));
    }
    case Kind::ContinuationRequest:
        return u"continue %1 %2"_s.arg(tag, name);
    case Kind::Refused:
        return u"refused %1 %2 %3%4"_s.arg(tag, name, faultName(event.fault),
                                           event.mustClose ? u" close"_s : QString());
    }
    return {};
}

QStringList eventsOf(ImapCommandReader &reader)
{
    QStringList events;
    while (const auto event = reader.next())
        events.append(describe(*event));
    return events;
}

QStringList feedWhole(const QByteArray &input)
{
    ImapCommandReader reader(testLimits());
    reader.append(input);
    return eventsOf(reader);
}

QStringList feedBytewise(const QByteArray &input)
{
    ImapCommandReader reader(testLimits());
    QStringList events;
    for (const char byte : input) {
        reader.append(QByteArrayView(&byte, 1));
        events += eventsOf(reader);
    }
    return events;
}

QStringList feedSplit(const QByteArray &input, qsizetype at)
{
    ImapCommandReader reader(testLimits());
    reader.append(input.first(at));
    QStringList events = eventsOf(reader);
    reader.append(input.sliced(at));
    return events + eventsOf(reader);
}

} // namespace

class TestImapCommandReader : public QObject
{
    Q_OBJECT

private slots:
    void events_data();
    void events();
    void literalMarker_data();
    void literalMarker();
    void tags_data();
    void tags();
    void linesBetweenCommands();
    void defaultLimitsFollowTheSpec();
    void manyLiteralsInOneCommand();
};

void TestImapCommandReader::events_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("expected");
    const QByteArray x70(70, 'x');

    QTest::newRow("a command") << "a1 NOOP\r\n"_ba << QStringList{u"command a1 NOOP []"_s};
    QTest::newRow("LF alone ends a line too") << "a1 NOOP\n"_ba << QStringList{u"command a1 NOOP []"_s};
    QTest::newRow("arguments follow the name")
        << "a2 LOGIN joe secret\r\n"_ba << QStringList{u"command a2 LOGIN [ joe secret]"_s};
    QTest::newRow("two commands in one write")
        << "a1 NOOP\r\na2 CAPABILITY\r\n"_ba << QStringList{u"command a1 NOOP []"_s, u"command a2 CAPABILITY []"_s};
    QTest::newRow("UID FETCH: the name is UID")
        << "7 UID FETCH 1:* (FLAGS)\r\n"_ba << QStringList{u"command 7 UID [ FETCH 1:* (FLAGS)]"_s};
    QTest::newRow("synchronizing literals")
        << "a3 LOGIN {3}\r\njoe {6}\r\nsecret\r\n"_ba
        << QStringList{u"continue a3 LOGIN"_s, u"continue a3 LOGIN"_s,
                       u"command a3 LOGIN [ {3}|joe| {6}|secret|]"_s};
    QTest::newRow("non-synchronizing literal: no continuation")
        << "a4 LOGIN {3+}\r\njoe pw\r\n"_ba << QStringList{u"command a4 LOGIN [ {3+}|joe| pw]"_s};
    QTest::newRow("a literal holds CR and LF")
        << "a5 APPEND INBOX {7}\r\nHi\r\n\r\nX\r\n"_ba
        << QStringList{u"continue a5 APPEND"_s, u"command a5 APPEND [ INBOX {7}|Hi\\r\\n\\r\\nX|]"_s};
    QTest::newRow("an empty literal") << "a6 LOGIN {0}\r\n pw\r\n"_ba
                                      << QStringList{u"continue a6 LOGIN"_s, u"command a6 LOGIN [ {0}|| pw]"_s};
    QTest::newRow("binary literal (RFC 3516)")
        << "b1 APPEND INBOX ~{2}\r\nhi\r\n"_ba
        << QStringList{u"continue b1 APPEND"_s, u"command b1 APPEND [ INBOX ~{2}|hi|]"_s};
    QTest::newRow("a marker inside a quoted string is text")
        << "a7 SEARCH TEXT \"abc {5}\r\n"_ba << QStringList{u"command a7 SEARCH [ TEXT \"abc {5}]"_s};
    QTest::newRow("an escaped quote does not end the string")
        << "a8 SEARCH TEXT \"a\\\" {5}\r\n"_ba << QStringList{u"command a8 SEARCH [ TEXT \"a\\\" {5}]"_s};
    QTest::newRow("an escaped backslash does")
        << "a9 SEARCH TEXT \"a\\\\\" {2}\r\nhi\r\n"_ba
        << QStringList{u"continue a9 SEARCH"_s, u"command a9 SEARCH [ TEXT \"a\\\\\" {2}|hi|]"_s};

    // Tags and names.
    QTest::newRow("an empty line") << "\r\na1 NOOP\r\n"_ba
                                   << QStringList{u"refused   bad-tag"_s, u"command a1 NOOP []"_s};
    QTest::newRow("* is no tag") << "* NOOP\r\n"_ba << QStringList{u"refused   bad-tag"_s};
    QTest::newRow("+ is not in a tag") << "a+b NOOP\r\n"_ba << QStringList{u"refused   bad-tag"_s};
    QTest::newRow("a tag alone") << "a1\r\n"_ba << QStringList{u"refused a1  no-command"_s};
    QTest::newRow("] is in a tag") << "a] NOOP\r\n"_ba << QStringList{u"command a] NOOP []"_s};
    QTest::newRow("the name ends at a special")
        << "a1 LOGIN(x)\r\n"_ba << QStringList{u"command a1 LOGIN [(x)]"_s};

    // Limits (testLimits()).
    QTest::newRow("a line over the limit, then the next command")
        << QByteArray("a1 NOOP "_ba + x70 + "\r\na2 NOOP\r\n"_ba)
        << QStringList{u"refused   line-too-long"_s, u"command a2 NOOP []"_s};
    QTest::newRow("a line just within the limit: 64 with CRLF")
        << QByteArray("a1 NOOP "_ba + QByteArray(54, 'y') + "\r\n"_ba)
        << QStringList{u"command a1 NOOP [ "_s + QString(54, u'y') + u"]"_s};
    QTest::newRow("a line after a literal over the limit keeps its tag")
        << QByteArray("a1 LOGIN {2}\r\nab"_ba + x70 + "\r\na2 NOOP\r\n"_ba)
        << QStringList{u"continue a1 LOGIN"_s, u"refused a1 LOGIN line-too-long"_s, u"command a2 NOOP []"_s};
    QTest::newRow("a synchronizing literal over the limit is not invited")
        << "a1 LOGIN {11}\r\na2 NOOP\r\n"_ba
        << QStringList{u"refused a1 LOGIN literal-too-large"_s, u"command a2 NOOP []"_s};
    QTest::newRow("a non-synchronizing one: refused, then nothing is read")
        << "a1 LOGIN {11+}\r\nxxxxxxxxxxx\r\na2 NOOP\r\n"_ba
        << QStringList{u"refused a1 LOGIN literal-too-large close"_s};
    QTest::newRow("APPEND's literals may be larger")
        << QByteArray("a1 APPEND INBOX {15}\r\n"_ba + QByteArray(15, 'm') + "\r\n"_ba)
        << QStringList{u"continue a1 APPEND"_s, u"command a1 APPEND [ INBOX {15}|mmmmmmmmmmmmmmm|]"_s};
    QTest::newRow("but not over APPENDLIMIT")
        << "a1 append INBOX {21}\r\na2 NOOP\r\n"_ba
        << QStringList{u"refused a1 append literal-too-large"_s, u"command a2 NOOP []"_s};
    QTest::newRow("many literals: the command's bound")
        << "a1 X {10+}\r\n0123456789 {10+}\r\n0123456789 {10+}\r\n0123456789 {10+}\r\n0123456789 {10+}\r\n"
           "0123456789 {10+}\r\n0123456789\r\n"_ba
        << QStringList{u"refused a1 X command-too-large close"_s};
    QTest::newRow("a marker with no number")
        << "a1 LOGIN {x}\r\na2 NOOP\r\n"_ba << QStringList{u"refused a1 LOGIN bad-literal"_s, u"command a2 NOOP []"_s};
    QTest::newRow("a number past number64")
        << "a1 LOGIN {99999999999999999999}\r\na2 NOOP\r\n"_ba
        << QStringList{u"refused a1 LOGIN bad-literal"_s, u"command a2 NOOP []"_s};
    QTest::newRow("an empty marker") << "a1 LOGIN {}\r\n"_ba << QStringList{u"refused a1 LOGIN bad-literal"_s};
    QTest::newRow("a literal not yet whole is no command")
        << "a1 LOGIN {5}\r\nab"_ba << QStringList{u"continue a1 LOGIN"_s};
}

void TestImapCommandReader::events()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, expected);
    QCOMPARE(feedWhole(input), expected);
    QCOMPARE(feedBytewise(input), expected);
    for (qsizetype at = 1; at < input.size(); ++at) {
        const QStringList split = feedSplit(input, at);
        if (split != expected)
            QFAIL(qPrintable(u"split at %1: %2"_s.arg(at).arg(split.join(u" / "_s))));
    }
}

void TestImapCommandReader::literalMarker_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("isMarker");
    QTest::addColumn<qint64>("size");
    QTest::addColumn<bool>("synchronizing");
    QTest::newRow("sync") << "x {12}"_ba << true << qint64(12) << true;
    QTest::newRow("non-sync") << "x {12+}"_ba << true << qint64(12) << false;
    QTest::newRow("binary") << "x ~{3}"_ba << true << qint64(3) << true;
    QTest::newRow("zero") << "{0}"_ba << true << qint64(0) << true;
    QTest::newRow("18 digits") << "{999999999999999999}"_ba << true << qint64(999999999999999999) << true;
    QTest::newRow("19 digits: unreadable") << "{9999999999999999999}"_ba << true << qint64(-1) << true;
    QTest::newRow("a sign") << "{-1}"_ba << true << qint64(-1) << true;
    QTest::newRow("plus alone") << "{+}"_ba << true << qint64(-1) << false;
    QTest::newRow("no brace") << "x 12}"_ba << false << qint64(0) << true;
    QTest::newRow("not at the end") << "x {12} y"_ba << false << qint64(0) << true;
    QTest::newRow("quoted") << "\"{12}"_ba << false << qint64(0) << true;
    QTest::newRow("after a closed quote") << "\"a\" {12}"_ba << true << qint64(12) << true;
    QTest::newRow("escaped quote inside") << "\"a\\\"{12}"_ba << false << qint64(0) << true;
}

void TestImapCommandReader::literalMarker()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, isMarker);
    QFETCH(qint64, size);
    QFETCH(bool, synchronizing);
    const auto marker = ImapCommandReader::literalMarker(line);
    QCOMPARE(marker.has_value(), isMarker);
    if (marker) {
        QCOMPARE(marker->size, size);
        QCOMPARE(marker->synchronizing, synchronizing);
    }
}

void TestImapCommandReader::tags_data()
{
    QTest::addColumn<QByteArray>("tag");
    QTest::addColumn<bool>("valid");
    QTest::newRow("letters and digits") << "A001"_ba << true;
    QTest::newRow("punctuation imaplib uses") << "ABCD1"_ba << true;
    QTest::newRow("dots and brackets") << "a.b]c"_ba << true;
    QTest::newRow("empty") << ""_ba << false;
    QTest::newRow("plus") << "a+"_ba << false;
    QTest::newRow("star") << "*"_ba << false;
    QTest::newRow("percent") << "a%"_ba << false;
    QTest::newRow("quote") << "a\""_ba << false;
    QTest::newRow("brace") << "a{"_ba << false;
    QTest::newRow("control") << "a\x01"_ba << false;
    QTest::newRow("8-bit") << "a\xc3\xa9"_ba << false;
}

void TestImapCommandReader::tags()
{
    QFETCH(QByteArray, tag);
    QFETCH(bool, valid);
    QCOMPARE(ImapCommandReader::isTag(tag), valid);
}

// AUTHENTICATE's responses and IDLE's DONE are lines, not commands; they
// are taken between commands only.
void TestImapCommandReader::linesBetweenCommands()
{
    ImapCommandReader reader(testLimits());
    reader.append("a1 IDLE\r\nDONE\r\na2 NOOP\r\n"_ba);
    const auto idle = reader.next();
    QVERIFY(idle);
    QCOMPARE(describe(*idle), u"command a1 IDLE []"_s);
    const auto done = reader.nextLine();
    QVERIFY(done);
    QCOMPARE(done->text, "DONE"_ba);
    QCOMPARE(describe(*reader.next()), u"command a2 NOOP []"_s);

    // Inside a command (a literal invited and not sent yet): no line.
    reader.append("a3 LOGIN {3}\r\n"_ba);
    QCOMPARE(describe(*reader.next()), u"continue a3 LOGIN"_s);
    QVERIFY(!reader.isBetweenCommands());
    reader.append("joe\r\n"_ba);
    QVERIFY(!reader.nextLine());
    QCOMPARE(describe(*reader.next()), u"command a3 LOGIN [ {3}|joe|]"_s);
    QVERIFY(reader.isBetweenCommands());
}

// Command lines up to 64 KiB apart from literals; APPEND's literal up to
// the message size limit, 25 MiB by default.
void TestImapCommandReader::defaultLimitsFollowTheSpec()
{
    ImapCommandReader reader;
    const QByteArray longest = "a1 NOOP "_ba + QByteArray(64 * 1024 - 10, 'x') + "\r\n"_ba;
    QCOMPARE(longest.size(), 64 * 1024);
    reader.append(longest);
    QCOMPARE(reader.next()->kind, ImapCommandReader::Event::Kind::Command);
    reader.append(QByteArray("a2 NOOP "_ba + QByteArray(64 * 1024 - 9, 'x') + "\r\n"_ba));
    QCOMPARE(reader.next()->fault, ImapCommandReader::Fault::LineTooLong);
    reader.append("a3 APPEND INBOX {26214400}\r\n"_ba);
    QCOMPARE(reader.next()->kind, ImapCommandReader::Event::Kind::ContinuationRequest);

    ImapCommandReader other;
    other.append("a4 APPEND INBOX {26214401}\r\n"_ba);
    QCOMPARE(other.next()->fault, ImapCommandReader::Fault::LiteralTooLarge);
}

// 150,000 empty non-synchronizing literals fit in the 1 MiB bound of one
// command (7 bytes a line): read one after another, never one nested in
// the reading of the one before (which overflowed the stack).
void TestImapCommandReader::manyLiteralsInOneCommand()
{
    ImapCommandReader reader;
    constexpr int Literals = 140000;
    QByteArray input = "a1 SEARCH TEXT";
    for (int i = 0; i < Literals; ++i)
        input += " {0+}\r\n";
    input += "\r\n";
    reader.append(input);
    const auto event = reader.next();
    QVERIFY(event);
    QCOMPARE(event->kind, ImapCommandReader::Event::Kind::Command);
    QCOMPARE(event->command.parts.size(), 2 * Literals + 1);

    // And past the bound: refused, the connection to close.
    ImapCommandReader over;
    QByteArray tooMany = "a2 SEARCH TEXT";
    for (int i = 0; i < 160000; ++i)
        tooMany += " {0+}\r\n";
    over.append(tooMany);
    const auto refused = over.next();
    QVERIFY(refused);
    QCOMPARE(refused->fault, ImapCommandReader::Fault::CommandTooLarge);
    QVERIFY(refused->mustClose);
    QVERIFY(!over.next());
}

QTEST_GUILESS_MAIN(TestImapCommandReader)
#include "tst_imapcommandreader.moc"
