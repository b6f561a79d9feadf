// SmtpSession against docs/protocol/smtp.md: every command row and failure,
// SMTP smuggling, STARTTLS injection and pipelining.
//
// Rows are scripted conversations run by SessionKit (tests/support/
// sessionkit.h: the C and S steps), one step a string:
//   "C: line"    the client sends line + CRLF
//   "C< bytes"   the client sends the bytes as they are
//   "S: reply"   the next reply: "250 2.1.0 OK" is compared exactly (code,
//                enhanced code, text); "503 5.5.1 ..." compares code and
//                enhanced code only; "250 * ..." the code only; "334 ..."
//                the code and that there is no enhanced code. "{id}" is the
//                queue id of the last delivery request.
//   "S? reply"   an optional reply: consumed when it matches
//   "L: user password -> Accepted 1|Rejected|Throttled|Unavailable"
//                the login request the session must have made, and its answer
//   "L? ..."     the same, when the session asks at all
//   "R: user password -> Created|Taken|RateLimited|Failed"   registration
//   "D: 1 -> 2,3 Stored|DiskFull|Failed|RecipientGone"       delivery
//                (sender id -> recipient ids)
//   "T: tls"     STARTTLS was asked for: the handshake is done
//   "X: timeout", "X: shutdown"   the connection's timer or the server stops
//   "X: data deadline"  the connection's deadline for DATA as a whole passed
//   "X: store down", "X: store up"  account look-ups fail (a database that
//                is down) or work again
//   "A: 1"       the session's account id (0: not authenticated)
// After the script no reply, no partial output and no request may be left.
// Each script runs twice: each C: step in one receive(), and byte by byte.
// message, smuggling and pipelining rows are one input from a stage on, fed
// in one receive(), in two at every byte boundary and byte by byte: each
// time the same replies and the same delivery request.

#include "smtpsession.h"
#include "fakesmtpdirectory.h"
#include "sessionkit.h"
#include "testbytes.h"

#include <QDateTime>
#include <QHash>
#include <QRandomGenerator>
#include <QSet>
#include <QRegularExpression>
#include <QTest>

#include <algorithm>
#include <cstdlib>

using TestBytes::printable;
using namespace Qt::StringLiterals;

// How far the session is brought before a row's script starts.
enum class Stage {
    Greeted,       // start(): the 220 greeting
    Ehlo,          // EHLO before-tls.example (implicit TLS: EHLO client.example)
    Tls,           // STARTTLS, tlsEstablished(), EHLO client.example
    Authenticated, // AUTH PLAIN as alice, answered Accepted with id 1
    Mail,          // MAIL FROM:<alice@project.com>
    Rcpt,          // RCPT TO:<bob@project.com>
};

Q_DECLARE_METATYPE(Stage)
Q_DECLARE_METATYPE(SmtpSessionSettings)

namespace {

QString clientAddress()
{
    return u"192.0.2.7"_s;
}

SmtpSessionSettings testSettings()
{
    SmtpSessionSettings settings;
    settings.hostname = u"mx.project.com"_s;
    return settings;
}

SmtpSessionSettings implicitTls()
{
    SmtpSessionSettings settings = testSettings();
    settings.implicitTls = true;
    return settings;
}

SmtpSessionSettings closedRegistration()
{
    SmtpSessionSettings settings = testSettings();
    settings.registration = Registration::Closed;
    return settings;
}

SmtpSessionSettings maxMessageBytes(qint64 bytes)
{
    SmtpSessionSettings settings = testSettings();
    settings.maxMessageBytes = bytes;
    return settings;
}

SmtpSessionSettings maxHeaderBytes(qint64 bytes)
{
    SmtpSessionSettings settings = testSettings();
    settings.maxHeaderBytes = bytes;
    return settings;
}

SmtpSessionSettings maxRecipients(int count)
{
    SmtpSessionSettings settings = testSettings();
    settings.maxRecipients = count;
    return settings;
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64();
}

QByteArray plain(const QByteArray &user, const QByteArray &password)
{
    return TestBytes::plainCredentials(user, password);
}

QByteArray alicePlain()
{
    return plain("alice"_ba, "alice-password"_ba);
}

// REG <base64("username\0password")>
QByteArray regArgument(const QByteArray &user, const QByteArray &password)
{
    return b64(user + '\0' + password);
}

bool isEnhancedCode(const QByteArray &token)
{
    static const QRegularExpression pattern(u"^[245]\\.[0-9]{1,3}\\.[0-9]{1,3}$"_s);
    return pattern.match(QString::fromLatin1(token)).hasMatch();
}

// One SMTP reply, possibly of several lines ("250-..." ... "250 ...").
struct Reply
{
    int code = 0; // -1: a line that is no reply line at all
    QByteArrayList lines; // the text after "250-" or "250 "
    QByteArray wire;

    // RFC 3463 / RFC 2034: "2.1.0" at the start of the text, if any.
    [[nodiscard]] QByteArray enhanced() const
    {
        const QByteArray first = lines.value(0);
        const qsizetype space = first.indexOf(' ');
        const QByteArray token = space < 0 ? first : first.left(space);
        return isEnhancedCode(token) ? token : QByteArray();
    }
    [[nodiscard]] QByteArray text() const
    {
        const QByteArray first = lines.value(0);
        const QByteArray code = enhanced();
        if (code.isEmpty())
            return first;
        return first.mid(code.size() + 1);
    }
};

// Compares a reply with a step's expectation ("250 2.1.0 OK", "503 5.5.1 ...",
// "250 * ..."); empty when it matches.
QString mismatch(const Reply &reply, const QByteArray &expected)
{
    const QByteArray code = expected.left(3);
    QByteArray rest = expected.mid(4);
    bool checkEnhanced = true;
    QByteArray enhanced;
    const qsizetype space = rest.indexOf(' ');
    const QByteArray token = space < 0 ? rest : rest.left(space);
    if (token == "*") {
        checkEnhanced = false;
        rest = space < 0 ? QByteArray() : rest.mid(space + 1);
    } else if (isEnhancedCode(token)) {
        enhanced = token;
        rest = space < 0 ? QByteArray() : rest.mid(space + 1);
    }
    const bool checkText = rest != "...";
    const bool same = reply.code == code.toInt()
        && (!checkEnhanced || reply.enhanced() == enhanced)
        && (!checkText || (reply.lines.size() == 1 && reply.text() == rest));
    if (same)
        return {};
    return u"expected \"%1\", got \"%2\""_s.arg(printable(expected), printable(reply.wire));
}

// Reads the session's output into replies, the units of the script's S
// steps; every line must end in CRLF.
class ReplyReader : public SessionKit::OutputReader
{
public:
    void add(const QByteArray &bytes) override
    {
        m_buffer += bytes;
        qsizetype lf = 0;
        while ((lf = m_buffer.indexOf('\n')) >= 0) {
            QByteArray line = m_buffer.left(lf + 1);
            m_buffer.remove(0, lf + 1);
            m_current.wire += line;
            bool ok = line.endsWith("\r\n");
            line.chop(ok ? 2 : 1);
            ok = ok && line.size() >= 3 && !line.contains('\r');
            for (qsizetype i = 0; ok && i < 3; ++i)
                ok = line.at(i) >= '0' && line.at(i) <= '9';
            const char separator = line.size() > 3 ? line.at(3) : ' ';
            const int code = ok ? line.left(3).toInt() : -1;
            ok = ok && (separator == ' ' || separator == '-')
                && (m_current.lines.isEmpty() || m_current.code == code);
            if (!ok) {
                replies.append(Reply{-1, {line}, m_current.wire});
                m_current = {};
                continue;
            }
            m_current.code = code;
            m_current.lines.append(line.mid(4));
            if (separator == ' ') {
                replies.append(m_current);
                m_current = {};
            }
        }
    }
    [[nodiscard]] bool isEmpty() const override { return replies.isEmpty(); }
    // "S: ", "S~ " and "S? " alike: as mismatch() reads the expectation.
    [[nodiscard]] QString mismatch(QByteArrayView, const QByteArray &expected) const override
    {
        return ::mismatch(replies.constFirst(), expected);
    }
    void removeFirst() override { replies.removeFirst(); }
    [[nodiscard]] QString unread() const override
    {
        QString all;
        for (const Reply &reply : replies)
            all += printable(reply.wire);
        return all;
    }
    [[nodiscard]] QByteArray unfinished() const override { return m_current.wire + m_buffer; }
    [[nodiscard]] QString unitName() const override { return u"reply"_s; }

    QList<Reply> replies; // read and not yet consumed

private:
    QByteArray m_buffer;
    Reply m_current;
};

QString describe(const SmtpRequest &request)
{
    if (const auto *login = std::get_if<SmtpLoginRequest>(&request))
        return u"login(%1, %2)"_s.arg(login->username, login->password);
    if (const auto *registration = std::get_if<SmtpRegisterRequest>(&request))
        return u"registration(%1, %2)"_s.arg(registration->username, registration->password);
    const auto &delivery = std::get<SmtpDeliveryRequest>(request);
    QStringList recipients;
    for (const qint64 id : delivery.recipientIds)
        recipients << QString::number(id);
    return u"delivery(%1 -> %2, \"%3\")"_s.arg(QString::number(delivery.senderId), recipients.join(u','),
                                               printable(delivery.message));
}

// "user password -> Outcome" of L: and R: steps.
struct RequestStep
{
    QString user;
    QString password;
    QByteArray outcome;
    QByteArray argument; // the account id after "Accepted"
};

RequestStep parseRequestStep(const QByteArray &step)
{
    const qsizetype arrow = step.lastIndexOf(" -> ");
    const QByteArray who = step.left(arrow);
    const qsizetype space = who.indexOf(' ');
    const QByteArrayList outcome = step.mid(arrow + 4).split(' ');
    return {QString::fromUtf8(who.left(space)), QString::fromUtf8(who.mid(space + 1)), outcome.value(0),
            outcome.value(1)};
}

// Plays the connection: feeds bytes, collects replies, serves requests
// (SessionKit's driver for SmtpSession, with the L: R: D: T: X: A: steps).
class Driver : public SessionKit::Driver
{
public:
    explicit Driver(const SmtpSessionSettings &settings)
        : session(settings, &directory, clientAddress())
    {
        variables.insert("id"_ba, QByteArray());
    }

    void start()
    {
        session.start();
        collect();
    }

    SessionKit::OutputReader &output() override { return reader; }
    QByteArray takeOutput() override { return session.takeOutput(); }

    // Like the connection, drops what the client sent after STARTTLS was
    // asked for and before the handshake (only reachable byte by byte: in
    // one receive() the session itself must not execute it).
    void receive(QByteArrayView bytes) override
    {
        if (session.startTlsRequested() && !tlsDone)
            return;
        session.receive(bytes);
    }

    QString step(QByteArrayView kind, const QByteArray &argument) override
    {
        if (kind == "L: " || kind == "L? ")
            return loginStep(argument, kind == "L? ");
        if (kind == "R: ")
            return registrationStep(argument);
        if (kind == "D: ")
            return deliveryStep(argument);
        if (kind == "T: ")
            return tlsStep();
        if (kind == "X: ") {
            if (argument == "timeout")
                session.timedOut();
            else if (argument == "shutdown")
                session.shuttingDown();
            else if (argument == "data deadline")
                session.dataTimedOut();
            else if (argument == "store down" || argument == "store up")
                directory.unavailable = argument == "store down";
            else
                return SessionKit::badStep();
            collect();
            return {};
        }
        if (kind == "A: ") {
            if (session.accountId() != argument.toLongLong())
                return u"accountId() is %1"_s.arg(session.accountId());
            return {};
        }
        return SessionKit::badStep();
    }

    QString pending() override
    {
        if (const std::optional<SmtpRequest> request = session.takeRequest())
            return u"an unexpected request: "_s + describe(*request);
        return {};
    }

    // For whole conversations: every login is accepted with the account's
    // id, every registration created, every message stored.
    void answerAll()
    {
        for (int i = 0; i < 1000; ++i) {
            std::optional<SmtpRequest> request = session.takeRequest();
            if (!request)
                return;
            if (const auto *login = std::get_if<SmtpLoginRequest>(&*request)) {
                logins.append(*login);
                session.loginFinished(LoginOutcome::Accepted, directory.accountId(login->username).value_or(0));
            } else if (const auto *registration = std::get_if<SmtpRegisterRequest>(&*request)) {
                registrations.append(*registration);
                session.registrationFinished(RegisterOutcome::Created);
            } else {
                deliveries.append(std::get<SmtpDeliveryRequest>(*request));
                session.deliveryFinished(DeliveryOutcome::Stored);
            }
            collect();
        }
    }

    FakeSmtpDirectory directory;
    SmtpSession session;
    ReplyReader reader;
    bool tlsDone = false;
    QList<SmtpLoginRequest> logins;
    QList<SmtpRegisterRequest> registrations;
    QList<SmtpDeliveryRequest> deliveries;

private:
    QString loginStep(const QByteArray &argument, bool optional)
    {
        const RequestStep expected = parseRequestStep(argument);
        std::optional<SmtpRequest> request = session.takeRequest();
        if (!request && optional)
            return {};
        if (!request)
            return u"no request"_s;
        const auto *login = std::get_if<SmtpLoginRequest>(&*request);
        if (!login)
            return u"expected a login request, got "_s + describe(*request);
        if (login->username != expected.user || login->password != expected.password)
            return u"got "_s + describe(*request);
        if (expected.outcome == "Accepted")
            session.loginFinished(LoginOutcome::Accepted, expected.argument.toLongLong());
        else if (expected.outcome == "Rejected")
            session.loginFinished(LoginOutcome::Rejected);
        else if (expected.outcome == "Throttled")
            session.loginFinished(LoginOutcome::Throttled);
        else if (expected.outcome == "Unavailable")
            session.loginFinished(LoginOutcome::Unavailable);
        else
            return SessionKit::badStep();
        collect();
        return {};
    }

    QString registrationStep(const QByteArray &argument)
    {
        const RequestStep expected = parseRequestStep(argument);
        std::optional<SmtpRequest> request = session.takeRequest();
        if (!request)
            return u"no request"_s;
        const auto *registration = std::get_if<SmtpRegisterRequest>(&*request);
        if (!registration)
            return u"expected a registration request, got "_s + describe(*request);
        if (registration->username != expected.user || registration->password != expected.password)
            return u"got "_s + describe(*request);
        if (expected.outcome == "Created")
            session.registrationFinished(RegisterOutcome::Created);
        else if (expected.outcome == "Taken")
            session.registrationFinished(RegisterOutcome::Taken);
        else if (expected.outcome == "RateLimited")
            session.registrationFinished(RegisterOutcome::RateLimited);
        else if (expected.outcome == "Failed")
            session.registrationFinished(RegisterOutcome::Failed);
        else
            return SessionKit::badStep();
        collect();
        return {};
    }

    // "1 -> 2,3 Stored": sender id -> recipient ids, and the answer.
    QString deliveryStep(const QByteArray &argument)
    {
        const QByteArrayList parts = argument.split(' ');
        if (parts.size() != 4 || parts.at(1) != "->")
            return SessionKit::badStep();
        QList<qint64> recipients;
        for (const QByteArray &id : parts.at(2).split(','))
            recipients << id.toLongLong();
        std::optional<SmtpRequest> request = session.takeRequest();
        if (!request)
            return u"no request"_s;
        const auto *delivery = std::get_if<SmtpDeliveryRequest>(&*request);
        if (!delivery)
            return u"expected a delivery request, got "_s + describe(*request);
        if (delivery->senderId != parts.at(0).toLongLong() || delivery->recipientIds != recipients)
            return u"got "_s + describe(*request);
        if (delivery->queueId.isEmpty())
            return u"the delivery request has no queue id"_s;
        if (!delivery->message.startsWith("Return-Path: <alice@project.com>\r\nReceived: "))
            return u"the message does not start with Return-Path: and our Received: header: "_s + describe(*request);
        variables.insert("id"_ba, delivery->queueId.toUtf8());
        deliveries.append(*delivery);
        const QByteArray outcome = parts.at(3);
        if (outcome == "Stored")
            session.deliveryFinished(DeliveryOutcome::Stored);
        else if (outcome == "DiskFull")
            session.deliveryFinished(DeliveryOutcome::DiskFull);
        else if (outcome == "Failed")
            session.deliveryFinished(DeliveryOutcome::Failed);
        else if (outcome == "RecipientGone")
            session.deliveryFinished(DeliveryOutcome::RecipientGone);
        else
            return SessionKit::badStep();
        collect();
        return {};
    }

    QString tlsStep()
    {
        if (!reader.replies.isEmpty())
            return u"replies before the handshake: \"%1\""_s.arg(printable(reader.replies.constFirst().wire));
        if (!session.startTlsRequested())
            return u"startTlsRequested() is false"_s;
        if (session.isEncrypted())
            return u"isEncrypted() before the handshake"_s;
        session.tlsEstablished();
        tlsDone = true;
        collect();
        if (!session.isEncrypted())
            return u"isEncrypted() is false after tlsEstablished()"_s;
        return {};
    }
};

QString runScript(Driver &d, const QByteArrayList &script, const SessionKit::Feed &feed = {})
{
    return SessionKit::run(d, script, feed);
}

// The steps that bring a fresh session to a stage (start() already called).
QByteArrayList stageScript(const SmtpSessionSettings &settings, Stage stage)
{
    QByteArrayList script{"S: 220 "_ba + settings.hostname.toUtf8() + " ESMTP Mailroom"};
    if (stage >= Stage::Ehlo) {
        script << (settings.implicitTls ? "C: EHLO client.example"_ba : "C: EHLO before-tls.example"_ba)
               << "S: 250 * ..."_ba;
    }
    if (stage >= Stage::Tls && !settings.implicitTls) {
        script << "C: STARTTLS"_ba << "S: 220 2.0.0 Ready to start TLS"_ba << "T: tls"_ba
               << "C: EHLO client.example"_ba << "S: 250 * ..."_ba;
    }
    if (stage >= Stage::Authenticated) {
        script << QByteArray("C: AUTH PLAIN "_ba + alicePlain()) << "L: alice alice-password -> Accepted 1"_ba
               << "S: 235 2.7.0 Authentication successful"_ba;
    }
    if (stage >= Stage::Mail)
        script << "C: MAIL FROM:<alice@project.com>"_ba << "S: 250 2.1.0 OK"_ba;
    if (stage >= Stage::Rcpt)
        script << "C: RCPT TO:<bob@project.com>"_ba << "S: 250 2.1.5 OK"_ba;
    return script;
}

// ---- the stored message ----------------------------------------------------

struct HeaderField
{
    QByteArray name; // lower case
    QByteArray raw;  // every line of it, with line ends
};

// The header section up to the first line that is neither a field nor a
// continuation; *rest is everything from that line on.
QList<HeaderField> splitHeader(const QByteArray &message, QByteArray *rest)
{
    QList<HeaderField> fields;
    qsizetype pos = 0;
    while (pos < message.size()) {
        const qsizetype lf = message.indexOf('\n', pos);
        const qsizetype end = lf < 0 ? message.size() : lf + 1;
        const QByteArray line = message.mid(pos, end - pos);
        if (!fields.isEmpty() && (line.startsWith(' ') || line.startsWith('\t'))) {
            fields.last().raw += line;
            pos = end;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        bool isField = colon > 0;
        for (qsizetype i = 0; isField && i < colon; ++i)
            isField = line.at(i) >= 33 && line.at(i) <= 126; // RFC 5322 ftext
        if (!isField)
            break;
        fields.append({line.left(colon).toLower(), line});
        pos = end;
    }
    *rest = message.mid(pos);
    return fields;
}

// The unfolded value, white space runs as one space.
QByteArray fieldValue(const HeaderField &field)
{
    return field.raw.mid(field.raw.indexOf(':') + 1).simplified();
}

QString checkDate(const QByteArray &value)
{
    static const QRegularExpression format(
        u"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?[0-9]{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
        "[0-9]{4} [0-9]{2}:[0-9]{2}(?::[0-9]{2})? [+-][0-9]{4}$"_s);
    if (!format.match(QString::fromLatin1(value)).hasMatch())
        return u"\"%1\" is no RFC 5322 date"_s.arg(printable(value));
    const QDateTime time = QDateTime::fromString(QString::fromLatin1(value), Qt::RFC2822Date);
    if (!time.isValid() || std::abs(time.secsTo(QDateTime::currentDateTimeUtc())) > 600)
        return u"\"%1\" is not the time of delivery"_s.arg(printable(value));
    return {};
}

// docs/protocol/smtp.md §8: Return-Path: with the envelope sender (RFC 5321 §4.4) and our
// Received: header on top, Message-ID:, Date: and From: (the account's
// address) added when missing, everything else exactly `expected` (the data
// as sent, dot-unstuffed, CRLF line ends). *remainder: the message without
// Return-Path:, Received: and the added fields.
QString checkStored(const QByteArray &message, const QString &queueId, const QByteArray &expected,
                    QByteArray *remainder)
{
    for (qsizetype i = 0; i < message.size(); ++i) {
        const bool bareCr = message.at(i) == '\r' && (i + 1 == message.size() || message.at(i + 1) != '\n');
        const bool bareLf = message.at(i) == '\n' && (i == 0 || message.at(i - 1) != '\r');
        if (bareCr || bareLf)
            return u"a bare CR or LF at offset %1 of the stored message \"%2\""_s.arg(i).arg(printable(message));
    }

    QByteArray afterHeader;
    const QList<HeaderField> all = splitHeader(message, &afterHeader);
    if (all.size() < 2 || all.at(0).raw != "Return-Path: <alice@project.com>\r\n"
        || !all.at(1).raw.startsWith("Received:"))
        return u"the stored message does not start with Return-Path: <alice@project.com> and Received: \"%1\""_s.arg(
            printable(message));
    static const QRegularExpression received(
        u"^from client\\.example \\(\\[192\\.0\\.2\\.7\\]\\) by mx\\.project\\.com \\(Mailroom\\) "
        "with ESMTPSA id ([^ ;]+); (.+)$"_s);
    const QByteArray receivedValue = fieldValue(all.at(1));
    const QRegularExpressionMatch match = received.match(QString::fromLatin1(receivedValue));
    if (!match.hasMatch())
        return u"Received: \"%1\" is not in the form of docs/protocol/smtp.md §8"_s.arg(printable(receivedValue));
    if (match.captured(1) != queueId)
        return u"Received: id %1, the queue id is %2"_s.arg(match.captured(1), queueId);
    if (const QString error = checkDate(match.captured(2).toLatin1()); !error.isEmpty())
        return u"Received: "_s + error;

    QByteArray expectedRest;
    QSet<QByteArray> expectedNames;
    for (const HeaderField &field : splitHeader(expected, &expectedRest))
        expectedNames.insert(field.name);
    QSet<QByteArray> added;
    for (const QByteArray &name : {"from"_ba, "message-id"_ba, "date"_ba}) {
        if (!expectedNames.contains(name))
            added.insert(name);
    }

    QByteArray rest;
    const QList<HeaderField> fields = splitHeader(message.mid(all.at(0).raw.size() + all.at(1).raw.size()), &rest);
    remainder->clear();
    QHash<QByteArray, int> addedCount;
    for (const HeaderField &field : fields) {
        if (!added.contains(field.name)) {
            *remainder += field.raw;
            continue;
        }
        ++addedCount[field.name];
        const QByteArray value = fieldValue(field);
        if (field.name == "from") {
            const qsizetype open = value.indexOf('<');
            const QByteArray address = open < 0 ? value : value.mid(open + 1, value.indexOf('>') - open - 1);
            if (address != "alice@project.com")
                return u"the added From: is \"%1\""_s.arg(printable(value));
        } else if (field.name == "message-id") {
            static const QRegularExpression id(u"^<[^<>@ ]+@[^<>@ ]+>$"_s);
            if (!id.match(QString::fromLatin1(value)).hasMatch())
                return u"the added Message-ID: is \"%1\""_s.arg(printable(value));
        } else if (const QString error = checkDate(value); !error.isEmpty()) {
            return u"the added Date: "_s + error;
        }
    }
    for (const QByteArray &name : std::as_const(added)) {
        if (addedCount.value(name) != 1) {
            return u"%1 header fields \"%2\" in the header of \"%3\""_s.arg(QString::number(addedCount.value(name)),
                                                                           QString::fromLatin1(name), printable(message));
        }
    }
    *remainder += rest;
    if (*remainder != expected) {
        qsizetype at = 0;
        while (at < remainder->size() && at < expected.size() && remainder->at(at) == expected.at(at))
            ++at;
        return u"stored \"%1\", expected \"%2\" (first difference at %3 of the message without Return-Path:, "
               "Received: and added fields)"_s.arg(printable(*remainder, 2000), printable(expected, 2000), QString::number(at));
    }
    return {};
}

// ---- whole conversations, fed in pieces ---------------------------------------

struct Observation
{
    QString error; // getting to the stage failed
    QList<Reply> replies;
    QByteArray unfinished;
    QList<SmtpLoginRequest> logins;
    QList<SmtpDeliveryRequest> deliveries;
    bool closed = false;
};

Observation converse(const SmtpSessionSettings &settings, Stage stage, const QList<QByteArray> &chunks)
{
    Observation o;
    Driver d(settings);
    d.start();
    o.error = runScript(d, stageScript(settings, stage));
    if (!o.error.isEmpty())
        return o;
    for (const QByteArray &chunk : chunks) {
        d.session.receive(chunk);
        d.collect();
        d.answerAll();
    }
    o.replies = d.reader.replies;
    o.unfinished = d.reader.unfinished();
    o.logins = d.logins;
    o.deliveries = d.deliveries;
    o.closed = d.session.closeRequested();
    return o;
}

struct Expectation
{
    QByteArrayList replies;
    QByteArray stored; // null: no delivery request
    QList<qint64> recipients;
    QByteArrayList logins; // "user password"
    bool closed = false;
};

// Empty when the conversation went as expected; *transcript is what must be
// the same however the input was split.
QString check(const Observation &o, const Expectation &e, QByteArray *transcript)
{
    if (!o.error.isEmpty())
        return u"getting to the stage: "_s + o.error;
    if (!o.unfinished.isEmpty())
        return u"output without CRLF: \"%1\""_s.arg(printable(o.unfinished));

    const qsizetype deliveries = e.stored.isNull() ? 0 : 1;
    if (o.deliveries.size() != deliveries) {
        QString all;
        for (const SmtpDeliveryRequest &delivery : o.deliveries)
            all += describe(delivery) + u' ';
        return u"%1 delivery requests, expected %2: %3"_s.arg(o.deliveries.size()).arg(deliveries).arg(all);
    }
    const QString queueId = o.deliveries.isEmpty() ? QString() : o.deliveries.first().queueId;

    transcript->clear();
    for (qsizetype i = 0; i < std::max(o.replies.size(), e.replies.size()); ++i) {
        if (i >= o.replies.size())
            return u"reply %1: expected \"%2\", got none"_s.arg(i + 1).arg(printable(e.replies.at(i)));
        if (i >= e.replies.size())
            return u"reply %1: unexpected \"%2\""_s.arg(i + 1).arg(printable(o.replies.at(i).wire));
        QByteArray expected = e.replies.at(i);
        expected.replace("{id}", queueId.toUtf8());
        if (const QString error = mismatch(o.replies.at(i), expected); !error.isEmpty())
            return u"reply %1: "_s.arg(i + 1) + error;
        QByteArray wire = o.replies.at(i).wire;
        if (!queueId.isEmpty())
            wire.replace(QByteArray("queued as "_ba + queueId.toUtf8()), "queued as {id}"_ba);
        *transcript += wire;
    }

    if (!o.deliveries.isEmpty()) {
        const SmtpDeliveryRequest &delivery = o.deliveries.first();
        if (delivery.queueId.isEmpty())
            return u"the delivery request has no queue id"_s;
        if (delivery.senderId != 1 || delivery.recipientIds != e.recipients)
            return u"got "_s + describe(delivery);
        QByteArray remainder;
        if (const QString error = checkStored(delivery.message, delivery.queueId, e.stored, &remainder);
            !error.isEmpty()) {
            return error;
        }
        *transcript += "\n---\n" + remainder;
    }

    QByteArrayList logins;
    for (const SmtpLoginRequest &login : o.logins)
        logins << QString(login.username + u' ' + login.password).toUtf8();
    if (logins != e.logins)
        return u"login requests \"%1\", expected \"%2\""_s.arg(QString::fromUtf8(logins.join('|')),
                                                               QString::fromUtf8(e.logins.join('|')));
    if (o.closed != e.closed)
        return u"closeRequested() is %1"_s.arg(o.closed ? u"true"_s : u"false"_s);
    return {};
}

// ---- rows ------------------------------------------------------------------------

void scriptColumns()
{
    QTest::addColumn<SmtpSessionSettings>("settings");
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<QByteArrayList>("script");
    QTest::addColumn<bool>("closed");
}

void addScript(const char *name, Stage stage, const QByteArrayList &script, bool closed = false,
               const SmtpSessionSettings &settings = testSettings())
{
    QTest::newRow(name) << settings << stage << script << closed;
}

void conversationColumns()
{
    QTest::addColumn<SmtpSessionSettings>("settings");
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArrayList>("replies");
    QTest::addColumn<QByteArray>("stored");
    QTest::addColumn<QList<qint64>>("recipients");
    QTest::addColumn<QByteArrayList>("logins");
    QTest::addColumn<bool>("closed");
}

const QByteArray DataGo = "354 End data with <CR><LF>.<CR><LF>"_ba;
const QByteArray Queued = "250 2.0.0 OK: queued as {id}"_ba;
const QByteArray NoopOk = "250 2.0.0 OK"_ba;

// "DATA\r\n" + data (with its own terminator) + "NOOP\r\n" from Stage::Rcpt.
void addMessage(const char *name, const QByteArray &data, const QByteArray &result, const QByteArray &stored,
                const SmtpSessionSettings &settings = testSettings())
{
    QTest::newRow(name) << settings << Stage::Rcpt << QByteArray("DATA\r\n"_ba + data + "NOOP\r\n"_ba)
                        << QByteArrayList{DataGo, result, NoopOk} << stored << QList<qint64>{2} << QByteArrayList()
                        << false;
}

// Accepted as sent: the stored message is the data without ".\r\n".
void addAccepted(const char *name, const QByteArray &data)
{
    Q_ASSERT(data.endsWith("\r\n.\r\n"));
    addMessage(name, data, Queued, data.chopped(3));
}

const QByteArray FullHeader = "From: Alice <alice@project.com>\r\n"
                              "To: Bob <bob@project.com>\r\n"
                              "Subject: Hello\r\n"
                              "Date: Sun, 22 Nov 2026 13:05:00 +0000\r\n"
                              "Message-ID: <hello@client.example>\r\n"_ba;

// A header section of exactly `size` octets with its empty line: From: alice,
// a To: of `addresses` addresses folded one a line, then X-Pad: fields (lines
// of at most 900 octets) to make up the size.
QByteArray headerOfSize(qsizetype size, int addresses = 1)
{
    QByteArray header = "From: alice@project.com\r\nTo: bob@project.com"_ba;
    for (int i = 1; i < addresses; ++i)
        header += ",\r\n u"_ba + QByteArray::number(i) + "@example.org"_ba;
    header += "\r\n";
    const QByteArray name = "X-Pad: "_ba;
    while (header.size() + 2 < size) {
        const qsizetype room = size - 2 - header.size();
        Q_ASSERT(room >= name.size() + 3);
        const qsizetype line = room <= 900 ? room : std::min<qsizetype>(900, room - 10);
        header += name + QByteArray(line - name.size() - 2, 'p') + "\r\n"_ba;
    }
    Q_ASSERT(header.size() + 2 == size);
    return header + "\r\n"_ba;
}

} // namespace

class TestSmtpSession : public QObject
{
    Q_OBJECT

private:
    void runScriptRow();
    void runConversationRow();

private Q_SLOTS:
    void greeting_data();
    void greeting();
    void ehlo_data();
    void ehlo();
    void ping_data();
    void ping() { runScriptRow(); }
    void startTls_data();
    void startTls() { runScriptRow(); }
    void startTlsInjection_data();
    void startTlsInjection() { runScriptRow(); }
    void auth_data();
    void auth() { runScriptRow(); }
    void reg_data();
    void reg() { runScriptRow(); }
    void getUser_data();
    void getUser() { runScriptRow(); }
    void mailFrom_data();
    void mailFrom() { runScriptRow(); }
    void rcptTo_data();
    void rcptTo() { runScriptRow(); }
    void data_data();
    void data() { runScriptRow(); }
    void otherCommands_data();
    void otherCommands() { runScriptRow(); }
    void errorLimits_data();
    void errorLimits() { runScriptRow(); }
    void timeouts_data();
    void timeouts() { runScriptRow(); }
    void message_data();
    void message() { runConversationRow(); }
    void smuggling_data();
    void smuggling() { runConversationRow(); }
    void pipelining_data();
    void pipelining() { runConversationRow(); }
    void receivedWithoutEhlo();
    void fromSpoofOnTheFirstLine_data();
    void fromSpoofOnTheFirstLine();
    void repliesDoNotPileUp();
    void headerSectionMeasure_data();
    void headerSectionMeasure();
    void headerSectionLimitByDefault_data();
    void headerSectionLimitByDefault();
    void dataStartsCountsEachData();
};

void TestSmtpSession::runScriptRow()
{
    QFETCH(SmtpSessionSettings, settings);
    QFETCH(Stage, stage);
    QFETCH(QByteArrayList, script);
    QFETCH(bool, closed);

    for (const SessionKit::Feed feed : {SessionKit::Feed{SessionKit::Feed::Whole}, SessionKit::Feed{SessionKit::Feed::Bytewise}}) {
        const QString mode = feed.mode == SessionKit::Feed::Bytewise ? u"byte by byte: "_s : u"whole lines: "_s;
        Driver d(settings);
        d.start();
        const QString error = runScript(d, stageScript(settings, stage));
        QVERIFY2(error.isEmpty(), qPrintable(u"getting to the stage: "_s + error));
        QString result = runScript(d, script, feed);
        if (result.isEmpty())
            result = SessionKit::leftovers(d);
        QVERIFY2(result.isEmpty(), qPrintable(mode + result));
        QVERIFY2(d.session.closeRequested() == closed,
                 qPrintable(mode + u"closeRequested() is "_s + (closed ? u"false"_s : u"true"_s)));
    }
}

// The input in one receive(), in two at every boundary, and byte by byte:
// each as the row says, and all alike.
void TestSmtpSession::runConversationRow()
{
    QFETCH(SmtpSessionSettings, settings);
    QFETCH(Stage, stage);
    QFETCH(QByteArray, input);
    QFETCH(QByteArrayList, replies);
    QFETCH(QByteArray, stored);
    QFETCH(QList<qint64>, recipients);
    QFETCH(QByteArrayList, logins);
    QFETCH(bool, closed);
    const Expectation expected{replies, stored, recipients, logins, closed};

    QByteArray reference;
    QString error = check(converse(settings, stage, {input}), expected, &reference);
    QVERIFY2(error.isEmpty(), qPrintable(u"in one receive(): "_s + error));

    for (qsizetype at = 1; at < input.size(); ++at) {
        QByteArray transcript;
        error = check(converse(settings, stage, {input.left(at), input.mid(at)}), expected, &transcript);
        if (error.isEmpty() && transcript != reference)
            error = u"differs from one receive(): \"%1\""_s.arg(printable(transcript, 2000));
        const QString before = printable(input.mid(std::max<qsizetype>(at - 12, 0), std::min<qsizetype>(at, 12)));
        const QString where = u"split after byte %1 (\"%2|%3\"): "_s.arg(QString::number(at), before,
                                                                        printable(input.mid(at, 12)));
        QVERIFY2(error.isEmpty(), qPrintable(where + error));
    }

    QList<QByteArray> bytes;
    for (const char c : std::as_const(input))
        bytes << QByteArray(1, c);
    QByteArray transcript;
    error = check(converse(settings, stage, bytes), expected, &transcript);
    if (error.isEmpty() && transcript != reference)
        error = u"differs from one receive(): \"%1\""_s.arg(printable(transcript, 2000));
    QVERIFY2(error.isEmpty(), qPrintable(u"byte by byte: "_s + error));
}

// ---- greeting and EHLO -----------------------------------------------------

void TestSmtpSession::greeting_data()
{
    QTest::addColumn<SmtpSessionSettings>("settings");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("default host name") << SmtpSessionSettings() << "220 localhost ESMTP Mailroom\r\n"_ba;
    QTest::newRow("configured host name") << testSettings() << "220 mx.project.com ESMTP Mailroom\r\n"_ba;
    QTest::newRow("implicit TLS") << implicitTls() << "220 mx.project.com ESMTP Mailroom\r\n"_ba;
}

void TestSmtpSession::greeting()
{
    QFETCH(SmtpSessionSettings, settings);
    QFETCH(QByteArray, expected);

    FakeSmtpDirectory directory;
    SmtpSession session(settings, &directory, clientAddress());
    QCOMPARE(session.takeOutput(), QByteArray());
    session.start();
    QCOMPARE(session.takeOutput(), expected);
    QCOMPARE(session.takeOutput(), QByteArray());
    QVERIFY(!session.takeRequest());
    QVERIFY(!session.closeRequested());
    QCOMPARE(session.isEncrypted(), settings.implicitTls);
    QCOMPARE(session.accountId(), qint64(0));
}

void TestSmtpSession::ehlo_data()
{
    QTest::addColumn<SmtpSessionSettings>("settings");
    QTest::addColumn<bool>("starttls");
    QTest::addColumn<QByteArray>("command");
    QTest::addColumn<QByteArrayList>("keywords"); // empty: HELO, one line

    const QByteArrayList plaintext{"PIPELINING"_ba, "SIZE 26214400"_ba, "8BITMIME"_ba, "ENHANCEDSTATUSCODES"_ba,
                                   "STARTTLS"_ba};
    const QByteArrayList encrypted{"PIPELINING"_ba, "SIZE 26214400"_ba, "8BITMIME"_ba, "ENHANCEDSTATUSCODES"_ba,
                                   "AUTH PLAIN LOGIN"_ba};

    QTest::newRow("before TLS") << testSettings() << false << "EHLO client.example"_ba << plaintext;
    QTest::newRow("lower-case ehlo") << testSettings() << false << "ehlo client.example"_ba << plaintext;
    QTest::newRow("address literal") << testSettings() << false << "EHLO [192.0.2.7]"_ba << plaintext;
    QTest::newRow("after STARTTLS") << testSettings() << true << "EHLO client.example"_ba << encrypted;
    QTest::newRow("implicit TLS") << implicitTls() << false << "EHLO client.example"_ba << encrypted;
    QTest::newRow("configured size") << maxMessageBytes(1048576) << false << "EHLO client.example"_ba
                                     << QByteArrayList{"PIPELINING"_ba, "SIZE 1048576"_ba, "8BITMIME"_ba,
                                                       "ENHANCEDSTATUSCODES"_ba, "STARTTLS"_ba};
    QTest::newRow("configured size after STARTTLS")
        << maxMessageBytes(1048576) << true << "EHLO client.example"_ba
        << QByteArrayList{"PIPELINING"_ba, "SIZE 1048576"_ba, "8BITMIME"_ba, "ENHANCEDSTATUSCODES"_ba,
                          "AUTH PLAIN LOGIN"_ba};
    QTest::newRow("HELO") << testSettings() << false << "HELO client.example"_ba << QByteArrayList();
    QTest::newRow("HELO after STARTTLS") << testSettings() << true << "HELO client.example"_ba << QByteArrayList();
}

void TestSmtpSession::ehlo()
{
    QFETCH(SmtpSessionSettings, settings);
    QFETCH(bool, starttls);
    QFETCH(QByteArray, command);
    QFETCH(QByteArrayList, keywords);

    Driver d(settings);
    d.start();
    QByteArrayList script = stageScript(settings, Stage::Greeted);
    if (starttls) {
        script << "C: EHLO before-tls.example"_ba << "S: 250 * ..."_ba << "C: STARTTLS"_ba
               << "S: 220 2.0.0 Ready to start TLS"_ba << "T: tls"_ba;
    }
    const QString error = runScript(d, script);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    d.feed(command + "\r\n");
    QCOMPARE(d.reader.unfinished(), QByteArray());
    QCOMPARE(d.reader.replies.size(), qsizetype(1));
    const Reply reply = d.reader.replies.first();
    QCOMPARE(reply.code, 250);
    QCOMPARE(reply.lines.first().split(' ').first(), settings.hostname.toUtf8());
    if (keywords.isEmpty()) {
        QCOMPARE(reply.lines.size(), qsizetype(1));
    } else {
        QByteArrayList advertised = reply.lines.mid(1);
        std::sort(advertised.begin(), advertised.end());
        std::sort(keywords.begin(), keywords.end());
        QCOMPARE(advertised, keywords);
    }
    QVERIFY(!d.session.takeRequest());
    QVERIFY(!d.session.closeRequested());
}

// ---- PING, STARTTLS ------------------------------------------------------------

void TestSmtpSession::ping_data()
{
    scriptColumns();
    addScript("before EHLO", Stage::Greeted, {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("lower case", Stage::Greeted, {"C: ping"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("after EHLO", Stage::Ehlo, {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("in TLS", Stage::Tls, {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("authenticated", Stage::Authenticated, {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("inside a transaction, which stays open", Stage::Rcpt,
              {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba, "C: RCPT TO:<carol@project.com>"_ba, "S: 250 2.1.5 OK"_ba});
    addScript("pipelined", Stage::Greeted, {"C< PING\r\nPING\r\n"_ba, "S: 250 2.0.0 PONG"_ba, "S: 250 2.0.0 PONG"_ba});
    addScript("implicit TLS", Stage::Greeted, {"C: PING"_ba, "S: 250 2.0.0 PONG"_ba}, false, implicitTls());
}

void TestSmtpSession::startTls_data()
{
    scriptColumns();
    addScript("upgrade, EHLO again, AUTH works", Stage::Ehlo,
              {"C: STARTTLS"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: EHLO client.example"_ba,
               "S: 250 * ..."_ba, "C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba,
               "S: 235 2.7.0 Authentication successful"_ba, "A: 1"_ba});
    addScript("lower case", Stage::Ehlo,
              {"C: starttls"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: EHLO client.example"_ba,
               "S: 250 * ..."_ba});
    addScript("not authenticated after the upgrade", Stage::Ehlo,
              {"C: STARTTLS"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: EHLO client.example"_ba,
               "S: 250 * ..."_ba, "C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Authentication required"_ba,
               "A: 0"_ba});
    addScript("already in TLS", Stage::Tls, {"C: STARTTLS"_ba, "S: 503 5.5.1 ..."_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("already authenticated", Stage::Authenticated,
              {"C: STARTTLS"_ba, "S: 503 5.5.1 ..."_ba, "A: 1"_ba});
    addScript("implicit TLS", Stage::Ehlo, {"C: STARTTLS"_ba, "S: 503 5.5.1 ..."_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba},
              false, implicitTls());
    addScript("implicit TLS, before EHLO", Stage::Greeted, {"C: STARTTLS"_ba, "S: 503 5.5.1 ..."_ba}, false,
              implicitTls());
    // RFC 3207 §4: "501 Syntax error (no parameters allowed)".
    addScript("with a parameter", Stage::Ehlo, {"C: STARTTLS now"_ba, "S: 501 5.5.4 ..."_ba});
}

void TestSmtpSession::startTlsInjection_data()
{
    scriptColumns();
    addScript("MAIL after STARTTLS in one read", Stage::Ehlo,
              {"C< STARTTLS\r\nMAIL FROM:<alice@project.com>\r\n"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba,
               "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("EHLO and AUTH after STARTTLS in one read", Stage::Ehlo,
              {"C< STARTTLS\r\nEHLO evil.example\r\nAUTH PLAIN "_ba + alicePlain() + "\r\n"_ba,
               "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "A: 0"_ba, "C: EHLO client.example"_ba,
               "S: 250 * ..."_ba, "C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Authentication required"_ba});
    addScript("QUIT after STARTTLS in one read", Stage::Ehlo,
              {"C< STARTTLS\r\nQUIT\r\n"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: NOOP"_ba,
               "S: 250 2.0.0 OK"_ba});
    addScript("half a command after STARTTLS", Stage::Ehlo,
              {"C< STARTTLS\r\nNOO"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: P"_ba,
               "S: 500 5.5.2 Command unrecognized"_ba});
    addScript("a second STARTTLS injected", Stage::Ehlo,
              {"C< STARTTLS\r\nSTARTTLS\r\n"_ba, "S: 220 2.0.0 Ready to start TLS"_ba, "T: tls"_ba, "C: NOOP"_ba,
               "S: 250 2.0.0 OK"_ba});
}

// ---- AUTH ------------------------------------------------------------------------

void TestSmtpSession::auth_data()
{
    scriptColumns();
    const QByteArray accepted = "S: 235 2.7.0 Authentication successful"_ba;
    const QByteArray invalid = "S: 535 5.7.8 Authentication credentials invalid"_ba;

    addScript("PLAIN with initial response", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba, accepted, "A: 1"_ba});
    // The store cannot check the password now: temporary, and no failure counted.
    addScript("store unavailable", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Unavailable"_ba,
               "S: 454 4.7.0 Temporary authentication failure, try again later"_ba, "A: 0"_ba,
               "C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba, accepted, "A: 1"_ba});
    addScript("PLAIN without initial response", Stage::Tls,
              {"C: AUTH PLAIN"_ba, "S: 334 ..."_ba, "C: "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba,
               accepted, "A: 1"_ba});
    addScript("LOGIN", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("alice"_ba), "S: 334 ..."_ba,
               "C: "_ba + b64("alice-password"_ba), "L: alice alice-password -> Accepted 1"_ba, accepted, "A: 1"_ba});
    addScript("lower-case verb and mechanism", Stage::Tls,
              {"C: auth plain "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba, accepted});
    addScript("PLAIN with the full address", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice@project.com"_ba, "alice-password"_ba),
               "L: alice alice-password -> Accepted 1"_ba, accepted, "A: 1"_ba});
    addScript("PLAIN with the address in capitals", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("Alice@PROJECT.COM"_ba, "alice-password"_ba),
               "L: alice alice-password -> Accepted 1"_ba, accepted});
    addScript("PLAIN with the name in capitals", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("ALICE"_ba, "alice-password"_ba), "L: alice alice-password -> Accepted 1"_ba,
               accepted});
    addScript("LOGIN with the full address", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("bob@project.com"_ba), "S: 334 ..."_ba,
               "C: "_ba + b64("bob-password"_ba), "L: bob bob-password -> Accepted 2"_ba, accepted, "A: 2"_ba});
    addScript("UTF-8 password", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice"_ba, "p\xc3\xa4sswort-\xc3\xb6"_ba),
               "L: alice p\xc3\xa4sswort-\xc3\xb6 -> Accepted 1"_ba, accepted});
    addScript("password with spaces", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice"_ba, "correct horse battery"_ba),
               "L: alice correct horse battery -> Accepted 1"_ba, accepted});
    addScript("implicit TLS", Stage::Ehlo,
              {"C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba, accepted, "A: 1"_ba},
              false, implicitTls());

    addScript("PLAIN before TLS", Stage::Ehlo,
              {"C: AUTH PLAIN "_ba + alicePlain(), "S: 538 5.7.11 Encryption required"_ba, "A: 0"_ba});
    addScript("PLAIN without initial response before TLS", Stage::Ehlo,
              {"C: AUTH PLAIN"_ba, "S: 538 5.7.11 Encryption required"_ba});
    addScript("LOGIN before TLS", Stage::Ehlo, {"C: AUTH LOGIN"_ba, "S: 538 5.7.11 Encryption required"_ba});

    addScript("rejected", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice"_ba, "wrong-password"_ba), "L: alice wrong-password -> Rejected"_ba,
               invalid, "A: 0"_ba, "C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Authentication required"_ba});
    addScript("rejected, then accepted", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice"_ba, "wrong-password"_ba), "L: alice wrong-password -> Rejected"_ba,
               invalid, "C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Accepted 1"_ba, accepted,
               "A: 1"_ba});
    addScript("LOGIN rejected", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("alice"_ba), "S: 334 ..."_ba,
               "C: "_ba + b64("wrong-password"_ba), "L: alice wrong-password -> Rejected"_ba, invalid, "A: 0"_ba});
    // A name that cannot be an account: 535. The session may still ask (a
    // failed login counts for throttling), but never for another name.
    addScript("invalid user name", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("a..b"_ba, "some-password"_ba), "L? a..b some-password -> Rejected"_ba,
               invalid, "A: 0"_ba});
    addScript("address in another domain is not alice", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice@example.org"_ba, "alice-password"_ba),
               "L? alice@example.org alice-password -> Rejected"_ba, invalid, "A: 0"_ba});
    addScript("address in a subdomain is not alice", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice@mail.project.com"_ba, "alice-password"_ba),
               "L? alice@mail.project.com alice-password -> Rejected"_ba, invalid, "A: 0"_ba});
    addScript("throttled", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alicePlain(), "L: alice alice-password -> Throttled"_ba,
               "S: 454 4.7.0 Too many failed logins, try later"_ba, "A: 0"_ba});
    addScript("LOGIN throttled", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("alice"_ba), "S: 334 ..."_ba,
               "C: "_ba + b64("alice-password"_ba), "L: alice alice-password -> Throttled"_ba,
               "S: 454 4.7.0 Too many failed logins, try later"_ba, "A: 0"_ba});

    addScript("PLAIN cancelled", Stage::Tls,
              {"C: AUTH PLAIN"_ba, "S: 334 ..."_ba, "C: *"_ba, "S: 501 5.7.0 ..."_ba, "A: 0"_ba, "C: NOOP"_ba,
               "S: 250 2.0.0 OK"_ba});
    addScript("LOGIN cancelled at the user name", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: *"_ba, "S: 501 5.7.0 ..."_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("LOGIN cancelled at the password", Stage::Tls,
              {"C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("alice"_ba), "S: 334 ..."_ba, "C: *"_ba,
               "S: 501 5.7.0 ..."_ba, "A: 0"_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("cancelled, then accepted", Stage::Tls,
              {"C: AUTH PLAIN"_ba, "S: 334 ..."_ba, "C: *"_ba, "S: 501 5.7.0 ..."_ba, "C: AUTH PLAIN "_ba + alicePlain(),
               "L: alice alice-password -> Accepted 1"_ba, accepted});

    addScript("already authenticated", Stage::Authenticated,
              {"C: AUTH PLAIN "_ba + plain("bob"_ba, "bob-password"_ba), "S: 503 5.5.1 ..."_ba, "A: 1"_ba});
    addScript("LOGIN when already authenticated", Stage::Authenticated,
              {"C: AUTH LOGIN"_ba, "S: 503 5.5.1 ..."_ba, "A: 1"_ba});
    addScript("inside a transaction", Stage::Mail,
              {"C: AUTH PLAIN "_ba + plain("bob"_ba, "bob-password"_ba), "S: 503 5.5.1 ..."_ba, "A: 1"_ba,
               "C: RCPT TO:<bob@project.com>"_ba, "S: 250 2.1.5 OK"_ba});
    // RFC 4954 §4: an unknown mechanism is 504 5.5.4.
    addScript("unknown mechanism", Stage::Tls, {"C: AUTH CRAM-MD5"_ba, "S: 504 5.5.4 ..."_ba, "A: 0"_ba});
}

// ---- REG, GETUSER -------------------------------------------------------------

void TestSmtpSession::reg_data()
{
    scriptColumns();
    const QByteArray created = "S: 250 2.0.0 Account dave@project.com created"_ba;
    const QByteArray invalidName = "S: 553 5.1.3 Invalid username"_ba;
    const QByteArray weak = "S: 550 5.7.1 Password too weak"_ba;

    addScript("created", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> Created"_ba, created});
    addScript("store unavailable", Stage::Tls,
              {"X: store down"_ba, "C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba),
               "S: 451 4.3.0 Temporary lookup failure, try again later"_ba, "X: store up"_ba,
               "C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> Created"_ba, created});
    addScript("lower-case verb", Stage::Tls,
              {"C: reg "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> Created"_ba, created});
    addScript("name lower-cased", Stage::Tls,
              {"C: REG "_ba + regArgument("Dave"_ba, "dave-password"_ba), "R: dave dave-password -> Created"_ba, created});
    addScript("name with dot, dash and underscore", Stage::Tls,
              {"C: REG "_ba + regArgument("d.a-v_e"_ba, "dave-password"_ba), "R: d.a-v_e dave-password -> Created"_ba,
               "S: 250 2.0.0 Account d.a-v_e@project.com created"_ba});
    addScript("8-character password", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "12345678"_ba), "R: dave 12345678 -> Created"_ba, created});
    addScript("128-character password", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, QByteArray(128, 'p')), "R: dave "_ba + QByteArray(128, 'p') + " -> Created"_ba,
               created});
    // docs/PROTOCOL.md: lengths count Unicode characters (16 bytes here).
    addScript("8 non-ASCII characters", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f"_ba),
               "R: dave \xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f -> Created"_ba, created});
    addScript("implicit TLS", Stage::Ehlo,
              {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> Created"_ba, created},
              false, implicitTls());

    addScript("before TLS", Stage::Ehlo, {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "S: 538 5.7.11 ..."_ba});
    addScript("name with two dots", Stage::Tls, {"C: REG "_ba + regArgument("da..ve"_ba, "dave-password"_ba), invalidName});
    addScript("name with a leading dot", Stage::Tls, {"C: REG "_ba + regArgument(".dave"_ba, "dave-password"_ba), invalidName});
    addScript("name with a trailing dash", Stage::Tls, {"C: REG "_ba + regArgument("dave-"_ba, "dave-password"_ba), invalidName});
    addScript("name with a space", Stage::Tls, {"C: REG "_ba + regArgument("da ve"_ba, "dave-password"_ba), invalidName});
    addScript("name of 65 characters", Stage::Tls,
              {"C: REG "_ba + regArgument(QByteArray(65, 'd'), "dave-password"_ba), invalidName});
    addScript("empty name", Stage::Tls, {"C: REG "_ba + regArgument(QByteArray(), "dave-password"_ba), invalidName});
    addScript("password of 7 characters", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "1234567"_ba), weak});
    addScript("password of 7 non-ASCII characters", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f\xc3\xa4\xc3\xb6\xc3\xbc"_ba), weak});
    addScript("empty password", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, QByteArray()), weak});
    addScript("password of 129 characters", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, QByteArray(129, 'p')), "S: 550 5.7.1 ..."_ba});
    // docs/PROTOCOL.md §6: no control characters (U+0000-U+001F, U+007F);
    // found: "pass\r\nword" made an account POP3 USER/PASS can never log into.
    const QByteArray control = "S: 550 5.7.1 Password must not contain control characters"_ba;
    addScript("password with CR LF", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "pass\r\nword"_ba), control});
    addScript("password with LF", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "password\n"_ba), control});
    addScript("password with a tab", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "pass\tword"_ba), control});
    addScript("password with NUL", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "pass\0word"_ba), control});
    addScript("password with U+001F", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "pass\x1fword"_ba), control});
    addScript("password with DEL", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "pass\x7fword"_ba), control});
    addScript("short password with ESC", Stage::Tls, {"C: REG "_ba + regArgument("dave"_ba, "\x1b"_ba), control});
    // The edges that stay allowed: space and U+0080 (a C1 control, not in docs/PROTOCOL.md's list).
    addScript("password with a space and U+0080", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "pass word\xc2\x80"_ba),
               "R: dave pass word\xc2\x80 -> Created"_ba, created});
    addScript("name taken", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> Taken"_ba,
               "S: 550 5.1.0 Username already taken"_ba});
    addScript("rate limited", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "R: dave dave-password -> RateLimited"_ba,
               "S: 450 4.7.1 ..."_ba});
    addScript("bad base64", Stage::Tls, {"C: REG !!!not-base64!!!"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("no argument", Stage::Tls, {"C: REG"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("no NUL between name and password", Stage::Tls,
              {"C: REG "_ba + b64("davepassword"_ba), "S: 501 5.5.4 ..."_ba});
    addScript("registration closed", Stage::Tls,
              {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), "S: 550 5.7.1 Registration is closed"_ba}, false,
              closedRegistration());
}

void TestSmtpSession::getUser_data()
{
    scriptColumns();
    addScript("by name", Stage::Authenticated, {"C: GETUSER bob"_ba, "S: 250 2.1.5 2 bob@project.com"_ba});
    addScript("store unavailable", Stage::Authenticated,
              {"X: store down"_ba, "C: GETUSER bob"_ba, "S: 451 4.3.0 Temporary lookup failure, try again later"_ba});
    addScript("by address", Stage::Authenticated, {"C: GETUSER bob@project.com"_ba, "S: 250 2.1.5 2 bob@project.com"_ba});
    addScript("name in capitals", Stage::Authenticated, {"C: GETUSER Bob"_ba, "S: 250 2.1.5 2 bob@project.com"_ba});
    addScript("address in capitals", Stage::Authenticated,
              {"C: GETUSER Carol@PROJECT.COM"_ba, "S: 250 2.1.5 3 carol@project.com"_ba});
    addScript("oneself", Stage::Authenticated, {"C: GETUSER alice"_ba, "S: 250 2.1.5 1 alice@project.com"_ba});
    addScript("lower-case verb", Stage::Authenticated, {"C: getuser bob"_ba, "S: 250 2.1.5 2 bob@project.com"_ba});
    addScript("inside a transaction, which stays open", Stage::Rcpt,
              {"C: GETUSER carol"_ba, "S: 250 2.1.5 3 carol@project.com"_ba, "C: RCPT TO:<carol@project.com>"_ba,
               "S: 250 2.1.5 OK"_ba});
    addScript("unknown name", Stage::Authenticated, {"C: GETUSER dave"_ba, "S: 550 5.1.1 No such user"_ba});
    addScript("unknown address", Stage::Authenticated, {"C: GETUSER dave@project.com"_ba, "S: 550 5.1.1 No such user"_ba});
    addScript("address in another domain", Stage::Authenticated,
              {"C: GETUSER bob@example.org"_ba, "S: 550 5.1.1 No such user"_ba});
    addScript("before AUTH", Stage::Tls, {"C: GETUSER bob"_ba, "S: 530 5.7.0 Authentication required"_ba});
    addScript("before TLS", Stage::Ehlo, {"C: GETUSER bob"_ba, "S: 530 5.7.0 ..."_ba});
    addScript("after a failed login", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plain("alice"_ba, "wrong-password"_ba), "L: alice wrong-password -> Rejected"_ba,
               "S: 535 5.7.8 Authentication credentials invalid"_ba, "C: GETUSER bob"_ba,
               "S: 530 5.7.0 Authentication required"_ba});
    addScript("no argument", Stage::Authenticated, {"C: GETUSER"_ba, "S: 501 5.5.4 ..."_ba});
}

// ---- MAIL, RCPT, DATA ------------------------------------------------------------

void TestSmtpSession::mailFrom_data()
{
    scriptColumns();
    const QByteArray ok = "S: 250 2.1.0 OK"_ba;
    const QByteArray notOwned = "S: 553 5.7.1 Sender address not owned by you"_ba;

    addScript("own address", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com>"_ba, ok});
    addScript("lower case, as smtplib sends it", Stage::Authenticated, {"C: mail from:<alice@project.com>"_ba, ok});
    addScript("own address in capitals", Stage::Authenticated, {"C: MAIL FROM:<Alice@PROJECT.COM>"_ba, ok});
    addScript("SIZE under the limit", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com> SIZE=1000"_ba, ok});
    addScript("SIZE at the limit", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com> SIZE=26214400"_ba, ok});
    addScript("SIZE over the limit", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> SIZE=26214401"_ba, "S: 552 5.3.4 ..."_ba,
               "C: MAIL FROM:<alice@project.com>"_ba, ok});
    addScript("SIZE over a configured limit", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> SIZE=1001"_ba, "S: 552 5.3.4 ..."_ba}, false, maxMessageBytes(1000));
    addScript("BODY=8BITMIME", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com> BODY=8BITMIME"_ba, ok});
    addScript("BODY=7BIT", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com> BODY=7BIT"_ba, ok});
    addScript("AUTH=<>", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com> AUTH=<>"_ba, ok});
    addScript("AUTH=address", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> AUTH=alice@project.com"_ba, ok});
    addScript("all parameters, keywords in lower case", Stage::Authenticated,
              {"C: mail from:<alice@project.com> size=100 body=8bitmime auth=<>"_ba, ok});
    addScript("unknown parameter", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> FOO=bar"_ba, "S: 555 5.5.4 ..."_ba, "C: MAIL FROM:<alice@project.com>"_ba,
               ok});
    addScript("SMTPUTF8 is not offered", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> SMTPUTF8"_ba, "S: 555 5.5.4 ..."_ba});
    addScript("another account", Stage::Authenticated, {"C: MAIL FROM:<bob@project.com>"_ba, notOwned});
    addScript("another domain", Stage::Authenticated, {"C: MAIL FROM:<alice@example.org>"_ba, notOwned});
    addScript("null sender", Stage::Authenticated, {"C: MAIL FROM:<>"_ba, notOwned});
    addScript("not owned, then owned", Stage::Authenticated,
              {"C: MAIL FROM:<bob@project.com>"_ba, notOwned, "C: MAIL FROM:<alice@project.com>"_ba, ok});
    addScript("before TLS", Stage::Ehlo,
              {"C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Must issue a STARTTLS command first"_ba});
    addScript("before AUTH", Stage::Tls,
              {"C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Authentication required"_ba});
    addScript("implicit TLS, before AUTH", Stage::Ehlo,
              {"C: MAIL FROM:<alice@project.com>"_ba, "S: 530 5.7.0 Authentication required"_ba}, false, implicitTls());
    addScript("transaction open", Stage::Mail, {"C: MAIL FROM:<alice@project.com>"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("transaction with a recipient open", Stage::Rcpt,
              {"C: MAIL FROM:<alice@project.com>"_ba, "S: 503 5.5.1 ..."_ba, "C: RCPT TO:<carol@project.com>"_ba,
               "S: 250 2.1.5 OK"_ba});
    addScript("no FROM:", Stage::Authenticated, {"C: MAIL TO:<alice@project.com>"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("no argument", Stage::Authenticated, {"C: MAIL"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("unclosed bracket", Stage::Authenticated, {"C: MAIL FROM:<alice@project.com"_ba, "S: 501 5.5.4 ..."_ba});
}

void TestSmtpSession::rcptTo_data()
{
    scriptColumns();
    const QByteArray ok = "S: 250 2.1.5 OK"_ba;
    const QByteArray relaying = "S: 550 5.7.1 no such recipient exists (relaying denied)"_ba;

    addScript("local user", Stage::Mail, {"C: RCPT TO:<bob@project.com>"_ba, ok});
    addScript("lower case", Stage::Mail, {"C: rcpt to:<bob@project.com>"_ba, ok});
    addScript("address in capitals", Stage::Mail, {"C: RCPT TO:<Bob@PROJECT.COM>"_ba, ok});
    addScript("oneself", Stage::Mail, {"C: RCPT TO:<alice@project.com>"_ba, ok});
    addScript("several", Stage::Mail, {"C: RCPT TO:<bob@project.com>"_ba, ok, "C: RCPT TO:<carol@project.com>"_ba, ok});
    addScript("another domain", Stage::Mail, {"C: RCPT TO:<bob@example.org>"_ba, relaying});
    addScript("a subdomain is another domain", Stage::Mail, {"C: RCPT TO:<bob@mail.project.com>"_ba, relaying});
    addScript("unknown local user", Stage::Mail, {"C: RCPT TO:<dave@project.com>"_ba, "S: 550 5.1.1 No such user here"_ba});
    // A recipient that cannot be looked up now is no unknown user: the
    // sender must try again, not bounce.
    addScript("store unavailable", Stage::Mail,
              {"X: store down"_ba, "C: RCPT TO:<bob@project.com>"_ba,
               "S: 451 4.3.0 Temporary lookup failure, try again later"_ba, "X: store up"_ba,
               "C: RCPT TO:<bob@project.com>"_ba, ok});
    addScript("rejected, then accepted", Stage::Mail,
              {"C: RCPT TO:<dave@project.com>"_ba, "S: 550 5.1.1 No such user here"_ba, "C: RCPT TO:<bob@project.com>"_ba,
               ok});
    addScript("unknown parameter", Stage::Mail, {"C: RCPT TO:<bob@project.com> NOTIFY=NEVER"_ba, "S: 555 5.5.4 ..."_ba});
    addScript("before MAIL", Stage::Authenticated, {"C: RCPT TO:<bob@project.com>"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("after RSET", Stage::Rcpt,
              {"C: RSET"_ba, "S: 250 2.0.0 OK"_ba, "C: RCPT TO:<carol@project.com>"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("no TO:", Stage::Mail, {"C: RCPT"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("unclosed bracket", Stage::Mail, {"C: RCPT TO:<bob@project.com"_ba, "S: 501 5.5.4 ..."_ba});

    // 100 recipients (the default), the 101st refused; the message goes to the 100.
    {
        QByteArrayList script;
        QByteArray ids;
        for (int n = 1; n <= 100; ++n) {
            script << QByteArray("C: RCPT TO:<user"_ba + QByteArray::number(n) + "@project.com>"_ba) << ok;
            ids += (n > 1 ? ","_ba : QByteArray()) + QByteArray::number(1000 + n);
        }
        script << "C: RCPT TO:<user101@project.com>"_ba << "S: 452 4.5.3 Too many recipients"_ba << "C: DATA"_ba
               << "S: "_ba + DataGo << "C< From: alice@project.com\r\nSubject: many\r\n\r\nhi\r\n.\r\n"_ba
               << QByteArray("D: 1 -> "_ba + ids + " Stored"_ba) << "S: "_ba + Queued;
        addScript("past 100 recipients", Stage::Mail, script);
    }
    addScript("past a configured limit of 2", Stage::Mail,
              {"C: RCPT TO:<bob@project.com>"_ba, ok, "C: RCPT TO:<carol@project.com>"_ba, ok,
               "C: RCPT TO:<alice@project.com>"_ba, "S: 452 4.5.3 Too many recipients"_ba},
              false, maxRecipients(2));
}

void TestSmtpSession::data_data()
{
    scriptColumns();
    const QByteArray go = "S: "_ba + DataGo;
    const QByteArray message = "C< From: alice@project.com\r\nSubject: s\r\n\r\nHello\r\n.\r\n"_ba;
    const QByteArray queued = "S: "_ba + Queued;

    addScript("no recipient", Stage::Mail, {"C: DATA"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("no transaction", Stage::Authenticated, {"C: DATA"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("only refused recipients", Stage::Mail,
              {"C: RCPT TO:<dave@project.com>"_ba, "S: 550 5.1.1 No such user here"_ba, "C: RCPT TO:<bob@example.org>"_ba,
               "S: 550 5.7.1 no such recipient exists (relaying denied)"_ba, "C: DATA"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("before TLS", Stage::Ehlo, {"C: DATA"_ba, "S: 503 5.5.1 ..."_ba});
    addScript("stored", Stage::Rcpt, {"C: DATA"_ba, go, message, "D: 1 -> 2 Stored"_ba, queued});
    addScript("lower-case verb", Stage::Rcpt, {"C: data"_ba, go, message, "D: 1 -> 2 Stored"_ba, queued});
    addScript("refused recipients are left out", Stage::Rcpt,
              {"C: RCPT TO:<dave@project.com>"_ba, "S: 550 5.1.1 No such user here"_ba, "C: RCPT TO:<carol@project.com>"_ba,
               "S: 250 2.1.5 OK"_ba, "C: DATA"_ba, go, message, "D: 1 -> 2,3 Stored"_ba, queued});
    addScript("the message right after the 354", Stage::Rcpt,
              {"C< DATA\r\nFrom: alice@project.com\r\n\r\nHello\r\n.\r\n"_ba, go, "D: 1 -> 2 Stored"_ba, queued});
    addScript("empty message", Stage::Rcpt, {"C: DATA"_ba, go, "C< .\r\n"_ba, "D: 1 -> 2 Stored"_ba, queued});
    addScript("transaction over after 250", Stage::Rcpt,
              {"C: DATA"_ba, go, message, "D: 1 -> 2 Stored"_ba, queued, "C: RCPT TO:<carol@project.com>"_ba,
               "S: 503 5.5.1 ..."_ba, "C: MAIL FROM:<alice@project.com>"_ba, "S: 250 2.1.0 OK"_ba,
               "C: RCPT TO:<carol@project.com>"_ba, "S: 250 2.1.5 OK"_ba, "C: DATA"_ba, go, message,
               "D: 1 -> 3 Stored"_ba, queued});
    addScript("storage failed", Stage::Rcpt,
              {"C: DATA"_ba, go, message, "D: 1 -> 2 Failed"_ba, "S: 451 4.3.0 ..."_ba,
               "C: MAIL FROM:<alice@project.com>"_ba, "S: 250 2.1.0 OK"_ba});
    addScript("disk full", Stage::Rcpt,
              {"C: DATA"_ba, go, message, "D: 1 -> 2 DiskFull"_ba, "S: 452 4.3.1 ..."_ba,
               "C: MAIL FROM:<alice@project.com>"_ba, "S: 250 2.1.0 OK"_ba});
    // docs/protocol/smtp.md §7: refused, read to the end, and the session goes
    // on as after RSET: the recipients are gone, a new MAIL works.
    addScript("header section too large, then a new transaction", Stage::Rcpt,
              {"C: DATA"_ba, go, "C< "_ba + headerOfSize(257) + "body\r\n.\r\n"_ba,
               "S: 552 5.3.4 Header section too large"_ba, "C: DATA"_ba, "S: 503 5.5.1 ..."_ba,
               "C: MAIL FROM:<alice@project.com>"_ba, "S: 250 2.1.0 OK"_ba, "C: RCPT TO:<carol@project.com>"_ba,
               "S: 250 2.1.5 OK"_ba, "C: DATA"_ba, go, "C< "_ba + headerOfSize(256) + "body\r\n.\r\n"_ba,
               "D: 1 -> 3 Stored"_ba, queued},
              false, maxHeaderBytes(256));
    addScript("commands wait for the commit", Stage::Rcpt,
              {"C: DATA"_ba, go, "C< From: alice@project.com\r\n\r\nHello\r\n.\r\nNOOP\r\n"_ba, "D: 1 -> 2 Stored"_ba,
               queued, "S: 250 2.0.0 OK"_ba});
}

// ---- RSET, NOOP, VRFY, HELP, QUIT, errors ---------------------------------------

void TestSmtpSession::otherCommands_data()
{
    scriptColumns();
    const QByteArray ok = "S: 250 2.0.0 OK"_ba;
    const QByteArray unrecognized = "S: 500 5.5.2 Command unrecognized"_ba;
    const QByteArray tooLong = "S: 500 5.5.2 Line too long"_ba;

    addScript("RSET before EHLO", Stage::Greeted, {"C: RSET"_ba, ok});
    addScript("RSET ends the transaction, not the login", Stage::Rcpt,
              {"C: RSET"_ba, ok, "C: DATA"_ba, "S: 503 5.5.1 ..."_ba, "A: 1"_ba, "C: MAIL FROM:<alice@project.com>"_ba,
               "S: 250 2.1.0 OK"_ba});
    addScript("rset", Stage::Greeted, {"C: rset"_ba, ok});
    addScript("NOOP before EHLO", Stage::Greeted, {"C: NOOP"_ba, ok});
    addScript("noop", Stage::Greeted, {"C: noop"_ba, ok});
    addScript("NOOP with an argument", Stage::Greeted, {"C: NOOP hello"_ba, ok});
    addScript("NOOP keeps the transaction", Stage::Rcpt,
              {"C: NOOP"_ba, ok, "C: RCPT TO:<carol@project.com>"_ba, "S: 250 2.1.5 OK"_ba});
    addScript("VRFY before EHLO", Stage::Greeted, {"C: VRFY bob"_ba, "S: 252 2.5.0 Cannot VRFY user"_ba});
    addScript("VRFY authenticated", Stage::Authenticated,
              {"C: VRFY bob@project.com"_ba, "S: 252 2.5.0 Cannot VRFY user"_ba});
    addScript("vrfy", Stage::Tls, {"C: vrfy dave"_ba, "S: 252 2.5.0 Cannot VRFY user"_ba});
    addScript("HELP", Stage::Greeted, {"C: HELP"_ba, "S: 214 2.0.0 ..."_ba});
    addScript("help authenticated", Stage::Authenticated, {"C: help"_ba, "S: 214 2.0.0 ..."_ba});
    addScript("QUIT", Stage::Greeted, {"C: QUIT"_ba, "S: 221 2.0.0 Bye"_ba}, true);
    addScript("quit", Stage::Tls, {"C: quit"_ba, "S: 221 2.0.0 Bye"_ba}, true);
    addScript("QUIT inside a transaction delivers nothing", Stage::Rcpt, {"C: QUIT"_ba, "S: 221 2.0.0 Bye"_ba}, true);
    addScript("nothing after QUIT", Stage::Authenticated,
              {"C< QUIT\r\nNOOP\r\n"_ba, "S: 221 2.0.0 Bye"_ba, "C: MAIL FROM:<alice@project.com>"_ba}, true);
    addScript("unknown command", Stage::Greeted, {"C: FOO"_ba, unrecognized});
    addScript("unknown command with arguments", Stage::Tls, {"C: XYZZY plugh"_ba, unrecognized});
    addScript("unknown command, then a good one", Stage::Greeted, {"C: FOO"_ba, unrecognized, "C: NOOP"_ba, ok});
    addScript("EHLO without a domain", Stage::Greeted, {"C: EHLO"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("HELO without a domain", Stage::Greeted, {"C: HELO"_ba, "S: 501 5.5.4 ..."_ba});
    addScript("a command line of 512 octets", Stage::Greeted, {"C: NOOP "_ba + QByteArray(505, 'x'), ok});
    addScript("a command line of 513 octets", Stage::Greeted, {"C: NOOP "_ba + QByteArray(506, 'x'), tooLong});
    addScript("a long line, then a command", Stage::Greeted,
              {"C: NOOP "_ba + QByteArray(600, 'x'), tooLong, "C: NOOP"_ba, ok});
    addScript("a command past octet 512 of a line is not run", Stage::Greeted,
              {"C: "_ba + QByteArray(600, 'x') + "QUIT"_ba, tooLong, "C: NOOP"_ba, ok});
    addScript("a line of 100000 octets", Stage::Authenticated,
              {"C: MAIL FROM:<alice@project.com> "_ba + QByteArray(100000, 'x'), tooLong,
               "C: MAIL FROM:<alice@project.com>"_ba, "S: 250 2.1.0 OK"_ba});
}

void TestSmtpSession::errorLimits_data()
{
    scriptColumns();
    const QByteArray unrecognized = "S: 500 5.5.2 Command unrecognized"_ba;
    const QByteArray tooMany = "S: 421 4.7.0 Too many errors"_ba;

    QByteArrayList nine;
    for (int i = 0; i < 9; ++i)
        nine << "C: FOO"_ba << unrecognized;
    addScript("nine errors keep the session", Stage::Greeted, nine + QByteArrayList{"C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("ten unknown commands", Stage::Greeted,
              nine + QByteArrayList{"C: FOO"_ba, "S? 500 5.5.2 Command unrecognized"_ba, tooMany, "C: NOOP"_ba}, true);

    QByteArrayList longLines;
    for (int i = 0; i < 9; ++i)
        longLines << "C: NOOP "_ba + QByteArray(600, 'x') << "S: 500 5.5.2 Line too long"_ba;
    addScript("ten long lines", Stage::Greeted,
              longLines + QByteArrayList{"C: NOOP "_ba + QByteArray(600, 'x'), "S? 500 5.5.2 Line too long"_ba, tooMany},
              true);

    QByteArrayList mixed;
    for (int i = 0; i < 5; ++i)
        mixed << "C: FOO"_ba << unrecognized;
    for (int i = 0; i < 4; ++i)
        mixed << "C: MAIL TO:<alice@project.com>"_ba << "S: 501 5.5.4 ..."_ba;
    addScript("ten errors of two kinds", Stage::Authenticated,
              mixed + QByteArrayList{"C: MAIL TO:<alice@project.com>"_ba, "S? 501 5.5.4 ..."_ba, tooMany,
                                     "C: MAIL FROM:<alice@project.com>"_ba},
              true);

    const QByteArray invalid = "S: 535 5.7.8 Authentication credentials invalid"_ba;
    const QByteArray wrong = "C: AUTH PLAIN "_ba + plain("alice"_ba, "wrong-password"_ba);
    const QByteArray rejected = "L: alice wrong-password -> Rejected"_ba;
    addScript("three failed logins", Stage::Tls,
              {wrong, rejected, invalid, wrong, rejected, invalid, wrong, rejected,
               "S? 535 5.7.8 Authentication credentials invalid"_ba, "S: 421 4.7.0 ..."_ba,
               "C: AUTH PLAIN "_ba + alicePlain(), "A: 0"_ba},
              true);
    addScript("two failed logins, then success", Stage::Tls,
              {wrong, rejected, invalid, wrong, rejected, invalid, "C: AUTH PLAIN "_ba + alicePlain(),
               "L: alice alice-password -> Accepted 1"_ba, "S: 235 2.7.0 Authentication successful"_ba, "A: 1"_ba});
    addScript("failed logins over PLAIN and LOGIN", Stage::Tls,
              {wrong, rejected, invalid, "C: AUTH LOGIN"_ba, "S: 334 ..."_ba, "C: "_ba + b64("alice"_ba),
               "S: 334 ..."_ba, "C: "_ba + b64("wrong-password"_ba), rejected, invalid, wrong, rejected,
               "S? 535 5.7.8 Authentication credentials invalid"_ba, "S: 421 4.7.0 ..."_ba},
              true);
}

void TestSmtpSession::timeouts_data()
{
    scriptColumns();
    addScript("idle", Stage::Ehlo, {"X: timeout"_ba, "S: 421 4.4.2 Timeout"_ba, "C: NOOP"_ba}, true);
    addScript("inside DATA, nothing stored", Stage::Rcpt,
              {"C: DATA"_ba, "S: "_ba + DataGo, "C< From: alice@project.com\r\n\r\npart of a message\r\n"_ba,
               "X: timeout"_ba, "S: 421 4.4.2 Timeout"_ba, "C< .\r\n"_ba},
              true);
    // The connection's deadline for DATA as a whole (found: a byte every 4 s
    // kept DATA open for ever under a 5 s idle timeout).
    addScript("DATA deadline, nothing stored", Stage::Rcpt,
              {"C: DATA"_ba, "S: "_ba + DataGo, "C< From: alice@project.com\r\n\r\npart of a message\r\n"_ba,
               "X: data deadline"_ba, "S: 421 4.4.2 Message data took too long, closing connection"_ba,
               "C< .\r\nNOOP\r\n"_ba},
              true);
    addScript("DATA deadline in the middle of a line", Stage::Rcpt,
              {"C: DATA"_ba, "S: "_ba + DataGo, "C< From: alice@project.com\r\n\r\nhalf a li"_ba,
               "X: data deadline"_ba, "S: 421 4.4.2 ..."_ba},
              true);
    // A deadline that fires late (the final dot came meanwhile) changes nothing.
    addScript("DATA deadline outside DATA", Stage::Rcpt,
              {"X: data deadline"_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba, "C: DATA"_ba, "S: "_ba + DataGo,
               "C< From: alice@project.com\r\n\r\nwhole\r\n.\r\n"_ba, "X: data deadline"_ba, "D: 1 -> 2 Stored"_ba,
               "S: "_ba + Queued, "X: data deadline"_ba, "C: NOOP"_ba, "S: 250 2.0.0 OK"_ba});
    addScript("shutting down", Stage::Authenticated, {"X: shutdown"_ba, "S: 421 4.3.2 ..."_ba}, true);
    addScript("shutting down inside DATA, nothing stored", Stage::Rcpt,
              {"C: DATA"_ba, "S: "_ba + DataGo, "C< From: alice@project.com\r\n\r\npart\r\n"_ba, "X: shutdown"_ba,
               "S: 421 4.3.2 ..."_ba},
              true);
}

// ---- the message as delivered ------------------------------------------------------

void TestSmtpSession::message_data()
{
    conversationColumns();
    const QByteArray fromAlice = "From: alice@project.com\r\n"_ba;

    addAccepted("complete header kept as sent",
                FullHeader + "\r\nHello Bob.\r\n\r\n  indented \r\n\ttab\r\n\r\n.\r\n"_ba);
    addAccepted("Message-ID and Date added", fromAlice + "Subject: no id, no date\r\n\r\nbody\r\n.\r\n"_ba);
    addAccepted("From added",
                "Subject: no from\r\nDate: Sun, 22 Nov 2026 13:05:00 +0000\r\nMessage-ID: <nofrom@client.example>\r\n"
                "\r\nbody\r\n.\r\n"_ba);
    addAccepted("From, Message-ID and Date added", "Subject: only a subject\r\n\r\nbody\r\n.\r\n"_ba);
    addAccepted("a From: line in the body is no header",
                "Subject: s\r\n\r\nFrom: bob@project.com\r\n.\r\n"_ba);
    addMessage("dot-stuffed lines", FullHeader + "\r\n..one dot\r\n...two dots\r\n..\r\nnot. stuffed .\r\n.\r\n"_ba,
               Queued, FullHeader + "\r\n.one dot\r\n..two dots\r\n.\r\nnot. stuffed .\r\n"_ba);
    addMessage("a dot on the very first line", "..X-Dotted: first line\r\n"_ba + FullHeader + "\r\nbody\r\n.\r\n"_ba,
               Queued, ".X-Dotted: first line\r\n"_ba + FullHeader + "\r\nbody\r\n"_ba);
    addMessage("a stuffed dot as the last line", FullHeader + "\r\nbody\r\n..\r\n.\r\n"_ba, Queued,
               FullHeader + "\r\nbody\r\n.\r\n"_ba);
    addMessage("bare LF stored as CRLF", "From: alice@project.com\nSubject: unix\n\nline one\nline two\r\n.\r\n"_ba,
               Queued, "From: alice@project.com\r\nSubject: unix\r\n\r\nline one\r\nline two\r\n"_ba);
    addAccepted("8-bit UTF-8 kept",
                fromAlice + "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\r\n.\r\n"_ba);
    addAccepted("folded From: with our address",
                "From: Alice\r\n <alice@project.com>\r\nSubject: folded\r\n\r\nbody\r\n.\r\n"_ba);
    addAccepted("From: with the domain in capitals",
                "From: Alice <alice@PROJECT.COM>\r\nSubject: s\r\n\r\nbody\r\n.\r\n"_ba);
    addAccepted("lower-case from: header", "from: alice@project.com\r\nSubject: s\r\n\r\nbody\r\n.\r\n"_ba);
    addAccepted("a line of 1000 octets", fromAlice + "\r\n"_ba + QByteArray(998, 'y') + "\r\n.\r\n"_ba);

    QByteArray big = fromAlice + "Subject: big\r\n\r\n"_ba;
    for (int i = 0; i < 20; ++i)
        big += QByteArray(70, 'z') + "\r\n";
    big += "QUIT\r\nMAIL FROM:<alice@project.com>\r\n"_ba;
    for (int i = 0; i < 5; ++i)
        big += QByteArray(70, 'z') + "\r\n";
    addMessage("over the size limit, read to the end", big + ".\r\n"_ba, "552 5.3.4 Message too big"_ba, QByteArray(),
               maxMessageBytes(1000));

    // docs/protocol/smtp.md §7: the header section counts at most maxHeaderBytes,
    // delimited as HeaderBlock::parse() does (HeaderSectionMeter), counted
    // as stored: unstuffed, CRLF line ends. Past it: 552, nothing stored.
    const QByteArray headerTooLarge = "552 5.3.4 Header section too large"_ba;
    const SmtpSessionSettings smallHeader = maxHeaderBytes(256);
    addMessage("header section at the limit", headerOfSize(256) + "body\r\n.\r\n"_ba, Queued,
               headerOfSize(256) + "body\r\n"_ba, smallHeader);
    addMessage("header section one octet over the limit, read to the end",
               headerOfSize(257) + "body\r\nQUIT\r\nMAIL FROM:<alice@project.com>\r\n.\r\n"_ba, headerTooLarge,
               QByteArray(), smallHeader);
    addMessage("many addresses in To:", headerOfSize(2000, 60) + "body\r\n.\r\n"_ba, headerTooLarge, QByteArray(),
               smallHeader);
    addMessage("no empty line: all of it is header", headerOfSize(300).chopped(2) + ".\r\n"_ba, headerTooLarge,
               QByteArray(), smallHeader);
    addMessage("no empty line, under the limit", headerOfSize(250).chopped(2) + ".\r\n"_ba, Queued,
               headerOfSize(250).chopped(2), smallHeader);
    const QByteArray longBody = QByteArray(70, 'b').append("\r\n").repeated(10);
    addMessage("a big body after a small header", headerOfSize(200) + longBody + ".\r\n"_ba, Queued,
               headerOfSize(200) + longBody, smallHeader);
    // As in the parsers, a line that is neither a field nor a continuation
    // ends the header section: what follows is body, however long.
    addMessage("a line that is no field ends the header section",
               "From: alice@project.com\r\nno field here\r\n"_ba + longBody + ".\r\n"_ba, Queued,
               "From: alice@project.com\r\nno field here\r\n"_ba + longBody, smallHeader);
    addMessage("continuation lines count", "From: alice@project.com\r\nX-Folded: a\r\n"_ba
                   + QByteArray(" continued\r\n").repeated(30) + "\r\nbody\r\n.\r\n"_ba,
               headerTooLarge, QByteArray(), smallHeader);
    // Dot-stuffing is transport: 257 octets sent, 256 stored.
    addMessage("a stuffed dot is not counted", ".."_ba + headerOfSize(255) + "body\r\n.\r\n"_ba, Queued,
               "."_ba + headerOfSize(255) + "body\r\n"_ba, smallHeader);
    // Bare LF lines are stored with CRLF, and counted so: 246 octets sent, 257 stored.
    QByteArray lfHeader = headerOfSize(257);
    lfHeader.replace("\r\n", "\n");
    addMessage("bare LF lines count as stored", lfHeader + "body\r\n.\r\n"_ba, headerTooLarge, QByteArray(),
               smallHeader);
    addMessage("message size limit reached before the header limit", headerOfSize(300) + longBody.repeated(2) + ".\r\n"_ba,
               "552 5.3.4 Message too big"_ba, QByteArray(), [] {
                   SmtpSessionSettings settings = maxHeaderBytes(256);
                   settings.maxMessageBytes = 250;
                   return settings;
               }());

    const QByteArray invalid = "550 5.6.0 ..."_ba;
    addMessage("bare CR in the body", fromAlice + "\r\nfoo\rbar\r\nQUIT\r\n.\r\n"_ba, invalid, QByteArray());
    addMessage("CR before CRLF", fromAlice + "\r\ntrailing CR\r\r\n.\r\n"_ba, invalid, QByteArray());
    addMessage("bare CR in the header", fromAlice + "Subject: a\rb\r\n\r\nbody\r\n.\r\n"_ba, invalid, QByteArray());
    addMessage("NUL in the body", fromAlice + "\r\nfoo\0bar\r\n.\r\n"_ba, invalid, QByteArray());
    addMessage("NUL in the header", fromAlice + "Subject: a\0b\r\n\r\nbody\r\n.\r\n"_ba, invalid, QByteArray());
    addMessage("a line of 1001 octets", fromAlice + "\r\n"_ba + QByteArray(999, 'y') + "\r\nQUIT\r\n.\r\n"_ba, invalid,
               QByteArray());
    addMessage("a line of 1003 octets, then QUIT", fromAlice + "\r\n"_ba + QByteArray(1001, 'y') + "\r\nQUIT\r\n.\r\n"_ba,
               invalid, QByteArray());
    // The end right after an overlong line still ends the data.
    addMessage("a line of 1003 octets, then the end", fromAlice + "\r\n"_ba + QByteArray(1001, 'y') + "\r\n.\r\n"_ba,
               invalid, QByteArray());
    addMessage("a line of 1002 octets, then the end", fromAlice + "\r\n"_ba + QByteArray(1000, 'y') + "\r\n.\r\n"_ba,
               invalid, QByteArray());
    addMessage("a line of 3000 octets", fromAlice + "\r\n"_ba + QByteArray(3000, 'y') + "\r\n.\r\n"_ba, invalid,
               QByteArray());

    const QByteArray notOurs = "550 5.7.1 ..."_ba;
    addMessage("From: another account", "From: bob@project.com\r\nSubject: s\r\n\r\nbody\r\nQUIT\r\n.\r\n"_ba, notOurs,
               QByteArray());
    addMessage("From: our name, another address", "From: Alice <bob@project.com>\r\n\r\nbody\r\n.\r\n"_ba, notOurs,
               QByteArray());
    addMessage("From: another domain", "From: alice@example.org\r\n\r\nbody\r\n.\r\n"_ba, notOurs, QByteArray());
    addMessage("lower-case from: with another account", "from: bob@project.com\r\n\r\nbody\r\n.\r\n"_ba, notOurs,
               QByteArray());
    addMessage("folded From: with another address", "From: Alice\r\n <bob@project.com>\r\n\r\nbody\r\n.\r\n"_ba,
               notOurs, QByteArray());
    addMessage("From: after a bare LF", "Subject: s\nFrom: bob@project.com\n\nbody\r\n.\r\n"_ba, notOurs,
               QByteArray());
}

// CVE-2023-51764/51765/51766: only <CRLF>.<CRLF> ends the data.
void TestSmtpSession::smuggling_data()
{
    conversationColumns();
    const QByteArray real = "From: alice@project.com\r\nSubject: real\r\n\r\nreal body"_ba;
    const QByteArray smuggled = "MAIL FROM:<alice@project.com>\r\nRCPT TO:<carol@project.com>\r\nDATA\r\n"
                                "From: alice@project.com\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n.\r\n"_ba;
    // What the LF variants leave: one message, the fake end and the smuggled
    // commands as content, bare LFs as CRLF.
    const QByteArray content = "From: alice@project.com\r\nSubject: real\r\n\r\nreal body\r\n.\r\n"
                               "MAIL FROM:<alice@project.com>\r\nRCPT TO:<carol@project.com>\r\nDATA\r\n"
                               "From: alice@project.com\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n"_ba;

    const auto add = [&](const char *name, const QByteArray &fakeEnd, const QByteArray &stored) {
        addMessage(name, real + fakeEnd + smuggled, stored.isNull() ? "550 5.6.0 ..."_ba : Queued, stored);
    };
    add("LF.LF", "\n.\n"_ba, content);
    add("LF.CRLF", "\n.\r\n"_ba, content);
    add("CRLF.LF", "\r\n.\n"_ba, content);
    add("CR.CR", "\r.\r"_ba, QByteArray());
    add("CR.LF", "\r.\n"_ba, QByteArray());
    add("CR.CRLF", "\r.\r\n"_ba, QByteArray());
    add("CRLF.CR", "\r\n.\r"_ba, QByteArray());
    add("NUL before the dot", "\r\n\0.\r\n"_ba, QByteArray());
    add("NUL after the dot", "\r\n.\0\r\n"_ba, QByteArray());
    add("CRLF.CR NUL LF", "\r\n.\r\0\n"_ba, QByteArray());
    add("LF NUL.LF", "\n\0.\n"_ba, QByteArray());
}

// RFC 2920: a whole transaction in one go; replies in order, one delivery.
void TestSmtpSession::pipelining_data()
{
    conversationColumns();
    const QByteArray message = "From: Alice <alice@project.com>\r\n"
                               "To: bob@project.com, carol@project.com\r\n"
                               "Subject: pipelined\r\n"
                               "Date: Sun, 22 Nov 2026 13:05:00 +0000\r\n"
                               "Message-ID: <pipelined@client.example>\r\n"
                               "\r\n"
                               "..a stuffed line\r\n"
                               "last line\r\n"_ba;
    const QByteArray stored = "From: Alice <alice@project.com>\r\n"
                              "To: bob@project.com, carol@project.com\r\n"
                              "Subject: pipelined\r\n"
                              "Date: Sun, 22 Nov 2026 13:05:00 +0000\r\n"
                              "Message-ID: <pipelined@client.example>\r\n"
                              "\r\n"
                              ".a stuffed line\r\n"
                              "last line\r\n"_ba;
    const QByteArray transaction = "MAIL FROM:<alice@project.com>\r\n"
                                   "RCPT TO:<bob@project.com>\r\n"
                                   "RCPT TO:<carol@project.com>\r\n"
                                   "DATA\r\n"_ba
        + message + ".\r\nQUIT\r\n"_ba;
    const QByteArrayList transactionReplies{"250 2.1.0 OK"_ba, "250 2.1.5 OK"_ba, "250 2.1.5 OK"_ba, DataGo, Queued,
                                            "221 2.0.0 Bye"_ba};

    QTest::newRow("EHLO to QUIT after TLS and AUTH")
        << testSettings() << Stage::Authenticated << QByteArray("EHLO client.example\r\n"_ba + transaction)
        << QByteArrayList{"250 * ..."_ba} + transactionReplies << stored << QList<qint64>{2, 3} << QByteArrayList()
        << true;
    QTest::newRow("AUTH to QUIT after TLS")
        << testSettings() << Stage::Tls << QByteArray("AUTH PLAIN "_ba + alicePlain() + "\r\n"_ba + transaction)
        << QByteArrayList{"235 2.7.0 Authentication successful"_ba} + transactionReplies << stored
        << QList<qint64>{2, 3} << QByteArrayList{"alice alice-password"_ba} << true;
    QTest::newRow("implicit TLS, EHLO to QUIT")
        << implicitTls() << Stage::Greeted
        << QByteArray("EHLO client.example\r\nAUTH PLAIN "_ba + alicePlain() + "\r\n"_ba + transaction)
        << QByteArrayList{"250 * ..."_ba, "235 2.7.0 Authentication successful"_ba} + transactionReplies << stored
        << QList<qint64>{2, 3} << QByteArrayList{"alice alice-password"_ba} << true;
    QTest::newRow("RSET between two transactions")
        << testSettings() << Stage::Authenticated
        << QByteArray("MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nRSET\r\n"
                      "MAIL FROM:<alice@project.com>\r\nRCPT TO:<carol@project.com>\r\nDATA\r\n"_ba
                      + message + ".\r\nQUIT\r\n"_ba)
        << QByteArrayList{"250 2.1.0 OK"_ba, "250 2.1.5 OK"_ba, "250 2.0.0 OK"_ba, "250 2.1.0 OK"_ba, "250 2.1.5 OK"_ba,
                          DataGo, Queued, "221 2.0.0 Bye"_ba}
        << stored << QList<qint64>{3} << QByteArrayList() << true;
    QTest::newRow("refused commands in the pipeline")
        << testSettings() << Stage::Authenticated
        << QByteArray("MAIL FROM:<bob@project.com>\r\nMAIL FROM:<alice@project.com>\r\nRCPT TO:<dave@project.com>\r\n"
                      "RCPT TO:<bob@example.org>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n"_ba
                      + message + ".\r\nNOOP\r\n"_ba)
        << QByteArrayList{"553 5.7.1 Sender address not owned by you"_ba, "250 2.1.0 OK"_ba,
                          "550 5.1.1 No such user here"_ba, "550 5.7.1 no such recipient exists (relaying denied)"_ba,
                          "250 2.1.5 OK"_ba, DataGo, Queued, "250 2.0.0 OK"_ba}
        << stored << QList<qint64>{2} << QByteArrayList() << false;
}

// EHLO is optional; the Received: line then names the client "unknown",
// never an empty name. Return-Path: comes first (RFC 5321 §4.4).
void TestSmtpSession::receivedWithoutEhlo()
{
    SmtpSessionSettings settings;
    settings.implicitTls = true;
    Driver driver(settings);
    driver.start();
    const QByteArray plain = QByteArray("\0alice\0secret-pass-1", 20).toBase64();
    driver.feed("AUTH PLAIN " + plain + "\r\nMAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n"
                "Subject: s\r\n\r\nbody\r\n.\r\n"_ba);
    driver.answerAll();
    QCOMPARE(driver.deliveries.size(), 1);
    QVERIFY2(driver.deliveries.first().message.startsWith(
                 "Return-Path: <alice@project.com>\r\nReceived: from unknown (["_ba),
             driver.deliveries.first().message.left(80).constData());
}

// Review finding: a first line "From : other" was taken for an mbox
// separator, skipped by the sender check, and stored as a second From:.
void TestSmtpSession::fromSpoofOnTheFirstLine_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("From : other on the first line") << "From : Bob <bob@project.com>\r\nSubject: s\r\n\r\nx\r\n"_ba << false;
    QTest::newRow("From: other on the first line") << "From: bob@project.com\r\nSubject: s\r\n\r\nx\r\n"_ba << false;
    QTest::newRow("own From : on the first line") << "From : alice@project.com\r\nSubject: s\r\n\r\nx\r\n"_ba << true;
    QTest::newRow("two From fields, one own") << "From: alice@project.com\r\nFrom: bob@project.com\r\n\r\nx\r\n"_ba << false;
}

void TestSmtpSession::fromSpoofOnTheFirstLine()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, accepted);
    SmtpSessionSettings settings;
    settings.implicitTls = true;
    Driver driver(settings);
    driver.start();
    const QByteArray plain = QByteArray("\0alice\0secret-pass-1", 20).toBase64();
    driver.feed("AUTH PLAIN " + plain + "\r\nMAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n" + message
                    + ".\r\n");
    driver.answerAll();
    QCOMPARE(driver.deliveries.size(), accepted ? 1 : 0);
    if (accepted) {
        // Exactly one From: field in what is stored.
        const QByteArray stored = driver.deliveries.first().message;
        const QByteArray head = stored.left(stored.indexOf("\r\n\r\n"));
        QCOMPARE(head.count("\r\nFrom"), 1);
    }
}

// Review finding: a client pipelining commands without reading replies made
// the session hold megabytes of replies. It stops taking commands once 64
// KiB wait, and goes on when the output has been taken.
void TestSmtpSession::repliesDoNotPileUp()
{
    SmtpSessionSettings settings;
    settings.maxErrors = 1000000;
    Driver driver(settings);
    driver.session.start();
    (void)driver.session.takeOutput();
    const QByteArray flood = "HELP\r\n"_ba.repeated(20000);
    driver.session.receive(flood);
    const QByteArray first = driver.session.takeOutput();
    QVERIFY2(first.size() < 2 * SmtpSession::MaxPendingOutput, QByteArray::number(first.size()).constData());
    QVERIFY(driver.session.isHoldingInput());
    qsizetype total = first.count('\n');
    while (driver.session.isHoldingInput()) {
        driver.session.resume();
        const QByteArray more = driver.session.takeOutput();
        QVERIFY(more.size() < 2 * SmtpSession::MaxPendingOutput);
        QVERIFY(!more.isEmpty());
        total += more.count('\n');
    }
    QCOMPARE(total, 20000); // every command answered, none lost
    QVERIFY(!driver.session.hasPendingInput());

    // Half a command is not held input: the connection must read on.
    driver.session.receive("NOO"_ba);
    QVERIFY(driver.session.hasPendingInput());
    QVERIFY(!driver.session.isHoldingInput());
    driver.session.receive("P\r\n"_ba);
    QCOMPARE(driver.session.takeOutput(), "250 2.0.0 OK\r\n"_ba);
}

// The limit measures what the parsers take for the header section:
// HeaderBlock::sectionSize() (HeaderSectionMeter, which smtpd feeds line by
// line) agrees with HeaderBlock::parse()'s bodyOffset() on every input, in
// both first-line modes.
void TestSmtpSession::headerSectionMeasure_data()
{
    QTest::addColumn<QByteArray>("data");
    const auto row = [](const char *name, const QByteArray &data) { QTest::newRow(name) << data; };
    row("empty", QByteArray());
    row("only an empty line", "\r\n"_ba);
    row("fields and body", "Subject: a\r\nTo: b@c\r\n\r\nbody\r\n"_ba);
    row("no empty line", "Subject: a\r\nTo: b@c\r\n"_ba);
    row("no line end at the end", "Subject: a\r\nTo: b@c"_ba);
    row("a lone CR at the end", "Subject: a\r"_ba);
    row("bare LF", "Subject: a\nTo: b@c\n\nbody\n"_ba);
    row("CR CR LF", "Subject: a\r\r\n\r\nbody"_ba);
    row("empty line of CR CR LF", "Subject: a\r\n\r\r\nbody"_ba);
    row("mbox separator first", "From alice Sun Nov 22 13:05:00 2026\r\nSubject: a\r\n\r\nbody"_ba);
    row("From : on the first line", "From : alice@project.com\r\n\r\nbody"_ba);
    row("continuation first", " folded\r\nSubject: a\r\n\r\nbody"_ba);
    row("tab continuation", "Subject: a\r\n\tb\r\n\r\nbody"_ba);
    row("a line that is no field", "Subject: a\r\nno field\r\nTo: b@c\r\n\r\n"_ba);
    row("body at once", "Hello world\r\n\r\n"_ba);
    row("colon first", ": value\r\n\r\n"_ba);
    row("space before the colon", "Subject : a\r\n\r\n"_ba);
    row("space in the name", "Sub ject: a\r\n\r\n"_ba);
    row("8-bit name", "Subj\xc3\xa9" "ct: a\r\n\r\n"_ba);
    row("8-bit value", "Subject: caf\xc3\xa9\r\n\r\n"_ba);
    row("NUL in a value", QByteArray("Subject: a\0b\r\n\r\nbody", 20));
    row("dot line", ".\r\nSubject: a\r\n\r\n"_ba);

    // Random lines from the same pieces, in any order.
    const QByteArrayList pieces{"Subject: x"_ba, " cont"_ba,  "\tcont"_ba,     ""_ba,         "From x"_ba,
                                "From: a@b"_ba,  "x"_ba,      "X : y"_ba,       ": y"_ba,      "A b: c"_ba,
                                "\r"_ba,         "To:"_ba,    "\xff: y"_ba,     "Y:\r"_ba};
    const QByteArrayList ends{"\r\n"_ba, "\n"_ba, "\r\r\n"_ba};
    QRandomGenerator random(20);
    for (int i = 0; i < 300; ++i) {
        QByteArray data;
        const int lines = int(random.bounded(1, 8));
        for (int j = 0; j < lines; ++j)
            data += pieces.at(random.bounded(pieces.size())) + ends.at(random.bounded(ends.size()));
        if (random.bounded(4) == 0)
            data.chop(random.bounded(1, 3));
        QTest::addRow("random %d", i) << data;
    }
}

void TestSmtpSession::headerSectionMeasure()
{
    QFETCH(QByteArray, data);
    for (const auto mode : {HeaderBlock::FirstLine::MayBeMboxSeparator, HeaderBlock::FirstLine::IsHeader}) {
        const qsizetype parsed = HeaderBlock::parse(data, mode).bodyOffset();
        QCOMPARE(HeaderBlock::sectionSize(data, mode), parsed);
        // Fed through a meter whose lines come one at a time, each with its
        // own line end, like smtpd's DATA; nothing after the end counts.
        HeaderSectionMeter meter(mode);
        qsizetype pos = 0;
        while (pos < data.size()) {
            const qsizetype lf = data.indexOf('\n', pos);
            const qsizetype next = lf < 0 ? data.size() : lf + 1;
            QByteArrayView text = QByteArrayView(data).sliced(pos, (lf < 0 ? data.size() : lf) - pos);
            if (text.endsWith('\r'))
                text.chop(1);
            meter.addLine(text, next - pos - text.size());
            pos = next;
        }
        QCOMPARE(meter.size(), parsed);
        if (parsed < data.size())
            QVERIFY(meter.isComplete());
    }
}

// The default is docs/protocol/smtp.md §11's 256 KiB: exactly that passes, one octet more is
// refused, and so are the 2.6 million addresses of the probe (here 30,000:
// the refusal comes at 256 KiB however many follow); 5,000 addresses fit.
void TestSmtpSession::headerSectionLimitByDefault_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("256 KiB") << headerOfSize(256 * 1024) << true;
    QTest::newRow("256 KiB and one octet") << headerOfSize(256 * 1024 + 1) << false;
    QTest::newRow("5,000 addresses in To:") << headerOfSize(120 * 1024, 5000) << true;
    QTest::newRow("30,000 addresses in To:") << headerOfSize(800 * 1024, 30000) << false;
}

void TestSmtpSession::headerSectionLimitByDefault()
{
    QFETCH(QByteArray, header);
    QFETCH(bool, accepted);
    QCOMPARE(SmtpSessionSettings().maxHeaderBytes, 256 * 1024);
    QCOMPARE(HeaderBlock::sectionSize(header, HeaderBlock::FirstLine::IsHeader), header.size());
    SmtpSessionSettings settings;
    settings.implicitTls = true;
    Driver driver(settings);
    driver.start();
    driver.feed("AUTH PLAIN "_ba + alicePlain() + "\r\nMAIL FROM:<alice@project.com>\r\n"
                "RCPT TO:<bob@project.com>\r\nDATA\r\n"_ba + header + "body\r\n.\r\nNOOP\r\n"_ba);
    driver.answerAll();
    QCOMPARE(driver.deliveries.size(), accepted ? 1 : 0);
    const QList<Reply> replies = driver.reader.replies;
    QCOMPARE(replies.size(), 7); // 220, 235, 250, 250, 354, the outcome, NOOP's 250
    if (accepted) {
        QVERIFY2(replies.at(5).code == 250, replies.at(5).wire.constData());
        const QByteArray &stored = driver.deliveries.first().message;
        QVERIFY(stored.endsWith(QByteArray(header + "body\r\n"_ba)));
    } else {
        QCOMPARE(replies.at(5).wire, "552 5.3.4 Header section too large\r\n"_ba);
    }
    QCOMPARE(replies.at(6).wire, "250 2.0.0 OK\r\n"_ba);
}

// The connection restarts its DATA deadline for each DATA, also when one
// refused message and the next DATA arrive in a single read.
void TestSmtpSession::dataStartsCountsEachData()
{
    Driver driver(maxHeaderBytes(256));
    driver.start();
    QVERIFY(runScript(driver, stageScript(maxHeaderBytes(256), Stage::Rcpt)).isEmpty());
    QCOMPARE(driver.session.dataStarts(), quint64(0));
    driver.feed("DATA\r\n"_ba + headerOfSize(300) + ".\r\nMAIL FROM:<alice@project.com>\r\n"
                "RCPT TO:<bob@project.com>\r\nDATA\r\nFrom: alice@project.com\r\n"_ba);
    QCOMPARE(driver.session.dataStarts(), quint64(2));
    QCOMPARE(driver.session.state(), SmtpSession::State::Data);
    driver.feed("\r\nbody\r\n.\r\n"_ba);
    QCOMPARE(driver.session.state(), SmtpSession::State::Waiting);
    QCOMPARE(driver.session.dataStarts(), quint64(2));
}

QTEST_GUILESS_MAIN(TestSmtpSession)
#include "tst_smtpsession.moc"
