#include "imapfolderview.h"

#include <algorithm>

void ImapFolderView::reset(QList<ImapViewMessage> messages)
{
    m_messages = std::move(messages);
}

std::optional<qsizetype> ImapFolderView::indexOfUid(quint32 uid) const
{
    const auto found = std::lower_bound(m_messages.cbegin(), m_messages.cend(), uid,
                                        [](const ImapViewMessage &message, quint32 value) { return message.uid < value; });
    if (found == m_messages.cend() || found->uid != uid)
        return std::nullopt;
    return qsizetype(found - m_messages.cbegin());
}

std::optional<ImapFolderView::Ranges> ImapFolderView::resolve(const ImapSequenceSet &set, bool byUid) const
{
    Ranges ranges;
    const qsizetype count = m_messages.size();
    byUid = byUid || set.saved;
    for (const ImapSequenceSet::Range &range : set.ranges) {
        if (byUid) {
            if (count == 0)
                continue;
            const quint32 highest = highestUid();
            quint32 first = range.first == ImapSequenceSet::Star ? highest : range.first;
            quint32 last = range.last == ImapSequenceSet::Star ? highest : range.last;
            if (first > last)
                std::swap(first, last);
            const auto uidLess = [](const ImapViewMessage &message, quint32 value) { return message.uid < value; };
            const auto begin = std::lower_bound(m_messages.cbegin(), m_messages.cend(), first, uidLess);
            const auto end = std::upper_bound(m_messages.cbegin(), m_messages.cend(), last,
                                              [](quint32 value, const ImapViewMessage &message) { return value < message.uid; });
            if (begin < end)
                ranges.append({begin - m_messages.cbegin(), end - m_messages.cbegin() - 1});
            continue;
        }
        // "*" in an empty folder names no message; any number does not exist.
        qsizetype first = range.first == ImapSequenceSet::Star ? count : qsizetype(range.first);
        qsizetype last = range.last == ImapSequenceSet::Star ? count : qsizetype(range.last);
        if (first > last)
            std::swap(first, last);
        if (last > count || first < 1)
            return std::nullopt;
        ranges.append({first - 1, last - 1});
    }
    std::sort(ranges.begin(), ranges.end());
    Ranges merged;
    for (const auto &range : std::as_const(ranges)) {
        if (!merged.isEmpty() && range.first <= merged.last().second + 1)
            merged.last().second = std::max(merged.last().second, range.second);
        else
            merged.append(range);
    }
    return merged;
}

qsizetype ImapFolderView::countOf(const Ranges &ranges)
{
    qsizetype total = 0;
    for (const auto &range : ranges)
        total += range.second - range.first + 1;
    return total;
}

void ImapFolderView::remove(const QList<qsizetype> &indexes)
{
    if (indexes.isEmpty())
        return;
    QList<ImapViewMessage> kept;
    kept.reserve(m_messages.size() - indexes.size());
    qsizetype next = 0;
    for (qsizetype i = 0; i < m_messages.size(); ++i) {
        if (next < indexes.size() && indexes.at(next) == i) {
            ++next;
            continue;
        }
        kept.append(std::move(m_messages[i]));
    }
    m_messages = std::move(kept);
}

QByteArray ImapFolderView::uidSet(const QList<quint32> &uids)
{
    QByteArray set;
    for (qsizetype i = 0; i < uids.size();) {
        qsizetype j = i;
        while (j + 1 < uids.size() && uids.at(j + 1) == uids.at(j) + 1)
            ++j;
        if (!set.isEmpty())
            set += ',';
        set += QByteArray::number(uids.at(i));
        if (j > i)
            set += ':' + QByteArray::number(uids.at(j));
        i = j + 1;
    }
    return set;
}
