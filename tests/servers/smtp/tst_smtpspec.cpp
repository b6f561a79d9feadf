// docs/protocol/smtp.md, row by row, over real sockets: every success and
// every failure it lists, in its sections and in its table of replies (§10),
// is one row of specRow, a scripted conversation with an in-process SmtpDaemon
// (loopback, ports chosen by the system, its own generated certificate in a
// QTemporaryDir) through a verifying QSslSocket client. docs/SMTP-COVERAGE.md
// maps each rule of smtp.md to its row here and to the unit and outside-client tests.
//
// A script is a list of steps, each "XX text":
//   C: line        send line + CRLF           C< bytes   send bytes as they are
//   S: reply       read one reply and compare its last line; a trailing "..."
//                  compares only what comes before it (code + enhanced code
//                  where the text does not matter). {alice} and {bob} are the ids.
//   E+ / E- kw     the last reply has / lacks the EHLO line kw
//   T: tls         STARTTLS handshake (fails on any plaintext after the 220)
//   X: closed      the server closed the connection, nothing else came
//   X: quiet       nothing more has arrived
//   N: how [ip]    a new connection, the current one from then on (the old
//                  ones stay open): plain (greeting not read), tls (greeted,
//                  EHLO, STARTTLS, EHLO), implicit (greeted), implicit-refused
//                  (closed without a word, no handshake)
//   A: >=ms        the last reply took at least ms after its command
//   K: delete bob  bob's account is deleted through the test's own store
//   M: count n     n messages stored
//   M: has / lacks / once text   every stored message contains text / does
//                  not / contains it exactly once ({queue}: the last queue id)
//   M: regex re    every stored message matches re
//   M: crlf        every stored message has CRLF line ends only
//   L: has / lacks text   the mailroom.smtp log so far contains text / not
// The starting points: plain (greeted), tls (greeted, EHLO, STARTTLS, EHLO),
// auth (tls + AUTH PLAIN as alice), mail (auth + MAIL FROM alice), rcpt
// (mail + RCPT TO bob), implicit (the implicit-TLS port, greeted).

#include "smtptestclient.h"
#include "config.h"
#include "passwords.h"
#include "smtpdaemon.h"
#include "store.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QDir>
#include <QFile>
#include "tlsmaterial.h"
#include <QTest>

#include <memory>
#include <vector>

using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30000;

const QByteArray AlicePassword = "alice-secret-1"_ba;
const QByteArray BobPassword = "bob-secret-12"_ba;
const QByteArray Greeting = "220 localhost ESMTP Mailroom"_ba;

QByteArray regArgument(const QByteArray &user, const QByteArray &password)
{
    QByteArray argument = user;
    argument.append('\0').append(password);
    return argument.toBase64();
}


// The mailroom.smtp log, captured while a row runs (whatever QT_LOGGING_RULES says).
QStringList g_log;
bool g_capturing = false;
QtMessageHandler g_previousHandler = nullptr;
QLoggingCategory::CategoryFilter g_previousFilter = nullptr;

void captureFilter(QLoggingCategory *category)
{
    if (g_previousFilter)
        g_previousFilter(category);
    if (g_capturing && qstrcmp(category->categoryName(), "mailroom.smtp") == 0)
        category->setEnabled(QtInfoMsg, true);
}

void captureHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (g_capturing && context.category && qstrcmp(context.category, "mailroom.smtp") == 0) {
        g_log.append(message);
        return;
    }
    if (g_previousHandler)
        g_previousHandler(type, context, message);
}

// Script-building shorthands.
QByteArray c(const QByteArray &line) { return "C: "_ba + line; }
QByteArray s(const QByteArray &reply) { return "S: "_ba + reply; }

const QByteArray Invalid = "S: 535 5.7.8 Authentication credentials invalid"_ba;
const QByteArray Throttled = "S: 454 4.7.0 Too many failed logins, try later"_ba;
const QByteArray Accepted = "S: 235 2.7.0 Authentication successful"_ba;
const QByteArray DataGo = "S: 354 End data with <CR><LF>.<CR><LF>"_ba;
const QByteArray Queued = "S: 250 2.0.0 OK: queued as ..."_ba;
const QByteArray Ok = "S: 250 2.0.0 OK"_ba;

QByteArray wrongLogin(const QByteArray &user, int n)
{
    return "C: AUTH PLAIN "_ba + plainCredentials(user, "wrong-password-"_ba + QByteArray::number(n));
}

} // namespace

class TestSmtpSpec : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void specRow_data();
    void specRow();
    void hashingDoesNotStallOthers();

private:
    bool startDaemon();
    bool reach(SmtpClient &client, const QString &start, QString *error);
    QString run(const QString &start, const QByteArrayList &script);
    QList<QByteArray> allStoredMessages();
    qint64 storedMessages();

    std::unique_ptr<QTemporaryDir> m_dir;
    // One generated certificate for all rows: making one per row would cost
    // most of the test's time (the generation itself is tested elsewhere).
    QTemporaryDir m_sharedTls;
    Config m_config;
    std::unique_ptr<Store> m_store;
    std::unique_ptr<SmtpDaemon> m_daemon;
    QSslCertificate m_ca;
    qint64 m_alice = 0;
    qint64 m_bob = 0;
};

void TestSmtpSpec::initTestCase()
{
    QVERIFY2(m_sharedTls.isValid(), qPrintable(m_sharedTls.errorString()));
    CertificateGenerator generator;
    QSignalSpy finished(&generator, &CertificateGenerator::finished);
    QSignalSpy failed(&generator, &CertificateGenerator::failed);
    generator.start(m_sharedTls.filePath(u"cert.pem"_s), m_sharedTls.filePath(u"key.pem"_s), u"localhost"_s);
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty() || !failed.isEmpty(); }, StartTimeoutMs));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
}

void TestSmtpSpec::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
    m_config = Config{};
    m_config.dataDir = m_dir->path();
    m_config.database.sqlitePath = m_dir->filePath(u"mailroom.db"_s);
    m_config.certificateFile = m_dir->filePath(u"tls/cert.pem"_s);
    m_config.keyFile = m_dir->filePath(u"tls/key.pem"_s);
    QVERIFY(QDir().mkpath(m_dir->filePath(u"tls"_s)));
    QVERIFY(QFile::copy(m_sharedTls.filePath(u"cert.pem"_s), m_config.certificateFile));
    QVERIFY(QFile::copy(m_sharedTls.filePath(u"key.pem"_s), m_config.keyFile));
    m_config.hostname = u"localhost"_s;
    m_config.listen = ListenAddress{QHostAddress(QHostAddress::LocalHost), 0};
    m_config.listenTls = ListenAddress{QHostAddress(QHostAddress::LocalHost), 0};
    m_config.pbkdf2Iterations = 1000;

    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(m_config.database.sqlitePath, Store::OpenMode::CreateIfMissing),
             qPrintable(m_store->lastErrorText()));
    const auto alice = m_store->createAccount(u"alice"_s, Passwords::hash(QString::fromUtf8(AlicePassword), 1000));
    const auto bob = m_store->createAccount(u"bob"_s, Passwords::hash(QString::fromUtf8(BobPassword), 1000));
    QVERIFY2(alice && bob, qPrintable(m_store->lastErrorText()));
    m_alice = alice->id;
    m_bob = bob->id;
    g_log.clear();
}

void TestSmtpSpec::cleanup()
{
    m_daemon.reset();
    g_capturing = false;
    m_store.reset();
    m_dir.reset();
    m_ca = QSslCertificate();
}

bool TestSmtpSpec::startDaemon()
{
    m_daemon = std::make_unique<SmtpDaemon>(m_config);
    QSignalSpy ready(m_daemon.get(), &SmtpDaemon::ready);
    QSignalSpy failed(m_daemon.get(), &SmtpDaemon::failed);
    m_daemon->start();
    if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, StartTimeoutMs) || ready.isEmpty()) {
        qWarning() << "the daemon did not start:" << (failed.isEmpty() ? QVariant() : failed.first().first());
        return false;
    }
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(m_config.certificateFile);
    if (certificates.size() != 1 || m_daemon->port() == 0 || m_daemon->tlsPort() == 0)
        return false;
    m_ca = certificates.first();
    return true;
}

bool TestSmtpSpec::reach(SmtpClient &client, const QString &start, QString *error)
{
    const auto expect = [error](const SmtpReply &reply, QByteArrayView prefix, const char *what) {
        if (reply.status().startsWith(prefix))
            return true;
        *error = u"reaching the start, %1: got \"%2\""_s.arg(QLatin1StringView(what), QString::fromLatin1(reply.all()));
        return false;
    };
    if (start == u"implicit") {
        if (!client.connectTls(m_daemon->tlsPort())) {
            *error = u"no TLS connection to the implicit-TLS port"_s;
            return false;
        }
        return expect(client.readReply(), Greeting, "greeting");
    }
    if (!client.connectPlain(m_daemon->port())) {
        *error = u"cannot connect"_s;
        return false;
    }
    if (!expect(client.readReply(), Greeting, "greeting"))
        return false;
    if (start == u"plain")
        return true;
    if (!expect(client.command("EHLO client.example"_ba), "250 ", "EHLO")
        || !expect(client.command("STARTTLS"_ba), "220 2.0.0", "STARTTLS"))
        return false;
    if (!client.startTls()) {
        *error = u"STARTTLS handshake failed"_s;
        return false;
    }
    if (!expect(client.command("EHLO client.example"_ba), "250 ", "EHLO after TLS"))
        return false;
    if (start == u"tls")
        return true;
    if (!expect(client.command("AUTH PLAIN "_ba + plainCredentials("alice"_ba, AlicePassword)), "235 2.7.0", "AUTH"))
        return false;
    if (start == u"auth")
        return true;
    if (!expect(client.command("MAIL FROM:<alice@project.com>"_ba), "250 2.1.0", "MAIL"))
        return false;
    if (start == u"mail")
        return true;
    if (!expect(client.command("RCPT TO:<bob@project.com>"_ba), "250 2.1.5", "RCPT"))
        return false;
    if (start == u"rcpt")
        return true;
    *error = u"unknown start "_s + start;
    return false;
}

QList<QByteArray> TestSmtpSpec::allStoredMessages()
{
    QHash<qint64, QByteArray> byId;
    const auto accounts = m_store->listAccounts();
    for (const Account &account : accounts.value_or(QList<Account>())) {
        for (FolderRole which : {FolderRole::Inbox, FolderRole::Sent}) {
            const auto page = m_store->listFolder(account.id, which, 500);
            for (const MailboxEntry &entry : page ? page->entries : QList<MailboxEntry>()) {
                if (!byId.contains(entry.messageId))
                    byId.insert(entry.messageId, m_store->rawMessage(account.id, entry.id).value_or(QByteArray()));
            }
        }
    }
    return byId.values();
}

qint64 TestSmtpSpec::storedMessages()
{
    const auto stats = m_store->stats();
    return stats ? stats->messages : -1;
}

// Runs a script; empty when every step went as written, else what failed.
QString TestSmtpSpec::run(const QString &start, const QByteArrayList &script)
{
    std::vector<std::unique_ptr<SmtpClient>> clients;
    clients.push_back(std::make_unique<SmtpClient>(m_ca));
    QString error;
    if (!reach(*clients.back(), start, &error))
        return error;

    SmtpReply last;
    QByteArray queueId;
    const auto substitute = [&](QByteArray text) {
        text.replace("{alice}", QByteArray::number(m_alice));
        text.replace("{bob}", QByteArray::number(m_bob));
        text.replace("{queue}", queueId);
        return text;
    };

    for (qsizetype i = 0; i < script.size(); ++i) {
        SmtpClient &client = *clients.back();
        const QByteArray step = script.at(i);
        const QByteArray kind = step.left(2);
        const QByteArray arg = step.mid(3);
        const auto fail = [&](const QString &what) {
            return u"step %1 \"%2\": %3"_s.arg(i + 1).arg(QString::fromLatin1(step.left(120).toPercentEncoding(" :<>@=()*+-.,;!?/")), what);
        };
        if (kind == "C:") {
            client.send(arg + "\r\n");
        } else if (kind == "C<") {
            client.send(arg);
        } else if (kind == "S:") {
            last = client.readReply();
            const QByteArray expected = substitute(arg);
            if (last.status().startsWith("250 2.0.0 OK: queued as "))
                queueId = last.status().mid(24);
            const bool matches = expected.endsWith("...") ? last.status().startsWith(expected.chopped(3))
                                                          : last.status() == expected;
            if (!matches)
                return fail(u"got \"%1\""_s.arg(QString::fromLatin1(last.all())));
        } else if (kind == "E+" || kind == "E-") {
            if (last.hasLine(arg) != (kind == "E+"))
                return fail(u"EHLO reply was \"%1\""_s.arg(QString::fromLatin1(last.all())));
        } else if (kind == "T:") {
            if (!client.startTls())
                return fail(u"no TLS after STARTTLS"_s);
        } else if (kind == "X:") {
            if (arg == "closed" && !client.waitClosed())
                return fail(u"the connection stayed open"_s);
            if (const QByteArray more = client.pending(); !more.isEmpty())
                return fail(u"more came: \"%1\""_s.arg(QString::fromLatin1(more.left(200).toPercentEncoding(" "))));
        } else if (kind == "N:") {
            const QByteArrayList words = arg.split(' ');
            const QHostAddress from = words.size() > 1 ? QHostAddress(QString::fromLatin1(words.at(1))) : QHostAddress();
            clients.push_back(std::make_unique<SmtpClient>(m_ca));
            SmtpClient &next = *clients.back();
            if (words.first() == "plain") {
                if (!next.connectPlain(m_daemon->port(), from))
                    return fail(u"cannot connect"_s);
            } else if (words.first() == "tls") {
                const bool ok = next.connectPlain(m_daemon->port(), from) && next.readReply().status() == Greeting
                    && next.command("EHLO client.example"_ba).code == 250 && next.command("STARTTLS"_ba).code == 220
                    && next.startTls() && next.command("EHLO client.example"_ba).code == 250;
                if (!ok)
                    return fail(u"no TLS session"_s);
            } else if (words.first() == "implicit") {
                if (!next.connectTls(m_daemon->tlsPort(), from) || next.readReply().status() != Greeting)
                    return fail(u"no implicit-TLS session"_s);
            } else if (words.first() == "implicit-refused") {
                next.startTlsConnect(m_daemon->tlsPort(), from);
                if (!next.waitClosed())
                    return fail(u"the connection stayed open"_s);
                if (next.socket().isEncrypted() || !next.pending().isEmpty())
                    return fail(u"the refused connection was served"_s);
            } else {
                return fail(u"unknown connection kind"_s);
            }
        } else if (kind == "A:") {
            const qint64 atLeast = arg.mid(2).toLongLong();
            if (client.lastReplyMs() < atLeast)
                return fail(u"the reply came after %1 ms"_s.arg(client.lastReplyMs()));
        } else if (kind == "K:") {
            if (arg != "delete bob" || !m_store->deleteAccount(m_bob))
                return fail(u"cannot delete: "_s + m_store->lastErrorText());
        } else if (kind == "M:") {
            const qsizetype space = arg.indexOf(' ');
            const QByteArray what = space < 0 ? arg : arg.left(space);
            const QByteArray text = space < 0 ? QByteArray() : substitute(arg.mid(space + 1));
            if (what == "count") {
                if (storedMessages() != text.toLongLong())
                    return fail(u"%1 messages stored"_s.arg(storedMessages()));
                continue;
            }
            const QList<QByteArray> stored = allStoredMessages();
            if (stored.isEmpty())
                return fail(u"nothing stored"_s);
            for (const QByteArray &raw : stored) {
                bool ok = false;
                if (what == "has")
                    ok = raw.contains(text);
                else if (what == "lacks")
                    ok = !raw.contains(text);
                else if (what == "once")
                    ok = raw.count(text) == 1;
                else if (what == "regex")
                    ok = QRegularExpression(QString::fromLatin1(text)).match(QString::fromLatin1(raw)).hasMatch();
                else if (what == "crlf")
                    ok = raw.count('\n') == raw.count("\r\n") && raw.count('\r') == raw.count("\r\n");
                if (!ok)
                    return fail(u"stored: \"%1\""_s.arg(QString::fromLatin1(raw.left(600).toPercentEncoding(" :<>@=()*+-.,;!?/"))));
            }
        } else if (kind == "L:") {
            const QString joined = g_log.join(u'\n');
            const QString text = QString::fromLatin1(substitute(arg.mid(arg.indexOf(' ') + 1)));
            if (joined.contains(text) != arg.startsWith("has "))
                return fail(u"log: \"%1\""_s.arg(joined));
        } else {
            return fail(u"unknown step"_s);
        }
    }
    return {};
}

void TestSmtpSpec::specRow_data()
{
    QTest::addColumn<QString>("setting"); // default, registration-closed, size-64k, recipients-3, accounts-100,
                                          // idle-1s, data-1s, per-address-3, total-3, log
    QTest::addColumn<QString>("start");   // plain, tls, auth, mail, rcpt, implicit
    QTest::addColumn<QByteArrayList>("script");
    const auto row = [](const char *name, const QString &setting, const QString &start, const QByteArrayList &script) {
        QTest::newRow(name) << setting << start << script;
    };
    const QString def = u"default"_s;
    const QByteArray aliceAuth = "C: AUTH PLAIN "_ba + plainCredentials("alice"_ba, AlicePassword);
    const QByteArray message = "C< From: alice@project.com\r\nSubject: spec\r\n\r\nHello\r\n.\r\n"_ba;

    // ---- greeting, EHLO, HELO, implicit TLS --------------------------------------
    row("greeting", def, u"plain"_s, {c("NOOP"), Ok});
    row("EHLO before TLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), "E+ PIPELINING"_ba, "E+ SIZE 26214400"_ba, "E+ 8BITMIME"_ba,
         "E+ ENHANCEDSTATUSCODES"_ba, "E+ STARTTLS"_ba, "E- AUTH PLAIN LOGIN"_ba});
    row("EHLO after STARTTLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), c("STARTTLS"), s("220 2.0.0 Ready to start TLS"), "T: tls"_ba,
         c("EHLO client.example"), s("250 ..."), "E+ PIPELINING"_ba, "E+ SIZE 26214400"_ba, "E+ 8BITMIME"_ba,
         "E+ ENHANCEDSTATUSCODES"_ba, "E- STARTTLS"_ba, "E+ AUTH PLAIN LOGIN"_ba});
    row("HELO accepted", def, u"plain"_s, {c("HELO client.example"), s("250 ...")});
    row("implicit TLS: EHLO has AUTH, no STARTTLS", def, u"implicit"_s,
        {c("EHLO client.example"), s("250 ..."), "E+ AUTH PLAIN LOGIN"_ba, "E- STARTTLS"_ba, "E+ PIPELINING"_ba});
    row("implicit TLS: STARTTLS 503 5.5.1", def, u"implicit"_s,
        {c("EHLO client.example"), s("250 ..."), c("STARTTLS"), s("503 5.5.1 ..."), c("NOOP"), Ok});
    row("implicit TLS: AUTH and a delivery", def, u"implicit"_s,
        {c("EHLO client.example"), s("250 ..."), aliceAuth, Accepted, c("MAIL FROM:<alice@project.com>"),
         s("250 2.1.0 OK"), c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK"), c("DATA"), DataGo, message, Queued,
         "M: count 1"_ba});

    // ---- PING -----------------------------------------------------------------------------
    row("PING 250 before TLS", def, u"plain"_s, {c("PING"), s("250 2.0.0 PONG")});
    row("PING 250 authenticated", def, u"auth"_s, {c("ping"), s("250 2.0.0 PONG")});

    // ---- STARTTLS -------------------------------------------------------------------------
    row("STARTTLS 220", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), c("STARTTLS"), s("220 2.0.0 Ready to start TLS"), "T: tls"_ba,
         c("NOOP"), Ok});
    row("STARTTLS resets the session", def, u"plain"_s,
        {c("EHLO before.example"), s("250 ..."), c("STARTTLS"), s("220 2.0.0 Ready to start TLS"), "T: tls"_ba,
         c("MAIL FROM:<alice@project.com>"), s("530 5.7.0 Authentication required"), c("EHLO after.example"),
         s("250 ..."), aliceAuth, Accepted, c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK"),
         c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK"), c("DATA"), DataGo, message, Queued,
         "M: regex ^Return-Path: <alice@project\\.com>\\r\\nReceived: from after\\.example "_ba});
    row("STARTTLS injection: NOOP", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), "C< STARTTLS\r\nNOOP\r\n"_ba, s("220 2.0.0 Ready to start TLS"),
         "T: tls"_ba, c("PING"), s("250 2.0.0 PONG"), "X: quiet"_ba});
    row("STARTTLS injection: EHLO and AUTH", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."),
         "C< STARTTLS\r\nEHLO evil.example\r\nAUTH PLAIN "_ba + plainCredentials("alice"_ba, AlicePassword) + "\r\n"_ba,
         s("220 2.0.0 Ready to start TLS"), "T: tls"_ba, c("EHLO client.example"), s("250 ..."),
         "E+ AUTH PLAIN LOGIN"_ba, c("MAIL FROM:<alice@project.com>"), s("530 5.7.0 Authentication required"),
         c("PING"), s("250 2.0.0 PONG"), "X: quiet"_ba});
    row("STARTTLS injection: QUIT", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), "C< STARTTLS\r\nQUIT\r\n"_ba, s("220 2.0.0 Ready to start TLS"),
         "T: tls"_ba, c("NOOP"), Ok, "X: quiet"_ba});
    row("STARTTLS 503 5.5.1 in TLS", def, u"tls"_s, {c("STARTTLS"), s("503 5.5.1 ..."), c("NOOP"), Ok});

    // ---- AUTH -----------------------------------------------------------------------------
    row("AUTH PLAIN ir 235", def, u"tls"_s,
        {aliceAuth, Accepted, c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK")});
    row("AUTH PLAIN without ir 235", def, u"tls"_s,
        {c("AUTH PLAIN"), s("334..."), "C: "_ba + plainCredentials("alice"_ba, AlicePassword), Accepted});
    row("AUTH LOGIN 235", def, u"tls"_s,
        {c("AUTH LOGIN"), s("334 VXNlcm5hbWU6"), "C: "_ba + "alice"_ba.toBase64(), s("334 UGFzc3dvcmQ6"),
         "C: "_ba + AlicePassword.toBase64(), Accepted});
    row("AUTH PLAIN 235 with the full address", def, u"tls"_s,
        {"C: AUTH PLAIN "_ba + plainCredentials("alice@project.com"_ba, AlicePassword), Accepted,
         c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK")});
    row("AUTH LOGIN 235 with the full address", def, u"tls"_s,
        {c("auth login"), s("334 VXNlcm5hbWU6"), "C: "_ba + "bob@project.com"_ba.toBase64(), s("334 UGFzc3dvcmQ6"),
         "C: "_ba + BobPassword.toBase64(), Accepted, c("MAIL FROM:<bob@project.com>"), s("250 2.1.0 OK")});
    row("AUTH PLAIN 538 before TLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), aliceAuth, s("538 5.7.11 Encryption required")});
    row("AUTH LOGIN 538 before TLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), c("AUTH LOGIN"), s("538 5.7.11 Encryption required")});
    row("AUTH PLAIN 535", def, u"tls"_s,
        {wrongLogin("alice"_ba, 1), Invalid, c("MAIL FROM:<alice@project.com>"), s("530 5.7.0 Authentication required")});
    row("AUTH LOGIN 535", def, u"tls"_s,
        {c("AUTH LOGIN"), s("334 VXNlcm5hbWU6"), "C: "_ba + "alice"_ba.toBase64(), s("334 UGFzc3dvcmQ6"),
         "C: "_ba + "wrong-password"_ba.toBase64(), Invalid});
    row("AUTH 535 unknown user", def, u"tls"_s, {wrongLogin("nobody"_ba, 1), Invalid});
    row("AUTH PLAIN 501 5.7.0 cancelled", def, u"tls"_s,
        {c("AUTH PLAIN"), s("334..."), c("*"), s("501 5.7.0 ..."), c("NOOP"), Ok});
    row("AUTH LOGIN 501 5.7.0 cancelled", def, u"tls"_s,
        {c("AUTH LOGIN"), s("334 VXNlcm5hbWU6"), "C: "_ba + "alice"_ba.toBase64(), s("334 UGFzc3dvcmQ6"), c("*"),
         s("501 5.7.0 ..."), c("MAIL FROM:<alice@project.com>"), s("530 5.7.0 Authentication required")});
    row("AUTH 503 5.5.1 already authenticated", def, u"auth"_s,
        {"C: AUTH PLAIN "_ba + plainCredentials("bob"_ba, BobPassword), s("503 5.5.1 ..."), c("MAIL FROM:<bob@project.com>"),
         s("553 5.7.1 Sender address not owned by you")});
    row("AUTH 503 5.5.1 inside a transaction", def, u"mail"_s,
        {c("AUTH LOGIN"), s("503 5.5.1 ..."), c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK")});
    row("AUTH 421 4.7.0 after 3 failures", def, u"tls"_s,
        {wrongLogin("alice"_ba, 1), Invalid, c("AUTH LOGIN"), s("334 VXNlcm5hbWU6"), "C: "_ba + "alice"_ba.toBase64(),
         s("334 UGFzc3dvcmQ6"), "C: "_ba + "wrong"_ba.toBase64(), Invalid, wrongLogin("bob"_ba, 3), Invalid,
         s("421 4.7.0 ..."), "X: closed"_ba});
    // docs/protocol/smtp.md §4: two more AUTH refusals, with their full text.
    row("AUTH 504 5.5.4 unknown mechanism (PROTOCOL.md)", def, u"tls"_s,
        {c("AUTH CRAM-MD5"), s("504 5.5.4 Unrecognized authentication mechanism"), aliceAuth, Accepted});
    row("AUTH 501 5.5.2 bad base64 (PROTOCOL.md)", def, u"tls"_s,
        {c("AUTH PLAIN !!!not-base64!!!"), s("501 5.5.2 Invalid base64 data")});

    // ---- throttling -------------------------------------------------------------------------
    {
        // Nine failures over five connections (a third on one would close it).
        QByteArrayList script;
        for (int n = 0; n < 4; ++n) {
            if (n > 0)
                script << "N: tls"_ba;
            script << wrongLogin("alice"_ba, 2 * n) << Invalid << wrongLogin("bob"_ba, 2 * n + 1) << Invalid
                   << c("QUIT") << s("221 2.0.0 Bye");
        }
        script << "N: tls"_ba << wrongLogin("alice"_ba, 9) << Invalid // the 9th
               << wrongLogin("alice"_ba, 10) << Throttled               // the 10th: refused unchecked
               << aliceAuth << Throttled                                // a correct password too
               << c("MAIL FROM:<alice@project.com>") << s("530 5.7.0 Authentication required")
               << "N: tls 127.0.0.2"_ba << aliceAuth << Accepted;      // another address is not affected
        row("throttling 454 4.7.0 from the 10th failure per address", def, u"tls"_s, script);
    }
    {
        QByteArrayList script{aliceAuth, Accepted, c("QUIT"), s("221 2.0.0 Bye")};
        for (int n = 0; n < 4; ++n)
            script << "N: tls"_ba << wrongLogin("bob"_ba, 2 * n) << Invalid << wrongLogin("bob"_ba, 2 * n + 1)
                   << Invalid << c("QUIT") << s("221 2.0.0 Bye");
        script << "N: tls"_ba << wrongLogin("bob"_ba, 9) << Invalid << wrongLogin("bob"_ba, 10) << Throttled;
        row("throttling: a successful login does not reset the address counter", def, u"tls"_s, script);
    }
    {
        // 19 failures for bob from ten addresses; the 20th is answered after 1 s, a correct password still works.
        QByteArrayList script;
        for (int n = 0; n < 10; ++n) {
            script << "N: tls 127.0.0."_ba + QByteArray::number(n + 2) << wrongLogin("bob"_ba, 2 * n) << Invalid;
            if (n < 9)
                script << wrongLogin("bob"_ba, 2 * n + 1) << Invalid;
        }
        script << "N: tls 127.0.0.20"_ba << wrongLogin("bob"_ba, 20) << Invalid << "A: >=950"_ba
               << "C: AUTH PLAIN "_ba + plainCredentials("bob"_ba, BobPassword) << Accepted;
        row("throttling: from the 20th failure per username 1 s delay, no lock-out", def, u"tls"_s, script);
    }

    // ---- REG --------------------------------------------------------------------------------
    row("REG 250 created", def, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), s("250 2.0.0 Account dave@project.com created"),
         "C: AUTH PLAIN "_ba + plainCredentials("dave"_ba, "dave-password"_ba), Accepted, c("MAIL FROM:<dave@project.com>"),
         s("250 2.1.0 OK")});
    row("REG 250 with 8 and 128 character passwords", def, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, "12345678"_ba), s("250 2.0.0 Account dave@project.com created"),
         "C: REG "_ba + regArgument("erin"_ba, QByteArray(128, 'p')), s("250 2.0.0 Account erin@project.com created")});
    row("REG 538 5.7.11 before TLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), "C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba),
         s("538 5.7.11 ...")});
    row("REG 553 5.1.3 invalid username", def, u"tls"_s,
        {"C: REG "_ba + regArgument("da..ve"_ba, "dave-password"_ba), s("553 5.1.3 Invalid username"),
         "C: REG "_ba + regArgument("da ve"_ba, "dave-password"_ba), s("553 5.1.3 Invalid username")});
    row("REG 550 5.7.1 password too weak", def, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, "1234567"_ba), s("550 5.7.1 Password too weak")});
    row("REG 550 5.7.1 password too long", def, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, QByteArray(129, 'p')), s("550 5.7.1 ...")});
    // Found: "pass\r\nword" was accepted, an account POP3 USER/PASS can never log into.
    row("REG 550 5.7.1 password with control characters", def, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, "pass\r\nword"_ba), s("550 5.7.1 Password must not contain control characters"),
         "C: REG "_ba + regArgument("dave"_ba, "pass\x7fword"_ba), s("550 5.7.1 Password must not contain control characters"),
         "C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), s("250 2.0.0 Account dave@project.com created")});
    row("REG 550 5.1.0 username taken", def, u"tls"_s,
        {"C: REG "_ba + regArgument("alice"_ba, "another-password"_ba), s("550 5.1.0 Username already taken"),
         "C: REG "_ba + regArgument("Bob"_ba, "another-password"_ba), s("550 5.1.0 Username already taken")});
    row("REG 501 5.5.4 bad base64", def, u"tls"_s, {c("REG !!!not-base64!!!"), s("501 5.5.4 ...")});
    row("REG 550 5.7.1 registration closed", u"registration-closed"_s, u"tls"_s,
        {"C: REG "_ba + regArgument("dave"_ba, "dave-password"_ba), s("550 5.7.1 Registration is closed")});
    {
        QByteArrayList script;
        for (int n = 1; n <= 5; ++n)
            script << "C: REG "_ba + regArgument("user"_ba + QByteArray::number(n), "user-password"_ba)
                   << "S: 250 2.0.0 Account user"_ba + QByteArray::number(n) + "@project.com created"_ba;
        script << "C: REG "_ba + regArgument("user6"_ba, "user-password"_ba) << s("450 4.7.1 ...")
               << "N: tls"_ba << "C: REG "_ba + regArgument("user7"_ba, "user-password"_ba) << s("450 4.7.1 ...")
               << "N: tls 127.0.0.2"_ba << "C: REG "_ba + regArgument("user8"_ba, "user-password"_ba)
               << s("250 2.0.0 Account user8@project.com created");
        row("REG 450 4.7.1 the 6th in an hour from one address", def, u"tls"_s, script);
    }

    // ---- GETUSER ----------------------------------------------------------------------------
    row("GETUSER 250 by name and address", def, u"auth"_s,
        {c("GETUSER bob"), s("250 2.1.5 {bob} bob@project.com"), c("GETUSER bob@project.com"),
         s("250 2.1.5 {bob} bob@project.com"), c("getuser alice"), s("250 2.1.5 {alice} alice@project.com")});
    row("GETUSER 530 5.7.0 before AUTH", def, u"tls"_s, {c("GETUSER bob"), s("530 5.7.0 Authentication required")});
    row("GETUSER 550 5.1.1 no such user", def, u"auth"_s,
        {c("GETUSER nobody"), s("550 5.1.1 No such user"), c("GETUSER nobody@project.com"), s("550 5.1.1 No such user")});

    // ---- MAIL -------------------------------------------------------------------------------
    row("MAIL 250", def, u"auth"_s, {c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK")});
    row("MAIL 250 lower case, as smtplib sends it", def, u"auth"_s,
        {c("mail from:<alice@project.com>"), s("250 2.1.0 OK"), c("rcpt to:<bob@project.com>"), s("250 2.1.5 OK"),
         c("data"), DataGo});
    row("MAIL 250 SIZE BODY=8BITMIME AUTH=", def, u"auth"_s,
        {c("MAIL FROM:<alice@project.com> SIZE=1000 BODY=8BITMIME AUTH=<>"), s("250 2.1.0 OK")});
    row("MAIL 250 BODY=7BIT, keywords in lower case", def, u"auth"_s,
        {c("MAIL FROM:<alice@project.com> body=7bit size=26214400"), s("250 2.1.0 OK")});
    row("MAIL 530 5.7.0 before TLS", def, u"plain"_s,
        {c("EHLO client.example"), s("250 ..."), c("MAIL FROM:<alice@project.com>"),
         s("530 5.7.0 Must issue a STARTTLS command first")});
    row("MAIL 530 5.7.0 before AUTH", def, u"tls"_s,
        {c("MAIL FROM:<alice@project.com>"), s("530 5.7.0 Authentication required")});
    row("MAIL 553 5.7.1 not owned", def, u"auth"_s,
        {c("MAIL FROM:<bob@project.com>"), s("553 5.7.1 Sender address not owned by you"),
         c("MAIL FROM:<alice@example.org>"), s("553 5.7.1 Sender address not owned by you")});
    row("MAIL 552 5.3.4 SIZE over the limit", u"size-64k"_s, u"auth"_s,
        {c("MAIL FROM:<alice@project.com> SIZE=65537"), s("552 5.3.4 ..."),
         c("MAIL FROM:<alice@project.com> SIZE=65536"), s("250 2.1.0 OK")});
    row("MAIL 503 5.5.1 transaction open", def, u"mail"_s, {c("MAIL FROM:<alice@project.com>"), s("503 5.5.1 ...")});
    row("MAIL 555 5.5.4 unknown parameter", def, u"auth"_s,
        {c("MAIL FROM:<alice@project.com> FOO=bar"), s("555 5.5.4 ..."), c("MAIL FROM:<alice@project.com>"),
         s("250 2.1.0 OK")});

    // ---- RCPT -------------------------------------------------------------------------------
    row("RCPT 250", def, u"mail"_s,
        {c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK"), c("RCPT TO:<Alice@PROJECT.com>"), s("250 2.1.5 OK")});
    row("RCPT 550 5.7.1 relaying denied", def, u"mail"_s,
        {c("RCPT TO:<bob@example.org>"), s("550 5.7.1 no such recipient exists (relaying denied)"),
         c("RCPT TO:<bob@mail.project.com>"), s("550 5.7.1 no such recipient exists (relaying denied)")});
    row("RCPT 550 5.1.1 unknown local user", def, u"mail"_s,
        {c("RCPT TO:<nobody@project.com>"), s("550 5.1.1 No such user here")});
    {
        QByteArrayList script;
        for (int n = 1; n <= 100; ++n)
            script << "C: RCPT TO:<user"_ba + QByteArray::number(n) + "@project.com>"_ba << s("250 2.1.5 OK");
        script << c("RCPT TO:<bob@project.com>") << s("452 4.5.3 Too many recipients") << c("DATA") << DataGo
               << message << Queued << "M: count 1"_ba;
        row("RCPT 452 4.5.3 past 100", u"accounts-100"_s, u"mail"_s, script);
    }
    row("RCPT 452 4.5.3 past a limit of 3", u"recipients-3"_s, u"mail"_s,
        {c("RCPT TO:<user1@project.com>"), s("250 2.1.5 OK"), c("RCPT TO:<user2@project.com>"), s("250 2.1.5 OK"),
         c("RCPT TO:<user3@project.com>"), s("250 2.1.5 OK"), c("RCPT TO:<user4@project.com>"),
         s("452 4.5.3 Too many recipients"), c("DATA"), DataGo, message, Queued});
    row("RCPT 503 5.5.1 before MAIL", def, u"auth"_s, {c("RCPT TO:<bob@project.com>"), s("503 5.5.1 ...")});
    row("RCPT 555 5.5.4 unknown parameter", def, u"mail"_s,
        {c("RCPT TO:<bob@project.com> NOTIFY=NEVER"), s("555 5.5.4 ...")});

    // ---- DATA -------------------------------------------------------------------------------
    row("DATA 354 and 250 queued", def, u"rcpt"_s,
        {c("DATA"), DataGo, message, Queued, c("RCPT TO:<bob@project.com>"), s("503 5.5.1 ..."), "M: count 1"_ba,
         "M: has \r\n\r\nHello\r\n"_ba});
    row("DATA 503 5.5.1 no recipient", def, u"mail"_s,
        {c("RCPT TO:<nobody@project.com>"), s("550 5.1.1 No such user here"), c("DATA"), s("503 5.5.1 ...")});
    {
        const QByteArray line = QByteArray(76, 'z') + "\r\n"_ba;
        QByteArray big = "From: alice@project.com\r\nSubject: too big\r\n\r\n"_ba;
        while (big.size() < 100 * 1024)
            big += line;
        row("DATA 552 5.3.4 message too big", u"size-64k"_s, u"rcpt"_s,
            {c("DATA"), DataGo, "C< "_ba + big + "QUIT\r\n.\r\n"_ba, s("552 5.3.4 Message too big"), c("NOOP"), Ok,
             "M: count 0"_ba});
    }
    row("DATA 550 5.6.0 bare CR", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\nfoo\rbar\r\nQUIT\r\n.\r\n"_ba, s("550 5.6.0 ..."),
         c("NOOP"), Ok, "M: count 0"_ba});
    row("DATA 550 5.6.0 NUL", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\nfoo"_ba + QByteArray(1, '\0') + "bar\r\n.\r\n"_ba,
         s("550 5.6.0 ..."), c("NOOP"), Ok, "M: count 0"_ba});
    row("DATA 550 5.6.0 line over 1000 octets", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\n"_ba + QByteArray(999, 'y') + "\r\n.\r\n"_ba,
         s("550 5.6.0 ..."), c("NOOP"), Ok, "M: count 0"_ba});
    row("DATA 250 line of 1000 octets", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\n"_ba + QByteArray(998, 'y') + "\r\n.\r\n"_ba, Queued,
         "M: count 1"_ba});
    row("DATA 550 5.7.1 From: not the account's", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: bob@project.com\r\nSubject: s\r\n\r\nbody\r\nQUIT\r\n.\r\n"_ba,
         s("550 5.7.1 ..."), c("NOOP"), Ok, "M: count 0"_ba});
    row("DATA 451 4.3.0 storage failed", def, u"rcpt"_s,
        {"K: delete bob"_ba, c("DATA"), DataGo, message, s("451 4.3.0 ..."), c("NOOP"), Ok, "M: count 0"_ba});

    // ---- RSET, NOOP, VRFY, HELP, QUIT -----------------------------------------------------
    row("RSET 250", def, u"rcpt"_s, {c("RSET"), Ok, c("DATA"), s("503 5.5.1 ..."), c("MAIL FROM:<alice@project.com>"),
                                     s("250 2.1.0 OK")});
    row("RSET 250 before EHLO", def, u"plain"_s, {c("rset"), Ok});
    row("NOOP 250", def, u"plain"_s, {c("NOOP"), Ok, c("noop"), Ok});
    row("NOOP 250 keeps the transaction", def, u"rcpt"_s, {c("NOOP"), Ok, c("DATA"), DataGo});
    row("VRFY 252", def, u"plain"_s, {c("VRFY bob"), s("252 2.5.0 Cannot VRFY user")});
    row("VRFY 252 authenticated", def, u"auth"_s, {c("VRFY bob@project.com"), s("252 2.5.0 Cannot VRFY user")});
    row("HELP 214", def, u"plain"_s, {c("HELP"), s("214 2.0.0 ...")});
    row("QUIT 221 and close", def, u"plain"_s, {c("QUIT"), s("221 2.0.0 Bye"), "X: closed"_ba});
    row("QUIT 221 inside a transaction, nothing stored", def, u"rcpt"_s,
        {c("quit"), s("221 2.0.0 Bye"), "X: closed"_ba, "M: count 0"_ba});

    // ---- anything else ----------------------------------------------------------------------
    row("unknown 500 5.5.2", def, u"plain"_s, {c("FOO"), s("500 5.5.2 Command unrecognized"), c("NOOP"), Ok});
    row("syntax 501 5.5.4", def, u"auth"_s,
        {c("MAIL TO:<alice@project.com>"), s("501 5.5.4 ..."), c("MAIL FROM:<alice@project.com"), s("501 5.5.4 ..."),
         c("EHLO"), s("501 5.5.4 ...")});
    row("line too long 500 5.5.2", def, u"plain"_s,
        {"C: NOOP "_ba + QByteArray(505, 'x'), Ok, "C: NOOP "_ba + QByteArray(506, 'x'), s("500 5.5.2 Line too long"),
         "C: NOOP "_ba + QByteArray(100000, 'x'), s("500 5.5.2 Line too long"), c("NOOP"), Ok, "X: quiet"_ba});
    {
        QByteArrayList script;
        for (int n = 0; n < 10; ++n)
            script << c("FOO") << s("500 5.5.2 Command unrecognized");
        script << s("421 4.7.0 Too many errors") << "X: closed"_ba;
        row("10 errors 421 4.7.0", def, u"plain"_s, script);
    }

    // ---- the end of data, smuggling ---------------------------------------------------------
    row("end of data, dot-stuffing undone", def, u"rcpt"_s,
        {c("DATA"), DataGo,
         "C< From: alice@project.com\r\nSubject: dots\r\n\r\n..one\r\n...two\r\n..\r\nlast\r\n.\r\n"_ba, Queued,
         "M: has \r\n\r\n.one\r\n..two\r\n.\r\nlast\r\n"_ba});
    row("bare LF stored as CRLF", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\nSubject: unix\n\nline one\nline two\r\n.\r\n"_ba, Queued,
         "M: crlf"_ba, "M: has Subject: unix\r\n\r\nline one\r\nline two\r\n"_ba});
    {
        const QByteArray carrier = "From: alice@project.com\r\nSubject: carrier\r\n\r\nbefore"_ba;
        const QByteArray smuggled = "MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n"
                                    "From: alice@project.com\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"_ba;
        const auto smuggle = [&](const char *name, const QByteArray &fakeEnd, bool accepted) {
            QByteArrayList script{c("DATA"), DataGo, "C< "_ba + carrier + fakeEnd + smuggled + "\r\n.\r\n"_ba,
                                  accepted ? Queued : s("550 5.6.0 ..."), c("NOOP"), Ok, "X: quiet"_ba,
                                  accepted ? "M: count 1"_ba : "M: count 0"_ba};
            if (accepted)
                script << "M: crlf"_ba << "M: has Subject: carrier\r\n"_ba
                       << "M: has MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n"_ba;
            row(name, def, u"rcpt"_s, script);
        };
        smuggle("smuggling LF.LF is content", "\n.\n"_ba, true);
        smuggle("smuggling LF.CRLF is content", "\n.\r\n"_ba, true);
        smuggle("smuggling CRLF.LF is content", "\r\n.\n"_ba, true);
        smuggle("smuggling CR.CR refused 550 5.6.0", "\r.\r"_ba, false);
        smuggle("smuggling CR.LF refused 550 5.6.0", "\r.\n"_ba, false);
        smuggle("smuggling CR.CRLF refused 550 5.6.0", "\r.\r\n"_ba, false);
        smuggle("smuggling CRLF.CR refused 550 5.6.0", "\r\n.\r"_ba, false);
    }

    // ---- what the server adds -----------------------------------------------------------------
    row("Return-Path, Received, Message-ID, Date and From added", def, u"rcpt"_s,
        {c("DATA"), DataGo, "C< Subject: nothing else\r\n\r\nbody\r\n.\r\n"_ba, Queued,
         "M: regex ^Return-Path: <alice@project\\.com>\\r\\nReceived: from client\\.example \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n by localhost \\(Mailroom\\) "
         "with ESMTPSA id {queue};\\r\\n (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{1,2} "
         "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\\r\\n"_ba,
         "M: once \r\nFrom: alice@project.com\r\n"_ba, "M: regex \\r\\nMessage-ID: <[^<>@\\s]+@[^<>@\\s]+>\\r\\n"_ba,
         "M: once \r\nMessage-ID: "_ba, "M: regex \\r\\nDate: \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\\r\\n"_ba,
         "M: once \r\nDate: "_ba});
    row("Message-ID, Date and From kept", def, u"rcpt"_s,
        {c("DATA"), DataGo,
         "C< From: Alice <alice@project.com>\r\nDate: Sun, 22 Nov 2026 13:05:00 +0000\r\n"
         "Message-ID: <own@client.example>\r\nSubject: s\r\n\r\nbody\r\n.\r\n"_ba,
         Queued, "M: once Message-ID: "_ba, "M: has \r\nMessage-ID: <own@client.example>\r\n"_ba,
         "M: once \r\nDate: "_ba, "M: has \r\nDate: Sun, 22 Nov 2026 13:05:00 +0000\r\n"_ba, "M: once \r\nFrom: "_ba,
         "M: regex ^Return-Path: <alice@project\\.com>\\r\\nReceived: from "_ba, "M: once Return-Path: "_ba});
    // RFC 5321 §4.4: the client's own Return-Path fields (any case, folded
    // or not) are dropped, so the stored message names one envelope sender.
    row("Return-Path of the client dropped", def, u"rcpt"_s,
        {c("DATA"), DataGo,
         "C< Return-Path: <ceo@bank.example>\r\nSubject: s\r\nreturn-path :\r\n <other@bank.example>\r\n"
         "X-Kept: yes\r\n\r\nReturn-Path: <in-the-body@example.org>\r\n.\r\n"_ba,
         Queued, "M: regex ^Return-Path: <alice@project\\.com>\\r\\nReceived: from "_ba,
         "M: lacks bank.example"_ba,
         "M: has \r\nSubject: s\r\nX-Kept: yes\r\n\r\nReturn-Path: <in-the-body@example.org>\r\n"_ba});

    // ---- limits -------------------------------------------------------------------------------
    row("idle timeout 421 4.4.2 after the greeting", u"idle-1s"_s, u"plain"_s,
        {s("421 4.4.2 Timeout"), "X: closed"_ba});
    row("idle timeout 421 4.4.2 inside DATA, nothing stored", u"idle-1s"_s, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\nand then nothing"_ba, s("421 4.4.2 Timeout"),
         "X: closed"_ba, "M: count 0"_ba});
    // docs/protocol/smtp.md §7: DATA as a whole has a deadline (here 1 s; the
    // idle timeout is the default 300 s, so only the deadline can end it).
    row("DATA deadline 421 4.4.2, nothing stored", u"data-1s"_s, u"rcpt"_s,
        {c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\npart of a message\r\n"_ba,
         s("421 4.4.2 Message data took too long, closing connection"), "X: closed"_ba, "M: count 0"_ba});
    {
        // docs/protocol/smtp.md §7: the header section counts at most 256 KiB.
        QByteArray header = "From: alice@project.com\r\nTo: bob@project.com"_ba;
        for (int n = 0; n < 15000; ++n)
            header += ",\r\n user"_ba + QByteArray::number(n) + "@example.org"_ba;
        header += "\r\nSubject: big header\r\n\r\n"_ba;
        row("DATA 552 5.3.4 header section too large", def, u"rcpt"_s,
            {c("DATA"), DataGo, "C< "_ba + header + "body\r\nQUIT\r\n.\r\n"_ba,
             s("552 5.3.4 Header section too large"), c("NOOP"), Ok, c("MAIL FROM:<alice@project.com>"),
             s("250 2.1.0 OK"), "M: count 0"_ba});
    }
    row("connections per address 421 4.7.0", u"per-address-3"_s, u"plain"_s,
        {"N: plain"_ba, s(Greeting), "N: plain"_ba, s(Greeting), "N: plain"_ba, s("421 4.7.0 Too many connections"),
         "X: closed"_ba, "N: plain 127.0.0.2"_ba, s(Greeting)});
    row("connections per address on the implicit-TLS port: closed (PROTOCOL.md)", u"per-address-3"_s,
        u"implicit"_s, {"N: implicit"_ba, "N: implicit"_ba, "N: implicit-refused"_ba, "N: implicit 127.0.0.2"_ba});
    row("connections in all 421 4.7.0", u"total-3"_s, u"plain"_s,
        {"N: plain 127.0.0.2"_ba, s(Greeting), "N: plain 127.0.0.3"_ba, s(Greeting), "N: plain 127.0.0.4"_ba,
         s("421 4.7.0 Too many connections"), "X: closed"_ba});

    // ---- logging ------------------------------------------------------------------------------
    row("log: connection and transaction events, no password or body", u"log"_s, u"auth"_s,
        {c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK"), c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK"),
         c("DATA"), DataGo, "C< From: alice@project.com\r\n\r\nsecret body text\r\n.\r\n"_ba, Queued,
         c("MAIL FROM:<alice@project.com>"), s("250 2.1.0 OK"), c("RCPT TO:<bob@project.com>"), s("250 2.1.5 OK"),
         c("DATA"), DataGo, "C< From: bob@project.com\r\n\r\nsecret body text\r\n.\r\n"_ba, s("550 5.7.1 ..."),
         "L: has 127.0.0.1 connected"_ba, "L: has {queue} delivered"_ba, "L: has refused: 550"_ba,
         "L: lacks "_ba + AlicePassword, "L: lacks secret body text"_ba});
}

void TestSmtpSpec::specRow()
{
    QFETCH(QString, setting);
    QFETCH(QString, start);
    QFETCH(QByteArrayList, script);

    const auto addUsers = [this](int count) {
        const QString hash = Passwords::hash(u"user-password"_s, 1000);
        for (int n = 1; n <= count; ++n)
            QVERIFY2(m_store->createAccount(u"user%1"_s.arg(n), hash), qPrintable(m_store->lastErrorText()));
    };
    if (setting == u"registration-closed") {
        m_config.registration = Registration::Closed;
    } else if (setting == u"size-64k") {
        m_config.limits.maxMessageBytes = 64 * 1024;
    } else if (setting == u"recipients-3") {
        m_config.limits.maxRecipients = 3;
        addUsers(4);
    } else if (setting == u"accounts-100") {
        addUsers(100);
    } else if (setting == u"idle-1s") {
        m_config.limits.idleTimeoutSeconds = 1;
    } else if (setting == u"data-1s") {
        m_config.limits.dataTimeoutSeconds = 1;
    } else if (setting == u"per-address-3") {
        m_config.limits.maxConnectionsPerAddress = 3;
    } else if (setting == u"total-3") {
        m_config.limits.maxConnections = 3;
    } else if (setting == u"log") {
        g_capturing = true;
        g_previousHandler = qInstallMessageHandler(captureHandler);
        g_previousFilter = QLoggingCategory::installFilter(captureFilter);
    } else {
        QCOMPARE(setting, u"default"_s);
    }
    QVERIFY(startDaemon());
    const QString error = run(start, script);
    if (setting == u"log") {
        g_capturing = false;
        QLoggingCategory::installFilter(g_previousFilter);
        qInstallMessageHandler(g_previousHandler);
    }
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

// Password hashing (production cost) runs off the event loop: another
// client's NOOP is answered while a login is being checked.
void TestSmtpSpec::hashingDoesNotStallOthers()
{
    const QByteArray carolPassword = "carol-secret-123"_ba;
    m_config.pbkdf2Iterations = Passwords::DefaultIterations;
    QVERIFY(m_store->createAccount(u"carol"_s,
                                   Passwords::hash(QString::fromUtf8(carolPassword), Passwords::DefaultIterations)));
    QVERIFY(startDaemon());

    SmtpClient a(m_ca);
    SmtpClient b(m_ca);
    QString error;
    QVERIFY2(reach(a, u"tls"_s, &error), qPrintable(error));
    QVERIFY2(reach(b, u"tls"_s, &error), qPrintable(error));

    a.send("AUTH PLAIN "_ba + plainCredentials("carol"_ba, carolPassword) + "\r\n"_ba);
    b.send("NOOP\r\n"_ba);
    QCOMPARE(b.readReply().status(), "250 2.0.0 OK"_ba);
    QCOMPARE(a.pending(), QByteArray()); // A's 235 has not come yet
    QCOMPARE(a.readReply().status(), "235 2.7.0 Authentication successful"_ba);
}

QTEST_GUILESS_MAIN(TestSmtpSpec)
#include "tst_smtpspec.moc"
