#pragma once

#include "imapcommandreader.h"
#include "imapfolderview.h"

#include <QString>

#include <optional>

// The selected folder (RFC 9051 §3.3).
struct ImapSelection
{
    qint64 folderId = 0;
    QByteArray name; // as the client is told it (UTF-8 or modified UTF-7)
    bool readOnly = false; // EXAMINE
    qint64 uidValidity = 0;
    ImapFolderView view;
    // Changes up to this modseq are in the view; later ones are still to tell.
    qint64 syncedModseq = 0;
    // SEARCH RETURN (SAVE)'s result, by uid, for "$" (RFC 5182); empty
    // until a search saves one.
    QList<quint32> savedUids;
};

// A command whose output is too long for one step (FETCH of thousands of
// messages): where it goes on.
struct ImapContinuation
{
    ImapCommandReader::Command command;
    qsizetype nextIndex = 0; // in the resolved message list
    QList<quint32> uids;     // the messages still to answer, by uid (immune to renumbering)
};

// What a logged-in session keeps between commands, lent to the worker that
// runs each mailbox command (the session touches it only while no request
// is out).
struct ImapMailboxState
{
    qint64 accountId = 0;
    QString username;
    // ENABLE (RFC 5161): IMAP4rev2 (UTF-8 names, ESEARCH replies, no
    // \Recent), CONDSTORE (RFC 7162 §3.1), QRESYNC (§3.2, implies CONDSTORE),
    // UTF8=ACCEPT (RFC 6855: UTF-8 names without rev2).
    bool rev2 = false;
    bool condstore = false;
    bool qresync = false;
    bool utf8 = false;
    std::optional<ImapSelection> selected;
    // The account's modseq as last heard of (ImapSession::accountChanged):
    // above the selection's syncedModseq, there is news to ask for.
    qint64 heardModseq = 0;
    std::optional<ImapContinuation> continuation;
    // A BYE was said (the selected folder was deleted): the session closes
    // after this reply.
    bool mustClose = false;

    [[nodiscard]] bool utf8Names() const { return rev2 || utf8; }
};
