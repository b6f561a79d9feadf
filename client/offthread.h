#pragma once

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>

// Runs `work` on the global thread pool and hands what it returns to
// `deliver(receiver, result)` on the GUI thread, unless `receiver` is gone by
// then: for what would hold the window (parsing, marking up, writing files).
// Both are copied; neither may touch `receiver` from the worker.
template<typename Receiver, typename Work, typename Deliver>
void runOffThread(Receiver *receiver, Work work, Deliver deliver)
{
    const QPointer<Receiver> guard(receiver);
    QThreadPool::globalInstance()->start([guard, work, deliver] {
        auto result = work();
        QMetaObject::invokeMethod(qApp, [guard, result, deliver] {
            if (guard)
                deliver(guard.data(), result);
        }, Qt::QueuedConnection);
    });
}
