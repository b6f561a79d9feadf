#include "username.h"

#include <QTest>

class TestUsername : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void normalize_data();
    void normalize();
    void fromLogin_data();
    void fromLogin();
};

void TestUsername::normalize_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected"); // empty: invalid

    QTest::newRow("plain") << QStringLiteral("alice") << QStringLiteral("alice");
    QTest::newRow("upper case folds") << QStringLiteral("Bob") << QStringLiteral("bob");
    QTest::newRow("all upper") << QStringLiteral("ALICE") << QStringLiteral("alice");
    QTest::newRow("one character") << QStringLiteral("x") << QStringLiteral("x");
    QTest::newRow("one digit") << QStringLiteral("7") << QStringLiteral("7");
    QTest::newRow("dot underscore dash inside") << QStringLiteral("a.b_c-d") << QStringLiteral("a.b_c-d");
    QTest::newRow("64 characters") << QString(64, u'a') << QString(64, u'a');
    QTest::newRow("65 characters") << QString(65, u'a') << QString();
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("leading dot") << QStringLiteral(".bob") << QString();
    QTest::newRow("trailing dot") << QStringLiteral("bob.") << QString();
    QTest::newRow("leading dash") << QStringLiteral("-bob") << QString();
    QTest::newRow("trailing underscore") << QStringLiteral("bob_") << QString();
    QTest::newRow("two dots") << QStringLiteral("a..b") << QString();
    QTest::newRow("dot dash is fine") << QStringLiteral("a.-b") << QStringLiteral("a.-b");
    QTest::newRow("space") << QStringLiteral("a b") << QString();
    QTest::newRow("at sign") << QStringLiteral("a@b") << QString();
    QTest::newRow("plus") << QStringLiteral("a+b") << QString();
    QTest::newRow("non-ASCII letter") << QStringLiteral("j\u00f6rg") << QString();
    QTest::newRow("Turkish dotted capital I") << QStringLiteral("\u0130van") << QString();
    QTest::newRow("NUL") << QString(QStringLiteral("ab") + QChar(0) + QStringLiteral("c")) << QString();
}

void TestUsername::normalize()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const std::optional<QString> result = Username::normalize(input);
    QCOMPARE(result.value_or(QString()), expected);
    QCOMPARE(result.has_value(), !expected.isEmpty());
    if (result)
        QVERIFY(Username::isValid(*result));
}

void TestUsername::fromLogin_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");

    QTest::newRow("name") << QStringLiteral("bob") << QStringLiteral("bob");
    QTest::newRow("address") << QStringLiteral("bob@project.com") << QStringLiteral("bob");
    QTest::newRow("address, domain in capitals") << QStringLiteral("Bob@PROJECT.com") << QStringLiteral("bob");
    QTest::newRow("other domain") << QStringLiteral("bob@example.org") << QString();
    QTest::newRow("subdomain is another domain") << QStringLiteral("bob@mail.project.com") << QString();
    QTest::newRow("empty local part") << QStringLiteral("@project.com") << QString();
    QTest::newRow("two at signs") << QStringLiteral("a@b@project.com") << QString();
    QTest::newRow("invalid name") << QStringLiteral("a..b@project.com") << QString();
}

void TestUsername::fromLogin()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(Username::fromLogin(input, u"project.com").value_or(QString()), expected);
}

QTEST_GUILESS_MAIN(TestUsername)
#include "tst_username.moc"
