// Pop3Session against docs/protocol/pop3.md (and the limits of smtp.md it
// shares): the greeting, CAPA, STLS and STLS injection, USER/PASS and AUTH
// PLAIN with every login outcome, STAT, LIST, UIDL, RETR, TOP, DELE, RSET,
// NOOP, QUIT and the deletions it commits, timeouts and shutdown, message
// numbers, unknown and out-of-state commands, the error and line limits,
// pipelining; and the static dotStuffed() and topOf().
//
// Rows are scripted conversations run by SessionKit (tests/support/
// sessionkit.h: the C and S steps), one step a string:
//   "C: line"    the client sends line + CRLF
//   "C< bytes"   the client sends the bytes as they are
//   "S: line"    the next output line is exactly this (without CRLF)
//   "S~ prefix"  the next output line starts with this
//   "S? prefix"  an optional line: consumed when it starts with this
//   "L: user password -> Accepted|AcceptedEmpty|Rejected|Throttled|Failed"
//                the login request the session must have made, and its
//                answer (Accepted: account 7 with the standard maildrop)
//   "F: 1001 RETR -> name", "F: 1001 TOP 2 -> name"
//                the fetch request (entry id, body lines) and its answer: a
//                named message of namedMessage(), or "gone" (nullopt)
//   "K: 1001,1005 -> true|false"
//                the commit request (account 7, these entries) and its answer
//   "R: 1001,1002" or "R: none"   what takeRetrieved() gives
//   "T: tls"     STLS was asked for: the handshake is done
//   "X: timeout", "X: shutdown", "X: stop" (stopTakingCommands())
//   "=: Transaction"   the session's state()
//   "I: pending" or "I: none"   hasPendingInput()
//   "A: 7"       accountId();  "M: standard" or "M: empty"   maildrop()
//   "E: yes" or "E: no"   isEncrypted()
//   "Z: login", "Z: fetch", "Z: commit"   an answer when no request is out
//                (Accepted with the standard maildrop, M1, true)
// L:, F: and K: fail when output is left unread before them: a command
// pipelined behind a request must not be answered before the request is.
// After the script no line, no partial output, no request and no retrieved
// entry may be left. Every script runs with each C step in one receive(),
// byte by byte, and with each C step in turn split in two at every boundary.

#include "pop3session.h"
#include "sessionkit.h"
#include "testbytes.h"

#include <QHash>
#include <QTest>

#include <algorithm>

using TestBytes::printable;
using TestBytes::plainCredentials;
using namespace Qt::StringLiterals;

// How far the session is brought before a row's script starts.
enum class Stage {
    Greeted,     // start(): the greeting
    Tls,         // STLS and tlsEstablished() (implicit TLS: nothing to do)
    Transaction, // USER alice, PASS alice-password, Accepted with the standard maildrop
};

Q_DECLARE_METATYPE(Stage)
Q_DECLARE_METATYPE(Pop3SessionSettings)

namespace {

constexpr qint64 AccountId = 7;

Pop3SessionSettings plainSettings()
{
    return {};
}

Pop3SessionSettings implicitTls()
{
    Pop3SessionSettings settings;
    settings.implicitTls = true;
    return settings;
}

// ---- the maildrop ------------------------------------------------------------------

// Message 1: a line that is only a dot and lines that start with dots.
const QByteArray M1 = "Received: from client.example ([192.0.2.7]) by mx.project.com (Mailroom)\r\n"
                      "From: Bob <bob@project.com>\r\n"
                      "Subject: one\r\n"
                      "\r\n"
                      "Hello Alice.\r\n"
                      ".hidden line\r\n"
                      "..two dots\r\n"
                      ".\r\n"
                      "bye\r\n"_ba;
// Message 2: three plain body lines.
const QByteArray M2 = "Received: from client.example ([192.0.2.7]) by mx.project.com (Mailroom)\r\n"
                      "Subject: two\r\n"
                      "\r\n"
                      "line 1\r\n"
                      "line 2\r\n"
                      "line 3\r\n"_ba;
// Message 3: a dot on the very first line, no line end at the end.
const QByteArray M3 = ".X-Dotted: on the very first line\r\n"
                      "Subject: three\r\n"
                      "\r\n"
                      "no final line end"_ba;

QList<Pop3Message> standardMaildrop()
{
    return {{1001, M1.size()}, {1002, M2.size()}, {1005, M3.size()}};
}

QByteArray n(qint64 value)
{
    return QByteArray::number(value);
}

QByteArray allOctets()
{
    return n(M1.size() + M2.size() + M3.size());
}

// What a fetch request is answered with (a TOP answer is already cut, as
// the backend does).
std::optional<QByteArray> namedMessage(const QByteArray &name, bool *known)
{
    static const QHash<QByteArray, QByteArray> messages{
        {"m1"_ba, M1},
        {"m2"_ba, M2},
        {"m3"_ba, M3},
        {"m1top0"_ba, M1.left(M1.indexOf("\r\n\r\n") + 4)},
        {"m2top2"_ba, "Received: from client.example ([192.0.2.7]) by mx.project.com (Mailroom)\r\n"
                      "Subject: two\r\n\r\nline 1\r\nline 2\r\n"_ba},
        {"m3top0"_ba, ".X-Dotted: on the very first line\r\nSubject: three\r\n\r\n"_ba},
        {"empty"_ba, ""_ba},
        {"dot"_ba, "."_ba},
    };
    *known = true;
    if (name == "gone")
        return std::nullopt;
    *known = messages.contains(name);
    return messages.value(name);
}

// The expected lines of a multi-line answer with this content: each line
// that starts with a dot gets another, then the terminating ".". Written
// line by line, not as Pop3Session::dotStuffed() does it.
QByteArrayList contentSteps(const QByteArray &content)
{
    QByteArrayList lines = content.split('\n');
    if (lines.last().isEmpty())
        lines.removeLast(); // the content ended with its line end
    QByteArrayList steps;
    for (QByteArray line : std::as_const(lines)) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.startsWith('.'))
            line.prepend('.');
        steps << "S: "_ba + line;
    }
    steps << "S: ."_ba;
    return steps;
}

// RETR: "+OK <size> octets", the dot-stuffed message, ".".
QByteArrayList retrSteps(const QByteArray &message)
{
    return QByteArrayList{"S: +OK "_ba + n(message.size()) + " octets"_ba} + contentSteps(message);
}

// TOP: "+OK ...", the cut message dot-stuffed, ".".
QByteArrayList topSteps(const QByteArray &cut)
{
    return QByteArrayList{"S~ +OK"_ba} + contentSteps(cut);
}

QByteArray messageNamed(const QByteArray &name)
{
    bool known = false;
    const std::optional<QByteArray> message = namedMessage(name, &known);
    Q_ASSERT(known && message);
    return message.value_or(QByteArray());
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64();
}


QString describe(const Pop3Request &request)
{
    if (const auto *login = std::get_if<Pop3LoginRequest>(&request))
        return u"login(%1, %2)"_s.arg(login->username, login->password);
    if (const auto *fetch = std::get_if<Pop3FetchRequest>(&request)) {
        return u"fetch(%1, %2)"_s.arg(QString::number(fetch->entryId),
                                      fetch->bodyLines ? u"TOP %1"_s.arg(*fetch->bodyLines) : u"RETR"_s);
    }
    const auto &commit = std::get<Pop3CommitRequest>(request);
    QStringList ids;
    for (const qint64 id : commit.deletedEntryIds)
        ids << QString::number(id);
    return u"commit(account %1: %2)"_s.arg(QString::number(commit.accountId), ids.join(u','));
}

QString stateName(Pop3Session::State state)
{
    switch (state) {
    case Pop3Session::State::Authorization:
        return u"Authorization"_s;
    case Pop3Session::State::AuthResponse:
        return u"AuthResponse"_s;
    case Pop3Session::State::Transaction:
        return u"Transaction"_s;
    case Pop3Session::State::Waiting:
        return u"Waiting"_s;
    case Pop3Session::State::Closed:
        return u"Closed"_s;
    }
    return u"?"_s;
}

QList<qint64> idList(const QByteArray &text)
{
    QList<qint64> ids;
    if (text == "none")
        return ids;
    for (const QByteArray &id : text.split(','))
        ids << id.toLongLong();
    return ids;
}

QString idText(const QList<qint64> &ids)
{
    QStringList texts;
    for (const qint64 id : ids)
        texts << QString::number(id);
    return texts.isEmpty() ? u"none"_s : texts.join(u',');
}

using SessionKit::Feed;

// Plays the connection: feeds bytes, collects output lines, serves requests
// (SessionKit's driver for Pop3Session, with the steps listed above).
// Unlike the connection it does not drop what follows STLS: the session
// itself must never execute it.
class Driver : public SessionKit::Driver
{
public:
    explicit Driver(const Pop3SessionSettings &settings)
        : session(settings, u"192.0.2.7"_s)
    {
    }

    void start()
    {
        session.start();
        collect();
    }

    SessionKit::OutputReader &output() override { return reader; }
    void receive(QByteArrayView bytes) override { session.receive(bytes); }
    QByteArray takeOutput() override { return session.takeOutput(); }
    QString step(QByteArrayView kind, const QByteArray &argument) override;

    // What no step of a script consumed, besides output.
    QString pending() override
    {
        if (const std::optional<Pop3Request> request = session.takeRequest())
            return u"an unexpected request: "_s + describe(*request);
        if (const QList<qint64> retrieved = session.takeRetrieved(); !retrieved.isEmpty())
            return u"unexpected retrieved entries: "_s + idText(retrieved);
        return {};
    }

    Pop3Session session;
    SessionKit::LineReader reader; // output lines read and not yet consumed
    bool tlsDone = false;
};

// The request a step expects must be there, alone, with no reply before it.
QString takeExpected(Driver &d, std::optional<Pop3Request> *request)
{
    if (!d.reader.lines.isEmpty())
        return u"output before the request was answered: \"%1\""_s.arg(d.reader.unread());
    *request = d.session.takeRequest();
    if (!*request)
        return u"no request (state %1)"_s.arg(stateName(d.session.state()));
    if (d.session.state() != Pop3Session::State::Waiting)
        return u"a request, but the state is %1"_s.arg(stateName(d.session.state()));
    if (d.session.takeRequest())
        return u"a second request at the same time"_s;
    return {};
}

QString loginStep(Driver &d, const QByteArray &argument)
{
    const qsizetype arrow = argument.lastIndexOf(" -> ");
    const QByteArray who = argument.left(arrow);
    const QByteArray outcome = argument.mid(arrow + 4);
    const qsizetype space = who.indexOf(' ');
    const QString user = QString::fromUtf8(who.left(space));
    const QString password = QString::fromUtf8(who.mid(space + 1));
    std::optional<Pop3Request> request;
    if (const QString error = takeExpected(d, &request); !error.isEmpty())
        return error;
    const auto *login = std::get_if<Pop3LoginRequest>(&*request);
    if (!login)
        return u"expected a login request, got "_s + describe(*request);
    if (login->username != user || login->password != password)
        return u"got "_s + describe(*request);
    if (outcome == "Accepted")
        d.session.loginFinished(Pop3LoginOutcome::Accepted, AccountId, standardMaildrop());
    else if (outcome == "AcceptedEmpty")
        d.session.loginFinished(Pop3LoginOutcome::Accepted, AccountId, {});
    else if (outcome == "Rejected")
        d.session.loginFinished(Pop3LoginOutcome::Rejected);
    else if (outcome == "Throttled")
        d.session.loginFinished(Pop3LoginOutcome::Throttled);
    else if (outcome == "Failed")
        d.session.loginFinished(Pop3LoginOutcome::Failed);
    else
        return u"bad step"_s;
    d.collect();
    return {};
}

QString fetchStep(Driver &d, const QByteArray &argument)
{
    const qsizetype arrow = argument.lastIndexOf(" -> ");
    const QByteArrayList what = argument.left(arrow).split(' ');
    bool known = false;
    const std::optional<QByteArray> answer = namedMessage(argument.mid(arrow + 4), &known);
    if (!known || what.size() < 2)
        return u"bad step"_s;
    const qint64 entryId = what.at(0).toLongLong();
    const bool top = what.at(1) == "TOP";
    const int bodyLines = top ? what.value(2).toInt() : 0;
    std::optional<Pop3Request> request;
    if (const QString error = takeExpected(d, &request); !error.isEmpty())
        return error;
    const auto *fetch = std::get_if<Pop3FetchRequest>(&*request);
    if (!fetch)
        return u"expected a fetch request, got "_s + describe(*request);
    if (fetch->entryId != entryId || fetch->bodyLines.has_value() != top
        || (top && fetch->bodyLines.value_or(-1) != bodyLines)) {
        return u"got "_s + describe(*request);
    }
    d.session.fetchFinished(answer);
    d.collect();
    return {};
}

QString commitStep(Driver &d, const QByteArray &argument)
{
    const qsizetype arrow = argument.lastIndexOf(" -> ");
    const QList<qint64> ids = idList(argument.left(arrow));
    const QByteArray outcome = argument.mid(arrow + 4);
    std::optional<Pop3Request> request;
    if (const QString error = takeExpected(d, &request); !error.isEmpty())
        return error;
    const auto *commit = std::get_if<Pop3CommitRequest>(&*request);
    if (!commit)
        return u"expected a commit request, got "_s + describe(*request);
    if (commit->accountId != AccountId || commit->deletedEntryIds != ids)
        return u"got "_s + describe(*request);
    if (outcome != "true" && outcome != "false")
        return u"bad step"_s;
    d.session.commitFinished(outcome == "true");
    d.collect();
    return {};
}

QString Driver::step(QByteArrayView kind, const QByteArray &argument)
{
    Driver &d = *this;
    if (kind == "L: ")
        return loginStep(d, argument);
    if (kind == "F: ")
        return fetchStep(d, argument);
    if (kind == "K: ")
        return commitStep(d, argument);
    if (kind == "R: ") {
        const QList<qint64> retrieved = d.session.takeRetrieved();
        if (retrieved != idList(argument))
            return u"takeRetrieved() gives "_s + idText(retrieved);
    } else if (kind == "T: ") {
        if (!d.reader.isEmpty())
            return u"output before the handshake: \"%1\""_s.arg(d.reader.unread());
        if (!d.session.startTlsRequested())
            return u"startTlsRequested() is false"_s;
        if (d.session.isEncrypted())
            return u"isEncrypted() before the handshake"_s;
        d.session.tlsEstablished();
        d.tlsDone = true;
        d.collect();
        if (!d.session.isEncrypted())
            return u"isEncrypted() is false after tlsEstablished()"_s;
        if (d.session.startTlsRequested())
            return u"startTlsRequested() is still true after tlsEstablished()"_s;
    } else if (kind == "X: ") {
        if (argument == "timeout")
            d.session.timedOut();
        else if (argument == "shutdown")
            d.session.shuttingDown();
        else if (argument == "stop")
            d.session.stopTakingCommands();
        else
            return SessionKit::badStep();
        d.collect();
    } else if (kind == "=: ") {
        if (stateName(d.session.state()).toUtf8() != argument)
            return u"the state is "_s + stateName(d.session.state());
    } else if (kind == "I: ") {
        if (d.session.hasPendingInput() != (argument == "pending"))
            return u"hasPendingInput() is %1"_s.arg(d.session.hasPendingInput() ? u"true"_s : u"false"_s);
    } else if (kind == "A: ") {
        if (d.session.accountId() != argument.toLongLong())
            return u"accountId() is %1"_s.arg(d.session.accountId());
    } else if (kind == "M: ") {
        const QList<Pop3Message> expected = argument == "standard" ? standardMaildrop() : QList<Pop3Message>();
        if (d.session.maildrop() != expected)
            return u"the maildrop has %1 messages"_s.arg(d.session.maildrop().size());
    } else if (kind == "Z: ") {
        if (argument == "login")
            d.session.loginFinished(Pop3LoginOutcome::Accepted, AccountId, standardMaildrop());
        else if (argument == "fetch")
            d.session.fetchFinished(M1);
        else if (argument == "commit")
            d.session.commitFinished(true);
        else
            return SessionKit::badStep();
        d.collect();
    } else if (kind == "E: ") {
        if (d.session.isEncrypted() != (argument == "yes"))
            return u"isEncrypted() is %1"_s.arg(d.session.isEncrypted() ? u"true"_s : u"false"_s);
    } else {
        return SessionKit::badStep();
    }
    return {};
}

QString runScript(Driver &d, const QByteArrayList &script, const Feed &feed = {})
{
    return SessionKit::run(d, script, feed);
}

// The steps that bring a fresh session to a stage (start() already called).
QByteArrayList stageScript(const Pop3SessionSettings &settings, Stage stage)
{
    QByteArrayList script{"S: +OK Mailroom POP3 ready"_ba};
    if (stage >= Stage::Tls && !settings.implicitTls)
        script << "C: STLS"_ba << "S~ +OK"_ba << "T: tls"_ba;
    if (stage >= Stage::Transaction) {
        script << "C: USER alice"_ba << "S~ +OK"_ba << "C: PASS alice-password"_ba
               << "L: alice alice-password -> Accepted"_ba << "S~ +OK"_ba << "=: Transaction"_ba;
    }
    return script;
}

// Where a C step of `size` bytes is split in two: everywhere, or for long
// steps around the line limit and at both ends.
QList<qsizetype> splitPoints(qsizetype size)
{
    QList<qsizetype> points;
    if (size <= 1100) {
        for (qsizetype at = 1; at < size; ++at)
            points << at;
        return points;
    }
    for (const qsizetype at : {qsizetype(1), qsizetype(2), qsizetype(510), qsizetype(511), qsizetype(512),
                               qsizetype(513), qsizetype(514), size / 2, size - 3, size - 2, size - 1})
        points << at;
    return points;
}

// ---- rows ------------------------------------------------------------------------

void scriptColumns()
{
    QTest::addColumn<Pop3SessionSettings>("settings");
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<QByteArrayList>("script");
    QTest::addColumn<bool>("closed");
}

void addScript(const char *name, Stage stage, const QByteArrayList &script, bool closed = false,
               const Pop3SessionSettings &settings = plainSettings())
{
    QTest::newRow(name) << settings << stage << script << closed;
}

const QByteArray EncryptionRequired = "S~ -ERR [AUTH] Encryption required"_ba;
const QByteArray InvalidCredentials = "S: -ERR [AUTH] Invalid credentials"_ba;
const QByteArray TooManyFailedLogins = "S~ -ERR [SYS/TEMP] Too many failed logins"_ba;
const QByteArray LineTooLong = "S: -ERR Line too long"_ba;
const QByteArray Err = "S~ -ERR"_ba;
const QByteArray Ok = "S~ +OK"_ba;

QByteArrayList fullListSteps()
{
    return {Ok, "S: 1 "_ba + n(M1.size()), "S: 2 "_ba + n(M2.size()), "S: 3 "_ba + n(M3.size()), "S: ."_ba};
}

QByteArrayList fullUidlSteps()
{
    return {Ok, "S: 1 1001"_ba, "S: 2 1002"_ba, "S: 3 1005"_ba, "S: ."_ba};
}

} // namespace

class TestPop3Session : public QObject
{
    Q_OBJECT

private:
    void runScriptRow();

private Q_SLOTS:
    void greeting_data();
    void greeting();
    void capa_data();
    void capa();
    void stls_data();
    void stls() { runScriptRow(); }
    void stlsInjection_data();
    void stlsInjection() { runScriptRow(); }
    void userPass_data();
    void userPass() { runScriptRow(); }
    void authPlain_data();
    void authPlain() { runScriptRow(); }
    void statAndList_data();
    void statAndList() { runScriptRow(); }
    void retr_data();
    void retr() { runScriptRow(); }
    void top_data();
    void top() { runScriptRow(); }
    void deleAndRset_data();
    void deleAndRset() { runScriptRow(); }
    void quit_data();
    void quit() { runScriptRow(); }
    void messageNumbers_data();
    void messageNumbers() { runScriptRow(); }
    void unknownAndOutOfState_data();
    void unknownAndOutOfState() { runScriptRow(); }
    void errorLimits_data();
    void errorLimits() { runScriptRow(); }
    void lineLength_data();
    void lineLength() { runScriptRow(); }
    void timeoutsAndShutdown_data();
    void timeoutsAndShutdown() { runScriptRow(); }
    void pipelining_data();
    void pipelining() { runScriptRow(); }
    void unsolicitedAnswers_data();
    void unsolicitedAnswers() { runScriptRow(); }
    void overlongInputIsNotKept_data();
    void overlongInputIsNotKept();
    void repliesDoNotPileUp();
    void dotStuffed_data();
    void dotStuffed();
    void topOf_data();
    void topOf();
};

void TestPop3Session::runScriptRow()
{
    QFETCH(Pop3SessionSettings, settings);
    QFETCH(Stage, stage);
    QFETCH(QByteArrayList, script);
    QFETCH(bool, closed);

    const QList<Feed> feeds = Feed::everyWay(script, splitPoints);

    for (const Feed &feed : std::as_const(feeds)) {
        Driver d(settings);
        d.start();
        const QString error = runScript(d, stageScript(settings, stage), Feed{});
        QVERIFY2(error.isEmpty(), qPrintable(u"getting to the stage: "_s + error));
        QString result = runScript(d, script, feed);
        if (result.isEmpty())
            result = SessionKit::leftovers(d);
        QVERIFY2(result.isEmpty(), qPrintable(feed.text() + result));
        QVERIFY2(d.session.closeRequested() == closed,
                 qPrintable(feed.text() + u"closeRequested() is "_s + (closed ? u"false"_s : u"true"_s)));
        QVERIFY2((d.session.state() == Pop3Session::State::Closed) == closed,
                 qPrintable(feed.text() + u"the state is "_s + stateName(d.session.state())));
    }
}

// ---- greeting and CAPA ---------------------------------------------------------

void TestPop3Session::greeting_data()
{
    QTest::addColumn<Pop3SessionSettings>("settings");
    QTest::newRow("STLS listener") << plainSettings();
    QTest::newRow("implicit TLS") << implicitTls();
}

void TestPop3Session::greeting()
{
    QFETCH(Pop3SessionSettings, settings);

    Pop3Session session(settings, u"192.0.2.7"_s);
    QCOMPARE(session.takeOutput(), QByteArray());
    session.start();
    QCOMPARE(session.takeOutput(), "+OK Mailroom POP3 ready\r\n"_ba);
    QCOMPARE(session.takeOutput(), QByteArray());
    QVERIFY(!session.takeRequest());
    QVERIFY(!session.closeRequested());
    QVERIFY(!session.startTlsRequested());
    QCOMPARE(session.state(), Pop3Session::State::Authorization);
    QCOMPARE(session.isEncrypted(), settings.implicitTls);
    QCOMPARE(session.accountId(), qint64(0));
    QVERIFY(session.maildrop().isEmpty());
}

void TestPop3Session::capa_data()
{
    QTest::addColumn<Pop3SessionSettings>("settings");
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<QByteArray>("command");
    QTest::addColumn<QByteArrayList>("capabilities");

    const QByteArrayList always{"USER"_ba,       "SASL PLAIN"_ba, "UIDL"_ba, "TOP"_ba, "PIPELINING"_ba,
                                "RESP-CODES"_ba, "AUTH-RESP-CODE"_ba};
    const QByteArrayList beforeTls = QByteArrayList{"STLS"_ba} + always;

    QTest::newRow("before TLS") << plainSettings() << Stage::Greeted << "CAPA"_ba << beforeTls;
    QTest::newRow("lower case") << plainSettings() << Stage::Greeted << "capa"_ba << beforeTls;
    QTest::newRow("after STLS") << plainSettings() << Stage::Tls << "CAPA"_ba << always;
    QTest::newRow("implicit TLS") << implicitTls() << Stage::Greeted << "CAPA"_ba << always;
    QTest::newRow("in Transaction") << plainSettings() << Stage::Transaction << "CAPA"_ba << always;
    QTest::newRow("implicit TLS, in Transaction") << implicitTls() << Stage::Transaction << "Capa"_ba << always;
}

// RFC 2449 §5: "+OK", one capability a line, "."; the order is free, and an
// IMPLEMENTATION line (§6.9) may be there too.
void TestPop3Session::capa()
{
    QFETCH(Pop3SessionSettings, settings);
    QFETCH(Stage, stage);
    QFETCH(QByteArray, command);
    QFETCH(QByteArrayList, capabilities);

    for (const qsizetype chunk : {qsizetype(1000), qsizetype(1)}) {
        Driver d(settings);
        d.start();
        const QString error = runScript(d, stageScript(settings, stage), Feed{});
        QVERIFY2(error.isEmpty(), qPrintable(error));
        d.feed(command + "\r\n"_ba, chunk);

        QVERIFY2(d.reader.lines.size() >= 2, qPrintable(d.reader.unread()));
        QVERIFY2(d.reader.lines.first().startsWith("+OK"), qPrintable(d.reader.unread()));
        QCOMPARE(d.reader.lines.last(), "."_ba);
        QByteArrayList advertised = d.reader.lines.mid(1, d.reader.lines.size() - 2);
        advertised.removeIf([](const QByteArray &line) { return line.startsWith("IMPLEMENTATION "); });
        std::sort(advertised.begin(), advertised.end());
        std::sort(capabilities.begin(), capabilities.end());
        QCOMPARE(advertised, capabilities);
        d.reader.lines.clear();
        QCOMPARE(SessionKit::leftovers(d), QString());
        QVERIFY(!d.session.closeRequested());
        QVERIFY(!d.session.startTlsRequested());
    }
}

// ---- STLS ------------------------------------------------------------------------

void TestPop3Session::stls_data()
{
    scriptColumns();
    addScript("upgrade, then USER and PASS work", Stage::Greeted,
              {"E: no"_ba, "C: STLS"_ba, "S~ +OK"_ba, "T: tls"_ba, "E: yes"_ba, "C: USER alice"_ba, Ok,
               "C: PASS alice-password"_ba, "L: alice alice-password -> Accepted"_ba, Ok, "=: Transaction"_ba});
    addScript("lower case", Stage::Greeted, {"C: stls"_ba, Ok, "T: tls"_ba, "E: yes"_ba});
    addScript("USER refused before, accepted after", Stage::Greeted,
              {"C: USER alice"_ba, EncryptionRequired, "C: STLS"_ba, Ok, "T: tls"_ba, "C: USER alice"_ba, Ok});
    addScript("STLS after TLS", Stage::Tls,
              {"C: STLS"_ba, Err, "E: yes"_ba, "=: Authorization"_ba, "C: USER alice"_ba, Ok});
    addScript("STLS on an implicit-TLS session", Stage::Greeted,
              {"C: STLS"_ba, Err, "=: Authorization"_ba, "C: USER alice"_ba, Ok}, false, implicitTls());
    addScript("STLS in Transaction", Stage::Transaction, {"C: STLS"_ba, Err, "=: Transaction"_ba, "C: STAT"_ba,
                                                          "S: +OK 3 "_ba + allOctets()});
    addScript("STLS in Transaction on an implicit-TLS session", Stage::Transaction,
              {"C: STLS"_ba, Err, "=: Transaction"_ba}, false, implicitTls());
    // RFC 2595 §4: STLS takes no argument.
    addScript("with an argument", Stage::Greeted, {"C: STLS now"_ba, Err, "E: no"_ba, "C: STLS"_ba, Ok, "T: tls"_ba});
}

// RFC 2595 §4 (and RFC 3207's STARTTLS injection): what the client sent in
// clear after STLS is never executed, over TLS or before.
void TestPop3Session::stlsInjection_data()
{
    scriptColumns();
    addScript("USER and PASS after STLS in one read", Stage::Greeted,
              {"C< STLS\r\nUSER alice\r\nPASS alice-password\r\n"_ba, Ok, "T: tls"_ba, "=: Authorization"_ba,
               "C: PASS alice-password"_ba, Err});
    addScript("AUTH PLAIN after STLS in one read", Stage::Greeted,
              {"C< STLS\r\nAUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba) + "\r\n"_ba, Ok, "T: tls"_ba,
               "A: 0"_ba, "=: Authorization"_ba});
    addScript("QUIT after STLS in one read", Stage::Greeted,
              {"C< STLS\r\nQUIT\r\n"_ba, Ok, "T: tls"_ba, "=: Authorization"_ba, "C: USER alice"_ba, Ok});
    addScript("CAPA after STLS in one read", Stage::Greeted, {"C< STLS\r\nCAPA\r\n"_ba, Ok, "T: tls"_ba});
    addScript("half a command after STLS", Stage::Greeted,
              {"C< STLS\r\nUSE"_ba, Ok, "T: tls"_ba, "C: R alice"_ba, Err, "C: USER alice"_ba, Ok});
    addScript("a second STLS injected", Stage::Greeted,
              {"C< STLS\r\nSTLS\r\n"_ba, Ok, "T: tls"_ba, "C: USER alice"_ba, Ok});
    addScript("sent before the handshake in a later read", Stage::Greeted,
              {"C: STLS"_ba, Ok, "C: USER alice"_ba, "C: QUIT"_ba, "T: tls"_ba, "I: none"_ba, "=: Authorization"_ba});
}

// ---- USER / PASS ---------------------------------------------------------------

void TestPop3Session::userPass_data()
{
    scriptColumns();
    const QByteArray user = "C: USER alice"_ba;
    const QByteArray pass = "C: PASS alice-password"_ba;
    const QByteArray accepted = "L: alice alice-password -> Accepted"_ba;

    addScript("USER before TLS", Stage::Greeted, {user, EncryptionRequired, "=: Authorization"_ba});
    addScript("PASS before TLS", Stage::Greeted, {pass, EncryptionRequired, "=: Authorization"_ba});
    addScript("USER and PASS before TLS", Stage::Greeted,
              {user, EncryptionRequired, pass, EncryptionRequired, "A: 0"_ba});

    addScript("accepted", Stage::Tls,
              {user, Ok, "=: Authorization"_ba, pass, "=: Waiting"_ba, accepted, Ok, "=: Transaction"_ba, "A: 7"_ba,
               "M: standard"_ba, "C: STAT"_ba, "S: +OK 3 "_ba + allOctets()});
    addScript("accepted, empty maildrop", Stage::Tls,
              {user, Ok, pass, "L: alice alice-password -> AcceptedEmpty"_ba, Ok, "=: Transaction"_ba, "M: empty"_ba,
               "C: STAT"_ba, "S: +OK 0 0"_ba});
    addScript("implicit TLS", Stage::Greeted, {user, Ok, pass, accepted, Ok, "=: Transaction"_ba, "A: 7"_ba}, false,
              implicitTls());
    addScript("lower-case verbs", Stage::Tls,
              {"C: user alice"_ba, Ok, "C: pass alice-password"_ba, accepted, Ok, "=: Transaction"_ba});
    addScript("mixed-case verbs", Stage::Tls,
              {"C: User alice"_ba, Ok, "C: pAsS alice-password"_ba, accepted, Ok, "=: Transaction"_ba});
    // RFC 1939 §7: the rest of the line is the password.
    addScript("authzid the authcid's full address", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "alice@project.com"_ba), accepted, Ok});
    addScript("authzid the authcid in upper case", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "ALICE"_ba), accepted, Ok});
    addScript("authzid another account's address", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "bob@project.com"_ba), Err,
               "=: Authorization"_ba, "A: 0"_ba});
    addScript("password with spaces", Stage::Tls,
              {user, Ok, "C: PASS correct horse battery staple"_ba,
               "L: alice correct horse battery staple -> Accepted"_ba, Ok});
    addScript("password ending in a space", Stage::Tls,
              {user, Ok, "C: PASS secret pass "_ba, "L: alice secret pass  -> Accepted"_ba, Ok});
    addScript("UTF-8 password", Stage::Tls,
              {user, Ok, "C: PASS p\xc3\xa4sswort-\xc3\xb6"_ba, "L: alice p\xc3\xa4sswort-\xc3\xb6 -> Accepted"_ba, Ok});
    addScript("the name as given", Stage::Tls,
              {"C: USER Alice@Project.com"_ba, Ok, pass, "L: Alice@Project.com alice-password -> Rejected"_ba,
               InvalidCredentials});
    addScript("the last USER counts", Stage::Tls,
              {"C: USER bob"_ba, Ok, user, Ok, pass, accepted, Ok});

    addScript("rejected", Stage::Tls,
              {user, Ok, "C: PASS wrong-password"_ba, "L: alice wrong-password -> Rejected"_ba, InvalidCredentials,
               "=: Authorization"_ba, "A: 0"_ba, "C: STAT"_ba, Err});
    addScript("rejected, then accepted", Stage::Tls,
              {user, Ok, "C: PASS wrong-password"_ba, "L: alice wrong-password -> Rejected"_ba, InvalidCredentials,
               user, Ok, pass, accepted, Ok, "=: Transaction"_ba});
    addScript("rejected: USER again before PASS", Stage::Tls,
              {user, Ok, "C: PASS wrong-password"_ba, "L: alice wrong-password -> Rejected"_ba, InvalidCredentials,
               pass, Err, "=: Authorization"_ba});
    addScript("throttled", Stage::Tls,
              {user, Ok, pass, "L: alice alice-password -> Throttled"_ba, TooManyFailedLogins, "A: 0"_ba, user},
              true);
    addScript("the store fails", Stage::Tls,
              {user, Ok, pass, "L: alice alice-password -> Failed"_ba, "S~ -ERR [SYS/TEMP]"_ba, "=: Authorization"_ba,
               "A: 0"_ba, user, Ok, pass, accepted, Ok});

    addScript("PASS without USER", Stage::Tls, {pass, Err, "=: Authorization"_ba});
    addScript("USER without a name", Stage::Tls, {"C: USER"_ba, Err, pass, Err});
    addScript("USER with only spaces", Stage::Tls, {"C: USER   "_ba, Err, pass, Err});
    addScript("USER in Transaction", Stage::Transaction, {user, Err, "=: Transaction"_ba, "A: 7"_ba});
    addScript("PASS in Transaction", Stage::Transaction, {pass, Err, "=: Transaction"_ba});
}

// ---- AUTH PLAIN (RFC 5034, RFC 4616) ----------------------------------------------

void TestPop3Session::authPlain_data()
{
    scriptColumns();
    const QByteArray alice = plainCredentials("alice"_ba, "alice-password"_ba);
    const QByteArray accepted = "L: alice alice-password -> Accepted"_ba;
    const QByteArray go = "S: + "_ba;

    addScript("before TLS", Stage::Greeted, {"C: AUTH PLAIN "_ba + alice, EncryptionRequired, "=: Authorization"_ba});
    addScript("before TLS, without initial response", Stage::Greeted,
              {"C: AUTH PLAIN"_ba, EncryptionRequired, "=: Authorization"_ba});

    addScript("initial response", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alice, accepted, Ok, "=: Transaction"_ba, "A: 7"_ba, "M: standard"_ba});
    addScript("continuation", Stage::Tls,
              {"C: AUTH PLAIN"_ba, go, "=: AuthResponse"_ba, "C: "_ba + alice, accepted, Ok, "=: Transaction"_ba,
               "A: 7"_ba});
    addScript("implicit TLS", Stage::Greeted, {"C: AUTH PLAIN "_ba + alice, accepted, Ok, "=: Transaction"_ba}, false,
              implicitTls());
    addScript("lower case", Stage::Tls, {"C: auth plain "_ba + alice, accepted, Ok, "=: Transaction"_ba});
    addScript("authzid the same as authcid", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "alice"_ba), accepted, Ok});
    addScript("password with spaces", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "correct horse battery"_ba),
               "L: alice correct horse battery -> Accepted"_ba, Ok});
    addScript("rejected", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "wrong-password"_ba), "L: alice wrong-password -> Rejected"_ba,
               InvalidCredentials, "=: Authorization"_ba, "A: 0"_ba});
    addScript("rejected after the continuation", Stage::Tls,
              {"C: AUTH PLAIN"_ba, go, "C: "_ba + plainCredentials("alice"_ba, "wrong-password"_ba),
               "L: alice wrong-password -> Rejected"_ba, InvalidCredentials, "=: Authorization"_ba});
    addScript("throttled", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alice, "L: alice alice-password -> Throttled"_ba, TooManyFailedLogins}, true);

    addScript("cancelled with *", Stage::Tls,
              {"C: AUTH PLAIN"_ba, go, "C: *"_ba, Err, "=: Authorization"_ba, "A: 0"_ba, "C: AUTH PLAIN "_ba + alice,
               accepted, Ok});
    addScript("bad base64", Stage::Tls,
              {"C: AUTH PLAIN !!not*base64!!"_ba, Err, "=: Authorization"_ba, "C: USER alice"_ba, Ok});
    // Valid base64 of a good response with one character that is no base64:
    // a lenient decoder would skip it and log in.
    addScript("a stray character in the base64", Stage::Tls,
              {"C: AUTH PLAIN "_ba + alice.left(8) + "*"_ba + alice.mid(8), Err, "=: Authorization"_ba, "A: 0"_ba});
    addScript("bad base64 after the continuation", Stage::Tls,
              {"C: AUTH PLAIN"_ba, go, "C: !!not*base64!!"_ba, Err, "=: Authorization"_ba});
    addScript("no NUL at all", Stage::Tls, {"C: AUTH PLAIN "_ba + b64("alicealice-password"_ba), Err});
    addScript("one NUL", Stage::Tls, {"C: AUTH PLAIN "_ba + b64("alice\0alice-password"_ba), Err});
    addScript("three NULs", Stage::Tls, {"C: AUTH PLAIN "_ba + b64("\0alice\0alice-password\0"_ba), Err});
    addScript("empty authcid", Stage::Tls, {"C: AUTH PLAIN "_ba + b64("\0\0alice-password"_ba), Err});
    addScript("authzid another account", Stage::Tls,
              {"C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "bob"_ba), Err, "=: Authorization"_ba,
               "A: 0"_ba});
    addScript("authzid another account after the continuation", Stage::Tls,
              {"C: AUTH PLAIN"_ba, go, "C: "_ba + plainCredentials("alice"_ba, "alice-password"_ba, "bob"_ba), Err,
               "=: Authorization"_ba});
    addScript("unknown mechanism", Stage::Tls, {"C: AUTH CRAM-MD5"_ba, Err, "=: Authorization"_ba});
    addScript("LOGIN is not offered", Stage::Tls, {"C: AUTH LOGIN"_ba, Err, "=: Authorization"_ba});
    addScript("AUTH in Transaction", Stage::Transaction,
              {"C: AUTH PLAIN "_ba + plainCredentials("bob"_ba, "bob-password"_ba), Err, "=: Transaction"_ba, "A: 7"_ba});
}

// ---- STAT, LIST, UIDL ------------------------------------------------------------

void TestPop3Session::statAndList_data()
{
    scriptColumns();
    addScript("STAT", Stage::Transaction, {"C: STAT"_ba, "S: +OK 3 "_ba + allOctets()});
    addScript("stat", Stage::Transaction, {"C: stat"_ba, "S: +OK 3 "_ba + allOctets()});
    addScript("LIST", Stage::Transaction, QByteArrayList{"C: LIST"_ba} + fullListSteps());
    addScript("list", Stage::Transaction, QByteArrayList{"C: list"_ba} + fullListSteps());
    addScript("LIST 1", Stage::Transaction, {"C: LIST 1"_ba, "S: +OK 1 "_ba + n(M1.size())});
    addScript("LIST 3", Stage::Transaction, {"C: LIST 3"_ba, "S: +OK 3 "_ba + n(M3.size())});
    addScript("LIST 2 with a trailing space", Stage::Transaction, {"C: LIST 2 "_ba, "S: +OK 2 "_ba + n(M2.size())});
    addScript("UIDL", Stage::Transaction, QByteArrayList{"C: UIDL"_ba} + fullUidlSteps());
    addScript("uidl", Stage::Transaction, QByteArrayList{"C: uidl"_ba} + fullUidlSteps());
    addScript("UIDL 1", Stage::Transaction, {"C: UIDL 1"_ba, "S: +OK 1 1001"_ba});
    addScript("UIDL 3", Stage::Transaction, {"C: UIDL 3"_ba, "S: +OK 3 1005"_ba});
    addScript("Uidl 2", Stage::Transaction, {"C: Uidl 2"_ba, "S: +OK 2 1002"_ba});

    const QByteArrayList emptyLogin{"C: USER alice"_ba, Ok, "C: PASS alice-password"_ba,
                                    "L: alice alice-password -> AcceptedEmpty"_ba, Ok};
    addScript("empty maildrop: STAT", Stage::Tls, emptyLogin + QByteArrayList{"C: STAT"_ba, "S: +OK 0 0"_ba});
    addScript("empty maildrop: LIST", Stage::Tls, emptyLogin + QByteArrayList{"C: LIST"_ba, Ok, "S: ."_ba});
    addScript("empty maildrop: UIDL", Stage::Tls, emptyLogin + QByteArrayList{"C: UIDL"_ba, Ok, "S: ."_ba});
    addScript("empty maildrop: LIST 1", Stage::Tls, emptyLogin + QByteArrayList{"C: LIST 1"_ba, Err});
    addScript("empty maildrop: RETR 1", Stage::Tls, emptyLogin + QByteArrayList{"C: RETR 1"_ba, Err});
}

// ---- RETR, TOP ---------------------------------------------------------------------

void TestPop3Session::retr_data()
{
    scriptColumns();
    addScript("RETR 1: dot-stuffed, marked seen", Stage::Transaction,
              QByteArrayList{"C: RETR 1"_ba, "=: Waiting"_ba, "F: 1001 RETR -> m1"_ba}
                  + QByteArrayList{"S: +OK "_ba + n(M1.size()) + " octets"_ba,
                                   "S: Received: from client.example ([192.0.2.7]) by mx.project.com (Mailroom)"_ba,
                                   "S: From: Bob <bob@project.com>"_ba, "S: Subject: one"_ba, "S: "_ba,
                                   "S: Hello Alice."_ba, "S: ..hidden line"_ba, "S: ...two dots"_ba, "S: .."_ba,
                                   "S: bye"_ba, "S: ."_ba}
                  + QByteArrayList{"=: Transaction"_ba, "R: 1001"_ba});
    addScript("RETR 3: a dot on the first line, no final line end", Stage::Transaction,
              QByteArrayList{"C: RETR 3"_ba, "F: 1005 RETR -> m3"_ba}
                  + QByteArrayList{"S: +OK "_ba + n(M3.size()) + " octets"_ba,
                                   "S: ..X-Dotted: on the very first line"_ba, "S: Subject: three"_ba, "S: "_ba,
                                   "S: no final line end"_ba, "S: ."_ba}
                  + QByteArrayList{"R: 1005"_ba});
    addScript("RETR 2", Stage::Transaction,
              QByteArrayList{"C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2) + QByteArrayList{"R: 1002"_ba});
    addScript("retr", Stage::Transaction,
              QByteArrayList{"C: retr 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2) + QByteArrayList{"R: 1002"_ba});
    addScript("an empty message", Stage::Transaction,
              {"C: RETR 1"_ba, "F: 1001 RETR -> empty"_ba, "S: +OK 0 octets"_ba, "S: ."_ba, "R: 1001"_ba});
    addScript("a message that is one dot", Stage::Transaction,
              {"C: RETR 1"_ba, "F: 1001 RETR -> dot"_ba, "S: +OK 1 octets"_ba, "S: .."_ba, "S: ."_ba, "R: 1001"_ba});
    addScript("two messages, both marked seen", Stage::Transaction,
              QByteArrayList{"C: RETR 1"_ba, "F: 1001 RETR -> m1"_ba} + retrSteps(M1)
                  + QByteArrayList{"C: RETR 3"_ba, "F: 1005 RETR -> m3"_ba} + retrSteps(M3)
                  + QByteArrayList{"R: 1001,1005"_ba, "R: none"_ba});
    addScript("the same message twice", Stage::Transaction,
              QByteArrayList{"C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2) + QByteArrayList{"R: 1002"_ba}
                  + QByteArrayList{"C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2)
                  + QByteArrayList{"R: 1002"_ba});
    addScript("gone meanwhile", Stage::Transaction,
              {"C: RETR 1"_ba, "F: 1001 RETR -> gone"_ba, Err, "=: Transaction"_ba, "R: none"_ba, "C: STAT"_ba, Ok});
    addScript("gone, then another one", Stage::Transaction,
              QByteArrayList{"C: RETR 1"_ba, "F: 1001 RETR -> gone"_ba, Err, "C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba}
                  + retrSteps(M2) + QByteArrayList{"R: 1002"_ba});
    addScript("RETR before login", Stage::Tls, {"C: RETR 1"_ba, Err, "=: Authorization"_ba});
}

void TestPop3Session::top_data()
{
    scriptColumns();
    const QByteArray m1top0 = messageNamed("m1top0"_ba);
    const QByteArray m2top2 = messageNamed("m2top2"_ba);

    addScript("TOP 1 0: not marked seen", Stage::Transaction,
              QByteArrayList{"C: TOP 1 0"_ba, "F: 1001 TOP 0 -> m1top0"_ba}
                  + QByteArrayList{"S~ +OK"_ba,
                                   "S: Received: from client.example ([192.0.2.7]) by mx.project.com (Mailroom)"_ba,
                                   "S: From: Bob <bob@project.com>"_ba, "S: Subject: one"_ba, "S: "_ba, "S: ."_ba}
                  + QByteArrayList{"R: none"_ba, "=: Transaction"_ba});
    addScript("TOP 2 2", Stage::Transaction,
              QByteArrayList{"C: TOP 2 2"_ba, "F: 1002 TOP 2 -> m2top2"_ba} + topSteps(m2top2)
                  + QByteArrayList{"R: none"_ba});
    addScript("TOP 3 0: a dot on the first line", Stage::Transaction,
              QByteArrayList{"C: TOP 3 0"_ba, "F: 1005 TOP 0 -> m3top0"_ba, "S~ +OK"_ba,
                             "S: ..X-Dotted: on the very first line"_ba, "S: Subject: three"_ba, "S: "_ba, "S: ."_ba});
    addScript("TOP 1 5: the answer is dot-stuffed", Stage::Transaction,
              QByteArrayList{"C: TOP 1 5"_ba, "F: 1001 TOP 5 -> m1"_ba} + topSteps(M1) + QByteArrayList{"R: none"_ba});
    addScript("more lines than the body has", Stage::Transaction,
              QByteArrayList{"C: TOP 2 100"_ba, "F: 1002 TOP 100 -> m2"_ba} + topSteps(M2));
    addScript("nine digits of lines", Stage::Transaction,
              QByteArrayList{"C: TOP 2 999999999"_ba, "F: 1002 TOP 999999999 -> m2"_ba} + topSteps(M2));
    addScript("top", Stage::Transaction,
              QByteArrayList{"C: top 1 0"_ba, "F: 1001 TOP 0 -> m1top0"_ba} + topSteps(m1top0));
    addScript("TOP, then RETR of the same", Stage::Transaction,
              QByteArrayList{"C: TOP 1 0"_ba, "F: 1001 TOP 0 -> m1top0"_ba} + topSteps(m1top0)
                  + QByteArrayList{"C: RETR 1"_ba, "F: 1001 RETR -> m1"_ba} + retrSteps(M1)
                  + QByteArrayList{"R: 1001"_ba});
    addScript("RETR, then TOP: only RETR marks", Stage::Transaction,
              QByteArrayList{"C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2)
                  + QByteArrayList{"C: TOP 1 0"_ba, "F: 1001 TOP 0 -> m1top0"_ba} + topSteps(m1top0)
                  + QByteArrayList{"R: 1002"_ba});
    addScript("gone meanwhile", Stage::Transaction,
              {"C: TOP 1 0"_ba, "F: 1001 TOP 0 -> gone"_ba, Err, "=: Transaction"_ba, "R: none"_ba});
    addScript("TOP without the line count", Stage::Transaction, {"C: TOP 1"_ba, Err, "=: Transaction"_ba});
    addScript("TOP without arguments", Stage::Transaction, {"C: TOP"_ba, Err});
    addScript("TOP with a negative line count", Stage::Transaction, {"C: TOP 1 -1"_ba, Err});
    addScript("TOP with a non-numeric line count", Stage::Transaction, {"C: TOP 1 x"_ba, Err});
    addScript("TOP with three arguments", Stage::Transaction, {"C: TOP 1 2 3"_ba, Err});
    addScript("TOP before login", Stage::Tls, {"C: TOP 1 0"_ba, Err});
}

// ---- DELE, RSET, NOOP ----------------------------------------------------------------

void TestPop3Session::deleAndRset_data()
{
    scriptColumns();
    const QByteArray dele1 = "C: DELE 1"_ba;
    addScript("DELE, then STAT excludes it", Stage::Transaction,
              {dele1, Ok, "C: STAT"_ba, "S: +OK 2 "_ba + n(M2.size() + M3.size())});
    addScript("DELE, then LIST and UIDL leave it out", Stage::Transaction,
              {dele1, Ok, "C: LIST"_ba, Ok, "S: 2 "_ba + n(M2.size()), "S: 3 "_ba + n(M3.size()), "S: ."_ba,
               "C: UIDL"_ba, Ok, "S: 2 1002"_ba, "S: 3 1005"_ba, "S: ."_ba});
    addScript("DELE, then LIST n of it", Stage::Transaction, {dele1, Ok, "C: LIST 1"_ba, Err});
    addScript("DELE, then UIDL n of it", Stage::Transaction, {dele1, Ok, "C: UIDL 1"_ba, Err});
    addScript("DELE, then RETR of it", Stage::Transaction, {dele1, Ok, "C: RETR 1"_ba, Err, "R: none"_ba});
    addScript("DELE, then TOP of it", Stage::Transaction, {dele1, Ok, "C: TOP 1 0"_ba, Err});
    addScript("DELE twice", Stage::Transaction, {dele1, Ok, dele1, Err, "C: STAT"_ba, "S~ +OK 2 "_ba});
    addScript("DELE keeps the numbers", Stage::Transaction,
              {dele1, Ok, "C: LIST 2"_ba, "S: +OK 2 "_ba + n(M2.size()), "C: UIDL 3"_ba, "S: +OK 3 1005"_ba});
    addScript("dele", Stage::Transaction, {"C: dele 2"_ba, Ok, "C: LIST 2"_ba, Err});
    addScript("DELE all", Stage::Transaction,
              {dele1, Ok, "C: DELE 2"_ba, Ok, "C: DELE 3"_ba, Ok, "C: STAT"_ba, "S: +OK 0 0"_ba, "C: LIST"_ba, Ok,
               "S: ."_ba, "C: UIDL"_ba, Ok, "S: ."_ba});
    addScript("DELE is not applied before QUIT", Stage::Transaction,
              {dele1, Ok, "C: NOOP"_ba, Ok, "=: Transaction"_ba});
    addScript("RSET undeletes", Stage::Transaction,
              QByteArrayList{dele1, Ok, "C: DELE 3"_ba, Ok, "C: RSET"_ba, Ok, "C: STAT"_ba,
                             "S: +OK 3 "_ba + allOctets(), "C: LIST"_ba}
                  + fullListSteps() + QByteArrayList{"C: RETR 1"_ba, "F: 1001 RETR -> m1"_ba} + retrSteps(M1)
                  + QByteArrayList{"R: 1001"_ba});
    addScript("rset", Stage::Transaction, {dele1, Ok, "C: rset"_ba, Ok, "C: LIST 1"_ba, "S: +OK 1 "_ba + n(M1.size())});
    addScript("RSET without deletions", Stage::Transaction,
              {"C: RSET"_ba, Ok, "C: STAT"_ba, "S: +OK 3 "_ba + allOctets()});
    addScript("DELE after RSET", Stage::Transaction,
              {dele1, Ok, "C: RSET"_ba, Ok, dele1, Ok, "C: STAT"_ba, "S: +OK 2 "_ba + n(M2.size() + M3.size())});
    addScript("NOOP", Stage::Transaction, {"C: NOOP"_ba, Ok, "=: Transaction"_ba});
    addScript("noop", Stage::Transaction, {"C: noop"_ba, Ok});
    addScript("DELE before login", Stage::Tls, {dele1, Err});
    addScript("RSET before login", Stage::Tls, {"C: RSET"_ba, Err});
}

// ---- QUIT: the UPDATE state (RFC 1939 §6) --------------------------------------------

void TestPop3Session::quit_data()
{
    scriptColumns();
    addScript("in Authorization", Stage::Greeted, {"C: QUIT"_ba, Ok, "C: CAPA"_ba}, true);
    addScript("after STLS, before login", Stage::Tls, {"C: QUIT"_ba, Ok}, true);
    addScript("after USER", Stage::Tls, {"C: USER alice"_ba, Ok, "C: QUIT"_ba, Ok}, true);
    addScript("quit", Stage::Greeted, {"C: quit"_ba, Ok}, true);
    addScript("after a rejected login", Stage::Tls,
              {"C: USER alice"_ba, Ok, "C: PASS wrong-password"_ba, "L: alice wrong-password -> Rejected"_ba,
               InvalidCredentials, "C: QUIT"_ba, Ok},
              true);
    addScript("without deletions: no commit", Stage::Transaction, {"C: QUIT"_ba, Ok}, true);
    addScript("after RETR, without deletions", Stage::Transaction,
              QByteArrayList{"C: RETR 2"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2)
                  + QByteArrayList{"R: 1002"_ba, "C: QUIT"_ba, Ok},
              true);
    addScript("deletions committed", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "C: DELE 3"_ba, Ok, "C: QUIT"_ba, "=: Waiting"_ba, "K: 1001,1005 -> true"_ba, Ok,
               "C: STAT"_ba},
              true);
    addScript("deletions in another order", Stage::Transaction,
              {"C: DELE 3"_ba, Ok, "C: DELE 2"_ba, Ok, "C: QUIT"_ba, "K: 1002,1005 -> true"_ba, Ok}, true);
    addScript("every message deleted", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "C: DELE 2"_ba, Ok, "C: DELE 3"_ba, Ok, "C: quit"_ba,
               "K: 1001,1002,1005 -> true"_ba, Ok},
              true);
    addScript("the commit fails", Stage::Transaction,
              {"C: DELE 2"_ba, Ok, "C: QUIT"_ba, "K: 1002 -> false"_ba, "S~ -ERR [SYS/TEMP]"_ba}, true);
    addScript("deletions undone with RSET: no commit", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "C: DELE 2"_ba, Ok, "C: RSET"_ba, Ok, "C: QUIT"_ba, Ok}, true);
    addScript("only what was deleted after RSET", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "C: RSET"_ba, Ok, "C: DELE 2"_ba, Ok, "C: QUIT"_ba, "K: 1002 -> true"_ba, Ok}, true);
    addScript("nothing after QUIT", Stage::Transaction, {"C< QUIT\r\nSTAT\r\n"_ba, Ok}, true);
    addScript("nothing after QUIT with deletions", Stage::Transaction,
              {"C< DELE 1\r\nQUIT\r\nDELE 2\r\nSTAT\r\n"_ba, Ok, "K: 1001 -> true"_ba, Ok, "C: STAT"_ba}, true);
    addScript("nothing after QUIT in Authorization", Stage::Tls,
              {"C< QUIT\r\nUSER alice\r\nPASS alice-password\r\n"_ba, Ok}, true);
}

// ---- message numbers ---------------------------------------------------------------

void TestPop3Session::messageNumbers_data()
{
    scriptColumns();
    const QByteArrayList nothingDeleted{"C: STAT"_ba, "S: +OK 3 "_ba + allOctets()};
    struct Bad
    {
        const char *name;
        QByteArray argument;
    };
    const QList<Bad> bad{{"0", "0"_ba},
                         {"out of range", "4"_ba},
                         {"far out of range", "100"_ba},
                         {"non-numeric", "one"_ba},
                         {"negative", "-1"_ba},
                         {"a plus sign", "+1"_ba},
                         {"digits and letters", "1x"_ba},
                         {"a fraction", "1.0"_ba},
                         {"20 digits", "18446744073709551617"_ba},
                         {"two numbers", "1 2"_ba}};
    for (const QByteArray &verb : {"RETR"_ba, "DELE"_ba, "LIST"_ba, "UIDL"_ba}) {
        for (const Bad &b : bad) {
            const QByteArray name = verb + ": "_ba + b.name;
            QTest::newRow(name.constData()) << plainSettings() << Stage::Transaction
                                            << QByteArrayList{"C: "_ba + verb + ' ' + b.argument, Err}
                                                   + nothingDeleted
                                            << false;
        }
    }
    for (const Bad &b : bad) {
        const QByteArray name = "TOP: "_ba + b.name;
        QTest::newRow(name.constData()) << plainSettings() << Stage::Transaction
                                        << QByteArrayList{"C: TOP "_ba + b.argument + " 0"_ba, Err} << false;
    }
    addScript("RETR without a number", Stage::Transaction, {"C: RETR"_ba, Err});
    addScript("DELE without a number", Stage::Transaction, QByteArrayList{"C: DELE"_ba, Err} + nothingDeleted);
    addScript("DELE 3 is the last", Stage::Transaction,
              {"C: DELE 3"_ba, Ok, "C: STAT"_ba, "S: +OK 2 "_ba + n(M1.size() + M2.size())});
}

// ---- unknown and out-of-state commands ------------------------------------------------

void TestPop3Session::unknownAndOutOfState_data()
{
    scriptColumns();
    for (const QByteArray &command : {"STAT"_ba, "LIST"_ba, "LIST 1"_ba, "UIDL"_ba, "UIDL 1"_ba, "RETR 1"_ba,
                                      "TOP 1 0"_ba, "DELE 1"_ba, "RSET"_ba, "NOOP"_ba, "FOO"_ba, "XYZZY plugh"_ba,
                                      "APOP alice c4c9334bac560ecc979e58001b3e22fb"_ba, ""_ba, " STAT"_ba}) {
        const QByteArray name = "before login: \""_ba + command + "\""_ba;
        QTest::newRow(name.constData()) << plainSettings() << Stage::Tls
                                        << QByteArrayList{"C: "_ba + command, Err, "=: Authorization"_ba, "A: 0"_ba}
                                        << false;
    }
    for (const QByteArray &command : {"USER alice"_ba, "PASS alice-password"_ba, "STLS"_ba, "AUTH PLAIN"_ba,
                                      "FOO"_ba, "XYZZY plugh"_ba, "APOP alice c4c9334bac560ecc979e58001b3e22fb"_ba,
                                      ""_ba}) {
        const QByteArray name = "in Transaction: \""_ba + command + "\""_ba;
        QTest::newRow(name.constData()) << plainSettings() << Stage::Transaction
                                        << QByteArrayList{"C: "_ba + command, Err, "=: Transaction"_ba, "C: STAT"_ba,
                                                          "S: +OK 3 "_ba + allOctets()}
                                        << false;
    }
    addScript("before TLS: STAT", Stage::Greeted, {"C: STAT"_ba, Err});
    addScript("before TLS: unknown", Stage::Greeted, {"C: FOO"_ba, Err, "C: STLS"_ba, Ok, "T: tls"_ba});
}

// ---- limits: errors, failed logins, line length -----------------------------------------

void TestPop3Session::errorLimits_data()
{
    scriptColumns();
    const QByteArray tooMany = "S~ -ERR [SYS/TEMP]"_ba;

    QByteArrayList nine;
    for (int i = 0; i < 9; ++i)
        nine << "C: FOO"_ba << Err;
    addScript("nine errors keep the session", Stage::Transaction,
              nine + QByteArrayList{"C: NOOP"_ba, Ok, "=: Transaction"_ba});
    addScript("ten unknown commands", Stage::Transaction,
              nine + QByteArrayList{"C: FOO"_ba, Err, "S? -ERR"_ba, "C: NOOP"_ba}, true);
    addScript("ten errors before login", Stage::Tls,
              nine + QByteArrayList{"C: STAT"_ba, Err, "S? -ERR"_ba, "C: USER alice"_ba}, true);

    QByteArrayList encryption;
    for (int i = 0; i < 10; ++i)
        encryption << "C: USER alice"_ba << EncryptionRequired;
    addScript("ten USER before TLS", Stage::Greeted, encryption + QByteArrayList{"S? -ERR"_ba, "C: STLS"_ba}, true);

    QByteArrayList mixed;
    for (const QByteArray &command : {"RETR 0"_ba, "LIST 9"_ba, "UIDL x"_ba, "TOP 1"_ba, "USER alice"_ba, "FOO"_ba,
                                      "STLS"_ba, "DELE 1"_ba})
        mixed << "C: "_ba + command << (command == "DELE 1" ? Ok : Err);
    mixed << "C: DELE 1"_ba << Err << "C: LIST 1"_ba << Err;
    addScript("nine errors of many kinds keep the session", Stage::Transaction,
              mixed + QByteArrayList{"C: STAT"_ba, "S: +OK 2 "_ba + n(M2.size() + M3.size())});
    addScript("ten errors of many kinds, nothing deleted", Stage::Transaction,
              mixed + QByteArrayList{"C: RETR 1"_ba, Err, "S? -ERR"_ba, "C: QUIT"_ba}, true);

    QByteArrayList longLines;
    for (int i = 0; i < 9; ++i)
        longLines << "C: NOOP "_ba + QByteArray(600, 'x') << LineTooLong;
    addScript("ten long lines", Stage::Transaction,
              longLines + QByteArrayList{"C: NOOP "_ba + QByteArray(600, 'x'), LineTooLong, "S? -ERR"_ba}, true);

    const QByteArray user = "C: USER alice"_ba;
    const QByteArray wrong = "C: PASS wrong-password"_ba;
    const QByteArray rejected = "L: alice wrong-password -> Rejected"_ba;
    const QByteArray wrongPlain = "C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "wrong-password"_ba);
    addScript("three rejected logins", Stage::Tls,
              {user, Ok, wrong, rejected, InvalidCredentials, user, Ok, wrong, rejected, InvalidCredentials, user, Ok,
               wrong, rejected, InvalidCredentials, tooMany, "C: USER alice"_ba},
              true);
    addScript("two rejected logins, then accepted", Stage::Tls,
              {user, Ok, wrong, rejected, InvalidCredentials, user, Ok, wrong, rejected, InvalidCredentials, user, Ok,
               "C: PASS alice-password"_ba, "L: alice alice-password -> Accepted"_ba, Ok, "=: Transaction"_ba});
    addScript("three rejected AUTH PLAIN", Stage::Tls,
              {wrongPlain, rejected, InvalidCredentials, wrongPlain, rejected, InvalidCredentials, wrongPlain, rejected,
               InvalidCredentials, tooMany},
              true);
    addScript("rejected USER/PASS, AUTH PLAIN and a bad AUTH PLAIN", Stage::Tls,
              {user, Ok, wrong, rejected, InvalidCredentials, wrongPlain, rejected, InvalidCredentials,
               "C: AUTH PLAIN "_ba + b64("no-nul"_ba), Err, "S? -ERR"_ba},
              true);
    addScript("cancelled AUTH is no failed login", Stage::Tls,
              {user, Ok, wrong, rejected, InvalidCredentials, wrongPlain, rejected, InvalidCredentials,
               "C: AUTH PLAIN"_ba, "S: + "_ba, "C: *"_ba, Err, "C: AUTH PLAIN"_ba, "S: + "_ba, "C: *"_ba, Err,
               "C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba), "L: alice alice-password -> Accepted"_ba,
               Ok});
}

void TestPop3Session::lineLength_data()
{
    scriptColumns();
    // docs/protocol/pop3.md §6: a command line over 512 octets, CRLF included.
    addScript("512 octets with CRLF", Stage::Transaction, {"C: NOOP "_ba + QByteArray(505, 'x'), Ok});
    addScript("513 octets with CRLF", Stage::Transaction,
              {"C: NOOP "_ba + QByteArray(506, 'x'), LineTooLong, "=: Transaction"_ba, "C: NOOP"_ba, Ok});
    addScript("a long line, then the session goes on", Stage::Transaction,
              {"C: NOOP "_ba + QByteArray(600, 'x'), LineTooLong, "C: STAT"_ba, "S: +OK 3 "_ba + allOctets()});
    addScript("a command past octet 512 is not run", Stage::Transaction,
              {"C: "_ba + QByteArray(600, 'x') + "QUIT"_ba, LineTooLong, "C: NOOP"_ba, Ok});
    addScript("a line of 100000 octets", Stage::Transaction,
              {"C: NOOP "_ba + QByteArray(100000, 'x'), LineTooLong, "C: NOOP"_ba, Ok});
    addScript("a long USER line", Stage::Tls,
              {"C: USER "_ba + QByteArray(600, 'a'), LineTooLong, "C: PASS x"_ba, Err, "C: USER alice"_ba, Ok});
    addScript("a long PASS line makes no login request", Stage::Tls,
              {"C: USER alice"_ba, Ok, "C: PASS "_ba + QByteArray(600, 'p'), LineTooLong, "=: Authorization"_ba});
    addScript("a long AUTH response ends the exchange", Stage::Tls,
              {"C: AUTH PLAIN"_ba, "S: + "_ba, "C: "_ba + QByteArray(600, 'A'), LineTooLong, "=: Authorization"_ba,
               "C: USER alice"_ba, Ok});
    addScript("a long line before TLS", Stage::Greeted, {"C: CAPA "_ba + QByteArray(600, 'x'), LineTooLong});
}

// ---- timeouts and shutdown: nothing deleted (RFC 1939 §6) -------------------------------

void TestPop3Session::timeoutsAndShutdown_data()
{
    scriptColumns();
    const QByteArray sysTemp = "S~ -ERR [SYS/TEMP]"_ba;
    addScript("timeout in Authorization", Stage::Greeted, {"X: timeout"_ba, Err, "C: CAPA"_ba}, true);
    addScript("timeout in Transaction", Stage::Transaction, {"X: timeout"_ba, Err, "C: STAT"_ba}, true);
    addScript("timeout after DELE: no commit", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "C: DELE 2"_ba, Ok, "X: timeout"_ba, Err, "C: QUIT"_ba}, true);
    addScript("timeout in the AUTH exchange", Stage::Tls, {"C: AUTH PLAIN"_ba, "S: + "_ba, "X: timeout"_ba, Err}, true);
    addScript("timeout after close", Stage::Transaction, {"C: QUIT"_ba, Ok, "X: timeout"_ba}, true);
    addScript("shutdown in Authorization", Stage::Tls, {"X: shutdown"_ba, sysTemp}, true);
    addScript("shutdown after DELE: no commit", Stage::Transaction,
              {"C: DELE 3"_ba, Ok, "X: shutdown"_ba, sysTemp, "C: QUIT"_ba}, true);
    // The connection calls shuttingDown() when a pipelined request has not
    // been started: it is refused, not served.
    addScript("shutdown with a commit not yet served", Stage::Transaction,
              {"C< DELE 1\r\nQUIT\r\n"_ba, Ok, "=: Waiting"_ba, "X: shutdown"_ba, sysTemp}, true);
    addScript("shutdown with a login not yet served", Stage::Tls,
              {"C< USER alice\r\nPASS alice-password\r\n"_ba, Ok, "X: shutdown"_ba, sysTemp, "A: 0"_ba}, true);
    addScript("stop: a login in flight finishes, nothing more is run", Stage::Tls,
              {"C< USER alice\r\nPASS alice-password\r\nSTAT\r\nQUIT\r\n"_ba, Ok, "X: stop"_ba,
               "L: alice alice-password -> Accepted"_ba, Ok, "=: Transaction"_ba, "X: shutdown"_ba, sysTemp},
              true);
    addScript("stop: a commit in flight finishes", Stage::Transaction,
              {"C< DELE 2\r\nQUIT\r\n"_ba, Ok, "X: stop"_ba, "K: 1002 -> true"_ba, Ok, "X: shutdown"_ba}, true);
    addScript("stop: no new command", Stage::Transaction,
              {"X: stop"_ba, "C: DELE 1"_ba, "C: QUIT"_ba, "=: Transaction"_ba, "X: shutdown"_ba, sysTemp}, true);
}

// ---- pipelining (RFC 2449 §6.6) -------------------------------------------------------

void TestPop3Session::pipelining_data()
{
    scriptColumns();
    addScript("login to QUIT in one go", Stage::Tls,
              QByteArrayList{"C< USER alice\r\nPASS alice-password\r\nSTAT\r\nLIST\r\nUIDL 3\r\nRETR 1\r\nTOP 2 2\r\n"
                             "DELE 2\r\nSTAT\r\nQUIT\r\n"_ba,
                             Ok, "=: Waiting"_ba, "I: pending"_ba, "L: alice alice-password -> Accepted"_ba, Ok,
                             "S: +OK 3 "_ba + allOctets()}
                  + fullListSteps() + QByteArrayList{"S: +OK 3 1005"_ba, "I: pending"_ba, "F: 1001 RETR -> m1"_ba}
                  + retrSteps(M1) + QByteArrayList{"F: 1002 TOP 2 -> m2top2"_ba}
                  + topSteps(messageNamed("m2top2"_ba))
                  + QByteArrayList{Ok, "S: +OK 2 "_ba + n(M1.size() + M3.size()), "K: 1002 -> true"_ba, Ok,
                                   "R: 1001"_ba},
              true);
    addScript("AUTH PLAIN to QUIT, implicit TLS", Stage::Greeted,
              QByteArrayList{"C< AUTH PLAIN "_ba + plainCredentials("alice"_ba, "alice-password"_ba)
                                 + "\r\nUIDL\r\nDELE 1\r\nDELE 3\r\nQUIT\r\n"_ba,
                             "L: alice alice-password -> Accepted"_ba, Ok}
                  + fullUidlSteps() + QByteArrayList{Ok, Ok, "K: 1001,1005 -> true"_ba, Ok},
              true, implicitTls());
    addScript("AUTH PLAIN continuation pipelined", Stage::Tls,
              {"C< AUTH PLAIN\r\n"_ba + plainCredentials("alice"_ba, "alice-password"_ba) + "\r\nSTAT\r\n"_ba, "S: + "_ba,
               "L: alice alice-password -> Accepted"_ba, Ok, "S: +OK 3 "_ba + allOctets()});
    addScript("a rejected login in the pipeline", Stage::Tls,
              {"C< USER alice\r\nPASS wrong-password\r\nSTAT\r\nUSER alice\r\nPASS alice-password\r\nSTAT\r\n"_ba, Ok,
               "L: alice wrong-password -> Rejected"_ba, InvalidCredentials, Err, Ok,
               "L: alice alice-password -> Accepted"_ba, Ok, "S: +OK 3 "_ba + allOctets()});
    addScript("a throttled login: nothing after it runs", Stage::Tls,
              {"C< USER alice\r\nPASS alice-password\r\nSTAT\r\nQUIT\r\n"_ba, Ok,
               "L: alice alice-password -> Throttled"_ba, TooManyFailedLogins},
              true);
    addScript("RETR behind RETR", Stage::Transaction,
              QByteArrayList{"C< RETR 3\r\nRETR 2\r\nNOOP\r\n"_ba, "I: pending"_ba, "F: 1005 RETR -> m3"_ba}
                  + retrSteps(M3) + QByteArrayList{"I: pending"_ba, "F: 1002 RETR -> m2"_ba} + retrSteps(M2)
                  + QByteArrayList{Ok, "I: none"_ba, "R: 1005,1002"_ba});
    addScript("a message gone in the pipeline", Stage::Transaction,
              QByteArrayList{"C< RETR 1\r\nLIST 1\r\nRETR 2\r\n"_ba, "F: 1001 RETR -> gone"_ba, Err,
                             "S: +OK 1 "_ba + n(M1.size()), "F: 1002 RETR -> m2"_ba}
                  + retrSteps(M2) + QByteArrayList{"R: 1002"_ba});
    addScript("the rest of a command arrives while a request is out", Stage::Transaction,
              QByteArrayList{"C< RETR 2\r\nST"_ba, "I: pending"_ba, "C< AT\r\nNO"_ba, "F: 1002 RETR -> m2"_ba}
                  + retrSteps(M2)
                  + QByteArrayList{"S: +OK 3 "_ba + allOctets(), "I: pending"_ba, "C< OP\r\n"_ba, Ok, "R: 1002"_ba});
    addScript("commands sent while a request is out", Stage::Tls,
              {"C< USER alice\r\nPASS alice-password\r\n"_ba, Ok, "C: STAT"_ba, "C: UIDL 2"_ba, "I: pending"_ba,
               "L: alice alice-password -> Accepted"_ba, Ok, "S: +OK 3 "_ba + allOctets(), "S: +OK 2 1002"_ba,
               "I: none"_ba});
}

// An answer for which no request is out (a late one, after the session
// closed, or a confused caller) changes nothing: above all it logs nobody in.
void TestPop3Session::unsolicitedAnswers_data()
{
    scriptColumns();
    addScript("login accepted without a request", Stage::Tls,
              {"Z: login"_ba, "=: Authorization"_ba, "A: 0"_ba, "C: STAT"_ba, Err});
    addScript("login accepted after USER, before PASS", Stage::Tls,
              {"C: USER alice"_ba, Ok, "Z: login"_ba, "=: Authorization"_ba, "A: 0"_ba});
    addScript("login accepted after the session timed out", Stage::Tls,
              {"C< USER alice\r\nPASS alice-password\r\n"_ba, Ok, "X: timeout"_ba, Err, "Z: login"_ba, "A: 0"_ba},
              true);
    addScript("a fetch answer without a request", Stage::Transaction,
              {"Z: fetch"_ba, "R: none"_ba, "=: Transaction"_ba, "C: NOOP"_ba, Ok});
    addScript("a commit answer without a request", Stage::Transaction,
              {"C: DELE 1"_ba, Ok, "Z: commit"_ba, "=: Transaction"_ba, "C: STAT"_ba, "S~ +OK 2 "_ba});
    addScript("a commit answer in Authorization", Stage::Greeted, {"Z: commit"_ba, "=: Authorization"_ba});
}

// docs/protocol/pop3.md §6: memory per connection stays bounded. A line without end is dropped
// as it arrives, however it is split, and answered once when it ends.
void TestPop3Session::overlongInputIsNotKept_data()
{
    QTest::addColumn<qsizetype>("chunk");
    QTest::addColumn<int>("chunks");
    QTest::newRow("513-byte reads") << qsizetype(513) << 200;
    QTest::newRow("4 KiB reads") << qsizetype(4096) << 256;
    QTest::newRow("64 KiB reads") << qsizetype(65536) << 16;
    QTest::newRow("one read of 4 MiB") << qsizetype(4 << 20) << 1;
}

void TestPop3Session::overlongInputIsNotKept()
{
    QFETCH(qsizetype, chunk);
    QFETCH(int, chunks);

    Driver d(implicitTls());
    d.start();
    QString error = runScript(d, stageScript(implicitTls(), Stage::Transaction), Feed{});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QByteArray bytes(chunk, 'x');
    for (int i = 0; i < chunks; ++i) {
        d.session.receive(bytes);
        QVERIFY2(!d.session.hasPendingInput(), qPrintable(u"after read %1"_s.arg(i + 1)));
        QCOMPARE(d.session.takeOutput(), QByteArray());
    }
    d.feed("\r\nSTAT\r\n"_ba, 100);
    error = runScript(d, {LineTooLong, "S: +OK 3 "_ba + allOctets()}, Feed{});
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(SessionKit::leftovers(d), QString());
}

// ---- output held back ------------------------------------------------------------------

// A client that pipelines but does not read: the session stops taking
// commands once 64 KiB of replies wait, and goes on after they were taken.
void TestPop3Session::repliesDoNotPileUp()
{
    Pop3SessionSettings settings;
    settings.maxErrors = 1000000;
    Pop3Session session(settings, u"192.0.2.7"_s);
    session.start();
    QCOMPARE(session.takeOutput(), "+OK Mailroom POP3 ready\r\n"_ba);

    const int commands = 20000;
    session.receive("CAPA\r\n"_ba.repeated(commands));
    const QByteArray first = session.takeOutput();
    QVERIFY2(first.size() < 2 * Pop3Session::MaxPendingOutput, QByteArray::number(first.size()).constData());
    QVERIFY(session.isHoldingInput());
    QVERIFY(session.hasPendingInput());
    qsizetype total = first.count("\r\n.\r\n");
    int rounds = 0;
    while (session.isHoldingInput()) {
        session.resume();
        const QByteArray more = session.takeOutput();
        QVERIFY(more.size() < 2 * Pop3Session::MaxPendingOutput);
        QVERIFY(!more.isEmpty());
        total += more.count("\r\n.\r\n");
        QVERIFY(++rounds < commands);
    }
    QCOMPARE(total, qsizetype(commands)); // every command answered, none lost
    QVERIFY(!session.hasPendingInput());

    // Half a command is not held input: the connection must read on.
    session.receive("CAP"_ba);
    QVERIFY(session.hasPendingInput());
    QVERIFY(!session.isHoldingInput());
    session.receive("A\r\n"_ba);
    const QByteArray capa = session.takeOutput();
    QVERIFY2(capa.startsWith("+OK") && capa.endsWith("\r\n.\r\n"), capa.constData());
    QVERIFY(!session.closeRequested());
}

// ---- dotStuffed() and topOf() -----------------------------------------------------------

void TestPop3Session::dotStuffed_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("no dots") << "Subject: s\r\n\r\nbody\r\n"_ba << "Subject: s\r\n\r\nbody\r\n.\r\n"_ba;
    QTest::newRow("a dot at the very start") << ".Subject: s\r\n\r\nbody\r\n"_ba
                                             << "..Subject: s\r\n\r\nbody\r\n.\r\n"_ba;
    QTest::newRow("dots after CRLF") << "a\r\n.b\r\n..c\r\n"_ba << "a\r\n..b\r\n...c\r\n.\r\n"_ba;
    QTest::newRow("a line that is one dot") << "a\r\n.\r\nb\r\n"_ba << "a\r\n..\r\nb\r\n.\r\n"_ba;
    QTest::newRow("CRLF.CRLF at the end") << "a\r\n.\r\n"_ba << "a\r\n..\r\n.\r\n"_ba;
    QTest::newRow("dots inside lines stay") << "a.b\r\nc .\r\n x.\r\n"_ba << "a.b\r\nc .\r\n x.\r\n.\r\n"_ba;
    QTest::newRow("without a final CRLF") << "a\r\nlast"_ba << "a\r\nlast\r\n.\r\n"_ba;
    QTest::newRow("a dot last, without a final CRLF") << "a\r\n."_ba << "a\r\n..\r\n.\r\n"_ba;
    QTest::newRow("only a dot") << "."_ba << "..\r\n.\r\n"_ba;
    QTest::newRow("only dots") << "...\r\n"_ba << "....\r\n.\r\n"_ba;
    QTest::newRow("empty") << ""_ba << ".\r\n"_ba;
    QTest::newRow("only CRLF") << "\r\n"_ba << "\r\n.\r\n"_ba;
    QTest::newRow("empty lines") << "\r\n\r\n.\r\n\r\n"_ba << "\r\n\r\n..\r\n\r\n.\r\n"_ba;
    QTest::newRow("empty body") << "Subject: s\r\n\r\n"_ba << "Subject: s\r\n\r\n.\r\n"_ba;
    QTest::newRow("8-bit and NUL kept") << "\xc3\xa4\0\xff\r\n"_ba << "\xc3\xa4\0\xff\r\n.\r\n"_ba;
}

void TestPop3Session::dotStuffed()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, expected);
    QCOMPARE(Pop3Session::dotStuffed(message), expected);
}

void TestPop3Session::topOf_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("lines");
    QTest::addColumn<QByteArray>("expected");

    const QByteArray header = "From: bob@project.com\r\nSubject: s\r\n"_ba;
    const QByteArray message = header + "\r\nline 1\r\nline 2\r\n\r\nline 4\r\n"_ba;

    QTest::newRow("TOP 0") << message << 0 << QByteArray(header + "\r\n"_ba);
    QTest::newRow("TOP 1") << message << 1 << QByteArray(header + "\r\nline 1\r\n"_ba);
    QTest::newRow("TOP 2") << message << 2 << QByteArray(header + "\r\nline 1\r\nline 2\r\n"_ba);
    QTest::newRow("an empty body line counts")
        << message << 3 << QByteArray(header + "\r\nline 1\r\nline 2\r\n\r\n"_ba);
    QTest::newRow("all of the body") << message << 4 << message;
    QTest::newRow("more than the body has") << message << 5 << message;
    QTest::newRow("far more than the body has") << message << 1000000 << message;
    QTest::newRow("folded header") << "Subject: a\r\n b\r\n\r\nbody\r\n"_ba << 0 << "Subject: a\r\n b\r\n\r\n"_ba;
    QTest::newRow("last line without CRLF, all") << QByteArray(header + "\r\nline 1\r\nlast"_ba) << 2
                                                 << QByteArray(header + "\r\nline 1\r\nlast"_ba);
    QTest::newRow("last line without CRLF, cut before it") << QByteArray(header + "\r\nline 1\r\nlast"_ba) << 1
                                                           << QByteArray(header + "\r\nline 1\r\n"_ba);
    QTest::newRow("last line without CRLF, more")
        << QByteArray(header + "\r\nonly"_ba) << 9 << QByteArray(header + "\r\nonly"_ba);
    QTest::newRow("empty body, TOP 0") << QByteArray(header + "\r\n"_ba) << 0 << QByteArray(header + "\r\n"_ba);
    QTest::newRow("empty body, TOP 5") << QByteArray(header + "\r\n"_ba) << 5 << QByteArray(header + "\r\n"_ba);
    QTest::newRow("without a blank line, TOP 0") << header << 0 << header;
    QTest::newRow("without a blank line, TOP 3") << header << 3 << header;
    QTest::newRow("without a blank line or final CRLF") << "Subject: s"_ba << 2 << "Subject: s"_ba;
    QTest::newRow("empty message") << ""_ba << 0 << ""_ba;
    QTest::newRow("dots are not stuffed here") << "S: s\r\n\r\n.a\r\n.\r\nb\r\n"_ba << 2 << "S: s\r\n\r\n.a\r\n.\r\n"_ba;
    // RFC 5322 §3.5: the header section may be empty (no fields); the message
    // then starts with the empty line, and the body after it is cut like any
    // other. topOf() looks only for CRLF CRLF and returned the whole body.
    QTest::newRow("empty header section, TOP 0") << "\r\nbody 1\r\nbody 2\r\n"_ba << 0 << "\r\n"_ba;
    QTest::newRow("empty header section, TOP 1") << "\r\nbody 1\r\nbody 2\r\n"_ba << 1 << "\r\nbody 1\r\n"_ba;
}

void TestPop3Session::topOf()
{
    QFETCH(QByteArray, message);
    QFETCH(int, lines);
    QFETCH(QByteArray, expected);
    QCOMPARE(Pop3Session::topOf(message, lines), expected);
}

QTEST_APPLESS_MAIN(TestPop3Session)
#include "tst_pop3session.moc"
