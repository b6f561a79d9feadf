#include "inboxmodel.h"

#include "apiclient.h"
#include "clientlogging.h"
#include "messagejson.h"
#include "recipients.h"
#include "session.h"

#include <QJsonArray>
#include <QLocale>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {

std::optional<qint64> idFromJson(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const qint64 id = value.toInteger(-1);
    return id > 0 ? std::optional<qint64>(id) : std::nullopt;
}

} // namespace

std::optional<MessageListEntry> MessageListEntry::fromJson(const QJsonObject &object)
{
    const std::optional<qint64> id = idFromJson(object.value(u"id"));
    if (!id)
        return std::nullopt;
    MessageListEntry entry;
    entry.id = *id;
    entry.from = MessageJson::addressFrom(object.value(u"from").toObject());
    entry.to = MessageJson::addressesFrom(object.value(u"to").toArray());
    entry.toCount = std::max<qint64>(object.value(u"toCount").toInteger(), entry.to.size());
    entry.cc = MessageJson::addressesFrom(object.value(u"cc").toArray());
    entry.subject = object.value(u"subject").toString();
    entry.date = QDateTime::fromString(object.value(u"date").toString(), Qt::ISODate);
    entry.size = object.value(u"size").toInteger();
    entry.seen = object.value(u"seen").toBool();
    entry.preview = object.value(u"preview").toString();
    return entry;
}

QList<MessageListEntry> InboxModel::pageFromJson(const QJsonValue &answer)
{
    QList<MessageListEntry> page;
    for (const QJsonValue &item : answer[u"messages"].toArray()) {
        if (const auto entry = MessageListEntry::fromJson(item.toObject()))
            page.append(*entry);
    }
    return page;
}

InboxModel::InboxModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

InboxModel::~InboxModel() = default;

int InboxModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant InboxModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const MessageListEntry &entry = m_entries.at(index.row());
    switch (role) {
    case IdRole:
        return entry.id;
    case FromNameRole:
        return entry.from.name;
    case FromAddressRole:
        return entry.from.address;
    case Qt::DisplayRole:
    case SenderRole:
        return entry.from.name.isEmpty() ? entry.from.address : entry.from.name;
    case ToRole:
        return Recipients::formatListed(entry.to, entry.toCount);
    case SubjectRole:
        return entry.subject;
    case DateRole:
        return entry.date;
    case PreviewRole:
        return entry.preview;
    case SeenRole:
        return entry.seen;
    case SizeRole:
        return entry.size;
    case DateTextRole:
        return shortDate(entry.date);
    case MessageIdRole:
        return entry.id;
    default:
        return {};
    }
}

QHash<int, QByteArray> InboxModel::roleNames() const
{
    static const QHash<int, QByteArray> names{
        {IdRole, "id"},           {FromNameRole, "fromName"}, {FromAddressRole, "fromAddress"},
        {SenderRole, "sender"},   {ToRole, "to"},             {SubjectRole, "subject"},
        {DateRole, "date"},       {PreviewRole, "preview"},   {SeenRole, "seen"},
        {SizeRole, "size"},       {DateTextRole, "dateText"}, {MessageIdRole, "messageId"},
    };
    return names;
}

QString InboxModel::shortDate(const QDateTime &date, const QDateTime &now)
{
    if (!date.isValid())
        return {};
    const QDateTime local = date.toLocalTime();
    const QDate today = now.toLocalTime().date();
    if (local.date() == today)
        return local.toString(u"HH:mm"_s);
    if (local.date().year() == today.year())
        return QLocale().toString(local.date(), u"d MMM"_s);
    return local.toString(u"yyyy-MM-dd"_s);
}

int InboxModel::rowOf(qint64 id) const
{
    for (qsizetype row = 0; row < m_entries.size(); ++row) {
        if (m_entries.at(row).id == id)
            return int(row);
    }
    return -1;
}

qint64 InboxModel::idAt(int row) const
{
    return row >= 0 && row < m_entries.size() ? m_entries.at(row).id : 0;
}

void InboxModel::setSession(Session *session)
{
    if (m_session == session)
        return;
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (m_session) {
        connect(m_session, &Session::loggedIn, this, &InboxModel::reload);
        connect(m_session, &Session::loggedOut, this, &InboxModel::reload);
        // Its requests die with it, unanswered: start over empty.
        connect(m_session, &QObject::destroyed, this, &InboxModel::reload);
    }
    Q_EMIT sessionChanged();
    reload();
}

void InboxModel::setFolder(const QString &folder)
{
    if (m_folder == folder)
        return;
    if (folder != u"inbox" && folder != u"sent") {
        qCWarning(lcClient, "InboxModel: the folder is \"inbox\" or \"sent\", not \"%s\"", qUtf8Printable(folder));
        return;
    }
    m_folder = folder;
    Q_EMIT folderChanged();
    reload();
}

void InboxModel::setLimit(int limit)
{
    limit = std::clamp(limit, 1, MaxLimit);
    if (m_limit == limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    reload();
}

bool InboxModel::canRequest() const
{
    return m_session && m_session->isLoggedIn();
}

void InboxModel::beginRequest()
{
    if (m_pending++ == 0)
        Q_EMIT loadingChanged();
}

void InboxModel::endRequest()
{
    if (--m_pending == 0)
        Q_EMIT loadingChanged();
}

void InboxModel::clear()
{
    // nextBefore first: whoever reacts to the reset by asking for more must
    // not page on from the old rows.
    setNextBefore(std::nullopt);
    if (!m_entries.isEmpty()) {
        beginResetModel();
        m_entries.clear();
        endResetModel();
        Q_EMIT countChanged();
    }
    setCounts(0, 0);
}

void InboxModel::reload()
{
    ++m_generation;
    m_localChanges.clear();
    const bool wasLoading = isLoading();
    m_pending = 0;
    m_refreshing = m_refreshAgain = m_fetchingMore = false;
    if (wasLoading)
        Q_EMIT loadingChanged();
    clear();
    setErrorString({});
    refresh();
}

void InboxModel::setErrorString(const QString &message)
{
    if (m_errorString == message)
        return;
    m_errorString = message;
    Q_EMIT errorStringChanged();
}

void InboxModel::fail(const ClientError &error)
{
    setErrorString(error.message);
    if (m_session)
        m_session->reportError(error);
    Q_EMIT failed(error.message);
}

void InboxModel::setNextBefore(std::optional<qint64> nextBefore)
{
    if (m_nextBefore == nextBefore)
        return;
    const bool had = m_nextBefore.has_value();
    m_nextBefore = nextBefore;
    if (had != m_nextBefore.has_value())
        Q_EMIT hasMoreChanged();
}

void InboxModel::setCounts(int unseen, int total)
{
    unseen = std::max(unseen, 0);
    total = std::max(total, 0);
    if (unseen == m_unseen && total == m_total)
        return;
    m_unseen = unseen;
    m_total = total;
    Q_EMIT countsChanged();
}

void InboxModel::refresh()
{
    if (!canRequest())
        return;
    if (m_refreshing) {
        m_refreshAgain = true; // one more when this one is in
        return;
    }
    m_refreshing = true;
    beginRequest();
    requestRefreshPage({}, std::nullopt, m_generation, m_changeSequence);
    refreshCounts();
}

void InboxModel::requestRefreshPage(QList<MessageListEntry> newer, std::optional<qint64> before, quint64 generation,
                                    quint64 changesBefore)
{
    ApiCall *list = m_session->api()->listMessages(m_folder, m_limit, before);
    connect(list, &ApiCall::succeeded, this,
            [this, newer = std::move(newer), generation, changesBefore](const QJsonValue &answer) mutable {
        if (generation != m_generation)
            return;
        newer += pageFromJson(answer);
        const std::optional<qint64> nextBefore = idFromJson(answer[u"nextBefore"]);
        const qint64 top = m_entries.isEmpty() ? 0 : m_entries.first().id;
        const bool reachesTop = m_entries.isEmpty() || newer.isEmpty() || newer.last().id <= top;
        if (!reachesTop && nextBefore && newer.size() < MaxCatchUp && canRequest()) {
            requestRefreshPage(std::move(newer), nextBefore, generation, changesBefore);
            return;
        }
        const QList<MessageListEntry> page = withLocalChanges(std::move(newer), changesBefore);
        setErrorString({});
        merge(page, nextBefore);
        // This listing was asked for after these changes: it shows them itself.
        m_localChanges.removeIf([changesBefore](const LocalChange &change) { return change.sequence <= changesBefore; });
        m_refreshing = false;
        endRequest();
        if (std::exchange(m_refreshAgain, false))
            refresh();
    });
    connect(list, &ApiCall::failed, this, [this, generation](const ClientError &error) {
        if (generation != m_generation)
            return;
        m_refreshing = m_refreshAgain = false;
        endRequest();
        fail(error);
    });
}

void InboxModel::refreshCounts()
{
    if (!canRequest())
        return;
    const quint64 generation = m_generation;
    const quint64 changesBefore = m_changeSequence;
    beginRequest();
    ApiCall *account = m_session->api()->account();
    connect(account, &ApiCall::succeeded, this, [this, generation, changesBefore](const QJsonValue &answer) {
        if (generation != m_generation)
            return;
        // Counted before a change of ours that answered since: the local
        // arithmetic is newer (another count follows that change).
        if (changesBefore == m_changeSequence) {
            const QJsonObject counts = answer[u"folders"][m_folder].toObject();
            setCounts(counts.value(u"unseen").toInt(), counts.value(u"total").toInt());
        }
        endRequest();
    });
    connect(account, &ApiCall::failed, this, [this, generation] {
        if (generation == m_generation)
            endRequest(); // the listing, or the change, reports the failure
    });
}

QList<MessageListEntry> InboxModel::withLocalChanges(QList<MessageListEntry> page, quint64 changesBefore) const
{
    // A listing and a PATCH or DELETE travel on different connections, so a
    // listing computed before a change may arrive after it: replay the change.
    for (const LocalChange &change : m_localChanges) {
        if (change.sequence <= changesBefore)
            continue;
        for (qsizetype i = 0; i < page.size(); ++i) {
            if (page.at(i).id != change.id)
                continue;
            if (change.removed)
                page.removeAt(i);
            else
                page[i].seen = change.seen;
            break;
        }
    }
    return page;
}

void InboxModel::merge(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore)
{
    const bool complete = !nextBefore.has_value(); // the page is the whole folder
    const qint64 top = m_entries.isEmpty() ? 0 : m_entries.first().id;
    const qint64 oldestInPage = page.isEmpty() ? 0 : page.last().id;
    if (m_entries.isEmpty()) {
        setNextBefore(nextBefore);
        if (!page.isEmpty()) {
            beginInsertRows({}, 0, int(page.size() - 1));
            m_entries = page;
            endInsertRows();
            Q_EMIT countChanged();
        }
        return;
    }
    // More new messages than a page holds: the page does not reach what is
    // shown, so what lies between is unknown. Start over from this page.
    if (!complete && oldestInPage > top) {
        ++m_pagingGeneration; // a fetchMore on its way pages below the old rows
        beginResetModel();
        m_entries = page;
        setNextBefore(nextBefore);
        endResetModel();
        Q_EMIT countChanged();
        return;
    }

    QHash<qint64, qsizetype> inPage;
    for (qsizetype i = 0; i < page.size(); ++i)
        inPage.insert(page.at(i).id, i);

    // Deleted elsewhere: shown, within the range the page covers, not in it.
    for (qsizetype row = m_entries.size() - 1; row >= 0; --row) {
        const qint64 id = m_entries.at(row).id;
        if ((complete || id >= oldestInPage) && !inPage.contains(id)) {
            beginRemoveRows({}, int(row), int(row));
            m_entries.removeAt(row);
            endRemoveRows();
        }
    }
    // Changed (the seen flag, from another client).
    for (qsizetype row = 0; row < m_entries.size(); ++row) {
        const auto found = inPage.constFind(m_entries.at(row).id);
        if (found == inPage.constEnd())
            continue;
        const MessageListEntry &fresh = page.at(*found);
        if (fresh == m_entries.at(row))
            continue;
        MessageListEntry seenAside = fresh;
        seenAside.seen = m_entries.at(row).seen;
        const bool onlySeen = seenAside == m_entries.at(row);
        m_entries[row] = fresh;
        const QModelIndex changed = index(int(row));
        Q_EMIT dataChanged(changed, changed, onlySeen ? QList<int>{SeenRole} : QList<int>{});
    }
    // New, on top: the page is newest first, so its head is what arrived.
    qsizetype fresh = 0;
    while (fresh < page.size() && page.at(fresh).id > top)
        ++fresh;
    // Otherwise what lies below the page is as fetched before, and so is nextBefore.
    if (complete) {
        ++m_pagingGeneration; // nothing older exists: no fetchMore answer applies
        setNextBefore(std::nullopt);
    }
    if (fresh > 0) {
        beginInsertRows({}, 0, int(fresh - 1));
        m_entries = page.first(fresh) + m_entries;
        endInsertRows();
    }
    Q_EMIT countChanged();
}

// Views (ListView, the model tester) call fetchMore() by themselves whenever
// the last row is in sight, which would load past the latest `limit` the
// user chose. More comes when the user asks for it (scrolling to the end
// calls the fetchMore() slot), so views are told there is nothing to fetch;
// hasMore says whether there is.
bool InboxModel::canFetchMore(const QModelIndex &) const
{
    return false;
}

void InboxModel::fetchMore(const QModelIndex &)
{
}

void InboxModel::fetchMore()
{
    if (!m_nextBefore || m_fetchingMore || !canRequest())
        return;
    m_fetchingMore = true;
    const quint64 generation = m_generation;
    const quint64 paging = m_pagingGeneration;
    const quint64 changesBefore = m_changeSequence;
    beginRequest();
    ApiCall *call = m_session->api()->listMessages(m_folder, m_limit, *m_nextBefore);
    connect(call, &ApiCall::succeeded, this, [this, generation, paging, changesBefore](const QJsonValue &answer) {
        if (generation != m_generation)
            return;
        m_fetchingMore = false;
        if (paging == m_pagingGeneration)
            append(withLocalChanges(pageFromJson(answer), changesBefore), idFromJson(answer[u"nextBefore"]));
        endRequest();
    });
    connect(call, &ApiCall::failed, this, [this, generation, paging](const ClientError &error) {
        if (generation != m_generation)
            return;
        m_fetchingMore = false;
        endRequest();
        if (paging == m_pagingGeneration)
            fail(error);
    });
}

void InboxModel::append(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore)
{
    // Only what is older than the last row: a refresh may have moved things meanwhile.
    const qint64 last = m_entries.isEmpty() ? std::numeric_limits<qint64>::max() : m_entries.last().id;
    QList<MessageListEntry> older;
    for (const MessageListEntry &entry : page) {
        if (entry.id < last)
            older.append(entry);
    }
    // Before the rows go in: a view may call fetchMore() from rowsInserted,
    // and must then ask for the page after these, not these again.
    setNextBefore(nextBefore);
    if (!older.isEmpty()) {
        beginInsertRows({}, int(m_entries.size()), int(m_entries.size() + older.size() - 1));
        m_entries += older;
        endInsertRows();
        Q_EMIT countChanged();
    }
}

void InboxModel::setMessageSeen(qint64 id, bool seen)
{
    // Also for a message not listed (any more): the one open may have
    // left the list (a smaller "latest N", a reload) and is still the one
    // the user acts on.
    if (id <= 0 || !canRequest())
        return;
    if (const int row = rowOf(id); row >= 0 && m_entries.at(row).seen == seen)
        return;
    const quint64 generation = m_generation;
    ApiCall *call = m_session->api()->setSeen(id, seen);
    connect(call, &ApiCall::succeeded, this, [this, generation, id, seen] {
        if (generation != m_generation)
            return;
        m_localChanges.append({id, false, seen, ++m_changeSequence});
        const int now = rowOf(id);
        if (now >= 0 && m_entries.at(now).seen != seen) {
            m_entries[now].seen = seen;
            Q_EMIT dataChanged(index(now), index(now), {SeenRole});
            setCounts(m_unseen + (seen ? -1 : 1), m_total); // at once; the server's count follows
        }
        refreshCounts();
    });
    connect(call, &ApiCall::failed, this, [this, generation](const ClientError &error) {
        if (generation == m_generation)
            fail(error);
    });
}

void InboxModel::removeMessage(qint64 id)
{
    if (id <= 0 || !canRequest())
        return; // listed or not, as setMessageSeen()
    const quint64 generation = m_generation;
    ApiCall *call = m_session->api()->deleteMessage(id);
    const auto removeRow = [this, id](bool adjustCounts) {
        m_localChanges.append({id, true, false, ++m_changeSequence});
        const int now = rowOf(id);
        if (now >= 0) {
            const bool wasSeen = m_entries.at(now).seen;
            beginRemoveRows({}, now, now);
            m_entries.removeAt(now);
            endRemoveRows();
            Q_EMIT countChanged();
            if (adjustCounts)
                setCounts(m_unseen - (wasSeen ? 0 : 1), m_total - 1); // at once; the server's count follows
        }
        refreshCounts();
        Q_EMIT messageRemoved(id);
    };
    connect(call, &ApiCall::succeeded, this, [generation, removeRow, this] {
        if (generation == m_generation)
            removeRow(true);
    });
    connect(call, &ApiCall::failed, this, [this, generation, removeRow](const ClientError &error) {
        if (generation != m_generation)
            return;
        if (error.kind == ClientError::Kind::NotFound) {
            removeRow(false); // already gone, and already not counted: what the user wanted
            return;
        }
        fail(error);
    });
}
