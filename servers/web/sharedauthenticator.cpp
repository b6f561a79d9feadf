#include "sharedauthenticator.h"

#include "backendreply.h"

SharedAuthenticator::SharedAuthenticator(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
{
    m_authenticator = new Authenticator(config, &m_store, this);
}

bool SharedAuthenticator::open(QString *error)
{
    if (!m_store.open(m_config.database, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    return true;
}

void SharedAuthenticator::login(const QString &username, const QString &password, const QString &clientAddress,
                                QObject *context, std::function<void(LoginOutcome, qint64)> done)
{
    if (!context)
        return;
    const auto reply = answerOn<LoginOutcome, qint64>(context, std::move(done));
    QMetaObject::invokeMethod(this, [this, username, password, clientAddress, reply] {
        // A client gone meanwhile costs no check.
        if (reply.isGone())
            return;
        m_authenticator->login(username, password, clientAddress, this,
                               [reply](LoginOutcome outcome, qint64 accountId) { reply(outcome, accountId); });
    });
}

void SharedAuthenticator::recordFailure(const QString &clientAddress, const QString &username)
{
    QMetaObject::invokeMethod(this, [this, clientAddress, username] {
        m_authenticator->recordFailure(clientAddress, username);
    });
}
