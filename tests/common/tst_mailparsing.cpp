#include "charsets.h"
#include "encodedwords.h"
#include "mailaddress.h"
#include "maildate.h"
#include "mailheaders.h"
#include "messagebuilder.h"
#include "mimemessage.h"
#include "transferencoding.h"

#include <QElapsedTimer>
#include <QTest>

#include <functional>

namespace {
// "name=value" per field, joined with "|".
QString describe(const HeaderBlock &block)
{
    QStringList fields;
    for (const HeaderField &field : block.fields())
        fields.append(QString::fromLatin1(field.name) + u'=' + QString::fromUtf8(field.value));
    return fields.join(u'|');
}

// "Name <address>" per mailbox, joined with "; ".
QString describe(const QList<MailAddress> &addresses)
{
    QStringList out;
    for (const MailAddress &address : addresses)
        out.append(address.name + QStringLiteral(" <") + address.address + u'>');
    return out.join(QStringLiteral("; "));
}

QString describeAttachments(const MimeMessage &message)
{
    QStringList out;
    for (const AttachmentInfo &attachment : message.attachments())
        out.append(attachment.filename + u':' + attachment.contentType + u':' + QString::number(attachment.size));
    return out.join(u'|');
}
} // namespace

class TestMailParsing : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void headerBlock_data();
    void headerBlock();
    void encodedWords_data();
    void encodedWords();
    void charsets_data();
    void charsets();
    void addressList_data();
    void addressList();
    void addressListLimit_data();
    void addressListLimit();
    void dates_data();
    void dates();
    void quotedPrintable_data();
    void quotedPrintable();
    void base64_data();
    void base64();
    void quotedPrintableEncodeRoundTrip_data();
    void quotedPrintableEncodeRoundTrip();
    void mimeParameters_data();
    void mimeParameters();
    void structure_data();
    void structure();
    void preview_data();
    void preview();
    void builderRoundTrip_data();
    void builderRoundTrip();
    void builderWritesWellFormedLines();
    void builderAttachments_data();
    void builderAttachments();
    void builderBoundaryNotInContent();
    void hostileInputIsBounded_data();
    void hostileInputIsBounded();
    void largeMessageWithManyParts();
};

void TestMailParsing::headerBlock_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("fields");
    QTest::addColumn<QByteArray>("body");

    QTest::newRow("simple") << QByteArray("Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n") << QStringLiteral("Subject= hi|From= a@b")
                            << QByteArray("body\r\n");
    QTest::newRow("LF only") << QByteArray("Subject: hi\nFrom: a@b\n\nbody\n") << QStringLiteral("Subject= hi|From= a@b")
                             << QByteArray("body\n");
    QTest::newRow("folded with space and tab")
        << QByteArray("Subject: one\r\n two\r\n\tthree\r\n\r\nb") << QStringLiteral("Subject= one two\tthree") << QByteArray("b");
    QTest::newRow("white space before colon (obsolete)") << QByteArray("Subject : hi\r\n\r\n") << QStringLiteral("Subject= hi")
                                                         << QByteArray();
    QTest::newRow("duplicate fields kept in order") << QByteArray("Received: a\r\nReceived: b\r\n\r\n")
                                                    << QStringLiteral("Received= a|Received= b") << QByteArray();
    QTest::newRow("mbox From line skipped") << QByteArray("From alice@x Mon Nov 22 2026\r\nSubject: s\r\n\r\nb")
                                            << QStringLiteral("Subject= s") << QByteArray("b");
    QTest::newRow("no headers at all") << QByteArray("just text\r\nmore\r\n") << QString() << QByteArray("just text\r\nmore\r\n");
    QTest::newRow("no body") << QByteArray("Subject: s\r\n") << QStringLiteral("Subject= s") << QByteArray();
    QTest::newRow("empty value") << QByteArray("Subject:\r\n\r\nb") << QStringLiteral("Subject=") << QByteArray("b");
    QTest::newRow("non-header line ends the headers")
        << QByteArray("Subject: s\r\nthis is body\r\n") << QStringLiteral("Subject= s") << QByteArray("this is body\r\n");
    QTest::newRow("continuation at the very start ignored") << QByteArray(" stray\r\nSubject: s\r\n\r\n")
                                                            << QStringLiteral("Subject= s") << QByteArray();
    QTest::newRow("998-character line") << QByteArray("X-Long: " + QByteArray(990, 'x') + "\r\n\r\n")
                                        << QString(QStringLiteral("X-Long= ") + QString(990, u'x')) << QByteArray();
    QTest::newRow("8-bit UTF-8 value kept as bytes") << QByteArray("Subject: caf\xc3\xa9\r\n\r\n")
                                                     << QStringLiteral("Subject= caf\u00e9") << QByteArray();
}

void TestMailParsing::headerBlock()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, fields);
    QFETCH(QByteArray, body);
    const HeaderBlock block = HeaderBlock::parse(raw);
    QCOMPARE(describe(block), fields);
    QCOMPARE(raw.mid(block.bodyOffset()), body);
}

void TestMailParsing::encodedWords_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("decoded");

    QTest::newRow("plain") << QByteArray("Hello world") << QStringLiteral("Hello world");
    QTest::newRow("B UTF-8") << QByteArray("=?UTF-8?B?Y2Fmw6k=?=") << QStringLiteral("caf\u00e9");
    QTest::newRow("Q ISO-8859-1 with underscores") << QByteArray("=?ISO-8859-1?Q?Caf=E9_cr=E8me?=")
                                                   << QStringLiteral("Caf\u00e9 cr\u00e8me");
    QTest::newRow("lower-case q and charset") << QByteArray("=?utf-8?q?na=C3=AFve?=") << QStringLiteral("na\u00efve");
    QTest::newRow("ISO-8859-15 euro") << QByteArray("=?ISO-8859-15?Q?=A4?=") << QStringLiteral("\u20ac");
    QTest::newRow("windows-1252 quotes") << QByteArray("=?windows-1252?Q?=93hi=94?=") << QStringLiteral("\u201chi\u201d");
    QTest::newRow("KOI8-R") << QByteArray("=?KOI8-R?B?8NLJ18XU?=") << QStringLiteral("\u041f\u0440\u0438\u0432\u0435\u0442");
    QTest::newRow("Shift_JIS") << QByteArray("=?Shift_JIS?B?k/qWe4zq?=") << QStringLiteral("\u65e5\u672c\u8a9e");
    QTest::newRow("adjacent words: space between dropped")
        << QByteArray("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") << QStringLiteral("ab");
    QTest::newRow("split across a folded line (unfolded)")
        << QByteArray("=?UTF-8?Q?Hello_?=\r\n =?UTF-8?Q?World?=") << QStringLiteral("Hello World");
    QTest::newRow("character split across two B words")
        << QByteArray("=?UTF-8?B?w6k=?= =?UTF-8?B?4oKs?= =?UTF-8?B?4o?= =?UTF-8?B?gqw=?=") << QStringLiteral("\u00e9\u20ac\u20ac");
    QTest::newRow("text around words keeps its spaces")
        << QByteArray("Re: =?UTF-8?Q?caf=C3=A9?= time") << QStringLiteral("Re: caf\u00e9 time");
    QTest::newRow("different charsets adjacent")
        << QByteArray("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=") << QStringLiteral("\u00e9\u00e9");
    QTest::newRow("unknown encoding letter kept") << QByteArray("=?UTF-8?X?abc?=") << QStringLiteral("=?UTF-8?X?abc?=");
    QTest::newRow("unterminated word kept") << QByteArray("=?UTF-8?Q?abc") << QStringLiteral("=?UTF-8?Q?abc");
    QTest::newRow("bad base64 kept") << QByteArray("=?UTF-8?B?***?=") << QStringLiteral("=?UTF-8?B?***?=");
    QTest::newRow("white space inside is not a word") << QByteArray("=?UTF-8?Q?a b?=") << QStringLiteral("=?UTF-8?Q?a b?=");
    QTest::newRow("bad Q escape: word kept") << QByteArray("=?UTF-8?Q?100=?=") << QStringLiteral("=?UTF-8?Q?100=?=");
    QTest::newRow("bad Q hex: word kept") << QByteArray("x =?UTF-8?Q?a=ZZ?= y") << QStringLiteral("x =?UTF-8?Q?a=ZZ?= y");
    QTest::newRow("unknown charset read as Latin-1") << QByteArray("=?x-unknown?Q?=E9?=") << QStringLiteral("\u00e9");
    QTest::newRow("RFC 2231 language suffix") << QByteArray("=?UTF-8*en?Q?hi?=") << QStringLiteral("hi");
    QTest::newRow("raw UTF-8 bytes") << QByteArray("na\xc3\xafve =?UTF-8?Q?x?=") << QStringLiteral("na\u00efve x");
    QTest::newRow("raw Latin-1 bytes") << QByteArray("caf\xe9") << QStringLiteral("caf\u00e9");
}

void TestMailParsing::encodedWords()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, decoded);
    QCOMPARE(EncodedWords::decode(raw), decoded);
}

void TestMailParsing::charsets_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("charset");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("known");

    QTest::newRow("ISO-8859-1 label is windows-1252") << QByteArray("\x93q\x94 \x80") << QByteArray("ISO-8859-1")
                                                      << QStringLiteral("\u201cq\u201d \u20ac") << true;
    QTest::newRow("us-ascii with UTF-8 bytes") << QByteArray("caf\xc3\xa9") << QByteArray("us-ascii")
                                               << QStringLiteral("caf\u00e9") << true;
    QTest::newRow("no charset, UTF-8") << QByteArray("caf\xc3\xa9") << QByteArray() << QStringLiteral("caf\u00e9") << true;
    QTest::newRow("no charset, 8-bit") << QByteArray("caf\xe9") << QByteArray() << QStringLiteral("caf\u00e9") << true;
    QTest::newRow("quoted label") << QByteArray("caf\xc3\xa9") << QByteArray("\"utf-8\"") << QStringLiteral("caf\u00e9") << true;
    QTest::newRow("ISO-8859-2") << QByteArray("\xb1") << QByteArray("iso-8859-2") << QStringLiteral("\u0105") << true;
    QTest::newRow("unknown") << QByteArray("\xe9") << QByteArray("x-fancy") << QStringLiteral("\u00e9") << false;
    // UTF-7 is all ASCII bytes, yet not ASCII text.
    QTest::newRow("UTF-7, ASCII bytes") << QByteArray("Hi +AOk-") << QByteArray("utf-7") << QStringLiteral("Hi \u00e9")
                                        << true;
    QTest::newRow("UTF-7, a surrogate pair") << QByteArray("+2D3eAA-") << QByteArray("UTF-7")
                                             << QString::fromUtf8("\xf0\x9f\x98\x80") << true;
    // Found by fuzz_mail_message (corpus crash-895c9f08...): UTF-7's base64
    // runs are UTF-16 units, and ICU passed a lone one through.
    QTest::newRow("UTF-7, a lone high surrogate") << QByteArray("a+2D0-b") << QByteArray("utf-7")
                                                  << QStringLiteral("a\ufffdb") << true;
    QTest::newRow("UTF-7, a lone low surrogate") << QByteArray("+3gA-") << QByteArray("utf-7")
                                                 << QStringLiteral("\ufffd") << true;
    QTest::newRow("UTF-7, 8-bit bytes in it") << QByteArray("+O5OcnZAPFQsw\xcd\xb5") << QByteArray("utf-7")
                                              << QString() << true;
    QTest::newRow("UTF-16BE, ASCII bytes") << QByteArray("\x00H\x00i", 4) << QByteArray("utf-16be")
                                           << QStringLiteral("Hi") << true;
}

void TestMailParsing::charsets()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, charset);
    QFETCH(QString, text);
    QFETCH(bool, known);
    bool wasKnown = !known;
    const QString decoded = Charsets::decode(bytes, charset, &wasKnown);
    // Null text: what comes out is for the decoder to say, but it is valid UTF-16.
    if (!text.isNull())
        QCOMPARE(decoded, text);
    QVERIFY2(QString::fromUtf8(decoded.toUtf8()) == decoded, qPrintable(QString::fromLatin1(decoded.toUtf8().toPercentEncoding())));
    QCOMPARE(wasKnown, known);
}

void TestMailParsing::addressList_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("addresses");
    QTest::addColumn<bool>("complete");

    QTest::newRow("bare") << QByteArray("bob@project.com") << QStringLiteral(" <bob@project.com>") << true;
    QTest::newRow("name-addr") << QByteArray("Bob Smith <bob@project.com>") << QStringLiteral("Bob Smith <bob@project.com>")
                               << true;
    QTest::newRow("two, comma separated") << QByteArray("a@x.org, B <b@x.org>")
                                          << QStringLiteral(" <a@x.org>; B <b@x.org>") << true;
    QTest::newRow("quoted name with comma") << QByteArray("\"Smith, Bob\" <bob@x.org>, c@x.org")
                                            << QStringLiteral("Smith, Bob <bob@x.org>;  <c@x.org>") << true;
    QTest::newRow("escaped quote") << QByteArray("\"Bob \\\"The Builder\\\" Smith\" <bob@x.org>")
                                   << QStringLiteral("Bob \"The Builder\" Smith <bob@x.org>") << true;
    QTest::newRow("comment as name") << QByteArray("bob@x.org (Bob Smith)") << QStringLiteral("Bob Smith <bob@x.org>") << true;
    QTest::newRow("comment ignored when there is a name") << QByteArray("Bob <bob@x.org> (work)")
                                                          << QStringLiteral("Bob <bob@x.org>") << true;
    QTest::newRow("nested comment") << QByteArray("bob@x.org (Bob (the (real) one))")
                                    << QStringLiteral("Bob (the (real) one) <bob@x.org>") << true;
    QTest::newRow("empty group") << QByteArray("Undisclosed recipients:;") << QString() << true;
    QTest::newRow("group with members")
        << QByteArray("Team: a@x.org, \"B\" <b@x.org>;, c@x.org") << QStringLiteral(" <a@x.org>; B <b@x.org>;  <c@x.org>")
        << true;
    QTest::newRow("encoded-word name") << QByteArray("=?UTF-8?Q?J=C3=B6rg?= <j@x.org>") << QStringLiteral("J\u00f6rg <j@x.org>")
                                       << true;
    QTest::newRow("encoded word inside quotes (Outlook)") << QByteArray("\"=?UTF-8?B?SsO2cmc=?=\" <j@x.org>")
                                                          << QStringLiteral("J\u00f6rg <j@x.org>") << true;
    QTest::newRow("name folded over lines") << QByteArray("Bob\r\n  Smith <bob@x.org>") << QStringLiteral("Bob Smith <bob@x.org>")
                                            << true;
    QTest::newRow("obsolete route") << QByteArray("<@relay.x.org:bob@x.org>") << QStringLiteral(" <bob@x.org>") << true;
    QTest::newRow("trailing comma") << QByteArray("a@x.org,") << QStringLiteral(" <a@x.org>") << true;
    QTest::newRow("domain literal") << QByteArray("a@[IPv6:::1], b@x.org") << QStringLiteral(" <a@[IPv6:::1]>;  <b@x.org>")
                                    << true;
    QTest::newRow("name repeating the address kept (Outlook)") << QByteArray("\"bob@x.org\" <bob@x.org>")
                                                              << QStringLiteral("bob@x.org <bob@x.org>") << true;
    QTest::newRow("garbage") << QByteArray("not an address") << QString() << false;
    QTest::newRow("one good, one bad") << QByteArray("a@x.org, nonsense, <b@x.org>")
                                       << QStringLiteral(" <a@x.org>;  <b@x.org>") << false;
    QTest::newRow("empty") << QByteArray() << QString() << true;
}

void TestMailParsing::addressList()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, addresses);
    QFETCH(bool, complete);
    const AddressList list = MailAddresses::parseList(raw);
    QCOMPARE(describe(list.addresses), addresses);
    QCOMPARE(list.complete, complete);
    QCOMPARE(list.raw, EncodedWords::decode(raw.trimmed()).simplified());
}

namespace {
// `count` entries made by `entry(i)` (i from 1), joined as a folded header value.
QByteArray addressField(int count, const std::function<QByteArray(int)> &entry)
{
    QByteArrayList entries;
    for (int i = 1; i <= count; ++i)
        entries.append(entry(i));
    return entries.join(",\r\n ");
}

QByteArray bareAddress(int i)
{
    return "u" + QByteArray::number(i) + "@x.org";
}
} // namespace

// docs/protocol/messages.md §5: at most MaxAddresses of To and Cc kept for the
// summary, the first ones in order, and toCount/ccCount counting every
// mailbox of the field (what parseList() without a limit returns), also
// past the kept ones; From keeps its first.
void TestMailParsing::addressListLimit_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<int>("count");     // toCount
    QTest::addColumn<QString>("first"); // address of summary.to's first and last
    QTest::addColumn<QString>("last");

    const auto numbered = [](int i) { return QStringLiteral("u%1@x.org").arg(i); };
    QTest::newRow("none") << QByteArray() << 0 << QString() << QString();
    QTest::newRow("empty group") << QByteArray("Undisclosed recipients:;") << 0 << QString() << QString();
    QTest::newRow("1") << addressField(1, bareAddress) << 1 << numbered(1) << numbered(1);
    QTest::newRow("1,000") << addressField(1000, bareAddress) << 1000 << numbered(1) << numbered(1000);
    QTest::newRow("1,001") << addressField(1001, bareAddress) << 1001 << numbered(1) << numbered(1000);
    QTest::newRow("5,000") << addressField(5000, bareAddress) << 5000 << numbered(1) << numbered(1000);
    QTest::newRow("5,000 unfolded") << addressField(5000, bareAddress).replace("\r\n ", " ") << 5000 << numbered(1)
                                    << numbered(1000);
    QTest::newRow("5,000 with names, quotes and comments")
        << addressField(5000, [](int i) -> QByteArray {
               const QByteArray n = QByteArray::number(i);
               return "\"Last, First " + n + "\" <" + bareAddress(i) + "> (c, " + n + ")";
           })
        << 5000 << numbered(1) << numbered(1000);
    QTest::newRow("groups of 700")
        << "First: " + addressField(700, bareAddress) + ";, Second: "
               + addressField(700, [](int i) -> QByteArray { return bareAddress(700 + i); }) + ";"
        << 1400 << numbered(1) << numbered(1000);
    // Every third entry is no address: not counted, the others are, also past the kept ones.
    QTest::newRow("unparsable ones among 3,000")
        << addressField(3000,
                        [](int i) -> QByteArray {
                            return i % 3 == 0 ? QByteArray("nonsense ") + QByteArray::number(i) : bareAddress(i);
                        })
        << 2000 << numbered(1) << numbered(1499);
    QTest::newRow("unparsable ones only past the kept")
        << addressField(1000, bareAddress) + ", nonsense, <>, (only a comment)" << 1000 << numbered(1)
        << numbered(1000);
}

void TestMailParsing::addressListLimit()
{
    QFETCH(QByteArray, value);
    QFETCH(int, count);
    QFETCH(QString, first);
    QFETCH(QString, last);

    const QByteArray header = value.isNull() ? QByteArray() : "To: " + value + "\r\nCc: " + value + "\r\n";
    const QByteArray raw = "From: " + addressField(3, bareAddress) + "\r\n" + header + "Subject: many\r\n\r\nbody\r\n";
    const MessageSummary summary = MimeMessage::parse(raw).summary();
    const int kept = std::min(count, MessageSummary::MaxAddresses);
    QCOMPARE(summary.to.size(), kept);
    QCOMPARE(summary.toCount, qint64(count));
    QCOMPARE(summary.cc.size(), kept);
    QCOMPARE(summary.ccCount, qint64(count));
    QCOMPARE(summary.from.address, QStringLiteral("u1@x.org"));
    if (kept > 0) {
        QCOMPARE(summary.to.first().address, first);
        QCOMPARE(summary.to.last().address, last);
    }

    // The count is what the whole parse finds; the kept ones are its start.
    const AddressList whole = MailAddresses::parseList(value);
    QCOMPARE(whole.addresses.size(), count);
    QCOMPARE(whole.count, count);
    QCOMPARE(summary.to, whole.addresses.first(kept));
    const AddressList bounded = MailAddresses::parseList(value, MessageSummary::MaxAddresses);
    QCOMPARE(bounded.count, whole.count);
    QCOMPARE(bounded.complete, whole.complete);
    QCOMPARE(bounded.raw, whole.raw);
    QCOMPARE(MailAddresses::parseList(value, 0).addresses.size(), 0);
    QCOMPARE(MailAddresses::parseList(value, 0).count, count);
}

void TestMailParsing::dates_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("utc"); // empty: unparsable

    QTest::newRow("RFC 5322") << QByteArray("Sun, 22 Nov 2026 13:05:00 +0000") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("offset east") << QByteArray("Sun, 22 Nov 2026 14:05:00 +0100") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("offset west crossing midnight") << QByteArray("Sat, 21 Nov 2026 22:30:00 -0500")
                                                   << QStringLiteral("2026-11-22T03:30:00Z");
    QTest::newRow("no day of week") << QByteArray("22 Nov 2026 13:05:00 +0000") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("no seconds") << QByteArray("22 Nov 2026 13:05 +0000") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("single-digit day") << QByteArray("Mon, 2 Nov 2026 09:00:00 +0000") << QStringLiteral("2026-11-02T09:00:00Z");
    QTest::newRow("two-digit year 03 and PDT") << QByteArray("Tue, 1 Jul 03 10:52:37 PDT")
                                               << QStringLiteral("2003-07-01T17:52:37Z");
    QTest::newRow("two-digit year 99") << QByteArray("1 Jan 99 00:00:00 GMT") << QStringLiteral("1999-01-01T00:00:00Z");
    QTest::newRow("three-digit year") << QByteArray("1 Jan 103 00:00:00 +0000") << QStringLiteral("2003-01-01T00:00:00Z");
    QTest::newRow("EST") << QByteArray("Fri, 21 Nov 1997 09:55:06 EST") << QStringLiteral("1997-11-21T14:55:06Z");
    QTest::newRow("UT") << QByteArray("1 Jan 2026 00:00:00 UT") << QStringLiteral("2026-01-01T00:00:00Z");
    QTest::newRow("military zone is -0000") << QByteArray("1 Jan 2026 00:00:00 Q") << QStringLiteral("2026-01-01T00:00:00Z");
    QTest::newRow("trailing comment") << QByteArray("Sun, 22 Nov 2026 14:05:00 +0100 (CET)")
                                      << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("offset then zone name") << QByteArray("Sun, 22 Nov 2026 14:05:00 +0100 CET")
                                           << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("GMT+0100") << QByteArray("Sun, 22 Nov 2026 14:05:00 GMT+0100") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("no zone: UTC") << QByteArray("Sun, 22 Nov 2026 13:05:00") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("full month name") << QByteArray("22 November 2026 13:05:00 +0000") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("folded") << QByteArray("Sun, 22 Nov 2026\r\n 13:05:00 +0000") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("leap second") << QByteArray("31 Dec 2016 23:59:60 +0000") << QStringLiteral("2016-12-31T23:59:59Z");
    QTest::newRow("asctime-like") << QByteArray("Sun Nov 22 13:05:00 2026") << QStringLiteral("2026-11-22T13:05:00Z");
    QTest::newRow("words") << QByteArray("yesterday afternoon") << QString();
    QTest::newRow("empty") << QByteArray() << QString();
    QTest::newRow("31 February") << QByteArray("31 Feb 2026 10:00:00 +0000") << QString();
    QTest::newRow("hour 25") << QByteArray("1 Jan 2026 25:00:00 +0000") << QString();
    QTest::newRow("bad zone") << QByteArray("1 Jan 2026 10:00:00 +99999") << QString();
    QTest::newRow("unknown zone name") << QByteArray("1 Jan 2026 10:00:00 XYZ") << QString();
    QTest::newRow("ISO 8601 is not RFC 5322") << QByteArray("2026-11-22T13:05:00Z") << QString();
    QTest::newRow("trailing junk") << QByteArray("1 Jan 2026 10:00:00 +0000 and more words") << QString();
}

void TestMailParsing::dates()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, utc);
    const auto parsed = MailDate::parse(raw);
    QCOMPARE(parsed ? parsed->toString(Qt::ISODate) : QString(), utc);
    if (parsed)
        QCOMPARE(MailDate::parse(MailDate::format(*parsed)), parsed);
}

void TestMailParsing::quotedPrintable_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<QByteArray>("decoded");
    QTest::newRow("escapes") << QByteArray("caf=C3=A9") << QByteArray("caf\xc3\xa9");
    QTest::newRow("lower-case hex") << QByteArray("caf=c3=a9") << QByteArray("caf\xc3\xa9");
    QTest::newRow("soft break CRLF") << QByteArray("long=\r\nline") << QByteArray("longline");
    QTest::newRow("soft break LF") << QByteArray("long=\nline") << QByteArray("longline");
    QTest::newRow("soft break with trailing space") << QByteArray("long= \t\r\nline") << QByteArray("longline");
    QTest::newRow("hard line end kept") << QByteArray("a\r\nb") << QByteArray("a\r\nb");
    QTest::newRow("= at the end") << QByteArray("end=") << QByteArray("end");
    QTest::newRow("bad escape kept") << QByteArray("100=% sure =ZZ") << QByteArray("100=% sure =ZZ");
    QTest::newRow("equals sign") << QByteArray("a=3Db") << QByteArray("a=b");
}

void TestMailParsing::quotedPrintable()
{
    QFETCH(QByteArray, encoded);
    QFETCH(QByteArray, decoded);
    QCOMPARE(TransferEncoding::decodeQuotedPrintable(encoded), decoded);
}

void TestMailParsing::base64_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::addColumn<QByteArray>("decoded");
    QTest::newRow("plain") << QByteArray("aGVsbG8gd29ybGQ=") << QByteArray("hello world");
    QTest::newRow("line breaks") << QByteArray("aGVsbG8g\r\nd29ybGQ=\r\n") << QByteArray("hello world");
    QTest::newRow("missing padding") << QByteArray("aGVsbG8gd29ybGQ") << QByteArray("hello world");
    QTest::newRow("stray characters") << QByteArray("aGVs*bG8g!d29y bGQ=") << QByteArray("hello world");
    QTest::newRow("truncated group") << QByteArray("aGVsbG8gd29yb") << QByteArray("hello wor");
    QTest::newRow("empty") << QByteArray() << QByteArray();
}

void TestMailParsing::base64()
{
    QFETCH(QByteArray, encoded);
    QFETCH(QByteArray, decoded);
    QCOMPARE(TransferEncoding::decodeBase64(encoded), decoded);
}

void TestMailParsing::quotedPrintableEncodeRoundTrip_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("ASCII") << QByteArray("Hello\nworld");
    QTest::newRow("UTF-8") << QByteArray("caf\xc3\xa9 cr\xc3\xa8me \xe2\x82\xac");
    QTest::newRow("long line") << QByteArray(500, 'a');
    QTest::newRow("long line of escapes") << QByteArray(300, '=');
    QTest::newRow("trailing spaces") << QByteArray("line with spaces   \nnext\t\n");
    QTest::newRow("dot and From at line starts") << QByteArray(".\n..x\nFrom me\n.");
    QTest::newRow("CR and control bytes") << QByteArray("a\rb\x01" "c", 5);
}

void TestMailParsing::quotedPrintableEncodeRoundTrip()
{
    QFETCH(QByteArray, text);
    const QByteArray encoded = TransferEncoding::encodeQuotedPrintable(text);
    for (const QByteArray &line : encoded.split('\n')) {
        QVERIFY2(line.size() <= 77, line.constData()); // 76 plus the CR
        QVERIFY(!line.startsWith('.'));
        QVERIFY(!line.startsWith("From "));
        for (char c : line)
            QVERIFY(c == '\r' || c == '\t' || (c >= 32 && c <= 126));
    }
    QByteArray expected = text;
    expected.replace("\n", "\r\n");
    QCOMPARE(TransferEncoding::decodeQuotedPrintable(encoded), expected);
}

void TestMailParsing::mimeParameters_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("parameter");
    QTest::addColumn<QString>("expected");

    QTest::newRow("simple") << QByteArray("text/plain; charset=utf-8") << QByteArray("text/plain") << QByteArray("charset")
                            << QStringLiteral("utf-8");
    QTest::newRow("case and quotes") << QByteArray("Text/HTML; CHARSET=\"ISO-8859-1\"") << QByteArray("text/html")
                                     << QByteArray("charset") << QStringLiteral("ISO-8859-1");
    QTest::newRow("quoted with semicolon") << QByteArray("attachment; filename=\"a;b.txt\"") << QByteArray("attachment")
                                           << QByteArray("filename") << QStringLiteral("a;b.txt");
    QTest::newRow("comment") << QByteArray("text/plain (plain text); charset=us-ascii (ASCII)") << QByteArray("text/plain")
                             << QByteArray("charset") << QStringLiteral("us-ascii");
    QTest::newRow("RFC 2231 charset") << QByteArray("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")
                                      << QByteArray("attachment") << QByteArray("filename")
                                      << QStringLiteral("r\u00e9sum\u00e9.pdf");
    QTest::newRow("RFC 2231 language") << QByteArray("attachment; filename*=iso-8859-1'fr'caf%E9.txt")
                                       << QByteArray("attachment") << QByteArray("filename") << QStringLiteral("caf\u00e9.txt");
    QTest::newRow("RFC 2231 continuations")
        << QByteArray("attachment; filename*0*=UTF-8''long%20na; filename*1*=me%C3; filename*2*=%A9.txt")
        << QByteArray("attachment") << QByteArray("filename") << QStringLiteral("long name\u00e9.txt");
    QTest::newRow("RFC 2231 continuations out of order, plain pieces")
        << QByteArray("attachment; filename*1=\"two\"; filename*0=\"one-\"") << QByteArray("attachment")
        << QByteArray("filename") << QStringLiteral("one-two");
    QTest::newRow("RFC 2231 wins over the plain one") << QByteArray("attachment; filename=old.txt; filename*=UTF-8''new.txt")
                                                      << QByteArray("attachment") << QByteArray("filename")
                                                      << QStringLiteral("new.txt");
    QTest::newRow("RFC 2047 in quotes (Outlook)") << QByteArray("application/pdf; name=\"=?utf-8?B?UmVjaG51bmcgw6QucGRm?=\"")
                                                  << QByteArray("application/pdf") << QByteArray("name")
                                                  << QStringLiteral("Rechnung \u00e4.pdf");
    QTest::newRow("boundary with specials") << QByteArray("multipart/mixed; boundary=\"----=_Part_1_2.3\"")
                                            << QByteArray("multipart/mixed") << QByteArray("boundary")
                                            << QStringLiteral("----=_Part_1_2.3");
    QTest::newRow("missing parameter") << QByteArray("text/plain") << QByteArray("text/plain") << QByteArray("charset")
                                       << QString();
    QTest::newRow("junk between parameters") << QByteArray("text/plain; junk; charset=utf-8") << QByteArray("text/plain")
                                             << QByteArray("charset") << QStringLiteral("utf-8");
}

void TestMailParsing::mimeParameters()
{
    QFETCH(QByteArray, raw);
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, parameter);
    QFETCH(QString, expected);
    const MimeHeaderValue parsed = MimeHeaderValue::parse(raw);
    QCOMPARE(parsed.value, value);
    QCOMPARE(parsed.parameter(parameter), expected);
}

void TestMailParsing::structure_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("types");       // content types of all parts, pre-order
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("attachments"); // filename:type:size|...

    QTest::newRow("single part") << QByteArray("Subject: s\r\n\r\nHello\r\n") << QStringLiteral("text/plain")
                                 << QStringLiteral("Hello") << QString();
    QTest::newRow("alternative: plain chosen, html not an attachment")
        << QByteArray("Content-Type: multipart/alternative; boundary=b\r\n\r\n"
                      "--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
                      "--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n")
        << QStringLiteral("multipart/alternative,text/plain,text/html") << QStringLiteral("plain") << QString();
    QTest::newRow("html only") << QByteArray("Content-Type: text/html\r\n\r\n<p>Hello <b>you</b></p>\r\n")
                               << QStringLiteral("text/html") << QStringLiteral("Hello you") << QString();
    QTest::newRow("mixed with attachment")
        << QByteArray("Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\npreamble --xx not a boundary\r\n"
                      "--xx\r\n\r\nbody text\r\n"
                      "--xx\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                      "JVBERi0=\r\n--xx--\r\nepilogue\r\n--xx\r\nnot a part\r\n")
        << QStringLiteral("multipart/mixed,text/plain,application/pdf") << QStringLiteral("body text")
        << QStringLiteral("a.pdf:application/pdf:5");
    QTest::newRow("boundary prefix of a longer line is not a delimiter")
        << QByteArray("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--bb\r\ntwo\r\n--b--\r\n")
        << QStringLiteral("multipart/mixed,text/plain") << QStringLiteral("one\n--bb\ntwo") << QString();
    QTest::newRow("missing final boundary")
        << QByteArray("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\n"
                      "Content-Type: image/png\r\n\r\nPNG")
        << QStringLiteral("multipart/mixed,text/plain,image/png") << QStringLiteral("text") << QStringLiteral("part-1.png:image/png:3");
    QTest::newRow("text attachment is not the body")
        << QByteArray("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                      "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nnotes\r\n"
                      "--b\r\nContent-Type: text/plain\r\n\r\nthe body\r\n--b--\r\n")
        << QStringLiteral("multipart/mixed,text/plain,text/plain") << QStringLiteral("the body")
        << QStringLiteral("notes.txt:text/plain:5");
    QTest::newRow("attached message is one attachment")
        << QByteArray("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                      "--b\r\n\r\nsee attached\r\n"
                      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
                      "--c\r\n\r\ninner text\r\n--c\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--c--\r\n--b--\r\n")
        << QStringLiteral("multipart/mixed,text/plain,message/rfc822,multipart/mixed,text/plain,image/gif")
        << QStringLiteral("see attached") << QStringLiteral("part-1.eml:message/rfc822:122");
    QTest::newRow("digest parts default to message/rfc822")
        << QByteArray("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nfirst\r\n--d--\r\n")
        << QStringLiteral("multipart/digest,message/rfc822,text/plain") << QString()
        << QStringLiteral("part-1.eml:message/rfc822:21");
    QTest::newRow("multipart without boundary is text")
        << QByteArray("Content-Type: multipart/mixed\r\n\r\nno boundary\r\n") << QStringLiteral("text/plain")
        << QStringLiteral("no boundary") << QString();
    QTest::newRow("path in a filename is dropped")
        << QByteArray("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nx")
        << QStringLiteral("application/octet-stream") << QString() << QStringLiteral("passwd:application/octet-stream:1");
    QTest::newRow("format=flowed unwrapped")
        << QByteArray("Content-Type: text/plain; format=flowed\r\n\r\nThis is a \r\nlong line.\r\n> quoted \r\n> text\r\n \r\n-- \r\nsig\r\n")
        << QStringLiteral("text/plain") << QStringLiteral("This is a long line.\n> quoted text\n\n-- \nsig") << QString();
    QTest::newRow("format=flowed delsp")
        << QByteArray("Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\nabc \r\ndef\r\n")
        << QStringLiteral("text/plain") << QStringLiteral("abcdef") << QString();
    QTest::newRow("quoted-printable body in windows-1252")
        << QByteArray("Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                      "=93Hi=94 =80=\r\n5\r\n")
        << QStringLiteral("text/plain") << QStringLiteral("\u201cHi\u201d \u20ac5") << QString();
}

void TestMailParsing::structure()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, types);
    QFETCH(QString, text);
    QFETCH(QString, attachments);
    const MimeMessage message = MimeMessage::parse(raw);
    QStringList actualTypes;
    for (const MimePart &part : message.parts())
        actualTypes.append(QString::fromLatin1(part.contentType));
    QCOMPARE(actualTypes.join(u','), types);
    QCOMPARE(message.readableText(), text);
    QCOMPARE(describeAttachments(message), attachments);
    QVERIFY(!message.attachmentData(int(message.attachments().size())));
    QVERIFY(!message.attachmentData(-1));
}

void TestMailParsing::preview_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("preview");
    QTest::newRow("folds white space") << QStringLiteral("  Hello\n\n  world\t again ") << QStringLiteral("Hello world again");
    QTest::newRow("160 characters") << QString(200, u'a') << QString(160, u'a');
    QTest::newRow("no space at the cut") << QString(QString(159, u'a') + QStringLiteral("  b")) << QString(159, u'a');
    QTest::newRow("emoji count as one") << QString(QStringLiteral("\U0001F600")).repeated(170)
                                        << QString(QStringLiteral("\U0001F600")).repeated(160);
    QTest::newRow("empty") << QString() << QString();
}

void TestMailParsing::preview()
{
    QFETCH(QString, text);
    QFETCH(QString, preview);
    QCOMPARE(MimeMessage::preview(text), preview);
}

void TestMailParsing::builderRoundTrip_data()
{
    QTest::addColumn<QString>("fromName");
    QTest::addColumn<QString>("subject");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("references");

    QTest::newRow("ASCII") << QStringLiteral("Alice") << QStringLiteral("Hello") << QStringLiteral("Hi Bob,\n\nsee you.")
                           << QStringList();
    QTest::newRow("non-ASCII everywhere") << QStringLiteral("J\u00f6rg M\u00fcller") << QStringLiteral("Caf\u00e9 \u20ac \U0001F600 \u65e5\u672c")
                                          << QStringLiteral("Gr\u00fc\u00dfe,\n\u00e9t\u00e9 \u20ac\n") << QStringList();
    QTest::newRow("long non-ASCII subject") << QString() << QString(QStringLiteral("\u00e9\u00e8 ")).repeated(60).trimmed()
                                            << QStringLiteral("x") << QStringList();
    QTest::newRow("long ASCII subject") << QString() << QStringLiteral("word ").repeated(40).trimmed() << QStringLiteral("x")
                                        << QStringList();
    QTest::newRow("specials in the name") << QStringLiteral("Smith, Bob \"B\"") << QStringLiteral("a =?b?= c")
                                          << QStringLiteral(".\nFrom here\n..") << QStringList();
    QTest::newRow("reply") << QStringLiteral("Alice") << QStringLiteral("Re: Hello") << QStringLiteral("> quoted\nanswer")
                           << QStringList{QStringLiteral("<a@x>"), QStringLiteral("<b@x>")};
    QTest::newRow("long lines in text") << QString() << QStringLiteral("s") << QString(1000, u'\u00e9') << QStringList();
}

void TestMailParsing::builderRoundTrip()
{
    QFETCH(QString, fromName);
    QFETCH(QString, subject);
    QFETCH(QString, text);
    QFETCH(QStringList, references);

    OutgoingMessage outgoing;
    outgoing.from = {fromName, QStringLiteral("alice@project.com")};
    outgoing.to = {{QStringLiteral("B\u00f6b"), QStringLiteral("bob@project.com")}, {QString(), QStringLiteral("carol@project.com")}};
    outgoing.cc = {{QStringLiteral("Dave, the \"boss\""), QStringLiteral("dave@project.com")}};
    outgoing.subject = subject;
    outgoing.text = text;
    outgoing.date = QDateTime(QDate(2026, 11, 22), QTime(13, 5, 7), Qt::UTC);
    if (!references.isEmpty()) {
        outgoing.inReplyTo = references.last();
        outgoing.references = references;
    }
    const QByteArray raw = MessageBuilder::build(outgoing);
    const MimeMessage parsed = MimeMessage::parse(raw);
    const MessageSummary summary = parsed.summary();
    QCOMPARE(summary.from, outgoing.from);
    QCOMPARE(summary.to, outgoing.to);
    QCOMPARE(summary.cc, outgoing.cc);
    QCOMPARE(summary.subject, subject);
    QCOMPARE(summary.date, outgoing.date);
    QVERIFY(summary.messageId.startsWith(u'<') && summary.messageId.endsWith(QStringLiteral("@project.com>")));
    QCOMPARE(summary.inReplyTo, outgoing.inReplyTo);
    QString expectedText = text;
    while (!expectedText.isEmpty() && expectedText.back().isSpace())
        expectedText.chop(1);
    QCOMPARE(parsed.readableText(), expectedText);
    QCOMPARE(parsed.attachments().size(), 0);
    if (!references.isEmpty())
        QCOMPARE(parsed.headers().value("References").simplified(), references.join(u' ').toUtf8());
}

void TestMailParsing::builderWritesWellFormedLines()
{
    OutgoingMessage outgoing;
    outgoing.from = {QString(30, u'\u00e9'), QStringLiteral("alice@project.com")};
    for (int i = 0; i < 30; ++i)
        outgoing.to.append({QStringLiteral("Recipient %1").arg(i), QStringLiteral("r%1@project.com").arg(i)});
    outgoing.subject = QString(QStringLiteral("\u00fcber ")).repeated(50);
    outgoing.text = QString(5000, u'x') + QStringLiteral("\n") + QString(3000, u'\u00e9');
    const QByteArray raw = MessageBuilder::build(outgoing);
    QVERIFY(!raw.contains("\r\r"));
    for (const QByteArray &line : raw.split('\n')) {
        QVERIFY2(line.size() <= 79, line.left(100).constData()); // 78 + CR
        QVERIFY(line.isEmpty() || line.endsWith('\r'));
        for (char c : line)
            QVERIFY2(static_cast<unsigned char>(c) < 128, "8-bit byte in a built message");
    }
    QVERIFY(raw.contains("\r\nMessage-ID: <"));
    QVERIFY(raw.startsWith("Date: ") || raw.contains("\r\nDate: "));
    QVERIFY(raw.contains("\r\nMIME-Version: 1.0\r\n"));
}

// Attachments through build and parse: the text first and unchanged, then
// each attachment with its name, content type and every byte; every line
// ASCII and at most 78 characters; base64 lines of 76.
void TestMailParsing::builderAttachments_data()
{
    QTest::addColumn<QString>("filename");
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QString>("expectedType");

    QByteArray allBytes;
    for (int round = 0; round < 5; ++round) {
        for (int byte = 0; byte < 256; ++byte)
            allBytes.append(char(byte));
    }
    QTest::newRow("ASCII name, text") << QStringLiteral("notes.txt") << QStringLiteral("text/plain")
                                      << QByteArray("first line\nsecond line\r\n.\r\nlast") << QStringLiteral("text/plain");
    QTest::newRow("non-ASCII name, every byte value")
        << QStringLiteral("Gr\u00f6\u00dfe \u2013 \u5831\u544a.bin") << QStringLiteral("application/octet-stream") << allBytes
        << QStringLiteral("application/octet-stream");
    QTest::newRow("empty file") << QStringLiteral("empty.dat") << QStringLiteral("application/octet-stream")
                                << QByteArray() << QStringLiteral("application/octet-stream");
    QTest::newRow("one byte") << QStringLiteral("one") << QStringLiteral("application/octet-stream") << QByteArray("\0", 1)
                              << QStringLiteral("application/octet-stream");
    QTest::newRow("long non-ASCII name: RFC 2231 continuations")
        << QString(QStringLiteral("\u00e9t\u00e9 \U0001F600 ")).repeated(20) + QStringLiteral("end.pdf")
        << QStringLiteral("application/pdf") << QByteArray("%PDF-1.4\n") << QStringLiteral("application/pdf");
    QTest::newRow("long ASCII name") << QStringLiteral("a-very-long-file-name-").repeated(6) + QStringLiteral(".txt")
                                     << QStringLiteral("text/plain") << QByteArray("x") << QStringLiteral("text/plain");
    // (A backslash is a path separator to the parser, and an encoded word in
    // any parameter is decoded: neither can come back as written.)
    QTest::newRow("quotes and a semicolon in the name") << QStringLiteral("say \"hi\"; ok.txt")
                                                        << QStringLiteral("text/plain") << QByteArray("hi")
                                                        << QStringLiteral("text/plain");
    QTest::newRow("malformed content type") << QStringLiteral("x.bin") << QStringLiteral("text plain")
                                            << QByteArray("x") << QStringLiteral("application/octet-stream");
    QTest::newRow("content type with a parameter injection") << QStringLiteral("x.bin")
                                                             << QStringLiteral("text/plain; charset=x\r\nBcc: a@b")
                                                             << QByteArray("x") << QStringLiteral("application/octet-stream");
    QTest::newRow("content type in capitals") << QStringLiteral("photo.PNG") << QStringLiteral("Image/PNG")
                                              << QByteArray("\x89PNG\r\n\x1a\n") << QStringLiteral("image/png");
    // RFC 2046 §5.2.1: a message/rfc822 part is never base64; one that
    // cannot go as 7bit lines as it is goes as bytes.
    QTest::newRow("an attached message") << QStringLiteral("fwd.eml") << QStringLiteral("message/rfc822")
                                         << QByteArray("Subject: inner\r\n\r\ninner text\r\n.\r\n")
                                         << QStringLiteral("message/rfc822");
    QTest::newRow("an attached message with bare LF") << QStringLiteral("fwd.eml") << QStringLiteral("message/rfc822")
                                                      << QByteArray("Subject: inner\n\ninner text\n")
                                                      << QStringLiteral("application/octet-stream");
    QTest::newRow("an attached message with 8-bit bytes")
        << QStringLiteral("fwd.eml") << QStringLiteral("message/rfc822")
        << QByteArray("Subject: caf\xc3\xa9\r\n\r\nx\r\n") << QStringLiteral("application/octet-stream");
    QTest::newRow("an attached message without its last line end")
        << QStringLiteral("fwd.eml") << QStringLiteral("message/rfc822") << QByteArray("Subject: x\r\n\r\nx")
        << QStringLiteral("application/octet-stream");
    QTest::newRow("multipart as an attachment's type") << QStringLiteral("x.bin") << QStringLiteral("multipart/mixed")
                                                       << QByteArray("--a\r\n\r\nx\r\n--a--\r\n")
                                                       << QStringLiteral("application/octet-stream");
}

void TestMailParsing::builderAttachments()
{
    QFETCH(QString, filename);
    QFETCH(QString, contentType);
    QFETCH(QByteArray, data);
    QFETCH(QString, expectedType);

    OutgoingMessage outgoing;
    outgoing.from = {QStringLiteral("Alice"), QStringLiteral("alice@project.com")};
    outgoing.to = {{QString(), QStringLiteral("bob@project.com")}};
    outgoing.subject = QStringLiteral("Files");
    outgoing.text = QStringLiteral("See the files.\n\u00e9t\u00e9\n");
    outgoing.date = QDateTime(QDate(2026, 11, 22), QTime(13, 5, 7), Qt::UTC);
    const QByteArray second(3000, 'z');
    outgoing.attachments = {{filename, contentType, data}, {QStringLiteral("second.txt"), QStringLiteral("text/plain"), second}};

    const QByteArray raw = MessageBuilder::build(outgoing);
    for (const QByteArray &line : raw.split('\n')) {
        QVERIFY2(line.size() <= 79, line.left(100).constData()); // 78 + CR
        QVERIFY(line.isEmpty() || line.endsWith('\r'));
        for (char c : line)
            QVERIFY2(static_cast<unsigned char>(c) < 128, "8-bit byte in a built message");
    }
    QVERIFY(!raw.contains("\nBcc:"));

    const MimeMessage parsed = MimeMessage::parse(raw);
    QCOMPARE(parsed.parts().at(0).contentType, QByteArray("multipart/mixed"));
    QCOMPARE(parsed.readableText(), QStringLiteral("See the files.\n\u00e9t\u00e9"));
    QCOMPARE(parsed.summary().subject, outgoing.subject);
    QCOMPARE(parsed.summary().to, outgoing.to);
    const QList<AttachmentInfo> attachments = parsed.attachments();
    QCOMPARE(attachments.size(), 2);
    QCOMPARE(attachments.at(0).filename, filename);
    QCOMPARE(attachments.at(0).contentType, expectedType);
    QCOMPARE(attachments.at(0).size, data.size());
    QCOMPARE(parsed.attachmentData(0).value_or(QByteArray("missing")), data);
    QCOMPARE(attachments.at(1).filename, QStringLiteral("second.txt"));
    QCOMPARE(parsed.attachmentData(1).value_or(QByteArray()), second);

    // Each part is base64 in lines of 76, the last one maybe shorter (an
    // attached message: its lines as they are).
    const auto attachmentPart = std::find_if(parsed.parts().cbegin(), parsed.parts().cend(), [](const MimePart &part) {
        return part.disposition.value == "attachment";
    });
    QVERIFY(attachmentPart != parsed.parts().cend());
    const MimePart &part = *attachmentPart;
    if (expectedType == u"message/rfc822") {
        QCOMPARE(part.transferEncoding, QByteArray("7bit"));
        return;
    }
    QCOMPARE(part.transferEncoding, QByteArray("base64"));
    const QByteArray encoded = raw.mid(part.bodyStart, part.bodyEnd - part.bodyStart);
    const QList<QByteArray> lines = encoded.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QByteArray line = i + 1 < lines.size() ? lines.at(i).chopped(1) : lines.at(i);
        QVERIFY2(i + 1 == lines.size() ? line.size() <= 76 : line.size() == 76, line.constData());
    }
    QCOMPARE(MessageBuilder::base64Size(data.size()), data.isEmpty() ? 0 : encoded.size() + 2);
}

// RFC 2046 §5.1.1: a text that holds lines like the boundary does not end
// its part early; the boundary is one that occurs nowhere in the content.
void TestMailParsing::builderBoundaryNotInContent()
{
    OutgoingMessage outgoing;
    outgoing.from = {QString(), QStringLiteral("alice@project.com")};
    outgoing.to = {{QString(), QStringLiteral("bob@project.com")}};
    outgoing.subject = QStringLiteral("Boundaries");
    outgoing.text = QStringLiteral("--=_mailroom_\n--=_mailroom_0123456789abcdef0123456789abcdef--\n--\n-- \nend");
    outgoing.attachments = {{QStringLiteral("a.txt"), QStringLiteral("text/plain"),
                             QByteArray("--=_mailroom_\r\n--=_mailroom_00--\r\n")}};
    const QByteArray raw = MessageBuilder::build(outgoing);
    const MimeMessage parsed = MimeMessage::parse(raw);
    const QByteArray boundary = parsed.parts().at(0).contentTypeValue.parameter("boundary").toLatin1();
    QVERIFY(boundary.startsWith("=_mailroom_"));
    QCOMPARE(raw.count(QByteArray("--" + boundary)), 3); // two parts and the close
    QCOMPARE(parsed.readableText(), outgoing.text);
    QCOMPARE(parsed.attachments().size(), 1);
    QCOMPARE(parsed.attachmentData(0).value_or(QByteArray()), outgoing.attachments.first().data);
}

void TestMailParsing::hostileInputIsBounded_data()
{
    QTest::addColumn<QByteArray>("raw");

    QByteArray nested;
    for (int i = 0; i < 5000; ++i)
        nested += "Content-Type: multipart/mixed; boundary=b" + QByteArray::number(i) + "\r\n\r\n--b" + QByteArray::number(i)
            + "\r\n";
    QTest::newRow("5000 nested multiparts") << nested;
    QByteArray messages;
    for (int i = 0; i < 5000; ++i)
        messages += "Content-Type: message/rfc822\r\n\r\n";
    QTest::newRow("5000 nested messages") << messages;
    QTest::newRow("many encoded-word starts") << QByteArray("Subject: " + QByteArray("=?").repeated(200000) + "\r\n\r\n");
    QTest::newRow("many boundary-like lines") << QByteArray("Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                                                            + QByteArray("--bx\r\n").repeated(200000));
    QTest::newRow("many parameters") << QByteArray("Content-Type: text/plain" + QByteArray("; a*1*=x").repeated(100000)
                                                   + "\r\n\r\nx");
    QTest::newRow("deep comments") << QByteArray("From: " + QByteArray(100000, '(') + "\r\n\r\n");
    // The issue's attack, at 4 MB: a To of a million short addresses.
    QTest::newRow("a million addresses") << QByteArray("To: " + QByteArray("a@b,").repeated(1000000) + "\r\n\r\n");
    QTest::newRow("a million empty elements") << QByteArray("Cc: " + QByteArray(1000000, ',') + "\r\n\r\n");
    QTest::newRow("binary garbage") << [] {
        QByteArray garbage(1 << 20, Qt::Uninitialized);
        quint32 state = 12345;
        for (char &c : garbage) {
            state = state * 1103515245 + 12345;
            c = char(state >> 24);
        }
        return garbage;
    }();
}

void TestMailParsing::hostileInputIsBounded()
{
    QFETCH(QByteArray, raw);
    QElapsedTimer timer;
    timer.start();
    const MimeMessage message = MimeMessage::parse(raw);
    const MessageSummary summary = message.summary();
    const auto headers = message.decodedHeaders();
    qInfo() << "parsed" << raw.size() << "bytes into" << message.parts().size() << "parts in" << timer.elapsed() << "ms";
    QVERIFY(message.parts().size() <= MimeMessage::MaxParts);
    for (const MimePart &part : message.parts())
        QVERIFY(part.depth <= MimeMessage::MaxDepth);
    QVERIFY(summary.preview.size() <= 2 * MimeMessage::PreviewLength);
    QVERIFY(summary.to.size() <= MessageSummary::MaxAddresses);
    QVERIFY(summary.cc.size() <= MessageSummary::MaxAddresses);
}

// The issue's measure: a 25 MiB message of 10,000 parts.
void TestMailParsing::largeMessageWithManyParts()
{
    QByteArray raw = "From: a@project.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"=_sep\"\r\n\r\n"
                     "--=_sep\r\nContent-Type: text/plain\r\n\r\nthe body\r\n";
    // 1,700 bytes per attachment: 10,000 parts fit in 25 MiB.
    const QByteArray chunk = QByteArray(1700, 'A').toBase64(QByteArray::Base64Encoding);
    QByteArray encodedChunk;
    for (qsizetype i = 0; i < chunk.size(); i += 76)
        encodedChunk += chunk.mid(i, 76) + "\r\n";
    int parts = 1;
    while (raw.size() < 25 * 1024 * 1024 - 4000 && parts < 9999) {
        raw += "--=_sep\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"f" + QByteArray::number(parts) + ".bin\"\r\n\r\n";
        raw += encodedChunk;
        ++parts;
    }
    // Pad the last part so the message is 25 MiB.
    raw += "--=_sep\r\nContent-Type: application/octet-stream\r\n\r\n";
    raw += QByteArray(std::max<qsizetype>(0, 25 * 1024 * 1024 - raw.size() - 12), 'z') + "\r\n--=_sep--\r\n";
    ++parts;

    QElapsedTimer timer;
    timer.start();
    const MimeMessage message = MimeMessage::parse(raw);
    const MessageSummary summary = message.summary();
    const qint64 ms = timer.elapsed();
    qInfo().noquote() << QStringLiteral("25 MiB message (%1 bytes) with %2 parts: parsed, summarised, %3 attachments sized in %4 ms")
                             .arg(raw.size())
                             .arg(parts)
                             .arg(summary.attachments.size())
                             .arg(ms);
    QCOMPARE(message.parts().size(), parts + 1);
    QCOMPARE(summary.attachments.size(), parts - 1);
    QCOMPARE(message.readableText(), QStringLiteral("the body"));
    QCOMPARE(parts, 10000); // the text, 9,998 attachments and the padding part
    QCOMPARE(summary.attachments.at(0).size, 1700);
    QCOMPARE(summary.attachments.at(0).filename, QStringLiteral("f1.bin"));
}

QTEST_GUILESS_MAIN(TestMailParsing)
#include "tst_mailparsing.moc"
