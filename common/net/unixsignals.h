#pragma once

#include <QList>
#include <QObject>

class QSocketNotifier;

// Turns SIGTERM/SIGINT into a Qt signal on the event loop (the self-pipe
// trick: the handler only writes a byte), so servers stop cleanly.
class UnixSignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignalWatcher(const QList<int> &signalNumbers, QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

Q_SIGNALS:
    void received(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
    QList<int> m_signals;
};
