#pragma once

#include "clienterror.h"
#include "serverendpoint.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>

#include <optional>

class QNetworkReply;
class ServerTrust;

// One request to mailroom-webd. Exactly one of succeeded() or failed() is
// emitted, then the call deletes itself.
class ApiCall : public QObject
{
    Q_OBJECT
public:
Q_SIGNALS:
    // The JSON answer (an object), or Null for 204 No Content.
    void succeeded(const QJsonValue &answer);
    // Instead of succeeded() for a download (an attachment): the bytes as sent.
    void downloaded(const QByteArray &bytes, const QString &contentType);
    void failed(const ClientError &error);

private:
    friend class ApiClient;
    explicit ApiCall(QObject *parent) : QObject(parent) {}
    std::optional<ClientError> m_trustRefusal;
    bool m_download = false;
};

// The HTTPS JSON API (docs/protocol/web.md) over QNetworkAccessManager:
// every certificate goes through ServerTrust, every error through
// ClientError, and a 401 to a call made with the token ends the session
// (sessionExpired()).
class ApiClient : public QObject
{
    Q_OBJECT
public:
    ApiClient(const ServerEndpoint &server, ServerTrust *trust, QObject *parent = nullptr);

    [[nodiscard]] const ServerEndpoint &server() const { return m_server; }
    void setToken(const QByteArray &token) { m_token = token; }
    [[nodiscard]] bool hasToken() const { return !m_token.isEmpty(); }
    // The longest a request may take without progress.
    void setTimeout(int milliseconds) { m_timeoutMs = milliseconds; }

    [[nodiscard]] ApiCall *logIn(const QString &username, const QString &password);
    [[nodiscard]] ApiCall *logOut();
    [[nodiscard]] ApiCall *account();
    // folder: "inbox" or "sent"; before: the exclusive upper entry id.
    [[nodiscard]] ApiCall *listMessages(const QString &folder, int limit, std::optional<qint64> before = std::nullopt);
    [[nodiscard]] ApiCall *message(qint64 id);
    [[nodiscard]] ApiCall *setSeen(qint64 id, bool seen);
    [[nodiscard]] ApiCall *deleteMessage(qint64 id);
    // The attachment's decoded bytes: downloaded() instead of succeeded().
    [[nodiscard]] ApiCall *attachment(qint64 id, int index);
    [[nodiscard]] ApiCall *changePassword(const QString &current, const QString &replacement);

Q_SIGNALS:
    void sessionExpired(const ClientError &error);

public:
    // Answers larger than this are parsed on a worker thread.
    static constexpr qsizetype LargeAnswerBytes = 256 * 1024;

private:
    enum class Auth { Token, LoggingIn };
    ApiCall *request(const QByteArray &verb, const QString &path, const QString &query = {},
                     const std::optional<QJsonObject> &body = std::nullopt, Auth auth = Auth::Token);
    void finished(ApiCall *call, QNetworkReply *reply, Auth auth);

    ServerEndpoint m_server;
    QPointer<ServerTrust> m_trust;
    QNetworkAccessManager m_network;
    QByteArray m_token;
    int m_timeoutMs = 30000;
};
