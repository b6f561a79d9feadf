#pragma once

#include <QObject>
#include <QProcess>
#include <QSslConfiguration>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <optional>

namespace TlsMaterial {

// Loads a PEM certificate (chain) and its EC or RSA private key into a server
// configuration. The error names the file that could not be used.
[[nodiscard]] std::optional<QSslConfiguration> loadServerConfiguration(const QString &certificateFile,
                                                                        const QString &keyFile, QString *error);

// The names a self-signed certificate covers (docs/PROTOCOL.md §3):
// the host name, localhost, 127.0.0.1 and ::1.
[[nodiscard]] QStringList subjectAltNames(const QString &hostname);

} // namespace TlsMaterial

// Creates a self-signed certificate with an EC P-256 key by running openssl(1)
// asynchronously. The pair is written to a private temporary directory and
// renamed into place, so a half-written key or certificate is never visible;
// the key file is mode 0600. An existing file is never overwritten.
class CertificateGenerator : public QObject
{
    Q_OBJECT
public:
    explicit CertificateGenerator(QObject *parent = nullptr);
    ~CertificateGenerator() override;

    void start(const QString &certificateFile, const QString &keyFile, const QString &hostname);

Q_SIGNALS:
    void finished();
    void failed(const QString &error);

private:
    void onProcessFinished(int exitCode, QProcess::ExitStatus status);
    void fail(const QString &error);

    std::unique_ptr<QProcess> m_process;
    std::unique_ptr<QTemporaryDir> m_workDir;
    QString m_certificateFile;
    QString m_keyFile;
};
