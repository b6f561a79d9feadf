#pragma once

// Internal to common/store (storebackup.cpp).

#include <QByteArray>
#include <QString>

// Where a backup is written before it takes its name: a fresh 0700
// directory beside the target holding one empty 0600 file made with
// O_EXCL|O_NOFOLLOW, which SQLite then fills (VACUUM INTO and a new
// database both take an empty file). The directory is held open and
// everything in it is reached through that descriptor (SQLite through
// /proc/self/fd/N/), never through its name: someone who can write to the
// target's directory may rename ours and put a link in its place, and the
// copy must not follow it. Whatever happens, what is in it goes away at
// the end: a failed backup leaves no file that looks complete.
class BackupStaging
{
public:
    explicit BackupStaging(const QByteArray &parentDirectory);
    ~BackupStaging();
    BackupStaging(const BackupStaging &) = delete;
    BackupStaging &operator=(const BackupStaging &) = delete;

    [[nodiscard]] int error() const { return m_errno; }
    // The copy's path for SQLite, through the held directory.
    [[nodiscard]] QString file() const;

    // Gives the file its final name, never replacing what is there (a file,
    // a directory, a symbolic link, dangling or not): 0 or an errno.
    int publish(const QByteArray &target) const;

private:
    static constexpr const char *FileName = "backup.db";
    int m_parent = -1;
    int m_directory = -1;
    QByteArray m_name; // set while the directory is ours to remove
    int m_errno = 0;
};
