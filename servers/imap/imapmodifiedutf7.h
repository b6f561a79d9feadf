#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

// Folder names as IMAP4rev1 clients send and expect them: modified UTF-7
// (RFC 3501 §5.1.3). Printable US-ASCII stands for itself, but "&", which
// is "&-"; any other run of characters is "&", their UTF-16 in base64 with
// "," for "/" and no padding, then "-". IMAP4rev2 clients (RFC 9051) use
// UTF-8 instead, and the session chooses by what the client enabled.
namespace ImapModifiedUtf7 {

QByteArray encode(const QString &name);
// None for a name that is not strictly modified UTF-7: a byte outside
// printable US-ASCII, an unterminated "&", a character outside the base64
// alphabet, leftover bits, a broken surrogate pair, a printable character
// encoded (it must stand for itself), or two encoded runs side by side
// (they must be one). A client that sends such a name gets a NO, never a
// folder named by a second spelling of the same characters.
std::optional<QString> decode(QByteArrayView name);

} // namespace ImapModifiedUtf7
