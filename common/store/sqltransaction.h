#pragma once

#include <QSqlDatabase>
#include <QSqlError>

// RAII write transaction: BEGIN IMMEDIATE (SQLite) or BEGIN (PostgreSQL) on
// construction, ROLLBACK on destruction unless commit() succeeded. IMMEDIATE
// takes the write lock up front, so a second process waits in SQLite's busy
// handler instead of failing with SQLITE_BUSY when its read snapshot turns
// out to be stale.
class SqlWriteTransaction
{
public:
    explicit SqlWriteTransaction(const QSqlDatabase &db);
    ~SqlWriteTransaction();
    SqlWriteTransaction(const SqlWriteTransaction &) = delete;
    SqlWriteTransaction &operator=(const SqlWriteTransaction &) = delete;

    [[nodiscard]] bool isActive() const { return m_active; }
    [[nodiscard]] bool commit();
    [[nodiscard]] QSqlError lastError() const { return m_error; }

private:
    QSqlDatabase m_db;
    QSqlError m_error;
    bool m_active = false;
};
