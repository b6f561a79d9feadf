#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

// A parsed HTTP/1.1 request (RFC 9112).
struct HttpRequest
{
    QByteArray method; // case-sensitive, as sent
    QByteArray target; // the raw request-target
    QString path;      // percent-decoded
    QList<std::pair<QString, QString>> query; // decoded, in order
    int minorVersion = 1; // HTTP/1.x
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-case, values trimmed
    QByteArray body;
    bool keepAlive = true;

    [[nodiscard]] QByteArray header(QByteArrayView name) const; // lower-case name; empty when absent
    [[nodiscard]] bool hasHeader(QByteArrayView name) const;
    [[nodiscard]] std::optional<QString> queryValue(const QString &name) const;
};

// An HTTP error to send: status, the code word of docs/PROTOCOL.md and a sentence.
struct HttpError
{
    int status = 400;
    QByteArray code = "bad_request";
    QString message;

    friend bool operator==(const HttpError &, const HttpError &) = default;
};

// A response: built by the server, or read by a client (HttpResponseParser).
struct HttpResponse
{
    int status = 200;
    QList<std::pair<QByteArray, QByteArray>> headers; // as built; lower-case when parsed
    QByteArray body;
    // Nonzero: the head of a body the server goes on writing until the
    // connection closes (server-sent events), this being its ticket with
    // the server's stream source; sent without Content-Length, and the
    // connection is not kept for another request.
    quint64 streamTicket = 0;

    // The first field of that name (compared without case); empty when absent.
    [[nodiscard]] QByteArray header(QByteArrayView name) const;

    [[nodiscard]] static HttpResponse json(int status, const QJsonObject &object);
    // A body already in JSON (JsonWriter).
    [[nodiscard]] static HttpResponse json(int status, QByteArray body);
    [[nodiscard]] static HttpResponse error(const HttpError &error);
    [[nodiscard]] static HttpResponse noContent();
    // Status line, headers (Content-Length, Date, Strict-Transport-Security,
    // Connection added) and body.
    [[nodiscard]] QByteArray serialize(bool keepAlive, bool headOnly = false) const;
    [[nodiscard]] static QByteArray reasonPhrase(int status);
};

// The request body as a JSON object: Content-Type must be application/json
// (415 otherwise), the body valid UTF-8 JSON with an object at the top (400).
[[nodiscard]] std::optional<QJsonObject> jsonBody(const HttpRequest &request, HttpError *error);

// The request limits of docs/PROTOCOL.md (each a mailroom-webd option).
struct HttpLimits
{
    int maxHeadBytes = 16 * 1024; // request line + headers
    int maxBodyBytes = 64 * 1024;
};

// Reads requests from a byte stream, incrementally: feed() what arrives,
// then take requests with next() until it says NeedMore. Requests pipelined
// in one read come out one by one, in order. After an Error nothing more is
// read: the connection answers and closes (the stream cannot be resynced).
class HttpRequestParser
{
public:
    using Limits = HttpLimits;
    enum class Status { NeedMore, Complete, Failed };

    HttpRequestParser();
    explicit HttpRequestParser(Limits limits);

    void feed(QByteArrayView bytes);
    Status next(HttpRequest *request, HttpError *error);

    // Requests that may carry a larger body than the limits' (an upload):
    // admit sees the head and body length of each request over the usual
    // limit and up to maxBytes, and says whether it is an upload admitted,
    // one refused for now (503), or none (413).
    enum class Upload { None, Admitted, Busy };
    void setUploadRule(qint64 maxBytes, std::function<Upload(const HttpRequest &head, qint64 length)> admit)
    {
        m_maxUploadBytes = maxBytes;
        m_admitUpload = std::move(admit);
    }

    // Bytes held: the connection stops reading while this is at the limit
    // (an admitted upload's: its head and whole body).
    [[nodiscard]] qsizetype bufferedBytes() const { return m_buffer.size(); }
    [[nodiscard]] qsizetype bufferLimit() const
    {
        const qsizetype usual = qsizetype(m_limits.maxHeadBytes) + m_limits.maxBodyBytes;
        return m_pending ? std::max(usual, qsizetype(m_pendingBodyStart + m_pendingLength)) : usual;
    }

private:
    Status fail(HttpError *error, int status, const char *code, const QString &message);
    Status parseHead(QByteArrayView head, HttpRequest *request, HttpError *error);
    Status takeBody(HttpRequest *request);

    Limits m_limits;
    qint64 m_maxUploadBytes = 0;
    std::function<Upload(const HttpRequest &head, qint64 length)> m_admitUpload;
    QByteArray m_buffer;
    qsizetype m_scannedUpTo = 0; // no empty line before this offset
    std::optional<HttpRequest> m_pending; // head parsed, body not complete
    qsizetype m_pendingBodyStart = 0;
    qint64 m_pendingLength = 0;
    bool m_failed = false;
};

// Reads responses from a byte stream, the client's side of RFC 9112 (the
// load generator's): feed() what arrives, take responses with next() until
// it says NeedMore. The head is read with the request parser's field rules;
// the body is Content-Length delimited (none for 1xx, 204 and 304): a
// Transfer-Encoding or a body read to the close, which webd never sends, is
// an error. Responses to HEAD are not told apart: send none.
class HttpResponseParser
{
public:
    struct Limits
    {
        int maxHeadBytes = 64 * 1024;
        qint64 maxBodyBytes = 256 * 1024 * 1024;
    };
    enum class Status { NeedMore, Complete, Failed };

    HttpResponseParser();
    explicit HttpResponseParser(Limits limits);

    void feed(QByteArrayView bytes);
    // After Failed, `error` says why and nothing more is read.
    Status next(HttpResponse *response, QString *error);
    // Whether the connection stays open after the last complete response
    // (RFC 9112 §9.3).
    [[nodiscard]] bool keepAlive() const { return m_keepAlive; }

private:
    Status fail(QString *error, const QString &message);

    Limits m_limits;
    QByteArray m_buffer;
    qsizetype m_scannedUpTo = 0;
    std::optional<HttpResponse> m_pending; // head parsed, body not complete
    qsizetype m_pendingBodyStart = 0;
    qint64 m_pendingLength = 0;
    bool m_pendingKeepAlive = true;
    bool m_keepAlive = true;
    bool m_failed = false;
};
