// Runs every sample in tests/data/messages: NAME.eml through MimeMessage,
// compared with NAME.json (format: tests/data/messages/README.md).

#include "mimemessage.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

namespace {

QJsonObject addressJson(const MailAddress &address)
{
    return {{QStringLiteral("name"), address.name}, {QStringLiteral("address"), address.address}};
}

QJsonArray addressesJson(const QList<MailAddress> &addresses)
{
    QJsonArray array;
    for (const MailAddress &address : addresses)
        array.append(addressJson(address));
    return array;
}

QString show(const QJsonValue &value)
{
    if (value.isString())
        return u'"' + value.toString() + u'"';
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
}

} // namespace

class TestMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void samples_data();
    void samples();
};

void TestMessages::samples_data()
{
    QTest::addColumn<QString>("emlPath");
    const QString directory = QFINDTESTDATA("../data/messages");
    QVERIFY2(!directory.isEmpty(), "tests/data/messages not found");
    const QStringList samples = QDir(directory).entryList({QStringLiteral("*.eml")}, QDir::Files, QDir::Name);
    QVERIFY2(samples.size() >= 10, "too few samples");
    for (const QString &sample : samples)
        QTest::newRow(qPrintable(sample)) << QDir(directory).filePath(sample);
}

void TestMessages::samples()
{
    QFETCH(QString, emlPath);
    QFile eml(emlPath);
    QVERIFY(eml.open(QIODevice::ReadOnly));
    QFile jsonFile(emlPath.chopped(4) + QStringLiteral(".json"));
    QVERIFY2(jsonFile.open(QIODevice::ReadOnly), qPrintable(jsonFile.fileName()));
    QJsonParseError error;
    const QJsonObject expected = QJsonDocument::fromJson(jsonFile.readAll(), &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));

    const MimeMessage message = MimeMessage::parse(eml.readAll());
    const MessageSummary summary = message.summary();

    const auto check = [&](const QString &key, const QJsonValue &actual) {
        const QJsonValue want = expected.value(key);
        QVERIFY2(actual == want, qPrintable(key + QStringLiteral("\n   actual:   ") + show(actual)
                                            + QStringLiteral("\n   expected: ") + show(want)));
    };
    check(QStringLiteral("from"), addressJson(summary.from));
    check(QStringLiteral("to"), addressesJson(summary.to));
    check(QStringLiteral("cc"), addressesJson(summary.cc));
    check(QStringLiteral("subject"), summary.subject);
    check(QStringLiteral("date"), summary.date.isValid() ? QJsonValue(summary.date.toUTC().toString(Qt::ISODate))
                                                         : QJsonValue(QJsonValue::Null));
    check(QStringLiteral("messageId"), summary.messageId);
    check(QStringLiteral("inReplyTo"), summary.inReplyTo);
    check(QStringLiteral("text"), message.readableText());
    check(QStringLiteral("preview"), summary.preview);
    QJsonArray attachments;
    for (const AttachmentInfo &attachment : summary.attachments) {
        const QByteArray data = message.attachmentData(attachment.index).value_or(QByteArray());
        QCOMPARE(data.size(), attachment.size);
        attachments.append(QJsonObject{
            {QStringLiteral("index"), attachment.index},
            {QStringLiteral("filename"), attachment.filename},
            {QStringLiteral("contentType"), attachment.contentType},
            {QStringLiteral("size"), attachment.size},
            {QStringLiteral("sha256"),
             QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex())},
        });
    }
    check(QStringLiteral("attachments"), attachments);
    QCOMPARE(message.charsetFallback(), expected.value(QStringLiteral("charsetFallback")).toBool(false));
}

QTEST_GUILESS_MAIN(TestMessages)
#include "tst_messages.moc"
