// CommandLineBuffer: whole lines out of bytes as they come, long lines
// reported once, and literals (RFC 9051 §4.3, §7.5; RFC 7888's
// non-synchronizing "{N+}"): N bytes handed over raw, CR and LF included,
// the size checked before a byte of it is held, a refused literal skipped
// without being buffered. Each row runs whole, byte by byte, and split in
// two at every boundary.

#include "commandlinebuffer.h"

#include <QTest>

#include <optional>

namespace {

// A line ending "{N}" or "{N+}" announces a literal.
std::optional<std::pair<qsizetype, bool>> announcedLiteral(const QByteArray &line)
{
    if (!line.endsWith('}'))
        return std::nullopt;
    const qsizetype open = line.lastIndexOf('{');
    if (open < 0)
        return std::nullopt;
    QByteArray number = line.mid(open + 1, line.size() - open - 2);
    const bool nonSynchronizing = number.endsWith('+');
    if (nonSynchronizing)
        number.chop(1);
    bool ok = false;
    const qsizetype size = number.toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    return std::pair{size, nonSynchronizing};
}

struct Run
{
    QByteArrayList events;
    qsizetype mostHeld = 0; // the most bytes the buffer held at once
};

// What a session would see: "L:line", "TOO LONG", "X:literal", "R:N" (refused).
Run run(const QList<QByteArray> &chunks, qsizetype maxLine, qsizetype maxLiteral)
{
    CommandLineBuffer buffer(maxLine, maxLiteral);
    Run result;
    for (const QByteArray &chunk : chunks) {
        buffer.append(chunk);
        result.mostHeld = std::max(result.mostHeld, buffer.unread().size());
        for (;;) {
            if (buffer.isInLiteral()) {
                const std::optional<QByteArray> literal = buffer.takeLiteral();
                if (!literal)
                    break;
                result.events.append("X:" + *literal);
                continue;
            }
            const std::optional<CommandLineBuffer::Line> line = buffer.takeLine();
            if (!line)
                break;
            if (line->tooLong) {
                result.events.append("TOO LONG");
                continue;
            }
            result.events.append("L:" + line->text);
            if (const auto literal = announcedLiteral(line->text)) {
                if (buffer.expectLiteral(literal->first) == CommandLineBuffer::LiteralStart::TooLarge) {
                    result.events.append("R:" + QByteArray::number(literal->first));
                    if (literal->second)
                        buffer.discardLiteral(literal->first);
                }
            }
        }
    }
    return result;
}

QList<QList<QByteArray>> splits(const QByteArray &input)
{
    QList<QList<QByteArray>> ways{{input}};
    QList<QByteArray> bytes;
    for (const char c : input)
        bytes.append(QByteArray(1, c));
    ways.append(bytes);
    for (qsizetype i = 1; i < input.size(); ++i)
        ways.append({input.first(i), input.sliced(i)});
    return ways;
}

} // namespace

class TestCommandLineBuffer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void framing_data();
    void framing();
    void refusedLiteralIsNeverHeld();
    void literalWaitsForAllItsBytes();
    void hasWholeLineCountsTheLiteral();
    void clearForgetsTheLiteral();
};

void TestCommandLineBuffer::framing_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("maxLine");
    QTest::addColumn<int>("maxLiteral");
    QTest::addColumn<QByteArrayList>("events");

    QTest::newRow("lines") << QByteArray("A\r\nB\nC\r\n") << 16 << 0 << QByteArrayList{"L:A", "L:B", "L:C"};
    QTest::newRow("too long, once") << QByteArray("0123456789ABCDEF0123\r\nB\r\n") << 16 << 0
                                    << QByteArrayList{"TOO LONG", "L:B"};
    QTest::newRow("literal with CR and LF") << QByteArray("A {7}\r\nab\r\nc\nd\r\nB\r\n") << 64 << 100
                                            << QByteArrayList{"L:A {7}", "X:ab\r\nc\nd", "L:", "L:B"};
    QTest::newRow("literal then the rest of the command")
        << QByteArray("a APPEND x {3}\r\nabc FLAGS\r\n") << 64 << 100
        << QByteArrayList{"L:a APPEND x {3}", "X:abc", "L: FLAGS"};
    QTest::newRow("empty literal") << QByteArray("A {0}\r\n\r\nB\r\n") << 64 << 100
                                   << QByteArrayList{"L:A {0}", "X:", "L:", "L:B"};
    const QByteArray forty = "0123456789012345678901234567890123456789";
    QTest::newRow("literal longer than a line") << QByteArray("A {40}\r\n" + forty + "\r\n") << 16 << 100
                                                << QByteArrayList{"L:A {40}", "X:" + forty, "L:"};
    QTest::newRow("literal that looks like lines") << QByteArray("A {6}\r\nB\r\nC\r\n\r\n") << 64 << 100
                                                   << QByteArrayList{"L:A {6}", "X:B\r\nC\r\n", "L:"};
    QTest::newRow("two literals") << QByteArray("A {1}\r\nx {2}\r\nyz\r\n") << 64 << 100
                                  << QByteArrayList{"L:A {1}", "X:x", "L: {2}", "X:yz", "L:"};
    QTest::newRow("at the limit") << QByteArray("A {4}\r\nabcd\r\n") << 64 << 4
                                  << QByteArrayList{"L:A {4}", "X:abcd", "L:"};
    QTest::newRow("synchronizing, too large: nothing comes") << QByteArray("A {5}\r\nB\r\n") << 64 << 4
                                                             << QByteArrayList{"L:A {5}", "R:5", "L:B"};
    QTest::newRow("non-synchronizing, too large: skipped")
        << QByteArray("A {5+}\r\nab\r\ncB\r\n") << 64 << 4 << QByteArrayList{"L:A {5+}", "R:5", "L:B"};
    QTest::newRow("no literals at all") << QByteArray("A {1}\r\nB\r\n") << 64 << 0
                                        << QByteArrayList{"L:A {1}", "R:1", "L:B"};
}

void TestCommandLineBuffer::framing()
{
    QFETCH(QByteArray, input);
    QFETCH(int, maxLine);
    QFETCH(int, maxLiteral);
    QFETCH(QByteArrayList, events);
    for (const QList<QByteArray> &chunks : splits(input)) {
        const Run result = run(chunks, maxLine, maxLiteral);
        QCOMPARE(result.events, events);
    }
}

void TestCommandLineBuffer::refusedLiteralIsNeverHeld()
{
    // 1 MiB sent after a refused "{N+}": the buffer never holds more than a
    // line's worth, however the bytes come.
    const QByteArray literal(1 << 20, 'x');
    const QByteArray input = "A {" + QByteArray::number(literal.size()) + "+}\r\n" + literal + "B\r\n";
    for (const qsizetype chunk : {qsizetype(1), qsizetype(7), qsizetype(4096), input.size()}) {
        QList<QByteArray> chunks;
        for (qsizetype at = 0; at < input.size(); at += chunk)
            chunks.append(input.mid(at, chunk));
        const Run result = run(chunks, 64, 1024);
        QCOMPARE(result.events, (QByteArrayList{"L:A {1048576+}", "R:1048576", "L:B"}));
        // Whole: the input arrives before the line is read, and is dropped then.
        if (chunk != input.size())
            QVERIFY2(result.mostHeld <= 64 + chunk, qPrintable(QString::number(result.mostHeld)));
    }
}

void TestCommandLineBuffer::literalWaitsForAllItsBytes()
{
    CommandLineBuffer buffer(64, 100);
    buffer.append("A {5}\r\nab");
    QCOMPARE(buffer.takeLine()->text, QByteArray("A {5}"));
    QCOMPARE(buffer.expectLiteral(5), CommandLineBuffer::LiteralStart::Accepted);
    QVERIFY(buffer.isInLiteral());
    QCOMPARE(buffer.literalBytesMissing(), 3);
    QVERIFY(!buffer.takeLiteral());
    QVERIFY(!buffer.takeLine()); // a literal is not read as lines
    buffer.append("\r\n");
    QCOMPARE(buffer.literalBytesMissing(), 1);
    buffer.append("c\r\n");
    QCOMPARE(buffer.takeLiteral(), QByteArray("ab\r\nc"));
    QVERIFY(!buffer.isInLiteral());
    QCOMPARE(buffer.takeLine()->text, QByteArray());
    QVERIFY(buffer.isEmpty());
}

void TestCommandLineBuffer::hasWholeLineCountsTheLiteral()
{
    CommandLineBuffer buffer(64, 100);
    buffer.append("A {3}\r\n");
    QVERIFY(buffer.takeLine());
    QCOMPARE(buffer.expectLiteral(3), CommandLineBuffer::LiteralStart::Accepted);
    buffer.append("a\n");
    QVERIFY(!buffer.hasWholeLine()); // an LF inside a literal ends nothing
    buffer.append("b");
    QVERIFY(buffer.hasWholeLine());
}

void TestCommandLineBuffer::clearForgetsTheLiteral()
{
    CommandLineBuffer buffer(64, 100);
    buffer.append("A {3}\r\n");
    QVERIFY(buffer.takeLine());
    QCOMPARE(buffer.expectLiteral(3), CommandLineBuffer::LiteralStart::Accepted);
    buffer.clear();
    QVERIFY(!buffer.isInLiteral());
    buffer.append("B\r\n");
    QCOMPARE(buffer.takeLine()->text, QByteArray("B"));
}

QTEST_GUILESS_MAIN(TestCommandLineBuffer)
#include "tst_commandlinebuffer.moc"
