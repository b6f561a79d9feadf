#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

// What a line protocol's client sent and the session has not read yet
// (SmtpSession, Pop3Session): bytes in, whole command lines out. A line
// longer than the limit is dropped as it arrives, so memory stays bounded
// however long a line a client sends, and is reported once, as too long.
class CommandLineBuffer
{
public:
    struct Line
    {
        QByteArray text; // without its CRLF or LF; empty when tooLong
        bool tooLong = false;
    };

    // maxLine counts the line with its CRLF.
    explicit CommandLineBuffer(qsizetype maxLine)
        : m_maxLine(maxLine)
    {
    }

    void append(QByteArrayView bytes);
    // The next whole line, or none while its end has not come.
    std::optional<Line> takeLine();
    // The bytes not taken yet, for a phase that reads them its own way (an
    // SMTP message): it removes what it consumed from the front.
    QByteArray &unread();
    [[nodiscard]] bool hasWholeLine() const { return m_input.indexOf('\n', m_taken) >= 0; }
    [[nodiscard]] bool isEmpty() const { return m_taken >= m_input.size(); }
    void clear();

private:
    void dropTaken();

    QByteArray m_input;
    qsizetype m_taken = 0; // the front of m_input already handed out
    qsizetype m_maxLine;
    bool m_discardingLongLine = false;
};
