#pragma once

#include "changejournal.h"
#include "clienterror.h"
#include "messagelisting.h"

#include <QList>
#include <QObject>
#include <QPointer>

#include <optional>

class MailboxSync;

// One folder's listing kept in step with the server for one view, newest
// first: the latest `limit` messages, the next `limit` older ones on each
// fetchMore(). refresh() fetches the newest page again (paging back until it
// reaches the newest row held, up to MaxCatchUp) and merges it by id: new
// messages go on top, changed flags are updated, messages deleted elsewhere
// removed, so a view keeps its place. Every change to the rows is announced
// by one of inserted(), removed(), updated() or replaced() right after it is
// made, so a view can mirror the rows edit by edit. Made by
// MailboxSync::openFolder(); a folder, limit or account of its own each.
class FolderSync : public QObject
{
    Q_OBJECT

public:
    // A refresh pages back until it reaches the newest row held, so that a
    // burst of mail larger than a page does not push the rows shown (and
    // the message open) out of the list; past this many new messages it
    // starts over from the newest page instead.
    static constexpr int MaxCatchUp = 5000;

    ~FolderSync() override;

    [[nodiscard]] QString folder() const { return m_folder; }
    [[nodiscard]] int limit() const { return m_limit; }
    [[nodiscard]] const QList<MessageListEntry> &entries() const { return m_entries; }
    [[nodiscard]] std::optional<qint64> nextBefore() const { return m_nextBefore; }
    [[nodiscard]] bool hasMore() const { return m_nextBefore.has_value(); }
    [[nodiscard]] bool isLoading() const { return m_pending > 0; }
    [[nodiscard]] FolderTotals counts() const { return m_counts; }
    [[nodiscard]] QString errorString() const { return m_errorString; }
    // The row holding entry `id`, or -1.
    [[nodiscard]] int rowOf(qint64 id) const;

public Q_SLOTS:
    void refresh();
    // The next `limit` older messages, when hasMore.
    void fetchMore();
    // By entry id, listed or not: the message open may have left the list
    // (a smaller "latest N", a reload) and is still the one the user acts on.
    void setMessageSeen(qint64 id, bool seen);
    void removeMessage(qint64 id);

Q_SIGNALS:
    void inserted(int first, const QList<MessageListEntry> &entries);
    void removed(int row);
    // onlySeen: the seen flag is all that differs.
    void updated(int row, const MessageListEntry &entry, bool onlySeen);
    void replaced(const QList<MessageListEntry> &entries);
    void countChanged();
    void loadingChanged();
    void hasMoreChanged();
    void countsChanged();
    void errorStringChanged();
    // A refresh(), fetchMore(), setMessageSeen() or removeMessage() of this one failed.
    void failed(const ClientError &error);
    // removeMessage(id) is done: the entry is gone on the server.
    void messageRemoved(qint64 id);

private:
    friend class MailboxSync;
    FolderSync(MailboxSync *mailbox, const QString &folder, int limit);

    // A change the server confirmed, made through this one (`requested`) or
    // another view of the account: shown and counted at once, then the
    // server's counts asked for. adjustCounts: it changed what is counted.
    void applyChange(const MessageChange &change, bool adjustCounts, bool requested);

    // One page of a refresh, `before` the pages already in `newer`: pages
    // follow each other until they reach what is held.
    void requestRefreshPage(QList<MessageListEntry> newer, std::optional<qint64> before, quint64 snapshot);
    void refreshCounts();
    void merge(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore);
    void append(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore);
    void setNextBefore(std::optional<qint64> nextBefore);
    void setCounts(FolderTotals counts);
    void setErrorString(const QString &message);
    void fail(const ClientError &error);
    void beginRequest();
    void endRequest();
    [[nodiscard]] bool canRequest() const;
    [[nodiscard]] quint64 openSnapshot();
    void closeSnapshot(quint64 snapshot);

    QPointer<MailboxSync> m_mailbox;
    QString m_folder;
    int m_limit = 50;
    QList<MessageListEntry> m_entries;
    std::optional<qint64> m_nextBefore;
    FolderTotals m_counts;
    QString m_errorString;
    int m_pending = 0;              // requests in flight
    quint64 m_pagingGeneration = 0; // bumped when the rows below the top are replaced or complete
    quint64 m_changesApplied = 0;   // numbers the changes applied here, for counts asked before one
    QList<quint64> m_snapshots;     // of the journal, held by this one's listings in flight
    bool m_refreshing = false;
    bool m_refreshAgain = false;
    bool m_fetchingMore = false;
};
