#include "sqltransaction.h"

#include "logging.h"

#include <QSqlQuery>

namespace {
bool run(const QSqlDatabase &db, const QString &statement, QSqlError *error)
{
    QSqlQuery query(db);
    if (query.exec(statement))
        return true;
    *error = query.lastError();
    return false;
}
} // namespace

SqlWriteTransaction::SqlWriteTransaction(const QSqlDatabase &db)
    : m_db(db)
{
    // PostgreSQL locks rows as they are written; it has no IMMEDIATE.
    const bool sqlite = m_db.driverName() == u"QSQLITE";
    m_active = run(m_db, sqlite ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN"), &m_error);
}

SqlWriteTransaction::~SqlWriteTransaction()
{
    if (!m_active)
        return;
    QSqlError ignored;
    if (!run(m_db, QStringLiteral("ROLLBACK"), &ignored))
        qCWarning(lcStore) << "rollback failed:" << ignored.text();
}

bool SqlWriteTransaction::commit()
{
    if (!m_active)
        return false;
    if (!run(m_db, QStringLiteral("COMMIT"), &m_error))
        return false; // still active: the destructor rolls back
    m_active = false;
    return true;
}
