#pragma once

#include "changejournal.h"
#include "mailboxbackend.h"

#include <QList>
#include <QObject>

#include <memory>

class FolderSync;

// The mailbox of one account kept in step with the server, for any number
// of folder views (FolderSync, one per view: its folder and page size).
// What is shared is what belongs to the account: the server (a
// MailboxBackend) and the journal of changes the server confirmed, so that a
// change made through one view shows in every view listing the message and
// no listing on its way undoes it. The Session owns one; applyChange() is
// where changes the server announces on its own come in.
class MailboxSync : public QObject
{
    Q_OBJECT

public:
    explicit MailboxSync(std::unique_ptr<MailboxBackend> backend, QObject *parent = nullptr);
    ~MailboxSync() override;

    // A view of `folder`, `limit` messages a page, empty until its refresh().
    // It stops serving when this is gone.
    [[nodiscard]] std::unique_ptr<FolderSync> openFolder(const QString &folder, int limit);

    [[nodiscard]] MailboxBackend *backend() const { return m_backend.get(); }
    [[nodiscard]] const ChangeJournal &journal() const { return m_journal; }

    // A change that happened on the server: every view listing the message
    // shows it, and listings on their way are corrected by it.
    void applyChange(const MessageChange &change);

public Q_SLOTS:
    // Logged out or in as another account: no change recorded applies any more.
    void reset();

private:
    friend class FolderSync;
    // requester: the view that asked for it (which hears of it even when
    // the message is not listed there); adjustCounts: as FolderSync::applyChange.
    void confirmed(const MessageChange &change, FolderSync *requester, bool adjustCounts);

    std::unique_ptr<MailboxBackend> m_backend;
    ChangeJournal m_journal;
    QList<FolderSync *> m_folders; // each removes itself when destroyed
};
