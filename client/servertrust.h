#pragma once

#include "clienterror.h"
#include "serverendpoint.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>

#include <memory>
#include <optional>

class QSettings;

// Decides whether a server's certificate is trusted (docs/protocol/client.md
// §3, trusting the servers). With a CA file the certificate must verify against
// it and name the host; no TLS error is ever ignored. Without one, trust on
// first use: a host:port with no pin is refused (CertificateUnknown, with the
// presented SHA-256 fingerprint) before any application byte is sent, until
// the user has compared the fingerprint and pin() keeps it; later
// connections must present exactly that certificate, and only then are the
// errors a self-signed certificate brings (no trusted issuer, no matching
// name) ignored: never an expired one, never another certificate's.
class ServerTrust : public QObject
{
    Q_OBJECT
public:
    // Pins are kept in `pinFile` (INI), or in the application's QSettings when empty.
    explicit ServerTrust(const QString &pinFile = {}, QObject *parent = nullptr);
    ~ServerTrust() override;

    // Verify against the certificates in this PEM file only. When the file
    // is unusable every server is refused (caFileError() says why); trust on
    // first use never takes over.
    [[nodiscard]] bool useCaFile(const QString &path, QString *error);
    [[nodiscard]] bool usesCaFile() const { return !m_caFile.isEmpty(); }
    [[nodiscard]] QString caFileError() const { return m_caFileError; }

    // What every connection starts with: TLS 1.2 or later, peer verification,
    // the CA file's certificates when one is used.
    [[nodiscard]] QSslConfiguration configuration() const;

    struct Verdict
    {
        bool accepted = false;
        std::optional<ClientError> refusal; // set when not accepted
    };
    // During a handshake that reported errors: may they be ignored?
    [[nodiscard]] Verdict judgeErrors(const ServerEndpoint &server, const QSslCertificate &presented,
                                      const QList<QSslError> &errors);
    // After a handshake: with trust on first use, the certificate must be the
    // pinned one even when it verified.
    [[nodiscard]] Verdict judgeEstablished(const ServerEndpoint &server, const QSslCertificate &presented);

    // "AB:CD:…", 32 bytes of SHA-256 over the DER certificate.
    [[nodiscard]] static QString fingerprint(const QSslCertificate &certificate);
    // A fingerprint for people: lines of `bytesPerLine` whole bytes
    // ("AB:CD:…:EF\n01:…"), never broken inside a byte; upper case, with or
    // without colons in `fingerprint`. Text that is not hex bytes is returned trimmed.
    [[nodiscard]] static QString displayFingerprint(const QString &fingerprint, int bytesPerLine = 8);
    [[nodiscard]] QString pinnedFingerprint(const ServerEndpoint &server) const;
    // Replaces the pin: for a certificate the user has checked and accepted.
    // False when it could not be stored (it is then trusted in this run only).
    bool pin(const ServerEndpoint &server, const QString &fingerprint);
    void forget(const ServerEndpoint &server);
    // A first contact with `server` presenting exactly `fingerprint` is
    // pinned without asking: the user accepted that very certificate (the
    // same key) for the other server of the same installation. In memory only.
    void acceptOnFirstContact(const ServerEndpoint &server, const QString &fingerprint);

Q_SIGNALS:
    // A certificate is now pinned for the server: the user accepted it, or
    // acceptOnFirstContact() allowed it.
    void pinned(const QString &server, const QString &fingerprint);
    // A pin was added, replaced or removed.
    void pinsChanged();

private:
    [[nodiscard]] QString pinKey(const ServerEndpoint &server) const;
    Verdict judgeAgainstPin(const ServerEndpoint &server, const QSslCertificate &presented);

    std::unique_ptr<QSettings> m_pins;
    QString m_caFile;
    QString m_caFileError;
    QList<QSslCertificate> m_caCertificates;
    QHash<QString, QString> m_acceptOnFirstContact; // pin key -> fingerprint
};
