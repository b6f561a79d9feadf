// SmtpSession fed whole conversations, as the connection would serve it:
// STARTTLS handshakes succeed at once, login, registration and delivery
// requests are answered as the input's first byte says. Checked on every
// write: replies are CRLF lines "ddd " / "ddd-" with a 2xx-5xx code, the
// same code on each line of a reply, at most 512 octets; MAIL is never
// accepted before TLS and a successful AUTH; no login is asked for before
// TLS; a message handed over for delivery has CRLF lines of at most 1000
// octets, no bare CR and no NUL, begins with Return-Path: and Received:, and
// its header section is within the limit (plus our own fields). Byte 0 can
// make the size limits small enough for the fuzzer to reach. At the end of
// the input the connection's idle timer, its DATA deadline (inside DATA, for
// an odd input size) or a shutdown ends the session.
//
// Input: byte 0 settings and answers, byte 1 how the rest is cut into
// reads (SessionKit::Reads::fromByte), then the client's bytes.

#include "fakesmtpdirectory.h"
#include "fuzzsupport.h"
#include "sessionkit.h"
#include "smtpsession.h"

using FuzzSupport::check;
using FuzzSupport::fail;

namespace {

// Reads the session's output as the client would and checks each line.
class ReplyChecker
{
public:
    void add(const QByteArray &output)
    {
        check(output.size() <= SmtpSession::MaxPendingOutput + 4096, "output held past the limit", output.left(200));
        check(output.isEmpty() || output.endsWith("\r\n"), "output does not end at a line end", output.right(200));
        qsizetype pos = 0;
        while (pos < output.size()) {
            const qsizetype lf = output.indexOf('\n', pos);
            const QByteArrayView line = QByteArrayView(output).sliced(pos, lf + 1 - pos);
            pos = lf + 1;
            checkLine(line);
        }
    }

    [[nodiscard]] bool insideReply() const { return m_continuedCode != 0; }

    // Set by the driver from what it did, not from what the session says.
    bool tlsDone = false;
    bool authenticated = false;

private:
    void checkLine(QByteArrayView line)
    {
        check(line.size() <= 512, "reply line over 512 octets", line);
        check(line.endsWith("\r\n"), "reply line without CRLF", line);
        const QByteArrayView text = line.chopped(2);
        check(!text.contains('\r') && !text.contains('\n'), "bare CR or LF in a reply line", line);
        check(text.size() >= 4, "reply line shorter than \"ddd \"", line);
        const char c0 = text[0], c1 = text[1], c2 = text[2];
        check(c0 >= '2' && c0 <= '5' && c1 >= '0' && c1 <= '9' && c2 >= '0' && c2 <= '9', "reply without a 2xx-5xx code", line);
        check(text[3] == ' ' || text[3] == '-', "code not followed by space or hyphen", line);
        const int code = (c0 - '0') * 100 + (c1 - '0') * 10 + (c2 - '0');
        check(m_continuedCode == 0 || m_continuedCode == code, "multi-line reply changes its code", line);
        m_continuedCode = text[3] == '-' ? code : 0;
        // RFC 3463: an enhanced code's class is the reply's.
        const QByteArrayView rest = text.sliced(4);
        if (rest.size() >= 5 && rest[1] == '.' && rest[0] >= '2' && rest[0] <= '5' && rest[2] >= '0' && rest[2] <= '9')
            check(rest[0] == c0, "enhanced code of another class than the reply", line);
        if (text.startsWith("250 2.1.0"))
            check(tlsDone && authenticated, "MAIL accepted before TLS and AUTH", line);
        if (code == 235)
            check(tlsDone, "AUTH succeeded before TLS", line);
    }

    int m_continuedCode = 0;
};

// Return-Path:, Received: (3 lines), From:, Message-ID:, Date: and an empty line.
constexpr qsizetype OwnFieldsMax = 1024;

void checkDelivered(const SmtpDeliveryRequest &delivery, const SmtpSessionSettings &settings, const QString &sender)
{
    const QByteArray &message = delivery.message;
    const QByteArray top = "Return-Path: <" + sender.toUtf8() + "@project.com>\r\nReceived: ";
    check(message.startsWith(top),
          "delivered message without Return-Path: and our Received: on top", message.left(200));
    check(HeaderBlock::sectionSize(message, HeaderBlock::FirstLine::IsHeader) <= settings.maxHeaderBytes + OwnFieldsMax,
          "delivered header section over the limit", message.left(200));
    check(message.size() <= settings.maxMessageBytes + 4096, "delivered message over the size limit");
    check(!delivery.recipientIds.isEmpty(), "delivery without recipients");
    check(!message.contains('\0'), "NUL in a delivered message");
    qsizetype pos = 0;
    while (pos < message.size()) {
        const qsizetype lf = message.indexOf('\n', pos);
        check(lf >= 0, "delivered message does not end with CRLF", message.right(200));
        const QByteArrayView line = QByteArrayView(message).sliced(pos, lf + 1 - pos);
        check(line.size() <= 1000, "delivered line over 1000 octets", line);
        check(line.endsWith("\r\n") && !line.chopped(2).contains('\r'), "delivered line with a bare CR or LF", line);
        pos = lf + 1;
    }
}

// The connection's side after each read (SessionKit::settle()): write,
// upgrade, serve, resume; each with the invariants of what it sees.
class Connection : public SessionKit::Host
{
public:
    Connection(SmtpSession &session, const FakeSmtpDirectory &directory, const SmtpSessionSettings &settings,
               std::uint8_t options)
        : m_session(session)
        , m_directory(directory)
        , m_settings(settings)
        , m_loginAnswers((options >> 4) & 0x03) // 0 accepted, 1 rejected, 2 throttled, 3 alternating
        , m_otherAnswers((options >> 6) & 0x03) // registration and delivery outcomes
    {
        replies.tlsDone = settings.implicitTls;
    }

    void collect() override { replies.add(m_session.takeOutput()); }
    bool closeRequested() const override { return m_session.closeRequested(); }
    bool startTlsRequested() const override { return m_session.startTlsRequested(); }
    void establishTls() override
    {
        check(!replies.tlsDone, "STARTTLS granted inside TLS");
        check(!replies.insideReply(), "STARTTLS inside a multi-line reply");
        m_session.tlsEstablished();
        replies.tlsDone = true;
    }
    bool waiting() const override { return m_session.state() == SmtpSession::State::Waiting; }
    void answer() override
    {
        std::optional<SmtpRequest> request = m_session.takeRequest();
        check(request.has_value(), "waiting without a request");
        ++m_answered;
        if (const auto *login = std::get_if<SmtpLoginRequest>(&*request)) {
            check(replies.tlsDone, "login asked for before TLS");
            const int answer = m_loginAnswers == 3 ? m_answered % 3 : m_loginAnswers;
            const auto id = m_directory.accountId(login->username);
            if (answer == 0 && id) {
                replies.authenticated = true;
                m_session.loginFinished(LoginOutcome::Accepted, *id);
            } else {
                m_session.loginFinished(answer == 2 ? LoginOutcome::Throttled : LoginOutcome::Rejected);
            }
        } else if (std::holds_alternative<SmtpRegisterRequest>(*request)) {
            check(replies.tlsDone, "registration asked for before TLS");
            check(m_settings.registration == Registration::Open, "registration asked for while closed");
            m_session.registrationFinished(static_cast<RegisterOutcome>(m_otherAnswers));
        } else {
            const auto &delivery = std::get<SmtpDeliveryRequest>(*request);
            check(replies.tlsDone && replies.authenticated, "delivery before TLS and AUTH");
            check(delivery.senderId == m_session.accountId(), "delivery for another sender");
            checkDelivered(delivery, m_settings, m_session.accountName());
            m_session.deliveryFinished(static_cast<DeliveryOutcome>(m_otherAnswers));
        }
    }
    bool isHoldingInput() const override { return m_session.isHoldingInput(); }
    void resume() override { m_session.resume(); }
    void idle() override { check(!m_session.takeRequest().has_value(), "a request while not waiting"); }

    ReplyChecker replies;

private:
    SmtpSession &m_session;
    const FakeSmtpDirectory &m_directory;
    const SmtpSessionSettings &m_settings;
    int m_loginAnswers = 0;
    int m_otherAnswers = 0;
    int m_answered = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::uint8_t options = data[0];
    SmtpSessionSettings settings;
    settings.hostname = QStringLiteral("mx.project.com");
    settings.implicitTls = options & 0x01;
    settings.registration = (options & 0x02) ? Registration::Closed : Registration::Open;
    if (options & 0x04) {
        settings.maxMessageBytes = 2048; // the size limits within the fuzzer's reach
        settings.maxHeaderBytes = 256;
    }
    if (options & 0x08)
        settings.maxRecipients = 2;

    FakeSmtpDirectory directory; // the accounts of tst_smtpsession
    SmtpSession session(settings, &directory, QStringLiteral("192.0.2.7"));
    Connection connection(session, directory, settings, options);
    const auto pump = [&] {
        if (SessionKit::settle(connection) == SessionKit::Settled::Never)
            fail("the session never settles");
    };

    session.start();
    pump();
    SessionKit::Reads reads = SessionKit::Reads::fromByte(QByteArrayView(data + 2, qsizetype(size - 2)), data[1]);
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        if (session.closeRequested())
            break;
        session.receive(*piece);
        pump();
    }
    // The connection's idle timer, its DATA deadline or a shutdown ends what
    // the client left open (the deadline only inside DATA).
    const bool inData = session.state() == SmtpSession::State::Data;
    if (options & 0x80)
        session.shuttingDown();
    else if (inData && (size & 1))
        session.dataTimedOut();
    else
        session.timedOut();
    connection.collect();
    check(session.closeRequested(), "still open after the timeout");
    check(!session.takeRequest().has_value(), "a request after the session ended");
    check(!connection.replies.insideReply(), "a multi-line reply left unfinished");
    return 0;
}
