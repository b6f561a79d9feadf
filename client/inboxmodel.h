#pragma once

#include "foldersync.h"
#include "messagelisting.h"
#include "session.h"

#include <QAbstractListModel>
#include <QDateTime>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

#include <memory>

// The messages of one folder of the logged-in account, newest first, as
// rows for a list: the latest `limit`, the next `limit` older ones on each
// fetchMore() (never by a view on its own: see canFetchMore()). A view over
// the rows a FolderSync keeps (fetching, paging, merging by id, the changes
// not yet in a listing: the session's MailboxSync); it mirrors them edit by
// edit, so a view keeps its place when mail arrives or goes.
class InboxModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Session *session READ session WRITE setSession NOTIFY sessionChanged)
    Q_PROPERTY(QString folder READ folder WRITE setFolder NOTIFY folderChanged)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)
    Q_PROPERTY(bool hasMore READ hasMore NOTIFY hasMoreChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(int unseenCount READ unseenCount NOTIFY countsChanged)
    Q_PROPERTY(int totalCount READ totalCount NOTIFY countsChanged)

public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        FromNameRole,
        FromAddressRole,
        SenderRole, // the name, or the address when there is none
        ToRole,     // "Alice <alice@project.com>, bob@project.com"
        SubjectRole,
        DateRole,
        PreviewRole,
        SeenRole,
        SizeRole,
        DateTextRole,  // "14:05" today, "3 Nov" this year, "2025-11-03" before, in local time
        MessageIdRole, // the id again, as "messageId": QML delegates cannot name a property "id"
    };
    Q_ENUM(Role)

    static constexpr int MaxLimit = 500; // a page is 1..500 messages (docs/PROTOCOL.md)

    explicit InboxModel(QObject *parent = nullptr);
    ~InboxModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    [[nodiscard]] Session *session() const { return m_session; }
    void setSession(Session *session);
    [[nodiscard]] QString folder() const { return m_folder; }
    void setFolder(const QString &folder);
    [[nodiscard]] int limit() const { return m_limit; }
    void setLimit(int limit);
    [[nodiscard]] int count() const { return int(m_entries.size()); }
    [[nodiscard]] bool isLoading() const { return m_sync && m_sync->isLoading(); }
    [[nodiscard]] bool hasMore() const { return m_sync && m_sync->hasMore(); }
    [[nodiscard]] QString errorString() const { return m_sync ? m_sync->errorString() : QString(); }
    [[nodiscard]] int unseenCount() const { return m_sync ? m_sync->counts().unseen : 0; }
    [[nodiscard]] int totalCount() const { return m_sync ? m_sync->counts().total : 0; }

    [[nodiscard]] const MessageListEntry &entry(int row) const { return m_entries.at(row); }
    // How a list shows a date: the time today, day and month this year, else the full date.
    [[nodiscard]] static QString shortDate(const QDateTime &date, const QDateTime &now = QDateTime::currentDateTime());
    // The row showing entry `id`, or -1.
    [[nodiscard]] Q_INVOKABLE int rowOf(qint64 id) const;
    [[nodiscard]] Q_INVOKABLE qint64 idAt(int row) const;

public Q_SLOTS:
    void refresh();
    // The next `limit` older messages, when hasMore.
    void fetchMore();
    void markSeen(int row) { setSeen(row, true); }
    void setSeen(int row, bool seen) { setMessageSeen(idAt(row), seen); }
    void remove(int row) { removeMessage(idAt(row)); }
    // By entry id: rows move while a request is on its way, ids do not.
    // Also for a message not listed (any more): the one open may have left
    // the list and is still the one the user acts on.
    void setMessageSeen(qint64 id, bool seen);
    void removeMessage(qint64 id);

Q_SIGNALS:
    void sessionChanged();
    void folderChanged();
    void limitChanged();
    void countChanged();
    void loadingChanged();
    void hasMoreChanged();
    void errorStringChanged();
    void countsChanged();
    // A call of refresh(), fetchMore(), setSeen() or remove() failed.
    void failed(const QString &message);
    // removeMessage(id) is done: the entry is gone on the server.
    void messageRemoved(qint64 id);

private:
    // A new FolderSync for the session, folder and limit now: what the old
    // one had in flight is dropped with it.
    void reload();
    void clear();
    // The FolderSync's edits, made here too.
    void mirrorInserted(int first, const QList<MessageListEntry> &entries);
    void mirrorRemoved(int row);
    void mirrorUpdated(int row, const MessageListEntry &entry, bool onlySeen);
    void mirrorReplaced(const QList<MessageListEntry> &entries);

    QPointer<Session> m_session;
    QString m_folder = QStringLiteral("inbox");
    int m_limit = 50;
    std::unique_ptr<FolderSync> m_sync;
    QList<MessageListEntry> m_entries; // as m_sync's, changed only between begin and end calls
};
