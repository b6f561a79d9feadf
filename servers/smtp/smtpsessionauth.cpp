#include "smtpsession.h"

#include "passwords.h"
#include "saslplain.h"
#include "smtplogging.h"
#include "username.h"

// Who the client is: AUTH (RFC 4954 with PLAIN, RFC 4616, and LOGIN), and
// Mailroom's REG and GETUSER (docs/PROTOCOL.md, SMTP).

namespace {

std::optional<QByteArray> decodeBase64Strictly(const QByteArray &text)
{
    const auto result = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
    if (!result)
        return std::nullopt;
    return result.decoded;
}

} // namespace

void SmtpSession::auth(const QByteArray &argument)
{
    if (m_accountId) {
        error(SmtpReplies::AlreadyAuthenticated);
        return;
    }
    if (m_mailGiven) {
        error(SmtpReplies::AuthInsideTransaction);
        return;
    }
    const QList<QByteArray> words = argument.split(' ');
    const QByteArray mechanism = words.value(0).toUpper();
    const QByteArray initial = words.value(1);
    if (words.size() > 2 || mechanism.isEmpty()) {
        error(SmtpReplies::AuthSyntax);
        return;
    }
    if (mechanism == "PLAIN") {
        if (initial.isEmpty()) {
            reply(SmtpReplies::AuthPlainPrompt);
            m_state = State::AuthPlain;
        } else {
            m_state = State::AuthPlain;
            processAuthResponse(initial == "=" ? QByteArray() : initial);
        }
    } else if (mechanism == "LOGIN") {
        if (initial.isEmpty()) {
            reply(SmtpReplies::AuthUsernamePrompt);
            m_state = State::AuthLoginUser;
        } else {
            m_state = State::AuthLoginUser;
            processAuthResponse(initial);
        }
    } else {
        error(SmtpReplies::UnknownMechanism);
    }
}

void SmtpSession::processAuthResponse(const QByteArray &line)
{
    const State state = m_state;
    m_state = State::Command;
    if (line == "*") {
        error(SmtpReplies::AuthCanceled);
        return;
    }
    const auto decoded = decodeBase64Strictly(line);
    if (!decoded) {
        error(SmtpReplies::InvalidBase64);
        return;
    }
    if (state == State::AuthPlain) {
        const std::optional<SaslPlain::Message> plain = SaslPlain::parse(*decoded);
        if (!plain) {
            error(SmtpReplies::InvalidPlainResponse);
            return;
        }
        requestLogin(plain->authorizationId, plain->loginName, plain->password);
    } else if (state == State::AuthLoginUser) {
        m_authLoginName = QString::fromUtf8(*decoded);
        reply(SmtpReplies::AuthPasswordPrompt);
        m_state = State::AuthLoginPassword;
    } else {
        requestLogin({}, std::exchange(m_authLoginName, {}), QString::fromUtf8(*decoded));
    }
}

void SmtpSession::requestLogin(const QByteArray &authorizationId, const QString &loginName, const QString &password)
{
    const bool foreignAuthorization = !authorizationId.isEmpty()
        && !Username::sameAccount(QString::fromUtf8(authorizationId), loginName, m_settings.domain);
    // Every attempt goes through the backend, so that failures with
    // malformed names count for throttling like any other.
    m_pendingLoginName = Username::loginKey(loginName, m_settings.domain);
    m_request = SmtpLoginRequest{m_pendingLoginName, foreignAuthorization ? QString() : password};
    m_state = State::Waiting;
}

void SmtpSession::loginFinished(LoginOutcome outcome, qint64 accountId)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    switch (outcome) {
    case LoginOutcome::Accepted:
        m_accountId = accountId;
        m_accountName = m_pendingLoginName;
        qCInfo(lcSmtp).noquote() << m_clientAddress << "authenticated as" << m_accountName;
        reply(SmtpReplies::AuthSucceeded);
        break;
    case LoginOutcome::Throttled:
        reply(SmtpReplies::LoginsThrottled);
        break;
    case LoginOutcome::Unavailable:
        reply(SmtpReplies::AuthUnavailable);
        break;
    case LoginOutcome::Rejected:
        // A name that is no valid username may be a password typed in the
        // wrong field: never log it.
        qCInfo(lcSmtp).noquote() << m_clientAddress << "failed to authenticate as"
                                 << (Username::isValid(m_pendingLoginName) ? m_pendingLoginName : QStringLiteral("<invalid name>"));
        reply(SmtpReplies::AuthInvalid);
        if (++m_authFailures >= m_settings.maxAuthFailures) {
            reply(SmtpReplies::TooManyAuthFailures);
            close();
            return;
        }
        break;
    }
    m_pendingLoginName.clear();
    process();
}

void SmtpSession::reg(const QByteArray &argument)
{
    if (m_settings.registration == Registration::Closed) {
        error(SmtpReplies::RegistrationClosed);
        return;
    }
    const auto decoded = decodeBase64Strictly(argument);
    const qsizetype nul = decoded ? decoded->indexOf('\0') : -1;
    if (!decoded || argument.isEmpty() || nul < 0) {
        error(SmtpReplies::RegSyntax);
        return;
    }
    const auto username = Username::normalize(QString::fromUtf8(decoded->left(nul)));
    if (!username) {
        error(SmtpReplies::InvalidUsername);
        return;
    }
    const QString password = QString::fromUtf8(decoded->mid(nul + 1));
    switch (Passwords::checkStrength(password)) {
    case Passwords::Strength::TooShort:
        error(SmtpReplies::PasswordTooWeak);
        return;
    case Passwords::Strength::TooLong:
        error(SmtpReplies::PasswordTooLong);
        return;
    case Passwords::Strength::ControlCharacter:
        error(SmtpReplies::PasswordControlCharacter);
        return;
    case Passwords::Strength::Acceptable:
        break;
    }
    const AccountLookup existing = m_directory->lookUpAccount(*username);
    if (existing.result == AccountLookup::Result::Unavailable) {
        error(SmtpReplies::LookupUnavailable);
        return;
    }
    if (existing.found()) {
        error(SmtpReplies::UsernameTaken);
        return;
    }
    m_pendingLoginName = *username;
    m_request = SmtpRegisterRequest{*username, password};
    m_state = State::Waiting;
}

void SmtpSession::registrationFinished(RegisterOutcome outcome)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    const QString username = std::exchange(m_pendingLoginName, {});
    switch (outcome) {
    case RegisterOutcome::Created:
        qCInfo(lcSmtp).noquote() << m_clientAddress << "registered" << username;
        reply(SmtpReplies::AccountCreated, address(username));
        break;
    case RegisterOutcome::Taken:
        error(SmtpReplies::UsernameTaken);
        break;
    case RegisterOutcome::RateLimited:
        reply(SmtpReplies::RegistrationsThrottled);
        break;
    case RegisterOutcome::Failed:
        reply(SmtpReplies::LocalError);
        break;
    }
    process();
}

void SmtpSession::getUser(const QByteArray &argument)
{
    if (argument.isEmpty()) {
        error(SmtpReplies::GetUserSyntax);
        return;
    }
    const auto name = Username::fromLogin(QString::fromUtf8(argument), m_settings.domain);
    const AccountLookup account = name ? m_directory->lookUpAccount(*name) : AccountLookup{};
    if (account.result == AccountLookup::Result::Unavailable) {
        error(SmtpReplies::LookupUnavailable);
        return;
    }
    if (!account.found()) {
        error(SmtpReplies::NoSuchUser);
        return;
    }
    reply(SmtpReplies::UserFound, account.id, address(*name));
}
