#include "sessionkit.h"

#include "testbytes.h"

#include <algorithm>

using TestBytes::printable;
using namespace Qt::StringLiterals;

namespace SessionKit {

Reads::Reads(QByteArrayView input, Mode mode, std::uint32_t seedOrSplit)
    : m_input(input)
    , m_mode(mode)
    , m_state(seedOrSplit)
{
}

Reads Reads::fromByte(QByteArrayView input, std::uint8_t mode)
{
    switch (mode) {
    case 0:
        return Reads(input, Mode::Whole);
    case 1:
        return Reads(input, Mode::Bytewise);
    case 2:
        return Reads(input, Mode::Lines);
    default:
        // The generator's start as the fuzz corpus was made with: changing
        // it would cut every stored input differently.
        return Reads(input, Mode::Random, mode * 2654435761u + 1);
    }
}

std::optional<QByteArrayView> Reads::next()
{
    if (atEnd())
        return std::nullopt;
    qsizetype size = m_input.size() - m_pos;
    switch (m_mode) {
    case Mode::Whole:
        break;
    case Mode::Bytewise:
        size = 1;
        break;
    case Mode::Lines:
        if (const qsizetype lf = m_input.indexOf('\n', m_pos); lf >= 0)
            size = lf + 1 - m_pos;
        break;
    case Mode::Random:
        m_state = m_state * 1103515245u + 12345u;
        size = std::min<qsizetype>(size, 1 + (m_state >> 16) % 64);
        break;
    case Mode::Split:
        if (m_pos < qsizetype(m_state))
            size = std::min<qsizetype>(size, qsizetype(m_state) - m_pos);
        break;
    }
    const QByteArrayView piece = m_input.sliced(m_pos, size);
    m_pos += size;
    return piece;
}

QString Feed::text() const
{
    switch (mode) {
    case Whole:
        return u"whole steps: "_s;
    case Bytewise:
        return u"byte by byte: "_s;
    case Split:
        break;
    }
    return u"step %1 split after byte %2: "_s.arg(step + 1).arg(at);
}

Reads Feed::reads(QByteArrayView bytes, qsizetype index) const
{
    if (mode == Bytewise)
        return Reads(bytes, Reads::Mode::Bytewise);
    if (mode == Split && index == step)
        return Reads(bytes, Reads::Mode::Split, std::uint32_t(at));
    return Reads(bytes, Reads::Mode::Whole);
}

QList<Feed> Feed::everyWay(const QByteArrayList &script, const std::function<QList<qsizetype>(qsizetype)> &splitPoints)
{
    QList<Feed> feeds{{Whole, -1, 0}, {Bytewise, -1, 0}};
    for (qsizetype i = 0; i < script.size(); ++i) {
        for (const qsizetype at : splitPoints(clientBytes(script.at(i)).size()))
            feeds.append({Split, i, at});
    }
    return feeds;
}

QByteArray clientBytes(const QByteArray &step)
{
    if (step.startsWith("C: "))
        return step.mid(3) + "\r\n"_ba;
    if (step.startsWith("C< "))
        return step.mid(3);
    return {};
}

OutputReader::~OutputReader() = default;

void LineReader::add(const QByteArray &output)
{
    m_buffer += output;
    qsizetype end = 0;
    while ((end = m_buffer.indexOf("\r\n")) >= 0) {
        lines.append(m_buffer.left(end));
        m_buffer.remove(0, end + 2);
    }
}

QString LineReader::mismatch(QByteArrayView kind, const QByteArray &expected) const
{
    const QByteArray &line = lines.constFirst();
    const bool same = kind == "S: " ? line == expected : line.startsWith(expected);
    return same ? QString() : u"got \"%1\""_s.arg(printable(line));
}

QString LineReader::unread() const
{
    QString all;
    for (const QByteArray &line : lines)
        all += printable(line) + u"\\r\\n"_s;
    return all;
}

QString LineReader::unitName() const
{
    return u"output line"_s;
}

Driver::~Driver() = default;

void Driver::feed(const QByteArray &bytes, qsizetype chunk)
{
    const qsizetype step = chunk > 0 ? chunk : std::max<qsizetype>(bytes.size(), 1);
    for (qsizetype pos = 0; pos < bytes.size(); pos += step) {
        receive(QByteArrayView(bytes).sliced(pos, std::min(step, bytes.size() - pos)));
        collect();
    }
}

void Driver::feed(Reads reads)
{
    while (const std::optional<QByteArrayView> piece = reads.next()) {
        receive(*piece);
        collect();
    }
}

QString badStep()
{
    return u"bad step"_s;
}

QString run(Driver &driver, const QByteArrayList &script, const Feed &feed)
{
    OutputReader &output = driver.output();
    for (qsizetype i = 0; i < script.size(); ++i) {
        const QByteArray &step = script.at(i);
        const QByteArray kind = step.left(3);
        const QByteArray argument = step.mid(3);
        const auto fail = [&](const QString &what) {
            return u"step %1 \"%2\": %3"_s.arg(QString::number(i + 1), printable(step, 100), what);
        };

        if (kind == "C: " || kind == "C< ") {
            const QByteArray bytes = clientBytes(step);
            driver.feed(feed.reads(bytes, i));
        } else if (kind == "S: " || kind == "S~ " || kind == "S? ") {
            const bool optional = kind == "S? ";
            if (output.isEmpty()) {
                if (optional)
                    continue;
                return fail(u"no "_s + output.unitName());
            }
            QByteArray expected = argument;
            for (auto it = driver.variables.cbegin(); it != driver.variables.cend(); ++it)
                expected.replace(QByteArray("{"_ba + it.key() + "}"_ba), it.value());
            if (const QString error = output.mismatch(kind, expected); !error.isEmpty()) {
                if (optional)
                    continue;
                return fail(error);
            }
            output.removeFirst();
        } else if (const QString error = driver.step(kind, argument); !error.isEmpty()) {
            return fail(error);
        }
    }
    return {};
}

QString leftovers(Driver &driver)
{
    const OutputReader &output = driver.output();
    if (!output.isEmpty())
        return u"unexpected output: \"%1\""_s.arg(output.unread());
    if (!output.unfinished().isEmpty())
        return u"output without CRLF: \"%1\""_s.arg(printable(output.unfinished()));
    return driver.pending();
}

Host::~Host() = default;

Settled settle(Host &host, int rounds)
{
    for (int round = 0; round < rounds; ++round) {
        host.collect();
        if (host.closeRequested())
            return Settled::Closed;
        if (host.startTlsRequested()) {
            host.establishTls();
            continue;
        }
        if (host.waiting()) {
            host.answer();
            continue;
        }
        if (host.isHoldingInput()) {
            host.resume();
            continue;
        }
        host.idle();
        return Settled::Idle;
    }
    return Settled::Never;
}

} // namespace SessionKit
