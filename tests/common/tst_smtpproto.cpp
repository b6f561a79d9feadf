// The SMTP definitions the server, the client and the load generator share
// (common/smtp): paths as MAIL and RCPT carry them, dot-stuffing both ways,
// and the server's replies by name, each as it goes on the wire and as the
// client's parser reads it back.

#include "smtpcodes.h"
#include "smtpdotstuffing.h"
#include "smtppath.h"
#include "smtpreply.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {

using Parameters = QList<SmtpPathParameter>;

// The message with every line end as CRLF and a last line ended: what the
// server stores of a payload stuff() made.
QByteArray crlfLines(const QByteArray &message)
{
    QByteArray out = message;
    out.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");
    if (!out.isEmpty() && !out.endsWith("\r\n"))
        out += "\r\n";
    return out;
}

// What a receiver makes of a payload: its lines up to the end of the data,
// unstuffed, each with CRLF; nullopt when the payload has no end.
std::optional<QByteArray> unstuffPayload(const QByteArray &payload)
{
    QByteArray message;
    qsizetype pos = 0;
    while (pos < payload.size()) {
        const qsizetype end = payload.indexOf("\r\n", pos);
        if (end < 0)
            return std::nullopt;
        const QByteArrayView line = QByteArrayView(payload).sliced(pos, end - pos);
        pos = end + 2;
        if (SmtpDotStuffing::isEndOfData(line))
            return pos == payload.size() ? std::optional<QByteArray>(message) : std::nullopt;
        message.append(SmtpDotStuffing::unstuffLine(line)).append("\r\n");
    }
    return std::nullopt;
}

// The reply with an argument for each "%n" in its text.
QByteArray withArguments(const SmtpServerReply &reply)
{
    switch (QByteArrayView(reply.text).count('%')) {
    case 0:
        return reply.toBytes();
    case 1:
        return reply.toBytes(u"x"_s);
    default:
        return reply.toBytes(u"x"_s, u"y"_s);
    }
}

} // namespace

// For QCOMPARE, found by argument-dependent lookup.
char *toString(const SmtpPathParameter &parameter)
{
    return qstrdup(QByteArray(parameter.key + '=' + parameter.value).constData());
}

class TestSmtpProto : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsePath_data();
    void parsePath();
    void commandLines_data();
    void commandLines();
    void stuff_data();
    void stuff();
    void appendLine_data();
    void appendLine();
    void unstuffLine_data();
    void unstuffLine();
    void endOfData_data();
    void endOfData();
    void namedReplies_data();
    void namedReplies();
    void everyNamedReply_data();
    void everyNamedReply();
    void matches();
};

void TestSmtpProto::parsePath_data()
{
    QTest::addColumn<QByteArray>("argument");
    QTest::addColumn<QByteArray>("keyword");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<Parameters>("parameters");

    const auto row = [](const char *name, const QByteArray &argument, const QByteArray &keyword, bool valid,
                        const QByteArray &address = {}, const Parameters &parameters = {}) {
        QTest::newRow(name) << argument << keyword << valid << address << parameters;
    };
    row("mailbox", "FROM:<alice@project.com>", "FROM:", true, "alice@project.com");
    row("keyword in lower case", "from:<alice@project.com>", "FROM:", true, "alice@project.com");
    row("keyword in mixed case", "To:<bob@project.com>", "TO:", true, "bob@project.com");
    row("space after the colon", "FROM: <alice@project.com>", "FROM:", true, "alice@project.com");
    row("spaces inside the brackets", "TO:< bob@project.com >", "TO:", true, "bob@project.com");
    row("null reverse path", "FROM:<>", "FROM:", true, "");
    row("parameters", "FROM:<a@b> SIZE=100 BODY=8bitmime", "FROM:", true, "a@b",
        {{"SIZE", "100"}, {"BODY", "8bitmime"}});
    row("parameter keys in any case", "FROM:<a@b> size=5  auth=<>", "FROM:", true, "a@b",
        {{"SIZE", "5"}, {"AUTH", "<>"}});
    row("parameter without value", "FROM:<a@b> SMTPUTF8", "FROM:", true, "a@b", {{"SMTPUTF8", ""}});
    row("empty value", "FROM:<a@b> SIZE=", "FROM:", true, "a@b", {{"SIZE", ""}});
    row("parameter straight after the bracket", "TO:<a@b>NOTIFY=NEVER", "TO:", true, "a@b", {{"NOTIFY", "NEVER"}});
    row("source route", "TO:<@relay.example,@other.example:bob@project.com>", "TO:", true, "bob@project.com");
    row("source route without mailbox", "TO:<@relay.example>", "TO:", true, "");
    row("no brackets", "FROM:alice@project.com", "FROM:", false);
    row("no closing bracket", "FROM:<alice@project.com", "FROM:", false);
    row("other keyword", "TO:<alice@project.com>", "FROM:", false);
    row("keyword cut short", "FRO", "FROM:", false);
    row("nothing", "", "TO:", false);
    row("keyword without colon", "FROM <a@b>", "FROM:", false);
}

void TestSmtpProto::parsePath()
{
    QFETCH(QByteArray, argument);
    QFETCH(QByteArray, keyword);
    QFETCH(bool, valid);
    QFETCH(QByteArray, address);
    QFETCH(Parameters, parameters);

    const std::optional<SmtpPath> path = SmtpPath::parse(argument, keyword);
    QCOMPARE(path.has_value(), valid);
    if (!valid)
        return;
    QCOMPARE(path->address, address);
    QCOMPARE(path->parameters, parameters);
}

void TestSmtpProto::commandLines_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<Parameters>("parameters");

    QTest::newRow("MAIL") << SmtpCommands::mailFrom("alice@project.com") << "MAIL FROM:<alice@project.com>"_ba
                          << "alice@project.com"_ba << Parameters{};
    QTest::newRow("MAIL with SIZE") << SmtpCommands::mailFrom("alice@project.com", 1234)
                                    << "MAIL FROM:<alice@project.com> SIZE=1234"_ba << "alice@project.com"_ba
                                    << Parameters{{"SIZE", "1234"}};
    QTest::newRow("MAIL with SIZE 0") << SmtpCommands::mailFrom("a@b", 0) << "MAIL FROM:<a@b> SIZE=0"_ba << "a@b"_ba
                                      << Parameters{{"SIZE", "0"}};
    QTest::newRow("null sender") << SmtpCommands::mailFrom("") << "MAIL FROM:<>"_ba << ""_ba << Parameters{};
    QTest::newRow("RCPT") << SmtpCommands::rcptTo("bob@project.com") << "RCPT TO:<bob@project.com>"_ba
                          << "bob@project.com"_ba << Parameters{};
}

// What the client writes is what the server reads.
void TestSmtpProto::commandLines()
{
    QFETCH(QByteArray, line);
    QFETCH(QByteArray, expected);
    QFETCH(QByteArray, address);
    QFETCH(Parameters, parameters);

    QCOMPARE(line, expected);
    const qsizetype space = line.indexOf(' ', 5);
    const QByteArray argument = line.mid(5); // after "MAIL " or "RCPT "
    const std::optional<SmtpPath> path = SmtpPath::parse(argument, line.startsWith("MAIL") ? "FROM:" : "TO:");
    QVERIFY(path);
    QVERIFY(space < 0 || !parameters.isEmpty());
    QCOMPARE(path->address, address);
    QCOMPARE(path->parameters, parameters);
}

void TestSmtpProto::stuff_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("payload");

    QTest::newRow("empty") << ""_ba << ".\r\n"_ba;
    QTest::newRow("one line") << "a"_ba << "a\r\n.\r\n"_ba;
    QTest::newRow("one line with CRLF") << "a\r\n"_ba << "a\r\n.\r\n"_ba;
    // The row replace("\r\n.", "\r\n..") gets wrong (STYLE.md).
    QTest::newRow("dot on the very first line") << ".a\r\nb"_ba << "..a\r\nb\r\n.\r\n"_ba;
    QTest::newRow("a lone dot first") << "."_ba << "..\r\n.\r\n"_ba;
    QTest::newRow("dot on a later line") << "a\r\n.b\r\n"_ba << "a\r\n..b\r\n.\r\n"_ba;
    QTest::newRow("a line of one dot") << "a\r\n.\r\nb"_ba << "a\r\n..\r\nb\r\n.\r\n"_ba;
    QTest::newRow("two dots") << "..x"_ba << "...x\r\n.\r\n"_ba;
    QTest::newRow("dot inside a line") << "a.b\r\n"_ba << "a.b\r\n.\r\n"_ba;
    QTest::newRow("bare LF") << "a\n.\n"_ba << "a\r\n..\r\n.\r\n"_ba;
    QTest::newRow("bare CR") << "a\rb"_ba << "a\r\nb\r\n.\r\n"_ba;
    QTest::newRow("LF CR is two line ends") << "a\n\rb"_ba << "a\r\n\r\nb\r\n.\r\n"_ba;
    QTest::newRow("CR CR LF") << "\r\r\n"_ba << "\r\n\r\n.\r\n"_ba;
    QTest::newRow("empty lines") << "\r\n\r\n"_ba << "\r\n\r\n.\r\n"_ba;
    QTest::newRow("dot after an empty line") << "a\r\n\r\n.b"_ba << "a\r\n\r\n..b\r\n.\r\n"_ba;
}

// The sender's stuffing, the size SIZE= gives, and the receiver's
// unstuffing: the receiver ends up with the message in CRLF lines.
void TestSmtpProto::stuff()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, payload);

    QCOMPARE(SmtpDotStuffing::stuff(message), payload);
    QCOMPARE(SmtpDotStuffing::messageSize(payload), qint64(crlfLines(message).size()));
    const std::optional<QByteArray> received = unstuffPayload(payload);
    QVERIFY(received);
    QCOMPARE(*received, crlfLines(message));
}

void TestSmtpProto::appendLine_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QByteArray>("appended");

    QTest::newRow("plain") << "text"_ba << "text\r\n"_ba;
    QTest::newRow("empty") << ""_ba << "\r\n"_ba;
    QTest::newRow("leading dot") << ".text"_ba << "..text\r\n"_ba;
    QTest::newRow("lone dot") << "."_ba << "..\r\n"_ba;
}

void TestSmtpProto::appendLine()
{
    QFETCH(QByteArray, line);
    QFETCH(QByteArray, appended);

    QByteArray payload = "before\r\n"_ba;
    SmtpDotStuffing::appendLine(payload, line);
    QCOMPARE(payload, "before\r\n"_ba + appended);
}

void TestSmtpProto::unstuffLine_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QByteArray>("unstuffed");

    QTest::newRow("plain") << "text"_ba << "text"_ba;
    QTest::newRow("empty") << ""_ba << ""_ba;
    QTest::newRow("stuffed dot") << "..text"_ba << ".text"_ba;
    QTest::newRow("one dot dropped") << ".text"_ba << "text"_ba;
    QTest::newRow("two dots") << ".."_ba << "."_ba;
    QTest::newRow("three dots") << "..."_ba << ".."_ba;
    // The line "." ends the data where it may; where it may not (after a
    // bare LF) it is content and stays as it is.
    QTest::newRow("lone dot") << "."_ba << "."_ba;
    QTest::newRow("dot inside") << "a.b"_ba << "a.b"_ba;
}

void TestSmtpProto::unstuffLine()
{
    QFETCH(QByteArray, line);
    QFETCH(QByteArray, unstuffed);

    QCOMPARE(SmtpDotStuffing::unstuffLine(line).toByteArray(), unstuffed);
}

void TestSmtpProto::endOfData_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("end");

    QTest::newRow("dot") << "."_ba << true;
    QTest::newRow("two dots") << ".."_ba << false;
    QTest::newRow("empty") << ""_ba << false;
    QTest::newRow("dot space") << ". "_ba << false;
    QTest::newRow("dot CR") << ".\r"_ba << false; // the caller strips the CR of the CRLF
}

void TestSmtpProto::endOfData()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, end);

    QCOMPARE(SmtpDotStuffing::isEndOfData(line), end);
}

void TestSmtpProto::namedReplies_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("Ok") << SmtpReplies::Ok.toBytes() << "250 2.0.0 OK\r\n"_ba;
    QTest::newRow("Greeting") << SmtpReplies::Greeting.toBytes(u"mx.project.com"_s)
                              << "220 mx.project.com ESMTP Mailroom\r\n"_ba;
    QTest::newRow("HeloOk") << SmtpReplies::HeloOk.toBytes(u"mx.project.com"_s) << "250 mx.project.com\r\n"_ba;
    QTest::newRow("AuthPlainPrompt") << SmtpReplies::AuthPlainPrompt.toBytes() << "334 \r\n"_ba;
    QTest::newRow("AuthUsernamePrompt") << SmtpReplies::AuthUsernamePrompt.toBytes() << "334 VXNlcm5hbWU6\r\n"_ba;
    QTest::newRow("StartMailInput") << SmtpReplies::StartMailInput.toBytes()
                                    << "354 End data with <CR><LF>.<CR><LF>\r\n"_ba;
    QTest::newRow("Queued") << SmtpReplies::Queued.toBytes(u"0A1B2C3D4E5F6071"_s)
                            << "250 2.0.0 OK: queued as 0A1B2C3D4E5F6071\r\n"_ba;
    QTest::newRow("UserFound") << SmtpReplies::UserFound.toBytes(qint64(7), u"bob@project.com"_s)
                               << "250 2.1.5 7 bob@project.com\r\n"_ba;
    QTest::newRow("AccountCreated") << SmtpReplies::AccountCreated.toBytes(u"bob@project.com"_s)
                                    << "250 2.0.0 Account bob@project.com created\r\n"_ba;
    QTest::newRow("UnsupportedParameterNamed") << SmtpReplies::UnsupportedParameterNamed.toBytes(u"NOTIFY"_s)
                                               << "555 5.5.4 Unsupported parameter NOTIFY\r\n"_ba;
    QTest::newRow("Help") << SmtpReplies::Help.toBytes(u"EHLO QUIT"_s) << "214 2.0.0 Commands: EHLO QUIT\r\n"_ba;
    QTest::newRow("HeaderSectionTooLarge") << SmtpReplies::HeaderSectionTooLarge.toBytes()
                                           << "552 5.3.4 Header section too large\r\n"_ba;
    QTest::newRow("EncryptionRequired") << SmtpReplies::EncryptionRequired.toBytes()
                                        << "538 5.7.11 Encryption required\r\n"_ba;
    QTest::newRow("AuthInvalid") << SmtpReplies::AuthInvalid.toBytes() << "535 5.7.8 Authentication credentials invalid\r\n"_ba;
    QTest::newRow("ShuttingDown") << SmtpReplies::ShuttingDown.toBytes() << "421 4.3.2 Service shutting down\r\n"_ba;
    QTest::newRow("TooManyConnections") << SmtpReplies::TooManyConnections.toBytes()
                                        << "421 4.7.0 Too many connections\r\n"_ba;
    // An argument that holds "%2" is put in as it is.
    QTest::newRow("argument with a percent sign") << SmtpReplies::UserFound.toBytes(qint64(1), u"%2@x"_s)
                                                  << "250 2.1.5 1 %2@x\r\n"_ba;
}

void TestSmtpProto::namedReplies()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, expected);

    QCOMPARE(bytes, expected);
}

void TestSmtpProto::everyNamedReply_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("enhanced");
    QTest::addColumn<QByteArray>("bytes");

#define MAILROOM_REPLY(name)                                                                                           \
    QTest::newRow(#name) << SmtpReplies::name.code << QByteArray(SmtpReplies::name.enhanced)                           \
                         << withArguments(SmtpReplies::name);
    MAILROOM_REPLY(Greeting) MAILROOM_REPLY(HeloOk) MAILROOM_REPLY(Bye) MAILROOM_REPLY(Timeout)
    MAILROOM_REPLY(DataTimeout) MAILROOM_REPLY(ShuttingDown) MAILROOM_REPLY(TooManyConnections)
    MAILROOM_REPLY(TooManyErrors) MAILROOM_REPLY(Ok) MAILROOM_REPLY(Pong) MAILROOM_REPLY(CannotVerify)
    MAILROOM_REPLY(Help) MAILROOM_REPLY(CommandUnrecognized) MAILROOM_REPLY(LineTooLong) MAILROOM_REPLY(EhloSyntax)
    MAILROOM_REPLY(HeloSyntax) MAILROOM_REPLY(ReadyToStartTls) MAILROOM_REPLY(TlsAlreadyActive)
    MAILROOM_REPLY(StartTlsSyntax) MAILROOM_REPLY(StartTlsFirst) MAILROOM_REPLY(EncryptionRequired)
    MAILROOM_REPLY(AuthPlainPrompt) MAILROOM_REPLY(AuthUsernamePrompt) MAILROOM_REPLY(AuthPasswordPrompt)
    MAILROOM_REPLY(AuthSucceeded) MAILROOM_REPLY(AuthInvalid) MAILROOM_REPLY(AuthRequired)
    MAILROOM_REPLY(AlreadyAuthenticated) MAILROOM_REPLY(AuthInsideTransaction) MAILROOM_REPLY(AuthSyntax)
    MAILROOM_REPLY(UnknownMechanism) MAILROOM_REPLY(AuthCanceled) MAILROOM_REPLY(InvalidBase64)
    MAILROOM_REPLY(InvalidPlainResponse) MAILROOM_REPLY(LoginsThrottled) MAILROOM_REPLY(AuthUnavailable)
    MAILROOM_REPLY(TooManyAuthFailures) MAILROOM_REPLY(AccountCreated) MAILROOM_REPLY(RegistrationClosed)
    MAILROOM_REPLY(RegSyntax) MAILROOM_REPLY(InvalidUsername) MAILROOM_REPLY(PasswordTooWeak)
    MAILROOM_REPLY(PasswordTooLong) MAILROOM_REPLY(PasswordControlCharacter) MAILROOM_REPLY(UsernameTaken)
    MAILROOM_REPLY(RegistrationsThrottled) MAILROOM_REPLY(UserFound) MAILROOM_REPLY(GetUserSyntax)
    MAILROOM_REPLY(NoSuchUser) MAILROOM_REPLY(LookupUnavailable) MAILROOM_REPLY(SenderOk)
    MAILROOM_REPLY(RecipientOk) MAILROOM_REPLY(NestedMail) MAILROOM_REPLY(MailSyntax) MAILROOM_REPLY(SizeSyntax)
    MAILROOM_REPLY(SizeExceedsLimit) MAILROOM_REPLY(BodySyntax) MAILROOM_REPLY(UnsupportedParameterNamed)
    MAILROOM_REPLY(UnsupportedParameter) MAILROOM_REPLY(SenderNotOwned) MAILROOM_REPLY(NeedMail)
    MAILROOM_REPLY(RcptSyntax) MAILROOM_REPLY(RelayingDenied) MAILROOM_REPLY(NoSuchRecipient)
    MAILROOM_REPLY(TooManyRecipients) MAILROOM_REPLY(DataSyntax) MAILROOM_REPLY(NoValidRecipients)
    MAILROOM_REPLY(StartMailInput) MAILROOM_REPLY(MessageTooBig) MAILROOM_REPLY(HeaderSectionTooLarge)
    MAILROOM_REPLY(DataLineTooLong) MAILROOM_REPLY(BareCrOrNul) MAILROOM_REPLY(FromNotOwned)
    MAILROOM_REPLY(Queued) MAILROOM_REPLY(InsufficientStorage) MAILROOM_REPLY(LocalError)
#undef MAILROOM_REPLY
}

// Each reply is one well-formed line (RFC 5321 §4.2, at most 512 octets),
// its enhanced code of the reply's class (RFC 3463 §2), and the client's
// parser reads back the code, the enhanced code and the text.
void TestSmtpProto::everyNamedReply()
{
    QFETCH(int, code);
    QFETCH(QByteArray, enhanced);
    QFETCH(QByteArray, bytes);

    QVERIFY(code >= 200 && code < 600);
    QVERIFY(bytes.size() <= 512);
    QVERIFY(bytes.endsWith("\r\n"));
    QCOMPARE(bytes.count('\n'), 1);
    QVERIFY(!bytes.chopped(2).contains('\r'));
    QVERIFY(!bytes.contains('%')); // every argument taken
    if (!enhanced.isEmpty())
        QCOMPARE(enhanced.at(0) - '0', code / 100);
    // No enhanced code before EHLO could announce them (the greeting, HELO's
    // reply) and none on 334 and 354, which are no completions (RFC 2034 §3).
    const QByteArrayView name(QTest::currentDataTag());
    QCOMPARE(enhanced.isEmpty(), name == "Greeting" || name == "HeloOk" || code == SmtpCode::AuthContinue
                                     || code == SmtpCode::StartMailInput);

    SmtpReplyParser parser;
    parser.append(bytes);
    const std::optional<SmtpReply> reply = parser.next();
    QVERIFY2(reply, qPrintable(parser.errorString()));
    QCOMPARE(reply->code, code);
    QCOMPARE(reply->enhanced, QString::fromLatin1(enhanced));
    QCOMPARE(parser.bufferedBytes(), 0);
}

void TestSmtpProto::matches()
{
    const auto parse = [](const QByteArray &bytes) {
        SmtpReplyParser parser;
        parser.append(bytes);
        return parser.next().value_or(SmtpReply{});
    };
    QVERIFY(SmtpReplies::UsernameTaken.matches(parse("550 5.1.0 Username already taken\r\n"_ba)));
    QVERIFY(SmtpReplies::UsernameTaken.matches(parse("550 5.1.0 in other words\r\n"_ba)));
    QVERIFY(!SmtpReplies::UsernameTaken.matches(parse("550 5.7.1 Registration is closed\r\n"_ba)));
    QVERIFY(!SmtpReplies::UsernameTaken.matches(parse("551 5.1.0 Username already taken\r\n"_ba)));
    QVERIFY(SmtpReplies::StartMailInput.matches(parse("354 go ahead\r\n"_ba)));
    QVERIFY(!SmtpReplies::StartMailInput.matches(parse("250 2.0.0 OK\r\n"_ba)));
    QVERIFY(SmtpReplies::Ok.matches(parse("250 2.0.0 fine\r\n"_ba)));
    QVERIFY(!SmtpReplies::Ok.matches(parse("250 fine\r\n"_ba)));
    QCOMPARE(int(SmtpCode::Ok), 250);
    QCOMPARE(int(SmtpCode::StartMailInput), 354);
    QCOMPARE(int(SmtpCode::ServiceReady), 220);
}

QTEST_GUILESS_MAIN(TestSmtpProto)
#include "tst_smtpproto.moc"
