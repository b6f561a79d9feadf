#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// One header field, RFC 5322 §2.2: the name as written and the value
// unfolded (§2.2.3: CRLF before white space removed), raw bytes.
struct HeaderField
{
    QByteArray name;
    QByteArray value;

    friend bool operator==(const HeaderField &, const HeaderField &) = default;
};

// The header section of a message or MIME part.
class HeaderBlock
{
public:
    // Reads fields up to the first empty line. Lines may end in CRLF or LF.
    // Tolerated (RFC 5322 §4.5 obsolete syntax and common mistakes): white
    // space before the colon, a leading mbox "From " line, continuation lines
    // at the very start (ignored). A line that is neither a field nor a
    // continuation ends the header section: it is the first line of the body.
    enum class FirstLine { MayBeMboxSeparator, IsHeader };
    // Submitted mail (SMTP DATA) has no mbox separator: there a first line
    // "From ..." must count as what it is, or a "From : other" field could
    // slip past the sender check.
    [[nodiscard]] static HeaderBlock parse(QByteArrayView data, FirstLine firstLine = FirstLine::MayBeMboxSeparator);

    [[nodiscard]] const QList<HeaderField> &fields() const { return m_fields; }
    // Offset of the body in the parsed data (its size when there is none).
    [[nodiscard]] qsizetype bodyOffset() const { return m_bodyOffset; }
    // What parse(data, firstLine).bodyOffset() would say, found without
    // keeping any field: a cheap check of a complete message against a
    // header size limit before it is parsed (HeaderSectionMeter).
    [[nodiscard]] static qsizetype sectionSize(QByteArrayView data, FirstLine firstLine = FirstLine::MayBeMboxSeparator);

    // The first field of that name (case-insensitive), trimmed; empty when absent.
    [[nodiscard]] QByteArray value(QByteArrayView name) const;
    [[nodiscard]] bool contains(QByteArrayView name) const;
    [[nodiscard]] QList<QByteArray> values(QByteArrayView name) const;

private:
    QList<HeaderField> m_fields;
    qsizetype m_bodyOffset = 0;
};

// The size of a header section as HeaderBlock::parse() delimits it, fed one
// line at a time: smtpd counts it while DATA streams in, so a message whose
// header section is over the limit is known without scanning it again and
// without keeping it. The section ends after the first empty line (which it
// includes) or before the first line that is neither a field nor a
// continuation (the body's first line); lines after the end are ignored.
// One rule with parse() (the same classification of lines), so that what is
// measured is exactly what the parsers later take for the header section.
class HeaderSectionMeter
{
public:
    explicit HeaderSectionMeter(HeaderBlock::FirstLine firstLine = HeaderBlock::FirstLine::MayBeMboxSeparator)
        : m_firstLine(firstLine)
    {
    }

    // One line: `text` without its line end, `lineEnd` the octets of that
    // (2 for CRLF, 1 for a bare LF, 0 for a last line without one). As in
    // parse(), the line end is the LF and one CR before it: of CR CR LF the
    // first CR is text.
    void addLine(QByteArrayView text, qsizetype lineEnd);
    [[nodiscard]] bool isComplete() const { return m_complete; }
    // Octets of the section so far (all of it once complete).
    [[nodiscard]] qsizetype size() const { return m_size; }

private:
    HeaderBlock::FirstLine m_firstLine;
    qsizetype m_size = 0;
    bool m_first = true;
    bool m_complete = false;
};

// A structured MIME header value: "type/subtype; name=value; ..." (RFC 2045
// §5.1) or a Content-Disposition (RFC 2183), with RFC 2231 parameter value
// continuations and charsets decoded.
struct MimeHeaderValue
{
    QByteArray value; // lower-case: "text/plain", "attachment"
    QList<std::pair<QByteArray, QString>> parameters; // lower-case names, decoded values

    [[nodiscard]] QString parameter(QByteArrayView name) const;
    [[nodiscard]] bool hasParameter(QByteArrayView name) const;
    [[nodiscard]] static MimeHeaderValue parse(QByteArrayView raw);
};
