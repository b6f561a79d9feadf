#pragma once

#include "store.h"

#include <QMutex>

#include <deque>
#include <optional>

// Readings of one folder's changes after one modseq, shared by the workers.
// A delivery wakes every session of its account that is in IDLE; those
// with the same folder selected and in step (the same modseq) all ask the
// store the same question at once. The first worker to ask reads the
// answer and the others take its reading instead of asking again. Only
// readings made at or after the modseq a session heard of are taken, so
// each sees at least every change it was told about; later ones reach it
// with the next news. Thread-safe.
class ImapChangeCache
{
public:
    struct Reading
    {
        qint64 accountModseq = 0; // the account's modseq, read before the changes
        FolderChanges changes;
    };

    // A reading of the folder's changes after `since`, made when the
    // account's modseq was at least `atLeast`.
    [[nodiscard]] std::optional<Reading> find(qint64 folderId, qint64 since, qint64 atLeast) const;
    // Keeps a reading; large ones (a flag change on a whole folder) are
    // not kept, so that memory stays small.
    void insert(qint64 folderId, qint64 since, const Reading &reading);

    static constexpr qsizetype Capacity = 64;
    static constexpr qsizetype MaxEntriesKept = 4096;

private:
    struct Kept
    {
        qint64 folderId = 0;
        qint64 since = 0;
        Reading reading;
    };
    mutable QMutex m_mutex;
    std::deque<Kept> m_kept; // newest last
};
