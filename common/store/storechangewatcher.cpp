#include "storechangewatcher.h"

#include "logging.h"

#include <QSqlDriver>

StoreChangeWatcher::StoreChangeWatcher(DatabaseUrl database, QObject *parent)
    : QObject(parent)
    , m_database(std::move(database))
{
}

StoreChangeWatcher::~StoreChangeWatcher() = default;

bool StoreChangeWatcher::start(QString *error)
{
    if (!m_store.open(m_database, Store::OpenMode::MustExist)) {
        *error = m_store.lastErrorText();
        return false;
    }
    if (m_store.engine() == Store::Engine::Sqlite) {
        m_lastVersion = m_store.sqliteDataVersion();
        connect(&m_timer, &QTimer::timeout, this, &StoreChangeWatcher::poll);
        m_timer.start(PollMs);
        return true;
    }
    if (!m_store.subscribeToChanges()) {
        *error = m_store.lastErrorText();
        return false;
    }
    connect(m_store.database().driver(), &QSqlDriver::notification, this, &StoreChangeWatcher::changed);
    connect(&m_timer, &QTimer::timeout, this, &StoreChangeWatcher::checkSubscription);
    m_timer.start(m_checkMs);
    return true;
}

void StoreChangeWatcher::poll()
{
    const std::optional<qint64> version = m_store.sqliteDataVersion();
    if (!version)
        return; // logged by the store; the next poll tries again
    if (version != m_lastVersion) {
        m_lastVersion = version;
        emit changed();
    }
}

// A lost PostgreSQL connection takes its LISTEN with it: the store
// reconnects on the next query, and the subscription is made again. What
// was committed meanwhile was never heard of, so listeners are told to look.
void StoreChangeWatcher::checkSubscription()
{
    if (!m_store.ping() || m_store.subscribedToChanges())
        return;
    if (!m_store.subscribeToChanges()) {
        qCWarning(lcStore).noquote() << "cannot listen for changes:" << m_store.lastErrorText();
        return;
    }
    connect(m_store.database().driver(), &QSqlDriver::notification, this, &StoreChangeWatcher::changed,
            Qt::UniqueConnection);
    emit changed();
}
