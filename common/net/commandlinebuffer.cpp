#include "commandlinebuffer.h"

void CommandLineBuffer::dropTaken()
{
    // Lines are handed out by position and removed together, not one by one:
    // 10,000 commands in one write cost one move, not 10,000.
    if (m_taken > 0) {
        m_input.remove(0, m_taken);
        m_taken = 0;
    }
}

void CommandLineBuffer::dropDiscarded()
{
    const qsizetype dropped = std::min(m_discarding, m_input.size() - m_taken);
    m_taken += dropped;
    m_discarding -= dropped;
}

void CommandLineBuffer::append(QByteArrayView bytes)
{
    dropTaken();
    if (m_discarding > 0 && m_input.isEmpty()) {
        // Dropped straight from what was read: a refused literal never sits here.
        const qsizetype dropped = std::min(m_discarding, bytes.size());
        m_discarding -= dropped;
        bytes = bytes.sliced(dropped);
    }
    m_input.append(bytes);
    dropDiscarded();
}

std::optional<CommandLineBuffer::Line> CommandLineBuffer::takeLine()
{
    if (isInLiteral())
        return std::nullopt;
    const qsizetype lf = m_input.indexOf('\n', m_taken);
    if (lf < 0) {
        if (m_input.size() - m_taken > m_maxLine) {
            m_discardingLongLine = true;
            m_input.clear();
            m_taken = 0;
        } else {
            dropTaken();
        }
        return std::nullopt;
    }
    Line line;
    line.tooLong = std::exchange(m_discardingLongLine, false) || lf - m_taken + 1 > m_maxLine;
    if (!line.tooLong) {
        line.text = m_input.mid(m_taken, lf - m_taken);
        if (line.text.endsWith('\r'))
            line.text.chop(1);
    }
    m_taken = lf + 1;
    return line;
}

bool CommandLineBuffer::hasWholeLine() const
{
    if (m_literalSize >= 0)
        return m_input.size() - m_taken >= m_literalSize;
    if (m_discarding > 0)
        return false;
    return m_input.indexOf('\n', m_taken) >= 0;
}

QByteArray &CommandLineBuffer::unread()
{
    dropTaken();
    return m_input;
}

void CommandLineBuffer::clear()
{
    m_input.clear();
    m_taken = 0;
    m_literalSize = -1;
    m_discarding = 0;
}

CommandLineBuffer::LiteralStart CommandLineBuffer::expectLiteral(qsizetype size)
{
    Q_ASSERT(!isInLiteral());
    if (size < 0 || size > m_maxLiteral)
        return LiteralStart::TooLarge;
    m_literalSize = size;
    return LiteralStart::Accepted;
}

std::optional<QByteArray> CommandLineBuffer::takeLiteral()
{
    if (m_literalSize < 0 || m_input.size() - m_taken < m_literalSize)
        return std::nullopt;
    QByteArray literal = m_input.mid(m_taken, m_literalSize);
    m_taken += std::exchange(m_literalSize, -1);
    return literal;
}

void CommandLineBuffer::discardLiteral(qsizetype size)
{
    Q_ASSERT(!isInLiteral());
    m_discarding = std::max<qsizetype>(size, 0);
    dropDiscarded();
}

qsizetype CommandLineBuffer::literalBytesMissing() const
{
    if (m_literalSize >= 0)
        return std::max<qsizetype>(m_literalSize - (m_input.size() - m_taken), 0);
    return m_discarding;
}
