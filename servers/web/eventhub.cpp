#include "eventhub.h"

#include "webapi_p.h"
#include "weblogging.h"

#include "jsonwriter.h"

#include <QDateTime>
#include <QMutexLocker>
#include <QSet>
#include <QThread>

namespace {

// Reservations whose stream never began (the connection went first) are
// dropped after this long.
constexpr qint64 ReservationMs = 10000;
// Message events of one announcement: notifications of a burst (an import
// of thousands) stop here; the change event tells of the rest. This also
// bounds what one announcement adds to a stream's backlog.
constexpr int MaxMessageEvents = 50;

// WHATWG HTML §9.2: an event is its fields, one per line, then an empty line.
QByteArray sseEvent(const char *name, qint64 id, const QByteArray &data)
{
    return "event: " + QByteArray(name) + "\nid: " + QByteArray::number(id) + "\ndata: " + data + "\n\n";
}

} // namespace

EventHub::EventHub(const Config &config, int keepAliveMs)
    : m_config(config)
    , m_keepAliveMs(keepAliveMs)
{
}

EventHub::~EventHub()
{
    if (m_thread) {
        // The store, watcher and timer belong to the hub's thread: they go
        // there; then the hub comes back to be deleted here.
        QThread *home = QThread::currentThread();
        QMetaObject::invokeMethod(
            this,
            [this, home] {
                m_keepAliveTimer.reset();
                m_watcher.reset();
                m_store.reset();
                moveToThread(home);
            },
            Qt::BlockingQueuedConnection);
        m_thread->quit();
        m_thread->wait();
    }
}

bool EventHub::start(QString *error)
{
    m_thread = std::make_unique<QThread>();
    m_thread->setObjectName(QStringLiteral("events"));
    moveToThread(m_thread.get());
    m_thread->start();
    bool started = false;
    QMetaObject::invokeMethod(
        this,
        [this, &started, error] {
            m_store = std::make_unique<Store>();
            if (!m_store->open(m_config.database, Store::OpenMode::CreateIfMissing)) {
                *error = m_store->lastErrorText();
                return;
            }
            m_watcher = std::make_unique<StoreChangeWatcher>(m_config.database);
            connect(m_watcher.get(), &StoreChangeWatcher::changed, this, &EventHub::onChanged);
            if (!m_watcher->start(error))
                return;
            m_keepAliveTimer = std::make_unique<QTimer>();
            connect(m_keepAliveTimer.get(), &QTimer::timeout, this, &EventHub::keepAlive);
            m_keepAliveTimer->start(m_keepAliveMs);
            started = true;
        },
        Qt::BlockingQueuedConnection);
    return started;
}

quint64 EventHub::reserve(qint64 accountId, const QByteArray &tokenHash, std::optional<qint64> lastEventId)
{
    QMutexLocker lock(&m_mutex);
    int &streams = m_streamsPerAccount[accountId];
    if (streams >= MaxStreamsPerAccount)
        return 0;
    ++streams;
    const quint64 ticket = m_nextTicket++;
    Subscriber subscriber;
    subscriber.accountId = accountId;
    subscriber.tokenHash = tokenHash;
    subscriber.lastEventId = lastEventId;
    subscriber.reservedAtMs = QDateTime::currentMSecsSinceEpoch();
    m_subscribers.insert(ticket, std::move(subscriber));
    return ticket;
}

void EventHub::attach(quint64 ticket, Stream stream)
{
    {
        QMutexLocker lock(&m_mutex);
        const auto it = m_subscribers.find(ticket);
        if (it == m_subscribers.end())
            return;
        it->stream = std::move(stream);
    }
    QMetaObject::invokeMethod(this, [this, ticket] { begin(ticket); }, Qt::QueuedConnection);
}

void EventHub::release(quint64 ticket)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscribers.find(ticket);
    if (it == m_subscribers.end())
        return;
    if (--m_streamsPerAccount[it->accountId] <= 0)
        m_streamsPerAccount.remove(it->accountId);
    m_subscribers.erase(it);
}

void EventHub::tokenEnded(const QByteArray &tokenHash)
{
    QMetaObject::invokeMethod(
        this,
        [this, tokenHash] {
            QList<quint64> ended;
            {
                QMutexLocker lock(&m_mutex);
                for (auto it = m_subscribers.cbegin(); it != m_subscribers.cend(); ++it) {
                    if (it->tokenHash == tokenHash)
                        ended.append(it.key());
                }
            }
            for (const quint64 ticket : ended)
                endStream(ticket);
        },
        Qt::QueuedConnection);
}

void EventHub::begin(quint64 ticket)
{
    qint64 accountId = 0;
    std::optional<qint64> lastEventId;
    {
        QMutexLocker lock(&m_mutex);
        const auto it = m_subscribers.find(ticket);
        if (it == m_subscribers.end())
            return;
        it->attached = true;
        accountId = it->accountId;
        lastEventId = it->lastEventId;
    }
    if (!m_cursors.contains(accountId)) {
        const std::optional<qint64> modseq = m_store->accountModseq(accountId);
        if (!modseq)
            return endStream(ticket);
        m_cursors.insert(accountId, *modseq);
    }
    // A resumed stream: what it missed up to the cursor, as one change
    // event naming the folders changed since (read from the folders'
    // highest modseqs: one query however long the history).
    const qint64 cursor = m_cursors.value(accountId);
    if (!lastEventId || *lastEventId >= cursor || *lastEventId < 0)
        return;
    const std::optional<QList<MailFolder>> folders = m_store->folders(accountId);
    if (!folders)
        return;
    JsonWriter json;
    json.beginObject().key(QLatin1StringView("modseq")).value(cursor);
    json.key(QLatin1StringView("folders")).beginArray();
    for (const MailFolder &folder : *folders) {
        if (folder.highestModseq > *lastEventId)
            json.value(folder.id);
    }
    json.endArray().endObject();
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscribers.find(ticket);
    if (it != m_subscribers.end())
        send(*it, sseEvent("change", cursor, json.take()));
}

void EventHub::onChanged()
{
    QSet<qint64> accounts;
    {
        QMutexLocker lock(&m_mutex);
        for (const Subscriber &subscriber : std::as_const(m_subscribers)) {
            if (subscriber.attached)
                accounts.insert(subscriber.accountId);
        }
    }
    // Only the accounts whose modseq moved past what their streams were
    // told are read in full: one query per hundred accounts with streams,
    // not a few per account, after every commit of any account.
    const QList<qint64> ids(accounts.cbegin(), accounts.cend());
    const std::optional<QHash<qint64, qint64>> modseqs = m_store->accountModseqs(ids);
    if (!modseqs)
        qCWarning(lcWeb).noquote() << "reading the accounts' modseqs for events failed:" << m_store->lastErrorText();
    for (const qint64 accountId : ids) {
        const auto cursor = m_cursors.constFind(accountId);
        if (modseqs && cursor != m_cursors.cend() && modseqs->value(accountId, *cursor) <= *cursor)
            continue;
        announce(accountId);
    }
    // Cursors of accounts without streams are forgotten: a new stream
    // starts from the account's modseq then.
    for (auto it = m_cursors.begin(); it != m_cursors.end();) {
        if (accounts.contains(it.key()))
            ++it;
        else
            it = m_cursors.erase(it);
    }
}

void EventHub::announce(qint64 accountId)
{
    const auto cursor = m_cursors.constFind(accountId);
    if (cursor == m_cursors.cend())
        return;
    qint64 reached = *cursor;
    const QByteArray events = eventsSince(accountId, *cursor, &reached);
    m_cursors.insert(accountId, reached);
    if (events.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    for (Subscriber &subscriber : m_subscribers) {
        if (subscriber.attached && subscriber.accountId == accountId)
            send(subscriber, events);
    }
}

QByteArray EventHub::eventsSince(qint64 accountId, qint64 since, qint64 *modseq)
{
    *modseq = since;
    QSet<qint64> folders;
    QByteArray messages;
    int messageEvents = 0;
    const std::optional<MailFolder> inbox = m_store->roleFolder(accountId, FolderRole::Inbox);
    for (;;) {
        const std::optional<ChangeSet> set = m_store->changes(accountId, *modseq);
        if (!set) {
            qCWarning(lcWeb).noquote() << "reading changes for events failed:" << m_store->lastErrorText();
            break;
        }
        for (const MailFolder &folder : set->folders)
            folders.insert(folder.id);
        for (const qint64 id : set->foldersRemoved)
            folders.insert(id);
        for (const MailboxEntry &entry : set->created) {
            if (!inbox || entry.folderId != inbox->id || messageEvents == MaxMessageEvents)
                continue;
            ++messageEvents;
            JsonWriter json;
            json.beginObject();
            WebApiInternal::writeSummaryMembers(json, entry);
            json.endObject();
            messages += sseEvent("message", entry.modseq, json.take());
        }
        const bool changed = set->modseq > *modseq || set->reset;
        *modseq = set->modseq;
        if (!set->more || !changed)
            break;
    }
    if (*modseq == since)
        return {};
    QList<qint64> ids(folders.cbegin(), folders.cend());
    std::sort(ids.begin(), ids.end());
    JsonWriter json;
    json.beginObject().key(QLatin1StringView("modseq")).value(*modseq);
    json.key(QLatin1StringView("folders")).beginArray();
    for (const qint64 id : ids)
        json.value(id);
    json.endArray().endObject();
    return messages + sseEvent("change", *modseq, json.take());
}

void EventHub::send(Subscriber &subscriber, const QByteArray &bytes)
{
    QObject *connection = subscriber.stream.connection.data();
    if (!connection || !subscriber.stream.write)
        return;
    QMetaObject::invokeMethod(connection, [write = subscriber.stream.write, bytes] { write(bytes); },
                              Qt::QueuedConnection);
}

void EventHub::endStream(quint64 ticket)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscribers.find(ticket);
    if (it == m_subscribers.end())
        return;
    if (QObject *connection = it->stream.connection.data(); connection && it->stream.end)
        QMetaObject::invokeMethod(connection, it->stream.end, Qt::QueuedConnection);
}

void EventHub::keepAlive()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<quint64> stale;
    QList<std::pair<quint64, QByteArray>> tokens;
    {
        QMutexLocker lock(&m_mutex);
        for (auto it = m_subscribers.begin(); it != m_subscribers.end(); ++it) {
            if (!it->attached) {
                if (now.toMSecsSinceEpoch() - it->reservedAtMs > ReservationMs)
                    stale.append(it.key());
                continue;
            }
            tokens.append({it.key(), it->tokenHash});
            send(*it, QByteArrayLiteral(": keep-alive\n\n"));
        }
    }
    for (const quint64 ticket : stale)
        release(ticket);
    // A stream lives as long as its token (logout elsewhere, expiry).
    for (const auto &[ticket, tokenHash] : tokens) {
        if (!m_store->tokenAccount(tokenHash, now) && m_store->lastError() == Store::Error::NotFound)
            endStream(ticket);
    }
}
