#include "imapcommandreader.h"

#include "imaparguments.h"

#include <algorithm>

namespace {

// RFC 9051 §9: a tag is ASTRING-CHARs (atom characters and "]") but "+".
bool isTagChar(char c)
{
    return (ImapArgumentReader::isAtomChar(c) || c == ']') && c != '+';
}

// A command name is an atom: letters in every command this server knows.
bool isNameChar(char c)
{
    return ImapArgumentReader::isAtomChar(c) && c != '+';
}

} // namespace

ImapCommandReader::ImapCommandReader(const Limits &limits)
    : m_limits(limits)
    , m_input(limits.maxLine, std::max(limits.maxLiteral, limits.maxAppendLiteral))
{
}

bool ImapCommandReader::isTag(QByteArrayView tag)
{
    return !tag.isEmpty() && std::all_of(tag.begin(), tag.end(), isTagChar);
}

std::optional<ImapCommandReader::LiteralMarker> ImapCommandReader::literalMarker(QByteArrayView line)
{
    if (!line.endsWith('}'))
        return std::nullopt;
    const qsizetype open = line.lastIndexOf('{');
    if (open < 0)
        return std::nullopt;
    // Inside a quoted string, "{5}" is text: quoted strings hold no CR or
    // LF, so whether the end is quoted is decided by this line alone.
    bool quoted = false;
    for (qsizetype i = 0; i < open; ++i) {
        if (quoted && line.at(i) == '\\')
            ++i; // an escaped character, a quote among them
        else if (line.at(i) == '"')
            quoted = !quoted;
    }
    if (quoted)
        return std::nullopt;
    QByteArrayView number = line.sliced(open + 1, line.size() - open - 2);
    LiteralMarker marker;
    if (number.endsWith('+')) {
        marker.synchronizing = false;
        number.chop(1);
    }
    // number64 (RFC 9051): at most 19 digits fit; more cannot be read.
    const bool readable = !number.isEmpty() && number.size() <= 18
        && std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
    marker.size = readable ? number.toLongLong() : -1;
    return marker;
}

void ImapCommandReader::append(QByteArrayView bytes)
{
    m_input.append(bytes);
}

bool ImapCommandReader::isAppend() const
{
    return m_command && m_command->name.compare("APPEND", Qt::CaseInsensitive) == 0;
}

ImapCommandReader::Event ImapCommandReader::refuse(Fault fault, bool mustClose)
{
    Event event;
    event.kind = Event::Kind::Refused;
    event.fault = fault;
    event.mustClose = mustClose;
    m_closing = mustClose;
    if (m_command) {
        event.command.tag = m_command->tag;
        event.command.name = m_command->name;
    }
    m_command.reset();
    m_commandSize = 0;
    return event;
}

std::optional<CommandLineBuffer::Line> ImapCommandReader::nextLine()
{
    if (m_command || m_closing)
        return std::nullopt;
    return m_input.takeLine();
}

std::optional<ImapCommandReader::Event> ImapCommandReader::next()
{
    if (m_closing)
        return std::nullopt;
    // A loop, not a call per literal: a command may hold a hundred
    // thousand empty non-synchronizing literals within its bound.
    for (;;) {
        if (m_command && m_input.isInLiteral()) {
            std::optional<QByteArray> literal = m_input.takeLiteral();
            if (!literal)
                return std::nullopt;
            m_command->parts.append(std::move(*literal));
            m_command->parts.append(QByteArray()); // the text after it comes next
        }
        std::optional<CommandLineBuffer::Line> line = m_input.takeLine();
        if (!line)
            return std::nullopt;
        if (std::optional<Event> event = readLine(std::move(*line)))
            return event;
    }
}

std::optional<ImapCommandReader::Event> ImapCommandReader::readLine(CommandLineBuffer::Line line)
{
    if (line.tooLong) {
        // The rest of a command over the line limit is not read: what
        // follows the long line is taken as a new command, as a client that
        // got the BAD would send next.
        return refuse(Fault::LineTooLong);
    }
    const bool first = !m_command;
    if (first) {
        m_command.emplace();
        const qsizetype space = line.text.indexOf(' ');
        const QByteArray tag = line.text.left(space < 0 ? line.text.size() : space);
        if (!isTag(tag))
            return refuse(Fault::BadTag);
        m_command->tag = tag;
        if (space < 0) // a tag alone: no command
            return refuse(Fault::NoCommand);
        qsizetype end = space + 1;
        while (end < line.text.size() && isNameChar(line.text.at(end)))
            ++end;
        m_command->name = line.text.mid(space + 1, end - space - 1);
        m_command->parts.append(line.text.mid(end));
    } else {
        m_command->parts.last() = line.text;
    }
    m_commandSize += line.text.size() + 2;
    const qsizetype commandLimit = isAppend() ? m_limits.maxAppendCommand : m_limits.maxCommand;
    const std::optional<LiteralMarker> marker = literalMarker(m_command->parts.last());
    if (!marker) {
        if (m_commandSize > commandLimit)
            return refuse(Fault::CommandTooLarge);
        Event event;
        event.command = std::move(*m_command);
        m_command.reset();
        m_commandSize = 0;
        return event;
    }
    if (marker->size < 0)
        return refuse(Fault::BadLiteral, !marker->synchronizing);
    const qsizetype literalLimit = isAppend() ? m_limits.maxAppendLiteral : m_limits.maxLiteral;
    if (marker->size > literalLimit)
        return refuse(Fault::LiteralTooLarge, !marker->synchronizing);
    if (m_commandSize + marker->size > commandLimit)
        return refuse(Fault::CommandTooLarge, !marker->synchronizing);
    m_commandSize += marker->size;
    if (m_input.expectLiteral(marker->size) != CommandLineBuffer::LiteralStart::Accepted)
        return refuse(Fault::LiteralTooLarge, !marker->synchronizing); // the buffer's own bound, the larger limit
    if (!marker->synchronizing)
        return std::nullopt; // its bytes follow at once: read on
    Event event;
    event.kind = Event::Kind::ContinuationRequest;
    event.command.tag = m_command->tag;
    event.command.name = m_command->name;
    return event;
}
