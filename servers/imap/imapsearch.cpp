// SEARCH (RFC 9051 §6.4.4, with ESEARCH RFC 4731 and CONDSTORE's MODSEQ),
// SORT (RFC 5256, ESORT RFC 5267) and THREAD (RFC 5256).

#include "imapmailbox.h"
#include "imapmailbox_p.h"
#include "imapsortthread.h"
#include "maildate.h"
#include "mimemessage.h"

namespace {

// How deep parentheses, NOT and OR may nest: a client's real searches are
// a few levels; 10,000 must not cost a stack.
constexpr int MaxSearchDepth = 64;

struct SearchKey
{
    enum class Kind {
        All, Answered, Deleted, Draft, Flagged, Seen, Recent, New, Old,
        Unanswered, Undeleted, Undraft, Unflagged, Unseen,
        Keyword, Unkeyword,
        Bcc, Body, Cc, From, Subject, Text, To, Header,
        Before, On, Since, SentBefore, SentOn, SentSince,
        Larger, Smaller,
        Uid, Sequence,
        Modseq,
        Not, Or, And,
    };
    Kind kind = Kind::All;
    QByteArray field; // HEADER's field name
    QString text;     // what to find, or the keyword
    QDate date;
    qint64 number = 0;
    ImapSequenceSet set;
    QList<SearchKey> children;
};

// What a search needs of each message beyond the view.
struct SearchNeeds
{
    bool details = false; // size, internal date
    bool content = false; // the parsed message
};

void addNeeds(const SearchKey &key, SearchNeeds *needs)
{
    using Kind = SearchKey::Kind;
    switch (key.kind) {
    case Kind::Before:
    case Kind::On:
    case Kind::Since:
    case Kind::Larger:
    case Kind::Smaller:
        needs->details = true;
        break;
    case Kind::Bcc:
    case Kind::Body:
    case Kind::Cc:
    case Kind::From:
    case Kind::Subject:
    case Kind::Text:
    case Kind::To:
    case Kind::Header:
    case Kind::SentBefore:
    case Kind::SentOn:
    case Kind::SentSince:
        needs->details = true;
        needs->content = true;
        break;
    default:
        break;
    }
    for (const SearchKey &child : key.children)
        addNeeds(child, needs);
}

class SearchParser
{
public:
    SearchParser(ImapArgumentReader &arguments, bool utf8, const QList<quint32> &savedUids)
        : m_arguments(arguments)
        , m_utf8(utf8)
        , m_savedUids(savedUids)
    {
    }

    // One or more keys separated by spaces, up to the end or a ")".
    std::optional<SearchKey> keys(int depth)
    {
        SearchKey all;
        all.kind = SearchKey::Kind::And;
        while (true) {
            const std::optional<SearchKey> key = this->key(depth);
            if (!key)
                return std::nullopt;
            all.children.append(*key);
            if (m_arguments.peek() != ' ')
                break;
            m_arguments.space();
        }
        return all;
    }

    bool usesModseq = false;

private:
    std::optional<QString> text()
    {
        if (!m_arguments.space())
            return std::nullopt;
        const std::optional<QByteArray> value = m_arguments.astring();
        if (!value)
            return std::nullopt;
        return m_utf8 ? QString::fromUtf8(*value) : QString::fromLatin1(*value);
    }
    std::optional<QDate> date()
    {
        if (!m_arguments.space())
            return std::nullopt;
        const std::optional<QByteArray> value = m_arguments.astring();
        const std::optional<QDate> parsed = value ? ImapDate::parseDate(*value) : std::nullopt;
        if (value && !parsed)
            m_arguments.fail("expected a date d-Mon-yyyy");
        return parsed;
    }

    std::optional<SearchKey> key(int depth)
    {
        using Kind = SearchKey::Kind;
        if (depth > MaxSearchDepth) {
            m_arguments.fail("search keys nested too deep");
            return std::nullopt;
        }
        SearchKey key;
        if (m_arguments.accept('(')) {
            std::optional<SearchKey> inner = keys(depth + 1);
            if (!inner || !m_arguments.take(')'))
                return std::nullopt;
            return inner;
        }
        if (m_arguments.accept('$')) {
            key.kind = Kind::Sequence;
            key.set = ImapMailbox::Context::savedSet(m_savedUids);
            return key;
        }
        const char first = m_arguments.peek();
        if ((first >= '0' && first <= '9') || first == '*') {
            const std::optional<ImapSequenceSet> set = m_arguments.sequenceSet();
            if (!set)
                return std::nullopt;
            key.kind = Kind::Sequence;
            key.set = *set;
            return key;
        }
        const std::optional<QByteArray> atom = m_arguments.atom();
        if (!atom)
            return std::nullopt;
        const QByteArray name = atom->toUpper();
        static const std::pair<const char *, Kind> flagKeys[] = {
            {"ALL", Kind::All},           {"ANSWERED", Kind::Answered},     {"DELETED", Kind::Deleted},
            {"DRAFT", Kind::Draft},       {"FLAGGED", Kind::Flagged},       {"SEEN", Kind::Seen},
            {"RECENT", Kind::Recent},     {"NEW", Kind::New},               {"OLD", Kind::Old},
            {"UNANSWERED", Kind::Unanswered}, {"UNDELETED", Kind::Undeleted}, {"UNDRAFT", Kind::Undraft},
            {"UNFLAGGED", Kind::Unflagged}, {"UNSEEN", Kind::Unseen},
        };
        for (const auto &[word, kind] : flagKeys) {
            if (name == word) {
                key.kind = kind;
                return key;
            }
        }
        static const std::pair<const char *, Kind> textKeys[] = {
            {"BCC", Kind::Bcc}, {"BODY", Kind::Body}, {"CC", Kind::Cc},     {"FROM", Kind::From},
            {"SUBJECT", Kind::Subject}, {"TEXT", Kind::Text}, {"TO", Kind::To},
        };
        for (const auto &[word, kind] : textKeys) {
            if (name == word) {
                key.kind = kind;
                const std::optional<QString> value = text();
                if (!value)
                    return std::nullopt;
                key.text = *value;
                return key;
            }
        }
        static const std::pair<const char *, Kind> dateKeys[] = {
            {"BEFORE", Kind::Before},         {"ON", Kind::On},         {"SINCE", Kind::Since},
            {"SENTBEFORE", Kind::SentBefore}, {"SENTON", Kind::SentOn}, {"SENTSINCE", Kind::SentSince},
        };
        for (const auto &[word, kind] : dateKeys) {
            if (name == word) {
                key.kind = kind;
                const std::optional<QDate> value = date();
                if (!value)
                    return std::nullopt;
                key.date = *value;
                return key;
            }
        }
        if (name == "KEYWORD" || name == "UNKEYWORD") {
            key.kind = name == "KEYWORD" ? Kind::Keyword : Kind::Unkeyword;
            const std::optional<QByteArray> keyword = m_arguments.space() ? m_arguments.atom() : std::nullopt;
            if (!keyword)
                return std::nullopt;
            key.text = QString::fromUtf8(*keyword);
            return key;
        }
        if (name == "HEADER") {
            key.kind = Kind::Header;
            const std::optional<QByteArray> field = m_arguments.space() ? m_arguments.astring() : std::nullopt;
            const std::optional<QString> value = field ? text() : std::nullopt;
            if (!value)
                return std::nullopt;
            key.field = *field;
            key.text = *value;
            return key;
        }
        if (name == "LARGER" || name == "SMALLER") {
            key.kind = name == "LARGER" ? Kind::Larger : Kind::Smaller;
            const std::optional<quint64> size = m_arguments.space() ? m_arguments.number64() : std::nullopt;
            if (!size)
                return std::nullopt;
            key.number = qint64(*size);
            return key;
        }
        if (name == "UID") {
            key.kind = Kind::Uid;
            if (m_arguments.space() && m_arguments.accept('$')) {
                key.set = ImapMailbox::Context::savedSet(m_savedUids);
                return key;
            }
            const std::optional<ImapSequenceSet> set = m_arguments.sequenceSet();
            if (!set)
                return std::nullopt;
            key.set = *set;
            return key;
        }
        if (name == "MODSEQ") {
            // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer.
            key.kind = Kind::Modseq;
            usesModseq = true;
            if (!m_arguments.space())
                return std::nullopt;
            if (m_arguments.peek() == '"') {
                if (!m_arguments.string() || !m_arguments.space() || !m_arguments.atom() || !m_arguments.space())
                    return std::nullopt;
            }
            const std::optional<quint64> modseq = m_arguments.number64();
            if (!modseq)
                return std::nullopt;
            key.number = qint64(*modseq);
            return key;
        }
        if (name == "NOT") {
            key.kind = Kind::Not;
            const std::optional<SearchKey> inner = m_arguments.space() ? this->key(depth + 1) : std::nullopt;
            if (!inner)
                return std::nullopt;
            key.children.append(*inner);
            return key;
        }
        if (name == "OR") {
            key.kind = Kind::Or;
            for (int i = 0; i < 2; ++i) {
                const std::optional<SearchKey> inner = m_arguments.space() ? this->key(depth + 1) : std::nullopt;
                if (!inner)
                    return std::nullopt;
                key.children.append(*inner);
            }
            return key;
        }
        m_arguments.fail("unknown search key " + name);
        return std::nullopt;
    }

    ImapArgumentReader &m_arguments;
    bool m_utf8 = true;
    const QList<quint32> &m_savedUids;
};

// One message as a search sees it.
struct SearchSubject
{
    qsizetype index = 0;
    const ImapViewMessage *message = nullptr;
    const EntryDetails *details = nullptr;
    const MimeMessage *parsed = nullptr;
    const ImapFolderView *view = nullptr;
};

bool containsText(const QString &haystack, const QString &needle)
{
    return haystack.contains(needle, Qt::CaseInsensitive);
}

// A header's values, raw and decoded, for substring matching.
bool headerContains(const MimeMessage &parsed, QByteArrayView field, const QString &needle)
{
    bool present = false;
    for (const auto &[name, value] : parsed.decodedHeaders()) {
        if (name.compare(QString::fromLatin1(field), Qt::CaseInsensitive) != 0)
            continue;
        present = true;
        if (needle.isEmpty() || containsText(value, needle))
            return true;
    }
    Q_UNUSED(present);
    return false;
}

std::optional<QDate> sentDate(const MimeMessage &parsed)
{
    const std::optional<QDateTime> date = MailDate::parse(parsed.headers().value("Date"));
    if (!date)
        return std::nullopt;
    // RFC 9051: the date without its time and zone, as written.
    const QByteArray raw = parsed.headers().value("Date");
    Q_UNUSED(raw);
    return date->date();
}

bool inSet(const ImapSequenceSet &set, quint32 number, quint32 star)
{
    for (const ImapSequenceSet::Range &range : set.ranges) {
        quint32 first = range.first == ImapSequenceSet::Star ? star : range.first;
        quint32 last = range.last == ImapSequenceSet::Star ? star : range.last;
        if (first > last)
            std::swap(first, last);
        if (number >= first && number <= last)
            return true;
    }
    return false;
}

bool matches(const SearchKey &key, const SearchSubject &subject)
{
    using Kind = SearchKey::Kind;
    const ImapViewMessage &message = *subject.message;
    const EntryFlags &flags = message.flags;
    const auto internalDay = [&] { return subject.details->receivedAt.toUTC().date(); };
    switch (key.kind) {
    case Kind::All:
        return true;
    case Kind::Answered:
        return flags.answered;
    case Kind::Deleted:
        return flags.deleted;
    case Kind::Draft:
        return flags.draft;
    case Kind::Flagged:
        return flags.flagged;
    case Kind::Seen:
        return flags.seen;
    case Kind::Recent:
    case Kind::New:
        return false; // no message is recent to a session here
    case Kind::Old:
        return true;
    case Kind::Unanswered:
        return !flags.answered;
    case Kind::Undeleted:
        return !flags.deleted;
    case Kind::Undraft:
        return !flags.draft;
    case Kind::Unflagged:
        return !flags.flagged;
    case Kind::Unseen:
        return !flags.seen;
    case Kind::Keyword:
        return message.keywords.contains(key.text, Qt::CaseInsensitive);
    case Kind::Unkeyword:
        return !message.keywords.contains(key.text, Qt::CaseInsensitive);
    case Kind::Bcc:
        return headerContains(*subject.parsed, "Bcc", key.text);
    case Kind::Cc:
        return headerContains(*subject.parsed, "Cc", key.text);
    case Kind::From:
        return headerContains(*subject.parsed, "From", key.text);
    case Kind::To:
        return headerContains(*subject.parsed, "To", key.text);
    case Kind::Subject:
        return headerContains(*subject.parsed, "Subject", key.text);
    case Kind::Header:
        return headerContains(*subject.parsed, key.field, key.text);
    case Kind::Body:
        return containsText(subject.parsed->readableText(), key.text)
            || containsText(QString::fromUtf8(subject.parsed->raw().mid(subject.parsed->headers().bodyOffset())), key.text);
    case Kind::Text: {
        for (const auto &[name, value] : subject.parsed->decodedHeaders()) {
            if (containsText(value, key.text) || containsText(name, key.text))
                return true;
        }
        return containsText(subject.parsed->readableText(), key.text)
            || containsText(QString::fromUtf8(subject.parsed->raw()), key.text);
    }
    case Kind::Before:
        return internalDay() < key.date;
    case Kind::On:
        return internalDay() == key.date;
    case Kind::Since:
        return internalDay() >= key.date;
    case Kind::SentBefore:
    case Kind::SentOn:
    case Kind::SentSince: {
        const QDate day = sentDate(*subject.parsed).value_or(internalDay());
        return key.kind == Kind::SentBefore ? day < key.date : key.kind == Kind::SentOn ? day == key.date : day >= key.date;
    }
    case Kind::Larger:
        return subject.details->size > key.number;
    case Kind::Smaller:
        return subject.details->size < key.number;
    case Kind::Uid:
        return inSet(key.set, message.uid, subject.view->highestUid());
    case Kind::Sequence:
        if (key.set.saved)
            return inSet(key.set, message.uid, subject.view->highestUid());
        return inSet(key.set, quint32(subject.index + 1), quint32(subject.view->count()));
    case Kind::Modseq:
        return message.modseq >= key.number;
    case Kind::Not:
        return !matches(key.children.first(), subject);
    case Kind::Or:
        return matches(key.children.at(0), subject) || matches(key.children.at(1), subject);
    case Kind::And:
        for (const SearchKey &child : key.children) {
            if (!matches(child, subject))
                return false;
        }
        return true;
    }
    return false;
}

// RFC 4731 ESEARCH's RETURN options.
struct SearchReturn
{
    bool min = false;
    bool max = false;
    bool all = false;
    bool count = false;
    bool save = false;
    [[nodiscard]] bool any() const { return min || max || all || count || save; }
};

std::optional<SearchReturn> readReturn(ImapArgumentReader &arguments)
{
    SearchReturn options;
    if (!arguments.space() || !arguments.take('('))
        return std::nullopt;
    bool first = true;
    while (!arguments.accept(')')) {
        if (!first && !arguments.space())
            return std::nullopt;
        first = false;
        const std::optional<QByteArray> atom = arguments.atom();
        if (!atom)
            return std::nullopt;
        const QByteArray upper = atom->toUpper();
        if (upper == "MIN")
            options.min = true;
        else if (upper == "MAX")
            options.max = true;
        else if (upper == "ALL")
            options.all = true;
        else if (upper == "COUNT")
            options.count = true;
        else if (upper == "SAVE")
            options.save = true;
        else {
            arguments.fail("unknown RETURN option " + upper);
            return std::nullopt;
        }
    }
    if (!options.any())
        options.all = true; // RFC 4731 §3.1: () is ALL
    if (!arguments.space())
        return std::nullopt;
    return options;
}

// [CHARSET name SP]: UTF-8 and US-ASCII (RFC 9051 requires both).
bool readCharset(ImapArgumentReader &arguments, bool required, ImapMailbox::Context &context)
{
    if (!required && !arguments.acceptWord("CHARSET"))
        return true;
    if (!required && !arguments.space())
        return false;
    const std::optional<QByteArray> charset = arguments.astring();
    if (!charset || !arguments.space())
        return false;
    const QByteArray upper = charset->toUpper();
    if (upper != "UTF-8" && upper != "US-ASCII") {
        context.no("[BADCHARSET (UTF-8 US-ASCII)] Only UTF-8 and US-ASCII");
        return false;
    }
    return true;
}

} // namespace

namespace {

// "* ESEARCH (TAG "t") [UID]": how SEARCH and SORT's RETURN answers begin (RFC 4731, RFC 5267).
QByteArray esearchHead(const ImapMailbox::Context &context)
{
    QByteArray head = "* ESEARCH (TAG " + ImapResponse::string(context.command.tag) + ')';
    if (context.byUid)
        head += " UID";
    return head;
}

} // namespace

std::optional<QList<qsizetype>> ImapMailbox::searchMatches(Context &context, ImapArgumentReader &arguments)
{
    SearchParser parser(arguments, true, context.selection().savedUids);
    const std::optional<SearchKey> key = parser.keys(0);
    if (!key || !arguments.atEnd()) {
        if (context.completion.isEmpty())
            context.bad("Search keys not understood");
        return std::nullopt;
    }
    if (parser.usesModseq) {
        context.state.condstore = true;
        context.searchedModseq = true;
    }
    SearchNeeds needs;
    addNeeds(*key, &needs);
    const ImapFolderView &view = context.selection().view;
    QList<qsizetype> found;
    // In batches: a search of a large folder reads its messages a few at a
    // time, never all at once.
    constexpr qsizetype Batch = 200;
    for (qsizetype start = 0, end = 0; start < view.count(); start = end) {
        end = std::min(view.count(), start + Batch);
        QHash<qint64, EntryDetails> details;
        if (needs.details) {
            QList<qint64> ids;
            for (qsizetype i = start; i < end; ++i)
                ids.append(view.at(i).entryId);
            if (needs.content) {
                const qsizetype fits = batchWithinBytes(m_store, context, ids);
                if (fits < 0)
                    return std::nullopt;
                ids.resize(fits);
                end = start + fits;
            }
            const std::optional<QList<EntryDetails>> read = m_store->entryDetails(context.state.accountId, ids, needs.content);
            if (!read) {
                context.storeFailed(*m_store);
                return std::nullopt;
            }
            for (const EntryDetails &entry : *read)
                details.insert(entry.entryId, entry);
        }
        for (qsizetype i = start; i < end; ++i) {
            SearchSubject subject;
            subject.index = i;
            subject.message = &view.at(i);
            subject.view = &view;
            std::optional<MimeMessage> parsed;
            if (needs.details) {
                const auto entry = details.constFind(view.at(i).entryId);
                if (entry == details.cend())
                    continue; // expunged meanwhile
                subject.details = &*entry;
                if (needs.content) {
                    parsed = MimeMessage::parse(entry->raw);
                    subject.parsed = &*parsed;
                }
            }
            if (matches(*key, subject))
                found.append(i);
        }
    }
    return found;
}

void ImapMailbox::search(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    context.expungesAllowed = context.byUid;
    if (!arguments.space()) {
        context.bad("SEARCH [RETURN (...)] [CHARSET name] keys");
        return;
    }
    std::optional<SearchReturn> options;
    if (arguments.acceptWord("RETURN")) {
        options = readReturn(arguments);
        if (!options) {
            context.bad("SEARCH RETURN (MIN MAX ALL COUNT) keys");
            return;
        }
    }
    if (!readCharset(arguments, false, context)) {
        if (context.completion.isEmpty())
            context.bad("SEARCH CHARSET name keys");
        return;
    }
    const std::optional<QList<qsizetype>> found = searchMatches(context, arguments);
    if (!found)
        return;
    const ImapFolderView &view = context.selection().view;
    const auto number = [&](qsizetype index) { return context.byUid ? view.at(index).uid : quint32(index + 1); };
    qint64 highestModseq = 0;
    for (const qsizetype index : *found)
        highestModseq = std::max(highestModseq, view.at(index).modseq);
    const bool modseqAsked = context.searchedModseq;
    if (options && options->save) {
        // RFC 5182: the result is kept for "$", by uid.
        QList<quint32> saved;
        for (const qsizetype index : *found)
            saved.append(view.at(index).uid);
        context.selection().savedUids = saved;
    }
    const bool saveOnly = options && options->save && !options->min && !options->max && !options->all && !options->count;
    // IMAP4rev2 answers ESEARCH always (RFC 9051 §7.3.4); rev1 only when
    // asked; SAVE alone asks for no reply (RFC 5182 §2.1).
    if (!saveOnly && (options || context.state.rev2)) {
        const SearchReturn wanted = options.value_or(SearchReturn{false, false, true, false, false});
        QByteArray line = esearchHead(context);
        if (!found->isEmpty()) {
            if (wanted.min)
                line += " MIN " + QByteArray::number(number(found->first()));
            if (wanted.max)
                line += " MAX " + QByteArray::number(number(found->last()));
            if (wanted.all) {
                QList<quint32> numbers;
                for (const qsizetype index : *found)
                    numbers.append(number(index));
                line += " ALL " + ImapFolderView::uidSet(numbers);
            }
            if (modseqAsked)
                line += " MODSEQ " + QByteArray::number(highestModseq);
        }
        if (wanted.count)
            line += " COUNT " + QByteArray::number(found->size());
        context.out += line + "\r\n";
    } else if (!saveOnly) {
        QByteArray line = "* SEARCH";
        for (const qsizetype index : *found)
            line += ' ' + QByteArray::number(number(index));
        if (modseqAsked && !found->isEmpty())
            line += " (MODSEQ " + QByteArray::number(highestModseq) + ')';
        context.out += line + "\r\n";
    }
    context.ok(context.byUid ? "UID SEARCH completed" : "SEARCH completed");
}

namespace {

// SORT and THREAD's view of the matched messages.
std::optional<QList<ImapSortRecord>> sortRecords(Store *store, ImapMailbox::Context &context,
                                                  const QList<qsizetype> &indexes)
{
    const ImapFolderView &view = context.selection().view;
    QList<ImapSortRecord> records;
    constexpr qsizetype Batch = 200;
    for (qsizetype start = 0; start < indexes.size();) {
        QList<qint64> ids;
        QList<qsizetype> batch = indexes.mid(start, Batch);
        for (const qsizetype index : std::as_const(batch))
            ids.append(view.at(index).entryId);
        const qsizetype fits = ImapMailbox::batchWithinBytes(store, context, ids);
        if (fits < 0)
            return std::nullopt;
        batch.resize(fits);
        ids.resize(fits);
        start += fits;
        const std::optional<QList<EntryDetails>> read = store->entryDetails(context.state.accountId, ids, true);
        if (!read) {
            context.storeFailed(*store);
            return std::nullopt;
        }
        QHash<qint64, const EntryDetails *> byId;
        for (const EntryDetails &entry : *read)
            byId.insert(entry.entryId, &entry);
        for (const qsizetype index : std::as_const(batch)) {
            const EntryDetails *entry = byId.value(view.at(index).entryId);
            if (!entry)
                continue;
            const HeaderBlock headers = HeaderBlock::parse(entry->raw);
            ImapSortRecord record;
            record.number = context.byUid ? view.at(index).uid : quint32(index + 1);
            record.internalDate = entry->receivedAt;
            record.date = headers.value("Date");
            record.subject = headers.value("Subject");
            record.from = headers.value("From");
            record.to = headers.value("To");
            record.cc = headers.value("Cc");
            record.size = entry->size;
            record.messageId = headers.value("Message-ID");
            record.inReplyTo = headers.value("In-Reply-To");
            record.references = headers.value("References");
            records.append(record);
        }
    }
    return records;
}

} // namespace

std::optional<QList<ImapSortRecord>> ImapMailbox::matchedRecords(Context &context, ImapArgumentReader &arguments)
{
    const std::optional<QList<qsizetype>> found = searchMatches(context, arguments);
    if (!found)
        return std::nullopt;
    return sortRecords(m_store, context, *found);
}

void ImapMailbox::sort(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    context.expungesAllowed = context.byUid;
    std::optional<SearchReturn> options;
    bool ok = arguments.space();
    if (ok && arguments.acceptWord("RETURN")) {
        options = readReturn(arguments);
        ok = options.has_value();
    }
    const std::optional<QList<ImapSortKey>> keys = ok ? ImapSortThread::parseSortKeys(arguments) : std::nullopt;
    ok = keys && arguments.space() && readCharset(arguments, true, context);
    if (!ok) {
        if (context.completion.isEmpty())
            context.bad("SORT [RETURN (...)] (keys) charset search-keys");
        return;
    }
    const std::optional<QList<ImapSortRecord>> records = matchedRecords(context, arguments);
    if (!records)
        return;
    const QList<quint32> sorted = ImapSortThread::sort(*records, *keys);
    if (options) {
        // RFC 5267 ESORT: MIN and MAX are the first and last in sort order.
        QByteArray line = esearchHead(context);
        if (!sorted.isEmpty()) {
            if (options->min)
                line += " MIN " + QByteArray::number(sorted.first());
            if (options->max)
                line += " MAX " + QByteArray::number(sorted.last());
            if (options->all) {
                QByteArrayList numbers;
                for (const quint32 number : sorted)
                    numbers.append(QByteArray::number(number));
                line += " ALL " + numbers.join(',');
            }
        }
        if (options->count)
            line += " COUNT " + QByteArray::number(sorted.size());
        context.out += line + "\r\n";
    } else {
        QByteArray line = "* SORT";
        for (const quint32 number : sorted)
            line += ' ' + QByteArray::number(number);
        context.out += line + "\r\n";
    }
    context.ok(context.byUid ? "UID SORT completed" : "SORT completed");
}

void ImapMailbox::thread(Context &context)
{
    ImapArgumentReader &arguments = context.arguments;
    context.expungesAllowed = context.byUid;
    const std::optional<ImapThreadAlgorithm> algorithm =
        arguments.space() ? ImapSortThread::parseThreadAlgorithm(arguments) : std::nullopt;
    const bool ok = algorithm && arguments.space() && readCharset(arguments, true, context);
    if (!ok) {
        if (context.completion.isEmpty())
            context.bad("THREAD algorithm charset search-keys");
        return;
    }
    const std::optional<QList<ImapSortRecord>> records = matchedRecords(context, arguments);
    if (!records)
        return;
    context.out += "* THREAD " + ImapSortThread::threadResponse(*records, *algorithm) + "\r\n";
    context.ok(context.byUid ? "UID THREAD completed" : "THREAD completed");
}
