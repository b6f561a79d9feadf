#include "imapmailbox.h"

#include "imapmailbox_p.h"
#include "imapmodifiedutf7.h"
#include "mailheaders.h"
#include "maildate.h"


#include <algorithm>

Q_LOGGING_CATEGORY(lcImap, "mailroom.imap", QtInfoMsg)

namespace {

constexpr char Separator = '/';
constexpr QByteArrayView InboxName = "INBOX";

// RFC 6154 attributes of the role folders.
QByteArray specialUse(const MailFolder &folder)
{
    if (!folder.role)
        return {};
    switch (*folder.role) {
    case FolderRole::Inbox:
        return {};
    case FolderRole::Drafts:
        return "\\Drafts";
    case FolderRole::Sent:
        return "\\Sent";
    case FolderRole::Archive:
        return "\\Archive";
    case FolderRole::Trash:
        return "\\Trash";
    case FolderRole::Junk:
        return "\\Junk";
    }
    return {};
}

// LIST's patterns (RFC 9051 §6.3.9): "*" matches anything, "%" anything
// but the separator. Matched position by position over the name, keeping
// the set of pattern positions reached (work: name length x pattern
// length), never by backtracking, which a pattern of many wildcards makes
// exponential.
bool matchesPattern(QStringView name, QStringView pattern)
{
    QList<bool> reached(pattern.size() + 1, false);
    const auto closeOverWildcards = [&] {
        for (qsizetype j = 0; j < pattern.size(); ++j) {
            if (reached.at(j) && (pattern.at(j) == u'*' || pattern.at(j) == u'%'))
                reached[j + 1] = true;
        }
    };
    reached[0] = true;
    closeOverWildcards();
    for (const QChar c : name) {
        QList<bool> next(pattern.size() + 1, false);
        bool any = false;
        for (qsizetype j = 0; j < pattern.size(); ++j) {
            if (!reached.at(j))
                continue;
            const QChar p = pattern.at(j);
            if (p == u'*' || (p == u'%' && c != QLatin1Char(Separator)))
                next[j] = any = true; // the wildcard takes c and may take more
            else if (p == c)
                next[j + 1] = any = true;
        }
        if (!any)
            return false;
        reached = std::move(next);
        closeOverWildcards();
    }
    return reached.last();
}

// "(" atom *(SP atom) ")", upper case: LIST's options, STATUS's items.
std::optional<QByteArrayList> readAtomList(ImapArgumentReader &arguments, bool mayBeEmpty)
{
    QByteArrayList atoms;
    if (!arguments.take('('))
        return std::nullopt;
    while (!arguments.accept(')')) {
        if (!atoms.isEmpty() && !arguments.space())
            return std::nullopt;
        const std::optional<QByteArray> atom = arguments.atom();
        if (!atom)
            return std::nullopt;
        atoms.append(atom->toUpper());
    }
    if (atoms.isEmpty() && !mayBeEmpty) {
        arguments.fail("expected at least one item");
        return std::nullopt;
    }
    return atoms;
}

std::optional<EntryFlags> readFlag(const QByteArray &flag, EntryFlags flags, QStringList *keywords)
{
    const QByteArray upper = flag.toUpper();
    if (upper == "\\SEEN")
        flags.seen = true;
    else if (upper == "\\ANSWERED")
        flags.answered = true;
    else if (upper == "\\FLAGGED")
        flags.flagged = true;
    else if (upper == "\\DELETED")
        flags.deleted = true;
    else if (upper == "\\DRAFT")
        flags.draft = true;
    else if (flag.startsWith('\\'))
        return upper == "\\RECENT" ? std::optional(flags) : std::nullopt; // \Recent is the server's alone
    else if (!keywords->contains(QString::fromUtf8(flag)))
        keywords->append(QString::fromUtf8(flag));
    return flags;
}

} // namespace

// A parenthesized flag list (RFC 9051 flag-list) into system flags and keywords.
bool readFlagList(ImapArgumentReader &arguments, EntryFlags *flags, QStringList *keywords, bool parenthesesOptional)
{
    const bool parenthesized = arguments.accept('(');
    if (!parenthesized && !parenthesesOptional) {
        arguments.fail("expected a flag list");
        return false;
    }
    bool first = true;
    while (true) {
        if (parenthesized && arguments.accept(')'))
            return true;
        if (!first && !(parenthesized ? arguments.space() : arguments.accept(' ')))
            return !parenthesized && arguments.ok();
        first = false;
        QByteArray flag;
        if (arguments.accept('\\')) {
            flag = "\\";
            if (arguments.accept('*')) {
                arguments.fail("\\* is not a flag");
                return false;
            }
        }
        const std::optional<QByteArray> atom = arguments.atom();
        if (!atom)
            return false;
        flag += *atom;
        const std::optional<EntryFlags> read = readFlag(flag, *flags, keywords);
        if (!read) {
            arguments.fail("unknown system flag " + flag);
            return false;
        }
        *flags = *read;
        if (!parenthesized && arguments.peek() != ' ')
            return true;
    }
}

ImapMailbox::ImapMailbox(Store *store, const Settings &settings)
    : m_store(store)
    , m_settings(settings)
{
}

QByteArray ImapMailbox::imapName(const MailFolder &folder, bool utf8)
{
    QString name = folder.name;
    QByteArray prefix;
    if (folder.role == FolderRole::Inbox)
        return InboxName.toByteArray();
    const QString inboxLevel = QStringLiteral("Inbox/");
    if (name.startsWith(inboxLevel)) {
        prefix = "INBOX/";
        name = name.mid(inboxLevel.size());
    }
    return prefix + (utf8 ? name.toUtf8() : ImapModifiedUtf7::encode(name));
}

std::optional<QString> ImapMailbox::storeName(const QByteArray &imapName, bool utf8)
{
    std::optional<QString> name;
    if (utf8) {
        name = QString::fromUtf8(imapName);
        if (name->toUtf8() != imapName)
            return std::nullopt; // not UTF-8
    } else {
        name = ImapModifiedUtf7::decode(imapName);
    }
    if (!name)
        return std::nullopt;
    const qsizetype firstLevelEnd = name->indexOf(QLatin1Char(Separator));
    const QStringView firstLevel = QStringView(*name).left(firstLevelEnd < 0 ? name->size() : firstLevelEnd);
    if (firstLevel.compare(QLatin1StringView("INBOX"), Qt::CaseInsensitive) == 0)
        name->replace(0, firstLevel.size(), QStringLiteral("Inbox"));
    return name;
}

QByteArray ImapMailbox::execute(ImapMailboxState &state, const ImapCommandReader::Command &command)
{
    Context context(state, command);
    dispatch(context);
    if (context.completion.isEmpty() && context.finished)
        context.bad("Command not understood");
    QByteArray updates;
    if (state.selected && context.finished && !state.continuation)
        updates = synchronize(state, context.expungesAllowed, context.forceSync);
    return context.out + updates + context.completion;
}

QByteArray ImapMailbox::update(ImapMailboxState &state)
{
    if (!state.selected)
        return {};
    return synchronize(state, true, false);
}

void ImapMailbox::dispatch(Context &context)
{
    struct Command
    {
        const char *name;
        bool needsSelection;
        bool uidForm; // also after UID
        Handler run;
    };
    static const Command commands[] = {
        {"NOOP", false, false, &ImapMailbox::noop},
        {"CHECK", true, false, &ImapMailbox::noop},
        {"SELECT", false, false, &ImapMailbox::select},
        {"EXAMINE", false, false, &ImapMailbox::select},
        {"CREATE", false, false, &ImapMailbox::create},
        {"DELETE", false, false, &ImapMailbox::deleteFolder},
        {"RENAME", false, false, &ImapMailbox::rename},
        {"SUBSCRIBE", false, false, &ImapMailbox::subscribe},
        {"UNSUBSCRIBE", false, false, &ImapMailbox::subscribe},
        {"LIST", false, false, &ImapMailbox::list},
        {"LSUB", false, false, &ImapMailbox::list},
        {"NAMESPACE", false, false, &ImapMailbox::namespaceCommand},
        {"STATUS", false, false, &ImapMailbox::status},
        {"APPEND", false, false, &ImapMailbox::append},
        {"CLOSE", true, false, &ImapMailbox::close},
        {"UNSELECT", true, false, &ImapMailbox::close},
        {"EXPUNGE", true, true, &ImapMailbox::expunge},
        {"FETCH", true, true, &ImapMailbox::fetch},
        {"STORE", true, true, &ImapMailbox::store},
        {"COPY", true, true, &ImapMailbox::copy},
        {"MOVE", true, true, &ImapMailbox::copy},
        {"SEARCH", true, true, &ImapMailbox::search},
        {"SORT", true, true, &ImapMailbox::sort},
        {"THREAD", true, true, &ImapMailbox::thread},
    };
    QByteArray name = context.command.name.toUpper();
    if (name == "UID") {
        std::optional<QByteArray> sub;
        if (context.arguments.space())
            sub = context.arguments.atom();
        if (!sub) {
            context.bad("UID FETCH|STORE|COPY|MOVE|SEARCH|EXPUNGE|SORT|THREAD ...");
            return;
        }
        name = sub->toUpper();
        context.byUid = true;
    }
    context.name = name;
    for (const Command &command : commands) {
        if (name != command.name || (context.byUid && !command.uidForm))
            continue;
        if (command.needsSelection && !context.state.selected) {
            context.bad("No mailbox selected");
            return;
        }
        (this->*command.run)(context);
        return;
    }
    context.bad("Unknown command");
}

std::optional<QList<MailFolder>> ImapMailbox::allFolders(Context &context)
{
    std::optional<QList<MailFolder>> folders = m_store->folders(context.state.accountId);
    if (!folders)
        context.storeFailed(*m_store);
    return folders;
}

std::optional<MailFolder> ImapMailbox::folderNamed(Context &context, const QByteArray &name)
{
    const std::optional<QString> wanted = storeName(name, context.state.utf8Names());
    if (!wanted) {
        context.no(context.state.utf8Names() ? "[CANNOT] The mailbox name is not UTF-8"
                                             : "[CANNOT] The mailbox name is not valid modified UTF-7");
        return std::nullopt;
    }
    const std::optional<QList<MailFolder>> folders = allFolders(context);
    if (!folders)
        return std::nullopt;
    for (const MailFolder &folder : *folders) {
        if (folder.name == *wanted || (folder.role == FolderRole::Inbox && *wanted == u"Inbox"))
            return folder;
    }
    context.no("[NONEXISTENT] No such mailbox");
    return std::nullopt;
}

qsizetype ImapMailbox::batchWithinBytes(Store *store, Context &context, const QList<qint64> &entryIds)
{
    const std::optional<QList<EntryDetails>> sizes = store->entryDetails(context.state.accountId, entryIds, false);
    if (!sizes) {
        context.storeFailed(*store);
        return -1;
    }
    QHash<qint64, qint64> sizeOf;
    for (const EntryDetails &entry : *sizes)
        sizeOf.insert(entry.entryId, entry.size);
    qint64 total = 0;
    for (qsizetype i = 0; i < entryIds.size(); ++i) {
        total += sizeOf.value(entryIds.at(i)); // gone meanwhile: nothing to read
        if (total > MaxBatchBytes && i > 0)
            return i;
    }
    return entryIds.size();
}

void ImapMailbox::noop(Context &context)
{
    if (!context.atEnd(context.name + " takes no arguments"))
        return;
    // A client that polls with NOOP is told at once, whether or not the
    // news of a change came yet.
    context.forceSync = true;
    context.ok(context.name + " completed");
}

QByteArray ImapMailbox::flagList(const EntryFlags &flags, const QStringList &keywords)
{
    QByteArrayList names;
    if (flags.seen)
        names.append("\\Seen");
    if (flags.answered)
        names.append("\\Answered");
    if (flags.flagged)
        names.append("\\Flagged");
    if (flags.deleted)
        names.append("\\Deleted");
    if (flags.draft)
        names.append("\\Draft");
    for (const QString &keyword : keywords)
        names.append(keyword.toUtf8());
    return '(' + names.join(' ') + ')';
}

QByteArray ImapMailbox::flagsFetch(const ImapMailboxState &state, qsizetype index, bool withUid) const
{
    const ImapViewMessage &message = state.selected->view.at(index);
    QByteArray line = "* " + QByteArray::number(index + 1) + " FETCH (";
    if (withUid)
        line += "UID " + QByteArray::number(message.uid) + ' ';
    line += "FLAGS " + flagList(message.flags, message.keywords);
    if (state.condstore)
        line += " MODSEQ (" + QByteArray::number(message.modseq) + ')';
    return line + ")\r\n";
}

QByteArray ImapMailbox::synchronize(ImapMailboxState &state, bool expungesAllowed, bool force)
{
    ImapSelection &selection = *state.selected;
    if (!force && state.heardModseq <= selection.syncedModseq)
        return {};
    // News that woke many sessions: the same reading serves them all. A
    // command's own sync (force) reads afresh: its own change is in it.
    std::optional<ImapChangeCache::Reading> shared;
    if (!force && m_settings.changeCache)
        shared = m_settings.changeCache->find(selection.folderId, selection.syncedModseq, state.heardModseq);
    const std::optional<qint64> accountModseq =
        shared ? shared->accountModseq : m_store->accountModseq(state.accountId);
    const std::optional<FolderChanges> changes = shared ? std::optional(shared->changes)
        : accountModseq ? m_store->folderChanges(state.accountId, selection.folderId, selection.syncedModseq)
                        : std::nullopt;
    if (!shared && changes && m_settings.changeCache)
        m_settings.changeCache->insert(selection.folderId, selection.syncedModseq, {*accountModseq, *changes});
    if (!changes) {
        if (m_store->lastError() == Store::Error::NotFound) {
            // Deleted by another session (or renamed away): nothing selected
            // is left to speak of, and the client must start over.
            state.selected.reset();
            state.mustClose = true;
            return "* BYE The selected mailbox was deleted\r\n";
        }
        qCWarning(lcImap).noquote() << state.username << "could not read the changes of folder" << selection.folderId
                                    << m_store->lastErrorText();
        return {};
    }
    QByteArray out;
    ImapFolderView &view = selection.view;
    QList<quint32> gone;
    if (changes->removalsForgotten) {
        // The removals are forgotten: what left is what the store no longer has.
        const std::optional<QList<FolderEntryState>> entries = m_store->folderEntries(state.accountId, selection.folderId);
        if (!entries)
            return {};
        QSet<quint32> present;
        for (const FolderEntryState &entry : *entries)
            present.insert(quint32(entry.uid));
        for (const ImapViewMessage &message : view.messages()) {
            if (!present.contains(message.uid))
                gone.append(message.uid);
        }
    } else {
        for (const qint64 uid : changes->removedUids)
            gone.append(quint32(uid));
    }
    bool complete = true;
    QList<qsizetype> goneIndexes;
    for (const quint32 uid : std::as_const(gone)) {
        if (const std::optional<qsizetype> index = view.indexOfUid(uid))
            goneIndexes.append(*index);
    }
    std::sort(goneIndexes.begin(), goneIndexes.end());
    if (!goneIndexes.isEmpty()) {
        if (expungesAllowed) {
            if (state.qresync) {
                QList<quint32> uids;
                for (const qsizetype index : std::as_const(goneIndexes))
                    uids.append(view.at(index).uid);
                out += "* VANISHED " + ImapFolderView::uidSet(uids) + "\r\n";
            } else {
                // Highest first: each number is still the one the client knows.
                for (auto index = goneIndexes.crbegin(); index != goneIndexes.crend(); ++index)
                    out += "* " + QByteArray::number(*index + 1) + " EXPUNGE\r\n";
            }
            view.remove(goneIndexes);
        } else {
            complete = false; // told at the next point that allows it
        }
    }
    const qsizetype countBefore = view.count();
    QList<qsizetype> flagsChanged;
    for (const FolderEntryState &entry : changes->changed) {
        const auto uid = quint32(entry.uid);
        if (const std::optional<qsizetype> index = view.indexOfUid(uid)) {
            ImapViewMessage &message = view.at(*index);
            const bool differ = !(message.flags == entry.flags) || message.keywords != entry.keywords;
            message.modseq = entry.modseq;
            if (differ) {
                message.flags = entry.flags;
                message.keywords = entry.keywords;
                flagsChanged.append(*index);
            }
        } else if (uid > view.highestUid()) {
            view.append(ImapViewMessage{uid, entry.entryId, entry.modseq, entry.flags, entry.keywords});
        }
    }
    if (view.count() != countBefore)
        out += "* " + QByteArray::number(view.count()) + " EXISTS\r\n";
    for (const qsizetype index : std::as_const(flagsChanged))
        out += flagsFetch(state, index, true);
    if (complete)
        selection.syncedModseq = std::max(selection.syncedModseq, *accountModseq);
    return out;
}

void ImapMailbox::select(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    std::optional<QByteArray> name;
    if (arguments.space())
        name = arguments.astring();
    bool condstore = false;
    std::optional<std::pair<qint64, qint64>> qresync; // uidValidity, modseq
    std::optional<ImapSequenceSet> knownUids;
    if (name && arguments.accept(' ')) {
        // RFC 7162: (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids [seq-match]]))
        bool ok = arguments.take('(');
        while (ok && !arguments.accept(')')) {
            if (arguments.peek() == ' ')
                ok = arguments.space();
            if (arguments.acceptWord("CONDSTORE")) {
                condstore = true;
            } else if (context.state.qresync && arguments.acceptWord("QRESYNC")) {
                ok = arguments.space() && arguments.take('(');
                const std::optional<quint32> validity = ok ? arguments.nzNumber() : std::nullopt;
                const std::optional<quint64> modseq = validity && arguments.space() ? arguments.number64() : std::nullopt;
                ok = validity && modseq;
                if (ok) {
                    qresync = std::pair<qint64, qint64>(*validity, qint64(*modseq));
                    if (arguments.peek() == ' ' && arguments.space() && arguments.peek() != '(')
                        knownUids = arguments.sequenceSet();
                    // The sequence match data only helps servers that forget
                    // removals; ours answers from what it remembers.
                    if (arguments.peek() == ' ' && arguments.space() && arguments.accept('(')) {
                        while (ok && !arguments.accept(')') && !arguments.atEnd())
                            ok = arguments.sequenceSet() && (arguments.peek() == ')' || arguments.space());
                    }
                    ok = ok && arguments.take(')');
                }
            } else {
                ok = false;
            }
        }
        if (!ok)
            arguments.fail("expected (CONDSTORE) or (QRESYNC (...)) after QRESYNC was enabled");
    }
    if (!name || !context.atEnd(context.name + " mailbox [(CONDSTORE | QRESYNC (...))]"))
        return;
    // A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
    const bool wasSelected = context.state.selected.has_value();
    context.state.selected.reset();
    context.state.continuation.reset();
    if (wasSelected && context.state.qresync)
        context.out += "* OK [CLOSED] Previous mailbox closed\r\n";
    const std::optional<MailFolder> folder = folderNamed(context, *name);
    if (!folder)
        return;
    if (!folder->selectable) {
        context.no("[CANNOT] The mailbox holds folders only (\\Noselect)");
        return;
    }
    const std::optional<qint64> accountModseq = m_store->accountModseq(context.state.accountId);
    const std::optional<QList<FolderEntryState>> entries =
        accountModseq ? m_store->folderEntries(context.state.accountId, folder->id) : std::nullopt;
    if (!entries) {
        context.storeFailed(*m_store);
        return;
    }
    if (condstore)
        context.state.condstore = true;
    ImapSelection selection;
    selection.folderId = folder->id;
    selection.name = imapName(*folder, context.state.utf8Names());
    selection.readOnly = context.name == "EXAMINE";
    selection.uidValidity = folder->uidValidity;
    selection.syncedModseq = *accountModseq;
    QList<ImapViewMessage> messages;
    messages.reserve(entries->size());
    QStringList keywordsInUse;
    qsizetype firstUnseen = 0;
    qint64 highestModseq = folder->highestModseq;
    for (const FolderEntryState &entry : *entries) {
        messages.append(ImapViewMessage{quint32(entry.uid), entry.entryId, entry.modseq, entry.flags, entry.keywords});
        for (const QString &keyword : entry.keywords) {
            if (!keywordsInUse.contains(keyword))
                keywordsInUse.append(keyword);
        }
        if (!entry.flags.seen && firstUnseen == 0)
            firstUnseen = messages.size();
        highestModseq = std::max(highestModseq, entry.modseq);
    }
    selection.view.reset(std::move(messages));
    QByteArray &out = context.out;
    const QByteArray keywords = keywordsInUse.isEmpty() ? QByteArray() : ' ' + keywordsInUse.join(u' ').toUtf8();
    out += "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" + keywords + ")\r\n";
    out += selection.readOnly ? QByteArray("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
                              : "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" + keywords
                                    + " \\*)] Flags permitted\r\n";
    out += "* " + QByteArray::number(selection.view.count()) + " EXISTS\r\n";
    if (!context.state.rev2) {
        // IMAP4rev1 requires RECENT; no session here claims messages as recent.
        out += "* 0 RECENT\r\n";
        if (firstUnseen > 0)
            out += "* OK [UNSEEN " + QByteArray::number(firstUnseen) + "] First unseen\r\n";
    }
    out += "* OK [UIDVALIDITY " + QByteArray::number(folder->uidValidity) + "] UIDs valid\r\n";
    out += "* OK [UIDNEXT " + QByteArray::number(folder->uidNext) + "] Predicted next UID\r\n";
    out += "* OK [HIGHESTMODSEQ " + QByteArray::number(highestModseq) + "] Highest\r\n";
    if (context.state.rev2)
        out += "* LIST () \"/\" " + ImapResponse::astring(selection.name, context.state.utf8Names()) + "\r\n";
    context.state.selected = std::move(selection);
    if (qresync && qresync->first == folder->uidValidity) {
        // RFC 7162 §3.2.5: what the client missed since its modseq.
        out += vanishedSince(context, qresync->second, knownUids ? &*knownUids : nullptr);
        const ImapFolderView &view = context.selection().view;
        for (qsizetype i = 0; i < view.count(); ++i) {
            if (view.at(i).modseq > qresync->second)
                out += flagsFetch(context.state, i, true);
        }
    }
    context.ok(selection.readOnly ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

QByteArray ImapMailbox::vanishedSince(Context &context, qint64 modseq, const ImapSequenceSet *among)
{
    const ImapFolderView &view = context.selection().view;
    const std::optional<FolderChanges> changes =
        m_store->folderChanges(context.state.accountId, context.selection().folderId, modseq);
    if (!changes)
        return {};
    // The client's uids, or every uid the folder gave ("*" is the last given).
    const quint32 lastGiven = quint32(std::max<qint64>(0, changes->folder.uidNext - 1));
    QList<std::pair<quint32, quint32>> asked;
    if (among) {
        for (const ImapSequenceSet::Range &range : among->ranges) {
            const quint32 first = range.first == ImapSequenceSet::Star ? lastGiven : range.first;
            const quint32 last = range.last == ImapSequenceSet::Star ? lastGiven : range.last;
            asked.append({std::min(first, last), std::min(std::max(first, last), lastGiven)});
        }
    } else if (lastGiven > 0) {
        asked.append({1, lastGiven});
    }
    const auto isAsked = [&](quint32 uid) {
        return std::any_of(asked.cbegin(), asked.cend(), [uid](const auto &r) { return uid >= r.first && uid <= r.second; });
    };
    QList<quint32> uids;
    if (changes->removalsForgotten) {
        // Which removals came since is forgotten: every asked uid the
        // folder no longer holds is told, as RFC 7162 §3.2.5.1 allows.
        QByteArrayList runs;
        for (const auto &[first, last] : std::as_const(asked)) {
            quint64 next = first;
            const auto uidLess = [](const ImapViewMessage &message, quint32 value) { return message.uid < value; };
            auto it = std::lower_bound(view.messages().cbegin(), view.messages().cend(), first, uidLess);
            for (; next <= last; ++it) {
                const quint64 held = it == view.messages().cend() ? quint64(last) + 1 : std::min<quint64>(it->uid, quint64(last) + 1);
                if (held > next)
                    runs.append(held - 1 > next ? QByteArray::number(next) + ':' + QByteArray::number(held - 1)
                                                : QByteArray::number(next));
                next = held + 1;
                if (it == view.messages().cend())
                    break;
            }
        }
        return runs.isEmpty() ? QByteArray() : "* VANISHED (EARLIER) " + runs.join(',') + "\r\n";
    }
    for (const qint64 uid : changes->removedUids) {
        if (!view.indexOfUid(quint32(uid)) && isAsked(quint32(uid)))
            uids.append(quint32(uid));
    }
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    if (uids.isEmpty())
        return {};
    return "* VANISHED (EARLIER) " + ImapFolderView::uidSet(uids) + "\r\n";
}

void ImapMailbox::create(Context &context)
{
    std::optional<QByteArray> name;
    if (context.arguments.space())
        name = context.arguments.astring();
    if (!name || !context.atEnd("CREATE mailbox"))
        return;
    // RFC 9051 §6.3.4: a trailing separator says folders will go below;
    // the name is the same without it.
    if (name->endsWith(Separator))
        name->chop(1);
    const std::optional<QString> wanted = storeName(*name, context.state.utf8Names());
    if (!wanted) {
        context.no("[CANNOT] The mailbox name is not valid");
        return;
    }
    if (wanted->compare(QLatin1StringView("Inbox"), Qt::CaseInsensitive) == 0) {
        context.no("[ALREADYEXISTS] INBOX exists");
        return;
    }
    if (const auto fault = Store::folderNameFault(*wanted)) {
        context.no("[CANNOT] " + fault->toUtf8());
        return;
    }
    // Missing parents are created first (docs/protocol/imap.md §3).
    const QStringList levels = wanted->split(QLatin1Char(Separator));
    for (qsizetype depth = 1; depth < levels.size(); ++depth) {
        const QString parent = levels.mid(0, depth).join(QLatin1Char(Separator));
        if (!m_store->createFolder(context.state.accountId, parent) && m_store->lastError() != Store::Error::AlreadyExists) {
            context.storeFailed(*m_store);
            return;
        }
    }
    if (!m_store->createFolder(context.state.accountId, *wanted)) {
        context.storeFailed(*m_store);
        return;
    }
    qCInfo(lcImap).noquote() << context.state.username << "created folder" << *wanted;
    context.ok("CREATE completed");
}

void ImapMailbox::deleteFolder(Context &context)
{
    std::optional<QByteArray> name;
    if (context.arguments.space())
        name = context.arguments.astring();
    if (!name || !context.atEnd("DELETE mailbox"))
        return;
    const std::optional<MailFolder> folder = folderNamed(context, *name);
    if (!folder)
        return;
    if (folder->role) {
        context.no("[CANNOT] A special-use mailbox cannot be deleted");
        return;
    }
    const std::optional<QList<MailFolder>> folders = allFolders(context);
    if (!folders)
        return;
    const QString childPrefix = folder->name + QLatin1Char(Separator);
    const bool hasChildren = std::any_of(folders->cbegin(), folders->cend(),
                                         [&](const MailFolder &other) { return other.name.startsWith(childPrefix); });
    // RFC 9051 §6.3.5: a folder with sub-folders is emptied and stays as \Noselect.
    const bool deleted = hasChildren ? m_store->emptyFolderKeepingChildren(context.state.accountId, folder->id)
                                     : m_store->deleteFolder(context.state.accountId, folder->id);
    if (!deleted) {
        context.storeFailed(*m_store);
        return;
    }
    if (context.state.selected && context.selection().folderId == folder->id) {
        // RFC 9051 §7.1.5: BYE, and the connection closes after the reply.
        context.state.selected.reset();
        context.state.mustClose = true;
        context.out += "* BYE The selected mailbox was deleted\r\n";
    }
    qCInfo(lcImap).noquote() << context.state.username << "deleted folder" << folder->name;
    context.ok("DELETE completed");
}

void ImapMailbox::rename(Context &context)
{
    std::optional<QByteArray> from;
    std::optional<QByteArray> to;
    if (context.arguments.space())
        from = context.arguments.astring();
    if (from && context.arguments.space())
        to = context.arguments.astring();
    if (!from || !to || !context.atEnd("RENAME mailbox newname"))
        return;
    if (to->endsWith(Separator))
        to->chop(1);
    const std::optional<MailFolder> folder = folderNamed(context, *from);
    if (!folder)
        return;
    const std::optional<QString> newName = storeName(*to, context.state.utf8Names());
    if (!newName) {
        context.no("[CANNOT] The new name is not valid");
        return;
    }
    if (folder->role == FolderRole::Inbox) {
        // RFC 9051 §6.3.6: the inbox's messages move to a new folder of
        // that name, and the inbox stays, empty.
        const std::optional<MailFolder> target = m_store->createFolder(context.state.accountId, *newName);
        const std::optional<QList<FolderEntryState>> entries =
            target ? m_store->folderEntries(context.state.accountId, folder->id) : std::nullopt;
        if (!entries) {
            context.storeFailed(*m_store);
            return;
        }
        QList<qint64> ids;
        for (const FolderEntryState &entry : *entries)
            ids.append(entry.entryId);
        if (!ids.isEmpty() && !m_store->moveEntries(context.state.accountId, folder->id, ids, target->id)) {
            context.storeFailed(*m_store);
            return;
        }
        context.ok("RENAME completed");
        return;
    }
    if (folder->role) {
        context.no("[CANNOT] A special-use mailbox cannot be renamed");
        return;
    }
    if (!m_store->renameFolder(context.state.accountId, folder->id, *newName)) {
        context.storeFailed(*m_store);
        return;
    }
    if (context.state.selected && context.selection().folderId == folder->id) {
        if (const std::optional<MailFolder> renamed = m_store->folder(context.state.accountId, folder->id))
            context.selection().name = imapName(*renamed, context.state.utf8Names());
    }
    qCInfo(lcImap).noquote() << context.state.username << "renamed folder" << folder->name << "to" << *newName;
    context.ok("RENAME completed");
}

void ImapMailbox::subscribe(Context &context)
{
    std::optional<QByteArray> name;
    if (context.arguments.space())
        name = context.arguments.astring();
    if (!name || !context.atEnd(context.name + " mailbox"))
        return;
    const std::optional<QString> wanted = storeName(*name, context.state.utf8Names());
    if (!wanted) {
        context.no("[CANNOT] The mailbox name is not valid");
        return;
    }
    const bool done = context.name == "SUBSCRIBE" ? m_store->subscribe(context.state.accountId, *wanted)
                                                  : m_store->unsubscribe(context.state.accountId, *wanted);
    if (!done) {
        context.storeFailed(*m_store);
        return;
    }
    context.ok(context.name + " completed");
}

void ImapMailbox::list(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    const bool lsub = context.name == "LSUB";
    // RFC 5258: LIST [(selection options)] reference (pattern | (patterns)) [RETURN (options)]
    bool subscribedOnly = lsub;
    bool specialUseOnly = false;
    bool recursiveMatch = false;
    bool ok = arguments.space();
    if (ok && !lsub && arguments.peek() == '(') {
        const std::optional<QByteArrayList> options = readAtomList(arguments, true);
        ok = options.has_value();
        for (const QByteArray &option : options.value_or(QByteArrayList())) {
            if (option == "SUBSCRIBED")
                subscribedOnly = true;
            else if (option == "SPECIAL-USE")
                specialUseOnly = true;
            else if (option == "RECURSIVEMATCH")
                recursiveMatch = true;
            else if (option != "REMOTE") {
                arguments.fail("unknown selection option " + option);
                ok = false;
            }
        }
        ok = ok && arguments.space();
    }
    const std::optional<QByteArray> reference = ok ? arguments.astring() : std::nullopt;
    QByteArrayList patterns;
    ok = reference && arguments.space();
    if (ok && !lsub && arguments.accept('(')) {
        while (ok && !arguments.accept(')')) {
            if (!patterns.isEmpty())
                ok = arguments.space();
            const std::optional<QByteArray> pattern = ok ? arguments.listMailbox() : std::nullopt;
            ok = pattern.has_value();
            if (ok)
                patterns.append(*pattern);
        }
    } else if (ok) {
        const std::optional<QByteArray> pattern = arguments.listMailbox();
        ok = pattern.has_value();
        if (ok)
            patterns.append(*pattern);
    }
    bool returnSubscribed = subscribedOnly;
    bool returnChildren = true;
    bool returnSpecialUse = true;
    QByteArrayList statusItems;
    if (ok && !lsub && arguments.peek() == ' ') {
        ok = arguments.space() && arguments.takeWord("RETURN") && arguments.space() && arguments.take('(');
        while (ok && !arguments.accept(')')) {
            if (arguments.peek() == ' ')
                ok = arguments.space();
            const std::optional<QByteArray> option = ok ? arguments.atom() : std::nullopt;
            ok = option.has_value();
            if (!ok)
                break;
            const QByteArray upper = option->toUpper();
            if (upper == "SUBSCRIBED") {
                returnSubscribed = true;
            } else if (upper == "CHILDREN") {
                returnChildren = true;
            } else if (upper == "SPECIAL-USE") {
                returnSpecialUse = true;
            } else if (upper == "STATUS") {
                const std::optional<QByteArrayList> items = arguments.space() ? readAtomList(arguments, false) : std::nullopt;
                ok = items.has_value();
                statusItems = items.value_or(QByteArrayList());
            } else {
                arguments.fail("unknown return option " + upper);
                ok = false;
            }
        }
    }
    if (!ok || !context.atEnd(lsub ? "LSUB reference pattern" : "LIST [(options)] reference pattern [RETURN (...)]"))
        return;
    if (recursiveMatch && !subscribedOnly) {
        context.bad("RECURSIVEMATCH needs another selection option");
        return;
    }
    const bool utf8 = context.state.utf8Names();
    if (patterns.size() == 1 && patterns.first().isEmpty() && !lsub) {
        // RFC 9051 §6.3.9: the separator and the root.
        context.out += "* LIST (\\Noselect) \"/\" \"\"\r\n";
        context.ok("LIST completed");
        return;
    }
    const std::optional<QList<MailFolder>> folders = allFolders(context);
    if (!folders)
        return;
    std::optional<QStringList> subscriptions;
    if (returnSubscribed || subscribedOnly) {
        subscriptions = m_store->subscriptions(context.state.accountId);
        if (!subscriptions) {
            context.storeFailed(*m_store);
            return;
        }
    }
    struct Listed
    {
        QByteArray name;
        const MailFolder *folder = nullptr;
    };
    QList<Listed> listed;
    for (const MailFolder &folder : *folders)
        listed.append({imapName(folder, utf8), &folder});
    // RFC 5258 §3.1: subscribed names with no folder (deleted or never
    // made; DELETE does not unsubscribe) are listed too, \NonExistent.
    QList<MailFolder> gone;
    if (subscribedOnly) {
        for (const QString &name : std::as_const(*subscriptions)) {
            if (std::none_of(folders->cbegin(), folders->cend(), [&](const MailFolder &folder) { return folder.name == name; })) {
                MailFolder missing;
                missing.name = name;
                missing.selectable = false;
                gone.append(missing);
            }
        }
        for (const MailFolder &folder : std::as_const(gone))
            listed.append({imapName(folder, utf8), &folder});
    }
    // Role folders first, then the others by name: what clients show.
    std::sort(listed.begin(), listed.end(), [](const Listed &a, const Listed &b) {
        const int roleA = a.folder->role ? int(*a.folder->role) : 100;
        const int roleB = b.folder->role ? int(*b.folder->role) : 100;
        return roleA != roleB ? roleA < roleB : a.name < b.name;
    });
    QByteArray names;
    int count = 0;
    for (const Listed &entry : std::as_const(listed)) {
        bool matched = false;
        for (const QByteArray &pattern : std::as_const(patterns)) {
            QByteArray full = *reference + pattern;
            if (full.size() >= 5 && full.left(5).toUpper() == "INBOX" && (full.size() == 5 || full.at(5) == Separator))
                full.replace(0, 5, "INBOX");
            matched = matched
                || matchesPattern(QString::fromUtf8(entry.name), QString::fromUtf8(full));
        }
        if (!matched)
            continue;
        const MailFolder &folder = *entry.folder;
        const bool exists = folder.id != 0;
        const bool subscribed = folder.role.has_value() || (subscriptions && subscriptions->contains(folder.name));
        // RFC 5258 §3.5: with RECURSIVEMATCH, a folder not subscribed itself
        // but with a subscribed one below it is listed, saying so (CHILDINFO).
        const QString below = folder.name + QLatin1Char(Separator);
        const bool subscribedBelow = recursiveMatch && !subscribed && subscriptions
            && std::any_of(subscriptions->cbegin(), subscriptions->cend(),
                           [&](const QString &name) { return name.startsWith(below); });
        if (subscribedOnly && !subscribed && !subscribedBelow)
            continue;
        const QByteArray use = specialUse(folder);
        if (specialUseOnly && use.isEmpty())
            continue;
        if (++count > Store::MaxFolders)
            break;
        QByteArrayList attributes;
        if (!exists && !lsub)
            attributes.append("\\NonExistent"); // implies \Noselect (RFC 5258 §3)
        else if (!folder.selectable)
            attributes.append("\\Noselect");
        if (returnChildren && !lsub && exists) {
            const QString prefix = folder.name + QLatin1Char(Separator);
            const bool children = std::any_of(folders->cbegin(), folders->cend(),
                                              [&](const MailFolder &other) { return other.name.startsWith(prefix); });
            attributes.append(children ? "\\HasChildren" : "\\HasNoChildren");
        }
        if (returnSubscribed && subscribed && !lsub)
            attributes.append("\\Subscribed");
        if (returnSpecialUse && !use.isEmpty())
            attributes.append(use);
        const QByteArray mailbox = ImapResponse::astring(entry.name, utf8);
        context.out += "* " + context.name + " (" + attributes.join(' ') + ") \"/\" " + mailbox
            + (subscribedBelow && subscribedOnly ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : "") + "\r\n";
        if (!statusItems.isEmpty() && folder.selectable && exists) {
            const std::optional<QByteArray> items = folderStatus(context, folder, statusItems);
            if (!items)
                return;
            context.out += "* STATUS " + mailbox + ' ' + *items + "\r\n";
        }
    }
    context.ok(context.name + " completed");
}

void ImapMailbox::namespaceCommand(Context &context)
{
    if (!context.atEnd("NAMESPACE takes no arguments"))
        return;
    context.out += "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n";
    context.ok("NAMESPACE completed");
}

std::optional<QByteArray> ImapMailbox::folderStatus(Context &context, const MailFolder &folder,
                                                    const QList<QByteArray> &items)
{
    QByteArrayList values;
    std::optional<QList<FolderEntryState>> entries;
    for (const QByteArray &item : items) {
        qint64 value = 0;
        if (item == "MESSAGES") {
            value = folder.total;
        } else if (item == "UNSEEN") {
            value = folder.unseen;
        } else if (item == "UIDNEXT") {
            value = folder.uidNext;
        } else if (item == "UIDVALIDITY") {
            value = folder.uidValidity;
        } else if (item == "RECENT") {
            value = 0;
        } else if (item == "HIGHESTMODSEQ") {
            value = folder.highestModseq;
        } else if (item == "SIZE") {
            const std::optional<qint64> size = m_store->folderSize(context.state.accountId, folder.id);
            if (!size) {
                context.storeFailed(*m_store);
                return std::nullopt;
            }
            value = *size;
        } else if (item == "DELETED") {
            if (!entries)
                entries = m_store->folderEntries(context.state.accountId, folder.id);
            if (!entries) {
                context.storeFailed(*m_store);
                return std::nullopt;
            }
            value = std::count_if(entries->cbegin(), entries->cend(),
                                  [](const FolderEntryState &entry) { return entry.flags.deleted; });
        } else {
            context.bad("Unknown STATUS item " + item);
            return std::nullopt;
        }
        values.append(item + ' ' + QByteArray::number(value));
    }
    return '(' + values.join(' ') + ')';
}

void ImapMailbox::status(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    std::optional<QByteArray> name;
    if (arguments.space())
        name = arguments.astring();
    const std::optional<QByteArrayList> items =
        name && arguments.space() ? readAtomList(arguments, false) : std::nullopt;
    if (!items || !context.atEnd("STATUS mailbox (items)"))
        return;
    const std::optional<MailFolder> folder = folderNamed(context, *name);
    if (!folder)
        return;
    if (!folder->selectable) {
        context.no("[CANNOT] The mailbox holds folders only (\\Noselect)");
        return;
    }
    const std::optional<QByteArray> values = folderStatus(context, *folder, *items);
    if (!values)
        return;
    context.out += "* STATUS " + ImapResponse::astring(imapName(*folder, context.state.utf8Names()), context.state.utf8Names()) + ' ' + *values
        + "\r\n";
    context.ok("STATUS completed");
}

void ImapMailbox::append(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    std::optional<QByteArray> name;
    if (arguments.space())
        name = arguments.astring();
    QList<AppendedMessage> messages;
    bool ok = name.has_value();
    // RFC 3502: one or more of [flags] [date-time] literal.
    while (ok && arguments.accept(' ')) {
        AppendedMessage message;
        if (arguments.peek() == '(') {
            ok = readFlagList(arguments, &message.flags, &message.keywords, false) && arguments.space();
            if (!ok)
                break;
        }
        message.message.receivedAt = QDateTime::currentDateTimeUtc();
        if (arguments.peek() == '"') {
            const std::optional<QByteArray> date = arguments.string();
            const std::optional<QDateTime> parsed = date ? ImapDate::parseDateTime(*date) : std::nullopt;
            if (!parsed) {
                arguments.fail("expected a date-time \"dd-Mon-yyyy hh:mm:ss +zzzz\"");
                ok = false;
                break;
            }
            message.message.receivedAt = parsed->toUTC();
            ok = arguments.space();
        }
        const bool utf8Wrapper = arguments.acceptWord("UTF8");
        if (utf8Wrapper)
            ok = arguments.space() && arguments.take('(');
        const std::optional<QByteArray> raw = ok ? arguments.messageLiteral() : std::nullopt;
        ok = raw.has_value() && (!utf8Wrapper || arguments.take(')'));
        if (!ok)
            break;
        message.message.raw = *raw;
        messages.append(std::move(message));
    }
    if (!ok || messages.isEmpty() || !context.atEnd("APPEND mailbox [(flags)] [date-time] message ..."))
        return;
    const std::optional<MailFolder> folder = folderNamed(context, *name);
    if (!folder) {
        if (context.completion.contains("[NONEXISTENT]"))
            context.no("[TRYCREATE] No such mailbox");
        return;
    }
    for (AppendedMessage &message : messages) {
        NewMessage &stored = message.message;
        if (stored.raw.isEmpty()) {
            context.no("[CANNOT] An empty message");
            return;
        }
        if (stored.raw.size() > m_settings.appendLimit) {
            context.no("[TOOBIG] The message is over the size limit");
            return;
        }
        if (HeaderBlock::sectionSize(stored.raw) > m_settings.maxHeaderBytes) {
            context.no("[LIMIT] The header section is over " + QByteArray::number(m_settings.maxHeaderBytes) + " bytes");
            return;
        }
        for (const QString &keyword : std::as_const(message.keywords)) {
            if (Store::keywordFault(keyword)) {
                context.no("[CANNOT] Not a keyword: " + keyword.toUtf8());
                return;
            }
        }
        const QDateTime internalDate = stored.receivedAt;
        stored = Store::parsedMessage(stored.raw);
        stored.receivedAt = internalDate;
    }
    const std::optional<QList<MailboxEntry>> entries = m_store->appendMessages(context.state.accountId, folder->id, messages);
    if (!entries) {
        context.storeFailed(*m_store);
        return;
    }
    QList<quint32> uids;
    for (const MailboxEntry &entry : *entries)
        uids.append(quint32(entry.uid));
    qCInfo(lcImap).noquote() << context.state.username << "appended" << entries->size() << "messages to folder"
                             << folder->name;
    // A new message in the selected folder shows at once (EXISTS).
    if (context.state.selected && context.selection().folderId == folder->id)
        context.state.heardModseq = std::max(context.state.heardModseq, entries->constLast().modseq);
    context.ok("[APPENDUID " + QByteArray::number(folder->uidValidity) + ' ' + ImapFolderView::uidSet(uids)
               + "] APPEND completed");
}

void ImapMailbox::close(Context &context)
{
    if (!context.atEnd(context.name + " takes no arguments"))
        return;
    ImapSelection &selection = context.selection();
    if (context.name == "CLOSE" && !selection.readOnly) {
        // RFC 9051 §6.4.1: \Deleted messages go, silently.
        QList<qint64> deleted;
        for (const ImapViewMessage &message : selection.view.messages()) {
            if (message.flags.deleted)
                deleted.append(message.entryId);
        }
        if (!deleted.isEmpty() && !m_store->expungeEntries(context.state.accountId, selection.folderId, deleted)) {
            context.storeFailed(*m_store);
            return;
        }
    }
    context.state.selected.reset();
    context.ok(context.name + " completed");
}

void ImapMailbox::expunge(Context &context)
{
    std::optional<ImapSequenceSet> set;
    if (context.byUid) {
        // RFC 4315 UID EXPUNGE: only these.
        if (context.arguments.space())
            set = context.sequenceSet();
        if (!set || !context.atEnd("UID EXPUNGE uid-set"))
            return;
    } else if (!context.atEnd("EXPUNGE takes no arguments")) {
        return;
    }
    if (context.selection().readOnly) {
        context.no("[READ-ONLY] The mailbox is read-only");
        return;
    }
    // \Deleted set by other sessions counts too: the view is brought up to
    // date first (expunges may be told during EXPUNGE).
    context.out += synchronize(context.state, true, true);
    if (!context.state.selected) {
        context.no("[NONEXISTENT] The mailbox is gone");
        return;
    }
    ImapSelection &selection = context.selection();
    std::optional<ImapFolderView::Ranges> among;
    if (set)
        among = selection.view.resolve(*set, true);
    QList<qint64> deleted;
    const auto consider = [&](qsizetype index) {
        if (selection.view.at(index).flags.deleted)
            deleted.append(selection.view.at(index).entryId);
    };
    if (among) {
        for (const auto &range : std::as_const(*among)) {
            for (qsizetype i = range.first; i <= range.second; ++i)
                consider(i);
        }
    } else {
        for (qsizetype i = 0; i < selection.view.count(); ++i)
            consider(i);
    }
    if (!deleted.isEmpty() && !m_store->expungeEntries(context.state.accountId, selection.folderId, deleted)) {
        context.storeFailed(*m_store);
        return;
    }
    // The updates that follow the command say which went (ours and others').
    context.forceSync = true;
    context.ok(context.name + " completed");
}

void ImapMailbox::copy(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    std::optional<ImapSequenceSet> set;
    std::optional<QByteArray> name;
    if (arguments.space())
        set = context.sequenceSet();
    if (set && arguments.space())
        name = arguments.astring();
    if (!set || !name || !context.atEnd(context.name + " sequence-set mailbox"))
        return;
    const bool move = context.name == "MOVE";
    ImapSelection &selection = context.selection();
    if (move && selection.readOnly) {
        context.no("[READ-ONLY] The mailbox is read-only");
        return;
    }
    const std::optional<ImapFolderView::Ranges> ranges = selection.view.resolve(*set, context.byUid);
    if (!ranges) {
        context.bad("No such message number");
        return;
    }
    const std::optional<MailFolder> target = folderNamed(context, *name);
    if (!target) {
        if (context.completion.contains("[NONEXISTENT]"))
            context.no("[TRYCREATE] No such mailbox");
        return;
    }
    QList<qint64> ids;
    for (const auto &range : std::as_const(*ranges)) {
        for (qsizetype i = range.first; i <= range.second; ++i)
            ids.append(selection.view.at(i).entryId);
    }
    if (ids.isEmpty()) {
        context.ok(context.name + " completed: no messages");
        return;
    }
    const std::optional<CopyResult> result =
        move ? m_store->moveEntries(context.state.accountId, selection.folderId, ids, target->id)
             : m_store->copyEntries(context.state.accountId, selection.folderId, ids, target->id);
    if (!result) {
        context.storeFailed(*m_store);
        return;
    }
    QList<quint32> sourceUids;
    QList<quint32> targetUids;
    for (const CopiedEntry &entry : result->entries) {
        sourceUids.append(quint32(entry.sourceUid));
        targetUids.append(quint32(entry.uid));
    }
    // RFC 4315 COPYUID: the uids pair up in order.
    const QByteArray copyUid = "[COPYUID " + QByteArray::number(result->uidValidity) + ' '
        + ImapFolderView::uidSet(sourceUids) + ' ' + ImapFolderView::uidSet(targetUids) + ']';
    if (move) {
        // RFC 6851 §4.3: COPYUID comes untagged, then the expunges.
        context.out += "* OK " + copyUid + " Moved\r\n";
        context.forceSync = true;
        context.ok("MOVE completed");
    } else {
        context.forceSync = target->id == selection.folderId;
        context.ok(copyUid + " COPY completed");
    }
}
