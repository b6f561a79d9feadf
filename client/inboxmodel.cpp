#include "inboxmodel.h"

#include "clientlogging.h"
#include "mailboxsync.h"
#include "recipients.h"

#include <QLocale>

#include <algorithm>

using namespace Qt::StringLiterals;

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

void InboxModel::reload()
{
    const bool wasLoading = isLoading();
    const bool hadMore = hasMore();
    const bool hadCounts = unseenCount() != 0 || totalCount() != 0;
    const bool hadError = !errorString().isEmpty();
    m_sync.reset();
    if (wasLoading)
        Q_EMIT loadingChanged();
    // hasMore first: whoever reacts to the reset by asking for more must
    // not page on from the old rows.
    if (hadMore)
        Q_EMIT hasMoreChanged();
    clear();
    if (hadCounts)
        Q_EMIT countsChanged();
    if (hadError)
        Q_EMIT errorStringChanged();
    if (!m_session)
        return;
    m_sync = m_session->mailbox()->openFolder(m_folder, m_limit);
    FolderSync *sync = m_sync.get();
    connect(sync, &FolderSync::inserted, this, &InboxModel::mirrorInserted);
    connect(sync, &FolderSync::removed, this, &InboxModel::mirrorRemoved);
    connect(sync, &FolderSync::updated, this, &InboxModel::mirrorUpdated);
    connect(sync, &FolderSync::replaced, this, &InboxModel::mirrorReplaced);
    connect(sync, &FolderSync::countChanged, this, &InboxModel::countChanged);
    connect(sync, &FolderSync::loadingChanged, this, &InboxModel::loadingChanged);
    connect(sync, &FolderSync::hasMoreChanged, this, &InboxModel::hasMoreChanged);
    connect(sync, &FolderSync::countsChanged, this, &InboxModel::countsChanged);
    connect(sync, &FolderSync::errorStringChanged, this, &InboxModel::errorStringChanged);
    connect(sync, &FolderSync::failed, this, [this](const ClientError &error) { Q_EMIT failed(error.message); });
    connect(sync, &FolderSync::messageRemoved, this, &InboxModel::messageRemoved);
    sync->refresh();
}

void InboxModel::clear()
{
    if (m_entries.isEmpty())
        return;
    beginResetModel();
    m_entries.clear();
    endResetModel();
    Q_EMIT countChanged();
}

void InboxModel::mirrorInserted(int first, const QList<MessageListEntry> &entries)
{
    if (entries.isEmpty())
        return;
    beginInsertRows({}, first, first + int(entries.size()) - 1);
    if (first == m_entries.size())
        m_entries += entries;
    else
        m_entries = m_entries.first(first) + entries + m_entries.sliced(first);
    endInsertRows();
}

void InboxModel::mirrorRemoved(int row)
{
    beginRemoveRows({}, row, row);
    m_entries.removeAt(row);
    endRemoveRows();
}

void InboxModel::mirrorUpdated(int row, const MessageListEntry &entry, bool onlySeen)
{
    m_entries[row] = entry;
    const QModelIndex changed = index(row);
    Q_EMIT dataChanged(changed, changed, onlySeen ? QList<int>{SeenRole} : QList<int>{});
}

void InboxModel::mirrorReplaced(const QList<MessageListEntry> &entries)
{
    beginResetModel();
    m_entries = entries;
    endResetModel();
}

void InboxModel::refresh()
{
    if (m_sync)
        m_sync->refresh();
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
    if (m_sync)
        m_sync->fetchMore();
}

void InboxModel::setMessageSeen(qint64 id, bool seen)
{
    if (m_sync)
        m_sync->setMessageSeen(id, seen);
}

void InboxModel::removeMessage(qint64 id)
{
    if (m_sync)
        m_sync->removeMessage(id);
}
