#pragma once

// What the fuzz targets share: quiet logging, a failed invariant that stops
// the run with a message, and the cutting of an input into reads.

#include <QByteArray>
#include <QByteArrayView>
#include <QLoggingCategory>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace FuzzSupport {

// Logging costs more than the parsing and says nothing the invariants do not.
inline void initialize()
{
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
}

// Bytes as one readable line for a failure message.
inline QByteArray printable(QByteArrayView bytes, qsizetype max = 300)
{
    QByteArray out;
    for (const char c : bytes.first(std::min(bytes.size(), max))) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (u < 0x20 || u >= 0x7f)
            out += "\\x" + QByteArray::number(u, 16).rightJustified(2, '0');
        else
            out += c;
    }
    if (bytes.size() > max)
        out += "... (" + QByteArray::number(bytes.size()) + " bytes)";
    return out;
}

// A broken invariant: abort() so that libFuzzer keeps the input as a crash.
[[noreturn]] inline void fail(const char *what, QByteArrayView detail = {})
{
    std::fprintf(stderr, "INVARIANT BROKEN: %s\n  %s\n", what, printable(detail).constData());
    std::fflush(stderr);
    std::abort();
}

// For a detail put together with operator+ (a QStringBuilder).
[[noreturn]] inline void fail(const char *what, const QByteArray &detail)
{
    fail(what, QByteArrayView(detail));
}

inline void check(bool condition, const char *what, QByteArrayView detail = {})
{
    if (!condition)
        fail(what, detail);
}

inline void check(bool condition, const char *what, const QByteArray &detail)
{
    if (!condition)
        fail(what, QByteArrayView(detail));
}

// Cuts input into the pieces a socket might deliver, chosen by one byte:
// 0 all at once, 1 byte by byte, 2 at line ends, else pseudo-random sizes
// from 1 to 64 (the same for the same byte, so a crash reproduces).
class Chunker
{
public:
    Chunker(QByteArrayView input, std::uint8_t mode)
        : m_input(input)
        , m_mode(mode)
        , m_state(mode * 2654435761u + 1)
    {
    }

    [[nodiscard]] bool atEnd() const { return m_pos >= m_input.size(); }
    [[nodiscard]] bool linewise() const { return m_mode == 2; }

    std::optional<QByteArrayView> next()
    {
        if (atEnd())
            return std::nullopt;
        qsizetype size = m_input.size() - m_pos;
        if (m_mode == 1) {
            size = 1;
        } else if (m_mode == 2) {
            const qsizetype lf = m_input.indexOf('\n', m_pos);
            if (lf >= 0)
                size = lf + 1 - m_pos;
        } else if (m_mode != 0) {
            m_state = m_state * 1103515245u + 12345u;
            size = std::min<qsizetype>(size, 1 + (m_state >> 16) % 64);
        }
        const QByteArrayView piece = m_input.sliced(m_pos, size);
        m_pos += size;
        return piece;
    }

private:
    QByteArrayView m_input;
    std::uint8_t m_mode;
    std::uint32_t m_state;
    qsizetype m_pos = 0;
};

} // namespace FuzzSupport
