#include "mailboxsync.h"

#include "foldersync.h"

#include <QPointer>

MailboxSync::MailboxSync(std::unique_ptr<MailboxBackend> backend, QObject *parent)
    : QObject(parent)
    , m_backend(std::move(backend))
{
}

MailboxSync::~MailboxSync()
{
    // The views outlive this (their model owns them); they stop asking.
    for (FolderSync *folder : std::as_const(m_folders))
        folder->m_mailbox = nullptr;
}

std::unique_ptr<FolderSync> MailboxSync::openFolder(const QString &folder, int limit)
{
    std::unique_ptr<FolderSync> view(new FolderSync(this, folder, limit));
    m_folders.append(view.get());
    return view;
}

void MailboxSync::applyChange(const MessageChange &change)
{
    confirmed(change, nullptr, true);
}

void MailboxSync::reset()
{
    m_journal.forgetChanges();
}

void MailboxSync::confirmed(const MessageChange &change, FolderSync *requester, bool adjustCounts)
{
    m_journal.record(change);
    // A view may react to an edit by closing another (its model reloading).
    QList<QPointer<FolderSync>> folders;
    for (FolderSync *folder : std::as_const(m_folders))
        folders.append(folder);
    for (const QPointer<FolderSync> &folder : std::as_const(folders)) {
        if (folder)
            folder->applyChange(change, adjustCounts, folder == requester);
    }
}
