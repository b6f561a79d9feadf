#pragma once

#include <QByteArray>
#include <QList>

#include <optional>

// A sequence set (RFC 9051 §9 sequence-set): ranges of message numbers or
// uids, "*" standing for the largest in use. Ranges are kept as sent (a
// range may be given high to low: "5:2" is 2 to 5).
struct ImapSequenceSet
{
    static constexpr quint32 Star = 0; // "*": no message number or uid is 0
    struct Range
    {
        quint32 first = 0;
        quint32 last = 0;
        friend bool operator==(const Range &, const Range &) = default;
    };
    QList<Range> ranges;
    // "$" (SEARCHRES, RFC 5182): the last saved search result, whose ranges
    // are uids whatever the command (the session fills them in).
    bool saved = false;
};

// Reads the arguments of one framed command (the parts of an
// ImapCommandReader::Command: lines and literals in turn) by the grammar of
// RFC 9051 §9, one item at a time, for the session to ask for what each
// command takes. Each read either takes its item and moves past it, or
// takes nothing and records what was expected where (the first such fault
// is kept, for the command's BAD).
class ImapArgumentReader
{
public:
    explicit ImapArgumentReader(const QList<QByteArray> &parts);

    // Nothing is left.
    [[nodiscard]] bool atEnd() const;
    // The next character, without taking it; 0 at a literal or the end.
    [[nodiscard]] char peek() const;

    // Exactly one space.
    bool space();
    // A character given (a parenthesis, a bracket).
    bool take(char expected);
    // The word given, without regard to case ("NIL", "FLAGS"): taken only
    // when no atom character follows it.
    bool takeWord(QByteArrayView word);
    // take() and takeWord() for what may or may not come: no fault when it
    // does not (the caller tries something else).
    bool accept(char expected);
    bool acceptWord(QByteArrayView word);
    // The word given whatever follows it ("BODY.PEEK" of "BODY.PEEK[1]"),
    // without regard to case; no fault when it is not there.
    bool acceptPrefix(QByteArrayView word);

    std::optional<QByteArray> atom();    // 1*ATOM-CHAR
    std::optional<QByteArray> astring(); // 1*ASTRING-CHAR or a string
    std::optional<QByteArray> string();  // quoted or literal
    // APPEND's message: a literal, also a binary one ("~{N}", RFC 3516),
    // whose bytes may hold NUL.
    std::optional<QByteArray> messageLiteral();
    // string or NIL: the value, or none for NIL (nullopt on a fault is told
    // apart by ok()).
    std::optional<QByteArray> nstring();
    // A mailbox pattern of LIST: 1*list-char (atom characters, "%", "*",
    // "]") or a string.
    std::optional<QByteArray> listMailbox();
    // number (32 bits), nz-number, number64.
    std::optional<quint32> number();
    std::optional<quint32> nzNumber();
    std::optional<quint64> number64();
    std::optional<ImapSequenceSet> sequenceSet();

    // No fault so far.
    [[nodiscard]] bool ok() const { return m_fault.isEmpty(); }
    // What was expected where, for the client ("expected a number at ...").
    [[nodiscard]] QByteArray fault() const { return m_fault; }
    // Records a fault of the caller's own (a value out of range).
    void fail(const QByteArray &what);

    static bool isAtomChar(char c);

private:
    // At the start of a literal: its line's marker is all that is left.
    [[nodiscard]] bool atLiteral() const;
    [[nodiscard]] QByteArrayView rest() const;
    std::optional<QByteArray> quoted();
    std::optional<QByteArray> literal();
    std::optional<quint32> sequenceNumber();
    template<typename T>
    std::optional<T> expected(const char *what);

    const QList<QByteArray> &m_parts;
    qsizetype m_part = 0; // an even index: a line
    qsizetype m_pos = 0;  // in that line
    QByteArray m_fault;
};
