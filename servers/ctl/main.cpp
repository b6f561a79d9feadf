#include "mailroomctl.h"

#include <QCoreApplication>
#include <QTimer>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailroomctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILROOM_VERSION));
    MailroomCtl ctl;
    QObject::connect(&ctl, &MailroomCtl::finished, &app, &QCoreApplication::exit);
    QTimer::singleShot(0, &ctl, [&ctl] { ctl.start(QCoreApplication::arguments()); });
    return app.exec();
}
