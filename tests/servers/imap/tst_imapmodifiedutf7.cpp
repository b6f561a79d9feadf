// Modified UTF-7 (RFC 3501 §5.1.3), the folder names of IMAP4rev1 clients:
// both ways for names that are valid, and a refusal for every way a name
// can fail to be exactly one spelling of its characters.

#include "imapmodifiedutf7.h"

#include <QTest>

using namespace Qt::StringLiterals;

class TestImapModifiedUtf7 : public QObject
{
    Q_OBJECT

private slots:
    void bothWays_data();
    void bothWays();
    void refused_data();
    void refused();
    void everyCharacterRoundTrips();
};

void TestImapModifiedUtf7::bothWays_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("encoded");
    QTest::newRow("ASCII") << u"Archive/2026"_s << "Archive/2026"_ba;
    QTest::newRow("ampersand") << u"A&B"_s << "A&-B"_ba;
    QTest::newRow("umlaut") << u"Entwürfe"_s << "Entw&APw-rfe"_ba;
    QTest::newRow("RFC 3501's example") << u"~peter/mail/台北/日本語"_s << "~peter/mail/&U,BTFw-/&ZeVnLIqe-"_ba;
    QTest::newRow("a run, then an ampersand") << u"Ä&"_s << "&AMQ-&-"_ba;
    QTest::newRow("a space inside a run ends it") << u"Привет мир"_s << "&BB8EQAQ4BDIENQRC- &BDwEOARA-"_ba;
    QTest::newRow("outside the BMP") << u"😀"_s << "&2D3eAA-"_ba;
    QTest::newRow("a control character") << u"\t"_s << "&AAk-"_ba;
    QTest::newRow("empty") << QString() << QByteArray();
}

void TestImapModifiedUtf7::bothWays()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, encoded);
    QCOMPARE(ImapModifiedUtf7::encode(name), encoded);
    const std::optional<QString> decoded = ImapModifiedUtf7::decode(encoded);
    QVERIFY(decoded);
    QCOMPARE(*decoded, name);
}

void TestImapModifiedUtf7::refused_data()
{
    QTest::addColumn<QByteArray>("encoded");
    QTest::newRow("8-bit bytes (UTF-8 sent raw)") << "Entw\xc3\xbcrfe"_ba;
    QTest::newRow("a control byte") << "a\tb"_ba;
    QTest::newRow("unterminated") << "Entw&APw"_ba;
    QTest::newRow("a lone ampersand at the end") << "A&"_ba;
    QTest::newRow("outside the alphabet") << "&AP*-"_ba;
    QTest::newRow("standard base64's slash") << "&U/BTFw-"_ba;
    QTest::newRow("padding") << "&APw=-"_ba;
    QTest::newRow("leftover bits not zero") << "&APx-"_ba;
    QTest::newRow("a whole sextet left over") << "&APwA-"_ba;
    QTest::newRow("too short for a character") << "&AP-"_ba;
    QTest::newRow("printable ASCII encoded") << "&AGE-"_ba;
    QTest::newRow("an encoded ampersand") << "&ACY-"_ba;
    QTest::newRow("two runs side by side") << "&AMQ-&AMQ-"_ba;
    QTest::newRow("a lone high surrogate") << "&2D0-"_ba;
    QTest::newRow("a lone low surrogate") << "&3gA-"_ba;
}

void TestImapModifiedUtf7::refused()
{
    QFETCH(QByteArray, encoded);
    QVERIFY(!ImapModifiedUtf7::decode(encoded));
}

// Every BMP character (surrogates as pairs) alone and between letters
// survives the trip; the encoding is printable ASCII only.
void TestImapModifiedUtf7::everyCharacterRoundTrips()
{
    for (char32_t c = 1; c < 0x110000; c += (c < 0x10000 ? 1 : 97)) {
        if (c >= 0xd800 && c <= 0xdfff)
            continue;
        const QString name = u"a"_s + QString::fromUcs4(&c, 1) + u"b"_s;
        const QByteArray encoded = ImapModifiedUtf7::encode(name);
        for (const char byte : encoded)
            QVERIFY(byte >= 0x20 && byte <= 0x7e);
        const std::optional<QString> decoded = ImapModifiedUtf7::decode(encoded);
        if (!decoded || *decoded != name)
            QFAIL(qPrintable(u"U+%1 did not survive: %2"_s.arg(uint(c), 4, 16, QLatin1Char('0')).arg(QString::fromLatin1(encoded))));
    }
}

QTEST_GUILESS_MAIN(TestImapModifiedUtf7)
#include "tst_imapmodifiedutf7.moc"
