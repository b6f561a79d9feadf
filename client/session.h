#pragma once

#include "clienterror.h"
#include "serverendpoint.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QtQml/qqmlregistration.h>

class ApiClient;
class ServerTrust;
class SmtpClient;
struct SmtpCredentials;

// Where the client's servers are and how they are trusted (the command line
// of SPEC: mailroom --smtp HOST:PORT --web HOST:PORT [--ca-cert FILE]).
struct ClientSettings
{
    ServerEndpoint smtp{QStringLiteral("127.0.0.1"), 8025};
    ServerEndpoint web{QStringLiteral("127.0.0.1"), 9999};
    QString caCertificateFile; // empty: trust on first use
    QString pinFile;           // empty: the application's QSettings
    int timeoutMs = 30000;
};

// The logged-in account: the web API token, and the password kept in memory
// only (never written anywhere) because SMTP AUTH needs it for each message.
// Owns the protocol clients and the server trust the models use.
class Session : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("The application creates the Session from its command line.")
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ isBusy NOTIFY stateChanged)
    Q_PROPERTY(bool loggedIn READ isLoggedIn NOTIFY stateChanged)
    Q_PROPERTY(QString account READ account NOTIFY accountChanged)   // "alice@project.com"
    Q_PROPERTY(QString username READ username NOTIFY accountChanged) // "alice"
    Q_PROPERTY(QString domain READ domain NOTIFY accountChanged)     // "project.com"
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(QString smtpServer READ smtpServer CONSTANT)
    Q_PROPERTY(QString webServer READ webServer CONSTANT)
    Q_PROPERTY(bool usesCaFile READ usesCaFile CONSTANT)
    // The certificate a server presented that differs from its pin, with
    // both fingerprints, until trustChangedCertificate() or the next success.
    Q_PROPERTY(QString changedCertificateServer READ changedCertificateServer NOTIFY changedCertificateChanged)
    Q_PROPERTY(QString changedCertificateFingerprint READ changedCertificateFingerprint NOTIFY changedCertificateChanged)
    // "127.0.0.1:9999: SHA-256 AB:CD:…" for each server first trusted in this run.
    Q_PROPERTY(QStringList trustNotices READ trustNotices NOTIFY trustNoticesChanged)

public:
    enum class State { LoggedOut, Busy, LoggedIn };
    Q_ENUM(State)

    // With an unusable CA file: errorString says so, and login and register
    // are refused (never a fallback to trust on first use).
    explicit Session(const ClientSettings &settings, QObject *parent = nullptr);
    ~Session() override;

    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isBusy() const { return m_state == State::Busy; }
    [[nodiscard]] bool isLoggedIn() const { return m_state == State::LoggedIn; }
    [[nodiscard]] QString account() const { return m_account; }
    [[nodiscard]] QString username() const { return m_username; }
    [[nodiscard]] QString domain() const;
    [[nodiscard]] QString errorString() const { return m_errorString; }
    [[nodiscard]] QString smtpServer() const;
    [[nodiscard]] QString webServer() const;
    [[nodiscard]] bool usesCaFile() const;
    [[nodiscard]] QString changedCertificateServer() const { return m_changedServer; }
    [[nodiscard]] QString changedCertificateFingerprint() const { return m_changedFingerprint; }
    [[nodiscard]] QStringList trustNotices() const { return m_trustNotices; }

    // Why these would not make an account ("" when they would): the user
    // name rules, 8 to 128 characters, the confirmation matching.
    [[nodiscard]] Q_INVOKABLE QString registrationProblem(const QString &username, const QString &password,
                                                          const QString &confirmation) const;
    // The same for a new password alone.
    [[nodiscard]] Q_INVOKABLE QString newPasswordProblem(const QString &password, const QString &confirmation) const;

    [[nodiscard]] ApiClient *api() const { return m_api; }
    [[nodiscard]] SmtpClient *smtp() const { return m_smtp; }
    [[nodiscard]] ServerTrust *trust() const { return m_trust; }
    [[nodiscard]] SmtpCredentials credentials() const;

    // Records a failure the models met, so the whole UI can show one line.
    void reportError(const ClientError &error);

public Q_SLOTS:
    // username: "alice" or "alice@project.com".
    void login(const QString &username, const QString &password);
    // REG over SMTP (STARTTLS), then login.
    void registerAccount(const QString &username, const QString &password);
    void logout();
    void changePassword(const QString &current, const QString &replacement);
    // The user compared the changed certificate's fingerprint and accepts it:
    // the server and fingerprint shown, which must still be the pending ones.
    void trustChangedCertificate(const QString &server, const QString &fingerprint);

Q_SIGNALS:
    void stateChanged();
    void accountChanged();
    void errorStringChanged();
    void changedCertificateChanged();
    void trustNoticesChanged();
    void loggedIn();
    void loginFailed(const QString &message);
    void registered(const QString &address);
    void loggedOut();
    void passwordChanged();
    void passwordChangeFailed(const QString &message);
    // First contact with a server: its certificate is now pinned.
    void certificatePinned(const QString &server, const QString &fingerprint);

private:
    void setState(State state);
    void setErrorString(const QString &message);
    void failLogin(const ClientError &error);
    void endSession(const QString &reason);
    void noteTrustFailure(const ClientError &error);
    void setChangedCertificate(const QString &server, const QString &fingerprint);
    [[nodiscard]] bool refuseWithoutTrust();

    ClientSettings m_settings;
    ServerTrust *m_trust = nullptr;
    ApiClient *m_api = nullptr;
    SmtpClient *m_smtp = nullptr;
    State m_state = State::LoggedOut;
    QString m_account;
    QString m_username;
    QString m_password;
    QString m_errorString;
    QString m_changedServer;
    QString m_changedFingerprint;
    QStringList m_trustNotices;
    bool m_changingPassword = false;
    quint64 m_generation = 0; // bumped when a session ends
};
