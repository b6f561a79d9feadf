#include "messagebuilder.h"

#include "encodedwords.h"
#include "mailaddress.h"
#include "maildate.h"
#include "transferencoding.h"

#include <QRandomGenerator>

namespace MessageBuilder {

namespace {

// Folds an ASCII value at spaces so that lines stay under 78 characters
// where a space allows it (RFC 5322 §2.2.3).
QByteArray foldAscii(const QByteArray &name, const QByteArray &value)
{
    QByteArray out = name + ':';
    qsizetype lineLength = out.size();
    for (const QByteArray &word : value.split(' ')) {
        if (lineLength + 1 + word.size() > 78 && lineLength > name.size() + 1) {
            out += "\r\n";
            lineLength = 0;
        }
        out += ' ' + word;
        lineLength += 1 + word.size();
    }
    return out + "\r\n";
}

// RFC 2045 §2.7 7bit data: US-ASCII without NUL or control characters
// other than tab, lines under 998 octets; anything else is quoted-printable.
bool isPlainSevenBit(const QByteArray &text)
{
    qsizetype lineLength = 0;
    for (const char c : text) {
        if (c == '\n') {
            lineLength = 0;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (byte > 126 || (byte < 32 && c != '\t') || ++lineLength > 998)
            return false;
    }
    return true;
}

QByteArray field(const QByteArray &name, const QByteArray &value)
{
    return name + ": " + value + "\r\n";
}

} // namespace

QString newMessageId(const QString &domain)
{
    quint32 random[4];
    QRandomGenerator::system()->fillRange(random);
    return u'<' + QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex()) + u'@'
        + (domain.isEmpty() ? QStringLiteral("localhost") : domain) + u'>';
}

QByteArray build(const OutgoingMessage &message)
{
    QByteArray out;
    const QDateTime date = message.date.isValid() ? message.date : QDateTime::currentDateTimeUtc();
    out += field("Date", MailDate::format(date));
    out += field("From", MailAddresses::format(message.from));
    if (!message.to.isEmpty())
        out += field("To", MailAddresses::formatList(message.to));
    if (!message.cc.isEmpty())
        out += field("Cc", MailAddresses::formatList(message.cc));
    const QByteArray subject = EncodedWords::encodeText(message.subject);
    out += subject.contains("=?") ? field("Subject", subject) : foldAscii("Subject", subject);
    const QString domain = message.from.address.section(u'@', -1);
    out += field("Message-ID", (message.messageId.isEmpty() ? newMessageId(domain) : message.messageId).toUtf8());
    if (!message.inReplyTo.isEmpty())
        out += field("In-Reply-To", message.inReplyTo.toUtf8());
    if (!message.references.isEmpty())
        out += field("References", message.references.join(QStringLiteral("\r\n ")).toUtf8());
    QString text = message.text;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    text.replace(u'\r', u'\n');
    const QByteArray utf8 = text.toUtf8();
    out += "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n";
    if (isPlainSevenBit(utf8)) {
        // Readable as it is in any mail store; nothing to encode.
        out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
        QByteArray body = utf8;
        out += body.replace("\n", "\r\n");
    } else {
        out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        out += TransferEncoding::encodeQuotedPrintable(utf8);
    }
    if (!out.endsWith("\r\n"))
        out += "\r\n";
    return out;
}

} // namespace MessageBuilder
