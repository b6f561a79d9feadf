// Server trust (SPEC "The desktop client"): trust on first use with SHA-256
// pins, a CA file, and the failures a user must be told apart (unreachable,
// silent, not speaking STARTTLS, injecting plaintext), for both protocol
// clients over real TLS to the real mailroom-smtpd and mailroom-webd code,
// and to scripted fakes in this file where a real server would never misbehave.

#include "apiclient.h"
#include "clienterror.h"
#include "clienttestservers.h"
#include "servertrust.h"
#include "smtpclient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QMutex>
#include <QPointer>
#include <QSettings>
#include <QSignalSpy>
#include <QSslCertificate>
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

    void smtpTrustOnFirstUse();
    void webTrustOnFirstUse();
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
    void unstorablePinRefusesFirstContact();

private:
    // Both servers running, with the account alice.
    [[nodiscard]] bool startServers();
    [[nodiscard]] QString pinFile() const { return m_pinDir->filePath(u"pins.ini"_s); }
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

void TestServerTrust::smtpTrustOnFirstUse()
{
    QVERIFY(startServers());
    const ServerEndpoint server = m_servers->smtp();
    const QString fingerprint = fingerprintOf(m_servers->certificateFile());
    QCOMPARE(fingerprint.size(), 32 * 3 - 1); // "AB:CD:…", SHA-256

    ServerTrust trust(pinFile());
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(server, &trust);

    // First contact: trusted, pinned, shown once.
    SmtpOutcome first(client.ping());
    VERIFY_SUCCEEDS(first);
    QCOMPARE(first.result().code, 250);
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), u"127.0.0.1:"_s + QString::number(server.port));
    QCOMPARE(pinned.first().at(1).toString(), fingerprint);
    QCOMPARE(trust.pinnedFingerprint(server), fingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());
    QCOMPARE(pins.size(), 1);
    QVERIFY2(pins.constBegin().key().contains(QString::number(server.port)), qPrintable(pins.constBegin().key()));
    QCOMPARE(pins.constBegin().value(), fingerprint);

    // Second contact, logged in this time: no new pin.
    SmtpOutcome second(client.lookUpUser(alice(), u"alice"_s));
    VERIFY_SUCCEEDS(second);
    QVERIFY2(second.result().text().endsWith(u' ' + address()), qPrintable(second.result().toString()));
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinsInFile(pinFile()), pins);

    // The next run of the application reads the pin from the file.
    ServerTrust nextRun(pinFile());
    QSignalSpy pinnedNextRun(&nextRun, &ServerTrust::pinned);
    QCOMPARE(nextRun.pinnedFingerprint(server), fingerprint);
    SmtpClient nextClient(server, &nextRun);
    SmtpOutcome third(nextClient.send(alice(), address(), {address()}, testMessage(address(), u"first use"_s)));
    VERIFY_SUCCEEDS(third);
    QCOMPARE(third.result().code, 250);
    QCOMPARE(pinnedNextRun.count(), 0);
    QCOMPARE(pinned.count(), 1);
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

    ApiOutcome first(api.logIn(u"alice"_s, Password));
    VERIFY_SUCCEEDS(first);
    QVERIFY(!first.result().toObject().value(u"token").toString().isEmpty());
    QCOMPARE(pinned.count(), 1);
    QCOMPARE(pinned.first().at(0).toString(), u"127.0.0.1:"_s + QString::number(server.port));
    QCOMPARE(pinned.first().at(1).toString(), fingerprint);
    QCOMPARE(trust.pinnedFingerprint(server), fingerprint);
    const QHash<QString, QString> pins = pinsInFile(pinFile());
    QCOMPARE(pins.size(), 1);
    QVERIFY2(pins.constBegin().key().contains(QString::number(server.port)), qPrintable(pins.constBegin().key()));
    QCOMPARE(pins.constBegin().value(), fingerprint);

    // Second contact on the same client (its connection may be reused) ...
    api.setToken(first.result().toObject().value(u"token").toString().toLatin1());
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
    QCOMPARE(refused.error().server, server);
    QVERIFY2(refused.error().message.contains(server.toString()), qPrintable(refused.error().message));
    QCOMPARE(trust.pinnedFingerprint(server), oldFingerprint);
    QCOMPARE(pinsInFile(pinFile()), pins);
    QCOMPARE(pinned.count(), 1);
    // No password went to the server: it logged nobody in, and stored nothing.
    QCOMPARE(smtpdLog.count(u"authenticated as"_s), 0);
    QCOMPARE(smtpdLog.count(u"failed to authenticate"_s), 0);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{.messages = -1}).messages, 0);

    // The user compared the new fingerprint and accepts it.
    trust.pin(server, refused.error().presentedFingerprint);
    QCOMPARE(trust.pinnedFingerprint(server), newFingerprint);
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
    QCOMPARE(pinned.count(), 1);
    // The password did not reach the server: no new session.
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, tokensBefore);

    // A new client (a new connection) is refused the same way.
    ApiClient otherApi(server, &trust);
    ApiOutcome refusedAgain(otherApi.logIn(u"alice"_s, Password));
    VERIFY_FAILS_WITH(refusedAgain, ClientError::Kind::CertificateChanged);
    QCOMPARE(refusedAgain.error().presentedFingerprint, newFingerprint);
    QCOMPARE(m_servers->storeStats().value_or(StoreStats{}).activeTokens, tokensBefore);

    trust.pin(server, newFingerprint);
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

    SmtpOutcome ping(smtp.ping());
    VERIFY_SUCCEEDS(ping);
    QCOMPARE(pinned.count(), 1);

    // Another port of the same host: first contact again, not a changed certificate.
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
    trust.pin(m_servers->smtp(), webFingerprint);
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

// A pin that cannot be kept would make every start a first contact that
// accepts any certificate: no storage, no trust.
void TestServerTrust::unstorablePinRefusesFirstContact()
{
    QVERIFY(startServers());
    QFile blocker(m_pinDir->filePath(u"not-a-directory"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    ServerTrust trust(blocker.fileName() + u"/pins.ini"_s);
    QSignalSpy pinned(&trust, &ServerTrust::pinned);
    SmtpClient client(m_servers->smtp(), &trust);
    SmtpOutcome outcome(client.ping());
    VERIFY_FAILS_WITH(outcome, ClientError::Kind::Untrusted);
    QVERIFY2(outcome.error().detail.contains(u"cannot be stored"_s), qPrintable(outcome.error().toString()));
    QCOMPARE(pinned.count(), 0);
    QVERIFY(trust.pinnedFingerprint(m_servers->smtp()).isEmpty());
}

QTEST_GUILESS_MAIN(TestServerTrust)
#include "tst_servertrust.moc"
