#include "imapconnection.h"

#include "imapbackend.h"
#include "imapmailbox.h"

ImapConnection::ImapConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options,
                               ImapBackend *backend, QObject *parent)
    : SessionConnection(socket, tls, options.session.implicitTls, {options.idleTimeoutMs, options.handshakeTimeoutMs},
                        ImapSession(options.session, clientAddressText(socket->peerAddress())), lcImap(), parent)
    , m_backend(backend)
    , m_idleTimeoutMs(options.idleTimeoutMs)
{
    QObject::connect(m_backend, &ImapBackend::accountsChanged, this, &ImapConnection::accountsChanged);
}

ImapConnection::~ImapConnection()
{
    if (m_watchedAccount && m_backend)
        m_backend->unwatchAccount(m_watchedAccount);
}

void ImapConnection::serveRequest()
{
    std::optional<ImapRequest> request = m_session.takeRequest();
    if (!request)
        return;
    requestStarted();
    if (const auto *login = std::get_if<ImapLoginRequest>(&*request)) {
        m_backend->login(*login, peerAddress(),
                         answerOn<ImapLoginOutcome, qint64, QString>(
                             this, [this](ImapLoginOutcome outcome, qint64 accountId, const QString &username) {
            m_session.loginFinished(outcome, accountId, username);
            if (outcome == ImapLoginOutcome::Accepted && !m_watchedAccount) {
                m_watchedAccount = accountId;
                m_backend->watchAccount(accountId);
            }
            requestAnswered();
        }));
        return;
    }
    const auto answered = answerOn<QByteArray>(this, [this](const QByteArray &output) {
        m_session.mailboxFinished(output);
        requestAnswered();
    });
    if (const auto *command = std::get_if<ImapMailboxRequest>(&*request))
        m_backend->execute(*command, answered);
    else if (const auto *update = std::get_if<ImapUpdateRequest>(&*request))
        m_backend->update(*update, answered);
}

void ImapConnection::sessionStepped()
{
    setIdleTimeout(m_session.isIdling() ? IdleCommandTimeoutMs : m_idleTimeoutMs);
}

void ImapConnection::accountsChanged(const QHash<qint64, qint64> &modseqs)
{
    const auto found = modseqs.constFind(m_session.accountId());
    if (found == modseqs.cend())
        return;
    // A client in IDLE that does not read would have its updates pile up
    // here as long as mail comes: past what a reading client ever leaves
    // unread, it is let go (memory stays bounded).
    if (m_session.isIdling() && outputBacklog() > MaxHeldOutput) {
        qCInfo(lcImap).noquote() << peerAddress() << "does not read its IDLE updates: closing";
        m_session.dropUnreadClient();
        sessionChanged();
        return;
    }
    m_session.accountChanged(*found);
    // In IDLE the session asks for its updates now.
    if (m_session.state() == ImapSession::State::Waiting)
        serveRequest();
    else
        sessionChanged();
}
