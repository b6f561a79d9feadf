#pragma once

#include "config.h"
#include "store.h"

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QStringList>
#include <QUrl>

// The database a test's store lives in. By default the SQLite file
// DIR/mailroom.db, as a server finds it in its data directory. In the
// suite's postgres runs (ctest sets MAILROOM_TEST_POSTGRES to the state
// directory of tests/support/throwaway_postgres.py) a new database on that
// throw-away server instead, dropped again when this goes away, so every
// test starts from nothing as it does with a new temporary directory.
class TestDatabase
{
public:
    explicit TestDatabase(const QString &directory)
    {
        if (!postgresql()) {
            m_url.sqlitePath = QDir(directory).filePath(QStringLiteral("mailroom.db"));
            return;
        }
        const QString state = stateDirectory();
        m_passwordFile = state + QStringLiteral("/password");
        const QUrl admin(readLine(state + QStringLiteral("/url")));
        m_url.kind = DatabaseUrl::Kind::Postgresql;
        m_url.host = admin.host();
        m_url.port = admin.port(5432);
        m_url.user = admin.userName();
        m_url.password = readLine(m_passwordFile);
        static QAtomicInteger<int> counter;
        m_url.databaseName = QStringLiteral("mailroom_test_%1_%2")
                                 .arg(QCoreApplication::applicationPid())
                                 .arg(counter.fetchAndAddRelaxed(1));
        m_created = runOnMaintenanceDatabase(QStringLiteral("CREATE DATABASE %1").arg(m_url.databaseName));
    }
    ~TestDatabase()
    {
        if (m_created)
            runOnMaintenanceDatabase(QStringLiteral("DROP DATABASE IF EXISTS %1 WITH (FORCE)").arg(m_url.databaseName));
    }
    TestDatabase(const TestDatabase &) = delete;
    TestDatabase &operator=(const TestDatabase &) = delete;

    [[nodiscard]] static bool postgresql() { return !stateDirectory().isEmpty(); }
    [[nodiscard]] bool isValid() const { return !postgresql() || m_created; }
    [[nodiscard]] const DatabaseUrl &url() const { return m_url; }
    // For a server's or mailroomctl's command line: nothing for the SQLite
    // file in the data directory; the URL and the password file otherwise.
    [[nodiscard]] QStringList arguments() const
    {
        if (!postgresql())
            return {};
        return {QStringLiteral("--database"),
                QStringLiteral("postgresql://%1@%2:%3/%4").arg(m_url.user, m_url.host).arg(m_url.port).arg(m_url.databaseName),
                QStringLiteral("--database-password-file"), m_passwordFile};
    }

private:
    static QString stateDirectory() { return qEnvironmentVariable("MAILROOM_TEST_POSTGRES"); }
    static QString readLine(const QString &path)
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            qFatal("TestDatabase: cannot read %s", qPrintable(path));
        return QString::fromUtf8(file.readLine()).trimmed();
    }
    // A statement on the server's maintenance database (CREATE and DROP
    // DATABASE cannot run inside the test's own).
    bool runOnMaintenanceDatabase(const QString &sql) const
    {
        const QString name = QStringLiteral("test-database-admin-%1").arg(m_url.databaseName);
        bool done = false;
        {
            DatabaseUrl maintenance = m_url;
            maintenance.databaseName = QStringLiteral("postgres");
            QSqlDatabase db = Store::addPostgresqlConnection(maintenance, name);
            if (!db.open()) {
                qWarning("TestDatabase: %s", qPrintable(db.lastError().text()));
            } else {
                QSqlQuery query(db);
                done = query.exec(sql);
                if (!done)
                    qWarning("TestDatabase: %s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
        return done;
    }

    DatabaseUrl m_url;
    QString m_passwordFile;
    bool m_created = false;
};
