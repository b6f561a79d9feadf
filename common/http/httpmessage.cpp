#include "httpmessage.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLocale>
#include <QStringDecoder>
#include <QUrl>

namespace {

// RFC 9110 §5.6.2 token characters.
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

std::optional<QString> percentDecodedUtf8(QByteArrayView text)
{
    const QByteArray bytes = QByteArray::fromPercentEncoding(text.toByteArray());
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = utf8.decode(bytes);
    if (utf8.hasError())
        return std::nullopt;
    return decoded;
}

using HeaderList = QList<std::pair<QByteArray, QByteArray>>;

QByteArray headerValue(const HeaderList &headers, QByteArrayView name)
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

// Where the head in `buffer` ends: headEnd just past the LF of its last
// field line, bodyStart past the empty line; both -1 while it is not in.
// The head ends at the first empty line; a bare LF is taken as a line end
// (RFC 9112 §2.2). The scan resumes where the last one stopped
// (`scannedUpTo`), so a head that trickles in byte by byte costs linear
// work, not quadratic; it stops past `maxHeadBytes`.
struct HeadEnd
{
    qsizetype headEnd = -1;
    qsizetype bodyStart = -1;
};

HeadEnd findHeadEnd(const QByteArray &buffer, qsizetype *scannedUpTo, qsizetype maxHeadBytes)
{
    HeadEnd end;
    for (qsizetype lf = buffer.indexOf('\n', std::max<qsizetype>(0, *scannedUpTo - 3)); lf >= 0;
         lf = buffer.indexOf('\n', lf + 1)) {
        if (lf + 1 < buffer.size() && buffer[lf + 1] == '\n') {
            end = {lf + 1, lf + 2};
            break;
        }
        if (lf + 2 < buffer.size() && buffer[lf + 1] == '\r' && buffer[lf + 2] == '\n') {
            end = {lf + 1, lf + 3};
            break;
        }
        if (lf > maxHeadBytes)
            break;
    }
    *scannedUpTo = end.headEnd < 0 ? buffer.size() : 0;
    return end;
}

// The lines of a head, CRLF or bare LF ended, without their ends.
QList<QByteArrayView> headLines(QByteArrayView head)
{
    QList<QByteArrayView> lines;
    qsizetype pos = 0;
    while (pos < head.size()) {
        qsizetype lf = head.indexOf('\n', pos);
        if (lf < 0)
            lf = head.size();
        QByteArrayView line = head.sliced(pos, lf - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        lines.append(line);
        pos = lf + 1;
    }
    return lines;
}

// HTTP-version (RFC 9112 §2.3): the minor version of HTTP/1.0 and 1.1,
// OtherVersion for another well-formed version, Malformed otherwise.
constexpr int OtherVersion = -2;
constexpr int Malformed = -1;

int minorVersionOf(QByteArrayView version)
{
    if (version == "HTTP/1.1")
        return 1;
    if (version == "HTTP/1.0")
        return 0;
    if (version.startsWith("HTTP/") && version.size() == 8 && version[5] >= '0' && version[5] <= '9'
        && version[6] == '.' && version[7] >= '0' && version[7] <= '9')
        return OtherVersion;
    return Malformed;
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), for the
// lines after the start line; names lower-cased. False with `error` set on
// the first line that is not one.
bool parseFieldLines(const QList<QByteArrayView> &lines, HeaderList *headers, QString *error)
{
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArrayView line = lines.at(i);
        if (line.startsWith(' ') || line.startsWith('\t')) {
            *error = QStringLiteral("Folded header lines are not accepted.");
            return false;
        }
        const qsizetype colon = line.indexOf(':');
        // §5.1: no white space between the name and the colon, ever.
        if (colon <= 0 || !isToken(line.first(colon))) {
            *error = QStringLiteral("Malformed header line.");
            return false;
        }
        const QByteArray value = line.sliced(colon + 1).trimmed().toByteArray();
        if (value.contains('\0') || value.contains('\r') || value.contains('\n')) {
            *error = QStringLiteral("Malformed header value.");
            return false;
        }
        headers->append({line.first(colon).toByteArray().toLower(), value});
    }
    return true;
}

// The Content-Length (RFC 9112 §6.3), -1 when there is none; false with
// `error` set for several or a non-number.
bool contentLengthOf(const HeaderList &headers, qint64 *length, QString *error)
{
    QList<QByteArray> values;
    for (const auto &[name, value] : headers) {
        if (name == "content-length")
            values.append(value);
    }
    *length = -1;
    if (values.size() > 1) {
        *error = QStringLiteral("More than one Content-Length.");
        return false;
    }
    if (values.size() == 1) {
        const QByteArray &value = values.first();
        bool ok = !value.isEmpty() && value.size() <= 15
            && std::all_of(value.cbegin(), value.cend(), [](char c) { return c >= '0' && c <= '9'; });
        *length = ok ? value.toLongLong(&ok) : 0;
        if (!ok) {
            *error = QStringLiteral("The Content-Length is not a number.");
            return false;
        }
    }
    return true;
}

// RFC 9112 §9.3: persistent unless "close" (1.1), or unless "keep-alive" (1.0).
bool keepsAlive(int minorVersion, const HeaderList &headers)
{
    const QList<QByteArray> connection = headerValue(headers, "connection").toLower().split(',');
    const auto says = [&](QByteArrayView option) {
        return std::any_of(connection.cbegin(), connection.cend(), [&](const QByteArray &o) { return o.trimmed() == option; });
    };
    return minorVersion == 1 ? !says("close") : says("keep-alive");
}

} // namespace

QByteArray HttpRequest::header(QByteArrayView name) const
{
    return headerValue(headers, name);
}

bool HttpRequest::hasHeader(QByteArrayView name) const
{
    return std::any_of(headers.cbegin(), headers.cend(), [&](const auto &header) { return header.first == name; });
}

std::optional<QString> HttpRequest::queryValue(const QString &name) const
{
    for (const auto &[key, value] : query) {
        if (key == name)
            return value;
    }
    return std::nullopt;
}

HttpRequestParser::HttpRequestParser()
    : HttpRequestParser(HttpLimits{})
{
}

HttpRequestParser::HttpRequestParser(Limits limits)
    : m_limits(limits)
{
}

void HttpRequestParser::feed(QByteArrayView bytes)
{
    if (!m_failed)
        m_buffer.append(bytes);
}

HttpRequestParser::Status HttpRequestParser::fail(HttpError *error, int status, const char *code, const QString &message)
{
    m_failed = true;
    m_buffer.clear();
    *error = HttpError{status, code, message};
    return Status::Failed;
}

HttpRequestParser::Status HttpRequestParser::next(HttpRequest *request, HttpError *error)
{
    if (m_failed)
        return Status::Failed;
    if (m_pending) // the head is parsed, its body is still arriving
        return takeBody(request);
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    qsizetype start = 0;
    while (start < m_buffer.size() && (m_buffer[start] == '\r' || m_buffer[start] == '\n'))
        ++start;
    if (start > 0) {
        m_buffer.remove(0, start);
        m_scannedUpTo = 0;
    }
    if (m_buffer.isEmpty())
        return Status::NeedMore;

    const auto [headEnd, bodyStart] = findHeadEnd(m_buffer, &m_scannedUpTo, m_limits.maxHeadBytes);
    const qsizetype firstLineEnd = m_buffer.indexOf('\n');
    // The limit holds the whole head, its empty last line included, and a
    // head is refused as soon as its first maxHeadBytes bytes are in without
    // its end: then the outcome is the same however the bytes arrive, and
    // the parser never waits for more while holding bufferLimit() bytes,
    // the point where the connection stops reading.
    if (headEnd < 0 || bodyStart > m_limits.maxHeadBytes) {
        if ((firstLineEnd < 0 && m_buffer.size() >= m_limits.maxHeadBytes) || firstLineEnd >= m_limits.maxHeadBytes)
            return fail(error, 414, "uri_too_long", QStringLiteral("The request line is longer than %1 bytes.").arg(m_limits.maxHeadBytes));
        if (bodyStart > m_limits.maxHeadBytes || m_buffer.size() >= m_limits.maxHeadBytes)
            return fail(error, 431, "headers_too_large",
                        QStringLiteral("The request head is longer than %1 bytes.").arg(m_limits.maxHeadBytes));
        return Status::NeedMore;
    }

    HttpRequest parsed;
    const Status headStatus = parseHead(QByteArrayView(m_buffer).first(headEnd), &parsed, error);
    if (headStatus == Status::Failed)
        return headStatus;

    if (parsed.hasHeader("transfer-encoding"))
        return fail(error, 411, "length_required", QStringLiteral("Send the body with a Content-Length, not chunked."));
    qint64 contentLength = 0;
    QString lengthError;
    if (!contentLengthOf(parsed.headers, &contentLength, &lengthError))
        return fail(error, 400, "bad_request", lengthError);
    contentLength = std::max<qint64>(contentLength, 0);
    if (contentLength > m_limits.maxBodyBytes) {
        const Upload upload =
            contentLength <= m_maxUploadBytes && m_admitUpload ? m_admitUpload(parsed, contentLength) : Upload::None;
        if (upload == Upload::Busy)
            return fail(error, 503, "unavailable", QStringLiteral("Too many uploads at once: try again shortly."));
        if (upload == Upload::None)
            return fail(error, 413, "too_large", QStringLiteral("The body is larger than %1 bytes.").arg(m_limits.maxBodyBytes));
    }
    m_pending = std::move(parsed);
    m_pendingBodyStart = bodyStart;
    m_pendingLength = contentLength;
    return takeBody(request);
}

HttpRequestParser::Status HttpRequestParser::takeBody(HttpRequest *request)
{
    if (m_buffer.size() - m_pendingBodyStart < m_pendingLength)
        return Status::NeedMore;
    m_pending->body = m_buffer.mid(m_pendingBodyStart, m_pendingLength);
    m_buffer.remove(0, m_pendingBodyStart + m_pendingLength);
    m_scannedUpTo = 0;
    *request = std::move(*m_pending);
    m_pending.reset();
    return Status::Complete;
}

HttpRequestParser::Status HttpRequestParser::parseHead(QByteArrayView head, HttpRequest *request, HttpError *error)
{
    const QList<QByteArrayView> lines = headLines(head);
    if (lines.isEmpty())
        return fail(error, 400, "bad_request", QStringLiteral("No request line."));

    // request-line = method SP request-target SP HTTP-version (§3)
    const QByteArrayView requestLine = lines.first();
    const qsizetype firstSpace = requestLine.indexOf(' ');
    const qsizetype lastSpace = requestLine.lastIndexOf(' ');
    if (firstSpace <= 0 || lastSpace <= firstSpace + 1)
        return fail(error, 400, "bad_request", QStringLiteral("Malformed request line."));
    request->method = requestLine.first(firstSpace).toByteArray();
    request->target = requestLine.sliced(firstSpace + 1, lastSpace - firstSpace - 1).toByteArray();
    const QByteArrayView version = requestLine.sliced(lastSpace + 1);
    if (!isToken(request->method) || request->target.contains(' '))
        return fail(error, 400, "bad_request", QStringLiteral("Malformed request line."));
    const int minorVersion = minorVersionOf(version);
    if (minorVersion == OtherVersion)
        return fail(error, 505, "bad_request", QStringLiteral("Only HTTP/1.0 and HTTP/1.1 are served."));
    if (minorVersion == Malformed)
        return fail(error, 400, "bad_request", QStringLiteral("Malformed request line."));
    request->minorVersion = minorVersion;

    // Only the origin form ("/path?query") is served (§3.2.1).
    if (!request->target.startsWith('/') || request->target.contains('#'))
        return fail(error, 400, "bad_request", QStringLiteral("The request target must be a path."));
    for (char c : request->target) {
        if (static_cast<unsigned char>(c) <= 32 || static_cast<unsigned char>(c) >= 127)
            return fail(error, 400, "bad_request", QStringLiteral("The request target holds characters it may not."));
    }
    const qsizetype question = request->target.indexOf('?');
    const auto path = percentDecodedUtf8(QByteArrayView(request->target).first(question < 0 ? request->target.size() : question));
    if (!path)
        return fail(error, 400, "bad_request", QStringLiteral("The path is not valid UTF-8."));
    request->path = *path;
    if (question >= 0) {
        for (const QByteArray &pair : request->target.mid(question + 1).split('&')) {
            if (pair.isEmpty())
                continue;
            const qsizetype equals = pair.indexOf('=');
            QByteArray key = equals < 0 ? pair : pair.left(equals);
            QByteArray value = equals < 0 ? QByteArray() : pair.mid(equals + 1);
            key.replace('+', ' ');
            value.replace('+', ' ');
            const auto decodedKey = percentDecodedUtf8(key);
            const auto decodedValue = percentDecodedUtf8(value);
            if (!decodedKey || !decodedValue)
                return fail(error, 400, "bad_request", QStringLiteral("The query is not valid UTF-8."));
            request->query.append({*decodedKey, *decodedValue});
        }
    }

    QString fieldError;
    if (!parseFieldLines(lines, &request->headers, &fieldError))
        return fail(error, 400, "bad_request", fieldError);
    if (request->minorVersion == 1 && !request->hasHeader("host"))
        return fail(error, 400, "bad_request", QStringLiteral("HTTP/1.1 requests need a Host header."));
    // RFC 9110 §5.3: neither may be a list. With two, a proxy in front and
    // this server could each take a different one (the first Authorization
    // won here), so the request is refused rather than guessed at.
    const std::pair<QByteArrayView, QLatin1StringView> singles[] = {
        {"host", QLatin1StringView("Host")}, {"authorization", QLatin1StringView("Authorization")}};
    for (const auto &[name, shown] : singles) {
        const auto count = std::count_if(request->headers.cbegin(), request->headers.cend(),
                                         [name = name](const auto &header) { return header.first == name; });
        if (count > 1)
            return fail(error, 400, "bad_request", QStringLiteral("More than one %1 header.").arg(shown));
    }

    request->keepAlive = keepsAlive(request->minorVersion, request->headers);
    return Status::Complete;
}

std::optional<QJsonObject> jsonBody(const HttpRequest &request, HttpError *error)
{
    const QByteArray type = request.header("content-type").toLower();
    const QByteArray mediaType = type.left(type.indexOf(';') < 0 ? type.size() : type.indexOf(';')).trimmed();
    if (mediaType != "application/json") {
        *error = HttpError{415, "unsupported_media_type", QStringLiteral("Send the body as application/json.")};
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = HttpError{400, "bad_request",
                           QStringLiteral("The body is not valid JSON: %1.").arg(parseError.errorString())};
        return std::nullopt;
    }
    if (!document.isObject()) {
        *error = HttpError{400, "bad_request", QStringLiteral("The body must be a JSON object.")};
        return std::nullopt;
    }
    return document.object();
}

QByteArray HttpResponse::header(QByteArrayView name) const
{
    return headerValue(headers, name);
}

HttpResponse HttpResponse::json(int status, const QJsonObject &object)
{
    return json(status, QJsonDocument(object).toJson(QJsonDocument::Compact));
}

HttpResponse HttpResponse::json(int status, QByteArray body)
{
    HttpResponse response;
    response.status = status;
    response.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json; charset=utf-8")});
    response.body = std::move(body);
    return response;
}

HttpResponse HttpResponse::error(const HttpError &error)
{
    return json(error.status, QJsonObject{{QStringLiteral("error"),
                                           QJsonObject{{QStringLiteral("code"), QString::fromLatin1(error.code)},
                                                       {QStringLiteral("message"), error.message}}}});
}

HttpResponse HttpResponse::noContent()
{
    HttpResponse response;
    response.status = 204;
    return response;
}

QByteArray HttpResponse::reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}

QByteArray HttpResponse::serialize(bool keepAlive, bool headOnly) const
{
    // RFC 9110 §5.6.7 IMF-fixdate, in English whatever the locale.
    const QByteArray date = QLocale::c()
                                .toString(QDateTime::currentDateTimeUtc(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
                                .toLatin1()
        + " GMT";
    const bool withBody = !headOnly && status != 204;
    QByteArray out;
    // The head is a few hundred bytes; the body, often the most of it,
    // is copied once, not regrown into.
    out.reserve(512 + (withBody ? body.size() : 0));
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    if (status != 204 && !streamTicket)
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "Date: " + date + "\r\n";
    // RFC 6797: webd speaks only HTTPS, so browsers may refuse plain HTTP to
    // this host for a year. Here, on every answer, errors included: a client
    // learns it from whichever response it gets first.
    out += "Strict-Transport-Security: max-age=31536000\r\n";
    out += keepAlive && !streamTicket ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    out += "\r\n";
    if (withBody)
        out += body;
    return out;
}

HttpResponseParser::HttpResponseParser()
    : HttpResponseParser(Limits{})
{
}

HttpResponseParser::HttpResponseParser(Limits limits)
    : m_limits(limits)
{
}

void HttpResponseParser::feed(QByteArrayView bytes)
{
    if (!m_failed)
        m_buffer.append(bytes);
}

HttpResponseParser::Status HttpResponseParser::fail(QString *error, const QString &message)
{
    m_failed = true;
    m_buffer.clear();
    m_pending.reset();
    *error = message;
    return Status::Failed;
}

HttpResponseParser::Status HttpResponseParser::next(HttpResponse *response, QString *error)
{
    if (m_failed)
        return Status::Failed;
    if (!m_pending) {
        if (m_buffer.isEmpty())
            return Status::NeedMore;
        const auto [headEnd, bodyStart] = findHeadEnd(m_buffer, &m_scannedUpTo, m_limits.maxHeadBytes);
        if (headEnd < 0 || bodyStart > m_limits.maxHeadBytes) {
            if (bodyStart > m_limits.maxHeadBytes || m_buffer.size() >= m_limits.maxHeadBytes)
                return fail(error, QStringLiteral("Response head over %1 bytes.").arg(m_limits.maxHeadBytes));
            return Status::NeedMore;
        }
        const QList<QByteArrayView> lines = headLines(QByteArrayView(m_buffer).first(headEnd));
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
        const QByteArrayView statusLine = lines.value(0);
        const qsizetype space = statusLine.indexOf(' ');
        const int minorVersion = space > 0 ? minorVersionOf(statusLine.first(space)) : Malformed;
        const QByteArrayView rest = space > 0 ? statusLine.sliced(space + 1) : QByteArrayView();
        const QByteArrayView code = rest.first(std::min<qsizetype>(3, rest.size()));
        if (minorVersion < 0 || code.size() != 3
            || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })
            || (rest.size() > 3 && rest[3] != ' '))
            return fail(error, QStringLiteral("Malformed status line: %1").arg(QString::fromLatin1(statusLine.first(std::min<qsizetype>(80, statusLine.size())))));
        HttpResponse parsed;
        parsed.status = code.toInt();
        QString fieldError;
        if (!parseFieldLines(lines, &parsed.headers, &fieldError))
            return fail(error, fieldError);
        if (std::any_of(parsed.headers.cbegin(), parsed.headers.cend(),
                        [](const auto &field) { return field.first == "transfer-encoding"; }))
            return fail(error, QStringLiteral("A Transfer-Encoding: only Content-Length bodies are read."));
        qint64 length = 0;
        if (!contentLengthOf(parsed.headers, &length, &fieldError))
            return fail(error, fieldError);
        // §6.3: these never have a body, whatever their fields say.
        if (parsed.status < 200 || parsed.status == 204 || parsed.status == 304)
            length = 0;
        else if (length < 0)
            return fail(error, QStringLiteral("No Content-Length: a body read to the close is not supported."));
        if (length > m_limits.maxBodyBytes)
            return fail(error, QStringLiteral("Response body over %1 bytes.").arg(m_limits.maxBodyBytes));
        m_pendingKeepAlive = keepsAlive(minorVersion, parsed.headers);
        m_pending = std::move(parsed);
        m_pendingBodyStart = bodyStart;
        m_pendingLength = length;
    }
    if (m_buffer.size() - m_pendingBodyStart < m_pendingLength)
        return Status::NeedMore;
    m_pending->body = m_buffer.mid(m_pendingBodyStart, m_pendingLength);
    m_buffer.remove(0, m_pendingBodyStart + m_pendingLength);
    m_scannedUpTo = 0;
    *response = std::move(*m_pending);
    m_pending.reset();
    m_keepAlive = m_pendingKeepAlive;
    return Status::Complete;
}
