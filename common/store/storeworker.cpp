#include "storeworker.h"

StoreWorker::StoreWorker(DatabaseUrl database)
    : m_database(std::move(database))
{
}

bool StoreWorker::startIn(QThread &thread, const QString &name, QString *error)
{
    moveToThread(&thread);
    connect(&thread, &QThread::finished, this, &QObject::deleteLater);
    thread.setObjectName(name);
    thread.start();
    bool opened = false;
    QString openError;
    QMetaObject::invokeMethod(
        this,
        [this, &opened, &openError] {
            m_store = std::make_unique<Store>();
            opened = m_store->open(m_database, Store::OpenMode::MustExist);
            if (!opened)
                openError = m_store->lastErrorText();
        },
        Qt::BlockingQueuedConnection);
    if (!opened)
        *error = openError;
    return opened;
}
