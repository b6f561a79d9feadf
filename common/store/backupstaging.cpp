#include "backupstaging_p.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

BackupStaging::BackupStaging(const QByteArray &parentDirectory)
{
    m_parent = ::open(parentDirectory.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m_parent < 0) {
        m_errno = errno;
        return;
    }
    QByteArray path = parentDirectory + "/.mailroom-backup-XXXXXX";
    if (!::mkdtemp(path.data())) {
        m_errno = errno;
        return;
    }
    m_name = path.mid(path.lastIndexOf('/') + 1);
    m_directory = ::openat(m_parent, m_name.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat status = {};
    if (m_directory < 0 || ::fstat(m_directory, &status) != 0 || status.st_uid != ::geteuid()
        || (status.st_mode & 0077) != 0) {
        // Swapped between mkdtemp and open: not ours, not touched.
        m_errno = m_directory < 0 ? errno : EEXIST;
        m_name.clear();
        return;
    }
    const int fd = ::openat(m_directory, FileName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        m_errno = errno;
        return;
    }
    ::close(fd);
}

BackupStaging::~BackupStaging()
{
    if (m_directory >= 0) {
        // SQLite may have left a journal beside the copy.
        const int listing = ::dup(m_directory);
        if (DIR *entries = listing >= 0 ? ::fdopendir(listing) : nullptr) {
            while (const dirent *entry = ::readdir(entries)) {
                if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0)
                    ::unlinkat(m_directory, entry->d_name, 0);
            }
            ::closedir(entries);
        } else if (listing >= 0) {
            ::close(listing);
        }
        ::close(m_directory);
    }
    // A link put in its place is not a directory: AT_REMOVEDIR leaves it.
    if (!m_name.isEmpty())
        ::unlinkat(m_parent, m_name.constData(), AT_REMOVEDIR);
    if (m_parent >= 0)
        ::close(m_parent);
}

QString BackupStaging::file() const
{
    return QStringLiteral("/proc/self/fd/%1/%2").arg(m_directory).arg(QLatin1StringView(FileName));
}

int BackupStaging::publish(const QByteArray &target) const
{
#ifdef RENAME_NOREPLACE
    if (::renameat2(m_directory, FileName, AT_FDCWD, target.constData(), RENAME_NOREPLACE) == 0)
        return 0;
    // Some file systems do not support the flag; link() never replaces either.
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return errno;
#endif
    if (::linkat(m_directory, FileName, AT_FDCWD, target.constData(), 0) != 0)
        return errno;
    ::unlinkat(m_directory, FileName, 0);
    return 0;
}
