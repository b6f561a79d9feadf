// mailroom-smtpd over real sockets: an in-process SmtpDaemon on loopback
// ports chosen by the system, driven by scripted QSslSocket clients in the
// same thread (so every wait processes events: QTest::qWaitFor and
// QSignalSpy::wait, never waitFor*() or sleeps). Results are read back
// through a Store connection of the test's own.

#include "smtptestclient.h"
#include "config.h"
#include "passwords.h"
#include "smtpdaemon.h"
#include "store.h"
#include "testdatabase.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace {

constexpr int StartTimeoutMs = 30000;
// Below SmtpDaemon's 30 s fallback, so stopped() within it means the
// daemon really saw every connection close.
constexpr int StopTimeoutMs = 20000;

const QByteArray AlicePassword = QByteArrayLiteral("alice-secret-1");
const QByteArray BobPassword = QByteArrayLiteral("bob-secret-12");
const QByteArray CarolPassword = QByteArrayLiteral("carol-secret-123");

// The message body: what follows the first empty line.
QByteArray bodyOf(const QByteArray &raw)
{
    const qsizetype end = raw.indexOf("\r\n\r\n");
    return end < 0 ? QByteArray() : raw.mid(end + 4);
}


// Plain TCP clients that connect and only read the greeting.
class GreetingReaders
{
public:
    // In this order; from `from` when given (127.0.0.x: an address of its own).
    void open(int count, quint16 port, const QHostAddress &from = {})
    {
        for (int i = 0; i < count; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            QTcpSocket *raw = socket.get();
            if (!from.isNull() && !raw->bind(from))
                qWarning() << "cannot bind to" << from << raw->errorString();
            const qsizetype index = m_received.size();
            m_received.append(QByteArray());
            QObject::connect(raw, &QTcpSocket::readyRead, raw, [this, raw, index] { m_received[index] += raw->readAll(); });
            raw->connectToHost(QHostAddress(QHostAddress::LocalHost), port);
            m_sockets.push_back(std::move(socket));
        }
    }
    [[nodiscard]] int size() const { return int(m_sockets.size()); }
    [[nodiscard]] QByteArray received(int index) const { return m_received.value(index); }
    [[nodiscard]] int greeted() const
    {
        return int(std::count_if(m_received.cbegin(), m_received.cend(),
                                 [](const QByteArray &received) { return received.endsWith("\r\n"); }));
    }
    [[nodiscard]] int countReceived(const QByteArray &expected) const { return int(m_received.count(expected)); }
    [[nodiscard]] int connectedCount() const
    {
        return int(std::count_if(m_sockets.cbegin(), m_sockets.cend(), [](const auto &socket) {
            return socket->state() == QAbstractSocket::ConnectedState;
        }));
    }
    bool waitGreeted(int timeoutMs)
    {
        return QTest::qWaitFor([this] { return greeted() == size(); }, timeoutMs);
    }

private:
    std::vector<std::unique_ptr<QTcpSocket>> m_sockets;
    QList<QByteArray> m_received;
};

} // namespace

class TestSmtpServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void fullTransactionWithStartTls();
    void dotOnFirstDataLine();
    void implicitTls();
    void startTlsInjection_data();
    void startTlsInjection();
    void smuggling_data();
    void smuggling();
    void commandLineLimit();
    void randomBytesFlood();
    void messageTooBig();
    void disconnectDuringData();
    void idleTimeout();
    void dataDeadline();
    void headerSectionTooLarge();
    void dribbledCommandTimesOut();
    void garbageBeneathTlsCloses();
    void authFailuresClose();
    void loginThrottling();
    void connectionsPerAddress();
    void manyIdleConnections();
    void connectionBurst();
    void deliveryFailure();
    void shutDownWithIdleClient();
    void admissionInArrivalOrder();
    void concurrentDeliveriesOnThreads_data();
    void concurrentDeliveriesOnThreads();

private:
    bool startDaemon();
    bool stopDaemon();
    // Greeting, EHLO, STARTTLS, EHLO, AUTH PLAIN: ready for MAIL.
    bool openSession(SmtpClient &client, const QByteArray &user = QByteArrayLiteral("alice"),
                     const QByteArray &password = AlicePassword);
    // MAIL, RCPT for each, DATA, the data as given (with its end): the last reply.
    SmtpReply transaction(SmtpClient &client, const QByteArray &from, const QList<QByteArray> &recipients,
                          const QByteArray &data);
    QList<MailboxEntry> folder(qint64 owner, FolderRole which);
    qint64 storedMessages();
    // The raw bytes of every stored message, found through every mailbox entry.
    QList<QByteArray> allStoredMessages();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<TestDatabase> m_database;
    Config m_config;
    std::unique_ptr<Store> m_store; // the test's own connection
    std::unique_ptr<SmtpDaemon> m_daemon;
    QSslCertificate m_ca;
    qint64 m_alice = 0;
    qint64 m_bob = 0;
    qint64 m_carol = 0;
};

void TestSmtpServer::initTestCase()
{
    // manyIdleConnections and connectionBurst hold about 1,000 descriptors (both ends) at once.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void TestSmtpServer::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY2(m_dir->isValid(), qPrintable(m_dir->errorString()));
    m_config = Config{};
    m_config.dataDir = m_dir->path();
    m_database = std::make_unique<TestDatabase>(m_dir->path(), TestDatabase::Start::Migrated);
    QVERIFY(m_database->isValid());
    m_config.database = m_database->url();
    m_config.certificateFile = m_dir->filePath(QStringLiteral("tls/cert.pem"));
    m_config.keyFile = m_dir->filePath(QStringLiteral("tls/key.pem"));
    m_config.hostname = QStringLiteral("localhost");
    m_config.listen = ListenAddress{QHostAddress(QHostAddress::LocalHost), 0};
    m_config.listenTls = ListenAddress{QHostAddress(QHostAddress::LocalHost), 0};
    m_config.pbkdf2Iterations = Passwords::MinIterations;

    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(m_config.database, Store::OpenMode::CreateIfMissing),
             qPrintable(m_store->lastErrorText()));
    const auto create = [this](const QString &name, const QByteArray &password) -> qint64 {
        const auto account = m_store->createAccount(name, Passwords::hash(QString::fromUtf8(password), 1000));
        return account ? account->id : 0;
    };
    m_alice = create(QStringLiteral("alice"), AlicePassword);
    m_bob = create(QStringLiteral("bob"), BobPassword);
    m_carol = create(QStringLiteral("carol"), CarolPassword);
    QVERIFY2(m_alice && m_bob && m_carol, qPrintable(m_store->lastErrorText()));
}

void TestSmtpServer::cleanup()
{
    m_daemon.reset(); // before the store and the directory it uses
    m_store.reset();
    m_database.reset();
    m_dir.reset();
    m_ca = QSslCertificate();
}

bool TestSmtpServer::startDaemon()
{
    m_daemon = std::make_unique<SmtpDaemon>(m_config);
    QSignalSpy ready(m_daemon.get(), &SmtpDaemon::ready);
    QSignalSpy failed(m_daemon.get(), &SmtpDaemon::failed);
    m_daemon->start();
    if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, StartTimeoutMs) || ready.isEmpty()) {
        qWarning() << "the daemon did not start:" << (failed.isEmpty() ? QVariant() : failed.first().first());
        return false;
    }
    if (m_daemon->port() == 0 || m_daemon->tlsPort() == 0 || m_daemon->port() == m_daemon->tlsPort()) {
        qWarning() << "bad ports" << m_daemon->port() << m_daemon->tlsPort();
        return false;
    }
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(m_config.certificateFile);
    if (certificates.size() != 1) {
        qWarning() << "no generated certificate at" << m_config.certificateFile;
        return false;
    }
    m_ca = certificates.first();
    return true;
}

bool TestSmtpServer::stopDaemon()
{
    QSignalSpy stopped(m_daemon.get(), &SmtpDaemon::stopped);
    m_daemon->shutDown();
    return !stopped.isEmpty() || stopped.wait(StopTimeoutMs);
}

bool TestSmtpServer::openSession(SmtpClient &client, const QByteArray &user, const QByteArray &password)
{
    const auto expect = [](const SmtpReply &reply, QByteArrayView start, const char *what) {
        if (!reply.status().startsWith(start)) {
            qWarning() << what << "got" << reply.all();
            return false;
        }
        return true;
    };
    return client.connectPlain(m_daemon->port()) && expect(client.readReply(), "220 ", "greeting")
        && expect(client.command(QByteArrayLiteral("EHLO client.example")), "250 ", "EHLO")
        && expect(client.command(QByteArrayLiteral("STARTTLS")), "220 2.0.0", "STARTTLS") && client.startTls()
        && expect(client.command(QByteArrayLiteral("EHLO client.example")), "250 ", "EHLO after TLS")
        && expect(client.command("AUTH PLAIN " + plainCredentials(user, password)), "235 2.7.0", "AUTH");
}

SmtpReply TestSmtpServer::transaction(SmtpClient &client, const QByteArray &from, const QList<QByteArray> &recipients,
                                      const QByteArray &data)
{
    SmtpReply reply = client.command("MAIL FROM:<" + from + '>');
    if (reply.code != 250)
        return reply;
    for (const QByteArray &recipient : recipients) {
        reply = client.command("RCPT TO:<" + recipient + '>');
        if (reply.code != 250)
            return reply;
    }
    reply = client.command(QByteArrayLiteral("DATA"));
    if (reply.code != 354)
        return reply;
    client.send(data);
    return client.readReply();
}

QList<MailboxEntry> TestSmtpServer::folder(qint64 owner, FolderRole which)
{
    const auto page = m_store->listFolder(owner, which, 500);
    if (!page)
        qWarning() << "listFolder failed:" << m_store->lastErrorText();
    return page ? page->entries : QList<MailboxEntry>();
}

qint64 TestSmtpServer::storedMessages()
{
    const auto stats = m_store->stats();
    return stats ? stats->messages : -1;
}

QList<QByteArray> TestSmtpServer::allStoredMessages()
{
    QHash<qint64, QByteArray> byId;
    const auto accounts = m_store->listAccounts();
    for (const Account &account : accounts.value_or(QList<Account>())) {
        for (FolderRole which : {FolderRole::Inbox, FolderRole::Sent}) {
            for (const MailboxEntry &entry : folder(account.id, which)) {
                if (!byId.contains(entry.messageId))
                    byId.insert(entry.messageId, m_store->rawMessage(account.id, entry.id).value_or(QByteArray()));
            }
        }
    }
    return byId.values();
}

// docs/protocol/smtp.md §3 to §8: the whole dialogue of a submission.
void TestSmtpServer::fullTransactionWithStartTls()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(client.connectPlain(m_daemon->port()));
    QCOMPARE(client.readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));

    SmtpReply ehlo = client.command(QByteArrayLiteral("EHLO client.example"));
    QCOMPARE(ehlo.code, 250);
    QCOMPARE(ehlo.lines.first(), QByteArrayLiteral("250-localhost"));
    for (const QByteArray &keyword : {QByteArrayLiteral("PIPELINING"), QByteArrayLiteral("SIZE 26214400"),
                                      QByteArrayLiteral("8BITMIME"), QByteArrayLiteral("ENHANCEDSTATUSCODES"),
                                      QByteArrayLiteral("STARTTLS")})
        QVERIFY2(ehlo.hasLine(keyword), qPrintable(QString::fromLatin1(keyword + " missing from " + ehlo.all())));
    QVERIFY2(!ehlo.hasLine(QByteArrayLiteral("AUTH PLAIN LOGIN")), ehlo.all().constData());

    // Nothing that needs TLS works before it.
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", AlicePassword)).status().left(10),
             QByteArrayLiteral("538 5.7.11"));
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).status().left(9),
             QByteArrayLiteral("530 5.7.0"));

    QCOMPARE(client.command(QByteArrayLiteral("STARTTLS")).status(), QByteArrayLiteral("220 2.0.0 Ready to start TLS"));
    QVERIFY(client.startTls());
    QVERIFY2(client.sslErrors().isEmpty(), "the generated certificate must verify as localhost");

    ehlo = client.command(QByteArrayLiteral("EHLO client.example"));
    QCOMPARE(ehlo.code, 250);
    QVERIFY2(ehlo.hasLine(QByteArrayLiteral("AUTH PLAIN LOGIN")), ehlo.all().constData());
    QVERIFY2(ehlo.hasLine(QByteArrayLiteral("PIPELINING")), ehlo.all().constData());
    QVERIFY2(!ehlo.hasLine(QByteArrayLiteral("STARTTLS")), ehlo.all().constData());

    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", AlicePassword)).status(),
             QByteArrayLiteral("235 2.7.0 Authentication successful"));
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).status(), QByteArrayLiteral("250 2.1.0 OK"));
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).status(), QByteArrayLiteral("250 2.1.5 OK"));
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<Carol@Project.com>")).status(), QByteArrayLiteral("250 2.1.5 OK"));
    QCOMPARE(client.command(QByteArrayLiteral("DATA")).code, 354);
    // Dot-stuffed as a client must (RFC 5321 §4.5.2), the body's first line included.
    client.send(QByteArrayLiteral("From: Alice <alice@project.com>\r\n"
                                  "To: bob@project.com, Carol <carol@project.com>\r\n"
                                  "Subject: Integration test\r\n"
                                  "\r\n"
                                  "..first body line starts with a dot\r\n"
                                  "middle\r\n"
                                  "...\r\n"
                                  "..\r\n"
                                  "last\r\n"
                                  ".\r\n"));
    const SmtpReply accepted = client.readReply();
    QVERIFY2(accepted.status().startsWith("250 2.0.0 OK: queued as "), accepted.all().constData());
    const QByteArray queueId = accepted.status().mid(qsizetype(strlen("250 2.0.0 OK: queued as ")));
    QVERIFY(!queueId.isEmpty());
    QCOMPARE(client.command(QByteArrayLiteral("QUIT")).status(), QByteArrayLiteral("221 2.0.0 Bye"));
    QVERIFY(client.waitClosed());

    QCOMPARE(storedMessages(), 1);
    const QList<MailboxEntry> bobInbox = folder(m_bob, FolderRole::Inbox);
    const QList<MailboxEntry> carolInbox = folder(m_carol, FolderRole::Inbox);
    const QList<MailboxEntry> aliceSent = folder(m_alice, FolderRole::Sent);
    QCOMPARE(bobInbox.size(), 1);
    QCOMPARE(carolInbox.size(), 1);
    QCOMPARE(aliceSent.size(), 1);
    QCOMPARE(folder(m_alice, FolderRole::Inbox).size(), 0);
    QCOMPARE(folder(m_bob, FolderRole::Sent).size(), 0);
    QCOMPARE(bobInbox.first().messageId, aliceSent.first().messageId);
    QCOMPARE(carolInbox.first().messageId, aliceSent.first().messageId);
    QVERIFY(!bobInbox.first().seen);
    QVERIFY(!carolInbox.first().seen);
    QVERIFY(aliceSent.first().seen);

    const QByteArray raw = m_store->rawMessage(m_bob, bobInbox.first().id).value_or(QByteArray());
    // RFC 5321 §4.4: Return-Path: first, then our Received:.
    QVERIFY2(raw.startsWith("Return-Path: <alice@project.com>\r\nReceived: from client.example ([127.0.0.1])"),
             raw.left(200).constData());
    QVERIFY2(raw.contains(QByteArray("by localhost (Mailroom) with ESMTPSA id " + queueId + ';')), raw.left(300).constData());
    QCOMPARE(raw.count("\r\nMessage-ID: <"), 1);
    QCOMPARE(raw.count("\r\nDate: "), 1);
    QCOMPARE(raw.count("\r\nFrom: "), 1);
    QCOMPARE(bodyOf(raw), QByteArrayLiteral(".first body line starts with a dot\r\nmiddle\r\n..\r\n.\r\nlast\r\n"));
    QCOMPARE(bobInbox.first().size, raw.size());

    const MessageSummary &summary = bobInbox.first().summary;
    QCOMPARE(summary.subject, QStringLiteral("Integration test"));
    QCOMPARE(summary.from.name, QStringLiteral("Alice"));
    QCOMPARE(summary.from.address, QStringLiteral("alice@project.com"));
    QCOMPARE(summary.to.size(), 2);
    QCOMPARE(summary.to.at(0).address, QStringLiteral("bob@project.com"));
    QCOMPARE(summary.to.at(1).name, QStringLiteral("Carol"));
    QCOMPARE(summary.to.at(1).address, QStringLiteral("carol@project.com"));
    QVERIFY2(summary.messageId.contains(QString::fromLatin1(queueId)), qPrintable(summary.messageId));
    QVERIFY(summary.date.isValid());
    QVERIFY2(summary.preview.startsWith(QStringLiteral(".first body line")), qPrintable(summary.preview));
}

// STYLE "Pitfalls": the dot on the very first line of the data is unstuffed too.
void TestSmtpServer::dotOnFirstDataLine()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(openSession(client));
    const SmtpReply reply = transaction(client, "alice@project.com", {"bob@project.com"},
                                        QByteArrayLiteral("..leading dot on the first data line\r\nsecond\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());

    const QList<MailboxEntry> inbox = folder(m_bob, FolderRole::Inbox);
    QCOMPARE(inbox.size(), 1);
    const QByteArray raw = m_store->rawMessage(m_bob, inbox.first().id).value_or(QByteArray());
    // No header fields came, so ours (From:, Message-ID:, Date:) end with an empty line before the body.
    QVERIFY2(raw.contains("\r\nFrom: alice@project.com\r\n"), raw.constData());
    QCOMPARE(bodyOf(raw), QByteArrayLiteral(".leading dot on the first data line\r\nsecond\r\n"));
    QCOMPARE(inbox.first().summary.from.address, QStringLiteral("alice@project.com"));
}

// --listen-tls (docs/protocol/smtp.md §1, §3): encrypted from the first byte, AUTH offered,
// STARTTLS refused.
void TestSmtpServer::implicitTls()
{
    m_config.limits.handshakeTimeoutSeconds = 1;
    QVERIFY(startDaemon());

    // A client that never handshakes hears nothing in plain text and is dropped.
    QTcpSocket silent;
    QByteArray heard;
    connect(&silent, &QTcpSocket::readyRead, &silent, [&] { heard += silent.readAll(); });
    silent.connectToHost(QHostAddress(QHostAddress::LocalHost), m_daemon->tlsPort());
    QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::ConnectedState, ReplyTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
    QCOMPARE(heard, QByteArray());

    SmtpClient client(m_ca);
    QVERIFY(client.connectTls(m_daemon->tlsPort()));
    QVERIFY(client.sslErrors().isEmpty());
    QCOMPARE(client.readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));
    const SmtpReply ehlo = client.command(QByteArrayLiteral("EHLO tls.example"));
    QCOMPARE(ehlo.code, 250);
    QVERIFY2(ehlo.hasLine(QByteArrayLiteral("AUTH PLAIN LOGIN")), ehlo.all().constData());
    QVERIFY2(!ehlo.hasLine(QByteArrayLiteral("STARTTLS")), ehlo.all().constData());
    QCOMPARE(client.command(QByteArrayLiteral("STARTTLS")).status().left(9), QByteArrayLiteral("503 5.5.1"));

    // AUTH LOGIN with the full address as the user name.
    QCOMPARE(client.command(QByteArrayLiteral("AUTH LOGIN")).status(), QByteArrayLiteral("334 VXNlcm5hbWU6"));
    QCOMPARE(client.command(QByteArrayLiteral("alice@project.com").toBase64()).status(), QByteArrayLiteral("334 UGFzc3dvcmQ6"));
    QCOMPARE(client.command(AlicePassword.toBase64()).status(), QByteArrayLiteral("235 2.7.0 Authentication successful"));

    const SmtpReply reply = transaction(client, "alice@project.com", {"bob@project.com"},
                                        QByteArrayLiteral("Subject: over implicit TLS\r\n\r\nhello\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0 OK: queued as "), reply.all().constData());
    QCOMPARE(client.command(QByteArrayLiteral("QUIT")).code, 221);

    const QList<MailboxEntry> inbox = folder(m_bob, FolderRole::Inbox);
    QCOMPARE(inbox.size(), 1);
    QCOMPARE(folder(m_alice, FolderRole::Sent).size(), 1);
    QCOMPARE(inbox.first().summary.subject, QStringLiteral("over implicit TLS"));
    const QByteArray raw = m_store->rawMessage(m_bob, inbox.first().id).value_or(QByteArray());
    QVERIFY2(raw.startsWith("Return-Path: <alice@project.com>\r\nReceived: from tls.example ([127.0.0.1])"),
             raw.left(200).constData());
}

void TestSmtpServer::startTlsInjection_data()
{
    QTest::addColumn<QByteArray>("injected");
    QTest::newRow("NOOP") << QByteArrayLiteral("NOOP\r\n");
    QTest::newRow("AUTH PLAIN") << QByteArray("AUTH PLAIN " + plainCredentials("alice", AlicePassword) + "\r\n");
    QTest::newRow("EHLO, NOOP") << QByteArrayLiteral("EHLO injected.example\r\nNOOP\r\n");
}

// docs/protocol/smtp.md §3: plaintext pipelined after STARTTLS is discarded, never
// executed (CVE-2011-0411); the first reply over TLS answers the client's
// first command over TLS.
void TestSmtpServer::startTlsInjection()
{
    QFETCH(QByteArray, injected);
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(client.connectPlain(m_daemon->port()));
    QCOMPARE(client.readReply().code, 220);
    QCOMPARE(client.command(QByteArrayLiteral("EHLO client.example")).code, 250);

    client.send("STARTTLS\r\n" + injected); // one write, before reading anything
    QCOMPARE(client.readReply().status(), QByteArrayLiteral("220 2.0.0 Ready to start TLS"));
    QVERIFY(client.startTls()); // also fails if any plaintext reply followed the 220

    const SmtpReply first = client.command(QByteArrayLiteral("EHLO after.example"));
    QCOMPARE(first.code, 250);
    QCOMPARE(first.lines.first(), QByteArrayLiteral("250-localhost"));
    QVERIFY2(first.hasLine(QByteArrayLiteral("AUTH PLAIN LOGIN")), first.all().constData());
    // Not authenticated by anything injected, and nothing else queued up.
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).status(),
             QByteArrayLiteral("530 5.7.0 Authentication required"));
    QCOMPARE(client.command(QByteArrayLiteral("PING")).status(), QByteArrayLiteral("250 2.0.0 PONG"));
    QCOMPARE(client.pending(), QByteArray());
}

void TestSmtpServer::smuggling_data()
{
    QTest::addColumn<QByteArray>("fakeEnd");
    QTest::addColumn<QByteArray>("expectedStatus"); // the start of the one reply to the real end

    // A bare LF is a line end (stored as CRLF), so these are accepted as content.
    QTest::newRow("CRLF . LF") << QByteArrayLiteral("\r\n.\n") << QByteArrayLiteral("250 2.0.0");
    QTest::newRow("LF . CRLF") << QByteArrayLiteral("\n.\r\n") << QByteArrayLiteral("250 2.0.0");
    QTest::newRow("LF . LF") << QByteArrayLiteral("\n.\n") << QByteArrayLiteral("250 2.0.0");
    // A bare CR gets the message refused after its end.
    QTest::newRow("CR . CR") << QByteArrayLiteral("\r.\r") << QByteArrayLiteral("550 5.6.0");
    QTest::newRow("CRLF . CR") << QByteArrayLiteral("\r\n.\r") << QByteArrayLiteral("550 5.6.0");
    QTest::newRow("CR . CRLF") << QByteArrayLiteral("\r.\r\n") << QByteArrayLiteral("550 5.6.0");
}

// docs/protocol/smtp.md §7: only <CRLF>.<CRLF> ends the data; no command
// after a fake end is executed (SMTP smuggling, CVE-2023-51764/5/6).
void TestSmtpServer::smuggling()
{
    QFETCH(QByteArray, fakeEnd);
    QFETCH(QByteArray, expectedStatus);
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(openSession(client));
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("DATA")).code, 354);
    client.send("From: alice@project.com\r\nTo: bob@project.com\r\nSubject: carrier\r\n\r\nbefore" + fakeEnd
                + "MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\nsmuggled\r\n"
                + "\r\n.\r\n");
    const SmtpReply end = client.readReply();
    QVERIFY2(end.status().startsWith(expectedStatus), end.all().constData());
    // Exactly one reply: the next one answers our NOOP, not a smuggled command.
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(client.command(QByteArrayLiteral("QUIT")).status(), QByteArrayLiteral("221 2.0.0 Bye"));
    QCOMPARE(client.pending(), QByteArray());
    QVERIFY(client.waitClosed());

    const QList<QByteArray> stored = allStoredMessages();
    QCOMPARE(storedMessages(), expectedStatus.startsWith("250") ? 1 : 0);
    QCOMPARE(stored.size(), int(storedMessages()));
    for (const QByteArray &raw : stored) {
        const QByteArray body = bodyOf(raw);
        QVERIFY2(body != "smuggled\r\n", raw.constData());
        // The would-be commands are content of the one message, with CRLF line ends only.
        QVERIFY2(raw.contains("Subject: carrier\r\n"), raw.constData());
        QVERIFY2(body.contains("MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\nDATA\r\nsmuggled\r\n"),
                 raw.constData());
        QCOMPARE(raw.count('\n'), raw.count("\r\n"));
        QCOMPARE(raw.count('\r'), raw.count("\r\n"));
    }
}

// docs/protocol/smtp.md §2: a command line over 512 octets gets 500 5.5.2 Line too long; the
// session goes on.
void TestSmtpServer::commandLineLimit()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(client.connectPlain(m_daemon->port()));
    QCOMPARE(client.readReply().code, 220);
    // 512 octets with the CRLF is the most RFC 5321 §4.5.3.1.4 allows.
    QCOMPARE(client.command("NOOP " + QByteArray(512 - 2 - 5, 'x')).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(client.command("NOOP " + QByteArray(512 - 2 - 5 + 1, 'x')).status(),
             QByteArrayLiteral("500 5.5.2 Line too long"));
    QCOMPARE(client.command("NOOP " + QByteArray(600, 'x')).status(), QByteArrayLiteral("500 5.5.2 Line too long"));
    // Far over the limit, in pieces: still one error, and the next line is read as a command.
    client.send("NOOP " + QByteArray(100000, 'y'));
    QCOMPARE(client.command(QByteArrayLiteral("")).status(), QByteArrayLiteral("500 5.5.2 Line too long"));
    QCOMPARE(client.command(QByteArrayLiteral("EHLO client.example")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(client.pending(), QByteArray());
}

// docs/protocol/smtp.md §2: after 10 errors 421 4.7.0 and close;
// docs/PROTOCOL.md §5: memory stays bounded; others are served meanwhile.
void TestSmtpServer::randomBytesFlood()
{
    QVERIFY(startDaemon());
    SmtpClient flooder(m_ca);
    QVERIFY(flooder.connectPlain(m_daemon->port()));
    QCOMPARE(flooder.readReply().code, 220);

    QRandomGenerator random(20261122); // fixed: a failure can be replayed
    QByteArray noise(1024 * 1024, Qt::Uninitialized);
    random.fillRange(reinterpret_cast<quint32 *>(noise.data()), noise.size() / int(sizeof(quint32)));
    flooder.send(noise);

    SmtpClient other(m_ca);
    QVERIFY(other.connectPlain(m_daemon->port()));
    QCOMPARE(other.readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));
    QCOMPARE(other.command(QByteArrayLiteral("EHLO other.example")).code, 250);
    QCOMPARE(other.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));

    QVERIFY(flooder.waitClosed(30000));
    const QList<SmtpReply> replies = flooder.takeReplies();
    QStringList seen;
    for (const SmtpReply &reply : replies)
        seen.append(QString::fromLatin1(reply.status()));
    const QByteArray described = seen.join(QStringLiteral(" | ")).toLatin1();
    QCOMPARE(replies.size(), 11);
    for (qsizetype i = 0; i < 10; ++i)
        QVERIFY2(replies.at(i).code >= 500 && replies.at(i).code < 600, described.constData());
    QCOMPARE(replies.last().status(), QByteArrayLiteral("421 4.7.0 Too many errors"));

    // And the other client is still served after the flooder is gone.
    QCOMPARE(other.command(QByteArrayLiteral("PING")).status(), QByteArrayLiteral("250 2.0.0 PONG"));
}

// docs/protocol/smtp.md §7: 552 5.3.4 Message too big, read to the end, nothing stored.
void TestSmtpServer::messageTooBig()
{
    m_config.limits.maxMessageBytes = 64 * 1024;
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(client.connectPlain(m_daemon->port()));
    QCOMPARE(client.readReply().code, 220);
    const SmtpReply ehlo = client.command(QByteArrayLiteral("EHLO client.example"));
    QVERIFY2(ehlo.hasLine(QByteArrayLiteral("SIZE 65536")), ehlo.all().constData());
    QCOMPARE(client.command(QByteArrayLiteral("STARTTLS")).code, 220);
    QVERIFY(client.startTls());
    QCOMPARE(client.command(QByteArrayLiteral("EHLO client.example")).code, 250);
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", AlicePassword)).code, 235);

    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com> SIZE=65537")).status().left(9),
             QByteArrayLiteral("552 5.3.4"));

    const QByteArray line = QByteArray(76, 'z') + "\r\n";
    QByteArray big = QByteArrayLiteral("Subject: too big\r\n\r\n");
    while (big.size() < 100 * 1024)
        big += line;
    SmtpReply reply = transaction(client, "alice@project.com", {"bob@project.com"}, big + ".\r\n");
    QCOMPARE(reply.status().left(9), QByteArrayLiteral("552 5.3.4"));
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(storedMessages(), 0);

    // Just under the limit still goes through on the same connection.
    QByteArray fits = QByteArrayLiteral("Subject: fits\r\n\r\n");
    while (fits.size() + line.size() < 60 * 1024)
        fits += line;
    reply = transaction(client, "alice@project.com", {"bob@project.com"}, fits + ".\r\n");
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
    const QList<MailboxEntry> inbox = folder(m_bob, FolderRole::Inbox);
    QCOMPARE(storedMessages(), 1);
    QCOMPARE(inbox.size(), 1);
    QCOMPARE(inbox.first().summary.subject, QStringLiteral("fits"));
}

// A client gone in the middle of DATA leaves nothing stored; others go on.
void TestSmtpServer::disconnectDuringData()
{
    QVERIFY(startDaemon());
    SmtpClient quitter(m_ca);
    QVERIFY(openSession(quitter));
    QCOMPARE(quitter.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(quitter.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    QCOMPARE(quitter.command(QByteArrayLiteral("DATA")).code, 354);
    quitter.send(QByteArrayLiteral("Subject: partial\r\n\r\nhalf a message\r\n"));

    // Another client completes a transaction meanwhile (the server reads the half message too).
    SmtpClient other(m_ca);
    QVERIFY(openSession(other, "carol", CarolPassword));
    SmtpReply reply = transaction(other, "carol@project.com", {"bob@project.com"},
                                  QByteArrayLiteral("Subject: complete\r\n\r\nwhole\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());

    quitter.socket().abort();
    QCOMPARE(other.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    reply = transaction(other, "carol@project.com", {"alice@project.com"},
                        QByteArrayLiteral("Subject: after\r\n\r\nstill serving\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());

    // stopped() comes only once every connection, the quitter's too, is gone.
    QVERIFY(stopDaemon());
    QCOMPARE(other.readReply().status(), QByteArrayLiteral("421 4.3.2 Service shutting down"));
    QCOMPARE(storedMessages(), 2);
    const QList<MailboxEntry> bobInbox = folder(m_bob, FolderRole::Inbox);
    QCOMPARE(bobInbox.size(), 1);
    QCOMPARE(bobInbox.first().summary.subject, QStringLiteral("complete"));
    QCOMPARE(folder(m_alice, FolderRole::Sent).size(), 0);
    for (const QByteArray &raw : allStoredMessages())
        QVERIFY2(!raw.contains("half a message"), raw.constData());
}

// docs/PROTOCOL.md §5: idle timeout per command and per data chunk, 421 4.4.2 Timeout.
void TestSmtpServer::idleTimeout()
{
    m_config.limits.idleTimeoutSeconds = 2;
    QVERIFY(startDaemon());

    SmtpClient idle(m_ca);
    QElapsedTimer sinceGreeting;
    QVERIFY(idle.connectPlain(m_daemon->port()));
    QCOMPARE(idle.readReply().code, 220);
    sinceGreeting.start();

    // A second client goes quiet in the middle of its message.
    SmtpClient stalled(m_ca);
    QVERIFY(openSession(stalled));
    QCOMPARE(stalled.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(stalled.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    QCOMPARE(stalled.command(QByteArrayLiteral("DATA")).code, 354);
    stalled.send(QByteArrayLiteral("Subject: stalled\r\n\r\nand then nothing"));
    QElapsedTimer sinceChunk;
    sinceChunk.start();

    QCOMPARE(idle.readReply(15000).status(), QByteArrayLiteral("421 4.4.2 Timeout"));
    QVERIFY2(sinceGreeting.elapsed() >= 1500, qPrintable(QString::number(sinceGreeting.elapsed())));
    QVERIFY(idle.waitClosed());

    QCOMPARE(stalled.readReply(15000).status(), QByteArrayLiteral("421 4.4.2 Timeout"));
    QVERIFY2(sinceChunk.elapsed() >= 1500, qPrintable(QString::number(sinceChunk.elapsed())));
    QVERIFY(stalled.waitClosed());
    QCOMPARE(storedMessages(), 0);
}

// docs/protocol/smtp.md §7: DATA as a whole has a deadline besides the idle
// timeout per chunk. Found: one byte every 4 s kept a DATA open for ever
// under --idle-timeout 5. Here a chunk every 300 ms, well inside the idle
// timeout, is cut at the deadline: 421 4.4.2, closed, nothing stored. Each
// DATA has its own deadline: two messages that each take most of it pass.
void TestSmtpServer::dataDeadline()
{
    m_config.limits.idleTimeoutSeconds = 4;
    m_config.limits.dataTimeoutSeconds = 3;
    QVERIFY(startDaemon());

    SmtpClient patient(m_ca);
    QVERIFY(openSession(patient, "carol", CarolPassword));
    SmtpClient slow(m_ca);
    QVERIFY(openSession(slow));
    QCOMPARE(slow.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(slow.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    QCOMPARE(slow.command(QByteArrayLiteral("DATA")).code, 354);
    QElapsedTimer sinceData;
    sinceData.start();
    int chunks = 0;
    QTimer dribble;
    connect(&dribble, &QTimer::timeout, &dribble, [&] {
        slow.send(chunks++ == 0 ? QByteArrayLiteral("Subject: slow\r\n\r\n") : QByteArrayLiteral("x\r\n"));
    });
    dribble.start(300);

    // Meanwhile messages on another connection, each DATA taking 2 s of the
    // 3: the deadline is per DATA and starts afresh for each.
    const auto patientMessage = [&](int i) {
        QCOMPARE(patient.command(QByteArrayLiteral("MAIL FROM:<carol@project.com>")).code, 250);
        QCOMPARE(patient.command(QByteArrayLiteral("RCPT TO:<alice@project.com>")).code, 250);
        QCOMPARE(patient.command(QByteArrayLiteral("DATA")).code, 354);
        patient.send("Subject: patient " + QByteArray::number(i) + "\r\n\r\n");
        QTest::qWait(1000);
        patient.send(QByteArrayLiteral("half\r\n"));
        QTest::qWait(1000);
        patient.send(QByteArrayLiteral("the rest\r\n.\r\n"));
        const SmtpReply reply = patient.readReply();
        QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
    };
    patientMessage(1);
    if (QTest::currentTestFailed())
        return;

    const SmtpReply cut = slow.readReply(15000);
    const qint64 cutAfterMs = sinceData.elapsed();
    dribble.stop();
    QCOMPARE(cut.status(), QByteArrayLiteral("421 4.4.2 Message data took too long, closing connection"));
    QVERIFY2(cutAfterMs >= 2500 && cutAfterMs < 6000, qPrintable(QString::number(cutAfterMs)));
    QVERIFY2(chunks >= 8, qPrintable(QString::number(chunks))); // it was sending all along
    QVERIFY(slow.waitClosed());

    patientMessage(2);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(storedMessages(), 2);
    QCOMPARE(folder(m_bob, FolderRole::Inbox).size(), 0);
    QCOMPARE(patient.command(QByteArrayLiteral("NOOP")).code, 250);
}

// docs/protocol/smtp.md §7: a header section over 256 KiB (here a To: of 20,000
// addresses) is read to the end and refused with 552 5.3.4, nothing stored;
// the session goes on: a new transaction on the same connection is stored.
void TestSmtpServer::headerSectionTooLarge()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(openSession(client));
    QByteArray header = QByteArrayLiteral("From: alice@project.com\r\nTo: bob@project.com");
    for (int i = 0; i < 20000; ++i)
        header += ",\r\n user" + QByteArray::number(i) + "@example.org";
    header += "\r\nSubject: huge header\r\n\r\n";
    QVERIFY(header.size() > 256 * 1024);
    SmtpReply reply = transaction(client, "alice@project.com", {"bob@project.com"},
                                  header + "body\r\n.\r\n");
    QCOMPARE(reply.status(), QByteArrayLiteral("552 5.3.4 Header section too large"));
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(storedMessages(), 0);

    reply = transaction(client, "alice@project.com", {"bob@project.com"},
                        QByteArrayLiteral("Subject: after\r\n\r\nbody\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
    QCOMPARE(storedMessages(), 1);
    QCOMPARE(folder(m_bob, FolderRole::Inbox).first().summary.subject, QStringLiteral("after"));
}

// docs/PROTOCOL.md §5: the idle timeout is per command. A client dribbling a command a
// byte at a time (slowloris) is cut when the timeout has passed since its
// last whole command, however often a byte comes.
void TestSmtpServer::dribbledCommandTimesOut()
{
    m_config.limits.idleTimeoutSeconds = 2;
    QVERIFY(startDaemon());

    SmtpClient slow(m_ca);
    QVERIFY(slow.connectPlain(m_daemon->port()));
    QCOMPARE(slow.readReply().code, 220);
    QCOMPARE(slow.command(QByteArrayLiteral("EHLO slow.example")).code, 250);
    QElapsedTimer sinceCommand;
    sinceCommand.start();
    const QByteArray command = "NOOP " + QByteArray(100, 'x') + "\r\n";
    qsizetype sent = 0;
    QTimer dribble;
    connect(&dribble, &QTimer::timeout, &dribble, [&] {
        if (sent < command.size() - 2) // never the line's end
            slow.send(command.mid(sent++, 1));
    });
    dribble.start(250);
    QCOMPARE(slow.readReply(15000).status(), QByteArrayLiteral("421 4.4.2 Timeout"));
    dribble.stop();
    QVERIFY2(sinceCommand.elapsed() >= 1500 && sinceCommand.elapsed() < 6000,
             qPrintable(QString::number(sinceCommand.elapsed())));
    QVERIFY2(sent >= 5, qPrintable(QString::number(sent)));
    QVERIFY(slow.waitClosed());
}

// RFC 8446 §5.2: a record that does not decrypt ends the connection, at
// once, not at the idle timeout.
void TestSmtpServer::garbageBeneathTlsCloses()
{
    m_config.limits.idleTimeoutSeconds = 60;
    QVERIFY(startDaemon());

    SmtpClient client(m_ca);
    QVERIFY(client.connectTls(m_daemon->tlsPort()));
    QCOMPARE(client.readReply().code, 220);
    // Beneath the client's TLS: a well-formed application-data record of random bytes.
    const QByteArray record = TestBytes::garbageTlsRecord();
    QCOMPARE(::write(int(client.socket().socketDescriptor()), record.constData(), size_t(record.size())),
             ssize_t(record.size()));
    QElapsedTimer sinceGarbage;
    sinceGarbage.start();
    QVERIFY(client.waitClosed(15000));
    QVERIFY2(sinceGarbage.elapsed() < 5000, qPrintable(QString::number(sinceGarbage.elapsed())));

    // The server goes on.
    SmtpClient next(m_ca);
    QVERIFY(openSession(next));
    QCOMPARE(next.command(QByteArrayLiteral("NOOP")).code, 250);
}

// docs/protocol/smtp.md §4: after 3 failures on one connection 421 4.7.0 and close.
void TestSmtpServer::authFailuresClose()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(client.connectPlain(m_daemon->port()));
    QCOMPARE(client.readReply().code, 220);
    QCOMPARE(client.command(QByteArrayLiteral("EHLO client.example")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("STARTTLS")).code, 220);
    QVERIFY(client.startTls());
    QCOMPARE(client.command(QByteArrayLiteral("EHLO client.example")).code, 250);

    const QByteArray invalid = QByteArrayLiteral("535 5.7.8 Authentication credentials invalid");
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", "wrong-password")).status(), invalid);
    // AUTH LOGIN failures count the same.
    QCOMPARE(client.command(QByteArrayLiteral("AUTH LOGIN")).code, 334);
    QCOMPARE(client.command(QByteArrayLiteral("alice").toBase64()).code, 334);
    QCOMPARE(client.command(QByteArrayLiteral("wrong-password").toBase64()).status(), invalid);
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("nobody", "wrong-password")).status(), invalid);
    QCOMPARE(client.readReply().status().left(9), QByteArrayLiteral("421 4.7.0"));
    QVERIFY(client.waitClosed());
}

// docs/PROTOCOL.md §6: from the 10th failed login per address on, logins from
// it are refused unchecked (454 4.7.0), a correct password too; another
// address is not affected.
void TestSmtpServer::loginThrottling()
{
    QVERIFY(startDaemon());
    const QByteArray invalid = QByteArrayLiteral("535 5.7.8 Authentication credentials invalid");
    const QByteArray throttled = QByteArrayLiteral("454 4.7.0 Too many failed logins, try later");
    const auto tlsSession = [this](SmtpClient &client, const QHostAddress &from = {}) {
        return client.connectPlain(m_daemon->port(), from) && client.readReply().code == 220
            && client.command(QByteArrayLiteral("EHLO client.example")).code == 250
            && client.command(QByteArrayLiteral("STARTTLS")).code == 220 && client.startTls()
            && client.command(QByteArrayLiteral("EHLO client.example")).code == 250;
    };

    // Eight failures over four connections (the third on one connection would close it).
    for (int round = 0; round < 4; ++round) {
        SmtpClient client(m_ca);
        QVERIFY(tlsSession(client));
        QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", "wrong-" + QByteArray::number(round))).status(),
                 invalid);
        QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("bob", "wrong-password")).status(), invalid);
        QCOMPARE(client.command(QByteArrayLiteral("QUIT")).code, 221);
    }
    SmtpClient client(m_ca);
    QVERIFY(tlsSession(client));
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", "wrong-9")).status(), invalid); // the 9th
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", "wrong-10")).status(), throttled); // the 10th
    QCOMPARE(client.command("AUTH PLAIN " + plainCredentials("alice", AlicePassword)).status(), throttled);
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).status(),
             QByteArrayLiteral("530 5.7.0 Authentication required"));
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));

    // The same account from another address logs in at once.
    SmtpClient elsewhere(m_ca);
    QVERIFY(tlsSession(elsewhere, QHostAddress(QStringLiteral("127.0.0.2"))));
    QCOMPARE(elsewhere.command("AUTH PLAIN " + plainCredentials("alice", AlicePassword)).status(),
             QByteArrayLiteral("235 2.7.0 Authentication successful"));
}

// docs/PROTOCOL.md §5: connections per client address.
void TestSmtpServer::connectionsPerAddress()
{
    m_config.limits.maxConnectionsPerAddress = 3;
    QVERIFY(startDaemon());
    std::vector<std::unique_ptr<SmtpClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<SmtpClient>(m_ca));
        QVERIFY(clients.back()->connectPlain(m_daemon->port()));
        QCOMPARE(clients.back()->readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));
    }
    SmtpClient fourth(m_ca);
    QVERIFY(fourth.connectPlain(m_daemon->port()));
    QCOMPARE(fourth.readReply().status(), QByteArrayLiteral("421 4.7.0 Too many connections"));
    QVERIFY(fourth.waitClosed());

    // The limit is per address: another one is served.
    SmtpClient elsewhere(m_ca);
    QVERIFY(elsewhere.connectPlain(m_daemon->port(), QHostAddress(QStringLiteral("127.0.0.2"))));
    QCOMPARE(elsewhere.readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));

    // A slot freed is a slot available.
    QCOMPARE(clients.front()->command(QByteArrayLiteral("QUIT")).code, 221);
    QVERIFY(clients.front()->waitClosed());
    SmtpClient again(m_ca);
    QVERIFY(again.connectPlain(m_daemon->port()));
    QCOMPARE(again.readReply().status(), QByteArrayLiteral("220 localhost ESMTP Mailroom"));
    QCOMPARE(clients.back()->command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
}

namespace {
// Whether this process may hold both ends of that many connections.
bool enoughDescriptors(int connections)
{
    rlimit limit{};
    return getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= rlim_t(2 * connections + 100);
}
} // namespace

// 500 clients that only read the greeting do not keep a new one from
// completing EHLO, STARTTLS and AUTH.
void TestSmtpServer::manyIdleConnections()
{
    constexpr int Idle = 500;
    constexpr int Wave = 25; // well inside any listen backlog: this test is about the open connections
    if (!enoughDescriptors(Idle))
        QSKIP("too few file descriptors for 500 connections (ulimit -n)");
    m_config.limits.maxConnections = 1024;
    m_config.limits.maxConnectionsPerAddress = 1024;
    QVERIFY(startDaemon());

    GreetingReaders idle;
    QElapsedTimer all;
    all.start();
    while (idle.size() < Idle) {
        idle.open(Wave, m_daemon->port());
        QVERIFY2(idle.waitGreeted(ReplyTimeoutMs),
                 qPrintable(QStringLiteral("%1 of %2 greeted").arg(idle.greeted()).arg(idle.size())));
    }
    qInfo("%d clients connected and greeted, %d at a time, in %lld ms", Idle, Wave, qint64(all.elapsed()));
    QCOMPARE(idle.countReceived(QByteArrayLiteral("220 localhost ESMTP Mailroom\r\n")), Idle);

    QElapsedTimer elapsed;
    elapsed.start();
    SmtpClient client(m_ca);
    QVERIFY(openSession(client));
    qInfo("with %d idle connections, a new client did EHLO/STARTTLS/AUTH in %lld ms", Idle, qint64(elapsed.elapsed()));
    const SmtpReply reply = transaction(client, "alice@project.com", {"bob@project.com"},
                                        QByteArrayLiteral("Subject: busy server\r\n\r\nhi\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
    QCOMPARE(idle.connectedCount(), Idle);
}

// 500 clients connecting at the same moment (after an outage, say) are all
// greeted: none is left connected on its side and never accepted, waiting
// for a greeting that never comes.
void TestSmtpServer::connectionBurst()
{
    constexpr int Burst = 500;
    if (!enoughDescriptors(Burst))
        QSKIP("too few file descriptors for 500 connections (ulimit -n)");
    m_config.limits.maxConnections = 1024;
    m_config.limits.maxConnectionsPerAddress = 1024;
    QVERIFY(startDaemon());

    GreetingReaders burst;
    QElapsedTimer elapsed;
    elapsed.start();
    burst.open(Burst, m_daemon->port()); // all before the server runs once
    const bool all = burst.waitGreeted(ReplyTimeoutMs);
    qInfo("%d of %d clients of a burst greeted in %lld ms (%d connected on their side)", burst.greeted(), Burst,
          qint64(elapsed.elapsed()), burst.connectedCount());
    QVERIFY2(all, qPrintable(QStringLiteral("only %1 of %2 greeted within %3 ms").arg(burst.greeted()).arg(Burst).arg(ReplyTimeoutMs)));
    QCOMPARE(burst.countReceived(QByteArrayLiteral("220 localhost ESMTP Mailroom\r\n")), Burst);
}

// docs/protocol/smtp.md §6: 451 4.3.0 if storage failed, nothing stored.
void TestSmtpServer::deliveryFailure()
{
    QVERIFY(startDaemon());
    SmtpClient client(m_ca);
    QVERIFY(openSession(client));
    QCOMPARE(client.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<carol@project.com>")).code, 250);
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    // bob goes away between RCPT and DATA, as mailroomctl del-user would do.
    QVERIFY2(m_store->deleteAccount(m_bob), qPrintable(m_store->lastErrorText()));
    QCOMPARE(client.command(QByteArrayLiteral("DATA")).code, 354);
    client.send(QByteArrayLiteral("Subject: to a vanished account\r\n\r\nhello\r\n.\r\n"));
    QCOMPARE(client.readReply().status().left(9), QByteArrayLiteral("451 4.3.0"));
    QCOMPARE(storedMessages(), 0);
    QCOMPARE(folder(m_carol, FolderRole::Inbox).size(), 0);
    QCOMPARE(folder(m_alice, FolderRole::Sent).size(), 0);

    // The session is usable again, and the next delivery works.
    QCOMPARE(client.command(QByteArrayLiteral("NOOP")).status(), QByteArrayLiteral("250 2.0.0 OK"));
    QCOMPARE(client.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).status().left(9),
             QByteArrayLiteral("503 5.5.1")); // the failed transaction was reset
    const SmtpReply reply = transaction(client, "alice@project.com", {"carol@project.com"},
                                        QByteArrayLiteral("Subject: retry\r\n\r\nhello\r\n.\r\n"));
    QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
    QCOMPARE(storedMessages(), 1);
    QCOMPARE(folder(m_carol, FolderRole::Inbox).size(), 1);
}

// docs/PROTOCOL.md §7: a clean stop says 421 to whoever is connected, takes no new
// connections, stores nothing half-received, then stopped().
void TestSmtpServer::shutDownWithIdleClient()
{
    QVERIFY(startDaemon());
    SmtpClient idle(m_ca);
    QVERIFY(idle.connectPlain(m_daemon->port()));
    QCOMPARE(idle.readReply().code, 220);
    QCOMPARE(idle.command(QByteArrayLiteral("EHLO client.example")).code, 250);

    SmtpClient sending(m_ca);
    QVERIFY(openSession(sending));
    QCOMPARE(sending.command(QByteArrayLiteral("MAIL FROM:<alice@project.com>")).code, 250);
    QCOMPARE(sending.command(QByteArrayLiteral("RCPT TO:<bob@project.com>")).code, 250);
    QCOMPARE(sending.command(QByteArrayLiteral("DATA")).code, 354);
    sending.send(QByteArrayLiteral("Subject: in flight\r\n\r\nfirst half\r\n"));
    QCOMPARE(sending.pending(), QByteArray());

    const quint16 port = m_daemon->port();
    QSignalSpy stopped(m_daemon.get(), &SmtpDaemon::stopped);
    m_daemon->shutDown();
    // The one in DATA may be let finish (250) or be refused (421): never half-stored.
    sending.send(QByteArrayLiteral("second half\r\n.\r\n"));

    QCOMPARE(idle.readReply().status(), QByteArrayLiteral("421 4.3.2 Service shutting down"));
    QVERIFY(idle.waitClosed());
    QVERIFY(sending.waitClosed());
    const QList<SmtpReply> replies = sending.takeReplies();
    QVERIFY(!replies.isEmpty());
    QCOMPARE(replies.last().status(), QByteArrayLiteral("421 4.3.2 Service shutting down"));
    const bool accepted = replies.size() == 2 && replies.first().status().startsWith("250 2.0.0");
    QVERIFY(replies.size() == 1 || accepted);
    QVERIFY(stopped.count() == 1 || stopped.wait(StopTimeoutMs));
    QCOMPARE(stopped.count(), 1);

    QCOMPARE(storedMessages(), accepted ? 1 : 0);
    for (const QByteArray &raw : allStoredMessages())
        QVERIFY2(raw.contains("first half\r\nsecond half\r\n"), raw.constData());

    // No one is let in any more.
    QTcpSocket late;
    late.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    QTRY_COMPARE_WITH_TIMEOUT(late.state(), QAbstractSocket::UnconnectedState, ReplyTimeoutMs);
    QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
}

// With several network threads, the per-address limit still admits clients
// in the order they arrived: the first of a burst from one address gets the
// only slot, whichever thread is free first (a defect found by
// test_smtp_hostile: the threads decided, and a later client could win).
void TestSmtpServer::admissionInArrivalOrder()
{
    m_config.limits.networkThreads = 4;
    m_config.limits.maxConnectionsPerAddress = 1;
    QVERIFY(startDaemon());
    constexpr int Rounds = 20;
    constexpr int Burst = 8;
    for (int round = 0; round < Rounds; ++round) {
        GreetingReaders burst;
        burst.open(Burst, m_daemon->port(), QHostAddress(u"127.0.0.%1"_s.arg(10 + round)));
        QVERIFY2(burst.waitGreeted(ReplyTimeoutMs), qPrintable(u"round %1"_s.arg(round)));
        QCOMPARE(burst.received(0), QByteArrayLiteral("220 localhost ESMTP Mailroom\r\n"));
        QCOMPARE(burst.countReceived(QByteArrayLiteral("421 4.7.0 Too many connections\r\n")), Burst - 1);
    }
}

void TestSmtpServer::concurrentDeliveriesOnThreads_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("the event loop only") << 1;
    QTest::newRow("2 network threads") << 2;
    QTest::newRow("4 network threads") << 4;
}

// Issue 9's pool of network threads: clients spread over the threads deliver
// at the same moment, so group commits mix messages of several threads and
// each answer must find its way back to its own connection. Every message is
// stored once, whole, in the recipient's inbox and the sender's sent folder;
// then a shutdown reaches the clients of every thread.
void TestSmtpServer::concurrentDeliveriesOnThreads()
{
    QFETCH(int, threads);
    m_config.limits.networkThreads = threads;
    QVERIFY(startDaemon());
    constexpr int Clients = 12;
    constexpr int Rounds = 5;
    std::vector<std::unique_ptr<SmtpClient>> clients;
    for (int i = 0; i < Clients; ++i) {
        clients.push_back(std::make_unique<SmtpClient>(m_ca));
        QVERIFY(openSession(*clients.back(), i % 2 ? QByteArrayLiteral("alice") : QByteArrayLiteral("carol"),
                            i % 2 ? AlicePassword : CarolPassword));
    }
    const auto marker = [](int client, int round) -> QByteArray {
        return "client " + QByteArray::number(client) + " round " + QByteArray::number(round);
    };
    for (int round = 0; round < Rounds; ++round) {
        // PIPELINING: the envelope in one write; then every message's data
        // before any final reply is read.
        for (int i = 0; i < Clients; ++i) {
            const QByteArray from = i % 2 ? "alice@project.com" : "carol@project.com";
            clients[i]->send("MAIL FROM:<" + from + ">\r\nRCPT TO:<bob@project.com>\r\nDATA\r\n");
        }
        for (int i = 0; i < Clients; ++i) {
            QCOMPARE(clients[i]->readReply().code, 250);
            QCOMPARE(clients[i]->readReply().code, 250);
            QCOMPARE(clients[i]->readReply().code, 354);
        }
        for (int i = 0; i < Clients; ++i)
            clients[i]->send("Subject: " + marker(i, round) + "\r\n\r\n" + marker(i, round) + "\r\n.\r\n");
        for (int i = 0; i < Clients; ++i) {
            const SmtpReply reply = clients[i]->readReply();
            QVERIFY2(reply.status().startsWith("250 2.0.0"), reply.all().constData());
        }
    }

    QCOMPARE(storedMessages(), qint64(Clients * Rounds));
    QSet<QByteArray> subjects;
    for (const MailboxEntry &entry : folder(m_bob, FolderRole::Inbox))
        subjects.insert(entry.summary.subject.toUtf8());
    QCOMPARE(subjects.size(), Clients * Rounds);
    for (int i = 0; i < Clients; ++i) {
        for (int round = 0; round < Rounds; ++round)
            QVERIFY2(subjects.contains(marker(i, round)), marker(i, round).constData());
    }
    QCOMPARE(folder(m_alice, FolderRole::Sent).size(), Clients / 2 * Rounds);
    QCOMPARE(folder(m_carol, FolderRole::Sent).size(), Clients / 2 * Rounds);
    for (const QByteArray &raw : allStoredMessages()) {
        const qsizetype at = raw.indexOf("Subject: ");
        QVERIFY(at >= 0);
        const QByteArray subject = raw.mid(at + 9, raw.indexOf("\r\n", at) - at - 9);
        // Its own text, not another message's: the body repeats the subject.
        QVERIFY2(raw.endsWith(QByteArray("\r\n\r\n" + subject + "\r\n")), raw.constData());
    }

    // Every client, whichever thread serves it, is told and closed.
    QVERIFY(stopDaemon());
    for (const auto &client : clients) {
        QVERIFY(client->waitClosed());
        const QList<SmtpReply> replies = client->takeReplies();
        QVERIFY(!replies.isEmpty());
        QCOMPARE(replies.last().status(), QByteArrayLiteral("421 4.3.2 Service shutting down"));
    }
}

QTEST_GUILESS_MAIN(TestSmtpServer)
#include "tst_smtpserver.moc"
