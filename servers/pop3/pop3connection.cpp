#include "pop3connection.h"

#include "pop3backend.h"
#include "pop3logging.h"

Pop3Connection::Pop3Connection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options,
                               Pop3Backend *backend, QObject *parent)
    : SessionConnection(socket, tls, options.session.implicitTls, {options.idleTimeoutMs, options.handshakeTimeoutMs},
                        Pop3Session(options.session, clientAddressText(socket->peerAddress())), lcPop3(), parent)
    , m_backend(backend)
{
}

void Pop3Connection::serveRequest()
{
    std::optional<Pop3Request> request = m_session.takeRequest();
    if (!request)
        return;
    requestStarted();
    if (const auto *login = std::get_if<Pop3LoginRequest>(&*request)) {
        const auto answered = [this](Pop3LoginOutcome outcome, qint64 accountId, const QList<Pop3Message> &maildrop) {
            m_session.loginFinished(outcome, accountId, maildrop);
            requestAnswered();
        };
        m_backend->login(*login, peerAddress(), answerOn<Pop3LoginOutcome, qint64, QList<Pop3Message>>(this, answered));
    } else if (const auto *fetch = std::get_if<Pop3FetchRequest>(&*request)) {
        m_backend->fetch(m_session.accountId(), *fetch,
                         answerOn<std::optional<QByteArray>>(this, [this](const std::optional<QByteArray> &message) {
                             m_session.fetchFinished(message);
                             markRetrievedSeen();
                             requestAnswered();
                         }));
    } else if (const auto *commit = std::get_if<Pop3CommitRequest>(&*request)) {
        m_backend->commit(*commit, answerOn<bool>(this, [this](bool committed) {
            m_session.commitFinished(committed);
            requestAnswered();
        }));
    }
}

void Pop3Connection::markRetrievedSeen()
{
    m_backend->markSeen(m_session.accountId(), m_session.takeRetrieved());
}
