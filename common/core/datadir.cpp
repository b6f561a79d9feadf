#include "datadir.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryFile>

namespace DataDirectory {

bool prepare(const QString &path, Mode mode, QString *error, bool *created)
{
    if (created)
        *created = false;
    const QFileInfo info(path);
    if (info.exists() && !info.isDir()) {
        *error = QStringLiteral("data directory %1 is not a directory: choose another with --data-dir").arg(path);
        return false;
    }
    if (!info.exists()) {
        if (mode == Mode::MustExist) {
            *error = QStringLiteral("no data directory at %1: run 'mailroomctl --data-dir %1 init' first").arg(path);
            return false;
        }
        if (!QDir().mkpath(path)) {
            *error = QStringLiteral("cannot create data directory %1: choose a writable place with --data-dir").arg(path);
            return false;
        }
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        if (created)
            *created = true;
    }
    // access(2) says yes to root everywhere, so really try to write.
    QTemporaryFile probe(path + QStringLiteral("/.write-test-XXXXXX"));
    if (!probe.open()) {
        *error = QStringLiteral("data directory %1 is not writable: choose another with --data-dir").arg(path);
        return false;
    }
    return true;
}

} // namespace DataDirectory
