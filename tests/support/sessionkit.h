#pragma once

// The scripted-session kit: one way for every protocol's session tests and
// fuzz targets to drive a byte-level session (SmtpSession, Pop3Session, and
// next the IMAP session) as its connection would. In the spirit of KIMAP's
// FakeServer, turned around: the script plays the client, the session under
// test is the server, and each test's Driver adapts its session to the kit.
//
// A script is a list of steps, one string each: two characters naming the
// kind, a space, the argument.
//   "C: line"      the client sends line + CRLF
//   "C< bytes"     the client sends the bytes as they are (pipelining, a
//                  command cut short, bare LF, a literal's octets)
//   "S: expected"  the next unit of output matches exactly
//   "S~ prefix"    the next unit of output starts with this
//   "S? expected"  an optional unit: consumed when it matches, else skipped
// What a unit is and what "matches" means is the OutputReader's: a CRLF line
// for LineReader (POP3; IMAP's untagged "* 3 EXISTS", continuation
// "+ Ready" and tagged "A1 OK ..." lines alike), a whole multi-line reply
// for the SMTP test's reader. "{name}" in an S step is replaced by the
// driver's variables["name"] (the queue id of the last delivery, a tag).
// Every other kind is the driver's: requests the session made and their
// answers, the TLS handshake, timers, state checks (each test's header lists
// its own). A script fails at its first step that does not hold.
//
// For IMAP the same steps fit as they are: tagged commands and their
// completions are plain "C:"/"S:" lines, a literal is "C: A1 APPEND INBOX
// {5}", "S: + Ready", "C< hello\r\n"; output the server sends on its own
// (IDLE, untagged updates) follows a driver step that causes it ("X: new
// mail") and is read with "S:" like any other line.
//
// Each C step is cut into reads as a Feed says: in one read, byte by byte,
// or split in two at a chosen point; the same script must hold each way.
// The fuzz targets cut their input with Reads::fromByte and serve the
// session between reads with settle().

#include <QByteArray>
#include <QByteArrayList>
#include <QByteArrayView>
#include <QHash>
#include <QList>
#include <QString>

#include <cstdint>
#include <functional>
#include <optional>

namespace SessionKit {

// Bytes cut into the reads a socket might deliver.
class Reads
{
public:
    enum class Mode {
        Whole,    // one read
        Bytewise, // a byte a read
        Lines,    // up to and with each LF
        Random,   // pseudo-random sizes from 1 to 64, the same for the same seed
        Split,    // two reads, cut after `at` bytes
    };

    Reads(QByteArrayView input, Mode mode, std::uint32_t seedOrSplit = 0);

    // The fuzz targets' cutting, chosen by one input byte: 0 whole, 1 byte by
    // byte, 2 at line ends, else random sizes seeded by the byte (so that a
    // crash reproduces from its input alone).
    [[nodiscard]] static Reads fromByte(QByteArrayView input, std::uint8_t mode);

    [[nodiscard]] bool atEnd() const { return m_pos >= m_input.size(); }
    [[nodiscard]] bool linewise() const { return m_mode == Mode::Lines; }
    std::optional<QByteArrayView> next();

private:
    QByteArrayView m_input;
    Mode m_mode = Mode::Whole;
    std::uint32_t m_state = 0; // Random: the generator; Split: where
    qsizetype m_pos = 0;
};

// How the C steps of a script are cut into reads.
struct Feed
{
    enum Mode { Whole, Bytewise, Split } mode = Whole;
    qsizetype step = -1; // Split: the index of the step split in two
    qsizetype at = 0;    // Split: the size of the first part

    // For failure messages: "whole steps: ", "byte by byte: ", "step 3 split after byte 5: ".
    [[nodiscard]] QString text() const;
    // The reads of step `index`, whose bytes are `bytes`.
    [[nodiscard]] Reads reads(QByteArrayView bytes, qsizetype index) const;

    // Whole, byte by byte, then each C step split at every point
    // `splitPoints(size of the step's bytes)` gives.
    [[nodiscard]] static QList<Feed> everyWay(const QByteArrayList &script,
                                              const std::function<QList<qsizetype>(qsizetype)> &splitPoints);
};

// The bytes a C step sends; empty for any other step.
[[nodiscard]] QByteArray clientBytes(const QByteArray &step);

// The session's output, read into units that S steps consume in order.
class OutputReader
{
public:
    virtual ~OutputReader();

    virtual void add(const QByteArray &output) = 0;
    [[nodiscard]] virtual bool isEmpty() const = 0;
    // Empty when the next unit (there is one) matches an S step of this kind
    // ("S: ", "S~ ", "S? ") and expectation; else what differs.
    [[nodiscard]] virtual QString mismatch(QByteArrayView kind, const QByteArray &expected) const = 0;
    virtual void removeFirst() = 0;
    // The units not consumed, readable, and output not yet a whole unit.
    [[nodiscard]] virtual QString unread() const = 0;
    [[nodiscard]] virtual QByteArray unfinished() const = 0;
    // "reply", "output line": for "no reply".
    [[nodiscard]] virtual QString unitName() const = 0;
};

// Output as CRLF lines (POP3, IMAP): "S: " the line exactly (without its
// CRLF), "S~ " and "S? " a prefix of it.
class LineReader : public OutputReader
{
public:
    void add(const QByteArray &output) override;
    [[nodiscard]] bool isEmpty() const override { return lines.isEmpty(); }
    [[nodiscard]] QString mismatch(QByteArrayView kind, const QByteArray &expected) const override;
    void removeFirst() override { lines.removeFirst(); }
    [[nodiscard]] QString unread() const override;
    [[nodiscard]] QByteArray unfinished() const override { return m_buffer; }
    [[nodiscard]] QString unitName() const override;

    QByteArrayList lines; // read and not yet consumed, without CRLF

private:
    QByteArray m_buffer;
};

// One protocol session under a script: what each test implements around
// its session.
class Driver
{
public:
    virtual ~Driver();

    [[nodiscard]] virtual OutputReader &output() = 0;
    // One read of the client's bytes for the session. A driver may drop
    // them, as the connection does after STARTTLS until the handshake.
    virtual void receive(QByteArrayView bytes) = 0;
    [[nodiscard]] virtual QByteArray takeOutput() = 0;
    // A step of the driver's own kinds: empty when it held, else what went
    // wrong (badStep() for a kind or argument it does not know).
    virtual QString step(QByteArrayView kind, const QByteArray &argument) = 0;
    // What must not be left after a script besides output (a request not
    // taken): empty when nothing is.
    [[nodiscard]] virtual QString pending() { return {}; }

    // The session's output so far into output().
    void collect() { output().add(takeOutput()); }
    // Bytes in reads of `chunk` bytes (all of them in one by default),
    // collecting the output after each.
    void feed(const QByteArray &bytes, qsizetype chunk = -1);
    void feed(Reads reads);

    // Replaces "{name}" in S steps.
    QHash<QByteArray, QByteArray> variables;
};

[[nodiscard]] QString badStep();

// Runs the steps in order: empty when every one held, else "step N "...": why".
[[nodiscard]] QString run(Driver &driver, const QByteArrayList &script, const Feed &feed = {});
// Empty when no unit, no partial output and nothing the driver tracks is
// left unconsumed after a script.
[[nodiscard]] QString leftovers(Driver &driver);

// The connection's part between two reads: it writes what the session
// wrote, completes a STARTTLS handshake, answers the request the session
// waits for and resumes input held back, until the session waits for the
// client. The fuzz targets implement it with their invariants.
class Host
{
public:
    virtual ~Host();

    virtual void collect() = 0; // takes (and checks) the session's output
    [[nodiscard]] virtual bool closeRequested() const = 0;
    [[nodiscard]] virtual bool startTlsRequested() const = 0;
    virtual void establishTls() = 0;
    [[nodiscard]] virtual bool waiting() const = 0; // a request is out
    virtual void answer() = 0;
    [[nodiscard]] virtual bool isHoldingInput() const = 0;
    virtual void resume() = 0;
    virtual void idle() {} // settled, waiting for the client
};

enum class Settled { Idle, Closed, Never };

// Plays Host's part until the session waits for the client or closes;
// Never when it still has work after `rounds` rounds.
Settled settle(Host &host, int rounds = 100000);

} // namespace SessionKit
