#include "imapchangecache.h"

std::optional<ImapChangeCache::Reading> ImapChangeCache::find(qint64 folderId, qint64 since, qint64 atLeast) const
{
    const QMutexLocker locker(&m_mutex);
    for (auto kept = m_kept.crbegin(); kept != m_kept.crend(); ++kept) {
        if (kept->folderId == folderId && kept->since == since && kept->reading.accountModseq >= atLeast)
            return kept->reading;
    }
    return std::nullopt;
}

void ImapChangeCache::insert(qint64 folderId, qint64 since, const Reading &reading)
{
    if (reading.changes.changed.size() + reading.changes.removedUids.size() > MaxEntriesKept)
        return;
    const QMutexLocker locker(&m_mutex);
    // An older reading of the same question is of no more use.
    std::erase_if(m_kept, [&](const Kept &kept) {
        return kept.folderId == folderId && kept.since == since && kept.reading.accountModseq <= reading.accountModseq;
    });
    m_kept.push_back(Kept{folderId, since, reading});
    if (qsizetype(m_kept.size()) > Capacity)
        m_kept.pop_front();
}
