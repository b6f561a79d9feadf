// TLS material (docs/PROTOCOL.md §3 and §4): the self-signed
// certificate made by CertificateGenerator, loading a pair into a server
// configuration, and real loopback handshakes against it.

#include "tlsmaterial.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QPointer>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

namespace {

constexpr int GenerateTimeoutMs = 60000;
constexpr int HandshakeTimeoutMs = 20000;

const QString &hostname()
{
    static const QString name = QStringLiteral("mail.example.test");
    return name;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

// Every entry of a directory, hidden ones included.
QStringList entries(const QString &directory)
{
    QStringList names = QDir(directory).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    names.sort();
    return names;
}

int modeOf(const QString &path)
{
    struct stat status {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return -1;
    return int(status.st_mode & 07777);
}

QString octal(int mode)
{
    return QStringLiteral("0%1").arg(mode, 3, 8, QLatin1Char('0'));
}

// Runs the generator to completion; check QTest::currentTestFailed() after.
void generatePair(const QString &certificateFile, const QString &keyFile, const QString &name)
{
    CertificateGenerator generator;
    QSignalSpy finished(&generator, &CertificateGenerator::finished);
    QSignalSpy failed(&generator, &CertificateGenerator::failed);
    QVERIFY(finished.isValid());
    QVERIFY(failed.isValid());
    generator.start(certificateFile, keyFile, name);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), GenerateTimeoutMs);
    if (!failed.isEmpty())
        QFAIL(qPrintable(u"the generator failed: " + failed.constFirst().constFirst().toString()));
    QCOMPARE(finished.size(), 1);
    // Checked while the generator still lives: its temporary directory is gone
    // by the time it reports, not only when it is destroyed.
    for (const QString &file : {certificateFile, keyFile}) {
        const QString directory = QFileInfo(file).absolutePath();
        const QStringList leftovers = entries(directory).filter(QStringLiteral(".new-"));
        QVERIFY2(leftovers.isEmpty(), qPrintable(directory + u": " + leftovers.join(u' ')));
    }
}

// Runs openssl with @KEY and @CERT replaced; check QTest::currentTestFailed() after.
void runOpenssl(QStringList arguments, const QString &keyFile, const QString &certificateFile)
{
    for (QString &argument : arguments) {
        argument.replace(QStringLiteral("@KEY"), keyFile);
        argument.replace(QStringLiteral("@CERT"), certificateFile);
    }
    QProcess openssl;
    openssl.setProcessChannelMode(QProcess::MergedChannels);
    openssl.start(QStringLiteral("openssl"), arguments);
    QVERIFY2(openssl.waitForStarted(), qPrintable(openssl.errorString()));
    QVERIFY2(openssl.waitForFinished(GenerateTimeoutMs), qPrintable(openssl.errorString()));
    QVERIFY2(openssl.exitStatus() == QProcess::NormalExit && openssl.exitCode() == 0,
             qPrintable(arguments.join(u' ') + u'\n' + QString::fromLocal8Bit(openssl.readAll())));
}

struct HandshakeResult
{
    bool encrypted = false;
    QList<QSslError> errors;
    QSslCertificate peerCertificate;
    QByteArray serverReceived;
};

// Serves `server` on 127.0.0.1 port 0 and connects one client that trusts only
// `ca` and verifies the peer as `verifyName`; check QTest::currentTestFailed() after.
void handshake(const QSslConfiguration &server, const QSslCertificate &ca, const QString &verifyName,
               HandshakeResult *result)
{
    QSslServer listener;
    listener.setSslConfiguration(server);
    QList<QPointer<QSslSocket>> accepted;
    QByteArray received;
    // QT64-NOTES "Network": newConnection comes before the handshake.
    QObject::connect(&listener, &QTcpServer::pendingConnectionAvailable, &listener, [&] {
        while (QTcpSocket *socket = listener.nextPendingConnection()) {
            auto *ssl = qobject_cast<QSslSocket *>(socket);
            QVERIFY(ssl);
            accepted.append(ssl);
            const auto read = [ssl, &received] { received += ssl->readAll(); };
            QObject::connect(ssl, &QIODevice::readyRead, ssl, read);
            read();
        }
    });
    QSignalSpy serverErrors(&listener, &QSslServer::errorOccurred);
    QVERIFY2(listener.listen(QHostAddress(QHostAddress::LocalHost), 0), qPrintable(listener.errorString()));
    QVERIFY(listener.serverPort() != 0);

    QSslSocket client;
    QSslConfiguration clientConfiguration = QSslConfiguration::defaultConfiguration();
    clientConfiguration.setCaCertificates({ca});
    clientConfiguration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    client.setSslConfiguration(clientConfiguration);
    QSignalSpy encrypted(&client, &QSslSocket::encrypted);
    QSignalSpy sslErrors(&client, &QSslSocket::sslErrors);
    QSignalSpy disconnected(&client, &QAbstractSocket::disconnected);
    QSignalSpy socketErrors(&client, &QAbstractSocket::errorOccurred);

    client.connectToHostEncrypted(QStringLiteral("127.0.0.1"), listener.serverPort(), verifyName);
    QTRY_VERIFY_WITH_TIMEOUT(!encrypted.isEmpty() || !socketErrors.isEmpty(), HandshakeTimeoutMs);

    result->encrypted = !encrypted.isEmpty();
    for (const QList<QVariant> &arguments : std::as_const(sslErrors))
        result->errors += arguments.constFirst().value<QList<QSslError>>();
    if (!result->encrypted) {
        QCOMPARE(client.isEncrypted(), false);
        return;
    }
    QVERIFY(client.isEncrypted());
    QVERIFY(client.sessionProtocol() == QSsl::TlsV1_2 || client.sessionProtocol() == QSsl::TlsV1_3);
    result->peerCertificate = client.peerCertificate();

    // The channel works both ways once both sides are through.
    QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, HandshakeTimeoutMs);
    QVERIFY(accepted.constFirst());
    QVERIFY(accepted.constFirst()->isEncrypted());
    QSignalSpy clientRead(&client, &QIODevice::readyRead);
    client.write("ping\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(received, QByteArray("ping\r\n"), HandshakeTimeoutMs);
    accepted.constFirst()->write("pong\r\n");
    QVERIFY(clientRead.wait(HandshakeTimeoutMs));
    QCOMPARE(client.readAll(), QByteArray("pong\r\n"));
    result->serverReceived = received;
    QCOMPARE(serverErrors.size(), 0);
    client.disconnectFromHost();
}

} // namespace

class TestTlsMaterial : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void generatorRefusesExistingFiles_data();
    void generatorRefusesExistingFiles();
    void generatorNeedsOpenssl();
    void subjectAltNames_data();
    void subjectAltNames();
    void generatesUsablePair();
    void longHostNameStaysInTheSubjectAltName();
    void handshake_data();
    void handshake();
    void loadErrorsNameTheFile_data();
    void loadErrorsNameTheFile();
    void opensslPairsLoad_data();
    void opensslPairsLoad();
};

void TestTlsMaterial::initTestCase()
{
    QVERIFY2(QSslSocket::supportsSsl(), "no TLS backend: install Qt's OpenSSL plugin");
    QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty(),
             "these tests need the openssl command (apt-get install openssl)");
}

void TestTlsMaterial::generatorRefusesExistingFiles_data()
{
    QTest::addColumn<bool>("certificateExists");
    QTest::addColumn<bool>("keyExists");

    QTest::newRow("certificate exists") << true << false;
    QTest::newRow("key exists") << false << true;
    QTest::newRow("both exist") << true << true;
}

void TestTlsMaterial::generatorRefusesExistingFiles()
{
    QFETCH(bool, certificateExists);
    QFETCH(bool, keyExists);

    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString tls = dir.filePath(QStringLiteral("tls"));
    QVERIFY(QDir().mkpath(tls));
    const QString certificateFile = tls + QStringLiteral("/cert.pem");
    const QString keyFile = tls + QStringLiteral("/key.pem");
    const QByteArray oldCertificate = "not really a certificate, but ours\n";
    const QByteArray oldKey = "not really a key, but ours\n";
    if (certificateExists)
        QVERIFY(writeFile(certificateFile, oldCertificate));
    if (keyExists)
        QVERIFY(writeFile(keyFile, oldKey));
    const QStringList before = entries(tls);

    CertificateGenerator generator;
    QSignalSpy finished(&generator, &CertificateGenerator::finished);
    QSignalSpy failed(&generator, &CertificateGenerator::failed);
    generator.start(certificateFile, keyFile, hostname());
    QCOMPARE(failed.size(), 0); // always reported asynchronously
    QVERIFY(failed.wait(GenerateTimeoutMs));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(finished.size(), 0);

    const QString error = failed.constFirst().constFirst().toString();
    QVERIFY2(error.contains(certificateExists ? certificateFile : keyFile), qPrintable(error));

    QCOMPARE(entries(tls), before); // nothing added, no ".new-*" directory left
    if (certificateExists)
        QCOMPARE(readAll(certificateFile), oldCertificate);
    else
        QVERIFY(!QFileInfo::exists(certificateFile));
    if (keyExists)
        QCOMPARE(readAll(keyFile), oldKey);
    else
        QVERIFY(!QFileInfo::exists(keyFile));
}

void TestTlsMaterial::generatorNeedsOpenssl()
{
    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString emptyBin = dir.filePath(QStringLiteral("empty-bin"));
    QVERIFY(QDir().mkpath(emptyBin));

    const bool pathWasSet = qEnvironmentVariableIsSet("PATH");
    const QByteArray oldPath = qgetenv("PATH");
    const auto restorePath = qScopeGuard([&] {
        if (pathWasSet)
            qputenv("PATH", oldPath);
        else
            qunsetenv("PATH");
    });
    qputenv("PATH", QFile::encodeName(emptyBin));
    QVERIFY(QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty());

    const QString certificateFile = dir.filePath(QStringLiteral("tls/cert.pem"));
    const QString keyFile = dir.filePath(QStringLiteral("tls/key.pem"));
    CertificateGenerator generator;
    QSignalSpy finished(&generator, &CertificateGenerator::finished);
    QSignalSpy failed(&generator, &CertificateGenerator::failed);
    generator.start(certificateFile, keyFile, hostname());
    QCOMPARE(failed.size(), 0);
    QVERIFY(failed.wait(GenerateTimeoutMs));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(finished.size(), 0);
    const QString error = failed.constFirst().constFirst().toString();
    QVERIFY2(error.contains(QStringLiteral("openssl")), qPrintable(error));
    QVERIFY2(!error.contains(u'\n'), qPrintable(error));
    QVERIFY(!QFileInfo::exists(certificateFile));
    QVERIFY(!QFileInfo::exists(keyFile));
    QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("tls")))); // nothing made before the check
}

void TestTlsMaterial::subjectAltNames_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<QStringList>("names");

    QTest::newRow("host name") << hostname()
                               << QStringList{QStringLiteral("DNS:mail.example.test"), QStringLiteral("DNS:localhost"),
                                              QStringLiteral("IP:127.0.0.1"), QStringLiteral("IP:::1")};
    QTest::newRow("localhost only once")
        << QStringLiteral("localhost")
        << QStringList{QStringLiteral("DNS:localhost"), QStringLiteral("IP:127.0.0.1"), QStringLiteral("IP:::1")};
    QTest::newRow("address as host name")
        << QStringLiteral("192.0.2.7")
        << QStringList{QStringLiteral("IP:192.0.2.7"), QStringLiteral("DNS:localhost"), QStringLiteral("IP:127.0.0.1"),
                       QStringLiteral("IP:::1")};
}

void TestTlsMaterial::subjectAltNames()
{
    QFETCH(QString, host);
    QFETCH(QStringList, names);
    QCOMPARE(TlsMaterial::subjectAltNames(host), names);
}

void TestTlsMaterial::generatesUsablePair()
{
    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString tls = dir.filePath(QStringLiteral("data/tls")); // made by the generator
    const QString certificateFile = tls + QStringLiteral("/cert.pem");
    const QString keyFile = tls + QStringLiteral("/key.pem");

    const QDateTime before = QDateTime::currentDateTimeUtc();
    generatePair(certificateFile, keyFile, hostname());
    if (QTest::currentTestFailed())
        return;

    QCOMPARE(entries(tls), (QStringList{QStringLiteral("cert.pem"), QStringLiteral("key.pem")}));
    const int keyMode = modeOf(keyFile);
    QVERIFY2(keyMode == 0600, qPrintable(QStringLiteral("key file mode %1, want 0600").arg(octal(keyMode))));
    QVERIFY2(readAll(keyFile).startsWith("-----BEGIN "), "the key is PEM");

    QString error;
    const std::optional<QSslConfiguration> configuration =
        TlsMaterial::loadServerConfiguration(certificateFile, keyFile, &error);
    QVERIFY2(configuration.has_value(), qPrintable(error));
    const QSslKey key = configuration->privateKey();
    QVERIFY(!key.isNull());
    QCOMPARE(key.algorithm(), QSsl::Ec);
    QCOMPARE(key.type(), QSsl::PrivateKey);
    QCOMPARE(key.length(), 256); // P-256

    const QSslCertificate certificate = configuration->localCertificate();
    QVERIFY(!certificate.isNull());
    QCOMPARE(configuration->localCertificateChain().size(), 1);
    QVERIFY(certificate.isSelfSigned());
    QCOMPARE(certificate.publicKey().algorithm(), QSsl::Ec);
    QVERIFY(certificate.effectiveDate() <= before.addSecs(60));
    QVERIFY(certificate.expiryDate() > before.addDays(30));

    const QMultiMap<QSsl::AlternativeNameEntryType, QString> names = certificate.subjectAlternativeNames();
    const QStringList dns = names.values(QSsl::DnsEntry);
    QVERIFY2(dns.contains(hostname()), qPrintable(dns.join(u' ')));
    QVERIFY2(dns.contains(QStringLiteral("localhost")), qPrintable(dns.join(u' ')));
    QList<QHostAddress> addresses;
    for (const QString &text : names.values(QSsl::IpAddressEntry)) {
        const QHostAddress address(text);
        QVERIFY2(!address.isNull(), qPrintable(text));
        addresses += address;
    }
    QVERIFY2(addresses.contains(QHostAddress(QHostAddress::LocalHost)),
             qPrintable(names.values(QSsl::IpAddressEntry).join(u' ')));
    QVERIFY2(addresses.contains(QHostAddress(QHostAddress::LocalHostIPv6)),
             qPrintable(names.values(QSsl::IpAddressEntry).join(u' ')));
    QCOMPARE(names.size(), 4); // nothing else sneaks in
}

// X.509 allows 64 characters in a common name; a longer valid host name
// (up to 253) still gets a certificate, with the full name in the SAN.
void TestTlsMaterial::longHostNameStaysInTheSubjectAltName()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString longName = QString(60, u'a') + QStringLiteral(".mail.example.test");
    QVERIFY(longName.size() > 64);
    const QString certificateFile = dir.filePath(QStringLiteral("cert.pem"));
    generatePair(certificateFile, dir.filePath(QStringLiteral("key.pem")), longName);
    if (QTest::currentTestFailed())
        return;
    const QSslCertificate certificate = QSslCertificate::fromPath(certificateFile).value(0);
    QVERIFY(!certificate.isNull());
    QVERIFY(certificate.subjectAlternativeNames().values(QSsl::DnsEntry).contains(longName));
}

void TestTlsMaterial::handshake_data()
{
    QTest::addColumn<QString>("verifyName");
    QTest::addColumn<bool>("trustOwnCertificate"); // else a different self-signed one
    QTest::addColumn<bool>("succeeds");
    QTest::addColumn<int>("expectedError"); // QSslError::SslError, or -1 for any

    QTest::newRow("verify as localhost") << QStringLiteral("localhost") << true << true << -1;
    QTest::newRow("verify as 127.0.0.1") << QStringLiteral("127.0.0.1") << true << true << -1;
    QTest::newRow("verify as ::1") << QStringLiteral("::1") << true << true << -1;
    QTest::newRow("verify as the host name") << hostname() << true << true << -1;
    QTest::newRow("verify as wrong.example")
        << QStringLiteral("wrong.example") << true << false << int(QSslError::HostNameMismatch);
    QTest::newRow("verify as 127.0.0.2")
        << QStringLiteral("127.0.0.2") << true << false << int(QSslError::HostNameMismatch);
    QTest::newRow("trusting another certificate") << QStringLiteral("localhost") << false << false << -1;
}

void TestTlsMaterial::handshake()
{
    QFETCH(QString, verifyName);
    QFETCH(bool, trustOwnCertificate);
    QFETCH(bool, succeeds);
    QFETCH(int, expectedError);

    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString certificateFile = dir.filePath(QStringLiteral("tls/cert.pem"));
    const QString keyFile = dir.filePath(QStringLiteral("tls/key.pem"));
    generatePair(certificateFile, keyFile, hostname());
    if (QTest::currentTestFailed())
        return;
    QString error;
    const std::optional<QSslConfiguration> configuration =
        TlsMaterial::loadServerConfiguration(certificateFile, keyFile, &error);
    QVERIFY2(configuration.has_value(), qPrintable(error));

    QSslCertificate trusted = configuration->localCertificate();
    if (!trustOwnCertificate) {
        const QString otherCertificate = dir.filePath(QStringLiteral("other/cert.pem"));
        generatePair(otherCertificate, dir.filePath(QStringLiteral("other/key.pem")), hostname());
        if (QTest::currentTestFailed())
            return;
        const QList<QSslCertificate> other = QSslCertificate::fromPath(otherCertificate);
        QCOMPARE(other.size(), 1);
        QVERIFY(other.constFirst() != trusted);
        trusted = other.constFirst();
    }

    HandshakeResult result;
    ::handshake(*configuration, trusted, verifyName, &result);
    if (QTest::currentTestFailed())
        return;

    QStringList errorTexts;
    for (const QSslError &sslError : std::as_const(result.errors))
        errorTexts += sslError.errorString();
    if (succeeds) {
        QVERIFY2(result.encrypted, qPrintable(errorTexts.join(u"; ")));
        QVERIFY2(result.errors.isEmpty(), qPrintable(errorTexts.join(u"; ")));
        QCOMPARE(result.peerCertificate, configuration->localCertificate());
        QCOMPARE(result.serverReceived, QByteArray("ping\r\n"));
        return;
    }
    QVERIFY2(!result.encrypted, "a certificate that should not verify was accepted");
    QVERIFY2(!result.errors.isEmpty(), "the handshake failed without reporting a certificate error");
    if (expectedError >= 0) {
        bool found = false;
        for (const QSslError &sslError : std::as_const(result.errors))
            found = found || sslError.error() == QSslError::SslError(expectedError);
        QVERIFY2(found, qPrintable(errorTexts.join(u"; ")));
    } else {
        for (const QSslError &sslError : std::as_const(result.errors))
            QVERIFY2(sslError.error() != QSslError::HostNameMismatch, qPrintable(errorTexts.join(u"; ")));
    }
}

void TestTlsMaterial::loadErrorsNameTheFile_data()
{
    // What each file holds: "valid", "missing", "empty", "garbage", "der"
    // (the certificate in DER), "key" (the private key), "certificate",
    // "truncated" (the first half of the key), "encrypted" (the key with a
    // passphrase), "directory".
    QTest::addColumn<QString>("certificateContent");
    QTest::addColumn<QString>("keyContent");
    QTest::addColumn<bool>("certificateNamed"); // else the key file

    const auto row = [](const char *tag, const char *certificate, const char *key, bool certificateNamed) {
        QTest::newRow(tag) << QString::fromLatin1(certificate) << QString::fromLatin1(key) << certificateNamed;
    };
    row("certificate missing", "missing", "valid", true);
    row("certificate empty", "empty", "valid", true);
    row("certificate not PEM", "garbage", "valid", true);
    row("certificate in DER", "der", "valid", true);
    row("certificate file holds the key", "key", "valid", true);
    row("certificate is a directory", "directory", "valid", true);
    row("key missing", "valid", "missing", false);
    row("key empty", "valid", "empty", false);
    row("key garbage", "valid", "garbage", false);
    row("key file holds the certificate", "valid", "certificate", false);
    row("key truncated", "valid", "truncated", false);
    row("key encrypted", "valid", "encrypted", false);
    row("key is a directory", "valid", "directory", false);
}

void TestTlsMaterial::loadErrorsNameTheFile()
{
    QFETCH(QString, certificateContent);
    QFETCH(QString, keyContent);
    QFETCH(bool, certificateNamed);

    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString goodCertificate = dir.filePath(QStringLiteral("good/cert.pem"));
    const QString goodKey = dir.filePath(QStringLiteral("good/key.pem"));
    generatePair(goodCertificate, goodKey, hostname());
    if (QTest::currentTestFailed())
        return;
    QString error;
    QVERIFY2(TlsMaterial::loadServerConfiguration(goodCertificate, goodKey, &error).has_value(), qPrintable(error));

    const QByteArray certificatePem = readAll(goodCertificate);
    const QByteArray keyPem = readAll(goodKey);
    QVERIFY(!certificatePem.isEmpty());
    QVERIFY(!keyPem.isEmpty());

    const auto place = [&](const QString &content, const QString &path) {
        if (content == u"missing")
            return true;
        if (content == u"directory")
            return QDir().mkpath(path);
        QByteArray bytes;
        if (content == u"valid")
            bytes = path.endsWith(u"cert.pem") ? certificatePem : keyPem;
        else if (content == u"garbage")
            bytes = "this is not PEM at all\n\x01\x02\x03";
        else if (content == u"der")
            bytes = QSslCertificate(certificatePem, QSsl::Pem).toDer();
        else if (content == u"key")
            bytes = keyPem;
        else if (content == u"certificate")
            bytes = certificatePem;
        else if (content == u"truncated")
            bytes = keyPem.left(keyPem.size() / 2);
        else if (content != u"empty")
            return false;
        return writeFile(path, bytes);
    };
    const QString certificateFile = dir.filePath(QStringLiteral("cert.pem"));
    const QString keyFile = dir.filePath(QStringLiteral("key.pem"));
    QVERIFY(place(certificateContent, certificateFile));
    if (keyContent == u"encrypted") {
        runOpenssl({QStringLiteral("pkey"), QStringLiteral("-in"), goodKey, QStringLiteral("-aes256"),
                    QStringLiteral("-passout"), QStringLiteral("pass:correct horse"), QStringLiteral("-out"),
                    QStringLiteral("@KEY")},
                   keyFile, certificateFile);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(readAll(keyFile).contains("ENCRYPTED"));
    } else {
        QVERIFY(place(keyContent, keyFile));
    }
    if (certificateContent == u"der")
        QVERIFY(!readAll(certificateFile).isEmpty());

    error.clear();
    const std::optional<QSslConfiguration> configuration =
        TlsMaterial::loadServerConfiguration(certificateFile, keyFile, &error);
    QVERIFY2(!configuration.has_value(), "an unusable pair was loaded");
    QVERIFY2(!error.isEmpty(), "no error message");
    QVERIFY2(!error.contains(u'\n'), qPrintable(error));
    const QString named = certificateNamed ? certificateFile : keyFile;
    QVERIFY2(error.contains(named), qPrintable(QStringLiteral("'%1' does not name %2").arg(error, named)));
}

void TestTlsMaterial::opensslPairsLoad_data()
{
    QTest::addColumn<QList<QStringList>>("commands");
    QTest::addColumn<int>("algorithm"); // QSsl::KeyAlgorithm
    QTest::addColumn<int>("keyLength");

    const QStringList subject = {QStringLiteral("-subj"), QStringLiteral("/CN=localhost"), QStringLiteral("-addext"),
                                 QStringLiteral("subjectAltName=DNS:localhost,IP:127.0.0.1"), QStringLiteral("-days"),
                                 QStringLiteral("2"), QStringLiteral("-out"), QStringLiteral("@CERT")};
    const QStringList selfSignWithKey = QStringList{QStringLiteral("req"), QStringLiteral("-x509"),
                                                    QStringLiteral("-key"), QStringLiteral("@KEY")}
        + subject;

    QTest::newRow("RSA 2048 from req -newkey (PKCS#8)")
        << QList<QStringList>{QStringList{QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                                          QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                                          QStringLiteral("-keyout"), QStringLiteral("@KEY")}
                              + subject}
        << int(QSsl::Rsa) << 2048;
    QTest::newRow("RSA 2048 traditional (PKCS#1)")
        << QList<QStringList>{{QStringLiteral("genrsa"), QStringLiteral("-traditional"), QStringLiteral("-out"),
                               QStringLiteral("@KEY"), QStringLiteral("2048")},
                              selfSignWithKey}
        << int(QSsl::Rsa) << 2048;
    QTest::newRow("EC P-256 SEC1")
        << QList<QStringList>{{QStringLiteral("ecparam"), QStringLiteral("-name"), QStringLiteral("prime256v1"),
                               QStringLiteral("-genkey"), QStringLiteral("-noout"), QStringLiteral("-out"),
                               QStringLiteral("@KEY")},
                              selfSignWithKey}
        << int(QSsl::Ec) << 256;
    QTest::newRow("EC P-384 PKCS#8")
        << QList<QStringList>{QStringList{QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                                          QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                                          QStringLiteral("ec_paramgen_curve:secp384r1"), QStringLiteral("-nodes"),
                                          QStringLiteral("-keyout"), QStringLiteral("@KEY")}
                              + subject}
        << int(QSsl::Ec) << 384;
}

void TestTlsMaterial::opensslPairsLoad()
{
    QFETCH(QList<QStringList>, commands);
    QFETCH(int, algorithm);
    QFETCH(int, keyLength);

    QTemporaryDir dir;
    QVERIFY2(dir.isValid(), qPrintable(dir.errorString()));
    const QString certificateFile = dir.filePath(QStringLiteral("cert.pem"));
    const QString keyFile = dir.filePath(QStringLiteral("key.pem"));
    for (const QStringList &command : std::as_const(commands)) {
        runOpenssl(command, keyFile, certificateFile);
        if (QTest::currentTestFailed())
            return;
    }

    QString error;
    const std::optional<QSslConfiguration> configuration =
        TlsMaterial::loadServerConfiguration(certificateFile, keyFile, &error);
    QVERIFY2(configuration.has_value(), qPrintable(error));
    QCOMPARE(int(configuration->privateKey().algorithm()), algorithm);
    QCOMPARE(configuration->privateKey().length(), keyLength);
    QCOMPARE(int(configuration->localCertificate().publicKey().algorithm()), algorithm);

    // And it serves: a client trusting only this certificate gets through.
    HandshakeResult result;
    ::handshake(*configuration, configuration->localCertificate(), QStringLiteral("localhost"), &result);
    if (QTest::currentTestFailed())
        return;
    QStringList errorTexts;
    for (const QSslError &sslError : std::as_const(result.errors))
        errorTexts += sslError.errorString();
    QVERIFY2(result.encrypted, qPrintable(errorTexts.join(u"; ")));
    QVERIFY2(result.errors.isEmpty(), qPrintable(errorTexts.join(u"; ")));
    QCOMPARE(result.serverReceived, QByteArray("ping\r\n"));
}

QTEST_GUILESS_MAIN(TestTlsMaterial)

#include "tst_tlsmaterial.moc"
