// Several processes on one database file, as mailroom-smtpd, mailroom-webd
// and mailroomctl share it: no "database is locked", no lost write.

#include "store.h"

#include <QProcess>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

class TestStoreProcesses : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void concurrentWriters_data();
    void concurrentWriters();
    void concurrentCreation();
};

void TestStoreProcesses::concurrentWriters_data()
{
    QTest::addColumn<int>("processes");
    QTest::addColumn<int>("deliveriesEach");
    QTest::newRow("two processes and this one") << 2 << 400;
    QTest::newRow("four processes and this one") << 4 << 150;
}

void TestStoreProcesses::concurrentWriters()
{
    QFETCH(int, processes);
    QFETCH(int, deliveriesEach);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("mailroom.db"));
    Store store;
    QVERIFY(store.open(path, Store::OpenMode::CreateIfMissing));
    const auto alice = store.createAccount(QStringLiteral("alice"), QStringLiteral("h"));
    const auto bob = store.createAccount(QStringLiteral("bob"), QStringLiteral("h"));
    QVERIFY(alice && bob);

    std::vector<std::unique_ptr<QProcess>> writers;
    const qint64 startAt = QDateTime::currentMSecsSinceEpoch() + 300;
    for (int i = 0; i < processes; ++i) {
        auto writer = std::make_unique<QProcess>();
        writer->start(QStringLiteral(STORE_WRITER),
                      {path, QStringLiteral("alice"), QStringLiteral("bob"), QString::number(deliveriesEach), QString::number(startAt)});
        QVERIFY2(writer->waitForStarted(), qPrintable(writer->errorString()));
        writers.push_back(std::move(writer));
    }

    // Meanwhile this process writes and reads too, with its own connection.
    int ownDeliveries = 0;
    const auto anyRunning = [&] {
        return std::any_of(writers.cbegin(), writers.cend(),
                           [](const auto &writer) { return writer->state() != QProcess::NotRunning; });
    };
    while (QDateTime::currentMSecsSinceEpoch() < startAt)
        QTest::qWait(5);
    while (anyRunning() || ownDeliveries < 20) {
        NewMessage message;
        message.raw = QByteArrayLiteral("Subject: from the test\r\n\r\nx\r\n");
        message.summary.subject = QStringLiteral("from the test");
        message.receivedAt = QDateTime::currentDateTimeUtc();
        message.senderId = bob->id;
        message.recipientIds = {alice->id};
        QVERIFY2(store.deliver(message), qPrintable(store.lastErrorText()));
        ++ownDeliveries;
        QVERIFY2(store.listFolder(bob->id, FolderRole::Inbox, 50), qPrintable(store.lastErrorText()));
        QVERIFY2(store.counts(alice->id), qPrintable(store.lastErrorText()));
        QCoreApplication::processEvents(); // lets QProcess notice finished children
    }

    for (const auto &writer : writers) {
        if (writer->state() != QProcess::NotRunning)
            QVERIFY(writer->waitForFinished(120000));
        const QByteArray errors = writer->readAllStandardError();
        QVERIFY2(errors.isEmpty(), errors.constData());
        QCOMPARE(writer->exitStatus(), QProcess::NormalExit);
        QCOMPARE(writer->exitCode(), 0);
    }
    const auto counts = store.counts(bob->id);
    QVERIFY(counts);
    QCOMPARE(counts->inbox.total, qint64(processes) * deliveriesEach);
    QCOMPARE(counts->sent.total, ownDeliveries);
    const auto stats = store.stats();
    QCOMPARE(stats->messages, qint64(processes) * deliveriesEach + ownDeliveries);
    QCOMPARE(stats->mailboxEntries, 2 * stats->messages);
    // The writers really ran at the same time: their commits interleave.
    QSqlQuery order(store.database());
    QVERIFY(order.exec(QStringLiteral("SELECT subject FROM messages WHERE subject LIKE 'message %' ORDER BY id")));
    int switches = 0;
    QString previousWriter;
    while (order.next()) {
        const QString writer = order.value(0).toString().section(u' ', -1); // "message N of pid P"
        if (!previousWriter.isEmpty() && writer != previousWriter)
            ++switches;
        previousWriter = writer;
    }
    QVERIFY2(switches > processes, qPrintable(QStringLiteral("only %1 switches between writers").arg(switches)));
    qInfo() << "commits switched between writers" << switches << "times";
    qInfo() << processes << "processes x" << deliveriesEach << "deliveries, and" << ownDeliveries
            << "from the test process, all committed";
}

// Servers and mailroomctl starting at once on a new data directory: each
// must open the new file (one creates and migrates it, the others wait).
void TestStoreProcesses::concurrentCreation()
{
    constexpr int Rounds = 12;
    constexpr int Processes = 4;
    for (int round = 0; round < Rounds; ++round) {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("mailroom.db"));
        const qint64 startAt = QDateTime::currentMSecsSinceEpoch() + 200;
        std::vector<std::unique_ptr<QProcess>> openers;
        for (int i = 0; i < Processes; ++i) {
            auto opener = std::make_unique<QProcess>();
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("mailroom.*.info=false"));
            opener->setProcessEnvironment(environment);
            opener->start(QStringLiteral(STORE_WRITER), {QStringLiteral("--create"), path, QStringLiteral("user%1").arg(i),
                                                         QString::number(startAt)});
            QVERIFY(opener->waitForStarted());
            openers.push_back(std::move(opener));
        }
        for (const auto &opener : openers) {
            QVERIFY(opener->waitForFinished(60000));
            const QByteArray errors = opener->readAllStandardError();
            QVERIFY2(opener->exitCode() == 0 && errors.isEmpty(),
                     qPrintable(QStringLiteral("round %1: %2").arg(round).arg(QString::fromUtf8(errors))));
        }
        Store store;
        QVERIFY(store.open(path, Store::OpenMode::MustExist));
        QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
        QCOMPARE(store.listAccounts()->size(), Processes);
    }
}

QTEST_GUILESS_MAIN(TestStoreProcesses)
#include "tst_store_processes.moc"
