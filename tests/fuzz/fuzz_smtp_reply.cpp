// The client's SmtpReplyParser fed a server's bytes in one piece and cut
// into reads: the same replies and the same error either way. Every reply
// has a code from 200 to 599, at most MaxLines lines of valid UTF-16 text,
// and an enhanced code only of its own class; once an error is reported
// nothing more comes out.
//
// Input: byte 0 how the rest is cut into reads, then the server's bytes.

#include "fuzzsupport.h"
#include "sessionkit.h"
#include "smtpreply.h"

#include <QRegularExpression>

using FuzzSupport::check;

namespace {

struct Outcome
{
    QList<SmtpReply> replies;
    QString error;
};

Outcome parse(QByteArrayView input, std::uint8_t cutting)
{
    static const QRegularExpression enhancedPattern(QStringLiteral("^[245]\\.\\d{1,3}\\.\\d{1,3}$"));
    SmtpReplyParser parser;
    Outcome outcome;
    SessionKit::Reads reads = SessionKit::Reads::fromByte(input, cutting);
    qsizetype fed = 0;
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        parser.append(*piece);
        fed += piece->size();
        while (const std::optional<SmtpReply> reply = parser.next()) {
            const QByteArray text = reply->toString().toUtf8();
            check(reply->code >= 200 && reply->code <= 599, "reply code outside 200-599", text);
            check(!reply->lines.isEmpty() && reply->lines.size() <= SmtpReplyParser::MaxLines, "reply without lines or over MaxLines", text);
            for (const QString &line : reply->lines)
                check(line.isValidUtf16(), "reply text is not valid UTF-16", text);
            if (!reply->enhanced.isEmpty()) {
                check(enhancedPattern.match(reply->enhanced).hasMatch(), "malformed enhanced code", text);
                check(reply->enhanced.at(0).digitValue() == reply->code / 100, "enhanced code of another class", text);
            }
            check(!parser.hasError(), "a reply after an error", text);
            outcome.replies.append(*reply);
        }
        check(parser.bufferedBytes() <= fed, "the parser holds more than it was given");
        if (parser.hasError()) {
            check(!parser.errorString().isEmpty(), "an error without a message");
            outcome.error = parser.errorString();
            break;
        }
    }
    return outcome;
}

QByteArray describe(const Outcome &outcome)
{
    QByteArray out;
    for (const SmtpReply &reply : outcome.replies)
        out += reply.toString().toUtf8() + " (" + QByteArray::number(reply.lines.size()) + " lines) | ";
    return out + "error: " + outcome.error.toUtf8();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView input(data + 1, qsizetype(size - 1));
    const Outcome whole = parse(input, 0);
    const Outcome pieces = parse(input, data[0] == 0 ? 1 : data[0]);
    if (whole.replies != pieces.replies || whole.error != pieces.error)
        FuzzSupport::fail("the replies depend on how the input is cut", "whole: " + describe(whole) + "\n  cut: " + describe(pieces));
    return 0;
}
