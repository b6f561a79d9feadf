#pragma once

#include "store.h"

#include <QObject>
#include <QThread>

#include <memory>

// A QObject living in a thread of its own with its own store connection,
// for the servers' slow store work (durable commits, large reads) off the
// event loop. Subclasses add the work; store() is theirs, in that thread.
class StoreWorker : public QObject
{
    Q_OBJECT
public:
    explicit StoreWorker(DatabaseUrl database);

    // Moves this worker to `thread` (named `name`, which deletes it when it
    // ends), starts it, and waits, start-up only, until the worker's store
    // is open there. False with the store's error otherwise.
    bool startIn(QThread &thread, const QString &name, QString *error);

protected:
    [[nodiscard]] Store *store() const { return m_store.get(); }

private:
    DatabaseUrl m_database;
    std::unique_ptr<Store> m_store;
};
