// SmtpReplyParser: raw server bytes in, SmtpReply values out (RFC 5321 §4.2,
// RFC 2034/3463 enhanced codes). Every row is parsed three ways: in one
// append(), split in two at every byte boundary, and one byte at a time; the
// replies (and the error, if any) must be the same each time, and a reply may
// only come out once the last line of it is in.

#include "smtpreply.h"

#include <QTest>

using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(SmtpReply)

namespace {

struct Parsed
{
    QList<SmtpReply> replies;
    bool error = false;
    QString errorString;
    // offsets of the byte after which each reply came out (one-byte feeding)
    QList<qsizetype> emittedAt;
};

Parsed parsePieces(const QList<QByteArray> &pieces)
{
    SmtpReplyParser parser;
    Parsed out;
    qsizetype fed = 0;
    for (const QByteArray &piece : pieces) {
        parser.append(piece);
        fed += piece.size();
        while (const std::optional<SmtpReply> reply = parser.next()) {
            out.replies.append(*reply);
            out.emittedAt.append(fed - 1);
        }
    }
    out.error = parser.hasError();
    out.errorString = parser.errorString();
    return out;
}

QList<QByteArray> splitAt(const QByteArray &bytes, qsizetype at)
{
    return {bytes.left(at), bytes.mid(at)};
}

QList<QByteArray> bytewise(const QByteArray &bytes)
{
    QList<QByteArray> pieces;
    for (char c : bytes)
        pieces.append(QByteArray(1, c));
    return pieces;
}

// Is the line that ends with the '\n' at `newline` the last line of a reply
// ("ddd", "ddd text"), worked out here independently of the parser?
bool endsReply(const QByteArray &input, qsizetype newline)
{
    if (newline < 0 || newline >= input.size() || input.at(newline) != '\n')
        return false;
    const qsizetype start = input.lastIndexOf('\n', newline - 1) + 1;
    QByteArray line = input.mid(start, newline - start);
    if (line.endsWith('\r'))
        line.chop(1);
    return line.size() == 3 || (line.size() > 3 && line.at(3) == ' ');
}

SmtpReply reply(int code, const QString &enhanced, const QStringList &lines)
{
    return SmtpReply{code, enhanced, lines};
}

QByteArray manyLines(int count)
{
    QByteArray bytes;
    for (int i = 1; i < count; ++i)
        bytes += "250-line " + QByteArray::number(i) + "\r\n";
    bytes += "250 line " + QByteArray::number(count) + "\r\n";
    return bytes;
}

QStringList manyTexts(int count)
{
    QStringList lines;
    for (int i = 1; i <= count; ++i)
        lines.append(u"line "_s + QString::number(i));
    return lines;
}

} // namespace

class TestSmtpReply : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void errors_data();
    void errors();
    void bufferedBytes();
    void textAndToString();
    void qtestToString();
};

void TestSmtpReply::parse_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QList<SmtpReply>>("expected");

    QTest::newRow("greeting") << "220 mx.project.com ESMTP Mailroom\r\n"_ba
                              << QList<SmtpReply>{reply(220, {}, {u"mx.project.com ESMTP Mailroom"_s})};
    QTest::newRow("single line, enhanced code")
        << "250 2.1.0 OK\r\n"_ba << QList<SmtpReply>{reply(250, u"2.1.0"_s, {u"OK"_s})};
    QTest::newRow("535 as the server puts it")
        << "535 5.7.8 Authentication credentials invalid\r\n"_ba
        << QList<SmtpReply>{reply(535, u"5.7.8"_s, {u"Authentication credentials invalid"_s})};
    QTest::newRow("multi-line") << "250-a\r\n250-b\r\n250 c\r\n"_ba
                                << QList<SmtpReply>{reply(250, {}, {u"a"_s, u"b"_s, u"c"_s})};
    QTest::newRow("EHLO before TLS")
        << "250-mx.project.com\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n"
           "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"_ba
        << QList<SmtpReply>{reply(250, {},
                                  {u"mx.project.com"_s, u"PIPELINING"_s, u"SIZE 26214400"_s, u"8BITMIME"_s,
                                   u"ENHANCEDSTATUSCODES"_s, u"STARTTLS"_s})};
    QTest::newRow("multi-line, enhanced code on every line")
        << "550-5.7.1 first\r\n550 5.7.1 second\r\n"_ba
        << QList<SmtpReply>{reply(550, u"5.7.1"_s, {u"first"_s, u"second"_s})};
    QTest::newRow("enhanced class differs from the code's: kept as text")
        << "250 5.7.1 odd\r\n"_ba << QList<SmtpReply>{reply(250, {}, {u"5.7.1 odd"_s})};
    QTest::newRow("enhanced class 4 on a 5xx reply: kept as text")
        << "550 4.2.2 mailbox full\r\n"_ba << QList<SmtpReply>{reply(550, {}, {u"4.2.2 mailbox full"_s})};
    QTest::newRow("enhanced class 3 does not exist: kept as text")
        << "354 3.0.0 go ahead\r\n"_ba << QList<SmtpReply>{reply(354, {}, {u"3.0.0 go ahead"_s})};
    QTest::newRow("enhanced code with three-digit parts")
        << "451 4.123.456 busy\r\n"_ba << QList<SmtpReply>{reply(451, u"4.123.456"_s, {u"busy"_s})};
    QTest::newRow("four digits in a part: not an enhanced code")
        << "550 5.1234.1 x\r\n"_ba << QList<SmtpReply>{reply(550, {}, {u"5.1234.1 x"_s})};
    QTest::newRow("enhanced code glued to text: not an enhanced code")
        << "250 2.0.0x\r\n"_ba << QList<SmtpReply>{reply(250, {}, {u"2.0.0x"_s})};
    QTest::newRow("enhanced code and no text")
        << "250 2.0.0\r\n"_ba << QList<SmtpReply>{reply(250, u"2.0.0"_s, {QString()})};
    QTest::newRow("later line with another enhanced code keeps it")
        << "250-2.0.0 a\r\n250 2.1.0 b\r\n"_ba
        << QList<SmtpReply>{reply(250, u"2.0.0"_s, {u"a"_s, u"2.1.0 b"_s})};
    QTest::newRow("enhanced code only on a later line is text")
        << "250-a\r\n250 2.0.0 b\r\n"_ba << QList<SmtpReply>{reply(250, {}, {u"a"_s, u"2.0.0 b"_s})};
    QTest::newRow("bare code") << "250\r\n"_ba << QList<SmtpReply>{reply(250, {}, {QString()})};
    QTest::newRow("code and space") << "250 \r\n"_ba << QList<SmtpReply>{reply(250, {}, {QString()})};
    QTest::newRow("bare continuation lines")
        << "250-\r\n250\r\n"_ba << QList<SmtpReply>{reply(250, {}, {QString(), QString()})};
    QTest::newRow("LF line ends") << "250-a\n250 b\n"_ba << QList<SmtpReply>{reply(250, {}, {u"a"_s, u"b"_s})};
    QTest::newRow("mixed line ends") << "250-a\r\n250 b\n"_ba << QList<SmtpReply>{reply(250, {}, {u"a"_s, u"b"_s})};
    QTest::newRow("two replies in one buffer")
        << "220 2.0.0 Ready to start TLS\r\n250 2.0.0 PONG\r\n"_ba
        << QList<SmtpReply>{reply(220, u"2.0.0"_s, {u"Ready to start TLS"_s}),
                            reply(250, u"2.0.0"_s, {u"PONG"_s})};
    QTest::newRow("multi-line then single-line")
        << "250-x\r\n250 y\r\n354 End data with <CR><LF>.<CR><LF>\r\n"_ba
        << QList<SmtpReply>{reply(250, {}, {u"x"_s, u"y"_s}),
                            reply(354, {}, {u"End data with <CR><LF>.<CR><LF>"_s})};
    QTest::newRow("UTF-8 text") << "250 h\xc3\xa9llo\r\n"_ba << QList<SmtpReply>{reply(250, {}, {u"h\u00e9llo"_s})};
    QTest::newRow("incomplete last line is held back")
        << "250 done\r\n250 not yet"_ba << QList<SmtpReply>{reply(250, {}, {u"done"_s})};
    QTest::newRow("incomplete multi-line reply is held back") << "250-a\r\n250-b\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("nothing") << QByteArray() << QList<SmtpReply>{};

    // MaxLineLength counts the bytes before the LF, a CR included.
    const QByteArray longest = "250 " + QByteArray(SmtpReplyParser::MaxLineLength - 5, 'x') + "\r\n";
    QTest::newRow("line of exactly MaxLineLength")
        << longest << QList<SmtpReply>{reply(250, {}, {QString(SmtpReplyParser::MaxLineLength - 5, u'x')})};
    QTest::newRow("MaxLines lines") << manyLines(SmtpReplyParser::MaxLines)
                                    << QList<SmtpReply>{reply(250, {}, manyTexts(SmtpReplyParser::MaxLines))};
}

void TestSmtpReply::parse()
{
    QFETCH(QByteArray, input);
    QFETCH(QList<SmtpReply>, expected);

    const Parsed whole = parsePieces({input});
    QCOMPARE(whole.replies, expected);
    QVERIFY2(!whole.error, qPrintable(whole.errorString));

    for (qsizetype at = 1; at < input.size(); ++at) {
        const Parsed split = parsePieces(splitAt(input, at));
        if (split.replies != expected || split.error)
            QFAIL(qPrintable(u"split at byte %1: %2 replies, error \"%3\""_s.arg(at).arg(split.replies.size())
                                 .arg(split.errorString)));
    }

    const Parsed single = parsePieces(bytewise(input));
    QCOMPARE(single.replies, expected);
    QVERIFY2(!single.error, qPrintable(single.errorString));
    // A reply comes out exactly when the LF of its last line is fed.
    QCOMPARE(single.emittedAt.size(), expected.size());
    qsizetype previous = -1;
    for (qsizetype i = 0; i < single.emittedAt.size(); ++i) {
        const qsizetype at = single.emittedAt.at(i);
        QVERIFY2(endsReply(input, at), qPrintable(u"reply %1 came out after byte %2, which does not end a reply"_s
                                                       .arg(i).arg(at)));
        // ... and not later: no other reply-ending LF lies between the previous one and this one
        for (qsizetype j = previous + 1; j < at; ++j)
            QVERIFY2(!endsReply(input, j), qPrintable(u"reply %1 was complete at byte %2 but came out at %3"_s
                                                           .arg(i).arg(j).arg(at)));
        previous = at;
    }
}

void TestSmtpReply::errors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QList<SmtpReply>>("before"); // replies that come out before the error

    QTest::newRow("non-digit code") << "25x ok\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("letters") << "hello there\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("HTTP answer") << "HTTP/1.1 400 Bad Request\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("code too short") << "25\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("empty line") << "\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("code starting with 1") << "199 informational\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("code starting with 6") << "650 x\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("code starting with 0") << "050 x\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("no space or dash after code") << "250ok\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("four-digit code") << "2500 ok\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("tab after code") << "250\tok\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("mixed codes in one reply") << "250-a\r\n251 b\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("mixed codes in continuation lines") << "250-a\r\n550-b\r\n250 c\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("bad line after a good reply")
        << "250 ok\r\nnonsense\r\n"_ba << QList<SmtpReply>{reply(250, {}, {u"ok"_s})};
    QTest::newRow("good reply after a bad line is not given") << "nonsense\r\n250 ok\r\n"_ba << QList<SmtpReply>{};
    QTest::newRow("line over MaxLineLength")
        << "250 " + QByteArray(SmtpReplyParser::MaxLineLength - 4, 'x') + "\r\n" << QList<SmtpReply>{};
    QTest::newRow("line over MaxLineLength, LF only")
        << "250 " + QByteArray(SmtpReplyParser::MaxLineLength - 3, 'x') + "\n" << QList<SmtpReply>{};
    QTest::newRow("line over MaxLineLength without newline")
        << "250 " + QByteArray(SmtpReplyParser::MaxLineLength, 'x') << QList<SmtpReply>{};
    QTest::newRow("long continuation line after a reply")
        << "220 hi\r\n250-" + QByteArray(SmtpReplyParser::MaxLineLength + 10, 'y')
        << QList<SmtpReply>{reply(220, {}, {u"hi"_s})};
    QTest::newRow("over MaxLines lines") << manyLines(SmtpReplyParser::MaxLines + 1) << QList<SmtpReply>{};
}

void TestSmtpReply::errors()
{
    QFETCH(QByteArray, input);
    QFETCH(QList<SmtpReply>, before);

    const Parsed whole = parsePieces({input});
    QCOMPARE(whole.replies, before);
    QVERIFY(whole.error);
    QVERIFY(!whole.errorString.isEmpty());

    for (qsizetype at = 1; at < input.size(); ++at) {
        const Parsed split = parsePieces(splitAt(input, at));
        if (split.replies != before || !split.error || split.errorString != whole.errorString)
            QFAIL(qPrintable(u"split at byte %1: %2 replies, error \"%3\""_s.arg(at).arg(split.replies.size())
                                 .arg(split.errorString)));
    }

    const Parsed single = parsePieces(bytewise(input));
    QCOMPARE(single.replies, before);
    QVERIFY(single.error);
    QCOMPARE(single.errorString, whole.errorString);

    // After an error nothing more comes out, whatever follows.
    SmtpReplyParser parser;
    parser.append(input);
    while (parser.next()) { }
    QVERIFY(parser.hasError());
    parser.append("250 2.0.0 OK\r\n"_ba);
    QVERIFY(!parser.next());
    QVERIFY(parser.hasError());
}

void TestSmtpReply::bufferedBytes()
{
    SmtpReplyParser parser;
    QCOMPARE(parser.bufferedBytes(), 0);
    parser.append("220 2.0.0 Ready to start TLS\r\n250 inj"_ba);
    QCOMPARE(parser.bufferedBytes(), 37);
    const std::optional<SmtpReply> first = parser.next();
    QVERIFY(first);
    QCOMPARE(first->code, 220);
    // what came after the reply is still there, and still not a reply
    QCOMPARE(parser.bufferedBytes(), 7);
    QVERIFY(!parser.next());
    QCOMPARE(parser.bufferedBytes(), 7);
    parser.append("ected\r\n"_ba);
    const std::optional<SmtpReply> second = parser.next();
    QVERIFY(second);
    QCOMPARE(*second, reply(250, {}, {u"injected"_s}));
    QCOMPARE(parser.bufferedBytes(), 0);
    QVERIFY(!parser.hasError());

    // a reply that uses up the buffer exactly leaves nothing behind
    SmtpReplyParser exact;
    exact.append("220 2.0.0 Ready to start TLS\r\n"_ba);
    QVERIFY(exact.next());
    QCOMPARE(exact.bufferedBytes(), 0);

    // a LF-only reply likewise
    SmtpReplyParser lf;
    lf.append("220 go\n2"_ba);
    QVERIFY(lf.next());
    QCOMPARE(lf.bufferedBytes(), 1);
}

void TestSmtpReply::textAndToString()
{
    const SmtpReply multi = reply(250, u"2.0.0"_s, {u"first"_s, u"second"_s});
    QCOMPARE(multi.text(), u"first second"_s);
    QCOMPARE(multi.toString(), u"250 2.0.0 first second"_s);
    QCOMPARE(reply(535, u"5.7.8"_s, {u"Authentication credentials invalid"_s}).toString(),
             u"535 5.7.8 Authentication credentials invalid"_s);
    QCOMPARE(reply(250, {}, {QString()}).toString(), u"250"_s);
    QCOMPARE(reply(250, u"2.0.0"_s, {QString()}).toString(), u"250 2.0.0"_s);
    QCOMPARE(reply(220, {}, {u"hi"_s}).toString(), u"220 hi"_s);

    QVERIFY(reply(250, {}, {}).isPositive());
    QVERIFY(reply(354, {}, {}).isPositive());
    QVERIFY(!reply(421, {}, {}).isPositive());
    QVERIFY(!reply(550, {}, {}).isPositive());
    QVERIFY(!SmtpReply().isPositive());
}

void TestSmtpReply::qtestToString()
{
    const std::unique_ptr<char[]> one(toString(reply(250, u"2.1.0"_s, {u"OK"_s})));
    QCOMPARE(QByteArray(one.get()), "250 2.1.0 OK"_ba);
    const std::unique_ptr<char[]> many(toString(reply(250, {}, {u"a"_s, u"b"_s, u"c"_s})));
    QCOMPARE(QByteArray(many.get()), "250 a b c (3 lines)"_ba);
}

QTEST_APPLESS_MAIN(TestSmtpReply)
#include "tst_smtpreply.moc"
