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
    // Empty: a database with nothing in it (tests of migrations, of
    // opening). Migrated: already at the latest schema, as a store leaves
    // a new database; on PostgreSQL a copy of a template the first such
    // test of the run migrated, so that suites making a database per test
    // do not migrate each one (seconds per suite). Same thing on SQLite.
    enum class Start { Empty, Migrated };

    explicit TestDatabase(const QString &directory, Start start = Start::Empty)
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
        m_pooled = start == Start::Migrated;
        if (m_pooled && !pool().isEmpty()) {
            m_url.databaseName = pool().takeLast();
            m_created = true;
        } else if (m_pooled && makeTemplate()) {
            m_created = runOnMaintenanceDatabase(
                QStringLiteral("CREATE DATABASE %1 TEMPLATE %2").arg(m_url.databaseName, templateName()));
            if (m_created && templateFingerprint().isEmpty())
                readTemplateFingerprint();
        } else {
            m_created = runOnMaintenanceDatabase(QStringLiteral("CREATE DATABASE %1").arg(m_url.databaseName));
        }
    }
    ~TestDatabase()
    {
        if (!m_created)
            return;
        if (m_pooled && emptyForTheNext()) {
            pool().append(m_url.databaseName);
            return;
        }
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
    // Migrated databases a test of this process is done with, emptied: a
    // new database costs PostgreSQL a third of a second (it copies its
    // template), emptying one a few milliseconds. They go with the
    // throw-away server at the end of the run.
    static QStringList &pool()
    {
        static QStringList names;
        return names;
    }
    // The database as the template was, no row in it (ids start at 1
    // again): only when its schema is as the template's (a test may have
    // added a trigger or dropped a table) and no one is connected.
    bool emptyForTheNext() const
    {
        const QString name = QStringLiteral("test-database-reuse-%1").arg(m_url.databaseName);
        bool emptied = false;
        {
            QSqlDatabase db = Store::addPostgresqlConnection(m_url, name);
            if (db.open()) {
                QSqlQuery query(db);
                emptied = query.exec(schemaFingerprintSql()) && query.next()
                    && !templateFingerprint().isEmpty() && query.value(0).toString() == templateFingerprint()
                    && query.exec(QStringLiteral("SELECT count(*) FROM pg_stat_activity"
                                                 " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                    && query.next() && query.value(0).toInt() == 0
                    && query.exec(QStringLiteral("SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                                                 " WHERE schemaname = current_schema() AND tablename <> 'mailroom_schema'"))
                    && query.next()
                    && query.exec(QStringLiteral("TRUNCATE %1 RESTART IDENTITY CASCADE").arg(query.value(0).toString()));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
        return emptied;
    }
    // Every table, column, index, trigger and function of the schema, as text.
    static QString schemaFingerprintSql()
    {
        return QStringLiteral(
            "SELECT concat_ws('|',"
            " (SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)"
            "  FROM information_schema.columns WHERE table_schema = current_schema()),"
            " (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = current_schema()),"
            " (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),"
            " (SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            "  WHERE n.nspname = current_schema()),"
            " (SELECT version FROM mailroom_schema))");
    }
    // The schema as a copy of the template has it, read from this
    // process's first copy (the template itself is left alone: PostgreSQL
    // copies only a database no one is in, and other tests copy it now).
    static QString &templateFingerprint()
    {
        static QString fingerprint;
        return fingerprint;
    }
    void readTemplateFingerprint() const
    {
        const QString name = QStringLiteral("test-database-fingerprint-%1").arg(m_url.databaseName);
        {
            QSqlDatabase db = Store::addPostgresqlConnection(m_url, name);
            if (db.open()) {
                QSqlQuery query(db);
                if (query.exec(schemaFingerprintSql()) && query.next())
                    templateFingerprint() = query.value(0).toString();
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
    }
    // One per schema version on the run's throw-away server.
    static QString templateName()
    {
        return QStringLiteral("mailroom_test_template_v%1").arg(Store::latestSchemaVersion());
    }
    // The template, made once per run: test processes running at once
    // take turns by an advisory lock; the store's connection is closed
    // before any copy (PostgreSQL copies only a database no one is in).
    bool makeTemplate() const
    {
        const QString name = QStringLiteral("test-database-template-%1").arg(m_url.databaseName);
        bool ready = false;
        {
            DatabaseUrl maintenance = m_url;
            maintenance.databaseName = QStringLiteral("postgres");
            QSqlDatabase db = Store::addPostgresqlConnection(maintenance, name);
            if (db.open()) {
                QSqlQuery query(db);
                query.exec(QStringLiteral("SELECT pg_advisory_lock(4242)"));
                query.prepare(QStringLiteral("SELECT count(*) FROM pg_database WHERE datname = ?"));
                query.addBindValue(templateName());
                ready = query.exec() && query.next() && query.value(0).toInt() == 1;
                if (!ready && query.exec(QStringLiteral("CREATE DATABASE %1").arg(templateName()))) {
                    DatabaseUrl target = m_url;
                    target.databaseName = templateName();
                    Store store;
                    ready = store.open(target, Store::OpenMode::CreateIfMissing);
                    if (!ready)
                        qWarning("TestDatabase: the template: %s", qPrintable(store.lastErrorText()));
                }
                query.exec(QStringLiteral("SELECT pg_advisory_unlock(4242)"));
            } else {
                qWarning("TestDatabase: %s", qPrintable(db.lastError().text()));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(name);
        return ready;
    }
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
    bool m_pooled = false;
};
