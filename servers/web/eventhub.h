#pragma once

#include "config.h"
#include "store.h"
#include "storechangewatcher.h"

#include <QHash>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

class QThread;

// The server-sent event streams of one webd (docs/protocol/web.md §6): on a
// thread of its own, with a store connection and a StoreChangeWatcher of
// its own, it hears of every commit of any process, asks the store what
// changed for the accounts that have streams, and hands each stream its
// events as bytes, on the stream's connection's thread. Every 25 s it
// sends a comment to keep the streams open and ends those whose token
// expired or was ended.
//
// The reservation (reserve) is taken on the asking thread under a lock, so
// that the 17th stream of an account is refused at once; everything else
// runs on the hub's thread.
class EventHub : public QObject
{
    Q_OBJECT
public:
    static constexpr int MaxStreamsPerAccount = 16;
    static constexpr int KeepAliveMs = 25000;
    // A reader that lets this much pile up unread is dropped.
    static constexpr qint64 MaxBacklogBytes = 1024 * 1024;

    struct Stream
    {
        QPointer<QObject> connection;
        // Called on the connection's thread: the bytes to write, or the end.
        std::function<void(const QByteArray &)> write;
        std::function<void()> end;
    };

    explicit EventHub(const Config &config, int keepAliveMs = KeepAliveMs);
    ~EventHub() override;

    // Starts the hub's thread, store connection and watcher.
    bool start(QString *error);

    // A ticket for a new stream of the account, or 0 when it has
    // MaxStreamsPerAccount already. lastEventId: the modseq a resumed
    // stream saw last (its missed events come as one change event).
    quint64 reserve(qint64 accountId, const QByteArray &tokenHash, std::optional<qint64> lastEventId);
    // The stream of a ticket begins (its head is written); any thread.
    void attach(quint64 ticket, Stream stream);
    // The stream is gone (the connection closed), or its head never went.
    void release(quint64 ticket);
    // The token ended (logout): its streams end now, not at the next check.
    void tokenEnded(const QByteArray &tokenHash);

private:
    struct Subscriber
    {
        qint64 accountId = 0;
        QByteArray tokenHash;
        std::optional<qint64> lastEventId;
        Stream stream;
        bool attached = false;
        qint64 reservedAtMs = 0;
    };

    void onChanged();
    void keepAlive();
    void begin(quint64 ticket);
    // Changes of the account after its cursor, as event bytes, the cursor moved on.
    void announce(qint64 accountId);
    // The event bytes for the account's changes after `since` (a change
    // event with the folders touched, a message event per new inbox entry);
    // empty when nothing changed. *modseq: where they end.
    QByteArray eventsSince(qint64 accountId, qint64 since, qint64 *modseq);
    void send(Subscriber &subscriber, const QByteArray &bytes);
    void endStream(quint64 ticket);

    Config m_config;
    int m_keepAliveMs;
    std::unique_ptr<QThread> m_thread;
    // On the hub's thread:
    std::unique_ptr<Store> m_store;
    std::unique_ptr<StoreChangeWatcher> m_watcher;
    std::unique_ptr<QTimer> m_keepAliveTimer;
    QHash<qint64, qint64> m_cursors; // account -> modseq announced up to

    // Shared with the asking threads:
    QMutex m_mutex;
    quint64 m_nextTicket = 1;
    QHash<quint64, Subscriber> m_subscribers;
    QHash<qint64, int> m_streamsPerAccount;
};
