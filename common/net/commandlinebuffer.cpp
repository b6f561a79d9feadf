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

void CommandLineBuffer::append(QByteArrayView bytes)
{
    dropTaken();
    m_input.append(bytes);
}

std::optional<CommandLineBuffer::Line> CommandLineBuffer::takeLine()
{
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

QByteArray &CommandLineBuffer::unread()
{
    dropTaken();
    return m_input;
}

void CommandLineBuffer::clear()
{
    m_input.clear();
    m_taken = 0;
}
