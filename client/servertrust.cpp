#include "servertrust.h"

#include "clientlogging.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QHostAddress>
#include <QSettings>
#include <QUrl>

#include <algorithm>

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

QString ServerTrust::displayFingerprint(const QString &fingerprint, int bytesPerLine)
{
    QString hex = fingerprint.trimmed().toUpper();
    hex.remove(u':');
    const bool isHex = !hex.isEmpty() && hex.size() % 2 == 0 && std::all_of(hex.cbegin(), hex.cend(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'A' && c <= u'F');
    });
    if (!isHex || bytesPerLine < 1)
        return fingerprint.trimmed();
    QStringList lines;
    QStringList bytes;
    for (qsizetype at = 0; at < hex.size(); at += 2) {
        bytes.append(hex.mid(at, 2));
        if (bytes.size() == bytesPerLine) {
            lines.append(bytes.join(u':'));
            bytes.clear();
        }
    }
    if (!bytes.isEmpty())
        lines.append(bytes.join(u':'));
    return lines.join(u'\n');
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
    // QSettings keeps a value it could not write in memory: trusted for this
    // run, and asked again in the next one (never accepted silently).
    m_pins->setValue(pinKey(server), fingerprint);
    m_pins->sync();
    const bool stored = m_pins->status() == QSettings::NoError;
    if (!stored)
        qCWarning(lcClient).noquote() << "the pin of" << server.toString() << "cannot be stored in" << m_pins->fileName();
    Q_EMIT pinned(server.toString(), fingerprint);
    Q_EMIT pinsChanged();
    return stored;
}

void ServerTrust::forget(const ServerEndpoint &server)
{
    m_pins->remove(pinKey(server));
    m_pins->sync();
    Q_EMIT pinsChanged();
}

void ServerTrust::acceptOnFirstContact(const ServerEndpoint &server, const QString &fingerprint)
{
    m_acceptOnFirstContact.insert(pinKey(server), fingerprint);
}

ServerTrust::Verdict ServerTrust::judgeAgainstPin(const ServerEndpoint &server, const QSslCertificate &presented)
{
    if (presented.isNull())
        return {false, ClientError::untrusted(server, u"the server presented no certificate"_s)};
    const QString presentedFingerprint = fingerprint(presented);
    const QString pinnedPrint = pinnedFingerprint(server);
    if (pinnedPrint.isEmpty()) {
        if (m_acceptOnFirstContact.value(pinKey(server)) == presentedFingerprint) {
            qCInfo(lcClient).noquote() << "trusting" << server.toString() << "on first use: SHA-256"
                                       << presentedFingerprint << "as accepted for this installation's other server";
            pin(server, presentedFingerprint);
            return {true, std::nullopt};
        }
        // Refused during the handshake, so that nothing (no password) is sent
        // before the user has compared the fingerprint and accepted it.
        qCInfo(lcClient).noquote() << "first contact with" << server.toString() << "SHA-256" << presentedFingerprint
                                   << "refused until the user trusts it";
        return {false, ClientError::certificateUnknown(server, presentedFingerprint)};
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
