#pragma once

#include "messagesummary.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>

// One row of a mailbox listing, as GET /api/v1/mailboxes/{folder}/messages
// gives it (docs/PROTOCOL.md).
struct MessageListEntry
{
    qint64 id = 0;
    MailAddress from;
    QList<MailAddress> to; // the first 50 the server lists
    qint64 toCount = 0;    // every address of the field
    QList<MailAddress> cc;
    QString subject;
    QDateTime date;
    qint64 size = 0;
    bool seen = false;
    QString preview;

    [[nodiscard]] static std::optional<MessageListEntry> fromJson(const QJsonObject &object);
    friend bool operator==(const MessageListEntry &, const MessageListEntry &) = default;
};

// One page of a folder listing, newest first; nextBefore is the `before` of
// the next older page, none when the page reaches the oldest message.
struct MessageListing
{
    QList<MessageListEntry> entries;
    std::optional<qint64> nextBefore;

    // The entries of a listing answer; ones without a valid id are skipped.
    [[nodiscard]] static MessageListing fromJson(const QJsonValue &answer);
    friend bool operator==(const MessageListing &, const MessageListing &) = default;
};

// A folder's counters as GET /api/v1/account gives them.
struct FolderTotals
{
    int unseen = 0;
    int total = 0;

    // Every folder of an account answer, by name ("inbox", "sent").
    [[nodiscard]] static QHash<QString, FolderTotals> fromAccountJson(const QJsonValue &answer);
    friend bool operator==(const FolderTotals &, const FolderTotals &) = default;
};
