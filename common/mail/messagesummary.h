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

// A MIME part that is not the readable text (docs/protocol/messages.md §5).
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
    // At most this many addresses of To and of Cc are parsed (the mailbox
    // model's bound): a field of millions must not cost the store, every
    // listing and every reader its size. The raw message keeps them all.
    static constexpr int MaxAddresses = 1000;
    // What a summary shows and the store keeps of them: every view of a
    // summary (listings, a message's JSON, events) carries at most this
    // many per field, with the field's count beside them, so a listing of
    // 50 messages reads 50 x 50 addresses at most, not 50 x 1,000.
    static constexpr int MaxListedAddresses = 50;

    MailAddress from;
    QList<MailAddress> to; // the field's first MaxAddresses (from the store: MaxListedAddresses)
    QList<MailAddress> cc;
    // Every address of the field, also those past the kept ones; a summary
    // made by hand may leave them 0, read as to.size() and cc.size().
    qint64 toCount = 0;
    qint64 ccCount = 0;
    QString subject;
    QDateTime date; // the Date: header; invalid when missing or unparsable
    QString messageId;
    QString inReplyTo;
    QString preview;
    QList<AttachmentInfo> attachments;

    friend bool operator==(const MessageSummary &, const MessageSummary &) = default;
};
