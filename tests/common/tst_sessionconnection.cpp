// SessionConnection over real loopback sockets, with a small line session
// of its own (not a real protocol): what IMAP will need from the base.
// - output the server sends on its own (pushOutput) goes out in order with
//   the replies, waits while the client does not read, and is refused
//   beyond MaxHeldOutput;
// - literals: "+ Ready", then N bytes read raw (CR LF inside included); too
//   large, refused before a byte is read; a literal's bytes keep the
//   connection from idling out as a command's bytes would not;
// - backends answer through answerOn(): from another thread, on the
//   connection's thread, and never once the connection is gone.

#include "backendreply.h"
#include "commandlinebuffer.h"
#include "sessionconnection.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <functional>

Q_LOGGING_CATEGORY(lcTestConnection, "mailroom.test.connection", QtWarningMsg)

namespace {

// "tag VERB args": NOOP answers "tag OK NOOP"; LIT ... {N} or {N+} reads a
// literal and answers with its size and hex; ASK asks the backend; QUIT ends.
class LineSession
{
public:
    enum class State { Commands, Waiting, Closed };
    static constexpr qsizetype MaxLiteral = 1024;

    void start() { m_output += "* OK ready\r\n"; }
    void receive(QByteArrayView bytes)
    {
        m_input.append(bytes);
        process();
    }
    void resume() { process(); }
    // A literal's bytes wait here until all have come: pending input, yet
    // progress (isReadingLiteral()).
    [[nodiscard]] bool hasPendingInput() const { return !m_input.isEmpty(); }
    [[nodiscard]] bool isReadingLiteral() const { return m_input.isInLiteral(); }
    [[nodiscard]] bool isHoldingInput() const { return false; }
    void stopTakingCommands() {}
    void tlsEstablished() {}
    void timedOut()
    {
        m_output += "* BYE idle\r\n";
        m_state = State::Closed;
    }
    void shuttingDown()
    {
        m_output += "* BYE shutting down\r\n";
        m_state = State::Closed;
    }
    [[nodiscard]] QByteArray takeOutput() { return std::exchange(m_output, {}); }
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool startTlsRequested() const { return false; }
    [[nodiscard]] bool closeRequested() const { return m_state == State::Closed; }
    [[nodiscard]] bool quitReceived() const { return m_quit; }

    // The ASK request: its tag, while the backend works on it.
    [[nodiscard]] QByteArray takeRequest() { return std::exchange(m_asking, {}); }
    void answered(int value)
    {
        m_output += m_answerTag + " OK answered " + QByteArray::number(value) + "\r\n";
        m_state = State::Commands;
        process();
    }

private:
    void process()
    {
        while (m_state == State::Commands) {
            if (m_input.isInLiteral()) {
                const std::optional<QByteArray> literal = m_input.takeLiteral();
                if (!literal)
                    return;
                m_output += m_literalTag + " OK " + QByteArray::number(literal->size()) + ' ' + literal->toHex();
                m_output += "\r\n";
                continue;
            }
            const std::optional<CommandLineBuffer::Line> line = m_input.takeLine();
            if (!line)
                return;
            if (line->text.isEmpty())
                continue; // the end of a LIT command, after its literal
            const QByteArrayList words = line->text.split(' ');
            const QByteArray tag = words.value(0);
            const QByteArray verb = words.value(1);
            if (verb == "LIT") {
                literal(tag, words.last());
            } else if (verb == "ASK") {
                m_asking = m_answerTag = tag;
                m_state = State::Waiting;
            } else if (verb == "QUIT") {
                m_output += "* BYE\r\n" + tag + " OK\r\n";
                m_quit = true;
                m_state = State::Closed;
            } else {
                m_output += tag + " OK " + verb + "\r\n";
            }
        }
    }

    void literal(const QByteArray &tag, QByteArray announced)
    {
        const bool nonSynchronizing = announced.endsWith("+}");
        announced.chop(nonSynchronizing ? 2 : 1);
        const qsizetype size = announced.mid(1).toLongLong();
        if (m_input.expectLiteral(size) == CommandLineBuffer::LiteralStart::TooLarge) {
            m_output += tag + " NO literal too large\r\n";
            if (nonSynchronizing)
                m_input.discardLiteral(size);
            return;
        }
        m_literalTag = tag;
        if (!nonSynchronizing)
            m_output += "+ Ready\r\n";
    }

    CommandLineBuffer m_input{256, MaxLiteral};
    QByteArray m_output;
    QByteArray m_asking;
    QByteArray m_answerTag;
    QByteArray m_literalTag;
    State m_state = State::Commands;
    bool m_quit = false;
};

// A backend on a thread of its own that answers ASK with 42.
class Worker : public QObject
{
public:
    void ask(BackendReply<int> reply)
    {
        QMetaObject::invokeMethod(this, [reply] { reply(42); });
    }
};

class LineConnection : public SessionConnection<LineSession>
{
public:
    LineConnection(QSslSocket *socket, Timeouts timeouts, Worker *worker, QObject *parent)
        : SessionConnection(socket, QSslConfiguration(), false, timeouts, LineSession(), lcTestConnection(), parent)
        , m_worker(worker)
    {
    }

    bool answeredOnOwnThread = false;

private:
    void serveRequest() override
    {
        if (m_session.takeRequest().isEmpty())
            return;
        requestStarted();
        m_worker->ask(answerOn<int>(this, [this](int value) {
            answeredOnOwnThread = QThread::currentThread() == thread();
            m_session.answered(value);
            requestAnswered();
        }));
    }

    Worker *m_worker;
};

class Server : public QTcpServer
{
public:
    SessionConnectionBase::Timeouts timeouts;
    Worker *worker = nullptr;
    QPointer<LineConnection> connection;

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket;
        QVERIFY(socket->setSocketDescriptor(descriptor));
        connection = new LineConnection(socket, timeouts, worker, this);
        connection->start();
    }
};

} // namespace

class TestSessionConnection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();

    void literalIsReadRaw();
    void tooLargeLiteralIsRefusedBeforeReading();
    void nonSynchronizingLiteralTooLargeIsSkipped();
    void literalBytesAreProgress();
    void pushedOutputKeepsItsPlace();
    void pushedOutputWaitsForTheClient();
    void backendAnswersOnTheConnectionsThread();
    void replyToAGoneReceiverIsDropped();
    void replyQueuedBeforeTheReceiverGoesIsDropped();

private:
    void connectClient(int idleMs = 10000);
    // Reads until `expected` (the whole output so far) has come.
    bool readExactly(const QByteArray &expected);

    QThread m_workerThread;
    Worker *m_worker = nullptr;
    std::unique_ptr<Server> m_server;
    std::unique_ptr<QTcpSocket> m_client;
    QByteArray m_received;
};

void TestSessionConnection::init()
{
    m_worker = new Worker;
    m_worker->moveToThread(&m_workerThread);
    m_workerThread.start();
    m_server = std::make_unique<Server>();
    m_server->worker = m_worker;
    QVERIFY(m_server->listen(QHostAddress::LocalHost, 0));
    m_received.clear();
}

void TestSessionConnection::cleanup()
{
    m_client.reset();
    m_server.reset();
    m_workerThread.quit();
    m_workerThread.wait();
    delete m_worker;
}

void TestSessionConnection::connectClient(int idleMs)
{
    m_server->timeouts.idleMs = idleMs;
    m_client = std::make_unique<QTcpSocket>();
    m_client->connectToHost(QHostAddress::LocalHost, m_server->serverPort());
    QVERIFY(readExactly("* OK ready\r\n"));
    QVERIFY(m_server->connection);
}

bool TestSessionConnection::readExactly(const QByteArray &expected)
{
    const bool arrived = QTest::qWaitFor(
        [&] {
            m_received += m_client->readAll();
            return m_received.size() >= expected.size();
        },
        5000);
    if (!arrived || m_received != expected) {
        qWarning() << "expected" << expected.right(200) << "got" << m_received.right(200);
        return false;
    }
    m_received.clear();
    return true;
}

void TestSessionConnection::literalIsReadRaw()
{
    connectClient();
    m_client->write("a LIT {11}\r\n");
    QVERIFY(readExactly("+ Ready\r\n"));
    // CR and LF inside, and a line that would be a command.
    m_client->write("ab\r\nb QUIT\n");
    m_client->write("\r\nc NOOP\r\n");
    QVERIFY(readExactly("a OK 11 " + QByteArray("ab\r\nb QUIT\n").toHex() + "\r\nc OK NOOP\r\n"));
}

void TestSessionConnection::tooLargeLiteralIsRefusedBeforeReading()
{
    connectClient();
    m_client->write("a LIT {1025}\r\nb NOOP\r\n");
    QVERIFY(readExactly("a NO literal too large\r\nb OK NOOP\r\n"));
}

void TestSessionConnection::nonSynchronizingLiteralTooLargeIsSkipped()
{
    connectClient();
    // Sent without waiting (RFC 7888): skipped as it comes, lines after it read.
    m_client->write("a LIT {100000+}\r\n" + QByteArray(100000, '\n') + "b NOOP\r\n");
    QVERIFY(readExactly("a NO literal too large\r\nb OK NOOP\r\n"));
}

void TestSessionConnection::literalBytesAreProgress()
{
    // A literal sent a byte every 100 ms for well over the idle timeout:
    // the connection stays, as it would not for a command line dribbled so.
    connectClient(400);
    m_client->write("a LIT {12}\r\n");
    QVERIFY(readExactly("+ Ready\r\n"));
    for (int i = 0; i < 12; ++i) {
        m_client->write("x");
        QTest::qWait(100);
    }
    m_client->write("\r\n");
    QVERIFY(readExactly("a OK 12 " + QByteArray(12, 'x').toHex() + "\r\n"));
    m_client->write("b N");
    QVERIFY(readExactly("* BYE idle\r\n"));
}

void TestSessionConnection::pushedOutputKeepsItsPlace()
{
    connectClient();
    m_client->write("a NOOP\r\n");
    QVERIFY(readExactly("a OK NOOP\r\n"));
    QVERIFY(m_server->connection->pushOutput("* 1 EXISTS\r\n"));
    QVERIFY(m_server->connection->pushOutput("* 2 EXISTS\r\n"));
    m_client->write("b NOOP\r\n");
    QVERIFY(readExactly("* 1 EXISTS\r\n* 2 EXISTS\r\nb OK NOOP\r\n"));
    // While a request is out: before its answer, which comes after it.
    m_client->write("c ASK\r\n");
    QVERIFY(m_server->connection->pushOutput("* 3 EXISTS\r\n"));
    QVERIFY(readExactly("* 3 EXISTS\r\nc OK answered 42\r\n"));
}

void TestSessionConnection::pushedOutputWaitsForTheClient()
{
    connectClient();
    m_client->setReadBufferSize(4096); // reads no more than that until asked
    // Numbered chunks until the connection says no: the socket's backlog
    // fills (the kernel's buffers first), then the connection holds, up to
    // its limit.
    QByteArray accepted;
    bool refused = false;
    for (int i = 0; i < 100000 && !refused; ++i) {
        const QByteArray chunk = "* " + QByteArray::number(i) + ' ' + QByteArray(16 * 1024, 'u') + "\r\n";
        if (m_server->connection->pushOutput(chunk))
            accepted += chunk;
        else
            refused = true;
        if (i % 8 == 0)
            QTest::qWait(2); // lets the socket write what it can
        QVERIFY(m_server->connection->outputBacklog() <= 2 * SessionConnectionBase::MaxHeldOutput + chunk.size());
    }
    QVERIFY(refused);
    // A reply said now comes after everything pushed before it.
    m_client->write("z NOOP\r\n");
    m_client->setReadBufferSize(0);
    QVERIFY(readExactly(accepted + "z OK NOOP\r\n"));
    QCOMPARE(m_server->connection->outputBacklog(), 0);
    QVERIFY(m_server->connection->pushOutput("* again\r\n"));
    QVERIFY(readExactly("* again\r\n"));
}

void TestSessionConnection::backendAnswersOnTheConnectionsThread()
{
    connectClient();
    m_client->write("a ASK\r\nb NOOP\r\n");
    QVERIFY(readExactly("a OK answered 42\r\nb OK NOOP\r\n"));
    QVERIFY(m_server->connection->answeredOnOwnThread);
}

void TestSessionConnection::replyToAGoneReceiverIsDropped()
{
    auto *receiver = new QObject;
    int calls = 0;
    const BackendReply<int> reply = answerOn<int>(receiver, [&calls](int) { ++calls; });
    const BackendReply<int> sameReceiver = answerOn<int>(receiver, [&calls](int) { ++calls; });
    QCOMPARE(receiver->children().size(), 1); // one channel per receiver
    QVERIFY(!reply.isGone());
    QCOMPARE(reply.receiverHere(), receiver);
    delete receiver;
    QVERIFY(reply.isGone());
    QCOMPARE(reply.receiverHere(), nullptr);
    QMetaObject::invokeMethod(m_worker, [reply, sameReceiver] {
        reply(1);
        sameReceiver(2);
    }, Qt::BlockingQueuedConnection);
    QTest::qWait(20);
    QCOMPARE(calls, 0);
    BackendReply<int>()(3); // an empty reply is a no-op
}

void TestSessionConnection::replyQueuedBeforeTheReceiverGoesIsDropped()
{
    auto *receiver = new QObject;
    int calls = 0;
    const BackendReply<int> reply = answerOn<int>(receiver, [&calls](int value) { calls += value; });
    QMetaObject::invokeMethod(m_worker, [reply] { reply(1); }, Qt::BlockingQueuedConnection);
    QCOMPARE(calls, 0); // always later, on the receiver's thread
    QTRY_COMPARE(calls, 1);
    QMetaObject::invokeMethod(m_worker, [reply] { reply(10); }, Qt::BlockingQueuedConnection);
    delete receiver; // before the event loop ran the answer
    QTest::qWait(20);
    QCOMPARE(calls, 1);
}

QTEST_GUILESS_MAIN(TestSessionConnection)
#include "tst_sessionconnection.moc"
