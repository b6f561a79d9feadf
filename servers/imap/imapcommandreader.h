#pragma once

#include "commandlinebuffer.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// Frames IMAP commands (RFC 9051 §2.2.1, §4.3; LITERAL+ RFC 7888): bytes
// in, whole commands out, each its tag, its name and the rest of it as the
// client sent it, lines and literals in turn. It knows nothing of sockets
// and nothing of any command's arguments (the session reads those): only
// where a command ends, which needs the literals, and the limits, which are
// checked before the bytes they limit are held.
//
// A line ending in "{N}" (outside a quoted string; "~{N}" too, RFC 3516)
// announces a synchronizing literal: the reader asks for a continuation
// request ("+ ..."), which the session sends, then takes N bytes raw and
// reads on. "{N+}" is non-synchronizing: the client sends the bytes without
// waiting. A literal over its limit is refused before a byte of it is read:
// a synchronizing one is simply not invited (the client sends nothing and
// the command is over); a non-synchronizing one is on its way already, so
// the connection must close after the reply (docs/protocol/imap.md).
class ImapCommandReader
{
public:
    struct Limits
    {
        // A line of a command, its CRLF included, its literals not.
        qsizetype maxLine = 64 * 1024;
        // A literal of any command but APPEND (a password, a search string).
        qsizetype maxLiteral = 64 * 1024;
        // A literal of APPEND: the largest message (APPENDLIMIT).
        qsizetype maxAppendLiteral = 25 * 1024 * 1024;
        // All the lines and literals of one command: bounds what one
        // command holds however many literals it sends. APPEND's bound is
        // separate, for MULTIAPPEND (RFC 3502) sends several messages.
        qsizetype maxCommand = 1024 * 1024;
        qsizetype maxAppendCommand = 100 * 1024 * 1024;
    };

    enum class Fault {
        None,
        BadTag,          // no tag, or one with characters a tag cannot have
        NoCommand,       // a tag and nothing after it
        LineTooLong,     // over maxLine
        LiteralTooLarge, // a literal over its limit (APPEND's: TOOBIG)
        CommandTooLarge, // the command's lines and literals over maxCommand
        BadLiteral,      // "{" with no number, or one too large to read
    };

    struct Command
    {
        QByteArray tag;
        QByteArray name; // as sent: compare it without regard to case
        // After the name: text, literal, text, ..., text (an odd count).
        // A text followed by a literal ends with its "{N}", "{N+}" or "~{N}".
        QList<QByteArray> parts;
    };

    struct Event
    {
        enum class Kind {
            Command,             // a whole command
            ContinuationRequest, // a synchronizing literal is accepted: send "+ ..."
            Refused,             // a command that cannot be read; the reader is past it
        };
        Kind kind = Kind::Command;
        // Command: all of it; Refused: the tag and name when they were read
        // (an empty tag: answer untagged, "* BAD").
        Command command;
        Fault fault = Fault::None;
        // Refused: the client is sending bytes that will not be read (a
        // non-synchronizing literal over its limit): reply, then close.
        bool mustClose = false;
    };

    explicit ImapCommandReader(const Limits &limits);
    explicit ImapCommandReader() : ImapCommandReader(Limits{}) {}

    void append(QByteArrayView bytes);
    // The next event, or none until more bytes come.
    std::optional<Event> next();
    // A line that is not a command (an AUTHENTICATE response, IDLE's DONE),
    // when the session expects one; only between commands.
    std::optional<CommandLineBuffer::Line> nextLine();
    // Between commands: nothing of a command read yet.
    [[nodiscard]] bool isBetweenCommands() const { return !m_command; }

    // What a literal marker at the end of a line says; none when the line
    // does not end with one outside a quoted string. size -1: a marker
    // whose number cannot be read (too long, not a number).
    struct LiteralMarker
    {
        qint64 size = 0;
        bool synchronizing = true;
    };
    static std::optional<LiteralMarker> literalMarker(QByteArrayView line);
    // RFC 9051's tag: ASTRING-CHARs but "+".
    static bool isTag(QByteArrayView tag);

private:
    // The event a line makes; none when the command goes on with a
    // non-synchronizing literal.
    std::optional<Event> readLine(CommandLineBuffer::Line line);
    Event refuse(Fault fault, bool mustClose = false);
    [[nodiscard]] bool isAppend() const;

    Limits m_limits;
    CommandLineBuffer m_input;
    std::optional<Command> m_command; // a command being read
    qsizetype m_commandSize = 0;      // its bytes so far
    bool m_closing = false;           // refused with mustClose: nothing more is read
};
