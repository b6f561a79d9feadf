#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// One "KEYWORD=value" (or "KEYWORD") after a path, RFC 5321 §4.1.2
// Mail-parameters / Rcpt-parameters.
struct SmtpPathParameter
{
    QByteArray key;   // upper case
    QByteArray value; // as sent; empty when there was no "="

    friend bool operator==(const SmtpPathParameter &, const SmtpPathParameter &) = default;
};

// The argument of MAIL and RCPT: "FROM:<path> [PARAM=VALUE ...]" or
// "TO:<path> ...", RFC 5321 §4.1.2.
struct SmtpPath
{
    QByteArray address; // the mailbox between "<" and ">", a source route dropped; empty for "<>"
    QList<SmtpPathParameter> parameters;

    // `keyword` is "FROM:" or "TO:" and matches in any case; white space
    // may stand after it. Nothing without "<...>" is a path.
    [[nodiscard]] static std::optional<SmtpPath> parse(const QByteArray &argument, QByteArrayView keyword);

    friend bool operator==(const SmtpPath &, const SmtpPath &) = default;
};

// The command lines a client sends with a path, without their CRLF.
namespace SmtpCommands {
// "MAIL FROM:<address>", with " SIZE=n" (RFC 1870) when a size is given.
[[nodiscard]] QByteArray mailFrom(QByteArrayView address, std::optional<qint64> size = std::nullopt);
// "RCPT TO:<address>"
[[nodiscard]] QByteArray rcptTo(QByteArrayView address);
} // namespace SmtpCommands
