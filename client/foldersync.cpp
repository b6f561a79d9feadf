#include "foldersync.h"

#include "mailboxsync.h"

#include <QHash>

#include <algorithm>
#include <limits>

FolderSync::FolderSync(MailboxSync *mailbox, const QString &folder, int limit)
    : m_mailbox(mailbox)
    , m_folder(folder)
    , m_limit(limit)
{
}

FolderSync::~FolderSync()
{
    if (!m_mailbox)
        return;
    m_mailbox->m_folders.removeOne(this);
    // Its listings in flight are dropped with it: the journal need not keep changes for them.
    for (const quint64 snapshot : std::as_const(m_snapshots))
        m_mailbox->m_journal.closeSnapshot(snapshot);
}

int FolderSync::rowOf(qint64 id) const
{
    for (qsizetype row = 0; row < m_entries.size(); ++row) {
        if (m_entries.at(row).id == id)
            return int(row);
    }
    return -1;
}

bool FolderSync::canRequest() const
{
    return m_mailbox && m_mailbox->backend()->isOnline();
}

quint64 FolderSync::openSnapshot()
{
    const quint64 snapshot = m_mailbox->m_journal.openSnapshot();
    m_snapshots.append(snapshot);
    return snapshot;
}

void FolderSync::closeSnapshot(quint64 snapshot)
{
    m_snapshots.removeOne(snapshot);
    if (m_mailbox)
        m_mailbox->m_journal.closeSnapshot(snapshot);
}

void FolderSync::beginRequest()
{
    if (m_pending++ == 0)
        Q_EMIT loadingChanged();
}

void FolderSync::endRequest()
{
    if (--m_pending == 0)
        Q_EMIT loadingChanged();
}

void FolderSync::setErrorString(const QString &message)
{
    if (m_errorString == message)
        return;
    m_errorString = message;
    Q_EMIT errorStringChanged();
}

void FolderSync::fail(const ClientError &error)
{
    setErrorString(error.message);
    if (m_mailbox)
        m_mailbox->backend()->reportError(error);
    Q_EMIT failed(error);
}

void FolderSync::setNextBefore(std::optional<qint64> nextBefore)
{
    if (m_nextBefore == nextBefore)
        return;
    const bool had = m_nextBefore.has_value();
    m_nextBefore = nextBefore;
    if (had != m_nextBefore.has_value())
        Q_EMIT hasMoreChanged();
}

void FolderSync::setCounts(FolderTotals counts)
{
    counts.unseen = std::max(counts.unseen, 0);
    counts.total = std::max(counts.total, 0);
    if (counts == m_counts)
        return;
    m_counts = counts;
    Q_EMIT countsChanged();
}

void FolderSync::refresh()
{
    if (!canRequest())
        return;
    if (m_refreshing) {
        m_refreshAgain = true; // one more when this one is in
        return;
    }
    m_refreshing = true;
    beginRequest();
    requestRefreshPage({}, std::nullopt, openSnapshot());
    refreshCounts();
}

void FolderSync::requestRefreshPage(QList<MessageListEntry> newer, std::optional<qint64> before, quint64 snapshot)
{
    auto done = [this, newer = std::move(newer), snapshot](const MessageListing &listing) mutable {
        newer += listing.entries;
        const qint64 top = m_entries.isEmpty() ? 0 : m_entries.first().id;
        const bool reachesTop = m_entries.isEmpty() || newer.isEmpty() || newer.last().id <= top;
        if (!reachesTop && listing.nextBefore && newer.size() < MaxCatchUp && canRequest()) {
            requestRefreshPage(std::move(newer), listing.nextBefore, snapshot);
            return;
        }
        const QList<MessageListEntry> page = m_mailbox ? m_mailbox->m_journal.replay(std::move(newer), snapshot) : newer;
        setErrorString({});
        merge(page, listing.nextBefore);
        closeSnapshot(snapshot);
        m_refreshing = false;
        endRequest();
        if (std::exchange(m_refreshAgain, false))
            refresh();
    };
    m_mailbox->backend()->list(m_folder, m_limit, before, this, std::move(done), [this, snapshot](const ClientError &error) {
        closeSnapshot(snapshot);
        m_refreshing = m_refreshAgain = false;
        endRequest();
        fail(error);
    });
}

void FolderSync::refreshCounts()
{
    if (!canRequest())
        return;
    const quint64 changesBefore = m_changesApplied;
    beginRequest();
    m_mailbox->backend()->counts(this, [this, changesBefore](const QHash<QString, FolderTotals> &counts) {
        // Counted before a change that answered since: the local arithmetic
        // is newer (another count follows that change).
        if (changesBefore == m_changesApplied)
            setCounts(counts.value(m_folder));
        endRequest();
    }, [this](const ClientError &) {
        endRequest(); // the listing, or the change, reports the failure
    });
}

void FolderSync::merge(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore)
{
    const bool complete = !nextBefore.has_value(); // the page is the whole folder
    const qint64 top = m_entries.isEmpty() ? 0 : m_entries.first().id;
    const qint64 oldestInPage = page.isEmpty() ? 0 : page.last().id;
    if (m_entries.isEmpty()) {
        setNextBefore(nextBefore);
        if (!page.isEmpty()) {
            m_entries = page;
            Q_EMIT inserted(0, page);
            Q_EMIT countChanged();
        }
        return;
    }
    // More new messages than a page holds: the page does not reach what is
    // held, so what lies between is unknown. Start over from this page.
    if (!complete && oldestInPage > top) {
        ++m_pagingGeneration; // a fetchMore on its way pages below the old rows
        m_entries = page;
        setNextBefore(nextBefore);
        Q_EMIT replaced(page);
        Q_EMIT countChanged();
        return;
    }

    QHash<qint64, qsizetype> inPage;
    for (qsizetype i = 0; i < page.size(); ++i)
        inPage.insert(page.at(i).id, i);

    // Deleted elsewhere: held, within the range the page covers, not in it.
    for (qsizetype row = m_entries.size() - 1; row >= 0; --row) {
        const qint64 id = m_entries.at(row).id;
        if ((complete || id >= oldestInPage) && !inPage.contains(id)) {
            m_entries.removeAt(row);
            Q_EMIT removed(int(row));
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
        Q_EMIT updated(int(row), fresh, onlySeen);
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
        const QList<MessageListEntry> arrived = page.first(fresh);
        m_entries = arrived + m_entries;
        Q_EMIT inserted(0, arrived);
    }
    Q_EMIT countChanged();
}

void FolderSync::fetchMore()
{
    if (!m_nextBefore || m_fetchingMore || !canRequest())
        return;
    m_fetchingMore = true;
    const quint64 paging = m_pagingGeneration;
    const quint64 snapshot = openSnapshot();
    beginRequest();
    m_mailbox->backend()->list(m_folder, m_limit, *m_nextBefore, this,
                               [this, paging, snapshot](const MessageListing &listing) {
        m_fetchingMore = false;
        if (paging == m_pagingGeneration && m_mailbox)
            append(m_mailbox->m_journal.replay(listing.entries, snapshot), listing.nextBefore);
        closeSnapshot(snapshot);
        endRequest();
    }, [this, paging, snapshot](const ClientError &error) {
        m_fetchingMore = false;
        closeSnapshot(snapshot);
        endRequest();
        if (paging == m_pagingGeneration)
            fail(error);
    });
}

void FolderSync::append(const QList<MessageListEntry> &page, std::optional<qint64> nextBefore)
{
    // Only what is older than the last row: a refresh may have moved things meanwhile.
    const qint64 last = m_entries.isEmpty() ? std::numeric_limits<qint64>::max() : m_entries.last().id;
    QList<MessageListEntry> older;
    for (const MessageListEntry &entry : page) {
        if (entry.id < last)
            older.append(entry);
    }
    // Before the rows go in: a view may call fetchMore() when they do, and
    // must then ask for the page after these, not these again.
    setNextBefore(nextBefore);
    if (!older.isEmpty()) {
        const int first = int(m_entries.size());
        m_entries += older;
        Q_EMIT inserted(first, older);
        Q_EMIT countChanged();
    }
}

void FolderSync::setMessageSeen(qint64 id, bool seen)
{
    if (id <= 0 || !canRequest())
        return;
    if (const int row = rowOf(id); row >= 0 && m_entries.at(row).seen == seen)
        return;
    const MessageChange change = MessageChange::seenChange(id, seen);
    m_mailbox->backend()->setSeen(id, seen, this, [this, change] {
        if (m_mailbox)
            m_mailbox->confirmed(change, this, true);
        else
            applyChange(change, true, true);
    }, [this](const ClientError &error) { fail(error); });
}

void FolderSync::removeMessage(qint64 id)
{
    if (id <= 0 || !canRequest())
        return; // listed or not, as setMessageSeen()
    const auto confirm = [this, id](bool adjustCounts) {
        const QPointer<FolderSync> self(this); // a view may close this one when the row goes
        const MessageChange change = MessageChange::removal(id);
        if (m_mailbox)
            m_mailbox->confirmed(change, this, adjustCounts);
        else
            applyChange(change, adjustCounts, true);
        if (self)
            Q_EMIT messageRemoved(id);
    };
    m_mailbox->backend()->remove(id, this, [confirm] { confirm(true); }, [this, confirm](const ClientError &error) {
        if (error.kind == ClientError::Kind::NotFound) {
            confirm(false); // already gone, and already not counted: what the user wanted
            return;
        }
        fail(error);
    });
}

void FolderSync::applyChange(const MessageChange &change, bool adjustCounts, bool requested)
{
    const int row = rowOf(change.id);
    if (row < 0 && !requested)
        return; // another folder's, or not paged in here
    ++m_changesApplied;
    if (change.kind == MessageChange::Kind::Seen) {
        if (row >= 0 && m_entries.at(row).seen != change.seen) {
            m_entries[row].seen = change.seen;
            Q_EMIT updated(row, m_entries.at(row), true);
            if (adjustCounts) // at once; the server's count follows
                setCounts({m_counts.unseen + (change.seen ? -1 : 1), m_counts.total});
        }
    } else if (row >= 0) {
        const bool wasSeen = m_entries.at(row).seen;
        m_entries.removeAt(row);
        Q_EMIT removed(row);
        Q_EMIT countChanged();
        if (adjustCounts)
            setCounts({m_counts.unseen - (wasSeen ? 0 : 1), m_counts.total - 1});
    }
    refreshCounts();
}
