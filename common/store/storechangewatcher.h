#pragma once

#include "config.h"
#include "store.h"

#include <QObject>
#include <QTimer>

// Tells, within a fraction of a second, that some other connection to the
// store (another process, another thread, another machine sharing one
// PostgreSQL) committed a change, without reading any folder: on SQLite by
// the file's change counter (PRAGMA data_version) read every PollMs on a
// connection of its own; on PostgreSQL by the notification every change
// sends (LISTEN), with the connection checked every CheckMs. What changed
// is for the listener to ask (docs/STORAGE.md, "Changes").
//
// Lives on the thread that starts it, which needs an event loop.
class StoreChangeWatcher : public QObject
{
    Q_OBJECT
public:
    static constexpr int PollMs = 25;
    static constexpr int CheckMs = 5000;

    explicit StoreChangeWatcher(DatabaseUrl database, QObject *parent = nullptr);
    ~StoreChangeWatcher() override;

    // Opens its connection and starts watching; false with the error.
    bool start(QString *error);
    // PostgreSQL: how often the connection is checked (CheckMs); tests
    // shorten it to see that listening survives the checks.
    void setCheckIntervalMs(int milliseconds) { m_checkMs = milliseconds; }

signals:
    // Something was committed since the last signal (or since start): a
    // burst of commits may come as one signal, never as none.
    void changed();

private:
    void poll();
    void checkSubscription();

    DatabaseUrl m_database;
    Store m_store;
    QTimer m_timer;
    std::optional<qint64> m_lastVersion;
    int m_checkMs = CheckMs;
};
