// HttpRequestParser fed the input in one piece and cut into reads: both
// must give the same requests and the same error (the parser may not depend
// on how TCP segments the stream). Every request is within the limits and
// consistent (a token method, an origin-form target, a body as long as its
// Content-Length, one Host and one Authorization at most); while the parser
// waits for more, it holds less than its buffer limit, or the connection
// (which stops reading at the limit) would wait forever.
//
// Input: byte 0 the limits (low bits) and how the input is cut (the rest),
// then the bytes of the stream.

#include "fuzzsupport.h"
#include "httpmessage.h"
#include "sessionkit.h"

using FuzzSupport::check;

namespace {

// Everything a request carries, as one comparable string.
QByteArray describe(const HttpRequest &request)
{
    QByteArray out = request.method + ' ' + request.target + " path=" + request.path.toUtf8() + " v1."
        + QByteArray::number(request.minorVersion) + (request.keepAlive ? " keep" : " close");
    for (const auto &[key, value] : request.query)
        out += " q:" + key.toUtf8() + '=' + value.toUtf8();
    for (const auto &[name, value] : request.headers)
        out += " h:" + name + '=' + value;
    return out + " body=" + request.body.toHex();
}

void checkRequest(const HttpRequest &request, const HttpLimits &limits)
{
    const QByteArray text = describe(request);
    check(!request.method.isEmpty() && request.method.size() < limits.maxHeadBytes, "method empty or over the limit", text);
    check(request.target.startsWith('/') && request.target.size() < limits.maxHeadBytes, "target not a path or over the limit", text);
    check(request.path.isValidUtf16(), "path is not valid UTF-16", text);
    for (const auto &[key, value] : request.query)
        check(key.isValidUtf16() && value.isValidUtf16(), "query is not valid UTF-16", text);
    check(request.minorVersion == 0 || request.minorVersion == 1, "HTTP version other than 1.0 or 1.1", text);
    check(request.body.size() <= limits.maxBodyBytes, "body over the limit", text);
    const QByteArray length = request.header("content-length");
    check(length.isEmpty() ? request.body.isEmpty() : length.toLongLong() == request.body.size(),
          "body length differs from Content-Length", text);
    check(!request.hasHeader("transfer-encoding"), "a Transfer-Encoding request accepted", text);
    // RFC 9110 §5.3: one Host and one Authorization at most (docs/protocol/web.md §4: 400).
    for (QByteArrayView single : {QByteArrayView("host"), QByteArrayView("authorization")}) {
        const auto count = std::count_if(request.headers.cbegin(), request.headers.cend(),
                                         [single](const auto &header) { return header.first == single; });
        check(count <= 1, "a request with two Host or two Authorization headers accepted", text);
    }
}

struct Outcome
{
    QList<QByteArray> results; // a request's description, or "error <status> <code>"
    qsizetype consumedRequests = 0;
};

Outcome parse(QByteArrayView input, std::uint8_t cutting, const HttpLimits &limits)
{
    HttpRequestParser parser(limits);
    Outcome outcome;
    SessionKit::Reads reads = SessionKit::Reads::fromByte(input, cutting);
    qsizetype fed = 0;
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        parser.feed(*piece);
        fed += piece->size();
        check(parser.bufferedBytes() <= fed, "the parser holds more than it was given");
        for (;;) {
            HttpRequest request;
            HttpError error;
            const HttpRequestParser::Status status = parser.next(&request, &error);
            if (status == HttpRequestParser::Status::Complete) {
                checkRequest(request, limits);
                outcome.results.append(describe(request));
                continue;
            }
            if (status == HttpRequestParser::Status::Failed) {
                check(error.status >= 400 && error.status <= 599 && !error.code.isEmpty() && !error.message.isEmpty(),
                      "an error without status, code or message", error.code);
                check(parser.bufferedBytes() == 0, "bytes held after an error");
                outcome.results.append("error " + QByteArray::number(error.status) + ' ' + error.code);
                return outcome;
            }
            // The connection reads while bufferedBytes() < bufferLimit():
            // waiting with the buffer full would never end.
            check(parser.bufferedBytes() < parser.bufferLimit(), "waiting for more with the buffer at its limit",
                  QByteArray::number(parser.bufferedBytes()) + " of " + QByteArray::number(parser.bufferLimit()));
            break;
        }
    }
    return outcome;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 1)
        return 0;
    // Small limits bring their edges within the fuzzer's reach.
    HttpLimits limits;
    switch (data[0] & 0x03) {
    case 1:
        limits = HttpLimits{64, 32};
        break;
    case 2:
        limits = HttpLimits{200, 0};
        break;
    case 3:
        limits = HttpLimits{1024, 4096};
        break;
    default:
        break;
    }
    const std::uint8_t cutting = std::uint8_t((data[0] >> 2) == 0 ? 1 : data[0] >> 2);
    const QByteArrayView input(data + 1, qsizetype(size - 1));
    const Outcome whole = parse(input, 0, limits);
    const Outcome pieces = parse(input, cutting, limits);
    if (whole.results != pieces.results) {
        FuzzSupport::fail("the requests depend on how the input is cut",
                          "whole: " + whole.results.join(" | ") + "\n  cut: " + pieces.results.join(" | "));
    }
    return 0;
}
