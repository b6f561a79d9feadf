#pragma once

#include "imaparguments.h"
#include "imapchangecache.h"
#include "imapmailboxstate.h"
#include "imapsortthread.h"
#include "store.h"

#include <QByteArray>
#include <QLoggingCategory>

class MimeMessage;

// Runs the commands of the authenticated and selected states (RFC 9051
// §6.3, §6.4, and the extensions docs/protocol/imap.md lists) against the
// store: bytes of a framed command and the session's mailbox state in, the
// response bytes out (untagged responses, then the tagged completion). It
// knows no socket and no thread: the backend runs it on a worker with that
// worker's store connection; tests run it directly on a store.
//
// Before the completion of a command (and in IDLE), it tells the client of
// changes made elsewhere since the last time, at the points RFC 9051 §7.5
// allows: new messages and flag changes always, expunges not during FETCH,
// STORE, SEARCH (and SORT, THREAD), whose message numbers they would shift.
class ImapMailbox
{
public:
    struct Settings
    {
        qint64 appendLimit = 25 * 1024 * 1024;
        qint64 maxHeaderBytes = 256 * 1024;
        // Output of one step of a long command; the next step runs when it
        // was written out (ImapMailboxState::continuation).
        qsizetype maxStepOutput = 1024 * 1024;
        // Shared by the workers of one server (news that wakes many
        // sessions is read once); none: each reads its own.
        ImapChangeCache *changeCache = nullptr;
    };

    ImapMailbox(Store *store, const Settings &settings);

    // One command (or a long command's next step, when state.continuation
    // holds it).
    [[nodiscard]] QByteArray execute(ImapMailboxState &state, const ImapCommandReader::Command &command);
    // The untagged updates of the selected folder, for IDLE.
    [[nodiscard]] QByteArray update(ImapMailboxState &state);

    // IMAP names and the store's folder names (docs/protocol/imap.md §3):
    // "INBOX" in any case is the inbox; other names are the folders' own,
    // in UTF-8 or, for an IMAP4rev1 client, modified UTF-7.
    [[nodiscard]] static QByteArray imapName(const MailFolder &folder, bool utf8);
    [[nodiscard]] static std::optional<QString> storeName(const QByteArray &imapName, bool utf8);

    // One command being run (imapmailbox_p.h).
    struct Context;

    // How many of these entries (at least one) to read whole at once: as
    // many as hold at most MaxBatchBytes of messages together, so that a
    // command over large messages holds a few of them at a time, not 50
    // or 200; -1 with the reply said when the store fails.
    static constexpr qint64 MaxBatchBytes = 4 * 1024 * 1024;
    static qsizetype batchWithinBytes(Store *store, Context &context, const QList<qint64> &entryIds);

private:
    using Handler = void (ImapMailbox::*)(Context &);

    void dispatch(Context &context);
    // The folder of an IMAP name, or nullopt with the reply said.
    std::optional<MailFolder> folderNamed(Context &context, const QByteArray &name);
    std::optional<QList<MailFolder>> allFolders(Context &context);

    void noop(Context &context);
    void select(Context &context);
    void create(Context &context);
    void deleteFolder(Context &context);
    void rename(Context &context);
    void subscribe(Context &context);
    void list(Context &context);
    void namespaceCommand(Context &context);
    void status(Context &context);
    void append(Context &context);
    void close(Context &context);
    void expunge(Context &context);
    void fetch(Context &context);
    void store(Context &context);
    void copy(Context &context);
    void search(Context &context);
    void sort(Context &context);
    void thread(Context &context);

    // The STATUS items of a folder as "(MESSAGES n ...)"; nullopt with the reply said.
    std::optional<QByteArray> folderStatus(Context &context, const MailFolder &folder, const QList<QByteArray> &items);
    // SELECT's QRESYNC parameter, and FETCH's CHANGEDSINCE VANISHED: the
    // uids expunged since a modseq, as one VANISHED (EARLIER) response.
    // Only uids among those asked for (the client's known uids, UID FETCH's
    // set), up to the last uid the folder gave.
    QByteArray vanishedSince(Context &context, qint64 modseq, const ImapSequenceSet *among);
    // Brings the view up to date with the store: the updates to say.
    QByteArray synchronize(ImapMailboxState &state, bool expungesAllowed, bool force);
    // The FETCH response of flags (and MODSEQ, UID) for view message `index`.
    QByteArray flagsFetch(const ImapMailboxState &state, qsizetype index, bool withUid) const;
    [[nodiscard]] static QByteArray flagList(const EntryFlags &flags, const QStringList &keywords);
    // The message numbers (or uids) of a search, evaluated against the store.
    std::optional<QList<qsizetype>> searchMatches(Context &context, ImapArgumentReader &arguments);
    // SORT and THREAD's messages: the search's matches as sort records.
    std::optional<QList<ImapSortRecord>> matchedRecords(Context &context, ImapArgumentReader &arguments);

    Store *m_store = nullptr;
    Settings m_settings;
};

Q_DECLARE_LOGGING_CATEGORY(lcImap)
