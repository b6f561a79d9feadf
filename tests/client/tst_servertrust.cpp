// Server trust (docs/protocol/client.md §3): trust on first use with SHA-256
// pins, a CA file, and the failures a user must be told apart (unreachable,
// silent, not speaking STARTTLS, injecting plaintext), for both protocol
// clients over real TLS to the real mailroom-smtpd and mailroom-webd code,
// and to scripted fakes in this file where a real server would never misbehave.

#include "apiclient.h"
#include "clienterror.h"
#include "clienttestservers.h"
#include "composecontroller.h"
#include "servertrust.h"
#include "session.h"
#include "smtpclient.h"
#include "tlsmaterial.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QMutex>
#include <QPointer>
#include <QSettings>
#include <QSignalSpy>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <functional>
#include <memory>

using namespace Qt::StringLiterals;

// For QCOMPARE of kinds. A switch, so that a new kind is a compile error here.
char *toString(ClientError::Kind kind)
{
    using Kind = ClientError::Kind;
    const char *name = "?";
    switch (kind) {
    case Kind::Unreachable: name = "Unreachable"; break;
    case Kind::Timeout: name = "Timeout"; break;
    case Kind::ConnectionLost: name = "ConnectionLost"; break;
    case Kind::Untrusted: name = "Untrusted"; break;
    case Kind::CertificateChanged: name = "CertificateChanged"; break;
    case Kind::CertificateUnknown: name = "CertificateUnknown"; break;
    case Kind::WrongCredentials: name = "WrongCredentials"; break;
    case Kind::SessionExpired: name = "SessionExpired"; break;
    case Kind::Throttled: name = "Throttled"; break;
    case Kind::NotFound: name = "NotFound"; break;
    case Kind::Invalid: name = "Invalid"; break;
    case Kind::Refused: name = "Refused"; break;
    case Kind::ServerError: name = "ServerError"; break;
    case Kind::Protocol: name = "Protocol"; break;
    }
    return qstrdup(name);
}

namespace {

constexpr int FinishTimeoutMs = 20000;
const QString Password = u"correct horse battery"_s;

// One SmtpJob or ApiCall from start to end: both of its signals, and its end
// (it deletes itself after its signal, so no second signal can come after).
template <typename Job, typename Result>
class Outcome
{
public:
    explicit Outcome(Job *job)
        : m_job(job)
        , m_succeeded(job, &Job::succeeded)
        , m_failed(job, &Job::failed)
    {
    }

    [[nodiscard]] bool finish(int timeoutMs = FinishTimeoutMs)
    {
        return QTest::qWaitFor([this] { return m_job.isNull(); }, timeoutMs);
    }
    [[nodiscard]] qsizetype signalCount() const { return m_succeeded.count() + m_failed.count(); }
    [[nodiscard]] bool succeeded() const { return m_succeeded.count() == 1 && m_failed.isEmpty(); }
    [[nodiscard]] bool failed() const { return m_failed.count() == 1 && m_succeeded.isEmpty(); }
    [[nodiscard]] Result result() const { return m_succeeded.constFirst().constFirst().template value<Result>(); }
    [[nodiscard]] ClientError error() const { return m_failed.constFirst().constFirst().template value<ClientError>(); }
    [[nodiscard]] QString describe() const
    {
        QString text = u"%1 succeeded, %2 failed"_s.arg(m_succeeded.count()).arg(m_failed.count());
        if (!m_failed.isEmpty())
            text += u": "_s + error().toString();
        return text;
    }

private:
    QPointer<Job> m_job;
    QSignalSpy m_succeeded;
    QSignalSpy m_failed;
};

using SmtpOutcome = Outcome<SmtpJob, SmtpReply>;
using ApiOutcome = Outcome<ApiCall, QJsonValue>;

} // namespace

// The job ends, with exactly one signal: succeeded().
#define VERIFY_SUCCEEDS(outcome)                                                                 \
    do {                                                                                         \
        QVERIFY2((outcome).finish(), qPrintable(u"not finished: "_s + (outcome).describe()));    \
        QCOMPARE((outcome).signalCount(), 1);                                                    \
        QVERIFY2((outcome).succeeded(), qPrintable((outcome).describe()));                       \
    } while (false)

// The job ends, with exactly one signal: failed() with an error of this kind.
#define VERIFY_FAILS_WITH(outcome, expectedKind)                                                 \
    do {                                                                                         \
        QVERIFY2((outcome).finish(), qPrintable(u"not finished: "_s + (outcome).describe()));    \
        QCOMPARE((outcome).signalCount(), 1);                                                    \
        QVERIFY2((outcome).failed(), qPrintable((outcome).describe()));                          \
        QCOMPARE((outcome).error().kind, expectedKind);                                          \
    } while (false)

namespace {

// A scripted SMTP peer over plain TCP on 127.0.0.1, port 0: it greets (unless
// the greeting is empty: then it accepts and stays silent), answers each
// command line with what the script returns, in one write, and records every
// byte the client sends.
class FakeSmtpServer : public QObject
{
public:
    using Script = std::function<QByteArray(const QByteArray &line)>;

    FakeSmtpServer(QByteArray greeting, Script script)
        : m_greeting(std::move(greeting))
        , m_script(std::move(script))
    {
        QObject::connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                serve(socket);
        });
    }

    [[nodiscard]] bool listen() { return m_server.listen(QHostAddress(QHostAddress::LocalHost), 0); }
    [[nodiscard]] ServerEndpoint endpoint() const { return {u"127.0.0.1"_s, m_server.serverPort()}; }
    [[nodiscard]] const QByteArray &received() const { return m_received; }
    [[nodiscard]] int connections() const { return m_connections; }
    [[nodiscard]] bool clientGone() const { return m_clientGone; }

private:
    void serve(QTcpSocket *socket)
    {
        ++m_connections;
        QObject::connect(socket, &QTcpSocket::disconnected, this, [this] { m_clientGone = true; });
        QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
            const QByteArray bytes = socket->readAll();
            m_received += bytes;
            if (!m_script)
                return;
            m_lines += bytes;
            qsizetype end = 0;
            while ((end = m_lines.indexOf("\r\n")) >= 0) {
                const QByteArray line = m_lines.left(end);
                m_lines.remove(0, end + 2);
                const QByteArray answer = m_script(line);
                if (!answer.isEmpty())
                    socket->write(answer);
            }
        });
        if (!m_greeting.isEmpty())
            socket->write(m_greeting);
    }

    QTcpServer m_server;
    QByteArray m_greeting;
    Script m_script;
    QByteArray m_received;
    QByteArray m_lines;
    int m_connections = 0;
    bool m_clientGone = false;
};

// A bare HTTPS peer on 127.0.0.1, port 0 (QSslServer, which handshakes
// before handing a connection over): it answers nothing and records every
// byte that arrives over TLS, that is, any application data at all.
class FakeHttpsServer : public QObject
{
public:
    explicit FakeHttpsServer(const QSslConfiguration &configuration)
    {
        m_server.setSslConfiguration(configuration);
        QObject::connect(&m_server, &QSslServer::startedEncryptionHandshake, this, [this] { ++m_handshakes; });
        // A connection ends in its handshake (the client refused it) or after it.
        QObject::connect(&m_server, &QSslServer::errorOccurred, this, [this] { ++m_ended; });
        QObject::connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                QObject::connect(socket, &QTcpSocket::readyRead, this, [this, socket] { m_received += socket->readAll(); });
                QObject::connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                    m_received += socket->readAll();
                    ++m_ended;
                });
                m_received += socket->readAll(); // QT64-NOTES: it may hold data already
            }
        });
    }

    [[nodiscard]] bool listen() { return m_server.listen(QHostAddress(QHostAddress::LocalHost), 0); }
    [[nodiscard]] ServerEndpoint endpoint() const { return {u"127.0.0.1"_s, m_server.serverPort()}; }
    [[nodiscard]] int handshakes() const { return m_handshakes; }
    [[nodiscard]] const QByteArray &received() const { return m_received; }
    // Connections that are over, in the handshake or after it: until then
    // bytes a client sent may still be on their way.
    [[nodiscard]] int ended() const { return m_ended; }

private:
    QSslServer m_server;
    int m_handshakes = 0;
    int m_ended = 0;
    QByteArray m_received;
};

// A scripted SMTP peer that does STARTTLS for real (QTcpServer handing the
// descriptor to a QSslSocket, STYLE), then offers AUTH and accepts anything.
// It records the plaintext and, apart, every byte after STARTTLS's 220, of
// all its connections in turn.
class FakeStartTlsServer : public QTcpServer
{
public:
    explicit FakeStartTlsServer(const QSslConfiguration &configuration) : m_configuration(configuration) {}

    [[nodiscard]] bool listen() { return QTcpServer::listen(QHostAddress(QHostAddress::LocalHost), 0); }
    [[nodiscard]] ServerEndpoint endpoint() const { return {u"127.0.0.1"_s, serverPort()}; }
    [[nodiscard]] const QByteArray &plaintext() const { return m_plaintext; }
    [[nodiscard]] const QByteArray &afterStartTls() const { return m_afterStartTls; }
    [[nodiscard]] bool startedTls() const { return m_startedTls; }
    [[nodiscard]] bool clientGone() const { return m_clientGone; }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        socket->setSslConfiguration(m_configuration);
        m_clientGone = false;
        QObject::connect(socket, &QSslSocket::disconnected, this, [this] { m_clientGone = true; });
        auto connection = std::make_shared<Connection>();
        QObject::connect(socket, &QSslSocket::readyRead, this, [this, socket, connection] { serve(socket, *connection); });
        socket->write("220 fake.example ESMTP\r\n");
    }

private:
    struct Connection
    {
        bool startedTls = false;
        QByteArray lines;
    };

    void serve(QSslSocket *socket, Connection &connection)
    {
        const QByteArray bytes = socket->readAll();
        (connection.startedTls ? m_afterStartTls : m_plaintext) += bytes;
        connection.lines += bytes;
        qsizetype end = 0;
        while ((end = connection.lines.indexOf("\r\n")) >= 0) {
            const QByteArray verb = connection.lines.left(end).left(8).toUpper();
            connection.lines.remove(0, end + 2);
            if (verb == "STARTTLS" && !connection.startedTls) {
                socket->write("220 2.0.0 Ready to start TLS\r\n");
                connection.startedTls = true;
                m_startedTls = true;
                connection.lines.clear();
                socket->startServerEncryption();
            } else if (verb.startsWith("EHLO")) {
                socket->write(connection.startedTls ? "250-fake.example\r\n250 AUTH PLAIN\r\n"
                                                    : "250-fake.example\r\n250 STARTTLS\r\n");
            } else if (verb.startsWith("AUTH")) {
                socket->write("235 2.7.0 Authentication successful\r\n");
            } else if (verb.startsWith("QUIT")) {
                socket->write("221 2.0.0 Bye\r\n");
            } else {
                socket->write("250 2.0.0 OK\r\n");
            }
        }
    }

    QSslConfiguration m_configuration;
    QByteArray m_plaintext;
    QByteArray m_afterStartTls;
    bool m_startedTls = false;
    bool m_clientGone = false;
};

// What mailroom-smtpd logs (its info lines are off in the test environment),
// kept here instead of printed: the server's own word on whether a client
// logged in. Lines of other categories go on to the usual handler.
class SmtpdLog
{
public:
    SmtpdLog()
    {
        s_instance = this;
        s_previousHandler = qInstallMessageHandler(&handler);
        s_previousFilter = QLoggingCategory::installFilter(&filter);
    }
    ~SmtpdLog()
    {
        QLoggingCategory::installFilter(s_previousFilter);
        qInstallMessageHandler(s_previousHandler);
        s_instance = nullptr;
    }
    SmtpdLog(const SmtpdLog &) = delete;
    SmtpdLog &operator=(const SmtpdLog &) = delete;

    [[nodiscard]] QStringList lines() const
    {
        const QMutexLocker locker(&m_mutex);
        return m_lines;
    }
    [[nodiscard]] qsizetype count(const QString &text) const
    {
        const QStringList all = lines();
        return std::count_if(all.cbegin(), all.cend(), [&](const QString &line) { return line.contains(text); });
    }

private:
    static void filter(QLoggingCategory *category)
    {
        if (s_previousFilter)
            s_previousFilter(category);
        if (qstrcmp(category->categoryName(), "mailroom.smtp") == 0)
            category->setEnabled(QtInfoMsg, true);
    }
    static void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (s_instance && context.category && qstrcmp(context.category, "mailroom.smtp") == 0) {
            const QMutexLocker locker(&s_instance->m_mutex);
            s_instance->m_lines.append(message);
            return;
        }
        if (s_previousHandler)
            s_previousHandler(type, context, message);
    }

    mutable QMutex m_mutex;
    QStringList m_lines;
    static inline SmtpdLog *s_instance = nullptr;
    static inline QtMessageHandler s_previousHandler = nullptr;
    static inline QLoggingCategory::CategoryFilter s_previousFilter = nullptr;
};

// The pins as the INI file on disk holds them. (A QSettings of our own would
// share the process's cache with the ServerTrust's and see values never written.)
QHash<QString, QString> pinsInFile(const QString &file)
{
    const QTemporaryDir copyDir;
    const QString copy = copyDir.filePath(u"copy.ini"_s);
    if (!copyDir.isValid() || (QFile::exists(file) && !QFile::copy(file, copy)))
        return {{u"error"_s, u"cannot copy "_s + file}};
    QSettings settings(copy, QSettings::IniFormat);
    QHash<QString, QString> pins;
    const QStringList keys = settings.allKeys();
    for (const QString &key : keys)
        pins.insert(key, settings.value(key).toString());
    return pins;
}

QString fingerprintOf(const QString &certificateFile)
{
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(certificateFile);
    return certificates.size() == 1 ? ServerTrust::fingerprint(certificates.first()) : QString();
}

QByteArray testMessage(const QString &from, const QString &subject)
{
    return "From: " + from.toUtf8() + "\r\nTo: " + from.toUtf8() + "\r\nSubject: " + subject.toUtf8()
        + "\r\n\r\nHello.\r\n";
}

} // namespace

class TestServerTrust : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void displayFingerprint_data();
    void displayFingerprint();
    void smtpTrustOnFirstUse();
    void webTrustOnFirstUse();
    void webFirstContactSendsNothing();
    void smtpFirstContactSendsNothingAfterStartTls();
    void acceptOnFirstContactIsExact();
    void sessionFirstLoginAsks();
    void sessionRegistrationAsksThenResumes();
    void sessionQuestionWhileLoggedIn();
    void sessionChangedCertificateShowsNewPin();
    void sessionUnstorablePin();
    void smtpCertificateChanged();
    void webCertificateChanged();
    void pinsArePerHostAndPort();
    void caFileVerifies();
    void caFileWithAnotherCertificate();
    void useCaFileRefusesUnusableFiles_data();
    void useCaFileRefusesUnusableFiles();
    void unusableCaFileRefusesEveryServer();
    void smtpServerDown();
    void webServerDown();
    void smtpSilentServerTimesOut_data();
    void smtpSilentServerTimesOut();
    void webSilentServerTimesOut();
    void smtpWithoutStartTls_data();
    void smtpWithoutStartTls();
    void smtpStartTlsInjection_data();
    void smtpStartTlsInjection();
    void unstorablePinTrustsForThisRunOnly();

private:
    // Both servers running, with the account alice.
    [[nodiscard]] bool startServers();
    [[nodiscard]] QString pinFile() const { return m_pinDir->filePath(u"pins.ini"_s); }
    // A logged-out Session on the test servers with the pin file `pins`.
    [[nodiscard]] std::unique_ptr<Session> makeSession(const QString &pins) const;
    // The test servers' own TLS material, for the fakes.
    [[nodiscard]] std::optional<QSslConfiguration> serverTls() const;
    [[nodiscard]] QString address() const { return m_servers->config().address(u"alice"_s); }
    [[nodiscard]] SmtpCredentials alice() const { return {u"alice"_s, Password}; }

    std::unique_ptr<QTemporaryDir> m_pinDir;
    std::unique_ptr<ClientTestServers> m_servers;
};

void TestServerTrust::init()
{
    m_pinDir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_pinDir->isValid());
    m_servers = std::make_unique<ClientTestServers>();
    QVERIFY(m_servers->isValid());
}

void TestServerTrust::cleanup()
{
    m_servers.reset();
    m_pinDir.reset();
}

bool TestServerTrust::startServers()
{
    return m_servers->start() && m_servers->createAccount(u"alice"_s, Password);
}

std::unique_ptr<Session> TestServerTrust::makeSession(const QString &pins) const
{
    ClientSettings settings;
    settings.smtp = m_servers->smtp();
    settings.web = m_servers->web();
    settings.pinFile = pins;
    settings.timeoutMs = FinishTimeoutMs;
    return std::make_unique<Session>(settings);
}

std::optional<QSslConfiguration> TestServerTrust::serverTls() const
{
    QString error;
    auto tls = TlsMaterial::loadServerConfiguration(m_servers->certificateFile(), m_servers->path(u"tls/key.pem"_s), &error);
    if (!tls)
        qWarning().noquote() << error;
    return tls;
}

void TestServerTrust::displayFingerprint_data()
{
    QTest::addColumn<QString>("fingerprint");
    QTest::addColumn<int>("bytesPerLine");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("formatted"); // hex bytes, so shown in lines of whole bytes

    const QString sha256 = u"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                           u"F0:E1:D2:C3:B4:A5:96:87:78:69:5A:4B:3C:2D:1E:0F"_s;
    const QString sha256Lines = u"00:11:22:33:44:55:66:77\n88:99:AA:BB:CC:DD:EE:FF\n"
                                u"F0:E1:D2:C3:B4:A5:96:87\n78:69:5A:4B:3C:2D:1E:0F"_s;
    QTest::newRow("SHA-256: 4 lines of 8") << sha256 << 8 << sha256Lines << true;
    QTest::newRow("lower case") << sha256.toLower() << 8 << sha256Lines << true;
    QTest::newRow("no colons") << QString(sha256).remove(u':') << 8 << sha256Lines << true;
    QTest::newRow("spaces around") << u"  "_s + sha256 + u"\n"_s << 8 << sha256Lines << true;
    QTest::newRow("4 a line") << u"AB:CD:EF:01:23:45:67:89:0A"_s << 4 << u"AB:CD:EF:01\n23:45:67:89\n0A"_s << true;
    QTest::newRow("a last short line") << u"AB:CD:EF:01:23:45:67:89:0A"_s << 8 << u"AB:CD:EF:01:23:45:67:89\n0A"_s << true;
    QTest::newRow("fewer than a line") << u"ab:cd:ef"_s << 8 << u"AB:CD:EF"_s << true;
    QTest::newRow("one byte") << u"0f"_s << 8 << u"0F"_s << true;
    QTest::newRow("empty") << QString() << 8 << QString() << false;
    QTest::newRow("half a byte: as given") << u"AB:C"_s << 8 << u"AB:C"_s << false;
    QTest::newRow("not hex: as given") << u" not a fingerprint "_s << 8 << u"not a fingerprint"_s << false;
    QTest::newRow("no line length: as given") << u"AB:CD"_s << 0 << u"AB:CD"_s << false;
}

void TestServerTrust::displayFingerprint()
{
    QFETCH(QString, fingerprint);
    QFETCH(int, bytesPerLine);
    QFETCH(QString, expected);
    QFETCH(bool, formatted);

    const QString shown = ServerTrust::displayFingerprint(fingerprint, bytesPerLine);
    QCOMPARE(shown, expected);
    // Whole bytes on every line, never a byte broken across two.
    static const QRegularExpression wholeBytes(u"^[0-9A-F]{2}(:[0-9A-F]{2})*$"_s);
    if (formatted) {
        for (const QString &line : shown.split(u'\n'))
            QVERIFY2(wholeBytes.match(line).hasMatch() && line.count(u':') < bytesPerLine, qPrintable(line));
    }
}

void TestServerTrust::smtpTrustOnFirstUse()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->smtp();
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    QCOMPARE(fingerprint.size(), 32 * 3 - 1); // "AB:CD:…", SHA-256

    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(server, &trust);

    // First contact: refused with what to show, nothing pinned, and the
    // server saw no login (nothing was sent after STARTTLS).
    const SmtpdLog smtpdLog;
    SmtpOutcome first(client.lookUpUser(alice(), u"alice"_s));
    VERIFY_FAILS_WITH(first, ClientError::Kind::CertificateUnknown);
    QCOMPARE(first.error().server, server);
    QCOMPARE(first.error().presentedFingerprint, fingerprint);
    QVERIFY2(first.error().message.contains(server.toString()), qPrintable(first.error().message));
    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(server).isEmpty());
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
    QCOMPARE(smtpdLog.count(u"authenticated as"_s), 0);
    QCOMPARE(smtpdLog.count(u"failed to authenticate"_s), 0);

    // Asked again on the next try: connecting alone never pins.
    SmtpOutcome again(client.ping());
    VERIFY_FAILS_WITH(again, ClientError::Kind::CertificateUnknown);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);

    // The user compared it and accepts it.
    QVERIFY(trust.pin(server, first.error().presentedFingerprint));
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), u"127.0.0.1:"_s + QString::number(server.port));
    QCOMPARE(pinned.first().at(1).toString(), fingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());
    QCOMPARE(pins.size(), 1);
    QVERIFY2(pins.constBegin().key().contains(QString::number(server.port)), qPrintable(pins.constBegin().key()));
    QCOMPARE(pins.constBegin().value(), fingerprint);

    SmtpOutcome second(client.lookUpUser(alice(), u"alice"_s));
    VERIFY_SUCCEEDS(second);
    QVERIFY2(second.result().text().endsWith(u' ' + address()), qPrintable(second.result().toString()));
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinsInFile(pinFile()), pins);
    QCOMPARE(smtpdLog.count(u"authenticated as alice"_s), 1);

    // The next run of the application reads the pin from the file.
    ServerTrust nextRun(pinFile());
    QSignalSpy pinnedNextRun(&nextRun, &ServerTrust::pinned);
    QCOMPARE(nextRun.pinnedFingerprint(server), fingerprint);
    SmtpClient nextClient(server, &nextRun);
    SmtpOutcome third(nextClient.send(alice(), address(), {address()}, testMessage(address(), u"first use"_s)));
    VERIFY_SUCCEEDS(third);
    QCOMPARE(third.result().code, 250);
    QCOMPARE(pinnedNextRun.count(), 0);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).messages, 1);
}

void TestServerTrust::webTrustOnFirstUse()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->web();
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    QVERIFY(!fingerprint.isEmpty());

    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    ApiClient api(server, &trust);

    // First contact: refused before the request went out, so the server
    // made no session (and counted no failed login).
    ApiOutcome first(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(first, ClientError::Kind::CertificateUnknown);
    QCOMPARE(first.error().server, server);
    QCOMPARE(first.error().presentedFingerprint, fingerprint);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.activeTokens = -1}).activeTokens, 0);
    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(server).isEmpty());
    QCOMPARE(pinsInFile(pinFile()).size(), 0);

    QVERIFY(trust.pin(server, first.error().presentedFingerprint));
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), u"127.0.0.1:"_s + QString::number(server.port));
    QCOMPARE(pinned.first().at(1).toString(), fingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());
    QCOMPARE(pins.size(), 1);
    QCOMPARE(pins.constBegin().value(), fingerprint);

    // The same client logs in now.
    ApiOutcome accepted(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(accepted);
    QVERIFY(!accepted.result().toObject().value(u"token").toString().isEmpty());
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, 1);

    // Second contact on the same client (its connection may be reused) ...
    api.setToken(accepted.result().toObject().value(u"token").toString().toLatin1());
    ApiOutcome second(api.account());
    VERIFY_SUCCEEDS(second);
    QCOMPARE(second.result().toObject().value(u"username").toString(), u"alice"_s);
    // ... and on a new one (a new connection, a new handshake): no new pin.
    ApiClient otherApi(server, &trust);
    ApiOutcome third(otherApi.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(third);
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinsInFile(pinFile()), pins);

    // The next run of the application reads the pin from the file.
    ServerTrust nextRun(pinFile());
    QSignalSpy pinnedNextRun(&nextRun, &ServerTrust::pinned);
    ApiClient nextApi(server, &nextRun);
    ApiOutcome fourth(nextApi.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(fourth);
    QCOMPARE(pinnedNextRun.count(), 0);
    QCOMPARE(nextRun.pinnedFingerprint(server), fingerprint);
}

// No byte of the request (with the password) is sent on first contact: a
// bare TLS server sees the handshake and nothing after it.
void TestServerTrust::webFirstContactSendsNothing()
{
    QVERIFY(startServers());
    const std::optional<QSslConfiguration> tls = serverTls();
    QVERIFY(tls);
    FakeHttpsServer fake(*tls);
    QVERIFY(fake.listen());
    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    ApiClient api(fake.endpoint(), &trust);
    api.setTimeout(10000); // what a request the fake never answers would end with

    ApiOutcome call(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(call, ClientError::Kind::CertificateUnknown);
    QCOMPARE(call.error().presentedFingerprint, fingerprintOf(m_servers->certificateFile()));
    QCOMPARE(call.error().server, fake.endpoint());
    QVERIFY(fake.handshakes() >= 1); // it did connect
    QTRY_VERIFY(fake.ended() >= fake.handshakes());
    QVERIFY2(fake.received().isEmpty(), fake.received().constData());
    QVERIFY(!fake.received().contains(Password.toUtf8()));
    QCOMPARE(pinned.count(), 0);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
}

// SMTP: STARTTLS, then nothing: no EHLO, no AUTH over the unknown certificate.
void TestServerTrust::smtpFirstContactSendsNothingAfterStartTls()
{
    QVERIFY(startServers());
    const std::optional<QSslConfiguration> tls = serverTls();
    QVERIFY(tls);
    FakeStartTlsServer fake(*tls);
    QVERIFY(fake.listen());
    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(fake.endpoint(), &trust);
    client.setTimeout(10000);

    SmtpOutcome job(client.lookUpUser(alice(), u"bob"_s)); // AUTH, then GETUSER
    VERIFY_FAILS_WITH(job, ClientError::Kind::CertificateUnknown);
    QCOMPARE(job.error().presentedFingerprint, fingerprintOf(m_servers->certificateFile()));
    QTRY_VERIFY(fake.clientGone());
    QVERIFY(fake.startedTls());
    QVERIFY2(fake.plaintext().endsWith("STARTTLS\r\n"), fake.plaintext().constData());
    QVERIFY2(fake.afterStartTls().isEmpty(), fake.afterStartTls().constData());
    QCOMPARE(pinned.count(), 0);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);

    // Accepted: the same server now gets the whole conversation over TLS.
    QVERIFY(trust.pin(fake.endpoint(), job.error().presentedFingerprint));
    SmtpOutcome accepted(client.lookUpUser(alice(), u"bob"_s));
    VERIFY_SUCCEEDS(accepted);
    QVERIFY2(fake.afterStartTls().startsWith("EHLO "), fake.afterStartTls().constData());
    QVERIFY2(fake.afterStartTls().contains("AUTH PLAIN"), fake.afterStartTls().constData());
}

// The certificate the user accepted for one server is taken on first contact
// with the other one only when it is exactly that certificate.
void TestServerTrust::acceptOnFirstContactIsExact()
{
    QVERIFY(startServers());
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);

    trust.acceptOnFirstContact(m_servers->web(), u"00:11:22"_s);
    ApiClient api(m_servers->web(), &trust);
    ApiOutcome refused(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(refused, ClientError::Kind::CertificateUnknown);
    QCOMPARE(pinned.count(), 0);
    // For another server than the one named: still asked.
    trust.acceptOnFirstContact(m_servers->smtp(), fingerprint);
    ApiOutcome stillRefused(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(stillRefused, ClientError::Kind::CertificateUnknown);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);

    trust.acceptOnFirstContact(m_servers->web(), fingerprint);
    ApiOutcome accepted(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(accepted);
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), m_servers->web().toString());
    QCOMPARE(trust.pinnedFingerprint(m_servers->web()), fingerprint);
    QCOMPARE(pinsInFile(pinFile()).values(), QStringList{fingerprint});
}

// The first login asks: nothing pinned, nothing sent, logged out; "Don't
// trust" pins nothing; "Trust and continue" pins and logs in with the
// password given before, and the SMTP server with the same certificate is
// then trusted without a second question.
void TestServerTrust::sessionFirstLoginAsks()
{
    QVERIFY(startServers());
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    auto session = makeSession(pinFile());
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    QSignalSpy failed(session.get(), &Session::loginFailed);
    QSignalSpy questions(session.get(), &Session::certificateQuestionChanged);
    QSignalSpy trustedChanged(session.get(), &Session::trustedCertificatesChanged);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QVERIFY(session->trustedCertificates().isEmpty());

    session->login(u"alice"_s, Password);
    QVERIFY(failed.wait(FinishTimeoutMs));
    QCOMPARE(session->state(), Session::State::LoggedOut);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    QCOMPARE(session->certificateQuestionServer(), m_servers->web().toString());
    QCOMPARE(session->certificateQuestionFingerprint(), fingerprint);
    QVERIFY(session->certificateQuestionPinnedFingerprint().isEmpty());
    QVERIFY(session->certificateQuestionResumes());
    QCOMPARE(questions.count(), 1);
    QCOMPARE(session->errorString(), failed.first().first().toString());
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.activeTokens = -1}).activeTokens, 0);

    // Don't trust: nothing pinned, still logged out, and why.
    session->declineCertificate();
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QVERIFY(session->certificateQuestionServer().isEmpty());
    QVERIFY(!session->certificateQuestionResumes());
    QCOMPARE(session->errorString(),
             u"Not connected: you did not trust the certificate of the server at %1."_s.arg(m_servers->web().toString()));
    QCOMPARE(session->state(), Session::State::LoggedOut);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
    QVERIFY(session->trustedCertificates().isEmpty());
    QCOMPARE(trustedChanged.count(), 0);
    QTest::qWait(0);
    QCOMPARE(loggedIn.count(), 0);

    // Asked again on the next login; accepting anything but what was shown does nothing.
    session->login(u"alice"_s, Password);
    QVERIFY(failed.wait(FinishTimeoutMs));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    session->acceptCertificate(m_servers->web().toString(), u"AA:BB"_s);
    session->acceptCertificate(m_servers->smtp().toString(), fingerprint);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);

    // Trust and continue: pinned, and the login resumes on its own.
    session->acceptCertificate(m_servers->web().toString(), fingerprint);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->web()), fingerprint);
    QVERIFY(loggedIn.wait(FinishTimeoutMs));
    QCOMPARE(session->account(), address());
    QVERIFY(session->errorString().isEmpty());
    const QVariantList trusted = session->trustedCertificates();
    QCOMPARE(trusted.size(), 1);
    QCOMPARE(trusted.first().toMap().value(u"server"_s).toString(), m_servers->web().toString());
    QCOMPARE(trusted.first().toMap().value(u"fingerprint"_s).toString(), fingerprint);
    QCOMPARE(trustedChanged.count(), 1);

    // Sending reaches the SMTP server for the first time: the same certificate, no question.
    QSignalSpy pinned(session.get(), &Session::certificatePinned);
    ComposeController compose;
    compose.setSession(session.get());
    compose.setTo(u"alice"_s);
    compose.setSubject(u"Same key"_s);
    compose.setBody(u"Hello."_s);
    QSignalSpy sent(&compose, &ComposeController::sent);
    compose.send();
    QVERIFY(sent.wait(FinishTimeoutMs));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), m_servers->smtp().toString());
    QCOMPARE(session->trustedCertificates().size(), 2);
    QCOMPARE(session->trustedCertificates().first().toMap().value(u"server"_s).toString(), m_servers->smtp().toString());
    QStringList stored = pinsInFile(pinFile()).values();
    QCOMPARE(stored, (QStringList{fingerprint, fingerprint}));
}

// Registration talks to the SMTP server first: the question is about it, and
// accepting resumes the registration and the login after it.
void TestServerTrust::sessionRegistrationAsksThenResumes()
{
    QVERIFY(startServers());
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    auto session = makeSession(pinFile());
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    QSignalSpy failed(session.get(), &Session::loginFailed);
    QSignalSpy registered(session.get(), &Session::registered);

    session->registerAccount(u"carol"_s, Password);
    QVERIFY(failed.wait(FinishTimeoutMs));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    QCOMPARE(session->certificateQuestionServer(), m_servers->smtp().toString());
    QVERIFY(session->certificateQuestionResumes());
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).accounts, 1); // alice only: REG was not sent

    session->acceptCertificate(m_servers->smtp().toString(), fingerprint);
    QVERIFY(loggedIn.wait(FinishTimeoutMs));
    QCOMPARE(registered.count(), 1);
    QCOMPARE(session->account(), m_servers->config().address(u"carol"_s));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(session->trustedCertificates().size(), 2);
    QCOMPARE(failed.count(), 1);
}

// Logged in, the SMTP server (with a certificate of its own) is met for the
// first time when sending: the same question; the message is not sent, and
// goes once the user accepted and sends again.
void TestServerTrust::sessionQuestionWhileLoggedIn()
{
    QVERIFY(startServers());
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    const QString otherKey = m_servers->path(u"other-key.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, otherKey));
    m_servers->stopSmtp();
    QVERIFY(m_servers->startSmtp(otherCertificate, otherKey));
    const QString smtpFingerprint = fingerprintOf(otherCertificate);

    QVERIFY(ServerTrust(pinFile()).pin(m_servers->web(), fingerprintOf(m_servers->certificateFile())));
    auto session = makeSession(pinFile());
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    session->login(u"alice"_s, Password);
    QVERIFY(loggedIn.wait(FinishTimeoutMs));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);

    ComposeController compose;
    compose.setSession(session.get());
    compose.setTo(u"alice"_s);
    compose.setSubject(u"Asked first"_s);
    compose.setBody(u"Hello."_s);
    QSignalSpy sent(&compose, &ComposeController::sent);
    QSignalSpy sendFailed(&compose, &ComposeController::sendFailed);
    compose.send();
    QVERIFY(sendFailed.wait(FinishTimeoutMs));
    QVERIFY2(compose.errorString().contains(u"sent nothing"_s), qPrintable(compose.errorString()));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    QCOMPARE(session->certificateQuestionServer(), m_servers->smtp().toString());
    QCOMPARE(session->certificateQuestionFingerprint(), smtpFingerprint);
    QVERIFY(!session->certificateQuestionResumes());
    QVERIFY(session->isLoggedIn());
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.messages = -1}).messages, 0);

    session->acceptCertificate(m_servers->smtp().toString(), smtpFingerprint);
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::None);
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->smtp()), smtpFingerprint);
    QVERIFY(session->isLoggedIn());
    compose.send();
    QVERIFY(sent.wait(FinishTimeoutMs));
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).messages, 1);
}

// A changed certificate asks with both fingerprints; once accepted, the
// session's trusted certificates show the new one, not the old.
void TestServerTrust::sessionChangedCertificateShowsNewPin()
{
    QVERIFY(startServers());
    const QString oldFingerprint = fingerprintOf(m_servers->certificateFile());
    QVERIFY(m_servers->pinCertificate(pinFile()));
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    const QString otherKey = m_servers->path(u"other-key.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, otherKey));
    m_servers->stopWeb();
    QVERIFY(m_servers->startWeb(otherCertificate, otherKey));
    const QString newFingerprint = fingerprintOf(otherCertificate);

    auto session = makeSession(pinFile());
    const auto webPin = [&] {
        const QVariantList trusted = session->trustedCertificates();
        for (const QVariant &entry : trusted) {
            if (entry.toMap().value(u"server"_s).toString() == m_servers->web().toString())
                return entry.toMap().value(u"fingerprint"_s).toString();
        }
        return QString();
    };
    QCOMPARE(webPin(), oldFingerprint);
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    QSignalSpy failed(session.get(), &Session::loginFailed);
    QSignalSpy trustedChanged(session.get(), &Session::trustedCertificatesChanged);
    session->login(u"alice"_s, Password);
    QVERIFY(failed.wait(FinishTimeoutMs));
    QVERIFY2(failed.first().first().toString().contains(u"presented a different certificate"_s),
             qPrintable(failed.first().first().toString()));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::Changed);
    QCOMPARE(session->certificateQuestionServer(), m_servers->web().toString());
    QCOMPARE(session->certificateQuestionFingerprint(), newFingerprint);
    QCOMPARE(session->certificateQuestionPinnedFingerprint(), oldFingerprint);
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->web()), oldFingerprint);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.activeTokens = -1}).activeTokens, 0);

    session->acceptCertificate(m_servers->web().toString(), newFingerprint);
    QCOMPARE(trustedChanged.count(), 1);
    QCOMPARE(webPin(), newFingerprint);
    QVERIFY(loggedIn.wait(FinishTimeoutMs));
    QCOMPARE(webPin(), newFingerprint);
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->web()), newFingerprint);
    // The SMTP server keeps its own pin.
    QCOMPARE(session->trust()->pinnedFingerprint(m_servers->smtp()), oldFingerprint);
}

void TestServerTrust::smtpCertificateChanged()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->smtp();
    const QString oldFingerprint = fingerprintOf(m_servers->certificateFile());
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, m_servers->path(u"other-key.pem"_s)));
    const QString newFingerprint = fingerprintOf(otherCertificate);
    QVERIFY(!newFingerprint.isEmpty());
    QVERIFY(newFingerprint != oldFingerprint);

    ServerTrust trust(pinFile());
    QVERIFY(trust.pin(server, oldFingerprint)); // accepted on first contact
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(server, &trust);
    SmtpOutcome first(client.ping());
    VERIFY_SUCCEEDS(first);
    QCOMPARE(trust.pinnedFingerprint(server), oldFingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());

    // The same host and port, another certificate.
    m_servers->stopSmtp();
    QVERIFY(m_servers->startSmtp(otherCertificate, m_servers->path(u"other-key.pem"_s)));
    QCOMPARE(m_servers->smtp(), server);

    const SmtpdLog smtpdLog;
    SmtpOutcome refused(client.send(alice(), address(), {address()}, testMessage(address(), u"changed"_s)));
    VERIFY_FAILS_WITH(refused, ClientError::Kind::CertificateChanged);
    QCOMPARE(refused.error().presentedFingerprint, newFingerprint);
    QCOMPARE(refused.error().pinnedFingerprint, oldFingerprint);
    QCOMPARE(refused.error().server, server);
    QVERIFY2(refused.error().message.contains(server.toString()), qPrintable(refused.error().message));
    QCOMPARE(trust.pinnedFingerprint(server), oldFingerprint);
    QCOMPARE(pinsInFile(pinFile()), pins);
    QCOMPARE(pinned.count(), 0);
    // No password went to the server: it logged nobody in, and stored nothing.
    QCOMPARE(smtpdLog.count(u"authenticated as"_s), 0);
    QCOMPARE(smtpdLog.count(u"failed to authenticate"_s), 0);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.messages = -1}).messages, 0);

    // The user compared the new fingerprint and accepts it.
    QVERIFY(trust.pin(server, refused.error().presentedFingerprint));
    QCOMPARE(trust.pinnedFingerprint(server), newFingerprint);
    QCOMPARE(pinned.count(), 1);
    pinned.clear();
    SmtpOutcome accepted(client.send(alice(), address(), {address()}, testMessage(address(), u"accepted"_s)));
    VERIFY_SUCCEEDS(accepted);
    QCOMPARE(pinned.count(), 0);
    QCOMPARE(pinsInFile(pinFile()).values(), QStringList{newFingerprint});
    // The same checks as above, now seeing the login and the message.
    QCOMPARE(smtpdLog.count(u"authenticated as alice"_s), 1);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).messages, 1);
}

void TestServerTrust::webCertificateChanged()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->web();
    const QString oldFingerprint = fingerprintOf(m_servers->certificateFile());
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    const QString otherKey = m_servers->path(u"other-key.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, otherKey));
    const QString newFingerprint = fingerprintOf(otherCertificate);
    QVERIFY(!newFingerprint.isEmpty());
    QVERIFY(newFingerprint != oldFingerprint);

    ServerTrust trust(pinFile());
    QVERIFY(trust.pin(server, oldFingerprint)); // accepted on first contact
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    ApiClient api(server, &trust);
    ApiOutcome first(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(first);
    QCOMPARE(trust.pinnedFingerprint(server), oldFingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());
    const qint64 tokensBefore = m_servers->storeStats().value_or(StoreStats{}).activeTokens;
    QCOMPARE(tokensBefore, 1);

    m_servers->stopWeb();
    QVERIFY(m_servers->startWeb(otherCertificate, otherKey));
    QCOMPARE(m_servers->web(), server);

    // The same client, as the application keeps it.
    ApiOutcome refused(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(refused, ClientError::Kind::CertificateChanged);
    QCOMPARE(refused.error().presentedFingerprint, newFingerprint);
    QCOMPARE(refused.error().server, server);
    QCOMPARE(trust.pinnedFingerprint(server), oldFingerprint);
    QCOMPARE(pinsInFile(pinFile()), pins);
    QCOMPARE(pinned.count(), 0);
    // The password did not reach the server: no new session.
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, tokensBefore);

    // A new client (a new connection) is refused the same way.
    ApiClient otherApi(server, &trust);
    ApiOutcome refusedAgain(otherApi.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(refusedAgain, ClientError::Kind::CertificateChanged);
    QCOMPARE(refusedAgain.error().presentedFingerprint, newFingerprint);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, tokensBefore);

    QVERIFY(trust.pin(server, newFingerprint));
    pinned.clear();
    ApiOutcome accepted(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(accepted);
    QCOMPARE(pinned.count(), 0);
    QCOMPARE(pinsInFile(pinFile()).values(), QStringList{newFingerprint});
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, tokensBefore + 1);
}

void TestServerTrust::pinsArePerHostAndPort()
{
    // smtpd keeps the first certificate, webd on its own port gets another one.
    QVERIFY(startServers());
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    const QString otherKey = m_servers->path(u"other-key.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, otherKey));
    m_servers->stopWeb();
    QVERIFY(m_servers->startWeb(otherCertificate, otherKey));
    const QString smtpFingerprint = fingerprintOf(m_servers->certificateFile());
    const QString webFingerprint = fingerprintOf(otherCertificate);
    QVERIFY(smtpFingerprint != webFingerprint);
    QVERIFY(m_servers->smtp().port != m_servers->web().port);

    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient smtp(m_servers->smtp(), &trust);
    ApiClient api(m_servers->web(), &trust);

    QVERIFY(trust.pin(m_servers->smtp(), smtpFingerprint));
    SmtpOutcome ping(smtp.ping());
    VERIFY_SUCCEEDS(ping);
    QCOMPARE(pinned.count(), 1);

    // Another port of the same host: first contact again, not a changed certificate.
    ApiOutcome firstCall(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(firstCall, ClientError::Kind::CertificateUnknown);
    QCOMPARE(firstCall.error().presentedFingerprint, webFingerprint);
    QVERIFY(trust.pin(m_servers->web(), firstCall.error().presentedFingerprint));
    ApiOutcome call(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(call);
    QCOMPARE(pinned.count(), 2);
    QCOMPARE(pinned.at(1).at(0).toString(), m_servers->web().toString());
    QCOMPARE(pinned.at(1).at(1).toString(), webFingerprint);
    QCOMPARE(trust.pinnedFingerprint(m_servers->smtp()), smtpFingerprint);
    QCOMPARE(trust.pinnedFingerprint(m_servers->web()), webFingerprint);
    QStringList stored = pinsInFile(pinFile()).values();
    stored.sort();
    QStringList expected{smtpFingerprint, webFingerprint};
    expected.sort();
    QCOMPARE(stored, expected);

    // Each pin stays with its own port.
    SmtpOutcome pingAgain(smtp.ping());
    VERIFY_SUCCEEDS(pingAgain);
    ApiOutcome callAgain(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(callAgain);
    QCOMPARE(pinned.count(), 2);

    // And a pin is not the host's: a wrong pin for the SMTP port refuses
    // there only.
    QVERIFY(trust.pin(m_servers->smtp(), webFingerprint));
    SmtpOutcome refused(smtp.ping());
    VERIFY_FAILS_WITH(refused, ClientError::Kind::CertificateChanged);
    QCOMPARE(refused.error().presentedFingerprint, smtpFingerprint);
    ApiOutcome stillFine(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(stillFine);
}

void TestServerTrust::caFileVerifies()
{
    QVERIFY(startServers());
    ServerTrust trust(pinFile());
    QString error;
    QVERIFY2(trust.useCaFile(m_servers->certificateFile(), &error), qPrintable(error));
    QVERIFY(trust.usesCaFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);

    SmtpClient smtp(m_servers->smtp(), &trust);
    SmtpOutcome ping(smtp.ping());
    VERIFY_SUCCEEDS(ping);
    SmtpOutcome lookUp(smtp.lookUpUser(alice(), u"alice"_s));
    VERIFY_SUCCEEDS(lookUp);
    QVERIFY2(lookUp.result().text().endsWith(u' ' + address()), qPrintable(lookUp.result().toString()));

    ApiClient api(m_servers->web(), &trust);
    ApiOutcome logIn(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(logIn);

    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(m_servers->smtp()).isEmpty());
    QVERIFY(trust.pinnedFingerprint(m_servers->web()).isEmpty());
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
}

void TestServerTrust::caFileWithAnotherCertificate()
{
    QVERIFY(startServers());
    const QString otherCertificate = m_servers->path(u"other-cert.pem"_s);
    QVERIFY(m_servers->makeCertificate(otherCertificate, m_servers->path(u"other-key.pem"_s)));

    ServerTrust trust(pinFile());
    QString error;
    QVERIFY2(trust.useCaFile(otherCertificate, &error), qPrintable(error));
    QSignalSpy pinned(&trust, &ServerTrust::pinned);

    SmtpClient smtp(m_servers->smtp(), &trust);
    SmtpOutcome lookUp(smtp.lookUpUser(alice(), u"alice"_s));
    VERIFY_FAILS_WITH(lookUp, ClientError::Kind::Untrusted);
    QCOMPARE(lookUp.error().server, m_servers->smtp());

    ApiClient api(m_servers->web(), &trust);
    ApiOutcome logIn(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(logIn, ClientError::Kind::Untrusted);
    QCOMPARE(logIn.error().server, m_servers->web());
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.activeTokens = -1}).activeTokens, 0);

    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(m_servers->smtp()).isEmpty());
    QVERIFY(trust.pinnedFingerprint(m_servers->web()).isEmpty());
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
}

void TestServerTrust::useCaFileRefusesUnusableFiles_data()
{
    QTest::addColumn<bool>("exists");
    QTest::addColumn<QByteArray>("content");

    QTest::newRow("missing") << false << QByteArray();
    QTest::newRow("empty") << true << QByteArray();
    QTest::newRow("text") << true << "not a certificate\n"_ba;
    QTest::newRow("DER bytes") << true << QByteArray("\x30\x82\x01\x0a\x02\x82\x01\x01\x00", 9);
    QTest::newRow("a key, no certificate")
        << true << "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"_ba;
    QTest::newRow("corrupt certificate")
        << true << "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END CERTIFICATE-----\n"_ba;
}

void TestServerTrust::useCaFileRefusesUnusableFiles()
{
    QFETCH(bool, exists);
    QFETCH(QByteArray, content);

    const QString path = m_pinDir->filePath(u"ca file.pem"_s);
    if (exists) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(content), content.size());
    }
    ServerTrust trust(pinFile());
    QString error;
    QVERIFY(!trust.useCaFile(path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
}

void TestServerTrust::unusableCaFileRefusesEveryServer()
{
    // --ca-cert was given but cannot be used: nothing falls back to trust on first use.
    QVERIFY(startServers());
    const QString path = m_pinDir->filePath(u"missing.pem"_s);
    ServerTrust trust(pinFile());
    QString error;
    QVERIFY(!trust.useCaFile(path, &error));
    QSignalSpy pinned(&trust, &ServerTrust::pinned);

    SmtpClient smtp(m_servers->smtp(), &trust);
    SmtpOutcome lookUp(smtp.lookUpUser(alice(), u"alice"_s));
    VERIFY_FAILS_WITH(lookUp, ClientError::Kind::Untrusted);
    ApiClient api(m_servers->web(), &trust);
    ApiOutcome logIn(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(logIn, ClientError::Kind::Untrusted);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.activeTokens = -1}).activeTokens, 0);
    QCOMPARE(pinned.count(), 0);
    QCOMPARE(pinsInFile(pinFile()).size(), 0);
}

void TestServerTrust::smtpServerDown()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->smtp();
    QVERIFY(m_servers->pinCertificate(pinFile()));
    ServerTrust trust(pinFile());
    SmtpClient client(server, &trust);
    client.setTimeout(15000);
    SmtpOutcome up(client.ping());
    VERIFY_SUCCEEDS(up);

    m_servers->stopSmtp();
    QElapsedTimer elapsed;
    elapsed.start();
    SmtpOutcome down(client.ping());
    VERIFY_FAILS_WITH(down, ClientError::Kind::Unreachable);
    QVERIFY2(elapsed.elapsed() < 5000, qPrintable(QString::number(elapsed.elapsed())));
    QVERIFY2(down.error().message.contains(u"127.0.0.1:"_s + QString::number(server.port)),
             qPrintable(down.error().message));
    QCOMPARE(down.error().server, server);
}

void TestServerTrust::webServerDown()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->web();
    QVERIFY(m_servers->pinCertificate(pinFile()));
    ServerTrust trust(pinFile());
    ApiClient api(server, &trust);
    api.setTimeout(15000);
    ApiOutcome up(api.account()); // no token: 401, but over TLS
    VERIFY_FAILS_WITH(up, ClientError::Kind::SessionExpired);

    m_servers->stopWeb();
    QElapsedTimer elapsed;
    elapsed.start();
    ApiOutcome down(api.account());
    VERIFY_FAILS_WITH(down, ClientError::Kind::Unreachable);
    QVERIFY2(elapsed.elapsed() < 5000, qPrintable(QString::number(elapsed.elapsed())));
    QVERIFY2(down.error().message.contains(u"127.0.0.1:"_s + QString::number(server.port)),
             qPrintable(down.error().message));
    QCOMPARE(down.error().server, server);

    // A client that never reached it before says the same.
    ApiClient fresh(server, &trust);
    ApiOutcome freshDown(fresh.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(freshDown, ClientError::Kind::Unreachable);
}

void TestServerTrust::smtpSilentServerTimesOut_data()
{
    QTest::addColumn<QByteArray>("greeting");
    QTest::addColumn<bool>("offersStartTls");

    QTest::newRow("no greeting") << QByteArray() << false;
    QTest::newRow("no answer to EHLO") << "220 fake.example ESMTP\r\n"_ba << false;
    QTest::newRow("no TLS handshake after STARTTLS") << "220 fake.example ESMTP\r\n"_ba << true;
}

void TestServerTrust::smtpSilentServerTimesOut()
{
    QFETCH(QByteArray, greeting);
    QFETCH(bool, offersStartTls);

    // Answers nothing it is not told to; what a TLS ClientHello holds is not a command.
    FakeSmtpServer silent(greeting, [offersStartTls](const QByteArray &line) -> QByteArray {
        if (!offersStartTls)
            return {};
        if (line.startsWith("EHLO "))
            return "250-fake.example\r\n250 STARTTLS\r\n";
        if (line == "STARTTLS")
            return "220 2.0.0 Ready to start TLS\r\n";
        return {};
    });
    QVERIFY(silent.listen());
    ServerTrust trust(pinFile());
    SmtpClient client(silent.endpoint(), &trust);
    client.setTimeout(1500);

    QElapsedTimer elapsed;
    elapsed.start();
    SmtpOutcome job(client.ping());
    VERIFY_FAILS_WITH(job, ClientError::Kind::Timeout);
    QCOMPARE(silent.connections(), 1);
    QVERIFY2(elapsed.elapsed() >= 1400 && elapsed.elapsed() < 10000, qPrintable(QString::number(elapsed.elapsed())));
    QVERIFY2(job.error().message.contains(silent.endpoint().toString()), qPrintable(job.error().message));
    QCOMPARE(job.error().server, silent.endpoint());
    QTRY_VERIFY(silent.clientGone());
    if (offersStartTls)
        QVERIFY2(silent.received().contains("STARTTLS\r\n"), silent.received().constData());
}

void TestServerTrust::webSilentServerTimesOut()
{
    FakeSmtpServer silent({}, {});
    QVERIFY(silent.listen());
    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    ApiClient api(silent.endpoint(), &trust);
    api.setTimeout(1500);

    QElapsedTimer elapsed;
    elapsed.start();
    ApiOutcome call(api.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(call, ClientError::Kind::Timeout);
    QCOMPARE(silent.connections(), 1);
    QVERIFY2(elapsed.elapsed() >= 1400 && elapsed.elapsed() < 10000, qPrintable(QString::number(elapsed.elapsed())));
    QVERIFY(!silent.received().isEmpty()); // the TLS ClientHello, never answered
    QCOMPARE(pinned.count(), 0);
}

void TestServerTrust::smtpWithoutStartTls_data()
{
    QTest::addColumn<int>("operation");
    QTest::newRow("ping") << 0;
    QTest::newRow("lookUpUser") << 1;
    QTest::newRow("send") << 2;
    QTest::newRow("registerAccount") << 3;
}

void TestServerTrust::smtpWithoutStartTls()
{
    QFETCH(int, operation);

    // An old or stripped server: everything but STARTTLS, and it would take a
    // password in the clear.
    FakeSmtpServer fake("220 fake.example ESMTP\r\n", [](const QByteArray &line) -> QByteArray {
        const QByteArray verb = line.left(4).toUpper();
        if (verb == "EHLO")
            return "250-fake.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n";
        if (verb == "AUTH")
            return "235 2.7.0 Authentication successful\r\n";
        if (verb == "QUIT")
            return "221 2.0.0 Bye\r\n";
        if (verb == "DATA")
            return "354 go on\r\n";
        return "250 2.0.0 OK\r\n";
    });
    QVERIFY(fake.listen());
    ServerTrust trust(pinFile());
    SmtpClient client(fake.endpoint(), &trust);
    client.setTimeout(10000);

    SmtpJob *job = nullptr;
    switch (operation) {
    case 0: job = client.ping(); break;
    case 1: job = client.lookUpUser(alice(), u"bob"_s); break;
    case 2: job = client.send(alice(), u"alice@project.com"_s, {u"bob@project.com"_s}, "Subject: x\r\n\r\nsecret\r\n"_ba); break;
    default: job = client.registerAccount(u"carol"_s, Password); break;
    }
    SmtpOutcome outcome(job);
    VERIFY_FAILS_WITH(outcome, ClientError::Kind::Protocol);
    QTRY_VERIFY(fake.clientGone());
    const QByteArray received = fake.received();
    QVERIFY2(received.startsWith("EHLO "), received.constData());
    QVERIFY2(!received.toUpper().contains("AUTH"), received.constData());
    QVERIFY2(!received.contains("REG"), received.constData());
    QVERIFY2(!received.contains(Password.toUtf8().toBase64().left(8)), received.constData());
    QVERIFY2(!received.contains("MAIL FROM"), received.constData());
    QVERIFY2(!received.contains("PING"), received.constData());
}

void TestServerTrust::smtpStartTlsInjection_data()
{
    QTest::addColumn<QByteArray>("extra");
    QTest::newRow("a whole reply") << "250-fake.example\r\n250 AUTH PLAIN\r\n"_ba;
    QTest::newRow("part of a line") << "25"_ba;
    QTest::newRow("an empty line") << "\r\n"_ba;
    QTest::newRow("one byte") << "\x16"_ba;
}

void TestServerTrust::smtpStartTlsInjection()
{
    QFETCH(QByteArray, extra);

    // The 220 to STARTTLS with more bytes behind it in the same write: they
    // would be read as if they had come over TLS (CVE-2011-0411, reversed).
    FakeSmtpServer fake("220 fake.example ESMTP\r\n", [extra](const QByteArray &line) -> QByteArray {
        const QByteArray verb = line.left(8).toUpper();
        if (verb.startsWith("EHLO"))
            return "250-fake.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n";
        if (verb == "STARTTLS")
            return "220 go ahead\r\n" + extra;
        if (verb.startsWith("QUIT"))
            return "221 2.0.0 Bye\r\n";
        return "250 2.0.0 OK\r\n";
    });
    QVERIFY(fake.listen());
    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(fake.endpoint(), &trust);
    client.setTimeout(10000);

    SmtpOutcome outcome(client.lookUpUser(alice(), u"bob"_s));
    VERIFY_FAILS_WITH(outcome, ClientError::Kind::Protocol);
    QTRY_VERIFY(fake.clientGone());
    // Nothing after STARTTLS: no TLS ClientHello, no command.
    const QByteArray received = fake.received();
    const qsizetype startTls = received.indexOf("STARTTLS\r\n");
    QVERIFY2(startTls > 0, received.constData());
    QCOMPARE(received.mid(startTls), "STARTTLS\r\n"_ba);
    QCOMPARE(pinned.count(), 0);
}

// A pin that cannot be stored trusts the certificate for this run only: the
// next run asks again, it never accepts silently.
void TestServerTrust::unstorablePinTrustsForThisRunOnly()
{
    QVERIFY(startServers());
    QFile blocker(m_pinDir->filePath(u"not-a-directory"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    ServerTrust trust(blocker.fileName() + u"/pins.ini"_s);
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(m_servers->smtp(), &trust);
    SmtpOutcome outcome(client.ping());
    VERIFY_FAILS_WITH(outcome, ClientError::Kind::CertificateUnknown);
    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(m_servers->smtp()).isEmpty());

    QVERIFY(!trust.pin(m_servers->smtp(), outcome.error().presentedFingerprint));
    QCOMPARE(trust.pinnedFingerprint(m_servers->smtp()), outcome.error().presentedFingerprint);
    SmtpOutcome accepted(client.ping());
    VERIFY_SUCCEEDS(accepted);
    QVERIFY(!QFileInfo::exists(blocker.fileName() + u"/pins.ini"_s));
}

// The Session says that an accepted certificate could not be stored, and
// logs in all the same.
void TestServerTrust::sessionUnstorablePin()
{
    QVERIFY(startServers());
    QFile blocker(m_pinDir->filePath(u"not-a-directory"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    auto session = makeSession(blocker.fileName() + u"/pins.ini"_s);
    QSignalSpy loggedIn(session.get(), &Session::loggedIn);
    QSignalSpy failed(session.get(), &Session::loginFailed);
    session->login(u"alice"_s, Password);
    QVERIFY(failed.wait(FinishTimeoutMs));
    QCOMPARE(session->certificateQuestion(), Session::CertificateQuestion::FirstContact);
    session->acceptCertificate(session->certificateQuestionServer(), session->certificateQuestionFingerprint());
    QVERIFY(session->errorString().contains(u"could not be stored"_s));
    QVERIFY(loggedIn.wait(FinishTimeoutMs));
    QVERIFY2(session->errorString().contains(u"ask again next time"_s), qPrintable(session->errorString()));
}

QTEST_GUILESS_MAIN(TestServerTrust)
#include "tst_servertrust.moc"
