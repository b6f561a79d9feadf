#include "mailroomctl.h"

#include <QCoreApplication>
#include <QTimer>

#include <sys/stat.h>

int main(int argc, char *argv[])
{
    // The database, its -wal, backups and keys hold password hashes and mail:
    // whatever this process creates is for its owner only.
    umask(077);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroomctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));
    MailroomCtl ctl;
    QObject::connect(&ctl, &MailroomCtl::finished, &app, &QCoreApplication::exit);
    QTimer::singleShot(0, &ctl, [&ctl] { ctl.start(QCoreApplication::arguments()); });
    return app.exec();
}
