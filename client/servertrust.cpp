#include "servertrust.h"

#include "clientlogging.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QHostAddress>
#include <QSettings>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

// What a self-signed certificate reached by address brings: no issuer we
// know, and possibly a name it does not carry. Only these are ever ignored,
// and only for the pinned certificate.
bool isPinnable(QSslError::SslError error)
{
    switch (error) {
    case QSslError::SelfSignedCertificate:
    case QSslError::SelfSignedCertificateInChain:
    case QSslError::UnableToGetLocalIssuerCertificate:
    case QSslError::UnableToGetIssuerCertificate:
    case QSslError::UnableToVerifyFirstCertificate:
    case QSslError::CertificateUntrusted:
    case QSslError::HostNameMismatch:
        return true;
    default:
        return false;
    }
}

QString describe(const QList<QSslError> &errors)
{
    QStringList texts;
    for (const QSslError &error : errors)
        texts.append(error.errorString());
    texts.removeDuplicates();
    return texts.join(u"; "_s);
}

} // namespace

ServerTrust::ServerTrust(const QString &pinFile, QObject *parent)
    : QObject(parent)
    , m_pins(pinFile.isEmpty() ? std::make_unique<QSettings>() : std::make_unique<QSettings>(pinFile, QSettings::IniFormat))
{
}

ServerTrust::~ServerTrust() = default;

bool ServerTrust::useCaFile(const QString &path, QString *error)
{
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(path, QSsl::Pem, QSslCertificate::PatternSyntax::FixedString);
    // Asked for, it is used, usable or not: a bad file refuses every server,
    // it never falls back to trust on first use.
    m_caFile = path;
    m_caCertificates = certificates;
    if (certificates.isEmpty()) {
        m_caFileError = QFileInfo::exists(path)
            ? u"%1 holds no PEM certificate (give the server's tls/cert.pem or the CA that signed it)"_s.arg(path)
            : u"%1 does not exist (give the server's tls/cert.pem or the CA that signed it)"_s.arg(path);
        *error = m_caFileError;
        return false;
    }
    return true;
}

QSslConfiguration ServerTrust::configuration() const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (usesCaFile())
        configuration.setCaCertificates(m_caCertificates);
    return configuration;
}

QString ServerTrust::fingerprint(const QSslCertificate &certificate)
{
    const QByteArray digest = certificate.digest(QCryptographicHash::Sha256).toHex(':').toUpper();
    return QString::fromLatin1(digest);
}

QString ServerTrust::pinKey(const ServerEndpoint &server) const
{
    // One server, one pin: host names are case-insensitive, and an address
    // has one canonical spelling ("::1", never "0::1").
    ServerEndpoint canonical = server;
    const QHostAddress address(server.host);
    canonical.host = address.isNull() ? server.host.toLower() : address.toString();
    // QSettings keys treat '/' and '\' specially; an endpoint has neither, but
    // an IPv6 address has ':' and brackets, which INI keys escape themselves.
    return u"pins/"_s + QString::fromLatin1(QUrl::toPercentEncoding(canonical.toString()));
}

QString ServerTrust::pinnedFingerprint(const ServerEndpoint &server) const
{
    return m_pins->value(pinKey(server)).toString();
}

bool ServerTrust::pin(const ServerEndpoint &server, const QString &fingerprint)
{
    m_pins->setValue(pinKey(server), fingerprint);
    m_pins->sync();
    return m_pins->status() == QSettings::NoError;
}

void ServerTrust::forget(const ServerEndpoint &server)
{
    m_pins->remove(pinKey(server));
    m_pins->sync();
}

ServerTrust::Verdict ServerTrust::judgeAgainstPin(const ServerEndpoint &server, const QSslCertificate &presented)
{
    if (presented.isNull())
        return {false, ClientError::untrusted(server, u"the server presented no certificate"_s)};
    const QString presentedFingerprint = fingerprint(presented);
    const QString pinnedPrint = pinnedFingerprint(server);
    if (pinnedPrint.isEmpty()) {
        // A pin that is not kept would make every start a first contact,
        // accepting any certificate: without storage, no trust.
        if (!pin(server, presentedFingerprint)) {
            m_pins->remove(pinKey(server));
            return {false, ClientError::untrusted(server, u"the certificate's fingerprint cannot be stored in %1"_s
                                                               .arg(m_pins->fileName()))};
        }
        qCInfo(lcClient).noquote() << "trusting" << server.toString() << "on first use: SHA-256" << presentedFingerprint;
        Q_EMIT pinned(server.toString(), presentedFingerprint);
        return {true, std::nullopt};
    }
    if (pinnedPrint != presentedFingerprint) {
        qCWarning(lcClient).noquote() << server.toString() << "presented a changed certificate: SHA-256"
                                      << presentedFingerprint << "instead of" << pinnedPrint;
        return {false, ClientError::certificateChanged(server, pinnedPrint, presentedFingerprint)};
    }
    return {true, std::nullopt};
}

ServerTrust::Verdict ServerTrust::judgeErrors(const ServerEndpoint &server, const QSslCertificate &presented,
                                              const QList<QSslError> &errors)
{
    if (!m_caFileError.isEmpty())
        return {false, ClientError::untrusted(server, m_caFileError)};
    if (usesCaFile())
        return {false, ClientError::untrusted(server, describe(errors) + u" (verified against "_s + m_caFile + u')')};
    for (const QSslError &error : errors) {
        // An error about another certificate of the chain than the pinned one
        // is not the pin's to excuse.
        const bool aboutPresented = error.certificate().isNull() || error.certificate() == presented;
        if (!isPinnable(error.error()) || !aboutPresented)
            return {false, ClientError::untrusted(server, describe(errors))};
    }
    return judgeAgainstPin(server, presented);
}

ServerTrust::Verdict ServerTrust::judgeEstablished(const ServerEndpoint &server, const QSslCertificate &presented)
{
    if (!m_caFileError.isEmpty())
        return {false, ClientError::untrusted(server, m_caFileError)};
    if (usesCaFile())
        return {true, std::nullopt}; // QSslSocket verified it against the CA file
    return judgeAgainstPin(server, presented);
}
