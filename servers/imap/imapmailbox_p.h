#pragma once

// What the parts of ImapMailbox (imapmailbox.cpp, imapfetch.cpp,
// imapsearch.cpp) share: the context of one command.

#include "imapmailbox.h"
#include "imapresponse.h"

struct ImapMailbox::Context
{
    Context(ImapMailboxState &state, const ImapCommandReader::Command &command)
        : state(state)
        , command(command)
        , arguments(command.parts)
    {
    }

    ImapMailboxState &state;
    const ImapCommandReader::Command &command;
    ImapArgumentReader arguments;
    QByteArray name; // upper case, after UID
    bool byUid = false;
    QByteArray out; // untagged responses
    QByteArray completion; // the tagged line, once said
    bool expungesAllowed = true; // RFC 9051 §7.5.1: not during FETCH, STORE, SEARCH
    bool finished = true;        // false: the command goes on in another step
    bool forceSync = false;      // tell of changes after it even without news of any (NOOP, EXPUNGE, MOVE)
    bool searchedModseq = false; // a SEARCH key was MODSEQ: the reply says the highest (RFC 7162 §3.1.5)

    [[nodiscard]] ImapSelection &selection() { return *state.selected; }
    void done(const QByteArray &status, const QByteArray &text)
    {
        completion = command.tag + ' ' + status + ' ' + ImapResponse::text(text) + "\r\n";
    }
    void ok(const QByteArray &text) { done("OK", text); }
    void no(const QByteArray &text) { done("NO", text); }
    void bad(const QByteArray &text) { done("BAD", arguments.ok() ? text : text + ": " + arguments.fault()); }
    // A sequence set, or "$": the saved search result (RFC 5182).
    std::optional<ImapSequenceSet> sequenceSet()
    {
        if (!arguments.accept('$'))
            return arguments.sequenceSet();
        return savedSet(state.selected ? state.selected->savedUids : QList<quint32>());
    }
    static ImapSequenceSet savedSet(const QList<quint32> &uids)
    {
        ImapSequenceSet set;
        set.saved = true;
        for (const quint32 uid : uids) {
            if (!set.ranges.isEmpty() && set.ranges.last().last + 1 == uid)
                set.ranges.last().last = uid;
            else
                set.ranges.append({uid, uid});
        }
        return set;
    }
    // The arguments end here; else BAD with `usage`.
    bool atEnd(const QByteArray &usage)
    {
        if (arguments.atEnd() && arguments.ok())
            return true;
        bad(usage);
        return false;
    }
    // A store failure as the client is told it.
    void storeFailed(const Store &store)
    {
        switch (store.lastError()) {
        case Store::Error::NotFound:
            no("[NONEXISTENT] No such mailbox or message");
            break;
        case Store::Error::AlreadyExists:
            no("[ALREADYEXISTS] " + store.lastErrorText().toUtf8());
            break;
        case Store::Error::Invalid:
            no("[CANNOT] " + store.lastErrorText().toUtf8());
            break;
        case Store::Error::DiskFull:
            no("[OVERQUOTA] The server's disk is full");
            break;
        case Store::Error::Busy:
        case Store::Error::Unavailable:
            no("[UNAVAILABLE] The mail store is not available now, try again");
            break;
        default:
            no("[SERVERBUG] The mail store failed");
            break;
        }
    }
};
