#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

// One SMTP reply, RFC 5321 §4.2: a code, the RFC 3463 enhanced code when the
// server sent one (RFC 2034), and the text of each line without either.
struct SmtpReply
{
    int code = 0;
    QString enhanced;  // "5.7.8", or empty
    QStringList lines; // the text after the codes, one entry per line

    [[nodiscard]] bool isPositive() const { return code >= 200 && code < 400; }
    [[nodiscard]] QString text() const { return lines.join(u' '); }
    // "535 5.7.8 Authentication credentials invalid", as the server put it.
    [[nodiscard]] QString toString() const;

    friend bool operator==(const SmtpReply &, const SmtpReply &) = default;
};

// Cuts the server's bytes into replies. Only whole lines are parsed, so a
// reply split across TCP segments (or at any byte) is still one reply, and a
// multi-line reply ("250-...", "250 ...") comes out once, when its last line
// is in. A line without a valid code, a continuation with another code, or a
// line over MaxLineLength is a protocol error: the connection is not to be
// trusted further.
class SmtpReplyParser
{
public:
    static constexpr int MaxLineLength = 4096; // RFC 5321 §4.5.3.1.5 allows 512
    static constexpr int MaxLines = 200;

    void append(QByteArrayView bytes) { m_buffer.append(bytes); }
    // The next complete reply, or nothing while more bytes are needed or
    // after an error.
    [[nodiscard]] std::optional<SmtpReply> next();
    [[nodiscard]] bool hasError() const { return !m_error.isEmpty(); }
    [[nodiscard]] QString errorString() const { return m_error; }
    // Bytes received and not yet part of a reply: after the 220 to STARTTLS
    // there must be none (they would be read as if they came over TLS).
    [[nodiscard]] qsizetype bufferedBytes() const { return m_buffer.size(); }

private:
    QByteArray m_buffer;
    SmtpReply m_partial;
    QString m_error;
};

char *toString(const SmtpReply &reply); // for QCOMPARE
