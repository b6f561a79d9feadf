#include "session.h"

#include "apiclient.h"
#include "clientlogging.h"
#include "mailboxbackend.h"
#include "mailboxsync.h"
#include "servertrust.h"
#include "smtpclient.h"
#include "username.h"

#include <QJsonObject>
#include <QVariantMap>

using namespace Qt::StringLiterals;

Session::Session(const ClientSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_trust(new ServerTrust(settings.pinFile, this))
    , m_api(new ApiClient(settings.web, m_trust, this))
    , m_smtp(new SmtpClient(settings.smtp, m_trust, this))
    , m_mailbox(new MailboxSync(std::make_unique<ApiMailboxBackend>(this), this))
{
    qRegisterMetaType<ClientError>();
    m_api->setTimeout(settings.timeoutMs);
    m_smtp->setTimeout(settings.timeoutMs);
    if (!settings.caCertificateFile.isEmpty()) {
        QString error;
        if (!m_trust->useCaFile(settings.caCertificateFile, &error))
            m_errorString = u"The CA certificate file cannot be used: "_s + error; // and every server is refused
    }
    // Before any view reloads on these: a change of the last account is no listing's business.
    connect(this, &Session::loggedIn, m_mailbox, &MailboxSync::reset);
    connect(this, &Session::loggedOut, m_mailbox, &MailboxSync::reset);
    connect(m_trust, &ServerTrust::pinned, this, &Session::certificatePinned);
    connect(m_trust, &ServerTrust::pinsChanged, this, &Session::trustedCertificatesChanged);
    connect(m_api, &ApiClient::sessionExpired, this, [this](const ClientError &error) {
        if (m_state == State::LoggedIn)
            endSession(error.message);
    });
}

Session::~Session() = default;

QString Session::domain() const
{
    const qsizetype at = m_account.lastIndexOf(u'@');
    return at < 0 ? QString() : m_account.mid(at + 1);
}

QString Session::smtpServer() const
{
    return m_settings.smtp.toString();
}

QString Session::webServer() const
{
    return m_settings.web.toString();
}

bool Session::usesCaFile() const
{
    return m_trust->usesCaFile();
}

QString Session::certificateQuestionServer() const
{
    return m_question == CertificateQuestion::None ? QString() : m_questionServer.toString();
}

QVariantList Session::trustedCertificates() const
{
    QVariantList trusted;
    if (m_trust->usesCaFile())
        return trusted;
    QList<ServerEndpoint> servers{m_settings.smtp};
    if (m_settings.web != m_settings.smtp)
        servers.append(m_settings.web);
    for (const ServerEndpoint &server : std::as_const(servers)) {
        const QString fingerprint = m_trust->pinnedFingerprint(server);
        if (!fingerprint.isEmpty())
            trusted.append(QVariantMap{{u"server"_s, server.toString()}, {u"fingerprint"_s, fingerprint}});
    }
    return trusted;
}

QString Session::displayFingerprint(const QString &fingerprint) const
{
    return ServerTrust::displayFingerprint(fingerprint);
}

SmtpCredentials Session::credentials() const
{
    return {m_username, m_password};
}

void Session::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged();
}

void Session::setErrorString(const QString &message)
{
    if (m_errorString == message)
        return;
    m_errorString = message;
    Q_EMIT errorStringChanged();
}

void Session::reportError(const ClientError &error)
{
    askAboutCertificate(error, {});
    setErrorString(error.message);
}

bool Session::askAboutCertificate(const ClientError &error, const Resume &resume)
{
    CertificateQuestion question = CertificateQuestion::None;
    if (error.kind == ClientError::Kind::CertificateUnknown)
        question = CertificateQuestion::FirstContact;
    else if (error.kind == ClientError::Kind::CertificateChanged)
        question = CertificateQuestion::Changed;
    else
        return false;
    const bool sameQuestion = m_question == question && m_questionServer == error.server
        && m_questionFingerprint == error.presentedFingerprint;
    // The user may be comparing the open question's fingerprint right now:
    // another one never takes its place; it comes back when retried after
    // that answer.
    if (m_question != CertificateQuestion::None && !sameQuestion)
        return true;
    if (sameQuestion && resume.action == Resume::Action::None)
        return true;
    m_question = question;
    m_questionServer = error.server;
    m_questionFingerprint = error.presentedFingerprint;
    m_questionPinnedFingerprint = error.pinnedFingerprint;
    m_resume = resume;
    Q_EMIT certificateQuestionChanged();
    return true;
}

void Session::closeCertificateQuestion()
{
    if (m_question == CertificateQuestion::None)
        return;
    m_question = CertificateQuestion::None;
    m_questionServer = {};
    m_questionFingerprint.clear();
    m_questionPinnedFingerprint.clear();
    m_resume = {}; // and the password it held
    Q_EMIT certificateQuestionChanged();
}

void Session::failLogin(const ClientError &error)
{
    failLogin(error, Resume());
}

void Session::failLogin(const ClientError &error, const Resume &resume)
{
    m_password.clear();
    m_username.clear();
    setErrorString(error.message);
    setState(State::LoggedOut);
    askAboutCertificate(error, resume);
    Q_EMIT loginFailed(error.message);
}

bool Session::refuseWithoutTrust()
{
    const QString caFileError = m_trust->caFileError();
    if (caFileError.isEmpty())
        return false;
    failLogin(ClientError::untrusted(m_settings.web, u"the CA certificate file cannot be used: "_s + caFileError));
    return true;
}

void Session::login(const QString &username, const QString &password)
{
    if (m_state != State::LoggedOut || refuseWithoutTrust())
        return;
    if (username.trimmed().isEmpty() || password.isEmpty()) {
        failLogin(ClientError::invalid(u"Enter your user name and password."_s));
        return;
    }
    setErrorString({});
    setState(State::Busy);
    ApiCall *call = m_api->logIn(username.trimmed(), password);
    connect(call, &ApiCall::succeeded, this, [this, password](const QJsonValue &answer) {
        const QJsonObject account = answer[u"account"].toObject();
        const QByteArray token = answer[u"token"].toString().toLatin1();
        if (token.isEmpty() || account.value(u"username").toString().isEmpty()) {
            failLogin(ClientError::fromNetwork(QNetworkReply::ProtocolFailure, u"the login answer has no token"_s,
                                               m_settings.web));
            return;
        }
        m_api->setToken(token);
        m_username = account.value(u"username").toString();
        m_account = account.value(u"address").toString();
        m_password = password;
        if (m_resume.action != Resume::Action::None) { // a question left open no longer resumes anything
            m_resume = {};
            Q_EMIT certificateQuestionChanged();
        }
        qCInfo(lcClient).noquote() << "logged in as" << m_account;
        Q_EMIT accountChanged();
        setState(State::LoggedIn);
        Q_EMIT loggedIn();
    });
    connect(call, &ApiCall::failed, this, [this, username, password](const ClientError &error) {
        failLogin(error, {Resume::Action::Login, username, password});
    });
}

QString Session::registrationProblem(const QString &username, const QString &password,
                                     const QString &confirmation) const
{
    if (!Username::normalize(username.trimmed()))
        return u"A user name is 1 to 64 of a-z, 0-9, dot, hyphen and underscore, starting and ending with a "
               u"letter or digit."_s;
    return newPasswordProblem(password, confirmation);
}

QString Session::newPasswordProblem(const QString &password, const QString &confirmation) const
{
    if (password.size() < 8 || password.size() > 128)
        return u"A password has 8 to 128 characters."_s;
    if (password != confirmation)
        return u"The two passwords differ."_s;
    return {};
}

void Session::registerAccount(const QString &username, const QString &password)
{
    if (m_state != State::LoggedOut || refuseWithoutTrust())
        return;
    if (const QString problem = registrationProblem(username, password, password); !problem.isEmpty()) {
        failLogin(ClientError::invalid(problem));
        return;
    }
    const std::optional<QString> name = Username::normalize(username.trimmed());
    setErrorString({});
    setState(State::Busy);
    SmtpJob *job = m_smtp->registerAccount(*name, password);
    connect(job, &SmtpJob::succeeded, this, [this, name = *name, password](const SmtpReply &reply) {
        qCInfo(lcClient).noquote() << "registered:" << reply.text();
        // "Account alice@project.com created"
        const QStringList words = reply.text().split(u' ');
        Q_EMIT registered(words.size() >= 2 ? words.at(1) : name);
        setState(State::LoggedOut);
        login(name, password);
    });
    connect(job, &SmtpJob::failed, this, [this, username, password](const ClientError &error) {
        failLogin(error, {Resume::Action::Register, username, password});
    });
}

void Session::endSession(const QString &reason)
{
    ++m_generation; // answers to this session's requests no longer apply
    m_changingPassword = false;
    m_api->setToken({});
    m_password.clear();
    m_username.clear();
    m_account.clear();
    Q_EMIT accountChanged();
    setErrorString(reason);
    setState(State::LoggedOut);
    Q_EMIT loggedOut();
}

void Session::logout()
{
    if (m_state != State::LoggedIn)
        return;
    // Ends the token on the server too; the client forgets it either way.
    ApiCall *call = m_api->logOut();
    connect(call, &ApiCall::failed, this, [](const ClientError &error) {
        qCInfo(lcClient).noquote() << "logout on the server failed:" << error.toString();
    });
    endSession({});
}

void Session::changePassword(const QString &current, const QString &replacement)
{
    const auto refuse = [this](const QString &message) {
        setErrorString(message);
        Q_EMIT passwordChangeFailed(message);
    };
    if (m_state != State::LoggedIn)
        return refuse(u"Log in first."_s);
    if (m_changingPassword)
        return refuse(u"The password is being changed already."_s);
    // The password is in memory anyway; checking it here keeps a 401 from the
    // server meaning one thing only: the session ended.
    if (current != m_password)
        return refuse(u"The current password is wrong."_s);
    if (replacement.size() < 8 || replacement.size() > 128)
        return refuse(u"A password has 8 to 128 characters."_s);
    if (replacement == current)
        return refuse(u"The new password is the same as the current one."_s);
    m_changingPassword = true;
    const quint64 generation = m_generation;
    ApiCall *call = m_api->changePassword(current, replacement);
    connect(call, &ApiCall::succeeded, this, [this, replacement, generation] {
        if (generation != m_generation)
            return;
        m_changingPassword = false;
        m_password = replacement;
        setErrorString({});
        Q_EMIT passwordChanged();
    });
    connect(call, &ApiCall::failed, this, [this, refuse, generation](const ClientError &error) {
        if (generation != m_generation)
            return;
        m_changingPassword = false;
        askAboutCertificate(error, {});
        refuse(error.message);
    });
}

void Session::acceptCertificate(const QString &server, const QString &fingerprint)
{
    // Exactly what the user was shown and compared, nothing that came since.
    if (m_question == CertificateQuestion::None || server != m_questionServer.toString()
        || fingerprint != m_questionFingerprint)
        return;
    const ServerEndpoint endpoint = m_questionServer;
    const Resume resume = m_resume;
    closeCertificateQuestion();
    qCInfo(lcClient).noquote() << "the user trusts the certificate of" << server << "SHA-256" << fingerprint;
    const bool stored = m_trust->pin(endpoint, fingerprint);
    // The same certificate on the installation's other server is the same
    // key: its first contact need not ask again (docs/PROTOCOL.md).
    if (endpoint == m_settings.web && m_settings.smtp != endpoint)
        m_trust->acceptOnFirstContact(m_settings.smtp, fingerprint);
    else if (endpoint == m_settings.smtp && m_settings.web != endpoint)
        m_trust->acceptOnFirstContact(m_settings.web, fingerprint);
    setErrorString({});
    if (m_state == State::LoggedOut) {
        if (resume.action == Resume::Action::Login)
            login(resume.username, resume.password);
        else if (resume.action == Resume::Action::Register)
            registerAccount(resume.username, resume.password);
    }
    if (!stored)
        setErrorString(u"The certificate of the server at %1 is trusted until Mailroom quits, but it could not be "
                       u"stored: Mailroom will ask again next time."_s.arg(server));
}

void Session::declineCertificate()
{
    if (m_question == CertificateQuestion::None)
        return;
    const QString server = m_questionServer.toString();
    closeCertificateQuestion();
    qCInfo(lcClient).noquote() << "the user does not trust the certificate of" << server;
    setErrorString(u"Not connected: you did not trust the certificate of the server at %1."_s.arg(server));
}
