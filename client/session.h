#pragma once

#include "clienterror.h"
#include "serverendpoint.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class ApiClient;
class MailboxSync;
class ServerTrust;
class SmtpClient;
struct SmtpCredentials;

// Where the client's servers are and how they are trusted (the command line
// of docs/PROTOCOL.md: mailroom --smtp HOST:PORT --web HOST:PORT [--ca-cert FILE]).
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
    // Trust on first use: the one certificate question waiting for the user,
    // raised when a server with no pin (FirstContact) or another pin
    // (Changed) was refused before anything was sent to it; open until
    // acceptCertificate() or declineCertificate().
    Q_PROPERTY(CertificateQuestion certificateQuestion READ certificateQuestion NOTIFY certificateQuestionChanged)
    Q_PROPERTY(QString certificateQuestionServer READ certificateQuestionServer NOTIFY certificateQuestionChanged)
    // "AB:CD:…" as presented; certificateQuestionPinnedFingerprint: the pin it would replace (Changed).
    Q_PROPERTY(QString certificateQuestionFingerprint READ certificateQuestionFingerprint NOTIFY certificateQuestionChanged)
    Q_PROPERTY(QString certificateQuestionPinnedFingerprint READ certificateQuestionPinnedFingerprint
                   NOTIFY certificateQuestionChanged)
    // Accepting resumes the login or registration the question interrupted.
    Q_PROPERTY(bool certificateQuestionResumes READ certificateQuestionResumes NOTIFY certificateQuestionChanged)
    // The current pins of this session's servers, SMTP first, as
    // [{server: "127.0.0.1:8025", fingerprint: "AB:CD:…"}]; empty with a CA file.
    Q_PROPERTY(QVariantList trustedCertificates READ trustedCertificates NOTIFY trustedCertificatesChanged)

public:
    enum class State { LoggedOut, Busy, LoggedIn };
    Q_ENUM(State)
    enum class CertificateQuestion { None, FirstContact, Changed };
    Q_ENUM(CertificateQuestion)

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
    [[nodiscard]] CertificateQuestion certificateQuestion() const { return m_question; }
    [[nodiscard]] QString certificateQuestionServer() const;
    [[nodiscard]] QString certificateQuestionFingerprint() const { return m_questionFingerprint; }
    [[nodiscard]] QString certificateQuestionPinnedFingerprint() const { return m_questionPinnedFingerprint; }
    [[nodiscard]] bool certificateQuestionResumes() const { return m_resume.action != Resume::Action::None; }
    [[nodiscard]] QVariantList trustedCertificates() const;

    // A fingerprint in lines of 8 whole bytes, for a monospace label (ServerTrust::displayFingerprint).
    [[nodiscard]] Q_INVOKABLE QString displayFingerprint(const QString &fingerprint) const;

    // Why these would not make an account ("" when they would): the user
    // name rules, 8 to 128 characters, the confirmation matching.
    [[nodiscard]] Q_INVOKABLE QString registrationProblem(const QString &username, const QString &password,
                                                          const QString &confirmation) const;
    // The same for a new password alone.
    [[nodiscard]] Q_INVOKABLE QString newPasswordProblem(const QString &password, const QString &confirmation) const;

    [[nodiscard]] ApiClient *api() const { return m_api; }
    // The account's messages kept in step with the server, for every folder view.
    [[nodiscard]] MailboxSync *mailbox() const { return m_mailbox; }
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
    // The user compared the fingerprint and trusts the certificate: the
    // server and fingerprint shown, which must still be the question's, are
    // pinned; then the interrupted login or registration resumes.
    void acceptCertificate(const QString &server, const QString &fingerprint);
    // Nothing is pinned; an interrupted login stays logged out and its password is forgotten.
    void declineCertificate();

Q_SIGNALS:
    void stateChanged();
    void accountChanged();
    void errorStringChanged();
    void certificateQuestionChanged();
    void trustedCertificatesChanged();
    void loggedIn();
    void loginFailed(const QString &message);
    void registered(const QString &address);
    void loggedOut();
    void passwordChanged();
    void passwordChangeFailed(const QString &message);
    // A server's certificate is now pinned (accepted by the user, or the
    // certificate accepted for this session's other server).
    void certificatePinned(const QString &server, const QString &fingerprint);

private:
    // What accepting a certificate question resumes; the password is held
    // only while the question is open.
    struct Resume
    {
        enum class Action { None, Login, Register };
        Action action = Action::None;
        QString username;
        QString password;
    };

    void setState(State state);
    void setErrorString(const QString &message);
    void failLogin(const ClientError &error);
    void failLogin(const ClientError &error, const Resume &resume);
    void endSession(const QString &reason);
    // Opens the certificate question for a CertificateUnknown/Changed error; false for other errors.
    bool askAboutCertificate(const ClientError &error, const Resume &resume);
    void closeCertificateQuestion();
    [[nodiscard]] bool refuseWithoutTrust();

    ClientSettings m_settings;
    ServerTrust *m_trust = nullptr;
    ApiClient *m_api = nullptr;
    SmtpClient *m_smtp = nullptr;
    MailboxSync *m_mailbox = nullptr;
    State m_state = State::LoggedOut;
    QString m_account;
    QString m_username;
    QString m_password;
    QString m_errorString;
    CertificateQuestion m_question = CertificateQuestion::None;
    ServerEndpoint m_questionServer;
    QString m_questionFingerprint;
    QString m_questionPinnedFingerprint;
    Resume m_resume;
    bool m_changingPassword = false;
    quint64 m_generation = 0; // bumped when a session ends
};
