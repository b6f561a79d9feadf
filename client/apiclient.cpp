#include "apiclient.h"

#include "clientlogging.h"
#include "offthread.h"
#include "servertrust.h"

#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QUrl>

using namespace Qt::StringLiterals;

ApiClient::ApiClient(const ServerEndpoint &server, ServerTrust *trust, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_trust(trust)
{
    m_network.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

ApiCall *ApiClient::request(const QByteArray &verb, const QString &path, const QString &query,
                            const std::optional<QJsonObject> &body, Auth auth)
{
    QUrl url;
    url.setScheme(u"https"_s);
    url.setHost(m_server.host);
    url.setPort(m_server.port);
    url.setPath(path);
    if (!query.isEmpty())
        url.setQuery(query);
    QNetworkRequest request(url);
    if (m_trust)
        request.setSslConfiguration(m_trust->configuration());
    request.setTransferTimeout(m_timeoutMs);
    request.setRawHeader("Accept", "application/json");
    if (auth == Auth::Token && !m_token.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_token);
    QByteArray payload;
    if (body) {
        request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        payload = QJsonDocument(*body).toJson(QJsonDocument::Compact);
    }
    QNetworkReply *reply = body ? m_network.sendCustomRequest(request, verb, payload)
                                : m_network.sendCustomRequest(request, verb);
    auto *call = new ApiCall(this);
    connect(reply, &QNetworkReply::sslErrors, call, [this, call, reply](const QList<QSslError> &errors) {
        if (!m_trust) {
            call->m_trustRefusal = ClientError::untrusted(m_server, errors.first().errorString());
            return;
        }
        const ServerTrust::Verdict verdict = m_trust->judgeErrors(m_server, reply->sslConfiguration().peerCertificate(), errors);
        if (verdict.accepted)
            reply->ignoreSslErrors(errors); // exactly these, for the pinned certificate
        else
            call->m_trustRefusal = verdict.refusal;
    });
    connect(reply, &QNetworkReply::encrypted, call, [this, call, reply] {
        if (!m_trust)
            return;
        const ServerTrust::Verdict verdict = m_trust->judgeEstablished(m_server, reply->sslConfiguration().peerCertificate());
        if (!verdict.accepted) {
            call->m_trustRefusal = verdict.refusal;
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, call, [this, call, reply, auth] { finished(call, reply, auth); });
    qCDebug(lcClient).noquote() << verb << url.toDisplayString();
    return call;
}

void ApiClient::finished(ApiCall *call, QNetworkReply *reply, Auth auth)
{
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    // An aborted reply (the transfer timeout, a refused pin) is closed already.
    const QByteArray bytes = reply->isOpen() ? reply->readAll() : QByteArray();
    // A large answer (a message with tens of megabytes of text) takes a
    // quarter of a second and more to parse: a worker does it, and the
    // call answers from here once it is done.
    if (!call->m_trustRefusal && !call->m_download && status >= 200 && status < 300
        && bytes.size() > LargeAnswerBytes) {
        runOffThread(call, [bytes] { return QJsonDocument::fromJson(bytes); },
                     [server = m_server](ApiCall *target, const QJsonDocument &document) {
            target->deleteLater();
            if (!document.isObject()) {
                Q_EMIT target->failed(ClientError::fromNetwork(QNetworkReply::ProtocolFailure,
                                                               u"the answer is not a JSON object"_s, server));
                return;
            }
            Q_EMIT target->succeeded(QJsonValue(document.object()));
        });
        return;
    }
    call->deleteLater();
    if (call->m_trustRefusal) {
        Q_EMIT call->failed(*call->m_trustRefusal);
        return;
    }
    if (status == 0) {
        const ClientError error = ClientError::fromNetwork(reply->error(), reply->errorString(), m_server);
        qCInfo(lcClient).noquote() << "web" << m_server.toString() << "failed:" << error.toString();
        Q_EMIT call->failed(error);
        return;
    }
    if (call->m_download && status == 200) {
        Q_EMIT call->downloaded(bytes, reply->header(QNetworkRequest::ContentTypeHeader).toString());
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument document = bytes.isEmpty() ? QJsonDocument() : QJsonDocument::fromJson(bytes, &parseError);
    if (status >= 200 && status < 300) {
        if (!bytes.isEmpty() && !document.isObject()) {
            Q_EMIT call->failed(ClientError::fromNetwork(QNetworkReply::ProtocolFailure,
                                                         u"the answer is not a JSON object"_s, m_server));
            return;
        }
        Q_EMIT call->succeeded(document.isObject() ? QJsonValue(document.object()) : QJsonValue());
        return;
    }
    const QJsonObject error = document.object().value(u"error").toObject();
    const int retryAfter = reply->rawHeader("Retry-After").toInt();
    const ClientError clientError = ClientError::fromHttp(status, error.value(u"code").toString(),
                                                          error.value(u"message").toString(), retryAfter,
                                                          auth == Auth::LoggingIn, m_server);
    qCInfo(lcClient).noquote() << "web" << m_server.toString() << "failed:" << clientError.toString();
    Q_EMIT call->failed(clientError);
    if (status == 401 && auth == Auth::Token)
        Q_EMIT sessionExpired(clientError);
}

ApiCall *ApiClient::logIn(const QString &username, const QString &password)
{
    return request("POST", u"/api/v1/session"_s, {}, QJsonObject{{u"username"_s, username}, {u"password"_s, password}},
                   Auth::LoggingIn);
}

ApiCall *ApiClient::logOut()
{
    return request("DELETE", u"/api/v1/session"_s);
}

ApiCall *ApiClient::account()
{
    return request("GET", u"/api/v1/account"_s);
}

ApiCall *ApiClient::listMessages(const QString &folder, int limit, std::optional<qint64> before)
{
    QString query = u"limit="_s + QString::number(limit);
    if (before)
        query += u"&before="_s + QString::number(*before);
    return request("GET", u"/api/v1/mailboxes/"_s + folder + u"/messages"_s, query);
}

ApiCall *ApiClient::message(qint64 id)
{
    return request("GET", u"/api/v1/messages/"_s + QString::number(id));
}

ApiCall *ApiClient::setSeen(qint64 id, bool seen)
{
    return request("PATCH", u"/api/v1/messages/"_s + QString::number(id), {}, QJsonObject{{u"seen"_s, seen}});
}

ApiCall *ApiClient::deleteMessage(qint64 id)
{
    return request("DELETE", u"/api/v1/messages/"_s + QString::number(id));
}

ApiCall *ApiClient::attachment(qint64 id, int index)
{
    ApiCall *call = request("GET", u"/api/v1/messages/%1/attachments/%2"_s.arg(id).arg(index));
    call->m_download = true;
    return call;
}

ApiCall *ApiClient::changePassword(const QString &current, const QString &replacement)
{
    return request("PUT", u"/api/v1/account/password"_s, {},
                   QJsonObject{{u"current"_s, current}, {u"new"_s, replacement}});
}
