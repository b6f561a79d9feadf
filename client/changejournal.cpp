#include "changejournal.h"

quint64 ChangeJournal::record(const MessageChange &change)
{
    m_changes.append({change, ++m_sequence});
    prune();
    return m_sequence;
}

quint64 ChangeJournal::openSnapshot()
{
    ++m_openSnapshots[m_sequence];
    return m_sequence;
}

void ChangeJournal::closeSnapshot(quint64 snapshot)
{
    const auto found = m_openSnapshots.find(snapshot);
    if (found == m_openSnapshots.end())
        return;
    if (--found->second == 0)
        m_openSnapshots.erase(found);
    prune();
}

void ChangeJournal::prune()
{
    // Nothing open: the next listing is asked for after every change kept,
    // and shows them all itself.
    const quint64 oldestOpen = m_openSnapshots.empty() ? m_sequence : m_openSnapshots.begin()->first;
    m_changes.removeIf([oldestOpen](const Numbered &numbered) { return numbered.sequence <= oldestOpen; });
}

QList<MessageListEntry> ChangeJournal::replay(QList<MessageListEntry> page, quint64 snapshot) const
{
    for (const Numbered &numbered : m_changes) {
        if (numbered.sequence <= snapshot)
            continue;
        const MessageChange &change = numbered.change;
        for (qsizetype i = 0; i < page.size(); ++i) {
            if (page.at(i).id != change.id)
                continue;
            if (change.kind == MessageChange::Kind::Removed)
                page.removeAt(i);
            else
                page[i].seen = change.seen;
            break;
        }
    }
    return page;
}
