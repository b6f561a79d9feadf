// HttpRouteTable (common/http/httproutes.h), with webd's table of
// docs/protocol/web.md §1: which route a method and path reach, with
// which parameters; 404 when no pattern matches (ids that are no positive
// numbers, unknown folders, trailing and doubled slashes), 405 with the
// Allow list of the routes the path matches; and invalid patterns.

#include "httproutes.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {

HttpRouteTable<QString> webdRoutes()
{
    HttpRouteTable<QString> table;
    table.addType(u"folder"_s, [](QStringView name) { return name == u"inbox" || name == u"sent"; });
    const std::pair<const char *, const char *> routes[] = {
        {"GET", "/healthz"},
        {"HEAD", "/healthz"},
        {"POST", "/api/v1/session"},
        {"DELETE", "/api/v1/session"},
        {"GET", "/api/v1/account"},
        {"PUT", "/api/v1/account/password"},
        {"GET", "/api/v1/mailboxes/{folder:folder}/messages"},
        {"GET", "/api/v1/messages/{id:int}"},
        {"PATCH", "/api/v1/messages/{id:int}"},
        {"DELETE", "/api/v1/messages/{id:int}"},
        {"GET", "/api/v1/messages/{id:int}/raw"},
        {"GET", "/api/v1/messages/{id:int}/attachments/{index:index}"},
    };
    for (const auto &[method, pattern] : routes) {
        const bool added = table.add(method, QString::fromLatin1(pattern), QString::fromLatin1(method) + u' ' + QString::fromLatin1(pattern));
        Q_ASSERT(added);
    }
    return table;
}

} // namespace

class TestHttpRoutes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void match_data();
    void match();
    void invalidPatterns_data();
    void invalidPatterns();
    void firstRouteWins();
};

void TestHttpRoutes::match_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("route");        // empty: none
    QTest::addColumn<QStringList>("parameters"); // name, value, name, value
    QTest::addColumn<QByteArray>("allowed");   // 405's Allow; empty with no route: 404

    const auto row = [](const char *name, const QByteArray &method, const QString &path, const QString &route,
                        const QStringList &parameters = {}, const QByteArray &allowed = {}) {
        QTest::newRow(name) << method << path << route << parameters << allowed;
    };

    row("health", "GET", u"/healthz"_s, u"GET /healthz"_s);
    row("health HEAD", "HEAD", u"/healthz"_s, u"HEAD /healthz"_s);
    row("health POST", "POST", u"/healthz"_s, {}, {}, "GET, HEAD");
    row("health, trailing slash", "GET", u"/healthz/"_s, {});
    row("health, doubled slash", "GET", u"//healthz"_s, {});
    row("health, upper case", "GET", u"/HEALTHZ"_s, {});
    row("root", "GET", u"/"_s, {});
    row("empty path", "GET", QString(), {});
    row("api alone", "GET", u"/api/v1"_s, {});
    row("other version", "GET", u"/api/v2/account"_s, {});

    row("login", "POST", u"/api/v1/session"_s, u"POST /api/v1/session"_s);
    row("logout", "DELETE", u"/api/v1/session"_s, u"DELETE /api/v1/session"_s);
    row("session GET", "GET", u"/api/v1/session"_s, {}, {}, "POST, DELETE");
    row("account", "GET", u"/api/v1/account"_s, u"GET /api/v1/account"_s);
    row("account HEAD", "HEAD", u"/api/v1/account"_s, {}, {}, "GET");
    row("account, trailing slash", "GET", u"/api/v1/account/"_s, {});
    row("password", "PUT", u"/api/v1/account/password"_s, u"PUT /api/v1/account/password"_s);
    row("password POST", "POST", u"/api/v1/account/password"_s, {}, {}, "PUT");
    row("methods are case-sensitive", "get", u"/api/v1/account"_s, {}, {}, "GET");

    row("inbox", "GET", u"/api/v1/mailboxes/inbox/messages"_s, u"GET /api/v1/mailboxes/{folder:folder}/messages"_s,
        {u"folder"_s, u"inbox"_s});
    row("sent", "GET", u"/api/v1/mailboxes/sent/messages"_s, u"GET /api/v1/mailboxes/{folder:folder}/messages"_s,
        {u"folder"_s, u"sent"_s});
    row("unknown folder", "GET", u"/api/v1/mailboxes/drafts/messages"_s, {});
    row("unknown folder, POST: 404, not 405", "POST", u"/api/v1/mailboxes/drafts/messages"_s, {});
    row("folder POST", "POST", u"/api/v1/mailboxes/inbox/messages"_s, {}, {}, "GET");

    row("message", "GET", u"/api/v1/messages/42"_s, u"GET /api/v1/messages/{id:int}"_s, {u"id"_s, u"42"_s});
    row("message PATCH", "PATCH", u"/api/v1/messages/42"_s, u"PATCH /api/v1/messages/{id:int}"_s, {u"id"_s, u"42"_s});
    row("message DELETE", "DELETE", u"/api/v1/messages/42"_s, u"DELETE /api/v1/messages/{id:int}"_s,
        {u"id"_s, u"42"_s});
    row("message PUT", "PUT", u"/api/v1/messages/42"_s, {}, {}, "GET, PATCH, DELETE");
    row("leading zeros", "GET", u"/api/v1/messages/007"_s, u"GET /api/v1/messages/{id:int}"_s, {u"id"_s, u"007"_s});
    row("18 digits", "GET", u"/api/v1/messages/999999999999999999"_s, u"GET /api/v1/messages/{id:int}"_s,
        {u"id"_s, u"999999999999999999"_s});
    row("19 digits", "GET", u"/api/v1/messages/1000000000000000000"_s, {});
    row("id 0", "GET", u"/api/v1/messages/0"_s, {});
    row("id 0, PUT: 404, not 405", "PUT", u"/api/v1/messages/0"_s, {});
    row("negative id", "GET", u"/api/v1/messages/-1"_s, {});
    row("signed id", "GET", u"/api/v1/messages/+1"_s, {});
    row("id not a number", "GET", u"/api/v1/messages/abc"_s, {});
    row("id with a space", "GET", u"/api/v1/messages/1 "_s, {});
    row("id in Arabic-Indic digits", "GET", u"/api/v1/messages/\u0661"_s, {});
    row("no id", "GET", u"/api/v1/messages"_s, {});
    row("empty id", "GET", u"/api/v1/messages/"_s, {});
    row("message, trailing slash", "GET", u"/api/v1/messages/42/"_s, {});
    row("raw", "GET", u"/api/v1/messages/42/raw"_s, u"GET /api/v1/messages/{id:int}/raw"_s, {u"id"_s, u"42"_s});
    row("raw DELETE", "DELETE", u"/api/v1/messages/42/raw"_s, {}, {}, "GET");
    row("raw of id 0", "GET", u"/api/v1/messages/0/raw"_s, {});
    row("other part", "GET", u"/api/v1/messages/42/source"_s, {});
    row("attachment 0", "GET", u"/api/v1/messages/42/attachments/0"_s,
        u"GET /api/v1/messages/{id:int}/attachments/{index:index}"_s, {u"id"_s, u"42"_s, u"index"_s, u"0"_s});
    row("attachment, 6 digits", "GET", u"/api/v1/messages/42/attachments/999999"_s,
        u"GET /api/v1/messages/{id:int}/attachments/{index:index}"_s,
        {u"id"_s, u"42"_s, u"index"_s, u"999999"_s});
    row("attachment, 7 digits", "GET", u"/api/v1/messages/42/attachments/1000000"_s, {});
    row("attachment, negative", "GET", u"/api/v1/messages/42/attachments/-1"_s, {});
    row("attachment, none", "GET", u"/api/v1/messages/42/attachments"_s, {});
    row("attachment POST", "POST", u"/api/v1/messages/42/attachments/1"_s, {}, {}, "GET");
}

void TestHttpRoutes::match()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QString, route);
    QFETCH(QStringList, parameters);
    QFETCH(QByteArray, allowed);

    static const HttpRouteTable<QString> table = webdRoutes();
    const HttpRouteTable<QString>::Match match = table.match(method, path);
    QCOMPARE(match.target ? *match.target : QString(), route);
    QCOMPARE(match.allowed, allowed);
    HttpPathParameters expected;
    for (qsizetype i = 0; i + 1 < parameters.size(); i += 2)
        expected.insert(parameters.at(i), parameters.at(i + 1));
    QVERIFY(match.parameters == expected);
    for (qsizetype i = 0; i + 1 < parameters.size(); i += 2)
        QCOMPARE(match.parameters.number(parameters.at(i)), parameters.at(i + 1).toLongLong());
}

void TestHttpRoutes::invalidPatterns_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::newRow("unknown type") << u"/a/{id:uuid}"_s;
    QTest::newRow("no type") << u"/a/{id}"_s;
    QTest::newRow("no name") << u"/a/{:int}"_s;
    QTest::newRow("unclosed") << u"/a/{id:int"_s;
    QTest::newRow("brace in a literal") << u"/a/b{c"_s;
    QTest::newRow("parameter inside a literal") << u"/a/x{id:int}"_s;
}

void TestHttpRoutes::invalidPatterns()
{
    QFETCH(QString, pattern);
    HttpRouteTable<int> table;
    QVERIFY(!table.add("GET", pattern, 1));
    QVERIFY(!HttpPathPattern(pattern, HttpPathPattern::builtInTypes()).isValid());
    QVERIFY(!table.match("GET", u"/a/1"_s).target);
}

// Two patterns for one path: the first of the method wins; Allow lists
// each method once, in table order.
void TestHttpRoutes::firstRouteWins()
{
    HttpRouteTable<int> table;
    QVERIFY(table.add("GET", u"/items/new", 1));
    QVERIFY(table.add("GET", u"/items/{id:int}", 2));
    QVERIFY(table.add("PUT", u"/items/{name:index}", 3));
    QVERIFY(table.add("GET", u"/items/{name:index}", 4));
    QCOMPARE(*table.match("GET", u"/items/new"_s).target, 1);
    QCOMPARE(*table.match("GET", u"/items/5"_s).target, 2);
    QCOMPARE(*table.match("GET", u"/items/0"_s).target, 4);
    QCOMPARE(*table.match("PUT", u"/items/5"_s).target, 3);
    QCOMPARE(table.match("DELETE", u"/items/5"_s).allowed, "GET, PUT"_ba);
    QCOMPARE(table.match("DELETE", u"/items/new"_s).allowed, "GET"_ba);
}

QTEST_APPLESS_MAIN(TestHttpRoutes)
#include "tst_httproutes.moc"
