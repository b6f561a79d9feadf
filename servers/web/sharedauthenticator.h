#pragma once

#include "authenticator.h"
#include "config.h"
#include "store.h"

#include <QObject>

#include <functional>

// The process's one Authenticator, for the WebApi of every network thread:
// the checks under way, the remembered logins and the failures the store
// could not record stay one state per process, as in mailroom-smtpd
// (docs/PROTOCOL.md, login throttling). Lives on the thread that made it,
// with a store connection of its own; login() and recordFailure() may be
// called from any thread.
class SharedAuthenticator : public QObject
{
    Q_OBJECT
public:
    explicit SharedAuthenticator(const Config &config, QObject *parent = nullptr);

    bool open(QString *error);

    // As Authenticator::login; called on `context`'s thread, the answer
    // comes back to it, later, and only while `context` lives.
    void login(const QString &username, const QString &password, const QString &clientAddress, QObject *context,
               std::function<void(LoginOutcome, qint64 accountId)> done);
    void recordFailure(const QString &clientAddress, const QString &username);

private:
    Config m_config;
    Store m_store;
    Authenticator *m_authenticator = nullptr;
};
