#pragma once

#include "imaparguments.h"
#include "store.h"

#include <QList>

#include <optional>

// One message of the selected folder as the session knows it.
struct ImapViewMessage
{
    quint32 uid = 0;
    qint64 entryId = 0;
    qint64 modseq = 0;
    EntryFlags flags;
    QStringList keywords;
};

// What the session has told the client of its selected folder: the
// messages in uid order, their sequence numbers being their positions
// (RFC 9051 §2.3.1). The store moves on while the session runs; the view
// moves only when the client may be told (RFC 9051 §7.5), so a message
// number means the same message from one update to the next.
class ImapFolderView
{
public:
    // Index ranges, first to last inclusive, ascending, none overlapping.
    using Ranges = QList<std::pair<qsizetype, qsizetype>>;

    void reset(QList<ImapViewMessage> messages);
    [[nodiscard]] qsizetype count() const { return m_messages.size(); }
    [[nodiscard]] const ImapViewMessage &at(qsizetype index) const { return m_messages.at(index); }
    [[nodiscard]] ImapViewMessage &at(qsizetype index) { return m_messages[index]; }
    [[nodiscard]] const QList<ImapViewMessage> &messages() const { return m_messages; }
    [[nodiscard]] std::optional<qsizetype> indexOfUid(quint32 uid) const;
    [[nodiscard]] quint32 highestUid() const { return m_messages.isEmpty() ? 0 : m_messages.constLast().uid; }

    // The messages a sequence set names, merged: `1:*,1:*,...` 50,000 times
    // is one range, and the work is in the number of ranges, not messages.
    // Message numbers past the last are a fault (nullopt: the client's
    // numbers are wrong); uids that are not there are simply not named
    // (RFC 9051 §6.4.8). "*" is the last message, or the highest uid.
    [[nodiscard]] std::optional<Ranges> resolve(const ImapSequenceSet &set, bool byUid) const;
    [[nodiscard]] static qsizetype countOf(const Ranges &ranges);

    // Removes the messages at these indexes (ascending); what is left keeps its order.
    void remove(const QList<qsizetype> &indexes);
    void append(const ImapViewMessage &message) { m_messages.append(message); }

    // RFC 9051's sequence-set of these uids (ascending), runs written as a:b.
    [[nodiscard]] static QByteArray uidSet(const QList<quint32> &uids);

private:
    QList<ImapViewMessage> m_messages;
};
