#include "webclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSslSocket>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

WebSession::WebSession(QObject *parent, int id, WebSessionObserver *observer)
    : QObject(parent)
    , m_id(id)
    , m_observer(observer)
{
}

void WebSession::start(const Common &common, const QByteArray &user, const QByteArray &password)
{
    m_user = user;
    m_password = password;
    const QByteArray host = common.host.contains(u':') ? '[' + common.host.toLatin1() + ']' : common.host.toLatin1();
    m_hostHeader = "Host: " + host + ':' + QByteArray::number(common.port) + "\r\n";
    m_socket = clientSocket(this, common, [this](const QString &error) { fail(error); });
    connect(m_socket, &QSslSocket::encrypted, this, &WebSession::login);
    connect(m_socket, &QSslSocket::readyRead, this, &WebSession::onReadyRead);
    m_state = State::Handshake;
    m_socket->connectToHostEncrypted(common.host, common.port);
}

void WebSession::get(const QByteArray &target)
{
    if (m_state != State::Ready)
        return;
    m_state = State::Waiting;
    send("GET " + target + " HTTP/1.1\r\n" + m_hostHeader + m_authorization + "\r\n");
}

void WebSession::finish()
{
    if (finished())
        return;
    m_state = State::Done;
    m_socket->disconnectFromHost();
    m_observer->sessionFinished(this, QString());
}

void WebSession::send(const QByteArray &bytes)
{
    m_sentNs = nowNs();
    m_socket->write(bytes);
    m_socket->flush();
}

void WebSession::login()
{
    if (m_user.isEmpty()) {
        m_state = State::Ready;
        m_everReady = true;
        m_observer->sessionReady(this);
        return;
    }
    const QByteArray body = QJsonDocument(QJsonObject{{u"username"_s, QString::fromUtf8(m_user)},
                                                      {u"password"_s, QString::fromUtf8(m_password)}})
                                .toJson(QJsonDocument::Compact);
    m_state = State::Login;
    send("POST /api/v1/session HTTP/1.1\r\n" + m_hostHeader + "Content-Type: application/json\r\nContent-Length: "
         + QByteArray::number(body.size()) + "\r\n\r\n" + body);
}

void WebSession::onReadyRead()
{
    m_responses.feed(m_socket->readAll());
    while (!finished()) {
        HttpResponse response;
        QString error;
        const auto status = m_responses.next(&response, &error);
        if (status == HttpResponseParser::Status::Failed)
            return fail(error);
        if (status == HttpResponseParser::Status::NeedMore)
            return;
        handle(response);
    }
}

void WebSession::handle(const HttpResponse &response)
{
    const qint64 latency = nowNs() - m_sentNs;
    if (!m_responses.keepAlive())
        return fail(u"the server closed the keep-alive connection (status %1)"_s.arg(response.status));
    switch (m_state) {
    case State::Login: {
        if (response.status != 200)
            return fail(
                u"login failed: HTTP %1 %2"_s.arg(response.status).arg(QString::fromUtf8(response.body.left(200))));
        const QByteArray token
            = QJsonDocument::fromJson(response.body).object().value(u"token"_s).toString().toLatin1();
        if (token.isEmpty())
            return fail(u"login answer without a token"_s);
        m_authorization = "Authorization: Bearer " + token + "\r\n";
        m_state = State::Ready;
        m_everReady = true;
        m_observer->sessionReady(this);
        return;
    }
    case State::Waiting:
        m_state = State::Ready;
        m_observer->responseReceived(this, response, latency);
        return;
    case State::Idle:
    case State::Handshake:
    case State::Ready:
    case State::Done:
    case State::Failed:
        return fail(u"unexpected response (status %1)"_s.arg(response.status));
    }
}

void WebSession::fail(const QString &error)
{
    if (finished())
        return;
    m_state = State::Failed;
    if (m_socket)
        m_socket->abort();
    m_observer->sessionFinished(this, error);
}

} // namespace MailroomLoad
