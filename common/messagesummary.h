#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

// An address as the API shows it: {"name": "" when none, "address"}.
struct MailAddress
{
    QString name;
    QString address;

    friend bool operator==(const MailAddress &, const MailAddress &) = default;
};

// A MIME part that is not the readable text (SPEC "Storage").
struct AttachmentInfo
{
    int index = 0;
    QString filename;
    QString contentType;
    qint64 size = 0;

    friend bool operator==(const AttachmentInfo &, const AttachmentInfo &) = default;
};

// The fields the listings need, extracted once at delivery so that a listing
// never parses a message.
struct MessageSummary
{
    MailAddress from;
    QList<MailAddress> to;
    QList<MailAddress> cc;
    QString subject;
    QDateTime date; // the Date: header; invalid when missing or unparsable
    QString messageId;
    QString inReplyTo;
    QString preview;
    QList<AttachmentInfo> attachments;

    friend bool operator==(const MessageSummary &, const MessageSummary &) = default;
};
