#include "smtpconnection.h"

#include "smtpbackend.h"
#include "smtplogging.h"

SmtpConnection::SmtpConnection(QSslSocket *socket, const QSslConfiguration &tls, const Options &options,
                               SmtpBackend *backend, QObject *parent)
    : SessionConnection(socket, tls, options.session.implicitTls, {options.idleTimeoutMs, options.handshakeTimeoutMs},
                        SmtpSession(options.session, backend, clientAddressText(socket->peerAddress())), lcSmtp(),
                        parent)
    , m_backend(backend)
{
    m_dataDeadline.setSingleShot(true);
    m_dataDeadline.setInterval(options.dataTimeoutMs);
    connect(&m_dataDeadline, &QTimer::timeout, this, [this] {
        m_session.dataTimedOut();
        sessionChanged();
    });
    // Gone clients are deleted later: their deadline must not fire meanwhile.
    connect(this, &ServerConnection::finished, &m_dataDeadline, &QTimer::stop);
}

void SmtpConnection::sessionStepped()
{
    if (m_session.state() != SmtpSession::State::Data) {
        m_dataDeadline.stop(); // the final dot came, or the session ended
        return;
    }
    if (m_session.dataStarts() != m_dataStartsSeen) {
        m_dataStartsSeen = m_session.dataStarts();
        m_dataDeadline.start();
    }
}

void SmtpConnection::serveRequest()
{
    std::optional<SmtpRequest> request = m_session.takeRequest();
    if (!request)
        return;
    requestStarted();
    if (const auto *login = std::get_if<SmtpLoginRequest>(&*request)) {
        const auto answered = [this](LoginOutcome outcome, qint64 id) {
            m_session.loginFinished(outcome, id);
            requestAnswered();
        };
        m_backend->login(*login, peerAddress(), answerOn<LoginOutcome, qint64>(this, answered));
    } else if (const auto *registration = std::get_if<SmtpRegisterRequest>(&*request)) {
        const auto answered = [this](RegisterOutcome outcome) {
            m_session.registrationFinished(outcome);
            requestAnswered();
        };
        m_backend->registerAccount(*registration, peerAddress(), answerOn<RegisterOutcome>(this, answered));
    } else if (const auto *delivery = std::get_if<SmtpDeliveryRequest>(&*request)) {
        m_backend->deliver(*delivery, answerOn<DeliveryOutcome>(this, [this](DeliveryOutcome outcome) {
            m_session.deliveryFinished(outcome);
            requestAnswered();
        }));
    }
}
