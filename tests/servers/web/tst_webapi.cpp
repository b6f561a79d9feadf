// docs/protocol/web.md, row by row, through QNetworkAccessManager: an in-process
// WebApi behind a WebServer on 127.0.0.1 (port chosen by the system), one
// certificate generated for the whole run, a fresh database per test with the
// accounts alice and bob and a few messages delivered through Store. The
// client trusts only that certificate and asks for https://127.0.0.1:PORT/
// (verified against the certificate's IP address name: a minimal system
// may not resolve "localhost"),
// so every answer here has passed real TLS verification and QNAM's HTTP/1.1
// parser. docs/WEB-COVERAGE.md maps each route and rule of web.md to the functions
// and rows here, to test_webd.py and to tst_httpparser.

#include "config.h"
#include "mimemessage.h"
#include "passwords.h"
#include "store.h"
#include "testdatabase.h"
#include "testbytes.h"
#include "tlsmaterial.h"
#include "webapi.h"
#include "webserver.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QUrl>

#include <memory>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {

constexpr int ReplyTimeoutMs = 20000;
constexpr int StartTimeoutMs = 30000;

const QString AlicePassword = u"alice-secret-1"_s;
const QString BobPassword = u"bob-secret-12"_s;
const QByteArray JsonType = "application/json; charset=utf-8"_ba;

// The arrival times given to Store::deliver, one minute apart.
QDateTime arrival(int minute)
{
    return QDateTime(QDate(2026, 11, 22), QTime(13, minute), Qt::UTC);
}

// m1: bob to alice, with a Date: header in +0100 and white space to fold.
const QByteArray RawFirst = "From: Bob Builder <bob@project.com>\r\n"
                            "To: Alice <alice@project.com>\r\n"
                            "Subject: First\r\n"
                            "Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
                            "Message-ID: <m1@project.com>\r\n"
                            "\r\n"
                            "Hello   Alice,\r\n"
                            "\r\n"
                            "first\tmessage.\r\n"_ba;

// m2: from outside to alice, cc bob; no Date: (date falls back to the
// arrival time), an encoded-word subject and a bare address.
const QByteArray RawSecond = "From: carol@example.org\r\n"
                             "To: alice@project.com\r\n"
                             "Cc: Bob <bob@project.com>\r\n"
                             "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
                             "Message-ID: <m2@example.org>\r\n"
                             "\r\n"
                             "Second message.\r\n"_ba;

// The attachments of m3: 256 bytes of every value, and a short text.
QByteArray everyByte()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes.append(char(i));
    return bytes;
}
const QByteArray NotesText = "line one\r\nline two\r\n"_ba;

// m3: multipart/mixed to alice: text, a text attachment and a binary one.
QByteArray rawThird()
{
    return "From: Dave <dave@example.net>\r\n"
           "To: alice@project.com\r\n"
           "Subject: With attachments\r\n"
           "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"XyZ\"\r\n"
           "\r\n"
           "--XyZ\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "See the files.\r\n"
           "--XyZ\r\n"
           "Content-Type: text/plain; name=\"notes.txt\"\r\n"
           "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "\r\n"_ba
        + NotesText.toBase64() + "\r\n"
        + "--XyZ\r\n"
          "Content-Type: application/octet-stream\r\n"
          "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "\r\n"_ba
        + everyByte().toBase64() + "\r\n"
        + "--XyZ--\r\n"_ba;
}

// m4: to bob only.
const QByteArray RawFourth = "From: carol@example.org\r\n"
                             "To: bob@project.com\r\n"
                             "Subject: For Bob only\r\n"
                             "Date: Sun, 22 Nov 2026 12:30:00 +0000\r\n"
                             "\r\n"
                             "Private.\r\n"_ba;

// One HTTP answer as QNAM saw it.
struct Answer
{
    bool finished = false;
    int status = 0;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorString;
    QList<QSslError> sslErrors;
    QList<QNetworkReply::RawHeaderPair> headers;
    QByteArray body;

    [[nodiscard]] QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0)
                return value;
        }
        return {};
    }
    [[nodiscard]] bool hasHeader(QByteArrayView name) const
    {
        return std::any_of(headers.cbegin(), headers.cend(), [&](const QNetworkReply::RawHeaderPair &pair) {
            return QByteArrayView(pair.first).compare(name, Qt::CaseInsensitive) == 0;
        });
    }
    [[nodiscard]] QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    [[nodiscard]] QString errorCode() const
    {
        return json().value(u"error").toObject().value(u"code").toString();
    }
    // For failure messages.
    [[nodiscard]] QByteArray describe() const
    {
        QByteArray text = QByteArray::number(status) + ' ' + body.left(300);
        if (!finished)
            text += " (no answer in time)";
        if (error != QNetworkReply::NoError && status == 0)
            text += " [" + errorString.toUtf8() + ']';
        for (const QSslError &ssl : sslErrors)
            text += " [TLS: " + ssl.errorString().toUtf8() + ']';
        return text;
    }
};

using Headers = QList<std::pair<QByteArray, QByteArray>>;

QByteArray jsonBytes(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

bool isIsoUtc(const QJsonValue &value)
{
    static const QRegularExpression pattern(u"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"_s);
    return value.isString() && pattern.match(value.toString()).hasMatch();
}

bool isIntegerId(const QJsonValue &value)
{
    return value.isDouble() && value.toDouble() >= 1 && value.toDouble() == double(value.toInteger());
}

QJsonObject address(const QString &name, const QString &addr)
{
    return {{u"name"_s, name}, {u"address"_s, addr}};
}

} // namespace

// An error answer: the status, the JSON error object with its code word (docs/protocol/web.md §4),
// and the JSON type.
#define CHECK_ERROR(answer, expectedStatus, expectedCode)                                                              \
    do {                                                                                                               \
        const Answer &a_ = (answer);                                                                                   \
        QVERIFY2(a_.status == (expectedStatus), a_.describe().constData());                                           \
        QCOMPARE(a_.header("content-type"), JsonType);                                                                 \
        QCOMPARE(a_.errorCode(), QString(expectedCode));                                                               \
        QVERIFY2(!a_.json().value(u"error").toObject().value(u"message").toString().isEmpty(), a_.body.constData());   \
    } while (false)

#define CHECK_STATUS(answer, expectedStatus)                                                                           \
    do {                                                                                                               \
        const Answer &a_ = (answer);                                                                                   \
        QVERIFY2(a_.status == (expectedStatus), a_.describe().constData());                                           \
    } while (false)

class TestWebApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void healthz_data();
    void healthz();
    void login_data();
    void login();
    void loginBadCredentials_data();
    void loginBadCredentials();
    void loginBadRequest_data();
    void loginBadRequest();
    void loginThrottled();
    void logout();
    void deletedAccountsTokenEnds();
    void account();
    void displayName_data();
    void displayName();
    void directory_data();
    void directory();
    void directoryRefusals();
    void listing();
    void listingPages_data();
    void listingPages();
    void listingBadParameters_data();
    void listingBadParameters();
    void messageDetail();
    void manyRecipientsListedBounded();
    void rawMessage();
    void attachment_data();
    void attachment();
    void patchSeen();
    void patchBadBody_data();
    void patchBadBody();
    void deleteMessage();
    void folders();
    void folderRefusals_data();
    void folderRefusals();
    void otherAccountsFolders_data();
    void otherAccountsFolders();
    void flagsAndMoves();
    void copyMessage();
    void changes();
    void changesRefusals_data();
    void changesRefusals();
    void search();
    void searchRefusals();
    void appendMessage();
    void appendRefusals();
    void eventStream();
    void eventStreamResumes();
    void eventStreamLimits();
    void eventStreamDropsAReaderThatDoesNotRead();
    void changePassword();
    void changePasswordRefused_data();
    void changePasswordRefused();
    void changePasswordControlCharacters_data();
    void changePasswordControlCharacters();
    void otherAccountsIds_data();
    void otherAccountsIds();
    void unknownQueryParameters_data();
    void unknownQueryParameters();
    void unknownPaths_data();
    void unknownPaths();
    void unauthorized_data();
    void unauthorized();
    void tokenExpires();
    void methodNotAllowed_data();
    void methodNotAllowed();
    void unsupportedMediaType_data();
    void unsupportedMediaType();
    void bodyLimit_data();
    void bodyLimit();
    void keepAlive();
    void dribbledRequestTimesOut();
    void garbageBeneathTlsCloses();
    void perAddressLimit();

private:
    bool startServer(const WebServer::Options &options = {});
    // A raw TLS client of the server, handshake done; false when it failed.
    bool connectRaw(QSslSocket &socket, const QHostAddress &from = {});
    void stopServer();
    Answer send(const QByteArray &method, const QString &target, const QByteArray &token = {},
                const QByteArray &body = {}, const QByteArray &contentType = {}, const Headers &headers = {});
    Answer sendJson(const QByteArray &method, const QString &target, const QByteArray &token, const QJsonObject &body)
    {
        return send(method, target, token, jsonBytes(body), "application/json"_ba);
    }
    QByteArray tokenFor(const QString &username, const QString &password);
    [[nodiscard]] QString messagePath(qint64 id, const QString &suffix = {}) const
    {
        return u"/api/v1/messages/%1%2"_s.arg(id).arg(suffix);
    }

    QTemporaryDir m_tlsDir;
    QSslConfiguration m_serverTls;
    QSslCertificate m_certificate;

    std::unique_ptr<QTemporaryDir> m_dataDir;
    std::unique_ptr<TestDatabase> m_database;
    Config m_config;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<WebApi> m_api;
    std::unique_ptr<WebServer> m_server;
    std::unique_ptr<QNetworkAccessManager> m_nam;
    // Answers of the test so far without the HSTS header of docs/protocol/web.md §4 (cleanup()
    // fails the test on any).
    QStringList m_withoutHsts;

    qint64 m_alice = 0;
    qint64 m_bob = 0;
    QByteArray m_rawThird;
    // Entry ids: alice's inbox (m1, m2, m3), bob's sent m1, inbox m2 and m4.
    qint64 m_aliceFirst = 0;
    qint64 m_aliceSecond = 0;
    qint64 m_aliceThird = 0;
    qint64 m_bobSentFirst = 0;
    qint64 m_bobSecond = 0;
    qint64 m_bobFourth = 0;
};

void TestWebApi::initTestCase()
{
    QVERIFY2(m_tlsDir.isValid(), qPrintable(m_tlsDir.errorString()));
    const QString certificateFile = m_tlsDir.filePath(u"cert.pem"_s);
    const QString keyFile = m_tlsDir.filePath(u"key.pem"_s);
    CertificateGenerator generator;
    QSignalSpy finished(&generator, &CertificateGenerator::finished);
    QSignalSpy failed(&generator, &CertificateGenerator::failed);
    generator.start(certificateFile, keyFile, u"localhost"_s);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), StartTimeoutMs);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));

    QString error;
    const auto tls = TlsMaterial::loadServerConfiguration(certificateFile, keyFile, &error);
    QVERIFY2(tls, qPrintable(error));
    m_serverTls = *tls;
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(certificateFile);
    QCOMPARE(certificates.size(), 1);
    m_certificate = certificates.first();
    m_rawThird = rawThird();
}

void TestWebApi::init()
{
    m_dataDir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dataDir->isValid(), qPrintable(m_dataDir->errorString()));
    m_config = Config();
    m_config.dataDir = m_dataDir->path();
    m_database = std::make_unique<TestDatabase>(m_dataDir->path(), TestDatabase::Start::Migrated);
    QVERIFY(m_database->isValid());
    m_config.database = m_database->url();
    m_config.pbkdf2Iterations = 1000;

    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(m_config.database, Store::OpenMode::CreateIfMissing),
             qPrintable(m_store->lastErrorText()));
    const auto alice = m_store->createAccount(u"alice"_s, Passwords::hash(AlicePassword, 1000));
    QVERIFY2(alice, qPrintable(m_store->lastErrorText()));
    const auto bob = m_store->createAccount(u"bob"_s, Passwords::hash(BobPassword, 1000));
    QVERIFY2(bob, qPrintable(m_store->lastErrorText()));
    m_alice = alice->id;
    m_bob = bob->id;

    const auto deliver = [this](const QByteArray &raw, int minute, qint64 sender, const QList<qint64> &recipients) {
        NewMessage message;
        message.raw = raw;
        const MimeMessage parsed = MimeMessage::parse(raw);
        message.summary = parsed.summary();
        message.text = parsed.readableText();
        message.receivedAt = arrival(minute);
        message.senderId = sender;
        message.recipientIds = recipients;
        return m_store->deliver(message);
    };
    const auto first = deliver(RawFirst, 1, m_bob, {m_alice});
    QVERIFY2(first, qPrintable(m_store->lastErrorText()));
    const auto second = deliver(RawSecond, 2, 0, {m_alice, m_bob});
    QVERIFY2(second, qPrintable(m_store->lastErrorText()));
    const auto third = deliver(m_rawThird, 3, 0, {m_alice});
    QVERIFY2(third, qPrintable(m_store->lastErrorText()));
    const auto fourth = deliver(RawFourth, 4, 0, {m_bob});
    QVERIFY2(fourth, qPrintable(m_store->lastErrorText()));
    m_aliceFirst = first->inboxEntryIds.value(0);
    m_bobSentFirst = first->sentEntryId;
    m_aliceSecond = second->inboxEntryIds.value(0);
    m_bobSecond = second->inboxEntryIds.value(1);
    m_aliceThird = third->inboxEntryIds.value(0);
    m_bobFourth = fourth->inboxEntryIds.value(0);
    QVERIFY(m_aliceFirst > 0 && m_bobSentFirst > 0 && m_aliceSecond > 0 && m_bobSecond > 0 && m_aliceThird > 0
            && m_bobFourth > 0);

    QVERIFY(startServer());
}

void TestWebApi::cleanup()
{
    stopServer();
    m_store.reset();
    m_database.reset();
    m_dataDir.reset();
    const QStringList withoutHsts = std::exchange(m_withoutHsts, {});
    QVERIFY2(withoutHsts.isEmpty(),
             qPrintable(u"answers without Strict-Transport-Security: "_s + withoutHsts.join(u", "_s)));
}

bool TestWebApi::startServer(const WebServer::Options &options)
{
    m_api = std::make_unique<WebApi>(m_config);
    QString error;
    if (!m_api->open(&error)) {
        qWarning("WebApi::open: %s", qPrintable(error));
        return false;
    }
    m_server = std::make_unique<WebServer>(m_serverTls, m_api.get(), options);
    if (!m_server->listen(QHostAddress::LocalHost, 0)) {
        qWarning("listen: %s", qPrintable(m_server->errorString()));
        return false;
    }
    m_nam = std::make_unique<QNetworkAccessManager>();
    return m_server->serverPort() != 0;
}

void TestWebApi::stopServer()
{
    m_nam.reset();
    m_server.reset();
    m_api.reset();
}

Answer TestWebApi::send(const QByteArray &method, const QString &target, const QByteArray &token,
                        const QByteArray &body, const QByteArray &contentType, const Headers &headers)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates({m_certificate});
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    QNetworkRequest request(QUrl(u"https://127.0.0.1:%1%2"_s.arg(m_server->serverPort()).arg(target)));
    request.setSslConfiguration(tls);
    if (!token.isEmpty())
        request.setRawHeader("Authorization"_ba, "Bearer " + token);
    if (!contentType.isEmpty())
        request.setRawHeader("Content-Type"_ba, contentType);
    for (const auto &[name, value] : headers)
        request.setRawHeader(name, value);

    QNetworkReply *reply = nullptr;
    if (method == "GET" && body.isEmpty())
        reply = m_nam->get(request);
    else if (method == "HEAD")
        reply = m_nam->head(request);
    else if (method == "DELETE" && body.isEmpty())
        reply = m_nam->deleteResource(request);
    else
        reply = m_nam->sendCustomRequest(request, method, body);
    std::unique_ptr<QNetworkReply> owner(reply);

    Answer answer;
    QObject::connect(reply, &QNetworkReply::sslErrors, reply,
                     [&answer](const QList<QSslError> &errors) { answer.sslErrors += errors; });
    QSignalSpy finished(reply, &QNetworkReply::finished);
    answer.finished = reply->isFinished() || finished.wait(ReplyTimeoutMs);
    answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    answer.error = reply->error();
    answer.errorString = reply->errorString();
    answer.headers = reply->rawHeaderPairs();
    answer.body = reply->readAll();
    // docs/protocol/web.md §4: on every response, whatever its status.
    if (answer.status != 0 && answer.header("strict-transport-security") != "max-age=31536000")
        m_withoutHsts.append(QString::fromLatin1(method) + u' ' + target + u" -> " + QString::number(answer.status));
    return answer;
}

QByteArray TestWebApi::tokenFor(const QString &username, const QString &password)
{
    const Answer answer = sendJson("POST"_ba, u"/api/v1/session"_s, {},
                                   {{u"username"_s, username}, {u"password"_s, password}});
    if (answer.status != 200) {
        qWarning("login as %s: %s", qPrintable(username), answer.describe().constData());
        return {};
    }
    return answer.json().value(u"token").toString().toLatin1();
}

// GET /healthz: {"status":"ok"}, no auth; HEAD: the same head, no body.
void TestWebApi::healthz_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("GET") << "GET"_ba << "{\"status\":\"ok\"}"_ba;
    QTest::newRow("HEAD") << "HEAD"_ba << QByteArray();
}

void TestWebApi::healthz()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, body);
    const Answer answer = send(method, u"/healthz"_s);
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    QCOMPARE(answer.body, body);
    QCOMPARE(answer.header("content-length"), "15"_ba);
}

// POST /api/v1/session by username or full address (any case): token, expiresAt, account.
void TestWebApi::login_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("account");
    QTest::newRow("username") << u"alice"_s << AlicePassword << u"alice"_s;
    QTest::newRow("full address") << u"alice@project.com"_s << AlicePassword << u"alice"_s;
    QTest::newRow("upper-case username") << u"ALICE"_s << AlicePassword << u"alice"_s;
    QTest::newRow("upper-case domain") << u"bob@PROJECT.COM"_s << BobPassword << u"bob"_s;
}

void TestWebApi::login()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(QString, account);
    const QDateTime before = QDateTime::currentDateTimeUtc();
    const Answer answer =
        sendJson("POST"_ba, u"/api/v1/session"_s, {}, {{u"username"_s, username}, {u"password"_s, password}});
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    const QJsonObject json = answer.json();

    // 32 random bytes as base64url without padding.
    const QString token = json.value(u"token").toString();
    QCOMPARE(token.size(), 43);
    const auto decoded = QByteArray::fromBase64Encoding(
        token.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
                              | QByteArray::AbortOnBase64DecodingErrors);
    QVERIFY(decoded);
    QCOMPARE(decoded.decoded.size(), 32);

    // Expires 24 h after login by default.
    QVERIFY2(isIsoUtc(json.value(u"expiresAt")), qPrintable(json.value(u"expiresAt").toString()));
    const QDateTime expires = QDateTime::fromString(json.value(u"expiresAt").toString(), Qt::ISODate);
    QVERIFY(expires >= before.addSecs(24 * 3600 - 2));
    QVERIFY(expires <= QDateTime::currentDateTimeUtc().addSecs(24 * 3600 + 2));

    const QJsonObject accountJson = json.value(u"account").toObject();
    QVERIFY(isIntegerId(accountJson.value(u"id")));
    QCOMPARE(accountJson.value(u"id").toInteger(), account == u"alice" ? m_alice : m_bob);
    QCOMPARE(accountJson.value(u"username").toString(), account);
    QCOMPARE(accountJson.value(u"address").toString(), account + u"@project.com"_s);
    QCOMPARE(json.size(), 3);

    // The token works, and two logins give two different tokens.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, token.toLatin1()), 200);
    const QByteArray second = tokenFor(username, password);
    QVERIFY(!second.isEmpty());
    QVERIFY(second != token.toLatin1());
}

// 401 on bad credentials, the same for an unknown name as for a wrong password.
void TestWebApi::loginBadCredentials_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::newRow("wrong password") << u"alice"_s << u"wrong-password"_s;
    QTest::newRow("another account's password") << u"alice"_s << BobPassword;
    QTest::newRow("unknown username") << u"mallory"_s << AlicePassword;
    QTest::newRow("address in another domain") << u"alice@example.org"_s << AlicePassword;
    QTest::newRow("invalid username") << u"al ice"_s << AlicePassword;
    QTest::newRow("empty password") << u"alice"_s << QString();
    QTest::newRow("empty username") << QString() << AlicePassword;
}

void TestWebApi::loginBadCredentials()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    const Answer answer =
        sendJson("POST"_ba, u"/api/v1/session"_s, {}, {{u"username"_s, username}, {u"password"_s, password}});
    CHECK_ERROR(answer, 401, u"unauthorized"_s);
    QVERIFY(answer.header("www-authenticate").startsWith("Bearer"));
    QVERIFY(!answer.json().contains(u"token"));
}

// 400 for a login body without both strings (415 and 413 have their own functions).
void TestWebApi::loginBadRequest_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("no password") << "{\"username\":\"alice\"}"_ba;
    QTest::newRow("no username") << "{\"password\":\"alice-secret-1\"}"_ba;
    QTest::newRow("password a number") << "{\"username\":\"alice\",\"password\":12345678}"_ba;
    QTest::newRow("username null") << "{\"username\":null,\"password\":\"alice-secret-1\"}"_ba;
    QTest::newRow("invalid JSON") << "{\"username\":"_ba;
    QTest::newRow("an array") << "[\"alice\",\"alice-secret-1\"]"_ba;
    QTest::newRow("empty body") << QByteArray();
}

void TestWebApi::loginBadRequest()
{
    QFETCH(QByteArray, body);
    CHECK_ERROR(send("POST"_ba, u"/api/v1/session"_s, {}, body, "application/json"_ba), 400, u"bad_request"_s);
}

// 429 with Retry-After once the address has failed too often, even with the right password.
void TestWebApi::loginThrottled()
{
    stopServer();
    m_config.limits.failedLoginsPerAddress = 3;
    QVERIFY(startServer());
    for (int i = 0; i < 2; ++i) {
        const Answer failed = sendJson("POST"_ba, u"/api/v1/session"_s, {},
                                       {{u"username"_s, u"alice"_s}, {u"password"_s, u"wrong-%1"_s.arg(i)}});
        CHECK_ERROR(failed, 401, u"unauthorized"_s);
    }
    const Answer refused =
        sendJson("POST"_ba, u"/api/v1/session"_s, {}, {{u"username"_s, u"alice"_s}, {u"password"_s, AlicePassword}});
    CHECK_ERROR(refused, 429, u"too_many_requests"_s);
    QCOMPARE(refused.header("retry-after"), QByteArray::number(m_config.limits.loginWindowSeconds));
    QVERIFY(!refused.json().contains(u"token"));
}

// DELETE /api/v1/session: 204, then the token is refused.
void TestWebApi::logout()
{
    const QByteArray token = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!token.isEmpty());
    const QByteArray other = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!other.isEmpty());
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, token), 200);

    const Answer out = send("DELETE"_ba, u"/api/v1/session"_s, token);
    CHECK_STATUS(out, 204);
    QVERIFY(out.body.isEmpty());

    const Answer after = send("GET"_ba, u"/api/v1/account"_s, token);
    CHECK_ERROR(after, 401, u"unauthorized"_s);
    QVERIFY(after.header("www-authenticate").startsWith("Bearer"));
    CHECK_ERROR(send("DELETE"_ba, u"/api/v1/session"_s, token), 401, u"unauthorized"_s);
    // Only that session ended.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, other), 200);
}

// An account deleted (mailroomctl delete-user) takes its sessions with it;
// another account's stays.
void TestWebApi::deletedAccountsTokenEnds()
{
    const QByteArray aliceToken = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bobToken = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!aliceToken.isEmpty() && !bobToken.isEmpty());
    CHECK_STATUS(send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, aliceToken), 200);
    const auto alice = m_store->findAccount(u"alice"_s);
    QVERIFY(alice);
    QVERIFY2(m_store->deleteAccount(alice->id), qPrintable(m_store->lastErrorText()));

    for (const QString &path : {u"/api/v1/account"_s, u"/api/v1/mailboxes/inbox/messages"_s}) {
        const Answer after = send("GET"_ba, path, aliceToken);
        CHECK_ERROR(after, 401, u"unauthorized"_s);
        QCOMPARE(after.header("www-authenticate"), "Bearer error=\"invalid_token\""_ba);
    }
    const Answer bob = send("GET"_ba, u"/api/v1/account"_s, bobToken);
    CHECK_STATUS(bob, 200);
    QCOMPARE(bob.json().value(u"username").toString(), u"bob"_s);
}

// GET /api/v1/account with the folder counts.
void TestWebApi::account()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());

    const Answer answer = send("GET"_ba, u"/api/v1/account"_s, alice);
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    const QJsonObject folders{
        {u"inbox"_s, QJsonObject{{u"total"_s, 3}, {u"unseen"_s, 3}}},
        {u"sent"_s, QJsonObject{{u"total"_s, 0}, {u"unseen"_s, 0}}},
    };
    const QJsonObject expected{{u"id"_s, m_alice},
                               {u"username"_s, u"alice"_s},
                               {u"address"_s, u"alice@project.com"_s},
                               {u"displayName"_s, u""_s},
                               {u"folders"_s, folders}};
    QCOMPARE(answer.json(), expected);

    // Bob: two in the inbox, his sent copy of m1 already seen.
    const QJsonObject bobFolders = send("GET"_ba, u"/api/v1/account"_s, bob).json().value(u"folders").toObject();
    QCOMPARE(bobFolders.value(u"inbox").toObject(), (QJsonObject{{u"total"_s, 2}, {u"unseen"_s, 2}}));
    QCOMPARE(bobFolders.value(u"sent").toObject(), (QJsonObject{{u"total"_s, 1}, {u"unseen"_s, 0}}));

    // The counts follow PATCH and DELETE.
    CHECK_STATUS(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"seen"_s, true}}), 200);
    CHECK_STATUS(send("DELETE"_ba, messagePath(m_aliceSecond), alice), 204);
    const QJsonObject after = send("GET"_ba, u"/api/v1/account"_s, alice).json().value(u"folders").toObject();
    QCOMPARE(after.value(u"inbox").toObject(), (QJsonObject{{u"total"_s, 2}, {u"unseen"_s, 1}}));
}

// PATCH /api/v1/account {"displayName"}: 0 to 100 characters, no control
// characters; GET /api/v1/account shows it.
void TestWebApi::displayName_data()
{
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<int>("status");
    QTest::newRow("a name") << QJsonValue(u"Alice Liddell"_s) << 200;
    QTest::newRow("empty") << QJsonValue(u""_s) << 200;
    QTest::newRow("non-ASCII") << QJsonValue(u"J\u00fcrgen \u6771\u4eac"_s) << 200;
    QTest::newRow("100 characters") << QJsonValue(QString(100, u'x')) << 200;
    QTest::newRow("100 astral characters (200 UTF-16 units)") << QJsonValue(QString(u"\U0001F600"_s).repeated(100)) << 200;
    QTest::newRow("101 characters") << QJsonValue(QString(101, u'x')) << 400;
    QTest::newRow("a line break") << QJsonValue(u"Alice\nBob"_s) << 400;
    QTest::newRow("a tab") << QJsonValue(u"Alice\tL"_s) << 400;
    QTest::newRow("DEL") << QJsonValue(u"Alice\x7f"_s) << 400;
    QTest::newRow("a number") << QJsonValue(42) << 400;
    QTest::newRow("null") << QJsonValue(QJsonValue::Null) << 400;
    QTest::newRow("missing") << QJsonValue(QJsonValue::Undefined) << 400;
}

void TestWebApi::displayName()
{
    QFETCH(QJsonValue, value);
    QFETCH(int, status);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    QCOMPARE(send("GET"_ba, u"/api/v1/account"_s, alice).json().value(u"displayName"), QJsonValue(u""_s));
    QJsonObject body;
    if (!value.isUndefined())
        body.insert(u"displayName"_s, value);
    const Answer answer = sendJson("PATCH"_ba, u"/api/v1/account"_s, alice, body);
    const QString expected = status == 200 ? value.toString() : QString();
    if (status == 200) {
        CHECK_STATUS(answer, 200);
        QCOMPARE(answer.json().value(u"displayName").toString(), expected);
        QCOMPARE(answer.json().value(u"username").toString(), u"alice"_s);
        QVERIFY(answer.json().value(u"folders").isObject()); // the whole account, as GET gives it
    } else {
        CHECK_ERROR(answer, 400, u"bad_request"_s);
    }
    QCOMPARE(send("GET"_ba, u"/api/v1/account"_s, alice).json().value(u"displayName").toString(), expected);
    // Another account's is untouched.
    QCOMPARE(m_store->findAccount(u"bob"_s)->displayName, QString());
    CHECK_ERROR(sendJson("PATCH"_ba, u"/api/v1/account"_s, QByteArray(), body), 401, u"unauthorized"_s);
}

// GET /api/v1/directory?q=PREFIX: up to 20 accounts whose name or display
// name begins with it (case and accents aside), by name, as a JSON array.
void TestWebApi::directory_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QStringList>("usernames");
    QStringList users; // user01 ... user25
    for (int i = 1; i <= 25; ++i)
        users.append(u"user%1"_s.arg(i, 2, 10, QChar(u'0')));
    QTest::newRow("everyone, the first 20") << QString() << QStringList{u"alice"_s, u"bob"_s} + users.first(18);
    QTest::newRow("q empty") << u"?q="_s << QStringList{u"alice"_s, u"bob"_s} + users.first(18);
    QTest::newRow("a name") << u"?q=al"_s << QStringList{u"alice"_s};
    QTest::newRow("a name in capitals") << u"?q=BO"_s << QStringList{u"bob"_s};
    QTest::newRow("a display name") << u"?q=Lewis%20C"_s << QStringList{u"alice"_s};
    QTest::newRow("not a display name's middle") << u"?q=carroll"_s << QStringList{};
    QTest::newRow("a display name without its accent") << u"?q=zoe"_s << QStringList{u"bob"_s};
    QTest::newRow("a display name, encoded UTF-8") << u"?q=Zo%C3%AB%20B"_s << QStringList{u"bob"_s};
    QTest::newRow("nobody") << u"?q=zz"_s << QStringList{};
    QTest::newRow("users, the first 20") << u"?q=user"_s << users.first(20);
    QTest::newRow("user2") << u"?q=user2"_s << users.mid(19);
}

void TestWebApi::directory()
{
    QFETCH(QString, query);
    QFETCH(QStringList, usernames);
    for (int i = 1; i <= 25; ++i)
        QVERIFY(m_store->createAccount(u"user%1"_s.arg(i, 2, 10, QChar(u'0')), Passwords::hash(BobPassword, 1000)));
    QVERIFY(m_store->setDisplayName(m_alice, u"Lewis Carroll"_s));
    QVERIFY(m_store->setDisplayName(m_store->findAccount(u"bob"_s)->id, u"Zo\u00eb Builder"_s));
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer answer = send("GET"_ba, u"/api/v1/directory"_s + query, alice);
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    const QJsonDocument document = QJsonDocument::fromJson(answer.body);
    QVERIFY(document.isArray());
    QStringList names;
    for (const QJsonValue &entry : document.array()) {
        const QJsonObject object = entry.toObject();
        QCOMPARE(object.keys(), (QStringList{u"address"_s, u"displayName"_s, u"username"_s}));
        QCOMPARE(object.value(u"address").toString(), object.value(u"username").toString() + u"@project.com"_s);
        const QString name = object.value(u"username").toString();
        QCOMPARE(object.value(u"displayName").toString(),
                 name == u"alice" ? u"Lewis Carroll"_s : name == u"bob" ? u"Zo\u00eb Builder"_s : QString());
        names.append(name);
    }
    QCOMPARE(names, usernames);
}

// What the directory refuses: a query too long or with control characters,
// other parameters, no token.
void TestWebApi::directoryRefusals()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_STATUS(send("GET"_ba, u"/api/v1/directory?q="_s + QString(100, u'a'), alice), 200);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/directory?q="_s + QString(101, u'a'), alice), 400, u"bad_request"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/directory?q=a%0Ab"_s, alice), 400, u"bad_request"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/directory?prefix=a"_s, alice), 400, u"bad_request"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/directory?q=a&q=b"_s, alice), 400, u"bad_request"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/directory?q=a"_s), 401, u"unauthorized"_s);
}

// GET /api/v1/mailboxes/{inbox|sent}/messages: the summary fields and JSON value rules.
void TestWebApi::listing()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer answer = send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice);
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    const QJsonObject json = answer.json();
    QCOMPARE(json.size(), 2);
    QVERIFY(json.value(u"nextBefore").isNull());
    const QJsonArray messages = json.value(u"messages").toArray();
    QCOMPARE(messages.size(), 3);
    // Newest first (by entry id).
    QCOMPARE(messages.at(0).toObject().value(u"id").toInteger(), m_aliceThird);
    QCOMPARE(messages.at(1).toObject().value(u"id").toInteger(), m_aliceSecond);
    QCOMPARE(messages.at(2).toObject().value(u"id").toInteger(), m_aliceFirst);

    for (const QJsonValue &value : messages) {
        const QJsonObject message = value.toObject();
        QVERIFY(isIntegerId(message.value(u"id")));
        QVERIFY(isIsoUtc(message.value(u"date")));
        QVERIFY(message.value(u"from").isObject());
        QVERIFY(message.value(u"to").isArray());
        QVERIFY(message.value(u"cc").isArray());
        QVERIFY(message.value(u"subject").isString());
        QVERIFY(message.value(u"size").isDouble());
        QCOMPARE(message.value(u"seen"), QJsonValue(false));
        QVERIFY(message.value(u"preview").isString());
        QVERIFY(!message.contains(u"text"));
        QVERIFY(!message.contains(u"headers"));
    }

    const QJsonObject first = messages.at(2).toObject();
    QCOMPARE(first.value(u"from").toObject(), address(u"Bob Builder"_s, u"bob@project.com"_s));
    QCOMPARE(first.value(u"to").toArray(), QJsonArray{address(u"Alice"_s, u"alice@project.com"_s)});
    QCOMPARE(first.value(u"cc").toArray(), QJsonArray());
    QCOMPARE(first.value(u"subject").toString(), u"First"_s);
    QCOMPARE(first.value(u"date").toString(), u"2026-11-02T09:00:00Z"_s); // the Date: header, in UTC
    QCOMPARE(first.value(u"size").toInteger(), RawFirst.size());
    QCOMPARE(first.value(u"preview").toString(), u"Hello Alice, first message."_s);

    // No Date: the arrival time; a bare address has an empty name; encoded words decoded.
    const QJsonObject second = messages.at(1).toObject();
    QCOMPARE(second.value(u"date").toString(), u"2026-11-22T13:02:00Z"_s);
    QCOMPARE(second.value(u"from").toObject(), address(QString(), u"carol@example.org"_s));
    QCOMPARE(second.value(u"cc").toArray(), QJsonArray{address(u"Bob"_s, u"bob@project.com"_s)});
    QCOMPARE(second.value(u"subject").toString(), u"Gr\u00fc\u00dfe"_s);
    QCOMPARE(second.value(u"size").toInteger(), RawSecond.size());

    // The sent folder is a folder of its own: bob's copy of m1, seen.
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    const Answer sent = send("GET"_ba, u"/api/v1/mailboxes/sent/messages"_s, bob);
    CHECK_STATUS(sent, 200);
    const QJsonArray sentMessages = sent.json().value(u"messages").toArray();
    QCOMPARE(sentMessages.size(), 1);
    QCOMPARE(sentMessages.at(0).toObject().value(u"id").toInteger(), m_bobSentFirst);
    QCOMPARE(sentMessages.at(0).toObject().value(u"seen"), QJsonValue(true));
    const Answer aliceSent = send("GET"_ba, u"/api/v1/mailboxes/sent/messages"_s, alice);
    CHECK_STATUS(aliceSent, 200);
    QCOMPARE(aliceSent.json(), (QJsonObject{{u"messages"_s, QJsonArray()}, {u"nextBefore"_s, QJsonValue::Null}}));
}

// limit and before: pages, before exclusive, nextBefore the last id or null when nothing is older.
// Rows name the ids by position in alice's inbox: 1 = m1 (oldest), 3 = m3 (newest); 4 is beyond.
void TestWebApi::listingPages_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QList<int>>("expected");
    QTest::addColumn<int>("nextBefore"); // 0: null
    QTest::newRow("default limit") << QString() << QList<int>{3, 2, 1} << 0;
    QTest::newRow("limit=1") << u"limit=1"_s << QList<int>{3} << 3;
    QTest::newRow("limit=2") << u"limit=2"_s << QList<int>{3, 2} << 2;
    QTest::newRow("limit=3: exactly all, nothing older") << u"limit=3"_s << QList<int>{3, 2, 1} << 0;
    QTest::newRow("limit=500") << u"limit=500"_s << QList<int>{3, 2, 1} << 0;
    QTest::newRow("before=m3 (exclusive)") << u"before={3}"_s << QList<int>{2, 1} << 0;
    QTest::newRow("limit=1&before=m3") << u"limit=1&before={3}"_s << QList<int>{2} << 2;
    QTest::newRow("second page of two") << u"limit=2&before={2}"_s << QList<int>{1} << 0;
    QTest::newRow("before=m1: empty") << u"before={1}"_s << QList<int>{} << 0;
    QTest::newRow("before beyond the newest") << u"before={4}"_s << QList<int>{3, 2, 1} << 0;
    QTest::newRow("before=1 (smallest id)") << u"before=1"_s << QList<int>{} << 0;
}

void TestWebApi::listingPages()
{
    QFETCH(QString, query);
    QFETCH(QList<int>, expected);
    QFETCH(int, nextBefore);
    const QList<qint64> ids{0, m_aliceFirst, m_aliceSecond, m_aliceThird, m_bobFourth + 1000};
    query.replace(u"{1}"_s, QString::number(ids[1]))
        .replace(u"{2}"_s, QString::number(ids[2]))
        .replace(u"{3}"_s, QString::number(ids[3]))
        .replace(u"{4}"_s, QString::number(ids[4]));
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer answer = send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s
                                             + (query.isEmpty() ? QString() : u'?' + query),
                               alice);
    CHECK_STATUS(answer, 200);
    QList<qint64> got;
    const QJsonArray messages = answer.json().value(u"messages").toArray();
    for (const QJsonValue &value : messages)
        got.append(value.toObject().value(u"id").toInteger());
    QList<qint64> want;
    for (int position : expected)
        want.append(ids[position]);
    QCOMPARE(got, want);
    const QJsonValue next = answer.json().value(u"nextBefore");
    if (nextBefore == 0) {
        QVERIFY2(next.isNull(), answer.body.constData());
    } else {
        QVERIFY(isIntegerId(next));
        QCOMPARE(next.toInteger(), ids[nextBefore]);
    }
}

// 400 for a limit outside 1..500 or malformed, and for a malformed before; 404 for an unknown folder.
void TestWebApi::listingBadParameters_data()
{
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("status");
    const QString inbox = u"/api/v1/mailboxes/inbox/messages?"_s;
    QTest::newRow("limit=0") << inbox + u"limit=0"_s << 400;
    QTest::newRow("limit=501") << inbox + u"limit=501"_s << 400;
    QTest::newRow("limit=-1") << inbox + u"limit=-1"_s << 400;
    QTest::newRow("limit=+5") << inbox + u"limit=+5"_s << 400;
    QTest::newRow("limit=abc") << inbox + u"limit=abc"_s << 400;
    QTest::newRow("limit=1.5") << inbox + u"limit=1.5"_s << 400;
    QTest::newRow("limit empty") << inbox + u"limit="_s << 400;
    QTest::newRow("limit huge") << inbox + u"limit=99999999999999999999"_s << 400;
    QTest::newRow("before=abc") << inbox + u"before=abc"_s << 400;
    QTest::newRow("before=0") << inbox + u"before=0"_s << 400;
    QTest::newRow("before=-5") << inbox + u"before=-5"_s << 400;
    QTest::newRow("before empty") << inbox + u"before="_s << 400;
    QTest::newRow("before=1e3") << inbox + u"before=1e3"_s << 400;
    QTest::newRow("sent, limit=0") << u"/api/v1/mailboxes/sent/messages?limit=0"_s << 400;
    // Never a search that seems to have matched everything.
    QTest::newRow("q, not taken") << inbox + u"q=invoice"_s << 400;
    QTest::newRow("unknown among known") << inbox + u"limit=5&sort=asc"_s << 400;
    QTest::newRow("limit twice") << inbox + u"limit=5&limit=6"_s << 400;
    QTest::newRow("before twice") << inbox + u"before=9&before=9"_s << 400;
    QTest::newRow("a name only") << inbox + u"limit"_s << 400;
    QTest::newRow("unknown folder") << u"/api/v1/mailboxes/trash/messages"_s << 404;
    QTest::newRow("folder name in capitals") << u"/api/v1/mailboxes/INBOX/messages"_s << 404;
}

void TestWebApi::listingBadParameters()
{
    QFETCH(QString, target);
    QFETCH(int, status);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_ERROR(send("GET"_ba, target, alice), status, status == 400 ? u"bad_request"_s : u"not_found"_s);
}

// GET /api/v1/messages/{id}: the summary fields plus text, headers and attachments; not marked seen.
void TestWebApi::messageDetail()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer answer = send("GET"_ba, messagePath(m_aliceFirst), alice);
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.header("content-type"), JsonType);
    const QJsonObject json = answer.json();
    QCOMPARE(json.value(u"id").toInteger(), m_aliceFirst);
    QCOMPARE(json.value(u"from").toObject(), address(u"Bob Builder"_s, u"bob@project.com"_s));
    QCOMPARE(json.value(u"subject").toString(), u"First"_s);
    QCOMPARE(json.value(u"date").toString(), u"2026-11-02T09:00:00Z"_s);
    QCOMPARE(json.value(u"receivedAt").toString(), u"2026-11-22T13:01:00Z"_s);
    QCOMPARE(json.value(u"seen"), QJsonValue(false));
    QCOMPARE(json.value(u"size").toInteger(), RawFirst.size());
    QCOMPARE(json.value(u"preview").toString(), u"Hello Alice, first message."_s);
    QCOMPARE(json.value(u"text").toString(), u"Hello   Alice,\n\nfirst\tmessage."_s);
    const QJsonArray headers{
        QJsonArray{u"From"_s, u"Bob Builder <bob@project.com>"_s},
        QJsonArray{u"To"_s, u"Alice <alice@project.com>"_s},
        QJsonArray{u"Subject"_s, u"First"_s},
        QJsonArray{u"Date"_s, u"Mon, 02 Nov 2026 10:00:00 +0100"_s},
        QJsonArray{u"Message-ID"_s, u"<m1@project.com>"_s},
    };
    QCOMPARE(json.value(u"headers").toArray(), headers);
    QCOMPARE(json.value(u"attachments").toArray(), QJsonArray());

    // Decoded header values, and the attachments of a multipart message.
    const QJsonObject second = send("GET"_ba, messagePath(m_aliceSecond), alice).json();
    QVERIFY(second.value(u"headers").toArray().contains(QJsonArray{u"Subject"_s, u"Gr\u00fc\u00dfe"_s}));
    QCOMPARE(second.value(u"text").toString(), u"Second message."_s);
    const QJsonObject third = send("GET"_ba, messagePath(m_aliceThird), alice).json();
    QCOMPARE(third.value(u"text").toString(), u"See the files."_s);
    const QJsonArray attachments{
        QJsonObject{{u"index"_s, 0}, {u"filename"_s, u"notes.txt"_s}, {u"contentType"_s, u"text/plain"_s},
                    {u"size"_s, NotesText.size()}},
        QJsonObject{{u"index"_s, 1}, {u"filename"_s, u"data.bin"_s},
                    {u"contentType"_s, u"application/octet-stream"_s}, {u"size"_s, 256}},
    };
    QCOMPARE(third.value(u"attachments").toArray(), attachments);
    QCOMPARE(third.value(u"headers").toArray().size(), 6);

    // Reading did not mark anything seen.
    const Answer listing = send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice);
    const QJsonArray messages = listing.json().value(u"messages").toArray();
    for (const QJsonValue &value : messages)
        QCOMPARE(value.toObject().value(u"seen"), QJsonValue(false));
}

// docs/protocol/web.md §2: a listing, a message and a PATCH answer carry at
// most 50 addresses of To and of Cc, the first ones, plus toCount and
// ccCount counting all; the message's headers and raw bytes keep every one.
// The issue's measure: every listing of the mailbox carried all 5,000.
void TestWebApi::manyRecipientsListedBounded()
{
    constexpr int ToCount = 5000;
    constexpr int CcCount = 1200;
    QByteArrayList to;
    QJsonArray everyTo;
    for (int i = 1; i <= ToCount; ++i) {
        to.append("\"P " + QByteArray::number(i) + "\" <p" + QByteArray::number(i) + "@example.org>");
        everyTo.append(address(u"P %1"_s.arg(i), u"p%1@example.org"_s.arg(i)));
    }
    QByteArrayList cc;
    for (int i = 1; i <= CcCount; ++i)
        cc.append("c" + QByteArray::number(i) + "@example.org");
    const QByteArray raw = "From: carol@example.org\r\nTo: " + to.join(",\r\n ") + "\r\nCc: " + cc.join(",\r\n ")
        + "\r\nSubject: Everyone\r\nMessage-ID: <many@example.org>\r\n\r\nHello all.\r\n";
    NewMessage message;
    message.raw = raw;
    message.summary = MimeMessage::parse(raw).summary();
    message.receivedAt = arrival(5);
    message.recipientIds = {m_alice};
    const auto delivery = m_store->deliver(message);
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    const qint64 id = delivery->inboxEntryIds.value(0);

    const auto firstOf = [](const QJsonArray &array, qsizetype count) {
        QJsonArray first;
        for (qsizetype i = 0; i < count && i < array.size(); ++i)
            first.append(array.at(i));
        return first;
    };
    const auto checkSummary = [&](const QJsonObject &json) {
        QCOMPARE(json.value(u"id").toInteger(), id);
        const QJsonArray listedTo = json.value(u"to").toArray();
        QCOMPARE(listedTo.size(), 50);
        QCOMPARE(listedTo, firstOf(everyTo, 50));
        QCOMPARE(json.value(u"toCount").toInteger(), ToCount);
        const QJsonArray listedCc = json.value(u"cc").toArray();
        QCOMPARE(listedCc.size(), 50);
        QCOMPARE(listedCc.first(), QJsonValue(address(QString(), u"c1@example.org"_s)));
        QCOMPARE(listedCc.last(), QJsonValue(address(QString(), u"c50@example.org"_s)));
        QCOMPARE(json.value(u"ccCount").toInteger(), CcCount);
    };
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    QElapsedTimer timer;
    timer.start();
    const Answer listing = send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice);
    const qint64 listingMs = timer.elapsed();
    CHECK_STATUS(listing, 200);
    const QJsonArray messages = listing.json().value(u"messages").toArray();
    QCOMPARE(messages.size(), 4);
    checkSummary(messages.first().toObject());
    if (QTest::currentTestFailed())
        return;
    // The others count what they list.
    for (qsizetype i = 1; i < messages.size(); ++i) {
        const QJsonObject other = messages.at(i).toObject();
        QCOMPARE(other.value(u"toCount").toInteger(), other.value(u"to").toArray().size());
        QCOMPARE(other.value(u"ccCount").toInteger(), other.value(u"cc").toArray().size());
    }
    QCOMPARE(messages.at(2).toObject().value(u"ccCount").toInteger(), 1);

    timer.restart();
    const Answer detail = send("GET"_ba, messagePath(id), alice);
    const qint64 detailMs = timer.elapsed();
    CHECK_STATUS(detail, 200);
    checkSummary(detail.json());
    if (QTest::currentTestFailed())
        return;
    // The headers list and the raw message stay complete.
    QString toHeader;
    for (const QJsonValue &header : detail.json().value(u"headers").toArray()) {
        if (header[0].toString() == u"To")
            toHeader = header[1].toString();
    }
    QCOMPARE(toHeader.count(u'@'), ToCount);
    QVERIFY(toHeader.endsWith(u"\"P 5000\" <p5000@example.org>"_s));
    const Answer rawAnswer = send("GET"_ba, messagePath(id, u"/raw"_s), alice);
    CHECK_STATUS(rawAnswer, 200);
    QCOMPARE(rawAnswer.body, raw);

    const Answer patched = sendJson("PATCH"_ba, messagePath(id), alice, {{u"seen"_s, true}});
    CHECK_STATUS(patched, 200);
    checkSummary(patched.json());
    if (QTest::currentTestFailed())
        return;

    // What listing every address would have cost, for comparison.
    QJsonArray everyCc;
    for (int i = 1; i <= CcCount; ++i)
        everyCc.append(address(QString(), u"c%1@example.org"_s.arg(i)));
    const auto jsonSize = [](const QJsonArray &array) {
        return QJsonDocument(array).toJson(QJsonDocument::Compact).size();
    };
    const qsizetype unbounded = listing.body.size() + jsonSize(everyTo) - jsonSize(firstOf(everyTo, 50)) + jsonSize(everyCc)
        - jsonSize(firstOf(everyCc, 50));
    qInfo().noquote() << u"a message of %1 To and %2 Cc addresses: the listing is %3 bytes (every address listed: about %4),"
                         " answered in %5 ms; the message %6 bytes in %7 ms"_s
                             .arg(ToCount)
                             .arg(CcCount)
                             .arg(listing.body.size())
                             .arg(unbounded)
                             .arg(listingMs)
                             .arg(detail.body.size())
                             .arg(detailMs);
}

// GET /api/v1/messages/{id}/raw: message/rfc822, the stored bytes exactly.
void TestWebApi::rawMessage()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const QList<std::pair<qint64, QByteArray>> cases{
        {m_aliceFirst, RawFirst}, {m_aliceSecond, RawSecond}, {m_aliceThird, m_rawThird}};
    for (const auto &[id, raw] : cases) {
        const Answer answer = send("GET"_ba, messagePath(id, u"/raw"_s), alice);
        CHECK_STATUS(answer, 200);
        QCOMPARE(answer.header("content-type"), "message/rfc822"_ba);
        QCOMPARE(answer.body, raw);
        QCOMPARE(answer.body, m_store->rawMessage(m_alice, id).value_or(QByteArray()));
        QCOMPARE(answer.header("content-length"), QByteArray::number(raw.size()));
    }
    CHECK_ERROR(send("GET"_ba, messagePath(m_bobFourth + 1000, u"/raw"_s), alice), 404, u"not_found"_s);
}

// GET /api/v1/messages/{id}/attachments/{index}: decoded bytes, content type, Content-Disposition.
void TestWebApi::attachment_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("disposition");
    QTest::newRow("text attachment") << 0 << 200 << NotesText << "text/plain"_ba
                                     << "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"_ba;
    QTest::newRow("binary attachment, every byte value")
        << 1 << 200 << everyByte() << "application/octet-stream"_ba
        << "attachment; filename=\"data.bin\"; filename*=UTF-8''data.bin"_ba;
    QTest::newRow("index past the end") << 2 << 404 << QByteArray() << QByteArray() << QByteArray();
    QTest::newRow("large index") << 999999 << 404 << QByteArray() << QByteArray() << QByteArray();
}

void TestWebApi::attachment()
{
    QFETCH(int, index);
    QFETCH(int, status);
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, disposition);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer answer = send("GET"_ba, messagePath(m_aliceThird, u"/attachments/%1"_s.arg(index)), alice);
    if (status != 200) {
        CHECK_ERROR(answer, status, u"not_found"_s);
        return;
    }
    CHECK_STATUS(answer, 200);
    QCOMPARE(answer.body, bytes);
    QCOMPARE(answer.header("content-type"), contentType);
    QCOMPARE(answer.header("content-disposition"), disposition);
    QCOMPARE(answer.header("x-content-type-options"), "nosniff"_ba);
    // A message without attachments has no index 0.
    CHECK_ERROR(send("GET"_ba, messagePath(m_aliceFirst, u"/attachments/0"_s), alice), 404, u"not_found"_s);
}

// PATCH /api/v1/messages/{id} {"seen":bool}: 200 with the summary.
void TestWebApi::patchSeen()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer seen = sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"seen"_s, true}});
    CHECK_STATUS(seen, 200);
    QCOMPARE(seen.header("content-type"), JsonType);
    QCOMPARE(seen.json().value(u"id").toInteger(), m_aliceFirst);
    QCOMPARE(seen.json().value(u"seen"), QJsonValue(true));
    QCOMPARE(seen.json().value(u"subject").toString(), u"First"_s);
    QVERIFY(!seen.json().contains(u"text"));
    QCOMPARE(send("GET"_ba, messagePath(m_aliceFirst), alice).json().value(u"seen"), QJsonValue(true));
    // Again: no change, still 200.
    CHECK_STATUS(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"seen"_s, true}}), 200);
    // The other entries of the same message are not touched: bob's inbox m2.
    CHECK_STATUS(sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"seen"_s, true}}), 200);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QCOMPARE(send("GET"_ba, messagePath(m_bobSecond), bob).json().value(u"seen"), QJsonValue(false));

    const Answer unseen = sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"seen"_s, false}});
    CHECK_STATUS(unseen, 200);
    QCOMPARE(unseen.json().value(u"seen"), QJsonValue(false));
    const QJsonArray messages =
        send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice).json().value(u"messages").toArray();
    QCOMPARE(messages.at(2).toObject().value(u"seen"), QJsonValue(false));
    QCOMPARE(messages.at(1).toObject().value(u"seen"), QJsonValue(true));
    // charset=utf-8 in the content type is accepted.
    CHECK_STATUS(send("PATCH"_ba, messagePath(m_aliceFirst), alice, "{\"seen\":true}"_ba,
                      "application/json; charset=utf-8"_ba),
                 200);
}

void TestWebApi::patchBadBody_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("seen a string") << "{\"seen\":\"yes\"}"_ba;
    QTest::newRow("seen a number") << "{\"seen\":1}"_ba;
    QTest::newRow("seen null") << "{\"seen\":null}"_ba;
    QTest::newRow("no seen") << "{}"_ba;
    QTest::newRow("invalid JSON") << "{\"seen\":"_ba;
    QTest::newRow("not an object") << "true"_ba;
    QTest::newRow("flagged a string") << "{\"flagged\":\"yes\"}"_ba;
    QTest::newRow("keywords not a list") << "{\"keywords\":\"$Junk\"}"_ba;
    QTest::newRow("keyword not a string") << "{\"keywords\":[1]}"_ba;
    QTest::newRow("keyword with a space") << "{\"keywords\":[\"two words\"]}"_ba;
    QTest::newRow("keyword a system flag") << "{\"keywords\":[\"\\\\Seen\"]}"_ba;
    QTest::newRow("folderId a string") << "{\"folderId\":\"1\"}"_ba;
    QTest::newRow("only a member the API does not set") << "{\"draft\":true}"_ba;
}

void TestWebApi::patchBadBody()
{
    QFETCH(QByteArray, body);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_ERROR(send("PATCH"_ba, messagePath(m_aliceFirst), alice, body, "application/json"_ba), 400,
                u"bad_request"_s);
    QCOMPARE(send("GET"_ba, messagePath(m_aliceFirst), alice).json().value(u"seen"), QJsonValue(false));
}

// DELETE /api/v1/messages/{id}: 204, gone from the caller's view only.
void TestWebApi::deleteMessage()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());
    const Answer deleted = send("DELETE"_ba, messagePath(m_aliceSecond), alice);
    CHECK_STATUS(deleted, 204);
    QVERIFY(deleted.body.isEmpty());

    CHECK_ERROR(send("GET"_ba, messagePath(m_aliceSecond), alice), 404, u"not_found"_s);
    CHECK_ERROR(send("GET"_ba, messagePath(m_aliceSecond, u"/raw"_s), alice), 404, u"not_found"_s);
    CHECK_ERROR(send("DELETE"_ba, messagePath(m_aliceSecond), alice), 404, u"not_found"_s);
    CHECK_ERROR(sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"seen"_s, true}}), 404, u"not_found"_s);
    const QJsonArray messages =
        send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice).json().value(u"messages").toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages.at(0).toObject().value(u"id").toInteger(), m_aliceThird);
    QCOMPARE(messages.at(1).toObject().value(u"id").toInteger(), m_aliceFirst);

    // Bob's entry of the same message is still there, bytes and all.
    const Answer bobs = send("GET"_ba, messagePath(m_bobSecond, u"/raw"_s), bob);
    CHECK_STATUS(bobs, 200);
    QCOMPARE(bobs.body, RawSecond);

    // A sent entry can be deleted too, and the recipient keeps the inbox copy.
    CHECK_STATUS(send("DELETE"_ba, messagePath(m_bobSentFirst), bob), 204);
    CHECK_STATUS(send("GET"_ba, messagePath(m_aliceFirst), alice), 200);
}

// PUT /api/v1/account/password: 204; every other token ends, the caller's keeps working.
// docs/protocol/web.md §3: an account's folders.
void TestWebApi::folders()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer list = send("GET"_ba, u"/api/v1/folders"_s, alice);
    CHECK_STATUS(list, 200);
    const QJsonArray roles = list.json().value(u"folders").toArray();
    QCOMPARE(roles.size(), 6);
    QStringList names, roleNames;
    for (const QJsonValue &folder : roles) {
        names.append(folder.toObject().value(u"name").toString());
        roleNames.append(folder.toObject().value(u"role").toString());
        for (const char *member : {"id", "total", "unseen", "uidValidity", "uidNext", "highestModseq"})
            QVERIFY2(folder.toObject().value(QLatin1StringView(member)).isDouble(), member);
    }
    QCOMPARE(names, (QStringList{u"Inbox"_s, u"Drafts"_s, u"Sent"_s, u"Archive"_s, u"Trash"_s, u"Junk"_s}));
    QCOMPARE(roleNames, (QStringList{u"inbox"_s, u"drafts"_s, u"sent"_s, u"archive"_s, u"trash"_s, u"junk"_s}));
    const QJsonObject inbox = roles.at(0).toObject();
    QCOMPARE(inbox.value(u"total").toInteger(), 3);
    QCOMPARE(inbox.value(u"unseen").toInteger(), 3);
    QCOMPARE(inbox.value(u"uidNext").toInteger(), 4);
    const qint64 modseq = list.json().value(u"modseq").toInteger();
    QVERIFY(modseq >= 9);

    // Create: 201 with the folder, not a role one.
    const Answer created = sendJson("POST"_ba, u"/api/v1/folders"_s, alice, {{u"name"_s, u"Projects/2027"_s}});
    CHECK_STATUS(created, 201);
    const qint64 projects = created.json().value(u"id").toInteger();
    QCOMPARE(created.json().value(u"name").toString(), u"Projects/2027"_s);
    QVERIFY(created.json().value(u"role").isNull());
    QCOMPARE(created.json().value(u"total").toInteger(), 0);
    QCOMPARE(created.json().value(u"uidNext").toInteger(), 1);
    QCOMPARE(created.json().value(u"highestModseq").toInteger(), modseq + 1);
    CHECK_ERROR(sendJson("POST"_ba, u"/api/v1/folders"_s, alice, {{u"name"_s, u"Projects/2027"_s}}), 409, u"conflict"_s);
    QCOMPARE(send("GET"_ba, u"/api/v1/folders"_s, alice).json().value(u"modseq").toInteger(), modseq + 1);

    // Its listing, and the inbox's by id equals the v1 alias's.
    const Answer empty = send("GET"_ba, u"/api/v1/folders/%1/messages"_s.arg(projects), alice);
    CHECK_STATUS(empty, 200);
    QCOMPARE(empty.json().value(u"messages").toArray().size(), 0);
    const qint64 inboxId = inbox.value(u"id").toInteger();
    const Answer byId = send("GET"_ba, u"/api/v1/folders/%1/messages?limit=2"_s.arg(inboxId), alice);
    const Answer alias = send("GET"_ba, u"/api/v1/mailboxes/inbox/messages?limit=2"_s, alice);
    CHECK_STATUS(byId, 200);
    QCOMPARE(byId.json(), alias.json());
    QCOMPARE(byId.json().value(u"messages").toArray().first().toObject().value(u"folderId").toInteger(), inboxId);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/folders/%1/messages?q=x"_s.arg(inboxId), alice), 400, u"bad_request"_s);

    // Rename, with the sub-folders; a role folder keeps its name.
    QVERIFY(sendJson("POST"_ba, u"/api/v1/folders"_s, alice, {{u"name"_s, u"Projects/2027/Q1"_s}}).status == 201);
    const Answer renamed = sendJson("PATCH"_ba, u"/api/v1/folders/%1"_s.arg(projects), alice, {{u"name"_s, u"Work"_s}});
    CHECK_STATUS(renamed, 200);
    QCOMPARE(renamed.json().value(u"name").toString(), u"Work"_s);
    QVERIFY(renamed.json().value(u"uidValidity").toInteger() != created.json().value(u"uidValidity").toInteger());
    QStringList after;
    for (const QJsonValue &folder : send("GET"_ba, u"/api/v1/folders"_s, alice).json().value(u"folders").toArray())
        after.append(folder.toObject().value(u"name").toString());
    QCOMPARE(after.mid(6), (QStringList{u"Work"_s, u"Work/Q1"_s}));
    CHECK_ERROR(sendJson("PATCH"_ba, u"/api/v1/folders/%1"_s.arg(inboxId), alice, {{u"name"_s, u"Post"_s}}), 400,
                u"bad_request"_s);
    CHECK_ERROR(send("DELETE"_ba, u"/api/v1/folders/%1"_s.arg(inboxId), alice), 400, u"bad_request"_s);

    // Delete: 204, the sub-folders too, the entries in them.
    QVERIFY(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"folderId"_s, projects}}).status == 200);
    CHECK_STATUS(send("DELETE"_ba, u"/api/v1/folders/%1"_s.arg(projects), alice), 204);
    QCOMPARE(send("GET"_ba, u"/api/v1/folders"_s, alice).json().value(u"folders").toArray().size(), 6);
    CHECK_ERROR(send("GET"_ba, messagePath(m_aliceFirst), alice), 404, u"not_found"_s);
    CHECK_ERROR(send("DELETE"_ba, u"/api/v1/folders/%1"_s.arg(projects), alice), 404, u"not_found"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/folders/%1/messages"_s.arg(projects), alice), 404, u"not_found"_s);
}

void TestWebApi::folderRefusals_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("empty name") << "{\"name\":\"\"}"_ba << 400;
    QTest::newRow("slash at the end") << "{\"name\":\"a/\"}"_ba << 400;
    QTest::newRow("slash at the start") << "{\"name\":\"/a\"}"_ba << 400;
    QTest::newRow("empty level") << "{\"name\":\"a//b\"}"_ba << 400;
    QTest::newRow("control character") << "{\"name\":\"a\\u0007b\"}"_ba << 400;
    QTest::newRow("201 characters") << "{\"name\":\"" + QByteArray(201, 'x') + "\"}"_ba << 400;
    QTest::newRow("INBOX") << "{\"name\":\"INBOX\"}"_ba << 400;
    QTest::newRow("a role folder's name") << "{\"name\":\"Trash\"}"_ba << 409;
    QTest::newRow("name not a string") << "{\"name\":7}"_ba << 400;
    QTest::newRow("no name") << "{}"_ba << 400;
    QTest::newRow("not JSON") << "name=a"_ba << 400;
}

void TestWebApi::folderRefusals()
{
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_ERROR(send("POST"_ba, u"/api/v1/folders"_s, alice, body, "application/json"_ba), status,
                status == 409 ? u"conflict"_s : u"bad_request"_s);
    // A rename to the same refused name is refused alike.
    const qint64 folder = sendJson("POST"_ba, u"/api/v1/folders"_s, alice, {{u"name"_s, u"Mine"_s}}).json().value(u"id").toInteger();
    QVERIFY(folder > 0);
    CHECK_ERROR(send("PATCH"_ba, u"/api/v1/folders/%1"_s.arg(folder), alice, body, "application/json"_ba), status,
                status == 409 ? u"conflict"_s : u"bad_request"_s);
    QCOMPARE(send("GET"_ba, u"/api/v1/folders"_s, alice).json().value(u"folders").toArray().size(), 7);
}

void TestWebApi::otherAccountsFolders_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("listing") << "GET"_ba << u"/api/v1/folders/%1/messages"_s << QByteArray();
    QTest::newRow("rename") << "PATCH"_ba << u"/api/v1/folders/%1"_s << "{\"name\":\"Taken\"}"_ba;
    QTest::newRow("delete") << "DELETE"_ba << u"/api/v1/folders/%1"_s << QByteArray();
    QTest::newRow("move there") << "PATCH"_ba << u"/api/v1/messages/MESSAGE"_s << "{\"folderId\":%1}"_ba;
    QTest::newRow("copy there") << "POST"_ba << u"/api/v1/messages/MESSAGE/copy"_s << "{\"folderId\":%1}"_ba;
}

// Another account's folder is no folder: 404 as for one that does not exist.
void TestWebApi::otherAccountsFolders()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());
    const qint64 bobs = sendJson("POST"_ba, u"/api/v1/folders"_s, bob, {{u"name"_s, u"Private"_s}}).json().value(u"id").toInteger();
    QVERIFY(bobs > 0);
    for (const qint64 folder : {bobs, bobs + 1000}) {
        const QString target = path.arg(folder).replace(u"MESSAGE"_s, QString::number(m_aliceFirst));
        const QByteArray json = QByteArray(body).replace("%1", QByteArray::number(folder));
        CHECK_ERROR(send(method, target, alice, json, json.isEmpty() ? QByteArray() : "application/json"_ba), 404,
                    u"not_found"_s);
    }
    QCOMPARE(send("GET"_ba, u"/api/v1/folders/%1/messages"_s.arg(bobs), bob).status, 200);
    QCOMPARE(send("GET"_ba, messagePath(m_aliceFirst), alice).json().value(u"folderId").toInteger(),
             m_store->roleFolder(m_alice, FolderRole::Inbox)->id);
}

void TestWebApi::flagsAndMoves()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer flagged = sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice,
                                    {{u"flagged"_s, true}, {u"answered"_s, true},
                                     {u"keywords"_s, QJsonArray{u"$Forwarded"_s, u"Work"_s}}});
    CHECK_STATUS(flagged, 200);
    const QJsonObject flags = flagged.json().value(u"flags").toObject();
    QCOMPARE(flags, (QJsonObject{{u"seen"_s, false}, {u"answered"_s, true}, {u"flagged"_s, true}, {u"draft"_s, false}}));
    QCOMPARE(flagged.json().value(u"keywords").toArray(), (QJsonArray{u"$Forwarded"_s, u"Work"_s}));
    QCOMPARE(flagged.json().value(u"seen"), QJsonValue(false));
    QCOMPARE(flagged.json().value(u"hasAttachments"), QJsonValue(false));
    QCOMPARE(send("GET"_ba, messagePath(m_aliceThird), alice).json().value(u"hasAttachments"), QJsonValue(true));

    // A move: the same id, in the new folder; the counts follow.
    const qint64 archive = m_store->roleFolder(m_alice, FolderRole::Archive)->id;
    const Answer moved = sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"folderId"_s, archive}, {u"seen"_s, true}});
    CHECK_STATUS(moved, 200);
    QCOMPARE(moved.json().value(u"id").toInteger(), m_aliceSecond);
    QCOMPARE(moved.json().value(u"folderId").toInteger(), archive);
    QCOMPARE(moved.json().value(u"flags").toObject().value(u"flagged"), QJsonValue(true));
    QList<qint64> inboxIds;
    for (const QJsonValue &m : send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice).json().value(u"messages").toArray())
        inboxIds.append(m.toObject().value(u"id").toInteger());
    QCOMPARE(inboxIds, (QList<qint64>{m_aliceThird, m_aliceFirst}));
    const QJsonArray archived =
        send("GET"_ba, u"/api/v1/folders/%1/messages"_s.arg(archive), alice).json().value(u"messages").toArray();
    QCOMPARE(archived.size(), 1);
    QCOMPARE(archived.first().toObject().value(u"id").toInteger(), m_aliceSecond);
    const QJsonObject account = send("GET"_ba, u"/api/v1/account"_s, alice).json();
    QCOMPARE(account.value(u"folders").toObject().value(u"inbox").toObject().value(u"total").toInteger(), 2);
    // Moving to Trash is a move; deleting it there removes it.
    const qint64 trash = m_store->roleFolder(m_alice, FolderRole::Trash)->id;
    CHECK_STATUS(sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"folderId"_s, trash}}), 200);
    CHECK_STATUS(send("DELETE"_ba, messagePath(m_aliceSecond), alice), 204);
    CHECK_ERROR(send("GET"_ba, messagePath(m_aliceSecond), alice), 404, u"not_found"_s);
    // A folder id that is no folder.
    CHECK_ERROR(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"folderId"_s, 0}}), 404, u"not_found"_s);
    CHECK_ERROR(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"folderId"_s, 1.5}}), 404, u"not_found"_s);
}

void TestWebApi::copyMessage()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const qint64 archive = m_store->roleFolder(m_alice, FolderRole::Archive)->id;
    const Answer copy = sendJson("POST"_ba, messagePath(m_aliceThird, u"/copy"_s), alice, {{u"folderId"_s, archive}});
    CHECK_STATUS(copy, 201);
    const qint64 copyId = copy.json().value(u"id").toInteger();
    QVERIFY(copyId > m_bobFourth);
    QCOMPARE(copy.json().value(u"folderId").toInteger(), archive);
    QCOMPARE(copy.json().value(u"subject"), send("GET"_ba, messagePath(m_aliceThird), alice).json().value(u"subject"));
    // The same bytes, and both stay when one goes.
    const Answer raw = send("GET"_ba, messagePath(copyId, u"/raw"_s), alice);
    CHECK_STATUS(raw, 200);
    QCOMPARE(raw.body, m_rawThird);
    CHECK_STATUS(send("DELETE"_ba, messagePath(m_aliceThird), alice), 204);
    QCOMPARE(send("GET"_ba, messagePath(copyId, u"/raw"_s), alice).body, m_rawThird);
    CHECK_ERROR(send("POST"_ba, messagePath(copyId, u"/copy"_s), alice, "{}"_ba, "application/json"_ba), 400,
                u"bad_request"_s);
    CHECK_ERROR(send("POST"_ba, messagePath(copyId, u"/copy"_s), alice, "{\"folderId\":\"x\"}"_ba, "application/json"_ba),
                400, u"bad_request"_s);
    CHECK_ERROR(sendJson("POST"_ba, messagePath(m_bobFourth, u"/copy"_s), alice, {{u"folderId"_s, archive}}), 404,
                u"not_found"_s);
}

// GET /api/v1/changes: what changed after a modseq.
void TestWebApi::changes()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const Answer all = send("GET"_ba, u"/api/v1/changes?since=0"_s, alice);
    CHECK_STATUS(all, 200);
    QCOMPARE(all.json().value(u"created").toArray().size(), 3);
    QCOMPARE(all.json().value(u"folders").toArray().size(), 6);
    QCOMPARE(all.json().value(u"reset"), QJsonValue(false));
    QCOMPARE(all.json().value(u"more"), QJsonValue(false));
    const QJsonObject created = all.json().value(u"created").toArray().first().toObject();
    QCOMPARE(created.value(u"id").toInteger(), m_aliceFirst);
    QCOMPARE(created.value(u"subject").toString(), u"First"_s);
    const qint64 since = all.json().value(u"modseq").toInteger();
    const Answer none = send("GET"_ba, u"/api/v1/changes?since=%1"_s.arg(since), alice);
    CHECK_STATUS(none, 200);
    QCOMPARE(none.json().value(u"modseq").toInteger(), since);
    for (const char *list : {"created", "updated", "removed", "folders", "foldersRemoved"})
        QVERIFY2(none.json().value(QLatin1StringView(list)).toArray().isEmpty(), list);

    // A flag, a move and a deletion, through the API.
    const qint64 archive = m_store->roleFolder(m_alice, FolderRole::Archive)->id;
    QVERIFY(sendJson("PATCH"_ba, messagePath(m_aliceFirst), alice, {{u"seen"_s, true}}).status == 200);
    QVERIFY(sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"folderId"_s, archive}}).status == 200);
    QVERIFY(send("DELETE"_ba, messagePath(m_aliceThird), alice).status == 204);
    const Answer changed = send("GET"_ba, u"/api/v1/changes?since=%1"_s.arg(since), alice);
    CHECK_STATUS(changed, 200);
    const QJsonObject json = changed.json();
    QCOMPARE(json.value(u"modseq").toInteger(), since + 3);
    QCOMPARE(json.value(u"created").toArray().size(), 0);
    const QJsonArray updated = json.value(u"updated").toArray();
    QCOMPARE(updated.size(), 2);
    QCOMPARE(updated.at(0).toObject().value(u"id").toInteger(), m_aliceFirst);
    QCOMPARE(updated.at(0).toObject().value(u"flags").toObject().value(u"seen"), QJsonValue(true));
    QCOMPARE(updated.at(1).toObject().value(u"id").toInteger(), m_aliceSecond);
    QCOMPARE(updated.at(1).toObject().value(u"folderId").toInteger(), archive);
    QCOMPARE(updated.at(1).toObject().keys(), (QStringList{u"flags"_s, u"folderId"_s, u"id"_s, u"keywords"_s}));
    QCOMPARE(json.value(u"removed").toArray(), QJsonArray{m_aliceThird});
    QCOMPARE(json.value(u"folders").toArray().size(), 2); // the inbox and the archive, as they are now
}

void TestWebApi::changesRefusals_data()
{
    QTest::addColumn<QString>("query");
    QTest::newRow("no since") << QString();
    QTest::newRow("negative") << u"?since=-1"_s;
    QTest::newRow("in the future") << u"?since=100000"_s;
    QTest::newRow("not a number") << u"?since=abc"_s;
    QTest::newRow("a fraction") << u"?since=1.5"_s;
    QTest::newRow("too large") << u"?since=99999999999999999999"_s;
    QTest::newRow("twice") << u"?since=0&since=0"_s;
    QTest::newRow("another parameter") << u"?since=0&limit=5"_s;
}

void TestWebApi::changesRefusals()
{
    QFETCH(QString, query);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_ERROR(send("GET"_ba, u"/api/v1/changes"_s + query, alice), 400, u"bad_request"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/changes?since=0"_s, QByteArray()), 401, u"unauthorized"_s);
}

// GET /api/v1/search: the owner's entries that match, as a listing.
void TestWebApi::search()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());
    const auto ids = [](const Answer &answer) {
        QList<qint64> found;
        for (const QJsonValue &message : answer.json().value(u"messages").toArray())
            found.append(message.toObject().value(u"id").toInteger());
        return found;
    };
    const auto searchFor = [this](const QString &query, const QByteArray &token, const QString &more = {}) {
        return send("GET"_ba, u"/api/v1/search?q="_s + QString::fromLatin1(QUrl::toPercentEncoding(query)) + more, token);
    };

    // A word of the readable text; the summary is a listing's.
    const Answer hello = searchFor(u"hello"_s, alice);
    CHECK_STATUS(hello, 200);
    QCOMPARE(ids(hello), QList<qint64>{m_aliceFirst});
    const QJsonObject first = hello.json().value(u"messages").toArray().first().toObject();
    QCOMPARE(first.value(u"subject").toString(), u"First"_s);
    QCOMPARE(first.value(u"folderId").toInteger(), m_store->roleFolder(m_alice, FolderRole::Inbox)->id);
    QCOMPARE(first.value(u"flags").toObject().value(u"seen"), QJsonValue(false));
    QCOMPARE(hello.json().value(u"nextBefore"), QJsonValue(QJsonValue::Null));
    // An encoded subject, decoded and folded: "Gr\u00fc\u00dfe".
    QCOMPARE(ids(searchFor(u"subject:GRUSSE"_s, alice)), QList<qint64>{m_aliceSecond});
    // Each account finds its own mail only.
    QCOMPARE(ids(searchFor(u"private"_s, alice)), QList<qint64>{});
    QCOMPARE(ids(searchFor(u"private"_s, bob)), QList<qint64>{m_bobFourth});
    QCOMPARE(ids(searchFor(u"from:bob in:sent"_s, bob)), QList<qint64>{m_bobSentFirst});
    // A flag set through the API is what is:flagged finds.
    QVERIFY(sendJson("PATCH"_ba, messagePath(m_aliceSecond), alice, {{u"flagged"_s, true}}).status == 200);
    QCOMPARE(ids(searchFor(u"is:flagged"_s, alice)), QList<qint64>{m_aliceSecond});

    // Paged as listings are, newest first.
    const QList<qint64> all = ids(searchFor(u"alice"_s, alice));
    QCOMPARE(all, (QList<qint64>{m_aliceThird, m_aliceSecond, m_aliceFirst}));
    const Answer page = searchFor(u"alice"_s, alice, u"&limit=2"_s);
    CHECK_STATUS(page, 200);
    QCOMPARE(ids(page), all.first(2));
    const qint64 next = page.json().value(u"nextBefore").toInteger();
    QCOMPARE(next, all.at(1));
    const Answer rest = searchFor(u"alice"_s, alice, u"&limit=2&before=%1"_s.arg(next));
    QCOMPARE(ids(rest), all.mid(2));
    QCOMPARE(rest.json().value(u"nextBefore"), QJsonValue(QJsonValue::Null));
}

// Queries the language or the mailbox refuses: 400 with the position of
// the fault; and the server goes on answering.
void TestWebApi::searchRefusals()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    QStringList terms;
    for (int i = 0; i < 10000; ++i)
        terms.append(u"w%1"_s.arg(i));
    struct Refusal
    {
        QString query; // percent-encoded as sent
        int position;  // -1: none given
    };
    const auto encoded = [](const QString &query) { return QString::fromLatin1(QUrl::toPercentEncoding(query)); };
    const QList<Refusal> refusals = {
        {encoded(u"from:"_s), 5},
        {encoded(u"hello is:unseen"_s), 9},
        {encoded(u"report in:Nowhere"_s), 7},
        {encoded(u"\"!!!\""_s), 0},
        {encoded(u"OR hello"_s), 0},
        {QString(), 0},
        // 64 terms at most: the 65th is the fault.
        {encoded(terms.first(65).join(u' ')), int(terms.first(64).join(u' ').size()) + 1},
        // 10,000 terms are past the 4,096 units a query may have.
        {encoded(terms.join(u' ').left(7000)), 4096},
    };
    for (const Refusal &refusal : refusals) {
        const Answer answer = send("GET"_ba, u"/api/v1/search?q="_s + refusal.query, alice);
        CHECK_ERROR(answer, 400, u"bad_request"_s);
        QCOMPARE(answer.json().value(u"error").toObject().value(u"position").toInt(-1), refusal.position);
    }
    // Not a query of the language: a missing q, other parameters.
    for (const QString &target : {u"/api/v1/search"_s, u"/api/v1/search?q=a&q=b"_s, u"/api/v1/search?q=a&folder=1"_s,
                                  u"/api/v1/search?q=a&limit=0"_s, u"/api/v1/search?q=a&before=x"_s})
        CHECK_ERROR(send("GET"_ba, target, alice), 400, u"bad_request"_s);
    // A query of 64 KiB does not fit a request line.
    const Answer huge = send("GET"_ba, u"/api/v1/search?q="_s + u"a"_s.repeated(64 * 1024), alice);
    CHECK_ERROR(huge, 414, u"uri_too_long"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/search?q=hello"_s, QByteArray()), 401, u"unauthorized"_s);
    CHECK_STATUS(send("GET"_ba, u"/api/v1/search?q=hello"_s, alice), 200);
}

// POST /api/v1/folders/{id}/messages: a message stored as given into one's
// own folder, delivered to no one; larger than the JSON body limit.
void TestWebApi::appendMessage()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const qint64 drafts = m_store->roleFolder(m_alice, FolderRole::Drafts)->id;
    const QByteArray draft = "From: alice@project.com\r\nTo: bob@project.com\r\nBcc: carol@project.com\r\n"
                             "Subject: Draft\r\n\r\n"
        + QByteArray(100 * 1024, 'x') + "\r\n";
    const Answer appended = send("POST"_ba, u"/api/v1/folders/%1/messages?flags=seen,draft"_s.arg(drafts), alice, draft,
                                 "message/rfc822"_ba);
    CHECK_STATUS(appended, 201);
    const QJsonObject summary = appended.json();
    QCOMPARE(summary.value(u"subject").toString(), u"Draft"_s);
    QCOMPARE(summary.value(u"folderId").toInteger(), drafts);
    QCOMPARE(summary.value(u"flags").toObject(),
             (QJsonObject{{u"seen"_s, true}, {u"answered"_s, false}, {u"flagged"_s, false}, {u"draft"_s, true}}));
    QCOMPARE(summary.value(u"size").toInteger(), draft.size());
    // The bytes as given: no Received header; the Bcc kept.
    const qint64 id = summary.value(u"id").toInteger();
    QCOMPARE(send("GET"_ba, messagePath(id, u"/raw"_s), alice).body, draft);
    // Delivered to no one.
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    for (const QJsonValue &m : send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, bob).json().value(u"messages").toArray())
        QVERIFY(m.toObject().value(u"subject").toString() != u"Draft"_s);
    QCOMPARE(m_store->roleFolder(m_alice, FolderRole::Drafts)->total, 1);
    // No flags: none set.
    const Answer plain = send("POST"_ba, u"/api/v1/folders/%1/messages"_s.arg(drafts), alice,
                              "Subject: imported\r\n\r\nold mail\r\n"_ba, "message/rfc822"_ba);
    CHECK_STATUS(plain, 201);
    QCOMPARE(plain.json().value(u"seen"), QJsonValue(false));
}

void TestWebApi::appendRefusals()
{
    stopServer();
    m_config.limits.maxMessageBytes = 300 * 1024;
    m_config.limits.maxHeaderBytes = 8 * 1024;
    QVERIFY(startServer());
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const QString drafts = u"/api/v1/folders/%1/messages"_s.arg(m_store->roleFolder(m_alice, FolderRole::Drafts)->id);
    const QByteArray message = "Subject: s\r\n\r\nbody\r\n"_ba;
    CHECK_ERROR(send("POST"_ba, drafts, alice, message, "text/plain"_ba), 415, u"unsupported_media_type"_s);
    CHECK_ERROR(send("POST"_ba, drafts, alice, message, "application/json"_ba), 415, u"unsupported_media_type"_s);
    CHECK_ERROR(send("POST"_ba, drafts + u"?flags=deleted"_s, alice, message, "message/rfc822"_ba), 400, u"bad_request"_s);
    CHECK_ERROR(send("POST"_ba, drafts + u"?flags=seen,bogus"_s, alice, message, "message/rfc822"_ba), 400, u"bad_request"_s);
    CHECK_ERROR(send("POST"_ba, drafts + u"?folder=1"_s, alice, message, "message/rfc822"_ba), 400, u"bad_request"_s);
    CHECK_ERROR(send("POST"_ba, drafts, alice, QByteArray(), "message/rfc822"_ba), 400, u"bad_request"_s);
    // A header section over its limit; a message over its limit (the
    // parser refuses it before reading it, as for any body too large).
    CHECK_ERROR(send("POST"_ba, drafts, alice, "X-Long: " + QByteArray(9 * 1024, 'h') + "\r\n\r\nbody\r\n",
                     "message/rfc822"_ba),
                413, u"too_large"_s);
    CHECK_ERROR(send("POST"_ba, drafts, alice, "Subject: big\r\n\r\n" + QByteArray(301 * 1024, 'b'), "message/rfc822"_ba),
                413, u"too_large"_s);
    // Larger than the JSON limit, yes; but not without a token, nor elsewhere.
    const QByteArray big = "Subject: big\r\n\r\n" + QByteArray(100 * 1024, 'b');
    CHECK_ERROR(send("POST"_ba, drafts, QByteArray(), big, "message/rfc822"_ba), 413, u"too_large"_s);
    CHECK_ERROR(send("PATCH"_ba, messagePath(m_aliceFirst), alice, big, "message/rfc822"_ba), 413, u"too_large"_s);
    // Another account's folder: 404; nothing stored anywhere.
    const QString bobs = u"/api/v1/folders/%1/messages"_s.arg(m_store->roleFolder(m_bob, FolderRole::Drafts)->id);
    CHECK_ERROR(send("POST"_ba, bobs, alice, message, "message/rfc822"_ba), 404, u"not_found"_s);
    QCOMPARE(m_store->roleFolder(m_alice, FolderRole::Drafts)->total, 0);
    QCOMPARE(m_store->roleFolder(m_bob, FolderRole::Drafts)->total, 0);
    CHECK_STATUS(send("POST"_ba, drafts, alice, big, "message/rfc822"_ba), 201);
}

// A raw TLS client of GET /api/v1/events: what it has read so far.
struct EventStreamClient
{
    QSslSocket socket;
    QByteArray heard;
    [[nodiscard]] bool headIsStream() const
    {
        const qsizetype end = heard.indexOf("\r\n\r\n");
        const QByteArray head = heard.left(end).toLower();
        return end > 0 && head.startsWith("http/1.1 200") && head.contains("content-type: text/event-stream")
            && !head.contains("content-length") && head.contains("connection: close");
    }
    // The events after the head, each {"event": name, "id": id, "data": JSON}.
    [[nodiscard]] QList<QJsonObject> events() const
    {
        QList<QJsonObject> events;
        const QByteArray body = heard.mid(heard.indexOf("\r\n\r\n") + 4);
        for (const QByteArray &block : QByteArray(body).replace("\n\n", "\x01").split('\x01')) {
            QJsonObject event;
            for (const QByteArray &line : block.split('\n')) {
                const qsizetype colon = line.indexOf(": ");
                if (colon > 0 && !line.startsWith(':'))
                    event.insert(QString::fromLatin1(line.left(colon)), QString::fromUtf8(line.mid(colon + 2)));
            }
            if (event.contains(u"event"_s))
                events.append(event);
        }
        return events;
    }
};

void TestWebApi::eventStream()
{
    stopServer();
    WebServer::Options options;
    options.eventKeepAliveMs = 300;
    QVERIFY(startServer(options));
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    EventStreamClient client;
    connect(&client.socket, &QSslSocket::readyRead, &client.socket, [&] { client.heard += client.socket.readAll(); });
    QVERIFY(connectRaw(client.socket));
    client.socket.write("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: Bearer "
                        + alice + "\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(client.headIsStream(), ReplyTimeoutMs);
    // Keep-alive comments while nothing happens.
    QTRY_VERIFY_WITH_TIMEOUT(client.heard.contains("\n: keep-alive\n\n"), ReplyTimeoutMs);
    QVERIFY(client.events().isEmpty());

    // Mail for alice, committed by another connection: a message event with
    // the summary, then a change event naming the inbox.
    NewMessage message;
    message.raw = RawFirst;
    message.summary = MimeMessage::parse(RawFirst).summary();
    message.receivedAt = arrival(9);
    message.recipientIds = {m_alice};
    const auto delivery = m_store->deliver(message);
    QVERIFY(delivery);
    QTRY_VERIFY_WITH_TIMEOUT(client.events().size() >= 2, ReplyTimeoutMs);
    const QList<QJsonObject> events = client.events();
    QCOMPARE(events.at(0).value(u"event").toString(), u"message"_s);
    const QJsonObject summary = QJsonDocument::fromJson(events.at(0).value(u"data").toString().toUtf8()).object();
    QCOMPARE(summary.value(u"id").toInteger(), delivery->inboxEntryIds.first());
    QCOMPARE(summary.value(u"subject").toString(), u"First"_s);
    QCOMPARE(events.at(1).value(u"event").toString(), u"change"_s);
    const QJsonObject change = QJsonDocument::fromJson(events.at(1).value(u"data").toString().toUtf8()).object();
    const qint64 modseq = m_store->accountModseq(m_alice).value();
    QCOMPARE(change.value(u"modseq").toInteger(), modseq);
    QCOMPARE(events.at(1).value(u"id").toString(), QString::number(modseq));
    QCOMPARE(change.value(u"folders").toArray(), QJsonArray{m_store->roleFolder(m_alice, FolderRole::Inbox)->id});
    // Bob's mail is not alice's event; her own flag change is, without a message event.
    QVERIFY(m_store->deliver(NewMessage{RawFourth, MimeMessage::parse(RawFourth).summary(), arrival(10), 0, {m_bob}, {}, {}}));
    QVERIFY(m_store->setSeen(m_alice, delivery->inboxEntryIds.first(), true));
    QTRY_VERIFY_WITH_TIMEOUT(client.events().size() >= 3, ReplyTimeoutMs);
    QTest::qWait(200);
    QCOMPARE(client.events().size(), 3);
    QCOMPARE(client.events().at(2).value(u"event").toString(), u"change"_s);
    QCOMPARE(client.events().at(2).value(u"id").toString(), QString::number(modseq + 1));

    // Logout ends the stream.
    CHECK_STATUS(send("DELETE"_ba, u"/api/v1/session"_s, alice), 204);
    QTRY_COMPARE_WITH_TIMEOUT(client.socket.state(), QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
}

// Last-Event-ID: the events missed since then come as one change event.
void TestWebApi::eventStreamResumes()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const qint64 before = m_store->accountModseq(m_alice).value();
    QVERIFY(m_store->setSeen(m_alice, m_aliceFirst, true));
    QVERIFY(m_store->createFolder(m_alice, u"Later"_s));
    EventStreamClient client;
    connect(&client.socket, &QSslSocket::readyRead, &client.socket, [&] { client.heard += client.socket.readAll(); });
    QVERIFY(connectRaw(client.socket));
    client.socket.write("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: " + QByteArray::number(before)
                        + "\r\nAuthorization: Bearer " + alice + "\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(client.events().size() == 1, ReplyTimeoutMs);
    const QJsonObject event = client.events().first();
    QCOMPARE(event.value(u"event").toString(), u"change"_s);
    QCOMPARE(event.value(u"id").toString(), QString::number(before + 2));
    QCOMPARE(QJsonDocument::fromJson(event.value(u"data").toString().toUtf8()).object().value(u"folders").toArray().size(), 2);
}

// 16 streams per account; the 17th is 429, another account's is not
// held back; a token is needed.
void TestWebApi::eventStreamLimits()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());
    std::vector<std::unique_ptr<EventStreamClient>> streams;
    for (int i = 0; i < 16; ++i) {
        auto client = std::make_unique<EventStreamClient>();
        EventStreamClient *raw = client.get();
        connect(&raw->socket, &QSslSocket::readyRead, &raw->socket, [raw] { raw->heard += raw->socket.readAll(); });
        QVERIFY(connectRaw(raw->socket));
        raw->socket.write("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + alice + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(raw->headIsStream(), ReplyTimeoutMs);
        streams.push_back(std::move(client));
    }
    CHECK_ERROR(send("GET"_ba, u"/api/v1/events"_s, alice), 429, u"too_many_requests"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/events"_s), 401, u"unauthorized"_s);
    CHECK_ERROR(send("GET"_ba, u"/api/v1/events?x=1"_s, alice), 400, u"bad_request"_s);
    // One closes: a place is free again, once the server has seen it go.
    streams.front()->socket.disconnectFromHost();
    QTRY_VERIFY_WITH_TIMEOUT(streams.front()->socket.state() == QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
    bool reopened = false;
    for (int attempt = 0; attempt < 20 && !reopened; ++attempt) {
        EventStreamClient again;
        connect(&again.socket, &QSslSocket::readyRead, &again.socket, [&] { again.heard += again.socket.readAll(); });
        QVERIFY(connectRaw(again.socket));
        again.socket.write("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + alice + "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(again.headIsStream() || again.heard.contains(" 429 "), ReplyTimeoutMs);
        reopened = again.headIsStream();
        if (!reopened)
            QTest::qWait(50);
    }
    QVERIFY(reopened);
    // Bob has his own sixteen.
    EventStreamClient bobs;
    connect(&bobs.socket, &QSslSocket::readyRead, &bobs.socket, [&] { bobs.heard += bobs.socket.readAll(); });
    QVERIFY(connectRaw(bobs.socket));
    bobs.socket.write("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + bob + "\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(bobs.headIsStream(), ReplyTimeoutMs);
}

// A stream whose reader does not read is dropped before 1 MiB waits for
// it; another stream of the account and other requests go on.
void TestWebApi::eventStreamDropsAReaderThatDoesNotRead()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const QByteArray request = "GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + alice + "\r\n\r\n";
    QSslSocket stuck;
    QVERIFY(connectRaw(stuck));
    stuck.write(request);
    QVERIFY(stuck.waitForBytesWritten(ReplyTimeoutMs));
    // From here it reads next to nothing: Qt holds a byte, the kernel little.
    stuck.setReadBufferSize(1);
    stuck.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
    EventStreamClient good;
    connect(&good.socket, &QSslSocket::readyRead, &good.socket, [&] { good.heard += good.socket.readAll(); });
    QVERIFY(connectRaw(good.socket));
    good.socket.write(request);
    QTRY_VERIFY_WITH_TIMEOUT(good.headIsStream(), ReplyTimeoutMs);
    QTest::qWait(100);
    const int withBoth = m_server->connectionCount();

    // Rounds of 50 messages (each a message event of about 1 KiB) until the
    // server gives up on the reader that does not read.
    NewMessage message;
    message.raw = "Subject: " + QByteArray(700, 's') + "\r\n\r\n" + QByteArray(300, 'p') + "\r\n";
    message.summary = MimeMessage::parse(message.raw).summary();
    message.receivedAt = arrival(20);
    message.recipientIds = {m_alice};
    int rounds = 0;
    // (The server's side is watched: the client, reading nothing, would
    // not notice it is cut off.)
    for (; rounds < 100 && m_server->connectionCount() >= withBoth; ++rounds) {
        const auto stored = m_store->deliverAll(QList<NewMessage>(50, message));
        QVERIFY(stored.last());
        const qint64 modseq = m_store->accountModseq(m_alice).value();
        QTRY_VERIFY_WITH_TIMEOUT(good.heard.contains(QByteArray("\nid: " + QByteArray::number(modseq) + "\ndata: {\"modseq\"")),
                                 ReplyTimeoutMs);
    }
    QCOMPARE(m_server->connectionCount(), withBoth - 1);
    qInfo("the reader that did not read was dropped after %d rounds (%d messages)", rounds, rounds * 50);
    QVERIFY(rounds > 1);
    // The other stream and other requests go on.
    QCOMPARE(good.socket.state(), QAbstractSocket::ConnectedState);
    CHECK_STATUS(send("GET"_ba, u"/healthz"_s), 200);
    QVERIFY(m_store->setSeen(m_alice, m_aliceFirst, true));
    const qint64 modseq = m_store->accountModseq(m_alice).value();
    QTRY_VERIFY_WITH_TIMEOUT(good.heard.contains(QByteArray("\nid: " + QByteArray::number(modseq) + "\n")), ReplyTimeoutMs);
}

void TestWebApi::changePassword()
{
    const QByteArray mine = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray other = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!mine.isEmpty() && !other.isEmpty() && !bob.isEmpty());
    const QString newPassword = u"alice-new-password"_s;

    const Answer changed = sendJson("PUT"_ba, u"/api/v1/account/password"_s, mine,
                                    {{u"current"_s, AlicePassword}, {u"new"_s, newPassword}});
    CHECK_STATUS(changed, 204);
    QVERIFY(changed.body.isEmpty());

    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, mine), 200);
    CHECK_STATUS(send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, mine), 200);
    const Answer ended = send("GET"_ba, u"/api/v1/account"_s, other);
    CHECK_ERROR(ended, 401, u"unauthorized"_s);
    QVERIFY(ended.header("www-authenticate").startsWith("Bearer"));
    // Another account's sessions are not touched.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, bob), 200);

    // The old password is refused, the new one works.
    CHECK_ERROR(sendJson("POST"_ba, u"/api/v1/session"_s, {},
                         {{u"username"_s, u"alice"_s}, {u"password"_s, AlicePassword}}),
                401, u"unauthorized"_s);
    QVERIFY(!tokenFor(u"alice"_s, newPassword).isEmpty());
}

// 401 when current is wrong, 400 when new breaks the rules or the body is wrong; nothing changes.
void TestWebApi::changePasswordRefused_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("current wrong") << "{\"current\":\"not-the-password\",\"new\":\"alice-new-password\"}"_ba << 401;
    QTest::newRow("new too short") << "{\"current\":\"alice-secret-1\",\"new\":\"short\"}"_ba << 400;
    QTest::newRow("new too long") << "{\"current\":\"alice-secret-1\",\"new\":\""_ba + QByteArray(129, 'x') + "\"}"_ba
                                  << 400;
    QTest::newRow("new missing") << "{\"current\":\"alice-secret-1\"}"_ba << 400;
    QTest::newRow("current missing") << "{\"new\":\"alice-new-password\"}"_ba << 400;
    QTest::newRow("new a number") << "{\"current\":\"alice-secret-1\",\"new\":123456789}"_ba << 400;
    QTest::newRow("invalid JSON") << "{\"current\":"_ba << 400;
}

void TestWebApi::changePasswordRefused()
{
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    const QByteArray mine = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray other = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!mine.isEmpty() && !other.isEmpty());
    const Answer answer = send("PUT"_ba, u"/api/v1/account/password"_s, mine, body, "application/json"_ba);
    CHECK_ERROR(answer, status, status == 401 ? u"unauthorized"_s : u"bad_request"_s);
    if (status == 401)
        QVERIFY(answer.header("www-authenticate").startsWith("Bearer"));
    // Both sessions live on, and the old password still works.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, mine), 200);
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, other), 200);
    QVERIFY(!tokenFor(u"alice"_s, AlicePassword).isEmpty());
}

// docs/PROTOCOL.md §6: passwords hold no control characters (U+0000-U+001F,
// U+007F). Found: "pass\r\nword" was accepted, and POP3 USER/PASS can never
// send it. A current password with one never matches (HMAC's zero padding
// made "alice-secret-1\0" match "alice-secret-1").
void TestWebApi::changePasswordControlCharacters_data()
{
    QTest::addColumn<QString>("current");
    QTest::addColumn<QString>("next");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("messagePart");
    const QString control = u"control character"_s;
    QTest::newRow("new with CR LF") << AlicePassword << u"pass\r\nword-1"_s << 400 << control;
    QTest::newRow("new with LF at the end") << AlicePassword << u"password-1\n"_s << 400 << control;
    QTest::newRow("new with a tab") << AlicePassword << u"pass\tword-1"_s << 400 << control;
    QTest::newRow("new with NUL") << AlicePassword << u"pass\0word-1"_s << 400 << control;
    QTest::newRow("new with U+001F") << AlicePassword << u"pass\x1fword-1"_s << 400 << control;
    QTest::newRow("new with DEL") << AlicePassword << u"pass\x7fword-1"_s << 400 << control;
    QTest::newRow("current with NUL appended") << u"alice-secret-1\0"_s << u"alice-new-password"_s << 401
                                               << u"current password is wrong"_s;
    QTest::newRow("current with LF appended") << u"alice-secret-1\n"_s << u"alice-new-password"_s << 401
                                              << u"current password is wrong"_s;
}

void TestWebApi::changePasswordControlCharacters()
{
    QFETCH(QString, current);
    QFETCH(QString, next);
    QFETCH(int, status);
    QFETCH(QString, messagePart);
    const QByteArray mine = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!mine.isEmpty());
    const Answer answer =
        sendJson("PUT"_ba, u"/api/v1/account/password"_s, mine, {{u"current"_s, current}, {u"new"_s, next}});
    CHECK_ERROR(answer, status, status == 401 ? u"unauthorized"_s : u"bad_request"_s);
    const QString message = answer.json().value(u"error").toObject().value(u"message").toString();
    QVERIFY2(message.contains(messagePart), qPrintable(message));
    // Nothing changed: the session lives on, and the old password still works.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, mine), 200);
    QVERIFY(!tokenFor(u"alice"_s, AlicePassword).isEmpty());
}

// Another account's entry is 404 on every message endpoint, answered exactly
// like an id that does not exist, and is left as it was.
void TestWebApi::otherAccountsIds_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("GET detail") << "GET"_ba << QString() << QByteArray();
    QTest::newRow("GET raw") << "GET"_ba << u"/raw"_s << QByteArray();
    QTest::newRow("GET attachment") << "GET"_ba << u"/attachments/0"_s << QByteArray();
    QTest::newRow("PATCH seen") << "PATCH"_ba << QString() << "{\"seen\":true}"_ba;
    QTest::newRow("DELETE") << "DELETE"_ba << QString() << QByteArray();
}

void TestWebApi::otherAccountsIds()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, suffix);
    QFETCH(QByteArray, body);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    const QByteArray bob = tokenFor(u"bob"_s, BobPassword);
    QVERIFY(!alice.isEmpty() && !bob.isEmpty());
    const QByteArray type = body.isEmpty() ? QByteArray() : "application/json"_ba;
    const Answer missing = send(method, messagePath(m_bobFourth + 1000, suffix), alice, body, type);
    CHECK_ERROR(missing, 404, u"not_found"_s);
    // Bob's inbox entry, bob's sent entry, and the other way round.
    const QList<std::pair<QByteArray, qint64>> cases{
        {alice, m_bobFourth}, {alice, m_bobSecond}, {alice, m_bobSentFirst}, {bob, m_aliceThird}, {bob, m_aliceFirst}};
    for (const auto &[token, id] : cases) {
        const Answer answer = send(method, messagePath(id, suffix), token, body, type);
        CHECK_ERROR(answer, 404, u"not_found"_s);
        QCOMPARE(answer.body, missing.body);
    }
    // Untouched: still there, still unseen, in their owners' views.
    const Answer bobs = send("GET"_ba, messagePath(m_bobFourth), bob);
    CHECK_STATUS(bobs, 200);
    QCOMPARE(bobs.json().value(u"seen"), QJsonValue(false));
    const Answer alices = send("GET"_ba, messagePath(m_aliceThird), alice);
    CHECK_STATUS(alices, 200);
    QCOMPARE(alices.json().value(u"seen"), QJsonValue(false));
    QCOMPARE(send("GET"_ba, u"/api/v1/account"_s, bob).json().value(u"folders").toObject().value(u"inbox").toObject(),
             (QJsonObject{{u"total"_s, 2}, {u"unseen"_s, 2}}));
}

// Paths that name nothing are 404 (with a token, so it is not the 401).
// A query parameter a route does not take is 400 on every route, before any
// token check (as 404 and 405 are); the message names it and what is taken.
void TestWebApi::unknownQueryParameters_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<bool>("withToken");
    QTest::addColumn<QString>("message");
    QTest::newRow("healthz") << "GET"_ba << u"/healthz?probe=1"_s << false << u"'probe': this takes none"_s;
    QTest::newRow("healthz, HEAD") << "HEAD"_ba << u"/healthz?x"_s << false << QString();
    QTest::newRow("account") << "GET"_ba << u"/api/v1/account?fields=all"_s << true << u"'fields'"_s;
    QTest::newRow("message") << "GET"_ba << u"/api/v1/messages/1?format=raw"_s << true << u"'format'"_s;
    QTest::newRow("listing, no token") << "GET"_ba << u"/api/v1/mailboxes/inbox/messages?q=x"_s << false
                                       << u"'q': this takes limit, before"_s;
    QTest::newRow("listing, a name with spaces") << "GET"_ba << u"/api/v1/mailboxes/inbox/messages?a+b=1"_s << true
                                                 << u"'a b'"_s;
    QTest::newRow("logout") << "DELETE"_ba << u"/api/v1/session?all=1"_s << true << u"'all'"_s;
}

void TestWebApi::unknownQueryParameters()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, target);
    QFETCH(bool, withToken);
    QFETCH(QString, message);
    QByteArray token;
    if (withToken) {
        token = tokenFor(u"alice"_s, AlicePassword);
        QVERIFY(!token.isEmpty());
    }
    const Answer answer = send(method, target, token);
    QCOMPARE(answer.status, 400);
    if (method != "HEAD") {
        CHECK_ERROR(answer, 400, u"bad_request"_s);
        QVERIFY2(answer.json().value(u"error").toObject().value(u"message").toString().contains(message),
                 answer.body.constData());
    }
    if (withToken) // the session is still there: nothing was done
        CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, token), 200);
}

void TestWebApi::unknownPaths_data()
{
    QTest::addColumn<QString>("target");
    QTest::newRow("root") << u"/"_s;
    QTest::newRow("api root") << u"/api/v1"_s;
    QTest::newRow("other version") << u"/api/v2/account"_s;
    QTest::newRow("unknown resource") << u"/api/v1/nothing"_s;
    QTest::newRow("id zero") << u"/api/v1/messages/0"_s;
    QTest::newRow("id not a number") << u"/api/v1/messages/abc"_s;
    QTest::newRow("negative id") << u"/api/v1/messages/-1"_s;
    QTest::newRow("id with a sign") << u"/api/v1/messages/+1"_s;
    QTest::newRow("unknown sub-resource") << u"/api/v1/messages/1/nothing"_s;
    QTest::newRow("attachment index not a number") << u"/api/v1/messages/1/attachments/x"_s;
    QTest::newRow("attachments without index") << u"/api/v1/messages/1/attachments"_s;
    QTest::newRow("mailbox without messages") << u"/api/v1/mailboxes/inbox"_s;
}

void TestWebApi::unknownPaths()
{
    QFETCH(QString, target);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    CHECK_ERROR(send("GET"_ba, target, alice), 404, u"not_found"_s);
}

// 401 with WWW-Authenticate: Bearer on every authenticated endpoint for a
// missing, malformed or unknown token, or another scheme.
void TestWebApi::unauthorized_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("authorization"); // the whole header; empty: none
    QTest::addColumn<QByteArray>("challenge");

    const QByteArray unknown =
        QByteArray(32, 'k').toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    const QList<std::tuple<const char *, QByteArray, QString, QByteArray>> endpoints{
        {"logout", "DELETE"_ba, u"/api/v1/session"_s, QByteArray()},
        {"account", "GET"_ba, u"/api/v1/account"_s, QByteArray()},
        {"password", "PUT"_ba, u"/api/v1/account/password"_s,
         "{\"current\":\"alice-secret-1\",\"new\":\"alice-new-password\"}"_ba},
        {"inbox", "GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, QByteArray()},
        {"sent", "GET"_ba, u"/api/v1/mailboxes/sent/messages"_s, QByteArray()},
        {"detail", "GET"_ba, u"/api/v1/messages/1"_s, QByteArray()},
        {"raw", "GET"_ba, u"/api/v1/messages/1/raw"_s, QByteArray()},
        {"attachment", "GET"_ba, u"/api/v1/messages/3/attachments/0"_s, QByteArray()},
        {"patch", "PATCH"_ba, u"/api/v1/messages/1"_s, "{\"seen\":true}"_ba},
        {"delete", "DELETE"_ba, u"/api/v1/messages/1"_s, QByteArray()},
    };
    for (const auto &[name, method, target, body] : endpoints) {
        QTest::addRow("%s, no token", name) << method << target << body << QByteArray() << "Bearer"_ba;
        QTest::addRow("%s, unknown token", name) << method << target << body << "Bearer "_ba + unknown
                                                 << "Bearer error=\"invalid_token\""_ba;
    }
    QTest::newRow("malformed token") << "GET"_ba << u"/api/v1/account"_s << QByteArray() << "Bearer abc"_ba
                                     << "Bearer error=\"invalid_token\""_ba;
    QTest::newRow("token with padding") << "GET"_ba << u"/api/v1/account"_s << QByteArray()
                                        << "Bearer "_ba + QByteArray(32, 'k').toBase64() << "Bearer"_ba;
    QTest::newRow("empty Bearer") << "GET"_ba << u"/api/v1/account"_s << QByteArray() << "Bearer"_ba
                                  << "Bearer"_ba;
    QTest::newRow("Basic scheme") << "GET"_ba << u"/api/v1/account"_s << QByteArray()
                                  << "Basic YWxpY2U6YWxpY2Utc2VjcmV0LTE="_ba << "Bearer"_ba;
}

void TestWebApi::unauthorized()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, target);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, authorization);
    QFETCH(QByteArray, challenge);
    Headers headers;
    if (!authorization.isEmpty())
        headers.append({"Authorization"_ba, authorization});
    const Answer answer =
        send(method, target, {}, body, body.isEmpty() ? QByteArray() : "application/json"_ba, headers);
    CHECK_ERROR(answer, 401, u"unauthorized"_s);
    // RFC 6750 §3: the scheme, with error="invalid_token" when a token was sent.
    QVERIFY2(answer.header("www-authenticate").startsWith(challenge), answer.header("www-authenticate").constData());
    QVERIFY(answer.header("www-authenticate").startsWith("Bearer"));
    // Nothing changed behind the 401.
    QCOMPARE(m_store->entry(m_alice, m_aliceFirst).value_or(MailboxEntry()).id, m_aliceFirst);
    QVERIFY(!tokenFor(u"alice"_s, AlicePassword).isEmpty());
}

// A token ends at its fixed expiry time.
void TestWebApi::tokenExpires()
{
    stopServer();
    m_config.limits.tokenLifetimeSeconds = 1;
    QVERIFY(startServer());
    const QDateTime before = QDateTime::currentDateTimeUtc();
    const Answer answer =
        sendJson("POST"_ba, u"/api/v1/session"_s, {}, {{u"username"_s, u"alice"_s}, {u"password"_s, AlicePassword}});
    CHECK_STATUS(answer, 200);
    const QDateTime expires = QDateTime::fromString(answer.json().value(u"expiresAt").toString(), Qt::ISODate);
    QVERIFY(expires <= before.addSecs(3));
    const QByteArray token = answer.json().value(u"token").toString().toLatin1();
    QTRY_COMPARE_WITH_TIMEOUT(send("GET"_ba, u"/api/v1/account"_s, token).status, 401, 10000);
    QVERIFY(send("GET"_ba, u"/api/v1/account"_s, token).header("www-authenticate").startsWith("Bearer"));
}

// 405 with Allow for a method a path does not have (before any token check).
void TestWebApi::methodNotAllowed_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QByteArray>("allow");
    QTest::newRow("POST /healthz") << "POST"_ba << u"/healthz"_s << "GET, HEAD"_ba;
    QTest::newRow("DELETE /healthz") << "DELETE"_ba << u"/healthz"_s << "GET, HEAD"_ba;
    QTest::newRow("GET session") << "GET"_ba << u"/api/v1/session"_s << "POST, DELETE"_ba;
    QTest::newRow("PUT session") << "PUT"_ba << u"/api/v1/session"_s << "POST, DELETE"_ba;
    QTest::newRow("POST account") << "POST"_ba << u"/api/v1/account"_s << "GET, PATCH"_ba;
    QTest::newRow("DELETE account") << "DELETE"_ba << u"/api/v1/account"_s << "GET, PATCH"_ba;
    QTest::newRow("POST directory") << "POST"_ba << u"/api/v1/directory"_s << "GET"_ba;
    QTest::newRow("GET password") << "GET"_ba << u"/api/v1/account/password"_s << "PUT"_ba;
    QTest::newRow("POST password") << "POST"_ba << u"/api/v1/account/password"_s << "PUT"_ba;
    QTest::newRow("POST inbox") << "POST"_ba << u"/api/v1/mailboxes/inbox/messages"_s << "GET"_ba;
    QTest::newRow("DELETE sent") << "DELETE"_ba << u"/api/v1/mailboxes/sent/messages"_s << "GET"_ba;
    QTest::newRow("PUT message") << "PUT"_ba << u"/api/v1/messages/1"_s << "GET, PATCH, DELETE"_ba;
    QTest::newRow("POST message") << "POST"_ba << u"/api/v1/messages/1"_s << "GET, PATCH, DELETE"_ba;
    QTest::newRow("DELETE raw") << "DELETE"_ba << u"/api/v1/messages/1/raw"_s << "GET"_ba;
    QTest::newRow("PATCH attachment") << "PATCH"_ba << u"/api/v1/messages/3/attachments/0"_s << "GET"_ba;
    QTest::newRow("lower-case get") << "get"_ba << u"/api/v1/account"_s << "GET, PATCH"_ba;
}

void TestWebApi::methodNotAllowed()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, target);
    QFETCH(QByteArray, allow);
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    const bool withBody = method == "POST" || method == "PUT" || method == "PATCH";
    // With a token and without: 405 comes before authentication.
    for (const QByteArray &token : {alice, QByteArray()}) {
        const Answer answer = send(method, target, token, withBody ? "{}"_ba : QByteArray(),
                                   withBody ? "application/json"_ba : QByteArray());
        CHECK_ERROR(answer, 405, u"method_not_allowed"_s);
        QCOMPARE(answer.header("allow"), allow);
    }
    // Nothing was deleted.
    QCOMPARE(send("GET"_ba, u"/api/v1/mailboxes/inbox/messages"_s, alice).json().value(u"messages").toArray().size(), 3);
}

// 415 for a body that is not application/json.
void TestWebApi::unsupportedMediaType_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<bool>("withToken");
    QTest::addColumn<QByteArray>("contentType");
    QTest::newRow("login, text/plain") << "POST"_ba << u"/api/v1/session"_s << false << "text/plain"_ba;
    QTest::newRow("login, form") << "POST"_ba << u"/api/v1/session"_s << false
                                 << "application/x-www-form-urlencoded"_ba;
    QTest::newRow("login, application/jsonx") << "POST"_ba << u"/api/v1/session"_s << false
                                              << "application/jsonx"_ba;
    QTest::newRow("login, no type") << "POST"_ba << u"/api/v1/session"_s << false << QByteArray();
    QTest::newRow("patch, text/json") << "PATCH"_ba << u"/api/v1/messages/{id}"_s << true << "text/json"_ba;
    QTest::newRow("patch, no type") << "PATCH"_ba << u"/api/v1/messages/{id}"_s << true << QByteArray();
    QTest::newRow("password, text/plain") << "PUT"_ba << u"/api/v1/account/password"_s << true << "text/plain"_ba;
}

void TestWebApi::unsupportedMediaType()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, target);
    QFETCH(bool, withToken);
    QFETCH(QByteArray, contentType);
    const QByteArray alice = withToken ? tokenFor(u"alice"_s, AlicePassword) : QByteArray();
    QVERIFY(!withToken || !alice.isEmpty());
    target.replace(u"{id}"_s, QString::number(m_aliceFirst));
    QByteArray body;
    if (method == "POST")
        body = "{\"username\":\"alice\",\"password\":\"alice-secret-1\"}"_ba;
    else if (method == "PATCH")
        body = "{\"seen\":true}"_ba;
    else
        body = "{\"current\":\"alice-secret-1\",\"new\":\"alice-new-password\"}"_ba;
    const Answer answer = send(method, target, alice, body, contentType);
    CHECK_ERROR(answer, 415, u"unsupported_media_type"_s);
    QVERIFY(!answer.json().contains(u"token"));
}

// 413 for a body over 64 KiB; exactly 64 KiB is read (and judged on its content).
void TestWebApi::bodyLimit_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("status");
    QTest::newRow("64 KiB + 1: 413") << 64 * 1024 + 1 << 413;
    QTest::newRow("100 KiB: 413") << 100 * 1024 << 413;
    QTest::newRow("exactly 64 KiB: read, wrong password") << 64 * 1024 << 401;
    QTest::newRow("64 KiB - 1: read, wrong password") << 64 * 1024 - 1 << 401;
}

void TestWebApi::bodyLimit()
{
    QFETCH(int, size);
    QFETCH(int, status);
    // A login body padded with spaces to the size: valid JSON with a wrong password.
    QByteArray body = "{\"username\":\"alice\",\"password\":\"wrong-password\"}"_ba;
    body.insert(1, QByteArray(size - body.size(), ' '));
    QCOMPARE(body.size(), size);
    const Answer answer = send("POST"_ba, u"/api/v1/session"_s, {}, body, "application/json"_ba);
    CHECK_ERROR(answer, status, status == 413 ? u"too_large"_s : u"unauthorized"_s);
    // The server still answers.
    CHECK_STATUS(send("GET"_ba, u"/healthz"_s), 200);
}

// Keep-alive: QNAM's sequential requests share one connection, answers say keep-alive.
void TestWebApi::keepAlive()
{
    const QByteArray alice = tokenFor(u"alice"_s, AlicePassword);
    QVERIFY(!alice.isEmpty());
    for (int i = 0; i < 5; ++i) {
        const Answer answer = send("GET"_ba, u"/api/v1/account"_s, alice);
        CHECK_STATUS(answer, 200);
        QCOMPARE(answer.header("connection").toLower(), "keep-alive"_ba);
    }
    // Error answers keep the connection too.
    CHECK_STATUS(send("GET"_ba, u"/api/v1/nothing"_s, alice), 404);
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s), 401);
    CHECK_STATUS(send("GET"_ba, u"/api/v1/account"_s, alice), 200);
    QCOMPARE(m_server->connectionCount(), 1);
}

bool TestWebApi::connectRaw(QSslSocket &socket, const QHostAddress &from)
{
    if (!from.isNull() && !socket.bind(from))
        return false;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates({m_certificate});
    tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
    socket.setSslConfiguration(tls);
    socket.connectToHostEncrypted(u"127.0.0.1"_s, m_server->serverPort(), u"localhost"_s);
    return QTest::qWaitFor([&] { return socket.isEncrypted() || socket.state() == QAbstractSocket::UnconnectedState; },
                           ReplyTimeoutMs)
        && socket.isEncrypted();
}

// PROTOCOL.md: a request begun and not finished within the keep-alive
// timeout gets 408, however often a byte of it comes (slowloris).
void TestWebApi::dribbledRequestTimesOut()
{
    stopServer();
    WebServer::Options options;
    options.keepAliveMs = 1500;
    QVERIFY(startServer(options));

    QSslSocket slow;
    QByteArray heard;
    connect(&slow, &QSslSocket::readyRead, &slow, [&] { heard += slow.readAll(); });
    QVERIFY(connectRaw(slow));
    const QByteArray head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + QByteArray(100, 'x') + "\r\n\r\n";
    qsizetype sent = 0;
    QTimer dribble;
    connect(&dribble, &QTimer::timeout, &dribble, [&] {
        if (sent < head.size() - 2) // never the head's end
            slow.write(head.mid(sent++, 1));
    });
    QElapsedTimer sinceFirstByte;
    sinceFirstByte.start();
    dribble.start(200);
    QTRY_VERIFY_WITH_TIMEOUT(heard.startsWith("HTTP/1.1 408 "), 15000);
    dribble.stop();
    QVERIFY2(sinceFirstByte.elapsed() >= 1000 && sinceFirstByte.elapsed() < 5000,
             qPrintable(QString::number(sinceFirstByte.elapsed())));
    QVERIFY2(sent >= 5, qPrintable(QString::number(sent)));
    QTRY_COMPARE_WITH_TIMEOUT(slow.state(), QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
}

// RFC 8446 §5.2: a record that does not decrypt ends the connection, at
// once, not at the keep-alive timeout.
void TestWebApi::garbageBeneathTlsCloses()
{
    QSslSocket client;
    QByteArray heard;
    connect(&client, &QSslSocket::readyRead, &client, [&] { heard += client.readAll(); });
    QVERIFY(connectRaw(client));
    // An answer first, so the server is past its side of the handshake.
    client.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"_ba);
    QTRY_VERIFY_WITH_TIMEOUT(heard.endsWith("{\"status\":\"ok\"}"), ReplyTimeoutMs);
    // Beneath the client's TLS: a well-formed application-data record of random bytes.
    const QByteArray record = TestBytes::garbageTlsRecord();
    QCOMPARE(::write(int(client.socketDescriptor()), record.constData(), size_t(record.size())),
             ssize_t(record.size()));
    QElapsedTimer sinceGarbage;
    sinceGarbage.start();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
    QVERIFY2(sinceGarbage.elapsed() < 5000, qPrintable(QString::number(sinceGarbage.elapsed())));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, ReplyTimeoutMs);
    CHECK_STATUS(send("GET"_ba, u"/healthz"_s), 200);
}

// PROTOCOL.md: webd limits connections per client address too, handshakes
// included; beyond it a connection is closed unanswered, others go on.
void TestWebApi::perAddressLimit()
{
    stopServer();
    WebServer::Options options;
    options.maxConnectionsPerAddress = 2;
    QVERIFY(startServer(options));
    QSslSocket first, second, third, elsewhere, again;
    QVERIFY(connectRaw(first));
    QVERIFY(connectRaw(second));
    QVERIFY(!connectRaw(third)); // closed before its handshake
    QVERIFY(connectRaw(elsewhere, QHostAddress(u"127.0.0.2"_s)));
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 3, ReplyTimeoutMs);
    QVERIFY(!connectRaw(third)); // still full
    first.disconnectFromHost();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 2, ReplyTimeoutMs);
    QVERIFY(connectRaw(again)); // the slot came back
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 3, ReplyTimeoutMs);
}

QTEST_GUILESS_MAIN(TestWebApi)
#include "tst_webapi.moc"
