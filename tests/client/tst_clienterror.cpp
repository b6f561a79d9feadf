// ClientError: every failure the client can meet mapped, in one place, to a
// kind, a sentence for the user and the server's own words for the details
// line (STYLE "Errors": KSmtp's Job::handleErrors).

#include "clienterror.h"

#include <QRegularExpression>
#include <QTest>

using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(ClientError::Kind)
Q_DECLARE_METATYPE(SmtpStage)
Q_DECLARE_METATYPE(ServerEndpoint)

char *toString(const ServerEndpoint &server) // for QCOMPARE
{
    return QTest::toString(server.toString());
}

namespace {

const ServerEndpoint smtpServer{u"127.0.0.1"_s, 8025};
const ServerEndpoint webServer{u"127.0.0.1"_s, 9999};

QString kindName(ClientError::Kind kind)
{
    using Kind = ClientError::Kind;
    switch (kind) {
    case Kind::Unreachable: return u"Unreachable"_s;
    case Kind::Timeout: return u"Timeout"_s;
    case Kind::ConnectionLost: return u"ConnectionLost"_s;
    case Kind::Untrusted: return u"Untrusted"_s;
    case Kind::CertificateChanged: return u"CertificateChanged"_s;
    case Kind::CertificateUnknown: return u"CertificateUnknown"_s;
    case Kind::WrongCredentials: return u"WrongCredentials"_s;
    case Kind::SessionExpired: return u"SessionExpired"_s;
    case Kind::Throttled: return u"Throttled"_s;
    case Kind::NotFound: return u"NotFound"_s;
    case Kind::Invalid: return u"Invalid"_s;
    case Kind::Refused: return u"Refused"_s;
    case Kind::ServerError: return u"ServerError"_s;
    case Kind::Protocol: return u"Protocol"_s;
    }
    return u"?"_s;
}

// The reply as SmtpReplyParser makes it from the server's bytes.
std::optional<SmtpReply> parseReply(const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return std::nullopt;
    SmtpReplyParser parser;
    parser.append(bytes);
    return parser.next();
}

// A sentence for a person: a capital first (or the address it is about), a
// full stop or question mark last, no reply code.
QString sentenceProblem(const QString &message, const QStringList &codes, const QString &subject = {})
{
    if (message.isEmpty())
        return u"empty"_s;
    if (!message.at(0).isUpper() && (subject.isEmpty() || !message.startsWith(subject)))
        return u"does not start with a capital: \"%1\""_s.arg(message);
    if (!message.endsWith(u'.') && !message.endsWith(u'?'))
        return u"does not end a sentence: \"%1\""_s.arg(message);
    if (message.contains(u"  "_s) || message != message.trimmed())
        return u"has stray spaces: \"%1\""_s.arg(message);
    for (const QString &code : codes) {
        if (code.isEmpty())
            continue;
        const QRegularExpression word(u"(?<![\\d.])"_s + QRegularExpression::escape(code) + u"(?![\\d.]\\d)"_s);
        if (word.match(message).hasMatch())
            return u"shows the code %1: \"%2\""_s.arg(code, message);
    }
    return {};
}

} // namespace

class TestClientError : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fromSmtp_data();
    void fromSmtp();
    void fromSocket_data();
    void fromSocket();
    void fromHttp_data();
    void fromHttp();
    void fromNetwork_data();
    void fromNetwork();
    void certificateChanged();
    void certificateUnknown();
    void untrusted();
    void timeoutAndInvalid();
    void toStringJoins_data();
    void toStringJoins();
};

void TestClientError::fromSmtp_data()
{
    QTest::addColumn<SmtpStage>("stage");
    QTest::addColumn<QString>("argument");
    QTest::addColumn<QByteArray>("reply");        // as the server sent it; empty: none
    QTest::addColumn<QString>("protocolError");   // empty: none
    QTest::addColumn<ClientError::Kind>("kind");
    QTest::addColumn<QString>("says");            // the message contains this
    QTest::addColumn<QString>("detail");          // exactly

    using Kind = ClientError::Kind;
    using S = SmtpStage;
    const QString none;

    QTest::newRow("AUTH 535") << S::Auth << u"user"_s << "535 5.7.8 Authentication credentials invalid\r\n"_ba << none
                              << Kind::WrongCredentials << u"user name or password is wrong"_s
                              << u"535 5.7.8 Authentication credentials invalid"_s;
    QTest::newRow("AUTH 454 4.7.0") << S::Auth << u"user"_s << "454 4.7.0 Too many failed logins, try later\r\n"_ba
                                    << none << Kind::Throttled << u"try again"_s
                                    << u"454 4.7.0 Too many failed logins, try later"_s;
    QTest::newRow("AUTH 421 4.7.0") << S::Auth << u"user"_s << "421 4.7.0 Too many errors\r\n"_ba << none
                                    << Kind::Throttled << u"Too many failed logins"_s
                                    << u"421 4.7.0 Too many errors"_s;
    QTest::newRow("421 4.4.2 at MAIL") << S::MailFrom << u"user@project.com"_s << "421 4.4.2 Timeout\r\n"_ba << none
                                       << Kind::Timeout << u"127.0.0.1:8025"_s << u"421 4.4.2 Timeout"_s;
    QTest::newRow("421 4.4.2 at the message") << S::Message << none << "421 4.4.2 Timeout\r\n"_ba << none
                                              << Kind::Timeout << u"waiting too long"_s << u"421 4.4.2 Timeout"_s;
    QTest::newRow("421 4.7.0 at the greeting")
        << S::Greeting << none << "421 4.7.0 Too many connections\r\n"_ba << none << Kind::Refused
        << u"127.0.0.1:8025 is not taking connections now; try again later. Too many connections."_s
        << u"421 4.7.0 Too many connections"_s;
    QTest::newRow("421 without text") << S::Hello << none << "421\r\n"_ba << none << Kind::Refused
                                      << u"try again later."_s << u"421"_s;
    QTest::newRow("REG 553") << S::Register << u"Bad Name"_s << "553 5.1.3 Invalid username\r\n"_ba << none
                             << Kind::Invalid << u"cannot be used"_s << u"553 5.1.3 Invalid username"_s;
    QTest::newRow("REG 550 5.1.0") << S::Register << u"bob"_s << "550 5.1.0 Username already taken\r\n"_ba << none
                                   << Kind::Invalid << u"already taken"_s << u"550 5.1.0 Username already taken"_s;
    QTest::newRow("REG 550 5.7.1 weak password")
        << S::Register << u"bob"_s << "550 5.7.1 Password too weak\r\n"_ba << none << Kind::Refused
        << u"Password too weak."_s << u"550 5.7.1 Password too weak"_s;
    QTest::newRow("REG 550 5.7.1 closed")
        << S::Register << u"bob"_s << "550 5.7.1 Registration is closed\r\n"_ba << none << Kind::Refused
        << u"Registration is closed."_s << u"550 5.7.1 Registration is closed"_s;
    QTest::newRow("REG 550 5.7.1 without text")
        << S::Register << u"bob"_s << "550 5.7.1\r\n"_ba << none << Kind::Refused << u"create the account"_s
        << u"550 5.7.1"_s;
    QTest::newRow("REG 450") << S::Register << u"bob"_s << "450 4.7.1 Too many registrations, try later\r\n"_ba
                             << none << Kind::Throttled << u"try again later"_s
                             << u"450 4.7.1 Too many registrations, try later"_s;
    QTest::newRow("REG 501 bad base64") << S::Register << u"bob"_s << "501 5.5.4 Invalid base64\r\n"_ba << none
                                        << Kind::Refused << u"Invalid base64."_s << u"501 5.5.4 Invalid base64"_s;
    QTest::newRow("GETUSER 550") << S::LookUp << u"nobody"_s << "550 5.1.1 No such user\r\n"_ba << none
                                 << Kind::NotFound << u"no such user"_s << u"550 5.1.1 No such user"_s;
    QTest::newRow("MAIL 553") << S::MailFrom << u"boss@project.com"_s
                              << "553 5.7.1 Sender address not owned by you\r\n"_ba << none << Kind::Refused
                              << u"send as that address"_s << u"553 5.7.1 Sender address not owned by you"_s;
    QTest::newRow("MAIL 552") << S::MailFrom << u"user@project.com"_s
                              << "552 5.3.4 Message size exceeds fixed limit\r\n"_ba << none << Kind::Refused
                              << u"too big"_s << u"552 5.3.4 Message size exceeds fixed limit"_s;
    QTest::newRow("MAIL 530 after AUTH") << S::MailFrom << u"user@project.com"_s
                                         << "530 5.7.0 Authentication required\r\n"_ba << none << Kind::Protocol
                                         << u"already given"_s << u"530 5.7.0 Authentication required"_s;
    QTest::newRow("RCPT 550 5.1.1") << S::RcptTo << u"nobody@project.com"_s << "550 5.1.1 No such user here\r\n"_ba
                                    << none << Kind::NotFound << u"There is no account nobody@project.com."_s
                                    << u"550 5.1.1 No such user here"_s;
    QTest::newRow("RCPT 550 5.7.1") << S::RcptTo << u"bob@example.org"_s
                                    << "550 5.7.1 no such recipient exists (relaying denied)\r\n"_ba << none
                                    << Kind::Refused << u"bob@example.org is outside this mail system"_s
                                    << u"550 5.7.1 no such recipient exists (relaying denied)"_s;
    QTest::newRow("RCPT 452") << S::RcptTo << u"bob@project.com"_s << "452 4.5.3 Too many recipients\r\n"_ba << none
                              << Kind::Refused << u"Too many recipients"_s << u"452 4.5.3 Too many recipients"_s;
    QTest::newRow("DATA 503") << S::Data << none << "503 5.5.1 No valid recipients\r\n"_ba << none << Kind::Refused
                              << u"No valid recipients."_s << u"503 5.5.1 No valid recipients"_s;
    QTest::newRow("message 552") << S::Message << none << "552 5.3.4 Message too big\r\n"_ba << none
                                 << Kind::Refused << u"too big"_s << u"552 5.3.4 Message too big"_s;
    QTest::newRow("message 550 5.6.0") << S::Message << none << "550 5.6.0 Bare CR in data\r\n"_ba << none
                                       << Kind::Refused << u"format: Bare CR in data."_s
                                       << u"550 5.6.0 Bare CR in data"_s;
    QTest::newRow("message 550 5.7.1") << S::Message << none
                                       << "550 5.7.1 From: header not owned by the sender\r\n"_ba << none
                                       << Kind::Refused << u"From address"_s
                                       << u"550 5.7.1 From: header not owned by the sender"_s;
    QTest::newRow("message 451") << S::Message << none << "451 4.3.0 Storage failed\r\n"_ba << none
                                 << Kind::ServerError << u"try again later"_s << u"451 4.3.0 Storage failed"_s;
    QTest::newRow("message 452") << S::Message << none << "452 4.3.1 Insufficient system storage\r\n"_ba << none
                                 << Kind::ServerError << u"disk"_s << u"452 4.3.1 Insufficient system storage"_s;
    QTest::newRow("multi-line reply") << S::Greeting << none << "554-5.3.2 No service\r\n554 5.3.2 go away\r\n"_ba
                                      << none << Kind::Refused << u"No service go away."_s
                                      << u"554 5.3.2 No service go away"_s;
    QTest::newRow("bare 554 at the greeting") << S::Greeting << none << "554\r\n"_ba << none << Kind::Refused
                                              << u"refused"_s << u"554"_s;
    QTest::newRow("4xx elsewhere") << S::Hello << none << "451 4.3.2 System not accepting network messages\r\n"_ba
                                   << none << Kind::Refused << u"try again later"_s
                                   << u"451 4.3.2 System not accepting network messages"_s;

    QTest::newRow("malformed reply") << S::MailFrom << u"user@project.com"_s << QByteArray()
                                     << u"the server sent something that is not an SMTP reply: \"hello\""_s
                                     << Kind::Protocol << u"does not understand"_s
                                     << u"the server sent something that is not an SMTP reply: \"hello\""_s;
    QTest::newRow("no STARTTLS offered") << S::StartTls << none << "250 mx.project.com\r\n"_ba
                                         << u"the server does not offer STARTTLS"_s << Kind::Protocol
                                         << u"encryption"_s
                                         << u"the server does not offer STARTTLS: 250 mx.project.com"_s;
    QTest::newRow("data after the STARTTLS reply")
        << S::StartTls << none << "220 2.0.0 Ready to start TLS\r\n"_ba
        << u"the server sent data after its STARTTLS reply"_s << Kind::Protocol << u"nothing was sent"_s
        << u"the server sent data after its STARTTLS reply: 220 2.0.0 Ready to start TLS"_s;
    QTest::newRow("data after the STARTTLS reply, seen by the socket")
        << S::StartTls << none << QByteArray() << u"the server sent data after its STARTTLS reply"_s
        << Kind::Protocol << u"127.0.0.1:8025"_s << u"the server sent data after its STARTTLS reply"_s;
}

void TestClientError::fromSmtp()
{
    QFETCH(SmtpStage, stage);
    QFETCH(QString, argument);
    QFETCH(QByteArray, reply);
    QFETCH(QString, protocolError);
    QFETCH(ClientError::Kind, kind);
    QFETCH(QString, says);
    QFETCH(QString, detail);

    const std::optional<SmtpReply> parsed = parseReply(reply);
    QCOMPARE(parsed.has_value(), !reply.isEmpty());
    const ClientError error = ClientError::fromSmtp({stage, argument, parsed, protocolError}, smtpServer);

    QCOMPARE(kindName(error.kind), kindName(kind));
    QVERIFY2(error.message.contains(says, Qt::CaseInsensitive), qPrintable(error.message));
    QCOMPARE(error.detail, detail);
    QCOMPARE(error.server, smtpServer);
    QVERIFY(error.presentedFingerprint.isEmpty());
    const QStringList codes = parsed ? QStringList{QString::number(parsed->code), parsed->enhanced} : QStringList{};
    const QString problem = sentenceProblem(error.message, codes, argument);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(error.toString(), error.message + u" ("_s + detail + u')');
}

void TestClientError::fromSocket_data()
{
    QTest::addColumn<QAbstractSocket::SocketError>("socketError");
    QTest::addColumn<QString>("systemText");
    QTest::addColumn<ServerEndpoint>("server");
    QTest::addColumn<ClientError::Kind>("kind");
    QTest::addColumn<QString>("says");
    QTest::addColumn<QString>("detail");

    using Kind = ClientError::Kind;
    using E = QAbstractSocket;
    const ServerEndpoint v6{u"::1"_s, 8025};
    const ServerEndpoint named{u"mail.example.org"_s, 587};

    QTest::newRow("refused") << E::ConnectionRefusedError << u"Connection refused"_s << smtpServer
                             << Kind::Unreachable << u"Cannot reach the server at 127.0.0.1:8025"_s
                             << u"Connection refused"_s;
    QTest::newRow("refused, IPv6") << E::ConnectionRefusedError << u"Connection refused"_s << v6 << Kind::Unreachable
                                   << u"Cannot reach the server at [::1]:8025"_s << u"Connection refused"_s;
    QTest::newRow("host not found") << E::HostNotFoundError << u"Host not found"_s << named << Kind::Unreachable
                                    << u"mail.example.org:587"_s << u"Host not found"_s;
    QTest::newRow("network unreachable") << E::NetworkError << u"Network unreachable"_s << smtpServer
                                         << Kind::Unreachable << u"127.0.0.1:8025"_s << u"Network unreachable"_s;
    QTest::newRow("remote closed") << E::RemoteHostClosedError << u"The remote host closed the connection"_s
                                   << smtpServer << Kind::ConnectionLost << u"closed the connection"_s
                                   << u"The remote host closed the connection"_s;
    QTest::newRow("timeout") << E::SocketTimeoutError << u"Socket operation timed out"_s << smtpServer
                             << Kind::Timeout << u"127.0.0.1:8025 did not answer in time"_s << QString();
    QTest::newRow("SSL handshake") << E::SslHandshakeFailedError << u"The host name did not match"_s << smtpServer
                                   << Kind::Untrusted << u"secure connection"_s << u"The host name did not match"_s;
    QTest::newRow("SSL internal") << E::SslInternalError << u"OpenSSL error"_s << smtpServer << Kind::Untrusted
                                  << u"127.0.0.1:8025"_s << u"OpenSSL error"_s;
    QTest::newRow("other") << E::DatagramTooLargeError << u"whatever"_s << smtpServer << Kind::ConnectionLost
                           << u"127.0.0.1:8025"_s << u"whatever"_s;
}

void TestClientError::fromSocket()
{
    QFETCH(QAbstractSocket::SocketError, socketError);
    QFETCH(QString, systemText);
    QFETCH(ServerEndpoint, server);
    QFETCH(ClientError::Kind, kind);
    QFETCH(QString, says);
    QFETCH(QString, detail);

    const ClientError error = ClientError::fromSocket(socketError, systemText, server);
    QCOMPARE(kindName(error.kind), kindName(kind));
    QVERIFY2(error.message.contains(says), qPrintable(error.message));
    QVERIFY2(error.message.contains(server.toString()), qPrintable(error.message));
    QCOMPARE(error.detail, detail);
    QCOMPARE(error.server, server);
    const QString problem = sentenceProblem(error.message, {});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestClientError::fromHttp_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("serverMessage");
    QTest::addColumn<int>("retryAfter");
    QTest::addColumn<bool>("loggingIn");
    QTest::addColumn<ClientError::Kind>("kind");
    QTest::addColumn<QString>("message"); // exactly, or with a leading '~' contained
    QTest::addColumn<QString>("detail");

    using Kind = ClientError::Kind;

    QTest::newRow("401 logging in") << 401 << u"unauthorized"_s << u"Invalid credentials"_s << 0 << true
                                    << Kind::WrongCredentials << u"~user name or password is wrong"_s
                                    << u"HTTP 401 unauthorized: Invalid credentials"_s;
    QTest::newRow("401 with a token") << 401 << u"unauthorized"_s << u"Token expired"_s << 0 << false
                                      << Kind::SessionExpired << u"~log in again"_s
                                      << u"HTTP 401 unauthorized: Token expired"_s;
    QTest::newRow("429 Retry-After") << 429 << u"too_many_requests"_s << u"Too many failed logins"_s << 42 << true
                                     << Kind::Throttled << u"~42 s"_s
                                     << u"HTTP 429 too_many_requests: Too many failed logins"_s;
    QTest::newRow("429 without Retry-After") << 429 << u"too_many_requests"_s << u"Too many failed logins"_s << 0
                                             << true << Kind::Throttled << u"~later"_s
                                             << u"HTTP 429 too_many_requests: Too many failed logins"_s;
    QTest::newRow("404") << 404 << u"not_found"_s << u"No such message"_s << 0 << false << Kind::NotFound
                         << u"~no longer exists"_s << u"HTTP 404 not_found: No such message"_s;
    QTest::newRow("400 keeps the server's sentence")
        << 400 << u"bad_request"_s << u"A password has 8 to 128 characters."_s << 0 << false << Kind::Invalid
        << u"A password has 8 to 128 characters."_s << u"HTTP 400 bad_request: A password has 8 to 128 characters."_s;
    QTest::newRow("400 without a message") << 400 << u"bad_request"_s << QString() << 0 << false << Kind::Invalid
                                           << u"The server refused the request."_s << u"HTTP 400 bad_request: "_s;
    QTest::newRow("408") << 408 << u"timeout"_s << u"Request timeout"_s << 0 << false << Kind::Timeout
                         << u"~127.0.0.1:9999 did not answer in time"_s << QString();
    QTest::newRow("413") << 413 << u"too_large"_s << u"Body too large"_s << 0 << false << Kind::Refused
                         << u"~too large"_s << u"HTTP 413 too_large: Body too large"_s;
    QTest::newRow("415") << 415 << u"unsupported_media_type"_s << u"Use JSON"_s << 0 << false << Kind::Refused
                         << u"The server refused the request."_s
                         << u"HTTP 415 unsupported_media_type: Use JSON"_s;
    QTest::newRow("500") << 500 << u"internal"_s << u"Internal error"_s << 0 << false << Kind::ServerError
                         << u"~127.0.0.1:9999 had an internal error"_s << u"HTTP 500 internal: Internal error"_s;
    QTest::newRow("503") << 503 << u"internal"_s << u"Service unavailable"_s << 0 << false << Kind::ServerError
                         << u"~try again later"_s << u"HTTP 503 internal: Service unavailable"_s;
}

void TestClientError::fromHttp()
{
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, serverMessage);
    QFETCH(int, retryAfter);
    QFETCH(bool, loggingIn);
    QFETCH(ClientError::Kind, kind);
    QFETCH(QString, message);
    QFETCH(QString, detail);

    const ClientError error = ClientError::fromHttp(status, code, serverMessage, retryAfter, loggingIn, webServer);
    QCOMPARE(kindName(error.kind), kindName(kind));
    if (message.startsWith(u'~'))
        QVERIFY2(error.message.contains(message.mid(1)), qPrintable(error.message));
    else
        QCOMPARE(error.message, message);
    QCOMPARE(error.detail, detail);
    QCOMPARE(error.server, webServer);
    const QString problem = sentenceProblem(error.message, {QString::number(status)});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestClientError::fromNetwork_data()
{
    QTest::addColumn<QNetworkReply::NetworkError>("networkError");
    QTest::addColumn<ClientError::Kind>("kind");
    QTest::addColumn<QString>("says");
    QTest::addColumn<bool>("keepsSystemText");

    using Kind = ClientError::Kind;
    using N = QNetworkReply;

    QTest::newRow("ConnectionRefused") << N::ConnectionRefusedError << Kind::Unreachable
                                       << u"Cannot reach the server at 127.0.0.1:9999"_s << true;
    QTest::newRow("HostNotFound") << N::HostNotFoundError << Kind::Unreachable
                                  << u"Cannot find the server 127.0.0.1:9999"_s << true;
    QTest::newRow("TemporaryNetworkFailure") << N::TemporaryNetworkFailureError << Kind::Unreachable
                                             << u"127.0.0.1:9999"_s << true;
    QTest::newRow("OperationCanceled") << N::OperationCanceledError << Kind::Timeout
                                       << u"127.0.0.1:9999 did not answer in time"_s << false;
    QTest::newRow("Timeout") << N::TimeoutError << Kind::Timeout << u"did not answer in time"_s << false;
    QTest::newRow("RemoteHostClosed") << N::RemoteHostClosedError << Kind::ConnectionLost
                                      << u"closed the connection"_s << true;
    QTest::newRow("SslHandshakeFailed") << N::SslHandshakeFailedError << Kind::Untrusted << u"secure connection"_s
                                        << true;
    QTest::newRow("ProtocolFailure") << N::ProtocolFailure << Kind::Protocol << u"does not understand"_s << true;
}

void TestClientError::fromNetwork()
{
    QFETCH(QNetworkReply::NetworkError, networkError);
    QFETCH(ClientError::Kind, kind);
    QFETCH(QString, says);
    QFETCH(bool, keepsSystemText);

    const QString systemText = u"system says no"_s;
    const ClientError error = ClientError::fromNetwork(networkError, systemText, webServer);
    QCOMPARE(kindName(error.kind), kindName(kind));
    QVERIFY2(error.message.contains(says), qPrintable(error.message));
    QVERIFY2(error.message.contains(u"127.0.0.1:9999"_s), qPrintable(error.message));
    QCOMPARE(error.detail, keepsSystemText ? systemText : QString());
    QCOMPARE(error.server, webServer);
    const QString problem = sentenceProblem(error.message, {});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestClientError::certificateChanged()
{
    const QString pinned = u"AA:BB:CC:DD"_s;
    const QString presented = u"11:22:33:44"_s;
    const ClientError error = ClientError::certificateChanged(webServer, pinned, presented);
    QCOMPARE(kindName(error.kind), kindName(ClientError::Kind::CertificateChanged));
    QCOMPARE(error.presentedFingerprint, presented);
    QCOMPARE(error.pinnedFingerprint, pinned);
    QVERIFY2(error.detail.contains(pinned), qPrintable(error.detail));
    QVERIFY2(error.detail.contains(presented), qPrintable(error.detail));
    QVERIFY2(error.detail.indexOf(pinned) < error.detail.indexOf(presented), qPrintable(error.detail));
    QVERIFY2(error.message.contains(u"127.0.0.1:9999"_s), qPrintable(error.message));
    QCOMPARE(error.server, webServer);
    const QString problem = sentenceProblem(error.message, {});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(error.toString(), error.message + u" ("_s + error.detail + u')');
}

void TestClientError::certificateUnknown()
{
    const QString presented = u"11:22:33:44"_s;
    const ClientError error = ClientError::certificateUnknown(smtpServer, presented);
    QCOMPARE(kindName(error.kind), kindName(ClientError::Kind::CertificateUnknown));
    QCOMPARE(error.presentedFingerprint, presented);
    QVERIFY(error.pinnedFingerprint.isEmpty());
    QVERIFY2(error.detail.contains(presented), qPrintable(error.detail));
    QVERIFY2(error.message.contains(u"127.0.0.1:8025"_s), qPrintable(error.message));
    QVERIFY2(error.message.contains(u"sent nothing"_s), qPrintable(error.message));
    QCOMPARE(error.server, smtpServer);
    const QString problem = sentenceProblem(error.message, {});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestClientError::untrusted()
{
    const ClientError error = ClientError::untrusted(smtpServer, u"The certificate is self-signed, and untrusted"_s);
    QCOMPARE(kindName(error.kind), kindName(ClientError::Kind::Untrusted));
    QCOMPARE(error.detail, u"The certificate is self-signed, and untrusted"_s);
    QVERIFY2(error.message.contains(u"127.0.0.1:8025"_s), qPrintable(error.message));
    QVERIFY(error.presentedFingerprint.isEmpty());
    const QString problem = sentenceProblem(error.message, {});
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestClientError::timeoutAndInvalid()
{
    const ClientError timeout = ClientError::timeout(ServerEndpoint{u"::1"_s, 9999});
    QCOMPARE(kindName(timeout.kind), kindName(ClientError::Kind::Timeout));
    QCOMPARE(timeout.message, u"The server at [::1]:9999 did not answer in time."_s);
    QCOMPARE(timeout.detail, QString());

    const ClientError invalid = ClientError::invalid(u"Enter at least one recipient."_s);
    QCOMPARE(kindName(invalid.kind), kindName(ClientError::Kind::Invalid));
    QCOMPARE(invalid.message, u"Enter at least one recipient."_s);
    QCOMPARE(invalid.detail, QString());
    QCOMPARE(invalid.server, ServerEndpoint());
}

void TestClientError::toStringJoins_data()
{
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("detail");
    QTest::addColumn<QString>("expected");

    QTest::newRow("with detail") << u"The user name or password is wrong."_s
                                 << u"535 5.7.8 Authentication credentials invalid"_s
                                 << u"The user name or password is wrong. (535 5.7.8 Authentication credentials invalid)"_s;
    QTest::newRow("without detail") << u"The server did not answer in time."_s << QString()
                                    << u"The server did not answer in time."_s;
}

void TestClientError::toStringJoins()
{
    QFETCH(QString, message);
    QFETCH(QString, detail);
    QFETCH(QString, expected);

    ClientError error;
    error.message = message;
    error.detail = detail;
    QCOMPARE(error.toString(), expected);
}

QTEST_APPLESS_MAIN(TestClientError)
#include "tst_clienterror.moc"
