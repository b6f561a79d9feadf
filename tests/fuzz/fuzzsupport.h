#pragma once

// What the fuzz targets share: quiet logging and a failed invariant that
// stops the run with a message. Inputs are cut into reads by
// SessionKit::Reads::fromByte (tests/support/sessionkit.h).

#include <QByteArray>
#include <QByteArrayView>
#include <QLoggingCategory>
#include <QString>

#include <cstdio>
#include <cstdlib>

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

} // namespace FuzzSupport
