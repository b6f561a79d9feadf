// IdleDeadline: a connection's idle timeout that notes restarts instead of
// re-arming its timer; it must still expire exactly as a restarted QTimer
// would: interval after the last start, never while stopped, and at the
// new interval when it is shortened or lengthened while running.

#include "idledeadline.h"

#include <QElapsedTimer>
#include <QTest>

class TestIdleDeadline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void expiresAfterTheLastStart_data();
    void expiresAfterTheLastStart();
    void stoppedNeverExpires();
    void shortenedIntervalExpiresSooner();
    void lengthenedIntervalWaitsLonger();
};

void TestIdleDeadline::expiresAfterTheLastStart_data()
{
    QTest::addColumn<int>("intervalMs");
    QTest::addColumn<int>("restarts"); // every intervalMs / 2, before it could expire

    QTest::newRow("never restarted") << 200 << 0;
    QTest::newRow("restarted once") << 200 << 1;
    QTest::newRow("restarted five times") << 200 << 5;
}

void TestIdleDeadline::expiresAfterTheLastStart()
{
    QFETCH(int, intervalMs);
    QFETCH(int, restarts);

    QElapsedTimer clock;
    qint64 expiredAt = -1;
    IdleDeadline deadline(intervalMs, [&] { expiredAt = clock.elapsed(); });
    clock.start();
    deadline.start();
    qint64 lastStart = 0;
    for (int i = 0; i < restarts; ++i) {
        QTest::qWait(intervalMs / 2);
        QCOMPARE(expiredAt, -1);
        lastStart = clock.elapsed();
        deadline.start();
    }
    QTRY_VERIFY_WITH_TIMEOUT(expiredAt >= 0, 5 * intervalMs);
    QVERIFY(!deadline.isActive());
    // Coarse timers may fire up to 5 % early; the deadline itself never does.
    QVERIFY2(expiredAt >= lastStart + intervalMs, qPrintable(QString::number(expiredAt - lastStart)));
    QVERIFY2(expiredAt < lastStart + 2 * intervalMs, qPrintable(QString::number(expiredAt - lastStart)));
}

void TestIdleDeadline::stoppedNeverExpires()
{
    int expired = 0;
    IdleDeadline deadline(100, [&] { ++expired; });
    deadline.start();
    QTest::qWait(50);
    deadline.stop();
    QTest::qWait(250);
    QCOMPARE(expired, 0);
    // Started again after the timer underneath fired while stopped.
    deadline.start();
    QTRY_COMPARE_WITH_TIMEOUT(expired, 1, 1000);
    QTest::qWait(250);
    QCOMPARE(expired, 1); // once per start
}

void TestIdleDeadline::shortenedIntervalExpiresSooner()
{
    QElapsedTimer clock;
    qint64 expiredAt = -1;
    IdleDeadline deadline(60 * 1000, [&] { expiredAt = clock.elapsed(); });
    clock.start();
    deadline.start();
    deadline.setInterval(150);
    QCOMPARE(deadline.interval(), 150);
    QTRY_VERIFY_WITH_TIMEOUT(expiredAt >= 0, 2000);
    QVERIFY(expiredAt >= 150);
}

void TestIdleDeadline::lengthenedIntervalWaitsLonger()
{
    QElapsedTimer clock;
    qint64 expiredAt = -1;
    IdleDeadline deadline(100, [&] { expiredAt = clock.elapsed(); });
    clock.start();
    deadline.start();
    deadline.setInterval(400); // IMAP's IDLE: a longer timeout from now on
    QTest::qWait(250);
    QCOMPARE(expiredAt, -1);
    QTRY_VERIFY_WITH_TIMEOUT(expiredAt >= 0, 2000);
    QVERIFY(expiredAt >= 400);
}

QTEST_GUILESS_MAIN(TestIdleDeadline)
#include "tst_idledeadline.moc"
