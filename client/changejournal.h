#pragma once

#include "messagelisting.h"

#include <QList>

#include <map>

// A change to a message the server confirmed: its seen flag set, or the
// message deleted. Made here (PATCH or DELETE of /api/v1/messages/{id}) or,
// later, told by the server's change feed.
struct MessageChange
{
    enum class Kind { Seen, Removed };
    qint64 id = 0;
    Kind kind = Kind::Seen;
    bool seen = false; // Kind::Seen: the new flag

    [[nodiscard]] static MessageChange seenChange(qint64 id, bool seen) { return {id, Kind::Seen, seen}; }
    [[nodiscard]] static MessageChange removal(qint64 id) { return {id, Kind::Removed, false}; }
    friend bool operator==(const MessageChange &, const MessageChange &) = default;
};

// The changes a listing on its way may not show yet. A listing and a PATCH
// or DELETE travel on different connections, so a listing the server
// computed before a change can arrive after it; replay() puts the change
// back. Changes are numbered; a listing is asked for at a snapshot (the
// number of the last change then) and shows every change up to it. A change
// is kept while a listing asked for before it is open.
class ChangeJournal
{
public:
    // Records a confirmed change; its number.
    quint64 record(const MessageChange &change);
    // The number of the last change recorded.
    [[nodiscard]] quint64 sequence() const { return m_sequence; }

    // A listing is asked for now: what it shows, it shows up to the returned number.
    [[nodiscard]] quint64 openSnapshot();
    // That listing is in (or dropped): changes it alone still needed are forgotten.
    void closeSnapshot(quint64 snapshot);

    // `page` with the changes recorded after `snapshot` done on it.
    [[nodiscard]] QList<MessageListEntry> replay(QList<MessageListEntry> page, quint64 snapshot) const;

    // The changes kept (for tests and the account switching).
    [[nodiscard]] qsizetype size() const { return m_changes.size(); }
    // Another account: its changes mean nothing to the next one's listings.
    void forgetChanges() { m_changes.clear(); }

private:
    struct Numbered
    {
        MessageChange change;
        quint64 sequence = 0;
    };
    void prune();

    QList<Numbered> m_changes;
    std::map<quint64, int> m_openSnapshots; // snapshot -> listings open at it
    quint64 m_sequence = 0;
};
