// What the user types in the To field (RecipientList::parse), single
// addresses (Recipients::isValidAddress, RFC 5321 §4.1.2 with a dot-atom
// local part) and the --smtp/--web HOST:PORT arguments (ServerEndpoint).

#include "recipients.h"
#include "serverendpoint.h"

#include <QTest>

using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(MailAddress)
Q_DECLARE_METATYPE(ServerEndpoint)

char *toString(const MailAddress &address) // for QCOMPARE
{
    return QTest::toString(u"\"%1\" <%2>"_s.arg(address.name, address.address));
}

char *toString(const ServerEndpoint &server)
{
    return QTest::toString(u"host \"%1\" port %2"_s.arg(server.host).arg(server.port));
}

namespace {

MailAddress mailbox(const QString &address, const QString &name = {})
{
    return MailAddress{name, address};
}

} // namespace

class TestRecipients : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void invalidEntries_data();
    void invalidEntries();
    void isValidAddress_data();
    void isValidAddress();
    void endpoint_data();
    void endpoint();
    void badEndpoint_data();
    void badEndpoint();
};

void TestRecipients::parse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<MailAddress>>("expected");

    QTest::newRow("one address") << u"bob@project.com"_s << QList<MailAddress>{mailbox(u"bob@project.com"_s)};
    QTest::newRow("bare user name") << u"bob"_s << QList<MailAddress>{mailbox(u"bob@project.com"_s)};
    QTest::newRow("commas") << u"bob,carol@project.com,dave"_s
                            << QList<MailAddress>{mailbox(u"bob@project.com"_s), mailbox(u"carol@project.com"_s),
                                                  mailbox(u"dave@project.com"_s)};
    QTest::newRow("semicolons") << u"bob;carol"_s
                                << QList<MailAddress>{mailbox(u"bob@project.com"_s), mailbox(u"carol@project.com"_s)};
    QTest::newRow("both, with spaces") << u"  bob ,\tcarol ;  dave@project.com  "_s
                                       << QList<MailAddress>{mailbox(u"bob@project.com"_s),
                                                             mailbox(u"carol@project.com"_s),
                                                             mailbox(u"dave@project.com"_s)};
    QTest::newRow("empty entries skipped") << u",, bob ;; ,carol, ;"_s
                                           << QList<MailAddress>{mailbox(u"bob@project.com"_s),
                                                                 mailbox(u"carol@project.com"_s)};
    QTest::newRow("nothing") << QString() << QList<MailAddress>{};
    QTest::newRow("only separators") << u" , ; "_s << QList<MailAddress>{};
    QTest::newRow("other domain kept") << u"eve@example.org"_s << QList<MailAddress>{mailbox(u"eve@example.org"_s)};
    QTest::newRow("name and address") << u"Bob Builder <bob@project.com>"_s
                                      << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob Builder"_s)};
    QTest::newRow("name and bare user name") << u"Bob <bob>"_s
                                             << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob"_s)};
    QTest::newRow("angle brackets only") << u"<bob@project.com>"_s
                                         << QList<MailAddress>{mailbox(u"bob@project.com"_s)};
    QTest::newRow("spaces inside the brackets") << u"Bob < bob@project.com >"_s
                                                << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob"_s)};
    QTest::newRow("quoted name with a comma")
        << u"\"Builder, Bob\" <bob@project.com>, carol"_s
        << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Builder, Bob"_s), mailbox(u"carol@project.com"_s)};
    QTest::newRow("quoted name with a semicolon")
        << u"\"Builder; Bob\" <bob@project.com>;carol"_s
        << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Builder; Bob"_s), mailbox(u"carol@project.com"_s)};
    QTest::newRow("quoted name with escaped quotes")
        << u"\"Bob \\\"The Builder\\\", Jr\" <bob@project.com>, carol"_s
        << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob \"The Builder\", Jr"_s),
                              mailbox(u"carol@project.com"_s)};
    QTest::newRow("quoted name with angle brackets")
        << u"\"<Bob>\" <bob@project.com>"_s << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"<Bob>"_s)};
    QTest::newRow("separator inside brackets is not one")
        << u"Bob <bob@project.com>,Carol <carol@project.com>"_s
        << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob"_s), mailbox(u"carol@project.com"_s, u"Carol"_s)};
    QTest::newRow("non-ASCII name") << u"J\u00f6rg <joerg@project.com>"_s
                                    << QList<MailAddress>{mailbox(u"joerg@project.com"_s, u"J\u00f6rg"_s)};
    QTest::newRow("upper case lowered") << u"Bob@Project.COM, CAROL"_s
                                        << QList<MailAddress>{mailbox(u"bob@project.com"_s),
                                                              mailbox(u"carol@project.com"_s)};
    QTest::newRow("duplicates dropped, first kept")
        << u"bob, Bob <BOB@project.com>; bob@PROJECT.com, carol, bob"_s
        << QList<MailAddress>{mailbox(u"bob@project.com"_s), mailbox(u"carol@project.com"_s)};
    QTest::newRow("duplicate with a name first")
        << u"Bob <bob@project.com>, bob"_s << QList<MailAddress>{mailbox(u"bob@project.com"_s, u"Bob"_s)};
    QTest::newRow("atext in the local part") << u"o'brien+news@project.com, a_b-c.d@project.com"_s
                                             << QList<MailAddress>{mailbox(u"o'brien+news@project.com"_s),
                                                                   mailbox(u"a_b-c.d@project.com"_s)};
}

void TestRecipients::parse()
{
    QFETCH(QString, text);
    QFETCH(QList<MailAddress>, expected);

    const RecipientList list = RecipientList::parse(text, u"project.com"_s);
    QCOMPARE(list.error, QString());
    QCOMPARE(list.addresses, expected);
    QCOMPARE(list.isValid(), !expected.isEmpty());
}

void TestRecipients::invalidEntries_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("entry"); // what the error must name

    QTest::newRow("two @") << u"bob, a@b@project.com"_s << u"a@b@project.com"_s;
    QTest::newRow("no local part") << u"@project.com"_s << u"@project.com"_s;
    QTest::newRow("no domain") << u"bob@"_s << u"bob@"_s;
    QTest::newRow("local part ends with a dot") << u"bob.@project.com"_s << u"bob.@project.com"_s;
    QTest::newRow("local part starts with a dot") << u".bob@project.com"_s << u".bob@project.com"_s;
    QTest::newRow("domain ends with a dot") << u"bob@project.com."_s << u"bob@project.com."_s;
    QTest::newRow("bare user name ends with a dot") << u"carol, bob."_s << u"bob."_s;
    QTest::newRow("two dots in the local part") << u"b..ob@project.com"_s << u"b..ob@project.com"_s;
    QTest::newRow("two dots in the domain") << u"bob@project..com"_s << u"bob@project..com"_s;
    QTest::newRow("space inside") << u"bob smith@project.com"_s << u"bob smith@project.com"_s;
    QTest::newRow("space inside a bare user name") << u"bob smith"_s << u"bob smith"_s;
    QTest::newRow("space inside the brackets") << u"Bob <bob smith@project.com>"_s
                                               << u"Bob <bob smith@project.com>"_s;
    QTest::newRow("missing >") << u"Bob <bob@project.com"_s << u"Bob <bob@project.com"_s;
    QTest::newRow("missing >, then more") << u"Bob <bob@project.com, carol"_s << u"Bob <bob@project.com, carol"_s;
    QTest::newRow("empty brackets") << u"Bob <>"_s << u"Bob <>"_s;
    QTest::newRow("non-ASCII domain") << u"bob@b\u00fccher.example"_s << u"bob@b\u00fccher.example"_s;
    QTest::newRow("non-ASCII local part") << u"j\u00f6rg@project.com"_s << u"j\u00f6rg@project.com"_s;
    QTest::newRow("label starting with -") << u"bob@-project.com"_s << u"bob@-project.com"_s;
    QTest::newRow("label ending with -") << u"bob@project-.com"_s << u"bob@project-.com"_s;
    QTest::newRow("underscore in the domain") << u"bob@pro_ject.com"_s << u"bob@pro_ject.com"_s;
    QTest::newRow("quoted local part") << u"\"bob smith\"@project.com"_s << u"\"bob smith\"@project.com"_s;
    QTest::newRow("first bad entry named") << u"carol, x@@y, also..bad@project.com"_s << u"x@@y"_s;
    QTest::newRow("local part over 64")
        << QString(65, u'a') + u"@project.com"_s << QString(65, u'a') + u"@project.com"_s;
    QTest::newRow("label over 63") << u"bob@"_s + QString(64, u'a') + u".com"_s
                                   << u"bob@"_s + QString(64, u'a') + u".com"_s;
}

void TestRecipients::invalidEntries()
{
    QFETCH(QString, text);
    QFETCH(QString, entry);

    const RecipientList list = RecipientList::parse(text, u"project.com"_s);
    QVERIFY(!list.error.isEmpty());
    QVERIFY2(list.error.contains(u'\u201c' + entry + u'\u201d'), qPrintable(list.error));
    QVERIFY(!list.isValid());
}

void TestRecipients::isValidAddress_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("valid");

    QTest::newRow("plain") << u"bob@project.com"_s << true;
    QTest::newRow("no dot in the domain") << u"bob@localhost"_s << true;
    QTest::newRow("dots in the local part") << u"b.o.b@project.com"_s << true;
    QTest::newRow("atext") << u"!#$%&'*+-/=?^_`{|}~@project.com"_s << true;
    QTest::newRow("digits and hyphens") << u"a1@x-1.y2.com"_s << true;
    QTest::newRow("local part of 64") << QString(64, u'a') + u"@project.com"_s << true;
    QTest::newRow("label of 63") << u"bob@"_s + QString(63, u'a') + u".com"_s << true;
    QTest::newRow("254 in all") << QString(64, u'a') + u'@' + QString(63, u'b') + u'.' + QString(63, u'c') + u'.'
                                       + QString(61, u'd')
                                << true;

    QTest::newRow("empty") << QString() << false;
    QTest::newRow("no @") << u"bob"_s << false;
    QTest::newRow("two @") << u"a@b@project.com"_s << false;
    QTest::newRow("no local part") << u"@project.com"_s << false;
    QTest::newRow("no domain") << u"bob@"_s << false;
    QTest::newRow("trailing dot") << u"bob@project.com."_s << false;
    QTest::newRow("local part trailing dot") << u"bob.@project.com"_s << false;
    QTest::newRow("..") << u"b..b@project.com"_s << false;
    QTest::newRow("space") << u"b b@project.com"_s << false;
    QTest::newRow("angle brackets") << u"<bob@project.com>"_s << false;
    QTest::newRow("non-ASCII domain") << u"bob@\u00e9xample.com"_s << false;
    QTest::newRow("label starting with -") << u"bob@-x.com"_s << false;
    QTest::newRow("label ending with -") << u"bob@x-.com"_s << false;
    QTest::newRow("address literal") << u"bob@[127.0.0.1]"_s << false;
    QTest::newRow("local part of 65") << QString(65, u'a') + u"@project.com"_s << false;
    QTest::newRow("label of 64") << u"bob@"_s + QString(64, u'a') + u".com"_s << false;
    QTest::newRow("255 in all") << QString(64, u'a') + u'@' + QString(63, u'b') + u'.' + QString(63, u'c') + u'.'
                                       + QString(62, u'd')
                                << false;
}

void TestRecipients::isValidAddress()
{
    QFETCH(QString, address);
    QFETCH(bool, valid);

    QCOMPARE(Recipients::isValidAddress(address), valid);
}

void TestRecipients::endpoint_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<ServerEndpoint>("expected");
    QTest::addColumn<QString>("canonical"); // toString()

    QTest::newRow("IPv4") << u"127.0.0.1:8025"_s << ServerEndpoint{u"127.0.0.1"_s, 8025} << u"127.0.0.1:8025"_s;
    QTest::newRow("IPv6") << u"[::1]:9999"_s << ServerEndpoint{u"::1"_s, 9999} << u"[::1]:9999"_s;
    QTest::newRow("long IPv6") << u"[2001:db8::25]:587"_s << ServerEndpoint{u"2001:db8::25"_s, 587}
                               << u"[2001:db8::25]:587"_s;
    QTest::newRow("name, port 1") << u"localhost:1"_s << ServerEndpoint{u"localhost"_s, 1} << u"localhost:1"_s;
    QTest::newRow("name with dots and hyphens") << u"mail-1.example.org:8025"_s
                                                << ServerEndpoint{u"mail-1.example.org"_s, 8025}
                                                << u"mail-1.example.org:8025"_s;
    QTest::newRow("port 65535") << u"host:65535"_s << ServerEndpoint{u"host"_s, 65535} << u"host:65535"_s;
    QTest::newRow("surrounding spaces") << u"  127.0.0.1:8025 "_s << ServerEndpoint{u"127.0.0.1"_s, 8025}
                                        << u"127.0.0.1:8025"_s;
}

void TestRecipients::endpoint()
{
    QFETCH(QString, text);
    QFETCH(ServerEndpoint, expected);
    QFETCH(QString, canonical);

    const std::optional<ServerEndpoint> parsed = ServerEndpoint::parse(text);
    QVERIFY(parsed);
    QCOMPARE(*parsed, expected);
    QCOMPARE(parsed->toString(), canonical);
    // and what toString() gives reads back as the same endpoint
    const std::optional<ServerEndpoint> again = ServerEndpoint::parse(canonical);
    QVERIFY(again);
    QCOMPARE(*again, expected);
}

void TestRecipients::badEndpoint_data()
{
    QTest::addColumn<QString>("text");

    QTest::newRow("empty") << QString();
    QTest::newRow("host only") << u"host"_s;
    QTest::newRow("no host") << u":25"_s;
    QTest::newRow("no port") << u"host:"_s;
    QTest::newRow("port 0") << u"host:0"_s;
    QTest::newRow("port 70000") << u"host:70000"_s;
    QTest::newRow("port 65536") << u"host:65536"_s;
    QTest::newRow("negative port") << u"host:-25"_s;
    QTest::newRow("port with letters") << u"host:25a"_s;
    QTest::newRow("space before the colon") << u"host :25"_s;
    QTest::newRow("two colons") << u"host:25:26"_s;
    QTest::newRow("IPv6 without brackets") << u"::1:25"_s;
    QTest::newRow("IPv6 without colon after ]") << u"[::1]25"_s;
    QTest::newRow("IPv6 without port") << u"[::1]"_s;
    QTest::newRow("IPv6 with empty port") << u"[::1]:"_s;
    QTest::newRow("unclosed bracket") << u"[::1:25"_s;
    QTest::newRow("IPv4 in brackets") << u"[127.0.0.1]:25"_s;
    QTest::newRow("empty brackets") << u"[]:25"_s;
    QTest::newRow("space in the host") << u"my host:25"_s;
    QTest::newRow("slash in the host") << u"host/x:25"_s;
    QTest::newRow("non-ASCII host") << u"h\u00f6st:25"_s;
    QTest::newRow("URL") << u"https://host:25"_s;
}

void TestRecipients::badEndpoint()
{
    QFETCH(QString, text);

    const std::optional<ServerEndpoint> parsed = ServerEndpoint::parse(text);
    QVERIFY2(!parsed, parsed ? qPrintable(parsed->toString()) : "");
}

QTEST_APPLESS_MAIN(TestRecipients)
#include "tst_recipients.moc"
