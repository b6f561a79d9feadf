#include "smtpsession.h"

#include "mailaddress.h"
#include "maildate.h"
#include "mailheaders.h"
#include "smtpdotstuffing.h"
#include "smtplogging.h"
#include "smtppath.h"
#include "username.h"

#include <QDateTime>
#include <QRandomGenerator>

// The transaction: MAIL, RCPT (RFC 5321 §4.1.1.2-3, SIZE RFC 1870, BODY RFC
// 6152), DATA as it arrives (§4.1.1.4, §4.5.2), and what is handed over for
// delivery.

namespace {

QString newQueueId()
{
    quint32 random[2];
    QRandomGenerator::system()->fillRange(random);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(random), sizeof random).toHex().toUpper());
}

} // namespace

void SmtpSession::mailFrom(const QByteArray &argument)
{
    if (m_mailGiven) {
        error(SmtpReplies::NestedMail);
        return;
    }
    const auto path = SmtpPath::parse(argument, "FROM:");
    if (!path) {
        error(SmtpReplies::MailSyntax);
        return;
    }
    for (const SmtpPathParameter &parameter : path->parameters) {
        if (parameter.key == "SIZE") {
            bool ok = false;
            const qint64 size = parameter.value.toLongLong(&ok);
            if (!ok || size < 0) {
                error(SmtpReplies::SizeSyntax);
                return;
            }
            if (size > m_settings.maxMessageBytes) {
                error(SmtpReplies::SizeExceedsLimit);
                return;
            }
        } else if (parameter.key == "BODY") {
            const QByteArray body = parameter.value.toUpper();
            if (body != "7BIT" && body != "8BITMIME") {
                error(SmtpReplies::BodySyntax);
                return;
            }
        } else if (parameter.key != "AUTH") { // RFC 4954 §5: AUTH= is accepted and not needed
            error(SmtpReplies::UnsupportedParameterNamed, QString::fromLatin1(printableOnly(parameter.key, 32)));
            return;
        }
    }
    if (QString::fromUtf8(path->address).compare(address(m_accountName), Qt::CaseInsensitive) != 0) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: MAIL FROM"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(SmtpReplies::SenderNotOwned);
        return;
    }
    m_mailGiven = true;
    reply(SmtpReplies::SenderOk);
}

void SmtpSession::rcptTo(const QByteArray &argument)
{
    const auto path = SmtpPath::parse(argument, "TO:");
    if (!path || path->address.isEmpty()) {
        error(SmtpReplies::RcptSyntax);
        return;
    }
    if (!path->parameters.isEmpty()) {
        error(SmtpReplies::UnsupportedParameter);
        return;
    }
    const QString recipient = QString::fromUtf8(path->address);
    const qsizetype at = recipient.lastIndexOf(u'@');
    if (at <= 0 || recipient.sliced(at + 1).compare(m_settings.domain, Qt::CaseInsensitive) != 0) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: relaying to"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(SmtpReplies::RelayingDenied);
        return;
    }
    const auto name = Username::normalize(recipient.first(at));
    const AccountLookup account = name ? m_directory->lookUpAccount(*name) : AccountLookup{};
    if (account.result == AccountLookup::Result::Unavailable) {
        error(SmtpReplies::LookupUnavailable);
        return;
    }
    const std::optional<qint64> id = account.found() ? std::optional<qint64>(account.id) : std::nullopt;
    if (!id) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "refused: no local user"
                                 << QString::fromLatin1(printableOnly(path->address, 256));
        error(SmtpReplies::NoSuchRecipient);
        return;
    }
    if (m_recipients.size() >= m_settings.maxRecipients) {
        reply(SmtpReplies::TooManyRecipients);
        return;
    }
    if (!m_recipients.contains(*id))
        m_recipients.append(*id);
    reply(SmtpReplies::RecipientOk);
}

void SmtpSession::data(const QByteArray &argument)
{
    if (!argument.isEmpty()) {
        error(SmtpReplies::DataSyntax);
        return;
    }
    if (!m_mailGiven || m_recipients.isEmpty()) {
        error(SmtpReplies::NoValidRecipients);
        return;
    }
    reply(SmtpReplies::StartMailInput);
    m_state = State::Data;
    ++m_dataStarts;
    m_message.clear();
    m_partialLine.clear();
    m_partialLastByte = 0;
    m_lastLineEndedWithCrlf = true;
    m_tooBig = false;
    m_badLineEnd = false;
    m_lineTooLong = false;
    m_headerMeter = HeaderSectionMeter(HeaderBlock::FirstLine::IsHeader);
    m_headerTooBig = false;
    m_queueId = newQueueId();
}

// RFC 5321 §4.1.1.4 and §4.5.2. The data ends only at exactly CRLF "." CRLF:
// a "." line ended by a bare LF, or after a line ended by a bare LF, is
// content (SMTP smuggling, CVE-2023-51764/5/6). Bare LF ends a line and is
// stored as CRLF; a bare CR or a NUL anywhere gets the message refused.
void SmtpSession::processDataBytes()
{
    QByteArray &input = m_input.unread();
    qsizetype pos = 0;
    while (m_state == State::Data) {
        const qsizetype lf = input.indexOf('\n', pos);
        if (lf < 0) {
            // Keep at most one line's worth; a longer line is refused anyway.
            const qsizetype room = SmtpSessionSettings::MaxDataLine + 1 - m_partialLine.size();
            if (input.size() - pos > room)
                m_lineTooLong = true;
            m_partialLine.append(QByteArrayView(input).sliced(pos, std::min(room, input.size() - pos)));
            if (input.size() > pos)
                m_partialLastByte = input.back();
            pos = input.size();
            break;
        }
        // Whether the line ended in CRLF is read from the bytes as they came,
        // not from the kept part: an overlong line's CR lies beyond it, and
        // losing it would move the end of the data.
        const char lastByte = lf > pos ? input.at(lf - 1) : m_partialLastByte;
        const bool crlf = lastByte == '\r';
        const qsizetype room = SmtpSessionSettings::MaxDataLine + 1 - m_partialLine.size();
        if (lf - pos > room)
            m_lineTooLong = true;
        const QByteArrayView rest = QByteArrayView(input).sliced(pos, std::min(room, lf - pos));
        // A line that came whole in this read (nearly all of them) is looked
        // at where it lies: no allocation per line of a large message.
        QByteArray joined;
        QByteArrayView line = rest;
        if (!m_partialLine.isEmpty()) {
            joined = m_partialLine + rest;
            line = joined;
        }
        m_partialLine.clear();
        m_partialLastByte = 0;
        pos = lf + 1;
        if (crlf && line.endsWith('\r'))
            line.chop(1);
        if (crlf && m_lastLineEndedWithCrlf && SmtpDotStuffing::isEndOfData(line)) {
            finishData();
            break;
        }
        // Dot-unstuffing only for a line that begins after a CRLF: after a
        // bare LF the client did not stuff (curl -T of a Unix text file sends
        // ".line" as written), just as such a "." never ends the data.
        const bool startsAfterCrlf = std::exchange(m_lastLineEndedWithCrlf, crlf);
        if (line.contains('\r') || line.contains('\0'))
            m_badLineEnd = true;
        if (line.size() + 2 > SmtpSessionSettings::MaxDataLine)
            m_lineTooLong = true;
        if (startsAfterCrlf)
            line = SmtpDotStuffing::unstuffLine(line);
        if (m_tooBig || m_headerTooBig)
            continue;
        if (m_message.size() + line.size() + 2 > m_settings.maxMessageBytes) {
            m_tooBig = true;
            m_message = QByteArray(); // read on to the end, keep nothing
            continue;
        }
        // The header section is measured line by line as it is stored
        // (unstuffed, CRLF), never by rescanning what was kept: one past the
        // limit is dropped at once and the rest only read (docs/PROTOCOL.md,
        // SMTP: a To: of millions of addresses costs nothing more).
        if (!m_headerMeter.isComplete()) {
            m_headerMeter.addLine(line, 2);
            if (m_headerMeter.size() > m_settings.maxHeaderBytes) {
                m_headerTooBig = true;
                m_message = QByteArray();
                continue;
            }
        }
        m_message.append(line).append("\r\n", 2);
    }
    input.remove(0, pos);
}

namespace {

// RFC 5321 §4.4: the final delivery may remove Return-Path fields before
// adding its own, and does: a client's own would stand beside ours and
// name a forged envelope sender to whoever reads the wrong one. Drops each
// such field with its continuation lines; the rest stays as sent.
QByteArray withoutReturnPathFields(const QByteArray &message, qsizetype headerEnd)
{
    static constexpr QByteArrayView Name = "return-path";
    QByteArray kept;
    kept.reserve(message.size());
    bool dropping = false;
    for (qsizetype position = 0; position < headerEnd;) {
        const qsizetype newline = message.indexOf('\n', position);
        const qsizetype end = newline < 0 || newline >= headerEnd ? headerEnd : newline + 1;
        const QByteArrayView line(message.constData() + position, end - position);
        if (line.isEmpty() || (line.front() != ' ' && line.front() != '\t')) {
            // Obsolete syntax allows white space before the colon (RFC 5322 §4.5).
            qsizetype colon = Name.size();
            while (colon < line.size() && (line.at(colon) == ' ' || line.at(colon) == '\t'))
                ++colon;
            dropping = line.size() > colon && line.at(colon) == ':'
                && line.first(Name.size()).compare(Name, Qt::CaseInsensitive) == 0;
        }
        if (!dropping)
            kept.append(line);
        position = end;
    }
    kept.append(message.constData() + headerEnd, message.size() - headerEnd);
    return kept;
}

} // namespace

void SmtpSession::finishData()
{
    m_state = State::Command;
    m_lastLineEndedWithCrlf = true;
    m_partialLine.clear();
    const QString sender = address(m_accountName);
    const auto refuse = [this](const SmtpServerReply &refusal) {
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "refused:"
                                 << refusal.code << refusal.formatText();
        reply(refusal);
        resetTransaction();
    };
    if (m_tooBig) {
        refuse(SmtpReplies::MessageTooBig);
        return;
    }
    if (m_headerTooBig) {
        refuse(SmtpReplies::HeaderSectionTooLarge);
        return;
    }
    if (m_badLineEnd || m_lineTooLong) {
        refuse(m_lineTooLong ? SmtpReplies::DataLineTooLong : SmtpReplies::BareCrOrNul);
        return;
    }
    const HeaderBlock headers = HeaderBlock::parse(m_message, HeaderBlock::FirstLine::IsHeader);
    const QList<QByteArray> fromFields = headers.values("From");
    if (!fromFields.isEmpty()) {
        const AddressList from = MailAddresses::parseList(fromFields.first());
        const bool own = fromFields.size() == 1 && from.complete && from.addresses.size() == 1
            && from.addresses.first().address.compare(sender, Qt::CaseInsensitive) == 0;
        if (!own) {
            refuse(SmtpReplies::FromNotOwned);
            return;
        }
    }
    if (headers.contains("Return-Path"))
        m_message = withoutReturnPathFields(m_message, headers.bodyOffset());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    // EHLO is not required; without it the client is "unknown" (Postfix's word).
    const QByteArray helo = m_helo.isEmpty() ? QByteArrayLiteral("unknown") : m_helo.toLatin1();
    // RFC 5321 §4.4: the final delivery records the envelope sender (MAIL
    // FROM, which is the account's own address; "<>" for a null sender).
    QByteArray top = "Return-Path: <" + sender.toUtf8() + ">\r\n";
    top += "Received: from " + helo + " ([" + m_clientAddress.toLatin1() + "])\r\n by "
        + m_settings.hostname.toLatin1() + " (Mailroom) with ESMTPSA id " + m_queueId.toLatin1() + ";\r\n "
        + MailDate::format(now) + "\r\n";
    if (fromFields.isEmpty())
        top += "From: " + sender.toUtf8() + "\r\n";
    if (!headers.contains("Message-ID"))
        top += "Message-ID: <" + m_queueId.toLatin1() + '.' + QByteArray::number(now.toMSecsSinceEpoch()) + '@'
            + m_settings.hostname.toLatin1() + ">\r\n";
    if (!headers.contains("Date"))
        top += "Date: " + MailDate::format(now) + "\r\n";
    // A message without any header fields starts with its body: keep it the
    // body by putting the empty line that ends our fields before it.
    if (headers.fields().isEmpty() && !m_message.startsWith("\r\n"))
        top += "\r\n";
    m_request = SmtpDeliveryRequest{m_queueId, m_accountId, m_recipients, top + std::exchange(m_message, {})};
    m_state = State::Waiting;
}

void SmtpSession::deliveryFinished(DeliveryOutcome outcome)
{
    if (m_state != State::Waiting)
        return;
    m_state = State::Command;
    switch (outcome) {
    case DeliveryOutcome::Stored:
        qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "delivered to"
                       << m_recipients.size() << "recipients";
        reply(SmtpReplies::Queued, m_queueId);
        break;
    case DeliveryOutcome::DiskFull:
        reply(SmtpReplies::InsufficientStorage);
        break;
    case DeliveryOutcome::RecipientGone:
    case DeliveryOutcome::Failed:
        reply(SmtpReplies::LocalError);
        break;
    }
    if (outcome != DeliveryOutcome::Stored)
        qCWarning(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId << "not stored";
    resetTransaction();
    process();
}

void SmtpSession::dataTimedOut()
{
    if (m_state != State::Data)
        return;
    qCInfo(lcSmtp).noquote() << m_clientAddress << m_accountName << "message" << m_queueId
                             << "refused: DATA went on past its deadline";
    reply(SmtpReplies::DataTimeout);
    close();
}
