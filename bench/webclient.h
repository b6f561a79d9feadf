#pragma once

// The HTTPS side of mailroom-load: one keep-alive connection to
// mailroom-webd, requests one at a time, responses read with the shared
// HTTP parser (common/http).

#include "httpmessage.h"
#include "loadcommon.h"

#include <QByteArray>
#include <QObject>
#include <QString>

class QSslSocket;

namespace MailroomLoad {

class WebSession;

// What a run learns from its HTTPS connections.
class WebSessionObserver
{
public:
    virtual ~WebSessionObserver() = default;
    // TLS is up and, when the session was given an account, it is logged in.
    virtual void sessionReady(WebSession *session) = 0;
    // The response to the last get(), `latencyNs` after it was sent.
    virtual void responseReceived(WebSession *session, const HttpResponse &response, qint64 latencyNs) = 0;
    // Once per connection: after finish(), or on the first error (`error` set).
    virtual void sessionFinished(WebSession *session, const QString &error) = 0;
};

// One keep-alive HTTPS connection: the handshake, a login (POST
// /api/v1/session) when given an account, then one GET at a time with the
// bearer token. A response that closes the connection is an error: every
// run here is about keep-alive connections.
class WebSession : public QObject
{
public:
    WebSession(QObject *parent, int id, WebSessionObserver *observer);

    // Connects; with an empty `user`, no login (for /healthz).
    void start(const Common &common, const QByteArray &user = {}, const QByteArray &password = {});
    // Sends `GET target` (ready sessions only).
    void get(const QByteArray &target);
    // Closes the connection after its last response; sessionFinished("").
    void finish();
    void abort(const QString &reason) { fail(reason); }

    [[nodiscard]] int id() const { return m_id; }
    // Whether it logged in (a failure after that is not a setup failure).
    [[nodiscard]] bool everReady() const { return m_everReady; }
    // Ready for get(): connected, logged in, no request outstanding.
    [[nodiscard]] bool idle() const { return m_state == State::Ready; }
    [[nodiscard]] bool finished() const { return m_state == State::Done || m_state == State::Failed; }

private:
    enum class State { Idle, Handshake, Login, Ready, Waiting, Done, Failed };

    void send(const QByteArray &bytes);
    void login();
    void onReadyRead();
    void handle(const HttpResponse &response);
    void fail(const QString &error);

    int m_id = 0;
    WebSessionObserver *m_observer = nullptr;
    QSslSocket *m_socket = nullptr;
    State m_state = State::Idle;
    HttpResponseParser m_responses;
    QByteArray m_user;
    QByteArray m_password;
    QByteArray m_hostHeader;
    QByteArray m_authorization;
    qint64 m_sentNs = 0;
    bool m_everReady = false;
};

} // namespace MailroomLoad
