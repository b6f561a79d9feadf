// SmtpDialogue as scripted conversations, the SMTP dialogue from the
// client's side (docs/protocol/client.md §2): send, PING, REG, GETUSER;
// failure at every stage; STARTTLS downgrade and injection; the server's
// SIZE (RFC 1870) and a message over it; and the DATA payload (RFC 5321
// §4.5.2) with its size.
//
// A script is a list of lines:
//   "S: reply"   the server sends reply + CRLF
//   "S< bytes"   the server sends the bytes as they are
//   "E:"         the TLS handshake finished: encrypted()
//   "C: line"    the dialogue asks to send line + CRLF (next in what it asked for)
//   "C< bytes"   the dialogue asks to send exactly these bytes
//   "T:"         the dialogue asked to start TLS
//   "F:"         the dialogue said the result is final
//   "X:"         the dialogue asked to close the connection
//   "!: what"    the dialogue failed: "Stage [argument] reply", plus
//                " + protocol error" when it was one, " + over SIZE n" when
//                the message is larger than the server's SIZE n
//   "!~ word"    the protocol error's text contains word (case-insensitive)
// Whatever the dialogue asks for must be matched by C:/T:/F:/X:/! lines
// before the next S: or E: line and at the end: nothing more, nothing less.
// Each script runs with each S: chunk in one received(), with one chunk split
// in two at every byte boundary (each chunk and boundary in turn), and with
// every chunk fed one byte at a time; before a chunk's last byte the dialogue
// must not do anything.

#include "smtpclient.h"
#include "smtpdialogue.h"

#include <QTest>

#include <functional>

using namespace Qt::StringLiterals;

namespace {

const QByteArray helo = "[127.0.0.1]"_ba;

// "\0user\0pass" (RFC 4616) and "user\0pass" (REG) in base64, worked out by hand
const QByteArray authPlain = "AHVzZXIAcGFzcw=="_ba;
const QByteArray regArgument = "dXNlcgBwYXNz"_ba;

const QByteArray message = "Subject: hello\r\n\r\n.signature\nend"_ba;
// message as dataPayload() must make it: the leading dot doubled, LF made CRLF,
// the last line ended, the terminator added; 39 bytes
const QByteArray payload = "Subject: hello\r\n\r\n..signature\r\nend\r\n.\r\n"_ba;

const QByteArray ehloPlain = "250-mx.project.com\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n"
                             "250-ENHANCEDSTATUSCODES\r\n250 STARTTLS\r\n"_ba;
const QByteArray ehloTls = "250-mx.project.com\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n"
                           "250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"_ba;

QString stageName(SmtpStage stage)
{
    switch (stage) {
    case SmtpStage::Connect: return u"Connect"_s;
    case SmtpStage::Greeting: return u"Greeting"_s;
    case SmtpStage::Hello: return u"Hello"_s;
    case SmtpStage::StartTls: return u"StartTls"_s;
    case SmtpStage::Handshake: return u"Handshake"_s;
    case SmtpStage::Auth: return u"Auth"_s;
    case SmtpStage::Register: return u"Register"_s;
    case SmtpStage::LookUp: return u"LookUp"_s;
    case SmtpStage::Ping: return u"Ping"_s;
    case SmtpStage::MailFrom: return u"MailFrom"_s;
    case SmtpStage::RcptTo: return u"RcptTo"_s;
    case SmtpStage::Data: return u"Data"_s;
    case SmtpStage::Message: return u"Message"_s;
    case SmtpStage::Quit: return u"Quit"_s;
    }
    return u"?"_s;
}

QString describe(const SmtpFailure &failure)
{
    QString out = stageName(failure.stage) + u" ["_s + failure.argument + u"] "_s
        + (failure.reply ? failure.reply->toString() : u"-"_s);
    if (!failure.protocolError.isEmpty())
        out += u" + protocol error"_s;
    if (failure.isOverSizeLimit())
        out += u" + over SIZE %1"_s.arg(failure.sizeLimit);
    return out;
}

// The steps SmtpClient::send() gives the dialogue (smtpclient.cpp).
QList<SmtpStep> sendSteps(const QString &sender, const QStringList &recipients, const QByteArray &data)
{
    QList<SmtpStep> steps;
    steps.append({SmtpStage::MailFrom,
                  "MAIL FROM:<" + sender.toUtf8() + "> SIZE=" + QByteArray::number(data.size()), 250, sender, false});
    for (const QString &recipient : recipients)
        steps.append({SmtpStage::RcptTo, "RCPT TO:<" + recipient.toUtf8() + '>', 250, recipient, false});
    steps.append({SmtpStage::Data, "DATA"_ba, 354, {}, false});
    steps.append({SmtpStage::Message, {}, 250, {}, false});
    return steps;
}

SmtpDialogue makeDialogue(const QString &kind)
{
    if (kind == u"send") {
        const QByteArray data = SmtpDialogue::dataPayload(message);
        return SmtpDialogue(QString::fromLatin1(helo), u"user"_s, u"pass"_s,
                            sendSteps(u"user@project.com"_s, {u"bob@project.com"_s, u"dave@example.org"_s}, data),
                            data);
    }
    if (kind == u"ping")
        return SmtpDialogue(QString::fromLatin1(helo), {}, {}, {{SmtpStage::Ping, "PING"_ba, 250, {}, false}});
    if (kind == u"reg")
        return SmtpDialogue(QString::fromLatin1(helo), {}, {},
                            {{SmtpStage::Register, "REG " + regArgument, 250, u"user"_s, true}});
    if (kind == u"getuser")
        return SmtpDialogue(QString::fromLatin1(helo), u"user"_s, u"pass"_s,
                            {{SmtpStage::LookUp, "GETUSER bob"_ba, 250, u"bob"_s, false}});
    qFatal("unknown dialogue kind");
}

// How the server's chunk number `index` reaches the dialogue.
using Cutter = std::function<QList<QByteArray>(int index, const QByteArray &chunk)>;

struct Outcome
{
    QString mismatch; // empty when the dialogue did exactly what the script says
    bool finished = false;
    QString result;
};

Outcome runScript(const QString &kind, const QByteArrayList &script, const Cutter &cut)
{
    SmtpDialogue dialogue = makeDialogue(kind);
    Outcome outcome;
    QByteArray send;
    bool startTls = false;
    bool finished = false;
    bool close = false;
    std::optional<SmtpFailure> failure;     // until matched by a "!:" line
    std::optional<SmtpFailure> lastFailure; // for "!~" lines
    QString failureSeen;
    int failures = 0;
    int chunkIndex = 0;

    const auto take = [&](const SmtpDialogue::Events &events) {
        send += events.send;
        startTls = startTls || events.startTls;
        finished = finished || events.finished;
        close = close || events.close;
        if (events.failure) {
            ++failures;
            failure = events.failure;
            lastFailure = events.failure;
            failureSeen = describe(*events.failure);
        }
    };
    const auto leftOver = [&]() -> QString {
        QStringList left;
        if (!send.isEmpty())
            left << u"send \"%1\""_s.arg(QString::fromUtf8(send));
        if (startTls)
            left << u"startTls"_s;
        if (finished)
            left << u"finished"_s;
        if (close)
            left << u"close"_s;
        if (failure)
            left << u"failure %1"_s.arg(failureSeen);
        return left.join(u", "_s);
    };

    for (qsizetype i = 0; i < script.size(); ++i) {
        const QByteArray &line = script.at(i);
        const QByteArray tag = line.left(2);
        const QByteArray body = line.mid(3);
        const QString where = u"script line %1 (%2)"_s.arg(i).arg(QString::fromUtf8(line.left(60)));
        // "S!": bytes the dialogue must refuse as soon as it sees any of them.
        if (tag == "S:" || tag == "S<" || tag == "S!" || tag == "E:") {
            if (const QString left = leftOver(); !left.isEmpty()) {
                outcome.mismatch = u"before %1 the dialogue also did: %2"_s.arg(where, left);
                return outcome;
            }
            if (tag == "E:") {
                take(dialogue.encrypted());
                continue;
            }
            const QByteArray chunk = tag == "S:" ? body + "\r\n" : body;
            const QList<QByteArray> pieces = cut(chunkIndex++, chunk);
            for (qsizetype k = 0; k < pieces.size(); ++k) {
                const SmtpDialogue::Events events = dialogue.received(pieces.at(k));
                if (tag == "S!" && events.failure) {
                    take(events);
                    break;
                }
                if (k + 1 < pieces.size()
                    && (!events.send.isEmpty() || events.startTls || events.finished || events.close || events.failure)) {
                    outcome.mismatch = u"at %1 the dialogue acted on piece %2 of %3, before the reply was complete"_s
                                           .arg(where).arg(k + 1).arg(pieces.size());
                    return outcome;
                }
                take(events);
            }
        } else if (tag == "C:" || tag == "C<") {
            const QByteArray expected = tag == "C:" ? body + "\r\n" : body;
            if (!send.startsWith(expected)) {
                outcome.mismatch = u"at %1 the dialogue asks to send \"%2\""_s.arg(where, QString::fromUtf8(send));
                return outcome;
            }
            send.remove(0, expected.size());
        } else if (tag == "T:" || tag == "F:" || tag == "X:") {
            bool &flag = tag == "T:" ? startTls : tag == "F:" ? finished : close;
            if (!flag) {
                outcome.mismatch = u"at %1 the dialogue did not raise the flag"_s.arg(where);
                return outcome;
            }
            flag = false;
        } else if (tag == "!:") {
            if (!failure || failureSeen != QString::fromUtf8(body)) {
                outcome.mismatch = u"at %1 the failure is \"%2\""_s.arg(where, failure ? failureSeen : u"none"_s);
                return outcome;
            }
            failure.reset();
        } else if (tag == "!~") {
            if (!lastFailure || !lastFailure->protocolError.contains(QString::fromUtf8(body), Qt::CaseInsensitive)) {
                outcome.mismatch = u"at %1 the protocol error is \"%2\""_s.arg(
                    where, lastFailure ? lastFailure->protocolError : u"none"_s);
                return outcome;
            }
        } else {
            qFatal("bad script line");
        }
    }
    if (const QString left = leftOver(); !left.isEmpty()) {
        outcome.mismatch = u"after the script the dialogue also did: %1"_s.arg(left);
        return outcome;
    }
    if (failures > 1) {
        outcome.mismatch = u"the dialogue failed %1 times"_s.arg(failures);
        return outcome;
    }
    outcome.finished = dialogue.isFinished();
    outcome.result = dialogue.result().toString();
    return outcome;
}

QList<QByteArray> whole(int, const QByteArray &chunk)
{
    return {chunk};
}

QList<QByteArray> bytewise(int, const QByteArray &chunk)
{
    QList<QByteArray> pieces;
    for (char c : chunk)
        pieces.append(QByteArray(1, c));
    return pieces;
}

int chunkCount(const QByteArrayList &script)
{
    return int(std::count_if(script.cbegin(), script.cend(),
                             [](const QByteArray &line) { return line.startsWith("S:") || line.startsWith("S<"); }));
}

qsizetype chunkSize(const QByteArrayList &script, int index)
{
    int seen = 0;
    for (const QByteArray &line : script) {
        if (line.startsWith("S:") || line.startsWith("S<")) {
            if (seen++ == index)
                return line.startsWith("S:") ? line.size() - 3 + 2 : line.size() - 3;
        }
    }
    return 0;
}

// Greeting, EHLO, STARTTLS, handshake, EHLO again: the dialogue has just asked for the second EHLO.
QByteArrayList toTls()
{
    return {"S: 220 mx.project.com ESMTP Mailroom"_ba,
            "C: EHLO [127.0.0.1]"_ba,
            "S< "_ba + ehloPlain,
            "C: STARTTLS"_ba,
            "S: 220 2.0.0 Ready to start TLS"_ba,
            "T:"_ba,
            "E:"_ba,
            "C: EHLO [127.0.0.1]"_ba};
}

// ... then the AUTH PLAIN of user/pass, answered 235.
QByteArrayList toAuthenticated()
{
    return toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: AUTH PLAIN "_ba + authPlain,
                                    "S: 235 2.7.0 Authentication successful"_ba};
}

QByteArrayList quit()
{
    return {"C: QUIT"_ba, "X:"_ba};
}

} // namespace

class TestSmtpDialogue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void conversation_data();
    void conversation();
    void startTlsInjection_data();
    void startTlsInjection();
    void bytesWhileWaitingForTls_data();
    void bytesWhileWaitingForTls();
    void authPlainEncoding_data();
    void authPlainEncoding();
    void heloName();
    void replyBeforeItsCommand();
    void logNeverShowsCredentials();
    void dataPayload_data();
    void dataPayload();
    void maxMessageSize_data();
    void maxMessageSize();
    void overSizeLimitNamesBothSizes();
    void payloadEventIsMarked();
    void dataSize_data();
    void dataSize();
};

void TestSmtpDialogue::conversation_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArrayList>("script");
    QTest::addColumn<QString>("result"); // the dialogue's result() at the end; only checked when finished

    const QByteArrayList mailFrom = toAuthenticated() + QByteArrayList{"C: MAIL FROM:<user@project.com> SIZE=39"_ba};
    const QByteArrayList rcptBob = mailFrom + QByteArrayList{"S: 250 2.1.0 OK"_ba, "C: RCPT TO:<bob@project.com>"_ba};
    const QByteArrayList rcptDave = rcptBob + QByteArrayList{"S: 250 2.1.5 OK"_ba, "C: RCPT TO:<dave@example.org>"_ba};
    const QByteArrayList data = rcptDave + QByteArrayList{"S: 250 2.1.5 OK"_ba, "C: DATA"_ba};
    const QByteArrayList sent = data + QByteArrayList{"S: 354 End data with <CR><LF>.<CR><LF>"_ba, "C< "_ba + payload};

    QTest::newRow("send") << u"send"_s
                          << sent + QByteArrayList{"S: 250 2.0.0 OK: queued as 7"_ba, "C: QUIT"_ba, "F:"_ba,
                                                   "S: 221 2.0.0 Bye"_ba, "X:"_ba}
                          << u"250 2.0.0 OK: queued as 7"_s;
    QTest::newRow("send, 251 to RCPT")
        << u"send"_s
        << rcptDave + QByteArrayList{"S: 251 2.1.5 User not local; will forward"_ba, "C: DATA"_ba,
                                     "S: 354 go ahead"_ba, "C< "_ba + payload, "S: 250 2.0.0 OK: queued as 8"_ba,
                                     "C: QUIT"_ba, "F:"_ba, "S: 221 2.0.0 Bye"_ba, "X:"_ba}
        << u"250 2.0.0 OK: queued as 8"_s;
    QTest::newRow("send, the reply to QUIT does not matter")
        << u"send"_s
        << sent + QByteArrayList{"S: 250 2.0.0 OK: queued as 9"_ba, "C: QUIT"_ba, "F:"_ba, "S: 500 5.5.2 what?"_ba,
                                 "X:"_ba, "S: 221 2.0.0 Bye"_ba}
        << u"250 2.0.0 OK: queued as 9"_s;
    // RFC 1870: the message (39 bytes) against the SIZE the server announced
    // over TLS. Over it, MAIL FROM is never sent; at it, or with no fixed
    // limit, the message goes. A plaintext EHLO's SIZE counts for nothing.
    const auto ehloTlsWithSize = [](const QByteArray &size) -> QByteArray {
        return "S< 250-mx.project.com\r\n250-PIPELINING\r\n250-"_ba + size
            + "\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n"_ba;
    };
    const QByteArrayList authenticatedTail{"C: AUTH PLAIN "_ba + authPlain, "S: 235 2.7.0 Authentication successful"_ba};
    const QByteArrayList sendsAll{"C: MAIL FROM:<user@project.com> SIZE=39"_ba, "S: 250 2.1.0 OK"_ba,
                                  "C: RCPT TO:<bob@project.com>"_ba, "S: 250 2.1.5 OK"_ba,
                                  "C: RCPT TO:<dave@example.org>"_ba, "S: 250 2.1.5 OK"_ba, "C: DATA"_ba,
                                  "S: 354 go ahead"_ba, "C< "_ba + payload, "S: 250 2.0.0 OK: queued as 10"_ba,
                                  "C: QUIT"_ba, "F:"_ba, "S: 221 2.0.0 Bye"_ba, "X:"_ba};
    QTest::newRow("send, one byte over the server's SIZE: no MAIL FROM")
        << u"send"_s
        << toTls() + QByteArrayList{ehloTlsWithSize("SIZE 38")} + authenticatedTail
               + QByteArrayList{"!: MailFrom [user@project.com] - + over SIZE 38"_ba} + quit()
               + QByteArrayList{"S: 221 2.0.0 Bye"_ba}
        << QString();
    QTest::newRow("send, SIZE in lower case and far over")
        << u"send"_s
        << toTls() + QByteArrayList{ehloTlsWithSize("size 10")} + authenticatedTail
               + QByteArrayList{"!: MailFrom [user@project.com] - + over SIZE 10"_ba} + quit()
        << QString();
    QTest::newRow("send, exactly the server's SIZE")
        << u"send"_s << toTls() + QByteArrayList{ehloTlsWithSize("SIZE 39")} + authenticatedTail + sendsAll
        << u"250 2.0.0 OK: queued as 10"_s;
    QTest::newRow("send, SIZE 0: no fixed limit")
        << u"send"_s << toTls() + QByteArrayList{ehloTlsWithSize("SIZE 0")} + authenticatedTail + sendsAll
        << u"250 2.0.0 OK: queued as 10"_s;
    QTest::newRow("send, SIZE without a number: no fixed limit")
        << u"send"_s << toTls() + QByteArrayList{ehloTlsWithSize("SIZE")} + authenticatedTail + sendsAll
        << u"250 2.0.0 OK: queued as 10"_s;
    QTest::newRow("send, a small SIZE before TLS only counts for nothing")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S< 250-mx.project.com\r\n250-SIZE 5\r\n250 STARTTLS\r\n"_ba, "C: STARTTLS"_ba,
                          "S: 220 2.0.0 Ready to start TLS"_ba, "T:"_ba, "E:"_ba, "C: EHLO [127.0.0.1]"_ba,
                          ehloTlsWithSize("SIZE 26214400")}
               + authenticatedTail + sendsAll
        << u"250 2.0.0 OK: queued as 10"_s;
    // LF-only lines, and no SIZE in the EHLO: MAIL goes without SIZE= (RFC 1870).
    QTest::newRow("send, LF-only server without SIZE")
        << u"send"_s
        << QByteArrayList{"S< 220 mx.project.com ESMTP\n"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S< 250-mx.project.com\n250 STARTTLS\n"_ba, "C: STARTTLS"_ba, "S< 220 go\n"_ba, "T:"_ba,
                          "E:"_ba, "C: EHLO [127.0.0.1]"_ba, "S< 250 AUTH PLAIN\n"_ba,
                          "C: AUTH PLAIN "_ba + authPlain, "S< 235 ok\n"_ba,
                          "C: MAIL FROM:<user@project.com>"_ba, "S< 250 ok\n"_ba,
                          "C: RCPT TO:<bob@project.com>"_ba, "S< 250 ok\n"_ba, "C: RCPT TO:<dave@example.org>"_ba,
                          "S< 250 ok\n"_ba, "C: DATA"_ba, "S< 354 go\n"_ba, "C< "_ba + payload,
                          "S< 250 queued\n"_ba, "C: QUIT"_ba, "F:"_ba, "S< 221 bye\n"_ba, "X:"_ba}
        << u"250 queued"_s;
    QTest::newRow("send, STARTTLS advertised in lower case")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S< 250-mx.project.com\r\n250 starttls\r\n"_ba, "C: STARTTLS"_ba}
        << QString();

    QTest::newRow("ping")
        << u"ping"_s
        << toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: PING"_ba, "S: 250 2.0.0 PONG"_ba, "C: QUIT"_ba, "F:"_ba,
                                    "S: 221 2.0.0 Bye"_ba, "X:"_ba}
        << u"250 2.0.0 PONG"_s;
    QTest::newRow("reg")
        << u"reg"_s
        << toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: REG "_ba + regArgument,
                                    "S: 250 2.0.0 Account user@project.com created"_ba, "C: QUIT"_ba, "F:"_ba,
                                    "S: 221 2.0.0 Bye"_ba, "X:"_ba}
        << u"250 2.0.0 Account user@project.com created"_s;
    QTest::newRow("getuser")
        << u"getuser"_s
        << toAuthenticated() + QByteArrayList{"C: GETUSER bob"_ba, "S: 250 2.1.5 17 bob@project.com"_ba, "C: QUIT"_ba,
                                              "F:"_ba, "S: 221 2.0.0 Bye"_ba, "X:"_ba}
        << u"250 2.1.5 17 bob@project.com"_s;

    // Failures, stage by stage: the server's reply, a polite QUIT, close.
    QTest::newRow("greeting 554")
        << u"send"_s
        << QByteArrayList{"S: 554 5.3.2 No service here"_ba, "!: Greeting [] 554 5.3.2 No service here"_ba}
               + quit() + QByteArrayList{"S: 221 2.0.0 Bye"_ba}
        << QString();
    QTest::newRow("greeting 421: no QUIT")
        << u"send"_s
        << QByteArrayList{"S: 421 4.7.0 Too many connections"_ba, "!: Greeting [] 421 4.7.0 Too many connections"_ba,
                          "X:"_ba}
        << QString();
    QTest::newRow("first EHLO 501")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S: 501 5.5.4 Invalid domain"_ba, "!: Hello [] 501 5.5.4 Invalid domain"_ba}
               + quit()
        << QString();
    QTest::newRow("first EHLO without STARTTLS: nothing more sent")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S< 250-mx.project.com\r\n250-SIZE 26214400\r\n250 AUTH PLAIN LOGIN\r\n"_ba,
                          "!: StartTls [] 250 mx.project.com SIZE 26214400 AUTH PLAIN LOGIN + protocol error"_ba,
                          "!~ STARTTLS"_ba, "X:"_ba, "S: 235 2.7.0 Authentication successful"_ba}
        << QString();
    QTest::newRow("first EHLO single line without STARTTLS")
        << u"reg"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S: 250 mx.project.com"_ba, "!: StartTls [] 250 mx.project.com + protocol error"_ba, "X:"_ba}
        << QString();
    QTest::newRow("STARTTLS only inside another keyword")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba,
                          "S< 250-mx.project.com\r\n250 X-STARTTLS\r\n"_ba,
                          "!: StartTls [] 250 mx.project.com X-STARTTLS + protocol error"_ba, "X:"_ba}
        << QString();
    QTest::newRow("STARTTLS 454")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba, "S< "_ba + ehloPlain,
                          "C: STARTTLS"_ba, "S: 454 4.7.0 TLS not available"_ba,
                          "!: StartTls [] 454 4.7.0 TLS not available"_ba}
               + quit()
        << QString();
    QTest::newRow("STARTTLS 503")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba, "S< "_ba + ehloPlain,
                          "C: STARTTLS"_ba, "S: 503 5.5.1 Already in TLS"_ba,
                          "!: StartTls [] 503 5.5.1 Already in TLS"_ba}
               + quit()
        << QString();
    QTest::newRow("reply while waiting for TLS")
        << u"send"_s
        << QByteArrayList{"S: 220 mx.project.com ESMTP Mailroom"_ba, "C: EHLO [127.0.0.1]"_ba, "S< "_ba + ehloPlain,
                          "C: STARTTLS"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T:"_ba,
                          "S! 250 2.0.0 hello again\r\n"_ba, "!: StartTls [] - + protocol error"_ba,
                          "X:"_ba, "E:"_ba}
        << QString();
    QTest::newRow("second EHLO 421 4.4.2: no QUIT")
        << u"send"_s << toTls() + QByteArrayList{"S: 421 4.4.2 Timeout"_ba, "!: Hello [] 421 4.4.2 Timeout"_ba, "X:"_ba}
        << QString();
    QTest::newRow("second EHLO 550")
        << u"send"_s << toTls() + QByteArrayList{"S: 550 5.7.1 No"_ba, "!: Hello [] 550 5.7.1 No"_ba} + quit()
        << QString();
    QTest::newRow("AUTH 535")
        << u"send"_s
        << toTls()
               + QByteArrayList{"S< "_ba + ehloTls, "C: AUTH PLAIN "_ba + authPlain,
                                "S: 535 5.7.8 Authentication credentials invalid"_ba,
                                "!: Auth [user] 535 5.7.8 Authentication credentials invalid"_ba}
               + quit() + QByteArrayList{"S: 221 2.0.0 Bye"_ba}
        << QString();
    QTest::newRow("AUTH 454")
        << u"getuser"_s
        << toTls()
               + QByteArrayList{"S< "_ba + ehloTls, "C: AUTH PLAIN "_ba + authPlain,
                                "S: 454 4.7.0 Too many failed logins, try later"_ba,
                                "!: Auth [user] 454 4.7.0 Too many failed logins, try later"_ba}
               + quit()
        << QString();
    QTest::newRow("AUTH 421: no QUIT")
        << u"send"_s
        << toTls()
               + QByteArrayList{"S< "_ba + ehloTls, "C: AUTH PLAIN "_ba + authPlain,
                                "S: 421 4.7.0 Too many errors"_ba, "!: Auth [user] 421 4.7.0 Too many errors"_ba,
                                "X:"_ba}
        << QString();
    QTest::newRow("AUTH answered with a malformed reply: no QUIT")
        << u"send"_s
        << toTls()
               + QByteArrayList{"S< "_ba + ehloTls, "C: AUTH PLAIN "_ba + authPlain, "S: OK then"_ba,
                                "!: Auth [user] - + protocol error"_ba, "X:"_ba}
        << QString();
    QTest::newRow("MAIL 553")
        << u"send"_s
        << mailFrom + QByteArrayList{"S: 553 5.7.1 Sender address not owned by you"_ba,
                                     "!: MailFrom [user@project.com] 553 5.7.1 Sender address not owned by you"_ba}
               + quit()
        << QString();
    QTest::newRow("MAIL 552")
        << u"send"_s
        << mailFrom + QByteArrayList{"S: 552 5.3.4 Message size exceeds fixed limit"_ba,
                                     "!: MailFrom [user@project.com] 552 5.3.4 Message size exceeds fixed limit"_ba}
               + quit()
        << QString();
    QTest::newRow("MAIL 421 4.4.2: no QUIT")
        << u"send"_s
        << mailFrom + QByteArrayList{"S: 421 4.4.2 Timeout"_ba, "!: MailFrom [user@project.com] 421 4.4.2 Timeout"_ba,
                                     "X:"_ba}
        << QString();
    QTest::newRow("first RCPT 550 5.1.1")
        << u"send"_s
        << rcptBob + QByteArrayList{"S: 550 5.1.1 No such user here"_ba,
                                    "!: RcptTo [bob@project.com] 550 5.1.1 No such user here"_ba}
               + quit()
        << QString();
    QTest::newRow("second RCPT 550 5.7.1")
        << u"send"_s
        << rcptDave + QByteArrayList{"S: 550 5.7.1 no such recipient exists (relaying denied)"_ba,
                                     "!: RcptTo [dave@example.org] 550 5.7.1 no such recipient exists (relaying denied)"_ba}
               + quit()
        << QString();
    QTest::newRow("second RCPT 452")
        << u"send"_s
        << rcptDave + QByteArrayList{"S: 452 4.5.3 Too many recipients"_ba,
                                     "!: RcptTo [dave@example.org] 452 4.5.3 Too many recipients"_ba}
               + quit()
        << QString();
    QTest::newRow("DATA 503")
        << u"send"_s
        << data + QByteArrayList{"S: 503 5.5.1 No valid recipients"_ba, "!: Data [] 503 5.5.1 No valid recipients"_ba}
               + quit()
        << QString();
    QTest::newRow("DATA answered 250 instead of 354")
        << u"send"_s << data + QByteArrayList{"S: 250 2.0.0 OK"_ba, "!: Data [] 250 2.0.0 OK"_ba} + quit() << QString();
    QTest::newRow("message 552")
        << u"send"_s
        << sent + QByteArrayList{"S: 552 5.3.4 Message too big"_ba, "!: Message [] 552 5.3.4 Message too big"_ba}
               + quit()
        << QString();
    QTest::newRow("message 550 5.6.0")
        << u"send"_s
        << sent + QByteArrayList{"S: 550 5.6.0 Bare CR in data"_ba, "!: Message [] 550 5.6.0 Bare CR in data"_ba}
               + quit()
        << QString();
    QTest::newRow("message 451")
        << u"send"_s
        << sent + QByteArrayList{"S: 451 4.3.0 Storage failed"_ba, "!: Message [] 451 4.3.0 Storage failed"_ba}
               + quit()
        << QString();
    QTest::newRow("message 421: no QUIT")
        << u"send"_s
        << sent + QByteArrayList{"S: 421 4.3.2 Shutting down"_ba, "!: Message [] 421 4.3.2 Shutting down"_ba, "X:"_ba}
        << QString();
    QTest::newRow("message answered with mixed codes: no QUIT")
        << u"send"_s
        << sent + QByteArrayList{"S< 250-2.0.0 OK\r\n550 5.0.0 no\r\n"_ba, "!: Message [] - + protocol error"_ba,
                                 "!~ mixed"_ba, "X:"_ba}
        << QString();
    QTest::newRow("ping 500")
        << u"ping"_s
        << toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: PING"_ba, "S: 500 5.5.2 Command unrecognized"_ba,
                                    "!: Ping [] 500 5.5.2 Command unrecognized"_ba}
               + quit()
        << QString();
    QTest::newRow("reg 550 5.1.0")
        << u"reg"_s
        << toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: REG "_ba + regArgument,
                                    "S: 550 5.1.0 Username already taken"_ba,
                                    "!: Register [user] 550 5.1.0 Username already taken"_ba}
               + quit()
        << QString();
    QTest::newRow("reg 553")
        << u"reg"_s
        << toTls() + QByteArrayList{"S< "_ba + ehloTls, "C: REG "_ba + regArgument, "S: 553 5.1.3 Invalid username"_ba,
                                    "!: Register [user] 553 5.1.3 Invalid username"_ba}
               + quit()
        << QString();
    QTest::newRow("getuser 550")
        << u"getuser"_s
        << toAuthenticated() + QByteArrayList{"C: GETUSER bob"_ba, "S: 550 5.1.1 No such user"_ba,
                                              "!: LookUp [bob] 550 5.1.1 No such user"_ba}
               + quit()
        << QString();
}

void TestSmtpDialogue::conversation()
{
    QFETCH(QString, kind);
    QFETCH(QByteArrayList, script);
    QFETCH(QString, result);

    const bool completes = script.contains("F:"_ba);

    const Outcome once = runScript(kind, script, whole);
    QCOMPARE(once.mismatch, QString());
    QCOMPARE(once.finished, completes);
    if (completes)
        QCOMPARE(once.result, result);

    const Outcome slow = runScript(kind, script, bytewise);
    QCOMPARE(slow.mismatch, QString());
    QCOMPARE(slow.finished, completes);
    QCOMPARE(slow.result, once.result);

    const int chunks = chunkCount(script);
    for (int chunk = 0; chunk < chunks; ++chunk) {
        const qsizetype size = chunkSize(script, chunk);
        for (qsizetype at = 1; at < size; ++at) {
            const Outcome split = runScript(kind, script, [chunk, at](int index, const QByteArray &bytes) {
                return index == chunk ? QList<QByteArray>{bytes.left(at), bytes.mid(at)} : QList<QByteArray>{bytes};
            });
            if (!split.mismatch.isEmpty() || split.finished != completes || split.result != once.result)
                QFAIL(qPrintable(u"chunk %1 split at byte %2: %3"_s.arg(chunk).arg(at).arg(split.mismatch)));
        }
    }
}

// RFC 3207 §4 / CVE-2011-0411: bytes that come with the 220 to STARTTLS would
// be taken as if they had come over TLS. The dialogue must fail, never start
// TLS, and send nothing more (not even QUIT: the connection is compromised).
void TestSmtpDialogue::startTlsInjection_data()
{
    QTest::addColumn<QByteArray>("reply");

    QTest::newRow("a whole reply") << "220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected\r\n"_ba;
    QTest::newRow("a whole multi-line reply") << "220 2.0.0 Ready to start TLS\r\n250-AUTH PLAIN\r\n250 OK\r\n"_ba;
    QTest::newRow("a continuation line") << "220 2.0.0 Ready to start TLS\r\n250-injected\r\n"_ba;
    QTest::newRow("part of a line") << "220 2.0.0 Ready to start TLS\r\n250 inj"_ba;
    QTest::newRow("one byte") << "220 2.0.0 Ready to start TLS\r\n2"_ba;
    QTest::newRow("an empty line") << "220 2.0.0 Ready to start TLS\r\n\r\n"_ba;
    QTest::newRow("LF line ends") << "220 go\n250 injected\n"_ba;
}

void TestSmtpDialogue::startTlsInjection()
{
    QFETCH(QByteArray, reply);

    SmtpDialogue dialogue = makeDialogue(u"send"_s);
    QCOMPARE(dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send, "EHLO [127.0.0.1]\r\n"_ba);
    QCOMPARE(dialogue.received(ehloPlain).send, "STARTTLS\r\n"_ba);
    const SmtpDialogue::Events events = dialogue.received(reply);
    QVERIFY(!events.startTls);
    QVERIFY(events.failure);
    QCOMPARE(stageName(events.failure->stage), u"StartTls"_s);
    QVERIFY(events.failure->reply);
    QCOMPARE(events.failure->reply->code, 220);
    QVERIFY(!events.failure->protocolError.isEmpty());
    QCOMPARE(events.send, QByteArray());
    QVERIFY(events.close);
    QVERIFY(!events.finished);
    // nothing afterwards either
    const SmtpDialogue::Events after = dialogue.encrypted();
    QCOMPARE(after.send, QByteArray());
    QVERIFY(!after.startTls && !after.close && !after.failure);
    QVERIFY(!dialogue.isFinished());
}

// After startTls and before encrypted(), whatever the server sends is
// plaintext that must never be read as part of the encrypted conversation:
// kept in the reply buffer, it would become the start of the first reply
// read over TLS (the EHLO answer).
void TestSmtpDialogue::bytesWhileWaitingForTls_data()
{
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("a whole reply") << "250 2.0.0 hello\r\n"_ba;
    QTest::newRow("a continuation line") << "250-AUTH PLAIN\r\n"_ba;
    QTest::newRow("part of a line") << "250-AUTH PL"_ba;
}

void TestSmtpDialogue::bytesWhileWaitingForTls()
{
    QFETCH(QByteArray, bytes);

    SmtpDialogue dialogue = makeDialogue(u"send"_s);
    QCOMPARE(dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send, "EHLO [127.0.0.1]\r\n"_ba);
    QCOMPARE(dialogue.received(ehloPlain).send, "STARTTLS\r\n"_ba);
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);

    const SmtpDialogue::Events events = dialogue.received(bytes);
    QVERIFY2(events.failure, "plaintext after the STARTTLS 220 was accepted");
    QVERIFY(events.close);
    QCOMPARE(events.send, QByteArray()); // no QUIT in clear text either
    QCOMPARE(dialogue.encrypted().send, QByteArray());
}

// Commands go one at a time: a second reply in the same read answers nothing
// yet asked, so it must not be taken for the reply to the next command.
void TestSmtpDialogue::replyBeforeItsCommand()
{
    SmtpDialogue dialogue(QString::fromLatin1(helo), u"user"_s, u"pass"_s,
                          {{SmtpStage::LookUp, "GETUSER bob"_ba, 250, u"bob"_s, false}});
    QVERIFY(!dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send.isEmpty());
    QVERIFY(!dialogue.received(ehloPlain).send.isEmpty());
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QVERIFY(!dialogue.encrypted().send.isEmpty());
    QVERIFY(dialogue.received(ehloTls).send.startsWith("AUTH PLAIN "));
    const SmtpDialogue::Events events = dialogue.received("235 2.7.0 ok\r\n250 2.1.5 1 bob@project.com\r\n"_ba);
    QVERIFY(events.failure.has_value());
    QVERIFY(!events.failure->protocolError.isEmpty());
    QVERIFY(!events.send.contains("GETUSER")); // nothing more goes to such a server, not even QUIT
    QVERIFY(events.close);
    QVERIFY(!events.finished);
    QVERIFY(!dialogue.isFinished());
}

// The wire log of every event is built with the command, so a credential
// never shows, also when the dialogue fails in the same read.
void TestSmtpDialogue::logNeverShowsCredentials()
{
    SmtpDialogue dialogue(QString::fromLatin1(helo), u"user"_s, u"pass"_s, {{SmtpStage::Register, "REG dXNlcgBwYXNz"_ba, 250, u"user"_s, true}});
    QByteArrayList log;
    const auto take = [&log](const SmtpDialogue::Events &events) {
        log += events.log;
        return events;
    };
    take(dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba));
    take(dialogue.received(ehloPlain));
    QVERIFY(take(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba)).startTls);
    take(dialogue.encrypted());
    const SmtpDialogue::Events auth = take(dialogue.received(ehloTls));
    QVERIFY(auth.send.startsWith("AUTH PLAIN AHVzZXIAcGFzcw=="));
    const SmtpDialogue::Events reg = take(dialogue.received("235 2.7.0 ok\r\n"_ba));
    QCOMPARE(reg.send, "REG dXNlcgBwYXNz\r\n"_ba);
    const SmtpDialogue::Events failed = take(dialogue.received("550 5.1.0 Username already taken\r\n"_ba));
    QVERIFY(failed.failure.has_value());
    const QByteArray all = log.join('\n');
    QVERIFY2(!all.contains("AHVzZXIAcGFzcw==") && !all.contains("dXNlcgBwYXNz"), all.constData());
    QVERIFY2(all.contains("AUTH PLAIN <redacted>") && all.contains("REG <redacted>") && all.contains("QUIT"), all.constData());
}

void TestSmtpDialogue::authPlainEncoding_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QByteArray>("base64"); // worked out outside Qt

    QTest::newRow("user/pass") << u"user"_s << u"pass"_s << "AHVzZXIAcGFzcw=="_ba;
    QTest::newRow("spaces") << u"alice"_s << u"correct horse"_s << "AGFsaWNlAGNvcnJlY3QgaG9yc2U="_ba;
    QTest::newRow("UTF-8") << u"j\u00f6rg"_s << u"p\u00e4ss w\u00f6rd"_s << "AGrDtnJnAHDDpHNzIHfDtnJk"_ba;
}

void TestSmtpDialogue::authPlainEncoding()
{
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(QByteArray, base64);

    SmtpDialogue dialogue(QString::fromLatin1(helo), username, password,
                          {{SmtpStage::LookUp, "GETUSER bob"_ba, 250, u"bob"_s, false}});
    QVERIFY(!dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send.isEmpty());
    QVERIFY(!dialogue.received(ehloPlain).send.isEmpty());
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QCOMPARE(dialogue.encrypted().send, "EHLO [127.0.0.1]\r\n"_ba);
    const SmtpDialogue::Events events = dialogue.received(ehloTls);
    QCOMPARE(events.send, "AUTH PLAIN " + base64 + "\r\n");
    QCOMPARE(QByteArray::fromBase64(base64), '\0' + username.toUtf8() + '\0' + password.toUtf8());

    // the wire log shows the command without the credential
    const SmtpStep *step = dialogue.currentStep();
    QVERIFY(step);
    QCOMPARE(stageName(step->stage), u"Auth"_s);
    QVERIFY(step->secret);
    const QByteArray logged = dialogue.loggableCommand(*step);
    QCOMPARE(logged, "AUTH PLAIN <redacted>"_ba);
    QVERIFY(!logged.contains(base64));
    QVERIFY(!logged.contains(password.toUtf8()));

    // and every other step of the conversation is shown as it is sent
    QCOMPARE(dialogue.received("235 2.7.0 Authentication successful\r\n"_ba).send, "GETUSER bob\r\n"_ba);
    QVERIFY(dialogue.currentStep());
    QCOMPARE(dialogue.loggableCommand(*dialogue.currentStep()), "GETUSER bob"_ba);

    // REG carries the credential as its argument
    const SmtpStep reg{SmtpStage::Register, "REG " + regArgument, 250, u"user"_s, true};
    QCOMPARE(dialogue.loggableCommand(reg), "REG <redacted>"_ba);
    const SmtpStep ping{SmtpStage::Ping, "PING"_ba, 250, {}, false};
    QCOMPARE(dialogue.loggableCommand(ping), "PING"_ba);
}

void TestSmtpDialogue::heloName()
{
    SmtpDialogue dialogue(QString(), {}, {}, {{SmtpStage::Ping, "PING"_ba, 250, {}, false}});
    dialogue.setHeloName(u"[IPv6:::1]"_s);
    QCOMPARE(dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send, "EHLO [IPv6:::1]\r\n"_ba);
    QCOMPARE(dialogue.received(ehloPlain).send, "STARTTLS\r\n"_ba);
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QCOMPARE(dialogue.encrypted().send, "EHLO [IPv6:::1]\r\n"_ba);
    QCOMPARE(dialogue.received(ehloTls).send, "PING\r\n"_ba);
}

void TestSmtpDialogue::dataPayload_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("plain") << "Subject: x\r\n\r\nhello\r\n"_ba << "Subject: x\r\n\r\nhello\r\n.\r\n"_ba;
    QTest::newRow("dot at the very start") << ".hidden\r\nline\r\n"_ba << "..hidden\r\nline\r\n.\r\n"_ba;
    QTest::newRow("dots after CRLF") << "a\r\n.b\r\n..c\r\n"_ba << "a\r\n..b\r\n...c\r\n.\r\n"_ba;
    QTest::newRow("dot inside a line is left") << "a.b\r\n x.\r\n"_ba << "a.b\r\n x.\r\n.\r\n"_ba;
    QTest::newRow("bare LF") << "a\nb\n"_ba << "a\r\nb\r\n.\r\n"_ba;
    QTest::newRow("bare LF before a dot") << "a\n.b"_ba << "a\r\n..b\r\n.\r\n"_ba;
    QTest::newRow("bare CR") << "a\rb\r"_ba << "a\r\nb\r\n.\r\n"_ba;
    QTest::newRow("bare CR before a dot") << "a\r.\rb"_ba << "a\r\n..\r\nb\r\n.\r\n"_ba;
    QTest::newRow("CR CR LF") << "a\r\r\nb"_ba << "a\r\n\r\nb\r\n.\r\n"_ba;
    QTest::newRow("LF CR") << "a\n\rb"_ba << "a\r\n\r\nb\r\n.\r\n"_ba;
    QTest::newRow("no trailing newline") << "hello"_ba << "hello\r\n.\r\n"_ba;
    QTest::newRow("empty message") << QByteArray() << ".\r\n"_ba;
    QTest::newRow("only a line end") << "\r\n"_ba << "\r\n.\r\n"_ba;
    QTest::newRow("terminator inside content") << "a\r\n.\r\nQUIT\r\n"_ba << "a\r\n..\r\nQUIT\r\n.\r\n"_ba;
    QTest::newRow("smuggling variants") << "a\n.\nMAIL FROM:<x>\r.\r"_ba
                                        << "a\r\n..\r\nMAIL FROM:<x>\r\n..\r\n.\r\n"_ba;
    QTest::newRow("a line that is just a dot") << "."_ba << "..\r\n.\r\n"_ba;
    QTest::newRow("a line that is just a dot, ended") << ".\r\n"_ba << "..\r\n.\r\n"_ba;
    QTest::newRow("ends with a dot line") << "body\r\n."_ba << "body\r\n..\r\n.\r\n"_ba;
    QTest::newRow("empty lines") << "\r\n\r\n\n\n"_ba << "\r\n\r\n\r\n\r\n.\r\n"_ba;
    QTest::newRow("8-bit and NUL pass through") << "h\xc3\xa9\0z"_ba << "h\xc3\xa9\0z\r\n.\r\n"_ba;
}

void TestSmtpDialogue::dataPayload()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, expected);

    const QByteArray out = SmtpDialogue::dataPayload(message);
    QCOMPARE(out, expected);

    // Whatever the input: it ends the data exactly once, at the end ...
    if (message.isEmpty())
        QCOMPARE(out, ".\r\n"_ba);
    else
        QVERIFY(out.endsWith("\r\n.\r\n"));
    const QByteArray body = out.chopped(3); // without ".\r\n"
    QVERIFY(!body.contains("\r\n.\r\n"));
    QVERIFY(!body.startsWith(".\r\n"));
    // ... every CR is followed by LF and every LF preceded by CR ...
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out.at(i) == '\r')
            QVERIFY2(i + 1 < out.size() && out.at(i + 1) == '\n', qPrintable(u"bare CR at %1"_s.arg(i)));
        if (out.at(i) == '\n')
            QVERIFY2(i > 0 && out.at(i - 1) == '\r', qPrintable(u"bare LF at %1"_s.arg(i)));
    }
    // ... and a server that undoes dot-stuffing gets the message back, with CRLF line ends.
    QByteArray normalised = message;
    normalised.replace("\r\n", "\n").replace('\r', '\n');
    if (!normalised.isEmpty() && !normalised.endsWith('\n'))
        normalised += '\n';
    QByteArray unstuffed;
    const QList<QByteArray> lines = body.split('\n');
    for (qsizetype i = 0; i + 1 < lines.size(); ++i) { // the last piece is empty (after the final LF)
        QByteArray line = lines.at(i).chopped(1); // the CR
        if (line.startsWith('.'))
            line.remove(0, 1);
        unstuffed += line + '\n';
    }
    QCOMPARE(unstuffed, normalised);
    // RFC 1870 §6: SIZE= is that message with CRLF line ends, no stuffing, no terminator.
    QByteArray crlf = normalised;
    crlf.replace("\n", "\r\n");
    QCOMPARE(SmtpDialogue::messageSize(out), qint64(crlf.size()));
}

void TestSmtpDialogue::maxMessageSize_data()
{
    QTest::addColumn<QByteArray>("ehlo");     // the EHLO reply over TLS
    QTest::addColumn<qint64>("expected");

    QTest::newRow("25 MiB") << ehloTls << qint64(26214400);
    QTest::newRow("no SIZE") << "250-mx.project.com\r\n250 AUTH PLAIN\r\n"_ba << qint64(0);
    QTest::newRow("SIZE 0") << "250-mx.project.com\r\n250-SIZE 0\r\n250 AUTH PLAIN\r\n"_ba << qint64(0);
    QTest::newRow("SIZE alone") << "250-mx.project.com\r\n250-SIZE\r\n250 AUTH PLAIN\r\n"_ba << qint64(0);
    QTest::newRow("SIZE garbage") << "250-mx.project.com\r\n250-SIZE lots\r\n250 AUTH PLAIN\r\n"_ba << qint64(0);
    QTest::newRow("SIZE negative") << "250-mx.project.com\r\n250-SIZE -5\r\n250 AUTH PLAIN\r\n"_ba << qint64(0);
    QTest::newRow("more than 2^32") << "250-mx.project.com\r\n250-SIZE 10000000000\r\n250 AUTH PLAIN\r\n"_ba
                                    << qint64(10000000000);
    QTest::newRow("last line") << "250-mx.project.com\r\n250 SIZE 1000\r\n"_ba << qint64(1000);
}

// The SIZE of the EHLO over TLS, and only that one.
void TestSmtpDialogue::maxMessageSize()
{
    QFETCH(QByteArray, ehlo);
    QFETCH(qint64, expected);

    SmtpDialogue dialogue = makeDialogue(u"ping"_s);
    QVERIFY(!dialogue.maxMessageSize().has_value());
    QCOMPARE(dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send, "EHLO [127.0.0.1]\r\n"_ba);
    QCOMPARE(dialogue.received("250-mx.project.com\r\n250-SIZE 77\r\n250 STARTTLS\r\n"_ba).send, "STARTTLS\r\n"_ba);
    QVERIFY2(!dialogue.maxMessageSize().has_value(), "a plaintext EHLO's SIZE was taken");
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QCOMPARE(dialogue.encrypted().send, "EHLO [127.0.0.1]\r\n"_ba);
    QVERIFY(!dialogue.maxMessageSize().has_value());
    QCOMPARE(dialogue.received(ehlo).send, "PING\r\n"_ba);
    QCOMPARE(dialogue.maxMessageSize(), std::optional<qint64>(expected));
}

// What SmtpClient makes of the dialogue's refusal: a sentence with both sizes.
void TestSmtpDialogue::overSizeLimitNamesBothSizes()
{
    const QByteArray big(3 * 1024 * 1024, 'x');
    const QByteArray data = SmtpDialogue::dataPayload(big);
    SmtpDialogue dialogue(QString::fromLatin1(helo), u"user"_s, u"pass"_s,
                          sendSteps(u"user@project.com"_s, {u"bob@project.com"_s}, data), data);
    QVERIFY(!dialogue.received("220 mx.project.com ESMTP Mailroom\r\n"_ba).send.isEmpty());
    QVERIFY(!dialogue.received(ehloPlain).send.isEmpty());
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QVERIFY(!dialogue.encrypted().send.isEmpty());
    QVERIFY(dialogue.received("250-mx.project.com\r\n250-SIZE 2097152\r\n250 AUTH PLAIN\r\n"_ba).send.startsWith("AUTH"));
    const SmtpDialogue::Events events = dialogue.received("235 2.7.0 ok\r\n"_ba);
    QVERIFY(events.failure);
    QVERIFY(events.failure->isOverSizeLimit());
    QCOMPARE(events.failure->sizeLimit, qint64(2097152));
    QCOMPARE(events.failure->messageSize, qint64(data.size()));
    QCOMPARE(events.send, "QUIT\r\n"_ba); // the server did nothing wrong: a polite QUIT
    QVERIFY(events.close);
    QVERIFY(!events.message);
    QCOMPARE(DataSize::tooLargeMessage(events.failure->messageSize, events.failure->sizeLimit),
             u"The message is 3 MB; the server accepts at most 2 MB."_s);
}

void TestSmtpDialogue::payloadEventIsMarked()
{
    SmtpDialogue dialogue = makeDialogue(u"send"_s);
    QByteArrayList sent;
    const auto feed = [&](const QByteArray &bytes) {
        const SmtpDialogue::Events events = dialogue.received(bytes);
        if (events.message)
            sent.append(events.send);
        else
            QVERIFY(!events.send.startsWith("Subject"));
    };
    feed("220 mx.project.com ESMTP Mailroom\r\n"_ba);
    feed(ehloPlain);
    QVERIFY(dialogue.received("220 2.0.0 Ready to start TLS\r\n"_ba).startTls);
    QVERIFY(!dialogue.encrypted().message);
    for (const QByteArray &reply : {ehloTls, "235 2.7.0 ok\r\n"_ba, "250 2.1.0 OK\r\n"_ba, "250 2.1.5 OK\r\n"_ba,
                                    "250 2.1.5 OK\r\n"_ba, "354 go\r\n"_ba, "250 2.0.0 queued\r\n"_ba})
        feed(reply);
    QCOMPARE(sent, QByteArrayList{payload});
}

void TestSmtpDialogue::dataSize_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("text");

    QTest::newRow("0") << qint64(0) << u"0 bytes"_s;
    QTest::newRow("1") << qint64(1) << u"1 byte"_s;
    QTest::newRow("1023") << qint64(1023) << u"1023 bytes"_s;
    QTest::newRow("1 KB") << qint64(1024) << u"1 KB"_s;
    QTest::newRow("1.5 KB") << qint64(1536) << u"1.5 KB"_s;
    QTest::newRow("25 MB") << qint64(25 * 1024 * 1024) << u"25 MB"_s;
    QTest::newRow("27.4 MB") << qint64(28730982) << u"27.4 MB"_s;
    QTest::newRow("just under 1 MB") << qint64(1024 * 1024 - 1) << u"1024 KB"_s;
    QTest::newRow("3 GB") << qint64(3) * 1024 * 1024 * 1024 << u"3 GB"_s;
}

void TestSmtpDialogue::dataSize()
{
    QFETCH(qint64, bytes);
    QFETCH(QString, text);
    QCOMPARE(DataSize::format(bytes), text);
    // The sentence of a message over the limit; exact counts when both would read alike.
    QCOMPARE(DataSize::tooLargeMessage(28730982, 26214400), u"The message is 27.4 MB; the server accepts at most 25 MB."_s);
    QCOMPARE(DataSize::tooLargeMessage(26214401, 26214400),
             u"The message is 26214401 bytes; the server accepts at most 26214400 bytes."_s);
}

QTEST_APPLESS_MAIN(TestSmtpDialogue)
#include "tst_smtpdialogue.moc"
