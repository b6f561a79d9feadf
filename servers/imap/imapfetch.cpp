// FETCH and STORE (RFC 9051 §6.4.5, §6.4.6; CONDSTORE and QRESYNC, RFC 7162;
// BINARY, RFC 3516).

#include "imapmailbox.h"
#include "imapmailbox_p.h"
#include "imapmessage.h"

bool readFlagList(ImapArgumentReader &arguments, EntryFlags *flags, QStringList *keywords, bool parenthesesOptional);

namespace {

struct FetchItem
{
    enum class Kind {
        Flags,
        InternalDate,
        Size,
        Envelope,
        Body, // BODY without a section: the non-extensible structure
        BodyStructure,
        Uid,
        Modseq,
        Rfc822,
        Rfc822Header,
        Rfc822Text,
        Section,
        Binary,
        BinarySize,
    };
    Kind kind = Kind::Flags;
    ImapSection section;
    std::optional<ImapPartial> partial;
    bool peek = false;

    // Whether the item needs the message's bytes.
    [[nodiscard]] bool needsRaw() const
    {
        return kind != Kind::Flags && kind != Kind::InternalDate && kind != Kind::Size && kind != Kind::Uid
            && kind != Kind::Modseq;
    }
    // Whether fetching it marks the message \Seen (RFC 9051 §6.4.5).
    [[nodiscard]] bool setsSeen() const
    {
        return !peek && (kind == Kind::Rfc822 || kind == Kind::Rfc822Text || kind == Kind::Section || kind == Kind::Binary);
    }
};

std::optional<FetchItem> readFetchItem(ImapArgumentReader &arguments)
{
    using Kind = FetchItem::Kind;
    FetchItem item;
    const auto withSection = [&](bool binary) -> std::optional<FetchItem> {
        const std::optional<ImapSection> section = binary ? ImapSection::parseBinary(arguments) : ImapSection::parse(arguments);
        if (!section)
            return std::nullopt;
        item.section = *section;
        if (item.kind != Kind::BinarySize && arguments.peek() == '<') {
            item.partial = ImapPartial::parse(arguments);
            if (!item.partial)
                return std::nullopt;
        }
        return item;
    };
    // Items of a section go before the brackets, which are atom characters.
    if (arguments.acceptWord("BODYSTRUCTURE")) {
        item.kind = Kind::BodyStructure;
        return item;
    }
    if (arguments.acceptPrefix("BODY.PEEK")) {
        item.kind = Kind::Section;
        item.peek = true;
        return withSection(false);
    }
    if (arguments.acceptPrefix("BINARY.PEEK")) {
        item.kind = Kind::Binary;
        item.peek = true;
        return withSection(true);
    }
    if (arguments.acceptPrefix("BINARY.SIZE")) {
        item.kind = Kind::BinarySize;
        return withSection(true);
    }
    if (arguments.acceptPrefix("BINARY")) {
        item.kind = Kind::Binary;
        return withSection(true);
    }
    if (arguments.acceptPrefix("BODY")) {
        if (arguments.peek() != '[') {
            item.kind = Kind::Body;
            return item;
        }
        item.kind = Kind::Section;
        return withSection(false);
    }
    static const std::pair<const char *, Kind> simple[] = {
        {"FLAGS", Kind::Flags},        {"INTERNALDATE", Kind::InternalDate},   {"RFC822.SIZE", Kind::Size},
        {"ENVELOPE", Kind::Envelope},  {"BODYSTRUCTURE", Kind::BodyStructure}, {"UID", Kind::Uid},
        {"MODSEQ", Kind::Modseq},      {"RFC822.HEADER", Kind::Rfc822Header},  {"RFC822.TEXT", Kind::Rfc822Text},
        {"RFC822", Kind::Rfc822},
    };
    for (const auto &[name, kind] : simple) {
        if (arguments.acceptWord(name)) {
            item.kind = kind;
            // RFC822.HEADER is BODY.PEEK[HEADER] (RFC 9051 §6.4.5).
            item.peek = kind == Kind::Rfc822Header;
            return item;
        }
    }
    arguments.fail("expected a FETCH item");
    return std::nullopt;
}

// FETCH's items: one, a list, or a macro (ALL, FAST, FULL).
std::optional<QList<FetchItem>> readFetchItems(ImapArgumentReader &arguments)
{
    using Kind = FetchItem::Kind;
    const auto items = [](std::initializer_list<Kind> kinds) {
        QList<FetchItem> list;
        for (const Kind kind : kinds)
            list.append(FetchItem{kind, {}, {}, false});
        return list;
    };
    if (arguments.acceptWord("ALL"))
        return items({Kind::Flags, Kind::InternalDate, Kind::Size, Kind::Envelope});
    if (arguments.acceptWord("FAST"))
        return items({Kind::Flags, Kind::InternalDate, Kind::Size});
    if (arguments.acceptWord("FULL"))
        return items({Kind::Flags, Kind::InternalDate, Kind::Size, Kind::Envelope, Kind::Body});
    QList<FetchItem> list;
    if (!arguments.accept('(')) {
        const std::optional<FetchItem> item = readFetchItem(arguments);
        if (!item)
            return std::nullopt;
        list.append(*item);
        return list;
    }
    while (!arguments.accept(')')) {
        if (!list.isEmpty() && !arguments.space())
            return std::nullopt;
        const std::optional<FetchItem> item = readFetchItem(arguments);
        if (!item)
            return std::nullopt;
        list.append(*item);
    }
    if (list.isEmpty()) {
        arguments.fail("expected FETCH items");
        return std::nullopt;
    }
    return list;
}

} // namespace

void ImapMailbox::fetch(Context &context)
{
    using Kind = FetchItem::Kind;
    ImapArgumentReader &arguments = context.arguments;
    context.expungesAllowed = context.byUid;
    std::optional<ImapSequenceSet> set;
    if (arguments.space())
        set = context.sequenceSet();
    std::optional<QList<FetchItem>> items;
    if (set && arguments.space())
        items = readFetchItems(arguments);
    std::optional<qint64> changedSince;
    bool vanished = false;
    if (items && arguments.peek() == ' ') {
        // RFC 7162 §3.1.4: (CHANGEDSINCE modseq [VANISHED])
        bool ok = arguments.space() && arguments.take('(');
        while (ok && !arguments.accept(')')) {
            if (arguments.peek() == ' ')
                ok = arguments.space();
            if (arguments.acceptWord("CHANGEDSINCE")) {
                const std::optional<quint64> modseq = arguments.space() ? arguments.number64() : std::nullopt;
                ok = modseq.has_value();
                changedSince = modseq ? qint64(*modseq) : 0;
            } else if (arguments.acceptWord("VANISHED")) {
                vanished = true;
            } else {
                arguments.fail("expected CHANGEDSINCE or VANISHED");
                ok = false;
            }
        }
    }
    if (!items || !context.atEnd("FETCH sequence-set items [(CHANGEDSINCE modseq [VANISHED])]")) {
        context.state.continuation.reset();
        return;
    }
    if (vanished && (!context.byUid || !changedSince || !context.state.qresync)) {
        context.bad("VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled");
        return;
    }
    ImapSelection &selection = context.selection();
    const bool condstore = context.state.condstore || changedSince.has_value()
        || std::any_of(items->cbegin(), items->cend(), [](const FetchItem &item) { return item.kind == Kind::Modseq; });
    if (condstore && !context.state.condstore)
        context.state.condstore = true; // RFC 7162 §3.1: a CONDSTORE-enabling command
    // The messages to answer, by uid: a long FETCH goes on from where its last step stopped.
    QList<quint32> uids;
    if (context.state.continuation) {
        uids = std::move(context.state.continuation->uids);
        context.state.continuation.reset();
    } else {
        const std::optional<ImapFolderView::Ranges> ranges = selection.view.resolve(*set, context.byUid);
        if (!ranges) {
            context.bad("No such message number");
            return;
        }
        if (vanished)
            context.out += vanishedSince(context, *changedSince, set->saved ? nullptr : &*set);
        for (const auto &range : std::as_const(*ranges)) {
            for (qsizetype i = range.first; i <= range.second; ++i) {
                if (!changedSince || selection.view.at(i).modseq > *changedSince)
                    uids.append(selection.view.at(i).uid);
            }
        }
    }
    const bool needsRaw = std::any_of(items->cbegin(), items->cend(), [](const FetchItem &item) { return item.needsRaw(); });
    const bool needsDetails = needsRaw || std::any_of(items->cbegin(), items->cend(), [](const FetchItem &item) {
        return item.kind == Kind::InternalDate || item.kind == Kind::Size;
    });
    const bool setsSeen = !selection.readOnly
        && std::any_of(items->cbegin(), items->cend(), [](const FetchItem &item) { return item.setsSeen(); });
    // A step: as many messages as fit the step's output, read in batches.
    constexpr qsizetype Batch = 50;
    qsizetype next = 0;
    while (next < uids.size()) {
        if (context.out.size() >= m_settings.maxStepOutput) {
            context.state.continuation = ImapContinuation{context.command, 0, uids.mid(next)};
            context.finished = false;
            return;
        }
        QList<quint32> batch = uids.mid(next, Batch);
        QList<qint64> ids;
        QList<qsizetype> indexes;
        for (const quint32 uid : std::as_const(batch)) {
            const std::optional<qsizetype> index = selection.view.indexOfUid(uid);
            indexes.append(index.value_or(-1));
            ids.append(index ? selection.view.at(*index).entryId : 0);
        }
        if (needsRaw) {
            const qsizetype fits = batchWithinBytes(m_store, context, ids);
            if (fits < 0)
                return;
            batch.resize(fits);
            ids.resize(fits);
            indexes.resize(fits);
        }
        next += batch.size();
        indexes.removeAll(-1);
        ids.removeAll(0);
        QHash<qint64, EntryDetails> details;
        if (needsDetails) {
            const std::optional<QList<EntryDetails>> read = m_store->entryDetails(context.state.accountId, ids, needsRaw);
            if (!read) {
                context.storeFailed(*m_store);
                return;
            }
            for (const EntryDetails &entry : *read)
                details.insert(entry.entryId, entry);
        }
        QSet<qint64> seenNow;
        if (setsSeen) {
            QList<qint64> unseen;
            for (const qsizetype index : std::as_const(indexes)) {
                if (!selection.view.at(index).flags.seen && details.contains(selection.view.at(index).entryId))
                    unseen.append(selection.view.at(index).entryId);
            }
            if (!unseen.isEmpty()) {
                FlagsChange change;
                change.mode = FlagsChange::Mode::Add;
                change.flags.seen = true;
                const std::optional<FlagsResult> result =
                    m_store->storeFlags(context.state.accountId, selection.folderId, unseen, change);
                if (!result) {
                    context.storeFailed(*m_store);
                    return;
                }
                for (const FolderEntryState &entry : result->changed) {
                    if (const std::optional<qsizetype> index = selection.view.indexOfUid(quint32(entry.uid))) {
                        ImapViewMessage &message = selection.view.at(*index);
                        message.flags = entry.flags;
                        message.keywords = entry.keywords;
                        message.modseq = entry.modseq;
                        seenNow.insert(entry.entryId);
                    }
                }
            }
        }
        for (const qsizetype index : std::as_const(indexes)) {
            const ImapViewMessage &message = selection.view.at(index);
            const auto found = details.constFind(message.entryId);
            if (needsDetails && found == details.cend())
                continue; // expunged meanwhile: nothing to send (RFC 9051 §7.5.1 allows it)
            std::optional<MimeMessage> parsed;
            QByteArrayList parts;
            // What one message's response may hold: a few times the message
            // (BODY[] with its HEADER and TEXT, say), not an item named a
            // thousand times over.
            const qint64 responseLimit = 4 * (found == details.cend() ? 0 : found->size) + 1024 * 1024;
            qint64 responseSize = 0;
            bool uidSaid = false;
            bool flagsSaid = false;
            bool modseqSaid = false;
            for (const FetchItem &item : std::as_const(*items)) {
                if (item.needsRaw() && !parsed)
                    parsed = MimeMessage::parse(found->raw);
                if (!parts.isEmpty())
                    responseSize += parts.constLast().size();
                if (responseSize > responseLimit) {
                    context.no("[LIMIT] FETCH asks for too much of one message: name each item once");
                    return;
                }
                switch (item.kind) {
                case Kind::Flags:
                    if (!flagsSaid)
                        parts.append("FLAGS " + flagList(message.flags, message.keywords));
                    flagsSaid = true;
                    break;
                case Kind::InternalDate:
                    parts.append("INTERNALDATE \"" + ImapDate::formatDateTime(found->receivedAt) + '"');
                    break;
                case Kind::Size:
                    parts.append("RFC822.SIZE " + QByteArray::number(found->raw.isEmpty() && !needsRaw ? found->size
                                                                                                     : found->raw.size()));
                    break;
                case Kind::Envelope:
                    parts.append("ENVELOPE " + ImapMessage::envelope(*parsed));
                    break;
                case Kind::Body:
                    parts.append("BODY " + ImapMessage::bodyStructure(*parsed, false));
                    break;
                case Kind::BodyStructure:
                    parts.append("BODYSTRUCTURE " + ImapMessage::bodyStructure(*parsed, true));
                    break;
                case Kind::Uid:
                    if (!uidSaid)
                        parts.append("UID " + QByteArray::number(message.uid));
                    uidSaid = true;
                    break;
                case Kind::Modseq:
                    if (!modseqSaid)
                        parts.append("MODSEQ (" + QByteArray::number(message.modseq) + ')');
                    modseqSaid = true;
                    break;
                case Kind::Rfc822:
                    parts.append("RFC822 " + ImapResponse::literal(found->raw));
                    break;
                case Kind::Rfc822Header:
                case Kind::Rfc822Text: {
                    ImapSection section;
                    section.text = item.kind == Kind::Rfc822Header ? ImapSection::Text::Header : ImapSection::Text::Text;
                    parts.append((item.kind == Kind::Rfc822Header ? "RFC822.HEADER " : "RFC822.TEXT ")
                                 + ImapResponse::literal(ImapMessage::sectionBytes(*parsed, section)));
                    break;
                }
                case Kind::Section: {
                    QByteArray name = item.section.name("BODY");
                    QByteArray bytes = ImapMessage::sectionBytes(*parsed, item.section);
                    if (item.partial) {
                        name += '<' + QByteArray::number(item.partial->origin) + '>';
                        bytes = item.partial->cut(bytes);
                    }
                    parts.append(name + ' ' + ImapResponse::literal(bytes));
                    break;
                }
                case Kind::Binary:
                case Kind::BinarySize: {
                    const ImapBinarySection binary = ImapMessage::binarySection(*parsed, item.section.part);
                    if (binary.outcome == ImapBinarySection::Outcome::UnknownEncoding) {
                        context.no("[UNKNOWN-CTE] The part's Content-Transfer-Encoding is not known");
                        return;
                    }
                    if (binary.outcome == ImapBinarySection::Outcome::Multipart) {
                        context.no("[CANNOT] BINARY of a multipart");
                        return;
                    }
                    if (item.kind == Kind::BinarySize) {
                        parts.append(item.section.name("BINARY.SIZE") + ' ' + QByteArray::number(binary.bytes.size()));
                        break;
                    }
                    QByteArray name = item.section.name("BINARY");
                    QByteArray bytes = binary.bytes;
                    if (item.partial) {
                        name += '<' + QByteArray::number(item.partial->origin) + '>';
                        bytes = item.partial->cut(bytes);
                    }
                    parts.append(name + ' ' + ImapResponse::literal(bytes, bytes.contains('\0')));
                    break;
                }
                }
            }
            if (context.byUid && !uidSaid)
                parts.prepend("UID " + QByteArray::number(message.uid));
            if (seenNow.contains(message.entryId) && !flagsSaid)
                parts.append("FLAGS " + flagList(message.flags, message.keywords));
            if (condstore && !modseqSaid && (flagsSaid || seenNow.contains(message.entryId) || changedSince))
                parts.append("MODSEQ (" + QByteArray::number(message.modseq) + ')');
            context.out += "* " + QByteArray::number(index + 1) + " FETCH (" + parts.join(' ') + ")\r\n";
        }
    }
    context.ok(context.byUid ? "UID FETCH completed" : "FETCH completed");
}

void ImapMailbox::store(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    context.expungesAllowed = context.byUid;
    std::optional<ImapSequenceSet> set;
    if (arguments.space())
        set = context.sequenceSet();
    bool ok = set && arguments.space();
    FlagsChange change;
    if (ok && arguments.accept('(')) {
        // RFC 7162 §3.1.3: (UNCHANGEDSINCE modseq)
        ok = arguments.acceptWord("UNCHANGEDSINCE") && arguments.space();
        const std::optional<quint64> modseq = ok ? arguments.number64() : std::nullopt;
        ok = modseq && arguments.take(')') && arguments.space();
        if (modseq)
            change.unchangedSince = qint64(*modseq);
    }
    bool silent = false;
    if (ok) {
        if (arguments.accept('+'))
            change.mode = FlagsChange::Mode::Add;
        else if (arguments.accept('-'))
            change.mode = FlagsChange::Mode::Remove;
        const std::optional<QByteArray> item = arguments.atom();
        const QByteArray upper = item.value_or(QByteArray()).toUpper();
        ok = upper == "FLAGS" || upper == "FLAGS.SILENT";
        silent = upper == "FLAGS.SILENT";
        ok = ok && arguments.space() && readFlagList(arguments, &change.flags, &change.keywords, true);
    }
    if (!ok || !context.atEnd("STORE sequence-set [(UNCHANGEDSINCE modseq)] [+|-]FLAGS[.SILENT] (flags)"))
        return;
    ImapSelection &selection = context.selection();
    if (selection.readOnly) {
        context.no("[READ-ONLY] The mailbox is read-only");
        return;
    }
    for (const QString &keyword : std::as_const(change.keywords)) {
        if (const auto fault = Store::keywordFault(keyword)) {
            context.no("[CANNOT] " + fault->toUtf8());
            return;
        }
    }
    const std::optional<ImapFolderView::Ranges> ranges = selection.view.resolve(*set, context.byUid);
    if (!ranges) {
        context.bad("No such message number");
        return;
    }
    QList<qint64> ids;
    for (const auto &range : std::as_const(*ranges)) {
        for (qsizetype i = range.first; i <= range.second; ++i)
            ids.append(selection.view.at(i).entryId);
    }
    if (change.unchangedSince)
        context.state.condstore = true;
    const std::optional<FlagsResult> result =
        ids.isEmpty() ? FlagsResult{} : m_store->storeFlags(context.state.accountId, selection.folderId, ids, change);
    if (!result) {
        context.storeFailed(*m_store);
        return;
    }
    for (const FolderEntryState &entry : result->changed) {
        const std::optional<qsizetype> index = selection.view.indexOfUid(quint32(entry.uid));
        if (!index)
            continue;
        ImapViewMessage &message = selection.view.at(*index);
        message.flags = entry.flags;
        message.keywords = entry.keywords;
        message.modseq = entry.modseq;
        // RFC 7162 §3.1.3: with UNCHANGEDSINCE, even .SILENT says the new MODSEQ.
        if (silent && change.unchangedSince)
            context.out += "* " + QByteArray::number(*index + 1) + " FETCH (" + (context.byUid ? "UID " + QByteArray::number(message.uid) + ' ' : QByteArray())
                + "MODSEQ (" + QByteArray::number(message.modseq) + "))\r\n";
    }
    if (!silent) {
        // RFC 9051 §6.4.6: the flags of every message named, as a FETCH of
        // them would say, changed or not (a client setting \Seen on a
        // message that had it reads the answer all the same); not those an
        // UNCHANGEDSINCE kept from changing (MODIFIED below names them).
        const QSet<qint64> refused(result->refusedEntryIds.cbegin(), result->refusedEntryIds.cend());
        for (const auto &range : std::as_const(*ranges)) {
            for (qsizetype i = range.first; i <= range.second; ++i) {
                if (!refused.contains(selection.view.at(i).entryId))
                    context.out += flagsFetch(context.state, i, context.byUid);
            }
        }
    }
    if (!result->refusedEntryIds.isEmpty()) {
        QList<quint32> numbers;
        const QSet<qint64> refused(result->refusedEntryIds.cbegin(), result->refusedEntryIds.cend());
        for (qsizetype i = 0; i < selection.view.count(); ++i) {
            if (refused.contains(selection.view.at(i).entryId))
                numbers.append(context.byUid ? selection.view.at(i).uid : quint32(i + 1));
        }
        context.ok("[MODIFIED " + ImapFolderView::uidSet(numbers) + "] Conditional STORE failed for some");
        return;
    }
    context.ok(context.byUid ? "UID STORE completed" : "STORE completed");
}
