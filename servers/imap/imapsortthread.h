#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringView>

#include <optional>

class ImapArgumentReader;

// One message as SORT and THREAD (RFC 5256) see it: the raw header values,
// so that the rules of §2 (decoding, base subject, sent date) are applied
// here and nowhere else, the same way for every caller.
struct ImapSortRecord
{
    quint32 number = 0;      // what the result lists: the message sequence number or the uid
    QDateTime internalDate;  // arrival; also the sent date when Date: is absent or bad (§2.2)
    QByteArray date;         // the raw Date: header (may be absent or bad)
    QByteArray subject;      // raw Subject: header (may hold RFC 2047 encoded words)
    QByteArray from, to, cc; // raw address headers
    qint64 size = 0;
    QByteArray messageId, inReplyTo, references; // raw headers
};

// One sort-criterion of RFC 5256 §3, with RFC 5957's display keys.
struct ImapSortKey
{
    enum class Field { Arrival, Cc, Date, From, Size, Subject, To, DisplayFrom, DisplayTo };
    Field field = Field::Arrival;
    bool reverse = false;

    friend bool operator==(const ImapSortKey &, const ImapSortKey &) = default;
};

enum class ImapThreadAlgorithm { OrderedSubject, References };

// RFC 5256 §2.1. replyOrForward is what THREAD=REFERENCES needs (§4 step
// 5): whether the extraction removed a "re:"/"fw:"/"fwd:", a "(fwd)"
// trailer or a "[fwd: ...]" wrapper (a "[blob]" prefix alone does not count).
struct ImapBaseSubject
{
    QString text;
    bool replyOrForward = false;

    friend bool operator==(const ImapBaseSubject &, const ImapBaseSubject &) = default;
};

namespace ImapSortThread {

// The i;unicode-casemap collation (RFC 5051): each character mapped to its
// simple titlecase, then NFKD, as UTF-8. Keys compare as octets, which is
// code point order; two strings are equal under the collation when their
// keys are.
[[nodiscard]] QByteArray collationKey(QStringView text);

[[nodiscard]] ImapBaseSubject baseSubject(QByteArrayView rawSubject);

// "(" sort-criterion *(SP sort-criterion) ")", the parentheses included;
// keys without regard to case. A fault is left in the reader.
std::optional<QList<ImapSortKey>> parseSortKeys(ImapArgumentReader &reader);
// An atom naming an algorithm: ORDEREDSUBJECT or REFERENCES.
std::optional<ImapThreadAlgorithm> parseThreadAlgorithm(ImapArgumentReader &reader);

// The numbers in the order of the keys; messages that tie on every key in
// ascending number (mailbox order, §3), whatever REVERSE says of the keys.
[[nodiscard]] QList<quint32> sort(QList<ImapSortRecord> records, const QList<ImapSortKey> &keys);

// The threads as the THREAD response carries them after "THREAD ":
// thread-lists side by side, "(1)(2 3 (4)(5))((6)(7))"; empty for no
// records.
[[nodiscard]] QByteArray threadResponse(QList<ImapSortRecord> records, ImapThreadAlgorithm algorithm);

} // namespace ImapSortThread
