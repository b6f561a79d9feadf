#include "tlsmaterial.h"

#include "config.h"
#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QSslCertificate>
#include <QSslKey>
#include <QStandardPaths>

namespace TlsMaterial {

std::optional<QSslConfiguration> loadServerConfiguration(const QString &certificateFile, const QString &keyFile,
                                                         QString *error)
{
    QFile certFile(certificateFile);
    if (!certFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read certificate %1: %2").arg(certificateFile, certFile.errorString());
        return std::nullopt;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty() || chain.first().isNull()) {
        *error = QStringLiteral("%1 holds no PEM certificate").arg(certificateFile);
        return std::nullopt;
    }
    QFile keyFileHandle(keyFile);
    if (!keyFileHandle.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read private key %1: %2").arg(keyFile, keyFileHandle.errorString());
        return std::nullopt;
    }
    const QByteArray pem = keyFileHandle.readAll();
    QSslKey key(pem, QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
    if (key.isNull())
        key = QSslKey(pem, QSsl::Rsa, QSsl::Pem, QSsl::PrivateKey);
    if (key.isNull()) {
        *error = QStringLiteral("%1 holds no unencrypted PEM EC or RSA private key").arg(keyFile);
        return std::nullopt;
    }
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificateChain(chain);
    configuration.setPrivateKey(key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // clients authenticate with passwords, not certificates
    // Nothing is verified against a CA here. An explicit empty list also
    // turns off Qt's loading of the system CA directories into every new
    // connection's SSL context: ~0.4 ms of file lookups and parsing per
    // handshake.
    configuration.setCaCertificates({});
    // Mozilla's "intermediate" choice: forward secrecy and AEAD only, which
    // every client docs/PROTOCOL.md §4 names speaks. A short list is also cheaper: Qt builds
    // an OpenSSL context per connection and parses this list into each.
    configuration.setCiphers(QStringLiteral(
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"));
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    return configuration;
}

QStringList subjectAltNames(const QString &hostname)
{
    QStringList names{QStringLiteral("DNS:localhost"), QStringLiteral("IP:127.0.0.1"), QStringLiteral("IP:::1")};
    if (hostname != u"localhost") {
        const bool isAddress = !QHostAddress(hostname).isNull();
        names.prepend((isAddress ? QStringLiteral("IP:") : QStringLiteral("DNS:")) + hostname);
    }
    return names;
}

} // namespace TlsMaterial

CertificateGenerator::CertificateGenerator(QObject *parent)
    : QObject(parent)
{
}

CertificateGenerator::~CertificateGenerator()
{
    // QProcess's own destructor kills and reaps a running openssl; its last
    // signals must not reach this half-destroyed object.
    if (m_process)
        m_process->disconnect(this);
}

void CertificateGenerator::start(const QString &certificateFile, const QString &keyFile, const QString &hostname)
{
    m_certificateFile = certificateFile;
    m_keyFile = keyFile;
    if (QFileInfo::exists(certificateFile) || QFileInfo::exists(keyFile)) {
        fail(QStringLiteral("refusing to overwrite %1 or %2: remove both to have a new pair made")
                 .arg(certificateFile, keyFile));
        return;
    }
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl.isEmpty()) {
        fail(QStringLiteral("the openssl command is needed to create a certificate: install it "
                            "(apt-get install openssl) or pass --cert and --key"));
        return;
    }
    // The name goes into openssl's -subj and -addext arguments, where '/' and
    // ',' are separators.
    if (!isValidHostname(hostname) && QHostAddress(hostname).isNull()) {
        fail(QStringLiteral("'%1' is not a host name for a certificate").arg(hostname));
        return;
    }
    const QString directory = QFileInfo(certificateFile).absolutePath();
    const bool directoryExisted = QFileInfo::exists(directory);
    if (!QDir().mkpath(directory) || !QDir().mkpath(QFileInfo(keyFile).absolutePath())) {
        fail(QStringLiteral("cannot create directory %1 for the certificate").arg(directory));
        return;
    }
    // Only a directory made here is ours to make private.
    if (!directoryExisted)
        QFile::setPermissions(directory, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    // QTemporaryDir is created mode 0700: the key is never readable by others,
    // not even before the chmod below.
    m_workDir = std::make_unique<QTemporaryDir>(directory + QStringLiteral("/.new-XXXXXX"));
    if (!m_workDir->isValid()) {
        fail(QStringLiteral("cannot create a temporary directory in %1: %2").arg(directory, m_workDir->errorString()));
        return;
    }
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_process.get(), &QProcess::finished, this, &CertificateGenerator::onProcessFinished);
    connect(m_process.get(), &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            fail(QStringLiteral("cannot run openssl: %1").arg(m_process->errorString()));
    });
    m_process->start(openssl, {
        QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
        QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
        QStringLiteral("-sha256"), QStringLiteral("-days"), QStringLiteral("825"),
        // X.509 limits a common name to 64 characters; the SANs, which
        // clients check, carry the full name.
        QStringLiteral("-subj"), u"/CN=" + (hostname.size() <= 64 ? hostname : QStringLiteral("Mailroom")),
        QStringLiteral("-addext"), u"subjectAltName=" + TlsMaterial::subjectAltNames(hostname).join(u','),
        QStringLiteral("-keyout"), m_workDir->filePath(QStringLiteral("key.pem")),
        QStringLiteral("-out"), m_workDir->filePath(QStringLiteral("cert.pem")),
    });
}

void CertificateGenerator::onProcessFinished(int exitCode, QProcess::ExitStatus status)
{
    const QString output = QString::fromLocal8Bit(m_process->readAll()).trimmed();
    m_process.release()->deleteLater(); // we are inside its signal
    if (status != QProcess::NormalExit || exitCode != 0) {
        fail(QStringLiteral("openssl failed to create the certificate: %1").arg(output.section(u'\n', -1)));
        return;
    }
    const QString newKey = m_workDir->filePath(QStringLiteral("key.pem"));
    const QString newCert = m_workDir->filePath(QStringLiteral("cert.pem"));
    if (!QFile::setPermissions(newKey, QFile::ReadOwner | QFile::WriteOwner)) {
        fail(QStringLiteral("cannot make %1 private").arg(newKey));
        return;
    }
    // The key goes first: a certificate without its key is never left behind.
    if (!QFile::rename(newKey, m_keyFile)) {
        fail(QStringLiteral("cannot move the new key to %1").arg(m_keyFile));
        return;
    }
    if (!QFile::rename(newCert, m_certificateFile)) {
        QFile::remove(m_keyFile);
        fail(QStringLiteral("cannot move the new certificate to %1").arg(m_certificateFile));
        return;
    }
    m_workDir.reset();
    qCInfo(lcTls) << "created a self-signed certificate" << m_certificateFile << "and key" << m_keyFile;
    Q_EMIT finished();
}

void CertificateGenerator::fail(const QString &error)
{
    m_workDir.reset();
    if (m_process)
        m_process.release()->deleteLater();
    // Always asynchronous, so a caller can connect after start() returns and
    // still get early failures.
    QMetaObject::invokeMethod(this, [this, error] { Q_EMIT failed(error); }, Qt::QueuedConnection);
}
