#pragma once

#include "imaparguments.h"
#include "mimemessage.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// A section of BODY[...] and BINARY[...] (RFC 9051 §6.4.5): part numbers,
// then what of that part. Part numbers count as RFC 9051 shows them: the
// parts of a multipart from 1; a message that is not multipart has the one
// part 1, its body; after the number of a message/rfc822 part the numbers
// go on into the attached message as if it stood alone (3.1 is its body
// or its first part, 3.HEADER its header).
struct ImapSection
{
    enum class Text { All, Header, HeaderFields, HeaderFieldsNot, Text, Mime };

    QList<quint32> part; // nz-numbers (up to 4294967295, though no message has so many parts)
    Text text = Text::All;
    QList<QByteArray> fields; // HEADER.FIELDS (.NOT): the names as the client sent them

    // Reads a section with its brackets, "[" section-spec "]", from the
    // character after BODY or BODY.PEEK. MIME only after a part number
    // (RFC 9051's grammar); HEADER and TEXT after a part number are read
    // here for any part and give nothing unless the part is message/rfc822.
    // A fault is left in the reader (the command's BAD).
    [[nodiscard]] static std::optional<ImapSection> parse(ImapArgumentReader &reader);
    // "[" [section-part] "]" of BINARY, BINARY.PEEK and BINARY.SIZE.
    [[nodiscard]] static std::optional<ImapSection> parseBinary(ImapArgumentReader &reader);

    // The item's name for the FETCH response, item[section-spec] in one
    // spelling: upper case, field names upper-cased as servers echo them
    // ("BODY[1.2.HEADER.FIELDS (FROM TO)]"). A partial's "<origin>" is the
    // caller's to add.
    [[nodiscard]] QByteArray name(QByteArrayView item = "BODY") const;

    friend bool operator==(const ImapSection &, const ImapSection &) = default;
};

// The "<origin.count>" of a partial fetch (RFC 9051 §6.4.5).
struct ImapPartial
{
    quint64 origin = 0;
    quint64 count = 0;

    // Reads "<" number64 "." nz-number64 ">" (the caller has seen the "<").
    [[nodiscard]] static std::optional<ImapPartial> parse(ImapArgumentReader &reader);
    // At most `count` octets from `origin`; empty when the origin is at or
    // past the end.
    [[nodiscard]] QByteArray cut(const QByteArray &bytes) const;
};

// What BINARY[part] (RFC 3516, RFC 9051 §6.4.5) gives.
struct ImapBinarySection
{
    enum class Outcome {
        Decoded,         // bytes: the content, its transfer encoding undone
        UnknownEncoding, // the caller answers NO [UNKNOWN-CTE]
        Multipart,       // a multipart has no content of its own to decode: the caller answers NO
    };
    Outcome outcome = Outcome::Decoded;
    QByteArray bytes;
};

// The message data of FETCH, formatted from a parsed message. Everything is
// taken from the message's bytes as stored: sizes and sections are those
// bytes, so what is sent agrees with what is announced, whatever the line
// ends. Header values are sent as written, encoded words and all.
namespace ImapMessage {

// ENVELOPE (RFC 9051 §7.5.2) of a header section: of the message, or of an
// attached message (the headers of the child of a message/rfc822 part).
[[nodiscard]] QByteArray envelope(const HeaderBlock &headers);
[[nodiscard]] QByteArray envelope(const MimeMessage &message);

// BODY (extensible false) and BODYSTRUCTURE (true), RFC 9051 §7.5.2.
[[nodiscard]] QByteArray bodyStructure(const MimeMessage &message, bool extensible);

// The bytes of BODY[section], exactly as stored; empty when the section
// names no part of this message (the caller sends "").
[[nodiscard]] QByteArray sectionBytes(const MimeMessage &message, const ImapSection &section);

// BINARY[part]: the part's content with its Content-Transfer-Encoding
// undone. An empty part list is the whole message as stored (a message as
// a whole has no transfer encoding). A part that does not exist gives no
// bytes, as in sectionBytes(). BINARY.SIZE is the size of the bytes.
[[nodiscard]] ImapBinarySection binarySection(const MimeMessage &message, const QList<quint32> &part);

} // namespace ImapMessage
