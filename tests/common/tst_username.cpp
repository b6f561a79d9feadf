#include "saslplain.h"
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
    void loginKey_data();
    void loginKey();
    void sameAccount_data();
    void sameAccount();
    void saslPlain_data();
    void saslPlain();
    void saslPlainEncodeReadsBack();
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

void TestUsername::loginKey_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");

    QTest::newRow("name") << QStringLiteral("Bob") << QStringLiteral("bob");
    QTest::newRow("address") << QStringLiteral("BOB@project.com") << QStringLiteral("bob");
    QTest::newRow("other domain, as typed, lower-cased") << QStringLiteral("Bob@Example.org")
                                                          << QStringLiteral("bob@example.org");
    QTest::newRow("invalid, 164 characters kept") << QString(300, u'X') << QString(Username::MaxLength + 100, u'x');
    QTest::newRow("empty") << QString() << QString();
}

void TestUsername::loginKey()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(Username::loginKey(input, u"project.com"), expected);
}

void TestUsername::sameAccount_data()
{
    QTest::addColumn<QString>("authorizationId");
    QTest::addColumn<QString>("loginName");
    QTest::addColumn<bool>("same");

    QTest::newRow("same text") << QStringLiteral("bob") << QStringLiteral("bob") << true;
    QTest::newRow("name and address") << QStringLiteral("Bob") << QStringLiteral("bob@project.com") << true;
    QTest::newRow("another account") << QStringLiteral("alice") << QStringLiteral("bob") << false;
    QTest::newRow("another domain") << QStringLiteral("bob@example.org") << QStringLiteral("bob") << false;
    QTest::newRow("both invalid, different") << QStringLiteral("a..b") << QStringLiteral("c..d") << false;
    QTest::newRow("invalid, same text") << QStringLiteral("a..b") << QStringLiteral("a..b") << true;
}

void TestUsername::sameAccount()
{
    QFETCH(QString, authorizationId);
    QFETCH(QString, loginName);
    QFETCH(bool, same);
    QCOMPARE(Username::sameAccount(authorizationId, loginName, u"project.com"), same);
}

void TestUsername::saslPlain_data()
{
    QTest::addColumn<QByteArray>("decoded");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("authorizationId");
    QTest::addColumn<QString>("loginName");
    QTest::addColumn<QString>("password");

    using namespace Qt::StringLiterals;
    QTest::newRow("no authzid") << "\0bob\0secret"_ba << true << QByteArray() << u"bob"_s << u"secret"_s;
    QTest::newRow("authzid") << "bob\0bob\0secret"_ba << true << "bob"_ba << u"bob"_s << u"secret"_s;
    QTest::newRow("UTF-8 password") << "\0bob\0gr\xc3\xbc\xc3\x9f"_ba << true << QByteArray() << u"bob"_s
                                    << u"gr\u00fc\u00df"_s;
    QTest::newRow("empty password") << "\0bob\0"_ba << true << QByteArray() << u"bob"_s << QString();
    QTest::newRow("two fields") << "bob\0secret"_ba << false << QByteArray() << QString() << QString();
    QTest::newRow("four fields") << "\0bob\0se\0cret"_ba << false << QByteArray() << QString() << QString();
    QTest::newRow("empty") << QByteArray() << false << QByteArray() << QString() << QString();
}

void TestUsername::saslPlain()
{
    QFETCH(QByteArray, decoded);
    QFETCH(bool, valid);
    const std::optional<SaslPlain::Message> message = SaslPlain::parse(decoded);
    QCOMPARE(message.has_value(), valid);
    if (!message)
        return;
    QTEST(message->authorizationId, "authorizationId");
    QTEST(message->loginName, "loginName");
    QTEST(message->password, "password");
}

void TestUsername::saslPlainEncodeReadsBack()
{
    const QByteArray encoded = SaslPlain::encode(QStringLiteral("bob"), QStringLiteral("p\u00e4ss word"));
    QCOMPARE(encoded, QByteArray("\0bob\0p\xc3\xa4ss word", 15));
    const std::optional<SaslPlain::Message> message = SaslPlain::parse(encoded);
    QVERIFY(message);
    QVERIFY(message->authorizationId.isEmpty());
    QCOMPARE(message->loginName, QStringLiteral("bob"));
    QCOMPARE(message->password, QStringLiteral("p\u00e4ss word"));
}

QTEST_GUILESS_MAIN(TestUsername)
#include "tst_username.moc"
