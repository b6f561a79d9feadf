#include "imapsortthread.h"

#include "encodedwords.h"
#include "imaparguments.h"
#include "mailaddress.h"
#include "maildate.h"

#include <QHash>

#include <algorithm>
#include <limits>
#include <numeric>

namespace ImapSortThread {

namespace {

// ---- Base subject (RFC 5256 §2.1) ----

bool isWsp(QChar c)
{
    return c == u' ' || c == u'\t';
}

// The ABNF's literals are ASCII and case-insensitive; Qt's own
// case-insensitive comparison folds beyond ASCII, which the grammar does not.
bool hasAsciiWordAt(QStringView text, qsizetype pos, QLatin1StringView word)
{
    if (pos < 0 || pos + word.size() > text.size())
        return false;
    for (qsizetype i = 0; i < word.size(); ++i) {
        const char16_t c = text.at(pos + i).unicode();
        const char16_t lower = c >= u'A' && c <= u'Z' ? char16_t(c + 32) : c;
        if (lower != word.at(i).unicode())
            return false;
    }
    return true;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP: where it ends, or -1.
qsizetype blobEnd(QStringView text, qsizetype pos)
{
    if (pos >= text.size() || text.at(pos) != u'[')
        return -1;
    qsizetype i = pos + 1;
    while (i < text.size() && text.at(i) != u']' && text.at(i) != u'[')
        ++i;
    if (i >= text.size() || text.at(i) != u']')
        return -1;
    ++i;
    while (i < text.size() && isWsp(text.at(i)))
        ++i;
    return i;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
qsizetype refwdEnd(QStringView text, qsizetype pos)
{
    qsizetype i = pos;
    if (hasAsciiWordAt(text, i, QLatin1StringView("re"))) {
        i += 2;
    } else if (hasAsciiWordAt(text, i, QLatin1StringView("fw"))) {
        i += 2;
        // Taking the "d" greedily loses nothing: "fw" followed by "d" can
        // only go on as "fwd".
        if (hasAsciiWordAt(text, i, QLatin1StringView("d")))
            ++i;
    } else {
        return -1;
    }
    while (i < text.size() && isWsp(text.at(i)))
        ++i;
    if (const qsizetype blob = blobEnd(text, i); blob >= 0)
        i = blob;
    if (i >= text.size() || text.at(i) != u':')
        return -1;
    return i + 1;
}

// The non-WSP half of subj-leader: *subj-blob subj-refwd.
qsizetype leaderEnd(QStringView text, qsizetype pos)
{
    qsizetype i = pos;
    for (qsizetype blob = blobEnd(text, i); blob >= 0; blob = blobEnd(text, i))
        i = blob;
    return refwdEnd(text, i);
}

// Step (1): encoded words decoded, tabs and line breaks as spaces, runs of
// spaces as one.
QString decodedSubject(QByteArrayView raw)
{
    QByteArray unfolded = raw.toByteArray();
    unfolded.replace('\r', ' ').replace('\n', ' ');
    const QString decoded = EncodedWords::decode(unfolded);
    QString out;
    out.reserve(decoded.size());
    bool afterSpace = false;
    for (QChar c : decoded) {
        const bool space = isWsp(c) || c == u'\r' || c == u'\n';
        if (space && afterSpace)
            continue;
        out.append(space ? QChar(u' ') : c);
        afterSpace = space;
    }
    return out;
}

// ---- Sort and thread keys ----

// An internal date that is itself invalid sorts first rather than at an
// arbitrary place.
qint64 arrivalDate(const ImapSortRecord &record)
{
    return record.internalDate.isValid() ? record.internalDate.toMSecsSinceEpoch()
                                         : std::numeric_limits<qint64>::min();
}

// §2.2: the Date: header in UTC, else the internal date.
qint64 sentDate(const ImapSortRecord &record)
{
    if (const std::optional<QDateTime> date = MailDate::parse(record.date); date && date->isValid())
        return date->toMSecsSinceEpoch();
    return arrivalDate(record);
}

std::optional<MailAddress> firstAddress(const QByteArray &raw)
{
    const AddressList list = MailAddresses::parseList(raw, 1);
    if (list.addresses.isEmpty())
        return std::nullopt;
    return list.addresses.first();
}

// RFC 5256 §3: the first address's addr-mailbox, its local part.
QByteArray mailboxKey(const QByteArray &raw)
{
    const std::optional<MailAddress> address = firstAddress(raw);
    if (!address)
        return {};
    const qsizetype at = address->address.lastIndexOf(u'@');
    return collationKey(at < 0 ? QStringView(address->address) : QStringView(address->address).first(at));
}

// RFC 5957 §3: the decoded display name, else the whole address.
QByteArray displayKey(const QByteArray &raw)
{
    const std::optional<MailAddress> address = firstAddress(raw);
    if (!address)
        return {};
    return collationKey(address->name.isEmpty() ? address->address : address->name);
}

struct SortValues
{
    qint64 arrival = 0;
    qint64 sent = 0;
    QByteArray from, to, cc, subject, displayFrom, displayTo;
};

template<typename T>
int compareValues(const T &a, const T &b)
{
    return a < b ? -1 : (b < a ? 1 : 0);
}

// ---- THREAD (RFC 5256 §4) ----

// A msg-id's content between "<" and ">", folding white space removed; only
// one with "@" inside counts as valid, as RFC 5322's id-left "@" id-right.
// Comments are skipped, so that "<" inside one starts nothing.
QList<QByteArray> messageIds(QByteArrayView raw, qsizetype most)
{
    QList<QByteArray> ids;
    qsizetype i = 0;
    while (i < raw.size() && ids.size() < most) {
        const char c = raw.at(i);
        if (c == '(') {
            int depth = 0;
            for (; i < raw.size(); ++i) {
                if (raw.at(i) == '\\') {
                    ++i;
                } else if (raw.at(i) == '(') {
                    ++depth;
                } else if (raw.at(i) == ')' && --depth == 0) {
                    ++i;
                    break;
                }
            }
        } else if (c == '<') {
            const qsizetype close = raw.indexOf('>', i + 1);
            if (close < 0)
                break;
            // "<" with no ">" before the next "<" opens nothing: "<junk <id@x>".
            if (const qsizetype reopen = raw.indexOf('<', i + 1); reopen >= 0 && reopen < close) {
                i = reopen;
                continue;
            }
            QByteArray id;
            for (char idChar : raw.sliced(i + 1, close - i - 1)) {
                if (idChar != ' ' && idChar != '\t' && idChar != '\r' && idChar != '\n')
                    id.append(idChar);
            }
            const qsizetype at = id.indexOf('@');
            if (at > 0 && at < id.size() - 1)
                ids.append(id);
            i = close + 1;
        } else {
            ++i;
        }
    }
    return ids;
}

// Linking a chain of n references checks for loops by walking up to n
// ancestors a link, n²/2 steps for one message: a bound keeps a header of
// many thousands of ids from costing seconds. The last ones are kept, as
// the last reference is the parent.
constexpr qsizetype MaxReferences = 1000;

QList<QByteArray> referencesOf(const ImapSortRecord &record)
{
    QList<QByteArray> references = messageIds(record.references, std::numeric_limits<qsizetype>::max());
    if (references.size() > MaxReferences)
        references.remove(0, references.size() - MaxReferences);
    if (references.isEmpty())
        references = messageIds(record.inReplyTo, 1);
    return references;
}

struct ThreadNode
{
    qsizetype record = -1; // -1: a dummy
    qsizetype parent = -1;
    QList<qsizetype> children;
};

struct SentOrder
{
    qint64 sent = 0;
    quint32 number = 0;
    friend bool operator<(const SentOrder &a, const SentOrder &b)
    {
        return a.sent != b.sent ? a.sent < b.sent : a.number < b.number;
    }
};

class Threader
{
public:
    explicit Threader(const QList<ImapSortRecord> &records)
        : m_records(records)
    {
        m_sent.reserve(records.size());
        m_replyOrForward.reserve(records.size());
        m_subjectKeys.reserve(records.size());
        for (const ImapSortRecord &record : records) {
            m_sent.append(sentDate(record));
            const ImapBaseSubject subject = baseSubject(record.subject);
            m_replyOrForward.append(subject.replyOrForward);
            m_subjectKeys.append(collationKey(subject.text));
        }
    }

    QByteArray orderedSubject();
    QByteArray references();

private:
    bool isDummy(qsizetype node) const { return m_nodes.at(node).record < 0; }
    // A dummy stands in the order by its first child (steps 4 and 6).
    SentOrder sentOrder(qsizetype node) const;
    void sortChildren(qsizetype node);
    // The nodes below `top`, every one after all of its descendants.
    QList<qsizetype> bottomUp(qsizetype top) const;
    bool isAncestorOrSelf(qsizetype ancestor, qsizetype node) const;
    qsizetype nodeForId(const QByteArray &id);
    void adopt(qsizetype parent, qsizetype child);
    void linkReferences();
    void pruneDummies();
    void mergeBySubject();
    QByteArray response() const;

    const QList<ImapSortRecord> &m_records;
    QList<qint64> m_sent;
    QList<ThreadNode> m_nodes; // the records' nodes first, in the records' order
    qsizetype m_root = -1;
    QHash<QByteArray, qsizetype> m_byId;
    QList<bool> m_replyOrForward;
    QList<QByteArray> m_subjectKeys; // collation keys of the base subjects
};

SentOrder Threader::sentOrder(qsizetype node) const
{
    while (isDummy(node) && !m_nodes.at(node).children.isEmpty())
        node = m_nodes.at(node).children.first();
    // Step 3 leaves no dummy without children; were one left, it would sort last.
    if (isDummy(node))
        return {std::numeric_limits<qint64>::max(), std::numeric_limits<quint32>::max()};
    const qsizetype record = m_nodes.at(node).record;
    return {m_sent.at(record), m_records.at(record).number};
}

void Threader::sortChildren(qsizetype node)
{
    QList<qsizetype> &children = m_nodes[node].children;
    if (children.size() < 2)
        return;
    QList<std::pair<SentOrder, qsizetype>> ordered;
    ordered.reserve(children.size());
    for (qsizetype child : std::as_const(children))
        ordered.append({sentOrder(child), child});
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    for (qsizetype i = 0; i < ordered.size(); ++i)
        children[i] = ordered.at(i).second;
}

QList<qsizetype> Threader::bottomUp(qsizetype top) const
{
    // Iterative: a reply chain of thousands of messages is as deep.
    QList<qsizetype> parentsFirst{top};
    for (qsizetype i = 0; i < parentsFirst.size(); ++i)
        parentsFirst.append(m_nodes.at(parentsFirst.at(i)).children);
    std::reverse(parentsFirst.begin(), parentsFirst.end());
    return parentsFirst;
}

bool Threader::isAncestorOrSelf(qsizetype ancestor, qsizetype node) const
{
    for (qsizetype at = node; at >= 0; at = m_nodes.at(at).parent) {
        if (at == ancestor)
            return true;
    }
    return false;
}

qsizetype Threader::nodeForId(const QByteArray &id)
{
    if (const auto found = m_byId.constFind(id); found != m_byId.cend())
        return *found;
    m_nodes.append(ThreadNode{});
    m_byId.insert(id, m_nodes.size() - 1);
    return m_nodes.size() - 1;
}

void Threader::adopt(qsizetype parent, qsizetype child)
{
    m_nodes[child].parent = parent;
    m_nodes[parent].children.append(child);
}

// Step 1, with parent links only; the children lists are made from them
// once all links are settled, since step 1.B may undo a link of 1.A.
void Threader::linkReferences()
{
    // A message with no valid Message-ID, or one a lower-numbered message
    // already has, keeps a unique id: it is just not in the table.
    for (qsizetype i = 0; i < m_records.size(); ++i) {
        const QList<QByteArray> ids = messageIds(m_records.at(i).messageId, 1);
        if (!ids.isEmpty() && !m_byId.contains(ids.first()))
            m_byId.insert(ids.first(), i);
    }
    for (qsizetype i = 0; i < m_records.size(); ++i) {
        const QList<QByteArray> references = referencesOf(m_records.at(i));
        qsizetype previous = -1;
        for (const QByteArray &id : references) {
            const qsizetype node = nodeForId(id);
            // 1.A: an existing parent stays, even when this link is better.
            if (previous >= 0 && m_nodes.at(node).parent < 0 && !isAncestorOrSelf(node, previous))
                m_nodes[node].parent = previous;
            previous = node;
        }
        // 1.B: the message's own last reference wins over what other
        // messages' References said; with none, it has no parent.
        m_nodes[i].parent = -1;
        if (previous >= 0 && !isAncestorOrSelf(i, previous))
            m_nodes[i].parent = previous;
    }
}

// Step 3, each node's children decided after their own subtrees were.
void Threader::pruneDummies()
{
    const QList<qsizetype> order = bottomUp(m_root);
    for (qsizetype node : order) {
        QList<qsizetype> kept;
        for (qsizetype child : std::as_const(m_nodes.at(node).children)) {
            const QList<qsizetype> grandchildren = m_nodes.at(child).children;
            if (!isDummy(child)) {
                kept.append(child);
            } else if (grandchildren.isEmpty()) {
                continue;
            } else if (node != m_root || grandchildren.size() == 1) {
                for (qsizetype grandchild : grandchildren) {
                    m_nodes[grandchild].parent = node;
                    kept.append(grandchild);
                }
                m_nodes[child].children.clear();
            } else {
                kept.append(child);
            }
        }
        m_nodes[node].children = kept;
    }
}

// Step 5.
void Threader::mergeBySubject()
{
    const auto threadRecord = [this](qsizetype node) {
        while (isDummy(node))
            node = m_nodes.at(node).children.first();
        return m_nodes.at(node).record;
    };
    const auto isReply = [this](qsizetype node) {
        return !isDummy(node) && m_replyOrForward.at(m_nodes.at(node).record);
    };
    const QList<qsizetype> top = m_nodes.at(m_root).children;
    QList<QByteArray> topSubjects;
    topSubjects.reserve(top.size());
    for (qsizetype node : top)
        topSubjects.append(m_subjectKeys.at(threadRecord(node)));

    // B: one thread a subject, a dummy or a first message preferred.
    QHash<QByteArray, qsizetype> table;
    for (qsizetype i = 0; i < top.size(); ++i) {
        const qsizetype node = top.at(i);
        if (topSubjects.at(i).isEmpty())
            continue;
        const auto found = table.find(topSubjects.at(i));
        if (found == table.end())
            table.insert(topSubjects.at(i), node);
        else if (!isDummy(*found) && (isDummy(node) || (isReply(*found) && !isReply(node))))
            *found = node;
    }

    // C: the others joined to it. The root's list keeps its order: a new
    // dummy takes the place of the thread it wraps.
    QList<qsizetype> rootChildren = top;
    QHash<qsizetype, qsizetype> position;
    for (qsizetype i = 0; i < top.size(); ++i)
        position.insert(top.at(i), i);
    for (qsizetype i = 0; i < top.size(); ++i) {
        const qsizetype node = top.at(i);
        if (m_nodes.at(node).parent != m_root || topSubjects.at(i).isEmpty())
            continue;
        qsizetype &kept = table[topSubjects.at(i)];
        if (kept == node)
            continue;
        if (isDummy(kept) && isDummy(node)) {
            const QList<qsizetype> children = m_nodes.at(node).children;
            for (qsizetype child : children)
                adopt(kept, child);
            m_nodes[node].children.clear();
            m_nodes[node].parent = -1;
        } else if (isDummy(kept) || (isReply(node) && !isReply(kept))) {
            adopt(kept, node);
        } else {
            m_nodes.append(ThreadNode{});
            const qsizetype dummy = m_nodes.size() - 1;
            m_nodes[dummy].parent = m_root;
            rootChildren[position.value(kept)] = dummy;
            position.insert(dummy, position.value(kept));
            adopt(dummy, kept);
            adopt(dummy, node);
            kept = dummy;
        }
        rootChildren[i] = -1;
    }
    rootChildren.removeAll(-1);
    m_nodes[m_root].children = rootChildren;
}

QByteArray Threader::response() const
{
    // Explicit stack, as in bottomUp(); Close stands for the ")" of a
    // thread-list whose members and nested lists come before it.
    constexpr qsizetype Close = -1;
    QByteArray out;
    QList<qsizetype> stack;
    const QList<qsizetype> &top = m_nodes.at(m_root).children;
    for (auto it = top.crbegin(); it != top.crend(); ++it) {
        if (isDummy(*it) && m_nodes.at(*it).children.isEmpty())
            continue;
        stack.append(Close);
        stack.append(*it);
    }
    while (!stack.isEmpty()) {
        qsizetype node = stack.takeLast();
        if (node == Close) {
            out += ')';
            continue;
        }
        out += '(';
        // thread-members: a single child goes on the same list; two or more
        // are a thread-nested of their own lists.
        for (;;) {
            const ThreadNode &current = m_nodes.at(node);
            if (current.record >= 0) {
                out += QByteArray::number(m_records.at(current.record).number);
                if (!current.children.isEmpty())
                    out += ' ';
            }
            if (current.children.size() == 1) {
                node = current.children.first();
                continue;
            }
            for (auto it = current.children.crbegin(); it != current.children.crend(); ++it) {
                stack.append(Close);
                stack.append(*it);
            }
            break;
        }
    }
    return out;
}

QByteArray Threader::references()
{
    m_nodes.resize(m_records.size());
    for (qsizetype i = 0; i < m_records.size(); ++i)
        m_nodes[i].record = i;
    linkReferences();

    // Step 2.
    m_nodes.append(ThreadNode{});
    m_root = m_nodes.size() - 1;
    for (qsizetype i = 0; i < m_root; ++i) {
        if (m_nodes.at(i).parent < 0)
            m_nodes[i].parent = m_root;
        m_nodes[m_nodes.at(i).parent].children.append(i);
    }

    pruneDummies();

    // Step 4: a dummy at the top sorts by its first child, so its
    // children go first.
    for (qsizetype node : std::as_const(m_nodes.at(m_root).children))
        sortChildren(node);
    sortChildren(m_root);

    mergeBySubject();

    // Step 6: every set of siblings, the deepest first.
    for (qsizetype node : bottomUp(m_root))
        sortChildren(node);
    return response();
}

// RFC 5256 §4 ORDEREDSUBJECT: one thread a base subject; its first message
// by sent date is the parent of all the others, which are siblings.
QByteArray Threader::orderedSubject()
{
    m_nodes.resize(m_records.size());
    m_nodes.append(ThreadNode{});
    m_root = m_nodes.size() - 1;
    QHash<QByteArray, qsizetype> threadOf;
    QList<qsizetype> order(m_records.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [this](qsizetype a, qsizetype b) {
        return SentOrder{m_sent.at(a), m_records.at(a).number} < SentOrder{m_sent.at(b), m_records.at(b).number};
    });
    for (qsizetype record : std::as_const(order)) {
        m_nodes[record].record = record;
        const QByteArray &key = m_subjectKeys.at(record);
        const auto found = threadOf.constFind(key);
        if (found == threadOf.cend()) {
            threadOf.insert(key, record);
            adopt(m_root, record);
        } else {
            adopt(*found, record);
        }
    }
    return response();
}

} // namespace

QByteArray collationKey(QStringView text)
{
    QString titlecased;
    titlecased.reserve(text.size());
    for (const char32_t codePoint : text.toUcs4()) {
        const char32_t mapped = QChar::toTitleCase(codePoint);
        if (QChar::requiresSurrogates(mapped)) {
            titlecased.append(QChar(QChar::highSurrogate(mapped)));
            titlecased.append(QChar(QChar::lowSurrogate(mapped)));
        } else {
            titlecased.append(QChar(char16_t(mapped)));
        }
    }
    return titlecased.normalized(QString::NormalizationForm_KD).toUtf8();
}

ImapBaseSubject baseSubject(QByteArrayView rawSubject)
{
    const QString text = decodedSubject(rawSubject);
    bool replyOrForward = false;
    qsizetype start = 0;
    qsizetype end = text.size();
    for (;;) {
        // (2) subj-trailer: "(fwd)" and WSP at the end.
        for (;;) {
            if (end > start && isWsp(text.at(end - 1))) {
                --end;
            } else if (end - start >= 5 && hasAsciiWordAt(text, end - 5, QLatin1StringView("(fwd)"))) {
                end -= 5;
                replyOrForward = true;
            } else {
                break;
            }
        }
        // (3), (4) and (5): leaders, and a blob when something is left after it.
        for (bool removed = true; removed;) {
            removed = false;
            const QStringView untilEnd = QStringView(text).first(end);
            for (;;) {
                if (start < end && isWsp(text.at(start))) {
                    ++start;
                } else if (const qsizetype leader = leaderEnd(untilEnd, start); leader >= 0) {
                    start = leader;
                    replyOrForward = true;
                } else {
                    break;
                }
                removed = true;
            }
            if (const qsizetype blob = blobEnd(untilEnd, start); blob >= 0 && blob < end) {
                start = blob;
                removed = true;
            }
        }
        // (6) A "[fwd: ...]" wrapper, and again from (2) inside it.
        if (end - start >= 6 && hasAsciiWordAt(text, start, QLatin1StringView("[fwd:")) && text.at(end - 1) == u']') {
            start += 5;
            end -= 1;
            replyOrForward = true;
            continue;
        }
        break;
    }
    return {text.mid(start, end - start), replyOrForward};
}

namespace {

std::optional<QByteArray> wordOf(ImapArgumentReader &reader, const char *what)
{
    if (!ImapArgumentReader::isAtomChar(reader.peek())) {
        reader.fail(QByteArray("expected ") + what);
        return std::nullopt;
    }
    return reader.atom();
}

std::optional<ImapSortKey::Field> sortField(const QByteArray &word)
{
    using Field = ImapSortKey::Field;
    static const std::pair<const char *, Field> Names[] = {
        {"ARRIVAL", Field::Arrival}, {"CC", Field::Cc},     {"DATE", Field::Date},
        {"FROM", Field::From},       {"SIZE", Field::Size}, {"SUBJECT", Field::Subject},
        {"TO", Field::To},           {"DISPLAYFROM", Field::DisplayFrom}, {"DISPLAYTO", Field::DisplayTo},
    };
    for (const auto &[name, field] : Names) {
        if (word.compare(name, Qt::CaseInsensitive) == 0)
            return field;
    }
    return std::nullopt;
}

} // namespace

std::optional<QList<ImapSortKey>> parseSortKeys(ImapArgumentReader &reader)
{
    if (!reader.take('('))
        return std::nullopt;
    QList<ImapSortKey> keys;
    do {
        ImapSortKey key;
        std::optional<QByteArray> word = wordOf(reader, "a sort key");
        if (!word)
            return std::nullopt;
        if (word->compare("REVERSE", Qt::CaseInsensitive) == 0) {
            key.reverse = true;
            if (!reader.space() || !(word = wordOf(reader, "a sort key after REVERSE")))
                return std::nullopt;
        }
        const std::optional<ImapSortKey::Field> field = sortField(*word);
        if (!field) {
            reader.fail("unknown sort key " + *word);
            return std::nullopt;
        }
        key.field = *field;
        keys.append(key);
    } while (reader.peek() == ' ' && reader.space());
    if (!reader.take(')'))
        return std::nullopt;
    return keys;
}

std::optional<ImapThreadAlgorithm> parseThreadAlgorithm(ImapArgumentReader &reader)
{
    const std::optional<QByteArray> word = wordOf(reader, "a threading algorithm");
    if (!word)
        return std::nullopt;
    if (word->compare("ORDEREDSUBJECT", Qt::CaseInsensitive) == 0)
        return ImapThreadAlgorithm::OrderedSubject;
    if (word->compare("REFERENCES", Qt::CaseInsensitive) == 0)
        return ImapThreadAlgorithm::References;
    reader.fail("unknown threading algorithm " + *word);
    return std::nullopt;
}

QList<quint32> sort(QList<ImapSortRecord> records, const QList<ImapSortKey> &keys)
{
    using Field = ImapSortKey::Field;
    std::stable_sort(records.begin(), records.end(),
                     [](const ImapSortRecord &a, const ImapSortRecord &b) { return a.number < b.number; });

    // Each value worked out once, and only those the keys ask for: the
    // comparisons then touch nothing but ready keys.
    const auto needs = [&keys](Field field) {
        return std::any_of(keys.cbegin(), keys.cend(), [field](const ImapSortKey &key) { return key.field == field; });
    };
    const bool needArrival = needs(Field::Arrival), needDate = needs(Field::Date), needFrom = needs(Field::From),
               needTo = needs(Field::To), needCc = needs(Field::Cc), needSubject = needs(Field::Subject),
               needDisplayFrom = needs(Field::DisplayFrom), needDisplayTo = needs(Field::DisplayTo);
    QList<SortValues> values(records.size());
    for (qsizetype i = 0; i < records.size(); ++i) {
        const ImapSortRecord &record = records.at(i);
        SortValues &value = values[i];
        if (needArrival)
            value.arrival = arrivalDate(record);
        if (needDate)
            value.sent = sentDate(record);
        if (needFrom)
            value.from = mailboxKey(record.from);
        if (needTo)
            value.to = mailboxKey(record.to);
        if (needCc)
            value.cc = mailboxKey(record.cc);
        if (needSubject)
            value.subject = collationKey(baseSubject(record.subject).text);
        if (needDisplayFrom)
            value.displayFrom = displayKey(record.from);
        if (needDisplayTo)
            value.displayTo = displayKey(record.to);
    }

    const auto compareBy = [&](const ImapSortKey &key, qsizetype a, qsizetype b) {
        const SortValues &x = values.at(a);
        const SortValues &y = values.at(b);
        switch (key.field) {
        case Field::Arrival: return compareValues(x.arrival, y.arrival);
        case Field::Cc: return compareValues(x.cc, y.cc);
        case Field::Date: return compareValues(x.sent, y.sent);
        case Field::From: return compareValues(x.from, y.from);
        case Field::Size: return compareValues(records.at(a).size, records.at(b).size);
        case Field::Subject: return compareValues(x.subject, y.subject);
        case Field::To: return compareValues(x.to, y.to);
        case Field::DisplayFrom: return compareValues(x.displayFrom, y.displayFrom);
        case Field::DisplayTo: return compareValues(x.displayTo, y.displayTo);
        }
        return 0;
    };
    QList<qsizetype> order(records.size());
    std::iota(order.begin(), order.end(), 0);
    // Stable over the records in number order: ties stay in that order.
    std::stable_sort(order.begin(), order.end(), [&](qsizetype a, qsizetype b) {
        for (const ImapSortKey &key : keys) {
            if (const int compared = compareBy(key, a, b); compared != 0)
                return key.reverse ? compared > 0 : compared < 0;
        }
        return false;
    });

    QList<quint32> numbers;
    numbers.reserve(order.size());
    for (qsizetype index : std::as_const(order))
        numbers.append(records.at(index).number);
    return numbers;
}

QByteArray threadResponse(QList<ImapSortRecord> records, ImapThreadAlgorithm algorithm)
{
    // Mailbox order first: duplicate Message-IDs go to the lowest number,
    // and every tie is broken by number.
    std::stable_sort(records.begin(), records.end(),
                     [](const ImapSortRecord &a, const ImapSortRecord &b) { return a.number < b.number; });
    Threader threader(records);
    return algorithm == ImapThreadAlgorithm::References ? threader.references() : threader.orderedSubject();
}

} // namespace ImapSortThread
