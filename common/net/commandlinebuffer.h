#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

// What a line protocol's client sent and the session has not read yet
// (SmtpSession, Pop3Session): bytes in, whole command lines out. A line
// longer than the limit is dropped as it arrives, so memory stays bounded
// however long a line a client sends, and is reported once, as too long.
//
// Literals (RFC 9051 §4.3, §7.5: "{N}" ends a line, the server says "+ ..."
// and the client sends N octets raw): after expectLiteral(N), the next N
// bytes are handed over whole by takeLiteral(), CR and LF inside them
// included, and line parsing resumes after them. The size is checked before
// a byte of it is read; a literal refused after the client sent it anyway
// (a non-synchronizing "{N+}", RFC 7888) is skipped with discardLiteral()
// as it arrives, never held.
class CommandLineBuffer
{
public:
    struct Line
    {
        QByteArray text; // without its CRLF or LF; empty when tooLong
        bool tooLong = false;
    };

    enum class LiteralStart {
        Accepted, // the next N bytes are the literal
        TooLarge, // over the limit: nothing changed; refuse it (or discardLiteral())
    };

    // maxLine counts the line with its CRLF; maxLiteral is the largest
    // literal expectLiteral() accepts (0: none).
    explicit CommandLineBuffer(qsizetype maxLine, qsizetype maxLiteral = 0)
        : m_maxLine(maxLine)
        , m_maxLiteral(maxLiteral)
    {
    }

    void append(QByteArrayView bytes);
    // The next whole line, or none while its end has not come (or while a
    // literal is expected: takeLiteral() first).
    std::optional<Line> takeLine();
    // The bytes not taken yet, for a phase that reads them its own way (an
    // SMTP message): it removes what it consumed from the front.
    QByteArray &unread();
    // A whole line, or a whole expected literal, is ready to be taken.
    [[nodiscard]] bool hasWholeLine() const;
    [[nodiscard]] bool isEmpty() const { return m_taken >= m_input.size(); }
    void clear();

    // After the line announcing it (and the continuation that invites it).
    [[nodiscard]] LiteralStart expectLiteral(qsizetype size);
    // The literal, once all of its bytes have come; none before.
    std::optional<QByteArray> takeLiteral();
    // The next `size` bytes are dropped as they come, never buffered.
    void discardLiteral(qsizetype size);
    // A literal was expected and not taken yet, or is being discarded.
    [[nodiscard]] bool isInLiteral() const { return m_literalSize >= 0 || m_discarding > 0; }
    // Bytes of the expected (or discarded) literal still to come.
    [[nodiscard]] qsizetype literalBytesMissing() const;
    [[nodiscard]] qsizetype maxLiteral() const { return m_maxLiteral; }

private:
    void dropTaken();
    void dropDiscarded();

    QByteArray m_input;
    qsizetype m_taken = 0; // the front of m_input already handed out
    qsizetype m_maxLine;
    qsizetype m_maxLiteral;
    qsizetype m_literalSize = -1; // an expected literal's size; -1: none
    qsizetype m_discarding = 0;   // bytes still to drop
    bool m_discardingLongLine = false;
};
