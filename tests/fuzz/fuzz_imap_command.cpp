// ImapCommandReader fed any bytes, cut into reads as the first byte says,
// and again whole: the events must be the same however the bytes arrive.
// Checked for every command: a valid tag; lines and literals in turn (an odd
// count of parts); no LF in a line (a bare CR stays); each literal announced by the
// marker that ends the line before it, with its size, and within the
// limits; the last line announces none; the command within its bound. No
// event after a refusal that closes the connection. Each command's
// arguments are then read by ImapArgumentReader, items of every kind in
// turn: each read takes something or faults, and a fault is kept. Each
// line is also read as a modified UTF-7 folder name: one that decodes is the
// only spelling of its characters (encoding them gives it back).
//
// Input: byte 0 how the rest is cut into reads (SessionKit::Reads), then
// the bytes.

#include "fuzzsupport.h"
#include "imaparguments.h"
#include "imapcommandreader.h"
#include "imapmodifiedutf7.h"
#include "sessionkit.h"

using FuzzSupport::check;

namespace {

// Small, so that the fuzzer crosses every bound.
ImapCommandReader::Limits fuzzLimits()
{
    ImapCommandReader::Limits limits;
    limits.maxLine = 256;
    limits.maxLiteral = 64;
    limits.maxAppendLiteral = 512;
    limits.maxCommand = 1024;
    limits.maxAppendCommand = 2048;
    return limits;
}

QByteArray describe(const ImapCommandReader::Event &event)
{
    QByteArray text = QByteArray::number(int(event.kind)) + ' ' + event.command.tag + ' ' + event.command.name + ' '
        + QByteArray::number(int(event.fault)) + (event.mustClose ? " close" : "");
    for (const QByteArray &part : event.command.parts)
        text += " [" + FuzzSupport::printable(part) + ']';
    return text;
}

void checkCommand(const ImapCommandReader::Command &command, const QByteArray &input)
{
    const ImapCommandReader::Limits limits = fuzzLimits();
    const bool append = command.name.compare("APPEND", Qt::CaseInsensitive) == 0;
    check(ImapCommandReader::isTag(command.tag), "a command with an invalid tag", input);
    check(command.parts.size() % 2 == 1, "not lines and literals in turn", input);
    qsizetype size = command.tag.size() + command.name.size();
    for (qsizetype i = 0; i < command.parts.size(); ++i) {
        const QByteArray &part = command.parts.at(i);
        size += part.size();
        if (i % 2 == 1) {
            check(part.size() <= (append ? limits.maxAppendLiteral : limits.maxLiteral), "a literal over its limit",
                  input);
            continue;
        }
        // A bare CR is no line end: it stays in its line, for the
        // argument grammar to refuse.
        check(!part.contains('\n'), "a line with LF in it", input);
        check(part.size() <= limits.maxLine, "a line over the limit", input);
        const auto marker = ImapCommandReader::literalMarker(part);
        if (i + 1 < command.parts.size())
            check(marker && marker->size == command.parts.at(i + 1).size(), "a literal its line did not announce",
                  input);
        else
            check(!marker, "a command ending with a literal's marker", input);
    }
    check(size <= (append ? limits.maxAppendCommand : limits.maxCommand), "a command over its bound", input);
}

// Reads items until a fault or the end; the kinds cycle from `first`.
void readArguments(const ImapCommandReader::Command &command, unsigned first, const QByteArray &input)
{
    qsizetype bytes = 0;
    for (const QByteArray &part : command.parts)
        bytes += part.size() + 2;
    ImapArgumentReader reader(command.parts);
    for (qsizetype reads = 0; reader.ok() && !reader.atEnd(); ++reads) {
        check(reads <= bytes, "a read that took nothing and did not fault", input);
        bool done = false;
        switch ((first + unsigned(reads)) % 10) {
        case 0: done = reader.space(); break;
        case 1: done = reader.atom().has_value(); break;
        case 2: done = reader.astring().has_value(); break;
        case 3: done = reader.string().has_value(); break;
        case 4: done = reader.nstring().has_value() || reader.ok(); break;
        case 5: done = reader.listMailbox().has_value(); break;
        case 6: done = reader.number64().has_value(); break;
        case 7: done = reader.sequenceSet().has_value(); break;
        case 8: done = reader.take(reader.peek() == ')' ? ')' : '('); break;
        default: done = reader.nzNumber().has_value(); break;
        }
        check(done == reader.ok(), "a read that failed without a fault, or faulted and succeeded", input);
        if (!done)
            check(!reader.fault().isEmpty(), "a fault without words", input);
    }
    if (!reader.ok()) {
        const QByteArray fault = reader.fault();
        reader.space();
        reader.atom();
        check(reader.fault() == fault, "a later fault replaced the first", input);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static const bool initialized = (FuzzSupport::initialize(), true);
    Q_UNUSED(initialized);
    if (size < 1)
        return 0;
    const QByteArray input(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);

    ImapCommandReader whole(fuzzLimits());
    whole.append(input);
    QList<QByteArray> expected;
    while (const auto event = whole.next())
        expected.append(describe(*event));

    ImapCommandReader reader(fuzzLimits());
    SessionKit::Reads reads = SessionKit::Reads::fromByte(input, data[0]);
    QList<QByteArray> events;
    bool closed = false;
    while (const auto read = reads.next()) {
        reader.append(*read);
        while (const auto event = reader.next()) {
            check(!closed, "an event after a refusal that closes the connection", input);
            if (event->kind == ImapCommandReader::Event::Kind::Command) {
                checkCommand(event->command, input);
                readArguments(event->command, data[0], input);
                for (qsizetype i = 0; i < event->command.parts.size(); i += 2) {
                    const QByteArray &line = event->command.parts.at(i);
                    if (const auto name = ImapModifiedUtf7::decode(line))
                        check(ImapModifiedUtf7::encode(*name) == line, "a second spelling of a folder name", input);
                }
            }
            closed = event->kind == ImapCommandReader::Event::Kind::Refused && event->mustClose;
            events.append(describe(*event));
        }
    }
    if (events != expected)
        FuzzSupport::fail("the events depend on how the bytes arrive",
                          events.join(" / ") + " <> " + expected.join(" / ") + " <- " + input);
    return 0;
}
