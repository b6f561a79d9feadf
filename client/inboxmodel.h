#pragma once

#include "clienterror.h"
#include "messagesummary.h"

#include <QAbstractListModel>
#include <QDateTime>
#include <QJsonObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

#include <optional>

#include "session.h"

// One row of a mailbox listing, as GET /api/v1/mailboxes/{folder}/messages gives it.
struct MessageListEntry
{
    qint64 id = 0;
    MailAddress from;
    QList<MailAddress> to; // the first 50 the server lists
    qint64 toCount = 0;    // every address of the field
    QList<MailAddress> cc;
    QString subject;
    QDateTime date;
    qint64 size = 0;
    bool seen = false;
    QString preview;

    [[nodiscard]] static std::optional<MessageListEntry> fromJson(const QJsonObject &object);
    friend bool operator==(const MessageListEntry &, const MessageListEntry &) = default;
};

// A folder of the logged-in account, newest first: the latest `limit`
// messages (the seed's "how many latest emails"), the next `limit` older
// ones on each fetchMore() (never by a view on its own: see canFetchMore()).
// refresh() fetches the newest page again and merges it by id: new messages
// are inserted at the top, changed flags updated, messages deleted elsewhere
// removed, so a view keeps its place. The protocol is ApiClient's; this is
// a view over what it returns.
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

    static constexpr int MaxLimit = 500; // SPEC: a page is 1..500
    // A refresh pages back until it reaches the newest row shown, so that
    // a burst of mail larger than a page does not push the rows shown (and
    // the message open) out of the list; past this many new messages it
    // starts over from the newest page instead.
    static constexpr int MaxCatchUp = 5000;

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
    [[nodiscard]] bool isLoading() const { return m_pending > 0; }
    [[nodiscard]] bool hasMore() const { return m_nextBefore.has_value(); }
    [[nodiscard]] QString errorString() const { return m_errorString; }
    [[nodiscard]] int unseenCount() const { return m_unseen; }
    [[nodiscard]] int totalCount() const { return m_total; }

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
    // The entries of a listing answer; ones without a valid id are skipped.
    [[nodiscard]] static QList<MessageListEntry> pageFromJson(const QJsonValue &answer);
    void reload();
    // One page of a refresh, `before` the pages already in `newer`: pages
    // follow each other until they reach what is shown.
    void requestRefreshPage(QList<MessageListEntry> newer, std::optional<qint64> before, quint64 generation,
                            quint64 changesBefore);
    void refreshCounts();
    void clear();
    void merge(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore);
    void append(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore);
    void setNextBefore(std::optional<qint64> nextBefore);
    void setCounts(int unseen, int total);
    void setErrorString(const QString &message);
    void fail(const ClientError &error);
    void beginRequest();
    void endRequest();
    [[nodiscard]] bool canRequest() const;
    // `page` with the seen flags set and the deletions done here since
    // change number `changesBefore`, which it may predate.
    [[nodiscard]] QList<MessageListEntry> withLocalChanges(QList<MessageListEntry> page, quint64 changesBefore) const;

    struct LocalChange
    {
        qint64 id = 0;
        bool removed = false;
        bool seen = false;
        quint64 sequence = 0;
    };

    QPointer<Session> m_session;
    QString m_folder = QStringLiteral("inbox");
    int m_limit = 50;
    QList<MessageListEntry> m_entries;
    std::optional<qint64> m_nextBefore;
    QString m_errorString;
    int m_unseen = 0;
    int m_total = 0;
    int m_pending = 0;        // requests in flight of this generation
    quint64 m_generation = 0; // bumped when folder, limit or session change: older answers are dropped
    quint64 m_pagingGeneration = 0; // bumped when the rows below the top are replaced or complete
    quint64 m_changeSequence = 0;   // numbers the seen changes and deletions that succeeded
    QList<LocalChange> m_localChanges; // those a listing in flight may not show yet
    bool m_refreshing = false;
    bool m_refreshAgain = false;
    bool m_fetchingMore = false;
};
