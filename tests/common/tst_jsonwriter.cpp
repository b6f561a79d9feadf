#include "jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QStringEncoder>
#include <QTest>

using namespace Qt::StringLiterals;

// JsonWriter writes what webd's listings and messages are made of: every
// string must come back unchanged through a standard JSON parser, and dates
// must read exactly as QDateTime's ISO form of the same instant.
class TestJsonWriter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void strings_data();
    void strings();
    void structure();
    void dates_data();
    void dates();
    void randomDates();
    void otherValues();
};

void TestJsonWriter::strings_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("plain") << u"Hello, world"_s;
    QTest::newRow("quotes and backslashes") << u"say \"hi\" \\ C:\\path\\"_s;
    QTest::newRow("control characters") << u"a\nb\rc\td\be\ff\x01g\x1fh\x7f"_s;
    QTest::newRow("NUL") << QString(QChar(0)) + u"after"_s;
    QTest::newRow("non-ASCII") << u"Grüße aus Köln – 東京 – Ωμέγα"_s;
    QTest::newRow("astral") << u"mail \U0001F4EC box"_s;
    QTest::newRow("line separators") << u"a\u2028b\u2029c"_s;
    QTest::newRow("closing brackets") << u"]}\",:{["_s;
    // Longer than any room the writer had: it grows mid-string.
    QTest::newRow("long") << QString(100000, u'x');
    QTest::newRow("long, escapes at the end") << QString(70000, u'é') + u"\"\n"_s;
    QTest::newRow("lone surrogate") << QString(QChar(0xd800)) + u"x"_s;
    QTest::newRow("lone surrogate at the end") << u"x"_s + QChar(0xd800);
}

void TestJsonWriter::strings()
{
    QFETCH(QString, text);
    // A string reads back as its UTF-8 form: a lone surrogate becomes the
    // replacement character (QStringEncoder) or '?' (QString::toUtf8, the
    // UTF-8 handed to utf8Value here); all else is unchanged.
    QStringEncoder encoder(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    const QString expected = QString::fromUtf8(QByteArray(encoder.encode(text)));
    if (text.endsWith(QChar(0xd800)))
        QVERIFY(expected.endsWith(QChar(0xfffd))); // not dropped
    const QString expectedUtf8 = QString::fromUtf8(text.toUtf8());
    if (!text.contains(QChar(0xd800)))
        QCOMPARE(expected, text);
    JsonWriter json;
    // The second time round the writer is reused after take().
    for (int round = 0; round < 2; ++round) {
        json.beginObject().key(QLatin1StringView("subject")).value(text);
        json.key(QLatin1StringView("utf8")).utf8Value(text.toUtf8()).endObject();
        const QByteArray bytes = json.take();
        QJsonParseError error{};
        const QJsonDocument document = QJsonDocument::fromJson(bytes, &error);
        QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString() + u' ' + QString::fromUtf8(bytes.left(200))));
        QCOMPARE(document.object().value(u"subject").toString(), expected);
        QCOMPARE(document.object().value(u"utf8").toString(), expectedUtf8);
        for (const char c : bytes)
            QVERIFY2(static_cast<unsigned char>(c) >= 0x20, bytes.left(200).toHex().constData()); // RFC 8259 §7: no raw control characters
    }
}

void TestJsonWriter::structure()
{
    JsonWriter json;
    json.beginObject();
    json.key(QLatin1StringView("messages")).beginArray();
    for (int i = 0; i < 3; ++i) {
        json.beginObject().key(QLatin1StringView("id")).value(qint64(i)).key(QLatin1StringView("seen")).value(i % 2 == 0);
        json.key(QLatin1StringView("to")).beginArray().endArray().endObject();
    }
    json.endArray();
    json.key(QLatin1StringView("nextBefore")).null();
    json.key(QLatin1StringView("big")).value(std::numeric_limits<qint64>::min());
    json.key(QLatin1StringView("max")).value(std::numeric_limits<qint64>::max());
    json.key(QLatin1StringView("zero")).value(qint64(0));
    json.key(QLatin1StringView("nested")).beginArray().beginArray().value(u"a"_s).value(u"b"_s).endArray().beginArray().endArray().endArray();
    json.endObject();
    const QByteArray bytes = json.take();
    QCOMPARE(bytes, QByteArray(R"({"messages":[{"id":0,"seen":true,"to":[]},{"id":1,"seen":false,"to":[]},)"
                               R"({"id":2,"seen":true,"to":[]}],"nextBefore":null,"big":-9223372036854775808,)"
                               R"("max":9223372036854775807,"zero":0,)"
                               R"("nested":[["a","b"],[]]})"));
    QJsonParseError error{};
    QJsonDocument::fromJson(bytes, &error);
    QCOMPARE(error.error, QJsonParseError::NoError);
}

void TestJsonWriter::dates_data()
{
    QTest::addColumn<QDateTime>("time");
    QTest::newRow("epoch") << QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
    QTest::newRow("a second before the epoch") << QDateTime::fromMSecsSinceEpoch(-1000, Qt::UTC);
    QTest::newRow("a millisecond before the epoch") << QDateTime::fromMSecsSinceEpoch(-1, Qt::UTC);
    QTest::newRow("now") << QDateTime::currentDateTimeUtc();
    QTest::newRow("leap day") << QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC);
    QTest::newRow("not a leap year (1900)") << QDateTime(QDate(1900, 3, 1), QTime(0, 0), Qt::UTC);
    QTest::newRow("leap year (2000)") << QDateTime(QDate(2000, 2, 29), QTime(12, 0), Qt::UTC);
    QTest::newRow("with an offset") << QDateTime(QDate(2026, 1, 1), QTime(1, 30), Qt::OffsetFromUTC, 2 * 3600);
    QTest::newRow("year 1") << QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC);
    QTest::newRow("year 9999") << QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59), Qt::UTC);
    QTest::newRow("year 10000") << QDateTime(QDate(10000, 1, 1), QTime(0, 0), Qt::UTC);
    QTest::newRow("year -5") << QDateTime(QDate(-5, 6, 1), QTime(0, 0), Qt::UTC);
}

void TestJsonWriter::dates()
{
    QFETCH(QDateTime, time);
    JsonWriter json;
    json.beginArray().isoUtc(time).endArray();
    QCOMPARE(QString::fromUtf8(json.take()), u"[\""_s + time.toUTC().toString(Qt::ISODate) + u"\"]"_s);
}

void TestJsonWriter::randomDates()
{
    // Any instant from year 1 to 9999: the same text as Qt's.
    QRandomGenerator random(20261122);
    const qint64 first = QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    const qint64 last = QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59), Qt::UTC).toMSecsSinceEpoch();
    for (int i = 0; i < 20000; ++i) {
        const QDateTime time = QDateTime::fromMSecsSinceEpoch(random.bounded(first, last), Qt::UTC);
        JsonWriter json;
        json.beginArray().isoUtc(time).endArray();
        const QString expected = u"[\""_s + time.toString(Qt::ISODate) + u"\"]"_s;
        QCOMPARE(QString::fromUtf8(json.take()), expected);
    }
}

void TestJsonWriter::otherValues()
{
    JsonWriter json;
    json.beginArray();
    json.isoUtc(QDateTime());
    json.value(QJsonValue(QJsonArray{1, u"two"_s, QJsonObject{{u"three"_s, 3}}}));
    json.value(QJsonValue(2.5));
    json.value(QJsonValue(42));
    json.value(QJsonValue());
    json.endArray();
    QCOMPARE(json.take(), QByteArray(R"([null,[1,"two",{"three":3}],2.5,42,null])"));
}

QTEST_GUILESS_MAIN(TestJsonWriter)
#include "tst_jsonwriter.moc"
