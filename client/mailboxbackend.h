#pragma once

#include "clienterror.h"
#include "messagelisting.h"

#include <QHash>
#include <QPointer>

#include <functional>
#include <optional>

class Session;

// What MailboxSync asks of the server, as parsed values. Each request
// answers exactly once, through `done` or `failed`, on the thread of
// `context`, and not at all once `context` is gone. The sync tests put a
// scripted server behind it; ApiMailboxBackend is the real one.
class MailboxBackend
{
public:
    template<typename T>
    using Done = std::function<void(const T &)>;
    using Failed = std::function<void(const ClientError &)>;

    virtual ~MailboxBackend() = default;

    // Requests can be made (logged in).
    [[nodiscard]] virtual bool isOnline() const = 0;
    // One page of `folder`, newest first, older than `before` when given.
    virtual void list(const QString &folder, int limit, std::optional<qint64> before, QObject *context,
                      Done<MessageListing> done, Failed failed) = 0;
    // Every folder's counters.
    virtual void counts(QObject *context, Done<QHash<QString, FolderTotals>> done, Failed failed) = 0;
    virtual void setSeen(qint64 id, bool seen, QObject *context, std::function<void()> done, Failed failed) = 0;
    virtual void remove(qint64 id, QObject *context, std::function<void()> done, Failed failed) = 0;
    // A failure the user should see beside the list (the session's one error line).
    virtual void reportError(const ClientError &error) = 0;
};

// The session's ApiClient (the HTTPS JSON API of docs/PROTOCOL.md).
class ApiMailboxBackend final : public MailboxBackend
{
public:
    explicit ApiMailboxBackend(Session *session);

    [[nodiscard]] bool isOnline() const override;
    void list(const QString &folder, int limit, std::optional<qint64> before, QObject *context,
              Done<MessageListing> done, Failed failed) override;
    void counts(QObject *context, Done<QHash<QString, FolderTotals>> done, Failed failed) override;
    void setSeen(qint64 id, bool seen, QObject *context, std::function<void()> done, Failed failed) override;
    void remove(qint64 id, QObject *context, std::function<void()> done, Failed failed) override;
    void reportError(const ClientError &error) override;

private:
    QPointer<Session> m_session;
};
