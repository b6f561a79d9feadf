// Drives the real mailroomctl binary as a script or an operator would: through
// its command line, standard input, exit code and the files it leaves behind.
// Results are read back through Store, or through QSqlDatabase on a copy of a
// file so that reading never changes what is being checked.

#include "passwords.h"
#include "store.h"
#include "testdatabase.h"
#include "tlsmaterial.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>

#include <memory>
#include <optional>

namespace {

constexpr int ExitOk = 0;
constexpr int ExitError = 2;
// Generous for a loaded CI machine; a hung process still fails the test.
constexpr int ProcessTimeoutMs = 60000;
// Enough one-commit deliveries that the writer is still busy while backups run.
constexpr int WriterMessages = 3000;

// One finished run of mailroomctl.
struct CtlRun
{
    bool exitedNormally = false; // started, not crashed, not timed out
    int exitCode = -1;
    QByteArray out;
    QByteArray err;

    [[nodiscard]] bool succeeded() const { return exitedNormally && exitCode == ExitOk && err.isEmpty(); }
    // docs/PROTOCOL.md §2: a one-line error on stderr, exit code 2.
    [[nodiscard]] bool failedWithOneLine() const
    {
        return exitedNormally && exitCode == ExitError && err.startsWith("mailroomctl: ") && err.endsWith('\n')
            && err.count('\n') == 1;
    }
    [[nodiscard]] QString errorLine() const { return QString::fromUtf8(err).trimmed(); }
    [[nodiscard]] QString describe() const
    {
        return QStringLiteral("exited normally: %1, exit code %2\n--- stdout:\n%3--- stderr:\n%4")
            .arg(exitedNormally ? QStringLiteral("yes") : QStringLiteral("no"))
            .arg(exitCode)
            .arg(QString::fromUtf8(out), QString::fromUtf8(err));
    }
};

// Macros rather than functions, so that a failed check ends the test function.
#define VERIFY_SUCCEEDED(run)                                                                                          \
    do {                                                                                                               \
        const CtlRun &checked_ = (run);                                                                                \
        QVERIFY2(checked_.succeeded(), qPrintable(checked_.describe()));                                               \
    } while (false)
#define VERIFY_FAILED(run)                                                                                             \
    do {                                                                                                               \
        const CtlRun &checked_ = (run);                                                                                \
        QVERIFY2(checked_.failedWithOneLine(), qPrintable(checked_.describe()));                                       \
    } while (false)

// How a refusals() row prepares the data directory before the run.
enum class Setup { Nothing, RegularFile, EmptyDirectory, Initialized };

// The permission bits, as ls shows them in octal ("600").
QString modeOf(const QString &path)
{
    struct stat info = {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return QStringLiteral("missing");
    return QString::number(info.st_mode & 07777, 8);
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

// Every path under root with a digest of each file's bytes: equal snapshots
// before and after a refused command show that it created, removed or changed
// nothing (including stray temporary files).
QStringList snapshot(const QString &root)
{
    QStringList tree;
    const QDir base(root);
    QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QFileInfo info = it.fileInfo();
        // A symbolic link by where it points: never followed, even to read.
        QByteArray digest;
        if (info.isSymLink())
            digest = "link to " + QFile::encodeName(info.symLinkTarget());
        else if (info.isDir())
            digest = "directory";
        else
            digest = QCryptographicHash::hash(readAll(path), QCryptographicHash::Sha256).toHex();
        tree.append(base.relativeFilePath(path) + u' ' + QString::fromLatin1(digest));
    }
    tree.sort();
    return tree;
}

struct Table
{
    QStringList columns;
    QList<QVariantList> rows;
};

// A database file opened through a private copy, so that neither opening nor
// reading it (which could switch journal modes or checkpoint) changes the file
// under test.
class DatabaseCopy
{
public:
    DatabaseCopy(const QString &file, const QString &copyPath)
        : m_connection(QStringLiteral("copy:") + copyPath)
    {
        if (!QFile::copy(file, copyPath)) {
            m_error = QStringLiteral("cannot copy %1").arg(file);
            return;
        }
        // A file still in WAL mode keeps recent commits in its -wal file.
        const QString wal = file + QStringLiteral("-wal");
        if (QFileInfo::exists(wal) && !QFile::copy(wal, copyPath + QStringLiteral("-wal"))) {
            m_error = QStringLiteral("cannot copy %1").arg(wal);
            return;
        }
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        db.setDatabaseName(copyPath);
        if (!db.open())
            m_error = db.lastError().text();
    }
    ~DatabaseCopy()
    {
        if (!QSqlDatabase::contains(m_connection))
            return;
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
    DatabaseCopy(const DatabaseCopy &) = delete;
    DatabaseCopy &operator=(const DatabaseCopy &) = delete;

    [[nodiscard]] bool isOpen() const { return m_error.isEmpty(); }
    [[nodiscard]] QString error() const { return m_error; }

    std::optional<Table> table(const QString &sql)
    {
        QSqlQuery query(QSqlDatabase::database(m_connection, false));
        if (!query.exec(sql)) {
            m_error = sql + QStringLiteral(": ") + query.lastError().text();
            return std::nullopt;
        }
        Table result;
        const QSqlRecord record = query.record();
        for (int i = 0; i < record.count(); ++i)
            result.columns.append(record.fieldName(i));
        while (query.next()) {
            QVariantList row;
            for (int i = 0; i < record.count(); ++i)
                row.append(query.value(i));
            result.rows.append(row);
        }
        return result;
    }

    // The first column of the first row; invalid on error or no row.
    QVariant value(const QString &sql)
    {
        const auto result = table(sql);
        if (!result || result->rows.isEmpty() || result->rows.first().isEmpty())
            return {};
        return result->rows.first().first();
    }

private:
    QString m_connection;
    QString m_error;
};

// Empty when equal, else where the first difference is.
QString tableDifference(const Table &expected, const Table &actual)
{
    if (expected.columns != actual.columns)
        return QStringLiteral("columns differ: %1 vs %2")
            .arg(expected.columns.join(u','), actual.columns.join(u','));
    if (expected.rows.size() != actual.rows.size())
        return QStringLiteral("%1 rows vs %2").arg(expected.rows.size()).arg(actual.rows.size());
    for (qsizetype r = 0; r < expected.rows.size(); ++r) {
        for (qsizetype c = 0; c < expected.columns.size(); ++c) {
            const QVariant &a = expected.rows.at(r).at(c);
            const QVariant &b = actual.rows.at(r).at(c);
            // Same driver on both sides, so equal values have equal types too.
            if (a != b || a.isNull() != b.isNull())
                return QStringLiteral("row %1 column %2: %3 vs %4")
                    .arg(r)
                    .arg(expected.columns.at(c), a.toString().left(80), b.toString().left(80));
        }
    }
    return {};
}

// Lines "name:   value" of the stats command, by name.
QMap<QString, QString> statsFields(const QByteArray &out)
{
    QMap<QString, QString> fields;
    for (const QString &line : QString::fromUtf8(out).split(u'\n', Qt::SkipEmptyParts)) {
        const qsizetype colon = line.indexOf(u':');
        if (colon > 0)
            fields.insert(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
    }
    return fields;
}

NewMessage makeMessage(qint64 senderId, const QList<qint64> &recipientIds, const QByteArray &raw)
{
    NewMessage message;
    message.raw = raw;
    message.summary.subject = QStringLiteral("test message");
    message.summary.preview = QStringLiteral("hello");
    message.receivedAt = QDateTime::currentDateTimeUtc();
    message.senderId = senderId;
    message.recipientIds = recipientIds;
    return message;
}

// One line of standard input, as a QByteArray (test data columns need the exact type).
QByteArray line(const QByteArray &bytes)
{
    return bytes + '\n';
}

QByteArray tokenHash(const QByteArray &token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256);
}

} // namespace

Q_DECLARE_METATYPE(Setup)

class TestMailroomCtl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void initCreatesDataDirectory_data();
    void initCreatesDataDirectory();
    void initKeepsExistingCertificate();
    void acceptanceSequence();
    void addUserAccepts_data();
    void addUserAccepts();
    void refusals_data();
    void refusals();
    void passwdChangesPasswordAndEndsSessions();
    void passwdRefusals_data();
    void passwdRefusals();
    void delUserKeepsOthersMail();
    void statsMatchStore_data();
    void statsMatchStore();
    void backupWhileWriting();
    void backupRefusals_data();
    void backupRefusals();
    void backupFailureLeavesNothing();
    void restoreRefusals_data();
    void restoreRefusals();
    void createdFilesArePrivate();
    void backupAndRestoreRoundTrip();

private:
    CtlRun ctl(const QStringList &arguments, const QByteArray &input = {}) const;
    CtlRun ctlIn(const QString &dataDir, const QStringList &arguments, const QByteArray &input = {}) const;
    [[nodiscard]] QString substituted(QString text) const;
    [[nodiscard]] QStringList substituted(const QStringList &texts) const;
    [[nodiscard]] QString copyPath();
    void checkBackupConsistent(const QString &file, qint64 *messages);

    std::unique_ptr<QTemporaryDir> m_tmp;     // where mailroomctl works
    std::unique_ptr<TestDatabase> m_database; // the data directory's, or one on PostgreSQL
    std::unique_ptr<QTemporaryDir> m_scratch; // the test's own copies, outside snapshots
    QString m_dataDir;
    int m_copies = 0;
    qint64 m_fileSizeLimit = 0; // RLIMIT_FSIZE of the next runs, when not 0
};

void TestMailroomCtl::initTestCase()
{
    QVERIFY2(QFileInfo(QStringLiteral(MAILROOMCTL)).isExecutable(), MAILROOMCTL);
    QVERIFY2(QFileInfo(QStringLiteral(STORE_WRITER)).isExecutable(), STORE_WRITER);
}

void TestMailroomCtl::init()
{
    m_tmp = std::make_unique<QTemporaryDir>();
    m_scratch = std::make_unique<QTemporaryDir>();
    QVERIFY(m_tmp->isValid());
    QVERIFY(m_scratch->isValid());
    // Not created yet: init must create it (and give it mode 0700).
    m_dataDir = m_tmp->filePath(QStringLiteral("data"));
    m_copies = 0;
    m_database = std::make_unique<TestDatabase>(m_dataDir);
    QVERIFY(m_database->isValid());
    // The postgres run: the commands on a PostgreSQL database. What is about
    // the SQLite file itself (its bytes, modes, locks, refusals of paths) is
    // checked in the SQLite run only.
    static const QStringList onBothEngines = {
        QStringLiteral("initKeepsExistingCertificate"), QStringLiteral("acceptanceSequence"),
        QStringLiteral("addUserAccepts"), QStringLiteral("passwdChangesPasswordAndEndsSessions"),
        QStringLiteral("passwdRefusals"), QStringLiteral("delUserKeepsOthersMail"),
        QStringLiteral("statsMatchStore"), QStringLiteral("backupRefusals"),
        QStringLiteral("backupFailureLeavesNothing"), QStringLiteral("backupAndRestoreRoundTrip")};
    if (TestDatabase::postgresql() && !onBothEngines.contains(QString::fromLatin1(QTest::currentTestFunction())))
        QSKIP("about the SQLite file; the SQLite run checks it");
}

void TestMailroomCtl::cleanup()
{
    m_database.reset();
    m_tmp.reset();
    m_scratch.reset();
}

CtlRun TestMailroomCtl::ctl(const QStringList &arguments, const QByteArray &input) const
{
    QStringList all;
    // The minimum PBKDF2 count keeps every run fast, unless a row tests that option itself.
    if (!arguments.contains(QStringLiteral("--pbkdf2-iterations")))
        all << QStringLiteral("--pbkdf2-iterations") << QString::number(Passwords::MinIterations);
    all << arguments;
    if (!arguments.contains(QStringLiteral("--database")))
        all << m_database->arguments();
    QProcess process;
    // A relative or default --data-dir then lands inside the test's directory.
    process.setWorkingDirectory(m_tmp->path());
    if (m_fileSizeLimit > 0) {
        process.setChildProcessModifier([limit = rlim_t(m_fileSizeLimit)] {
            // A write past the limit then fails with EFBIG instead of
            // killing the process.
            ::signal(SIGXFSZ, SIG_IGN);
            const rlimit fileSize{limit, limit};
            ::setrlimit(RLIMIT_FSIZE, &fileSize);
        });
    }
    process.start(QStringLiteral(MAILROOMCTL), all);
    CtlRun run;
    if (!process.waitForStarted(ProcessTimeoutMs)) {
        run.err = process.errorString().toUtf8();
        return run;
    }
    // Always close stdin: add-user and passwd read one line, and must see EOF
    // rather than wait when the line is missing.
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(ProcessTimeoutMs)) {
        process.kill();
        process.waitForFinished();
        run.err = "timed out\n" + process.readAllStandardError();
        return run;
    }
    run.exitedNormally = process.exitStatus() == QProcess::NormalExit;
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

CtlRun TestMailroomCtl::ctlIn(const QString &dataDir, const QStringList &arguments, const QByteArray &input) const
{
    return ctl(QStringList{QStringLiteral("--data-dir"), dataDir} + arguments, input);
}

QString TestMailroomCtl::substituted(QString text) const
{
    return text.replace(QStringLiteral("@DATA@"), m_dataDir).replace(QStringLiteral("@TMP@"), m_tmp->path());
}

QStringList TestMailroomCtl::substituted(const QStringList &texts) const
{
    QStringList result;
    for (const QString &text : texts)
        result.append(substituted(text));
    return result;
}

QString TestMailroomCtl::copyPath()
{
    return m_scratch->filePath(QStringLiteral("copy-%1.db").arg(++m_copies));
}

void TestMailroomCtl::initCreatesDataDirectory_data()
{
    QTest::addColumn<QString>("argument");
    QTest::addColumn<QString>("directory");

    QTest::newRow("new directory") << QStringLiteral("@DATA@") << QStringLiteral("@DATA@");
    QTest::newRow("missing parents") << QStringLiteral("@TMP@/a/b/data") << QStringLiteral("@TMP@/a/b/data");
    // Relative to the working directory, which ctl() sets to the test's directory.
    QTest::newRow("relative path") << QStringLiteral("data") << QStringLiteral("@DATA@");
    QTest::newRow("unclean path") << QStringLiteral("@TMP@/x/../data/") << QStringLiteral("@DATA@");
}

void TestMailroomCtl::initCreatesDataDirectory()
{
    QFETCH(QString, argument);
    QFETCH(QString, directory);
    directory = substituted(directory);

    const CtlRun run = ctlIn(substituted(argument), {QStringLiteral("init")});
    VERIFY_SUCCEEDED(run);

    const QString database = directory + QStringLiteral("/mailroom.db");
    const QString certificate = directory + QStringLiteral("/tls/cert.pem");
    const QString key = directory + QStringLiteral("/tls/key.pem");
    QVERIFY(QFileInfo(database).isFile());
    QVERIFY(QFileInfo(certificate).isFile());
    QVERIFY(QFileInfo(key).isFile());
    // docs/PROTOCOL.md §3: the key is for the owner alone; the directory holds the key and the mail.
    QCOMPARE(modeOf(key), QStringLiteral("600"));
    QCOMPARE(modeOf(directory), QStringLiteral("700"));

    Store store;
    QVERIFY2(store.open(database, Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    QCOMPARE(store.schemaVersion(), Store::latestSchemaVersion());
    const auto accounts = store.listAccounts();
    QVERIFY(accounts);
    QVERIFY(accounts->isEmpty());

    QString error;
    QVERIFY2(TlsMaterial::loadServerConfiguration(certificate, key, &error), qPrintable(error));
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(certificate);
    QCOMPARE(certificates.size(), 1);
    const QSslCertificate &cert = certificates.first();
    QVERIFY(cert.isSelfSigned());
    // docs/PROTOCOL.md §3: a local client verifies it with the certificate file alone.
    const auto names = cert.subjectAlternativeNames();
    QVERIFY(names.values(QSsl::DnsEntry).contains(QStringLiteral("localhost")));
    QVERIFY(names.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));

    // The output names the certificate and its fingerprint, for pinning clients.
    QVERIFY2(run.out.contains(QByteArray("certificate " + certificate.toUtf8())), qPrintable(run.describe()));
    QVERIFY2(run.out.contains(cert.digest(QCryptographicHash::Sha256).toHex(':')), qPrintable(run.describe()));
}

void TestMailroomCtl::initKeepsExistingCertificate()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    const QString certificate = m_dataDir + QStringLiteral("/tls/cert.pem");
    const QString key = m_dataDir + QStringLiteral("/tls/key.pem");
    const QByteArray certificateBytes = readAll(certificate);
    const QByteArray keyBytes = readAll(key);
    QVERIFY(certificateBytes.contains("BEGIN CERTIFICATE"));
    QVERIFY(!keyBytes.isEmpty());
    {
        // Data written between the two runs must survive the second init.
        Store store;
        QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
        QVERIFY(store.createAccount(QStringLiteral("alice"), Passwords::hash(QStringLiteral("secret-pass-1"),
                                                                             Passwords::MinIterations)));
    }

    const CtlRun again = ctlIn(m_dataDir, {QStringLiteral("init")});
    VERIFY_SUCCEEDED(again);
    QCOMPARE(readAll(certificate), certificateBytes);
    QCOMPARE(readAll(key), keyBytes);
    QCOMPARE(modeOf(key), QStringLiteral("600"));
    QVERIFY2(!again.out.contains("created"), qPrintable(again.describe()));
    const QByteArray fingerprint = QSslCertificate(certificateBytes).digest(QCryptographicHash::Sha256).toHex(':');
    QVERIFY2(again.out.contains(fingerprint), qPrintable(again.describe()));

    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    QVERIFY(store.findAccount(QStringLiteral("alice")));
}

void TestMailroomCtl::acceptanceSequence()
{
    const QString password = QStringLiteral("secret-pass-1");
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));

    const CtlRun added = ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "secret-pass-1\n");
    VERIFY_SUCCEEDED(added);
    QVERIFY2(added.out.contains("alice@project.com"), qPrintable(added.describe()));
    QVERIFY(!added.out.contains("secret-pass-1"));

    const CtlRun listed = ctlIn(m_dataDir, {QStringLiteral("list-users")});
    VERIFY_SUCCEEDED(listed);
    QVERIFY2(listed.out.contains("alice@project.com"), qPrintable(listed.describe()));

    // docs/PROTOCOL.md §6: never stored in clear, in no file SQLite writes.
    const QString database = m_dataDir + QStringLiteral("/mailroom.db");
    if (!TestDatabase::postgresql()) {
        QByteArray allBytes;
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
            if (QFileInfo::exists(database + suffix))
                allBytes += readAll(database + suffix);
        }
        // The name is there, so the bytes read are really the account's.
        QVERIFY(allBytes.contains("alice"));
        QVERIFY(!allBytes.contains("secret-pass-1"));
    }

    Store store;
    QVERIFY2(store.open(m_database->url(), Store::OpenMode::MustExist), qPrintable(store.lastErrorText()));
    const auto alice = store.findAccount(QStringLiteral("alice"));
    QVERIFY(alice);
    QVERIFY2(alice->passwordHash.startsWith(QStringLiteral("pbkdf2-sha256$1000$")), qPrintable(alice->passwordHash));
    QVERIFY(Passwords::verify(password, alice->passwordHash));
    QVERIFY(!Passwords::verify(QStringLiteral("secret-pass-2"), alice->passwordHash));

    // Names are unique case-insensitively.
    const CtlRun duplicate = ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("ALICE")}, "other-pass-2\n");
    VERIFY_FAILED(duplicate);
    QVERIFY2(duplicate.errorLine().contains(QStringLiteral("alice already exists")), qPrintable(duplicate.describe()));
    const auto accounts = store.listAccounts();
    QVERIFY(accounts);
    QCOMPARE(accounts->size(), 1);
    QCOMPARE(store.findAccount(QStringLiteral("alice"))->passwordHash, alice->passwordHash);

    const CtlRun otherDomain = ctlIn(m_dataDir, {QStringLiteral("--domain"), QStringLiteral("example.org"),
                                                 QStringLiteral("list-users")});
    VERIFY_SUCCEEDED(otherDomain);
    QVERIFY2(otherDomain.out.contains("alice@example.org"), qPrintable(otherDomain.describe()));
    QVERIFY2(!otherDomain.out.contains("project.com"), qPrintable(otherDomain.describe()));
}

void TestMailroomCtl::addUserAccepts_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");

    const QString pass = QStringLiteral("secret-pass-1");
    QTest::newRow("plain") << QStringLiteral("alice") << QByteArray("secret-pass-1\n") << QStringLiteral("alice") << pass;
    QTest::newRow("upper case folded") << QStringLiteral("BoB") << QByteArray("secret-pass-1\n")
                                       << QStringLiteral("bob") << pass;
    QTest::newRow("dot underscore dash digit") << QStringLiteral("a.b_c-d9") << QByteArray("secret-pass-1\n")
                                               << QStringLiteral("a.b_c-d9") << pass;
    QTest::newRow("one character") << QStringLiteral("z") << QByteArray("secret-pass-1\n") << QStringLiteral("z")
                                    << pass;
    QTest::newRow("64 characters") << QString(64, u'x') << QByteArray("secret-pass-1\n") << QString(64, u'x') << pass;
    QTest::newRow("8-character password") << QStringLiteral("alice") << QByteArray("12345678\n")
                                          << QStringLiteral("alice") << QStringLiteral("12345678");
    QTest::newRow("128-character password") << QStringLiteral("alice") << line(QByteArray(128, 'p'))
                                            << QStringLiteral("alice") << QString(128, u'p');
    // Counted in code points: 128 of them are 256 UTF-16 units.
    const QString emoji = QString::fromUtf8("\xF0\x9F\x98\x80");
    QTest::newRow("128 emoji") << QStringLiteral("alice") << line(emoji.repeated(128).toUtf8())
                               << QStringLiteral("alice") << emoji.repeated(128);
    QTest::newRow("8 non-ASCII characters") << QStringLiteral("alice") << QStringLiteral("äöüßäöüß\n").toUtf8()
                                            << QStringLiteral("alice") << QStringLiteral("äöüßäöüß");
    QTest::newRow("CRLF line") << QStringLiteral("alice") << QByteArray("secret-pass-1\r\n")
                               << QStringLiteral("alice") << pass;
    QTest::newRow("no final newline") << QStringLiteral("alice") << QByteArray("secret-pass-1")
                                      << QStringLiteral("alice") << pass;
    QTest::newRow("only the first line") << QStringLiteral("alice") << QByteArray("secret-pass-1\nsecond line\n")
                                         << QStringLiteral("alice") << pass;
    QTest::newRow("spaces kept") << QStringLiteral("alice") << QByteArray("  two words  \n")
                                 << QStringLiteral("alice") << QStringLiteral("  two words  ");
}

void TestMailroomCtl::addUserAccepts()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, input);
    QFETCH(QString, username);
    QFETCH(QString, password);

    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("add-user"), name}, input);
    VERIFY_SUCCEEDED(run);
    QVERIFY2(run.out.contains((username + QStringLiteral("@project.com")).toUtf8()), qPrintable(run.describe()));

    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    const auto accounts = store.listAccounts();
    QVERIFY(accounts);
    QCOMPARE(accounts->size(), 1);
    QCOMPARE(accounts->first().username, username);
    QVERIFY(Passwords::verify(password, accounts->first().passwordHash));
    QCOMPARE(Passwords::iterationsOf(accounts->first().passwordHash), Passwords::MinIterations);
}

void TestMailroomCtl::refusals_data()
{
    QTest::addColumn<Setup>("setup");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected"); // part of the error line
    QTest::addColumn<QString>("absent");   // a path that must not exist afterwards

    const QString dataDir = QStringLiteral("--data-dir");
    const QString data = QStringLiteral("@DATA@");
    const QString init = QStringLiteral("init");
    const QString addUser = QStringLiteral("add-user");
    const QString alice = QStringLiteral("alice");
    const QByteArray password = "secret-pass-1\n";
    const QString noDataDir =
        QStringLiteral("no data directory at @DATA@: run 'mailroomctl --data-dir @DATA@ init' first");
    const QString noDatabase =
        QStringLiteral("no database at @DATA@/mailroom.db: run 'mailroomctl --data-dir @DATA@ init' first");

    // An unusable data directory.
    QTest::newRow("data dir is a file: init")
        << Setup::RegularFile << QStringList{dataDir, data, init} << QByteArray()
        << QStringLiteral("data directory @DATA@ is not a directory") << QString();
    QTest::newRow("data dir is a file: list-users")
        << Setup::RegularFile << QStringList{dataDir, data, QStringLiteral("list-users")} << QByteArray()
        << QStringLiteral("data directory @DATA@ is not a directory") << QString();
    QTest::newRow("data dir is a file: add-user")
        << Setup::RegularFile << QStringList{dataDir, data, addUser, alice} << password
        << QStringLiteral("data directory @DATA@ is not a directory") << QString();
    QTest::newRow("data dir under /proc: init")
        << Setup::Nothing << QStringList{dataDir, QStringLiteral("/proc/mailroom-test/x"), init} << QByteArray()
        << QStringLiteral("cannot create data directory /proc/mailroom-test/x") << QStringLiteral("/proc/mailroom-test");
    QTest::newRow("missing data dir: list-users")
        << Setup::Nothing << QStringList{dataDir, data, QStringLiteral("list-users")} << QByteArray()
        << noDataDir << QString();
    QTest::newRow("missing data dir: add-user")
        << Setup::Nothing << QStringList{dataDir, data, addUser, alice} << password
        << noDataDir << QString();
    QTest::newRow("missing data dir: stats")
        << Setup::Nothing << QStringList{dataDir, data, QStringLiteral("stats")} << QByteArray()
        << noDataDir << QString();
    QTest::newRow("missing data dir: backup")
        << Setup::Nothing << QStringList{dataDir, data, QStringLiteral("backup"), QStringLiteral("@TMP@/backup.db")}
        << QByteArray() << noDataDir << QString();
    QTest::newRow("no database in data dir: list-users")
        << Setup::EmptyDirectory << QStringList{dataDir, data, QStringLiteral("list-users")} << QByteArray()
        << noDatabase << QString();
    QTest::newRow("no database in data dir: add-user")
        << Setup::EmptyDirectory << QStringList{dataDir, data, addUser, alice} << password
        << noDatabase << QString();

    // The username rules of docs/PROTOCOL.md §6.
    const QStringList badNames = {QStringLiteral(".bob"),  QStringLiteral("bob."),   QStringLiteral("a..b"),
                                  QStringLiteral("bob!"),  QStringLiteral("-bob"),   QStringLiteral("bob_"),
                                  QStringLiteral("b ob"),  QStringLiteral("bob@project.com"),
                                  QStringLiteral("b\u00f6b"), QString(65, u'a'), QString()};
    for (const QString &name : badNames) {
        // "--" ends the options, so that "-bob" reaches the name check.
        QTest::addRow("invalid name '%s'", qPrintable(name.size() > 20 ? QStringLiteral("65 x a") : name))
            << Setup::Initialized << QStringList{dataDir, data, addUser, QStringLiteral("--"), name} << password
            << QStringLiteral("invalid username '%1'").arg(name) << QString();
    }

    // The password rules of docs/PROTOCOL.md §6, counted in code points.
    const QByteArray emoji = "\xF0\x9F\x98\x80";
    const QStringList aliceArgs = {dataDir, data, addUser, alice};
    const QString tooShort = QStringLiteral("at least 8 characters");
    const QString tooLong = QStringLiteral("at most 128 characters");
    QTest::newRow("password of 7 characters")
        << Setup::Initialized << aliceArgs << QByteArray("abcdefg\n") << tooShort << QString();
    QTest::newRow("password of 7 two-byte characters")
        << Setup::Initialized << aliceArgs << QStringLiteral("äöüäöüä\n").toUtf8() << tooShort << QString();
    QTest::newRow("password of 4 emoji (8 UTF-16 units)")
        << Setup::Initialized << aliceArgs << line(emoji.repeated(4)) << tooShort << QString();
    QTest::newRow("empty password line") << Setup::Initialized << aliceArgs << QByteArray("\n") << tooShort << QString();
    QTest::newRow("password of 129 characters")
        << Setup::Initialized << aliceArgs << line(QByteArray(129, 'p')) << tooLong << QString();
    QTest::newRow("password of 129 emoji")
        << Setup::Initialized << aliceArgs << line(emoji.repeated(129)) << tooLong << QString();
    QTest::newRow("password not UTF-8 (Latin-1 bytes)")
        << Setup::Initialized << aliceArgs << QByteArray("p\xe4ssw\xf6rd-1\n") << QStringLiteral("not valid UTF-8")
        << QString();
    QTest::newRow("empty stdin") << Setup::Initialized << aliceArgs << QByteArray()
                                 << QStringLiteral("no password given") << QString();
    QTest::newRow("password line over 4096 bytes")
        << Setup::Initialized << aliceArgs << line(QByteArray(5000, 'p'))
        << QStringLiteral("the password line is too long") << QString();
    // docs/PROTOCOL.md §6: no control characters, U+0000-U+001F and U+007F
    // (a CR LF line end is the end of the line, as "CRLF line" accepts).
    const QString control = QStringLiteral("contains a control character");
    QTest::newRow("password with a CR inside")
        << Setup::Initialized << aliceArgs << QByteArray("pass\rword-1\n") << control << QString();
    QTest::newRow("password with a tab")
        << Setup::Initialized << aliceArgs << QByteArray("pass\tword-1\n") << control << QString();
    QTest::newRow("password with NUL")
        << Setup::Initialized << aliceArgs << QByteArray("pass\0word-1\n", 12) << control << QString();
    QTest::newRow("password with ESC")
        << Setup::Initialized << aliceArgs << QByteArray("pass\x1bword-1\n") << control << QString();
    QTest::newRow("password with DEL")
        << Setup::Initialized << aliceArgs << QByteArray("pass\x7fword-1\n") << control << QString();

    // Commands and their arguments.
    QTest::newRow("unknown command") << Setup::Initialized << QStringList{dataDir, data, QStringLiteral("frobnicate")}
                                     << QByteArray() << QStringLiteral("unknown command 'frobnicate'") << QString();
    QTest::newRow("no command") << Setup::Initialized << QStringList{dataDir, data} << QByteArray()
                                << QStringLiteral("no command given") << QString();
    QTest::newRow("add-user without name") << Setup::Initialized << QStringList{dataDir, data, addUser} << password
                                           << QStringLiteral("usage: mailroomctl [options] add-user NAME") << QString();
    QTest::newRow("passwd without name")
        << Setup::Initialized << QStringList{dataDir, data, QStringLiteral("passwd")} << password
        << QStringLiteral("usage: mailroomctl [options] passwd NAME") << QString();
    QTest::newRow("backup without file")
        << Setup::Initialized << QStringList{dataDir, data, QStringLiteral("backup")} << QByteArray()
        << QStringLiteral("usage: mailroomctl [options] backup FILE") << QString();
    QTest::newRow("add-user with two names")
        << Setup::Initialized << QStringList{dataDir, data, addUser, alice, QStringLiteral("bob")} << password
        << QStringLiteral("usage: mailroomctl [options] add-user NAME") << QString();
    QTest::newRow("list-users with an argument")
        << Setup::Initialized << QStringList{dataDir, data, QStringLiteral("list-users"), QStringLiteral("extra")}
        << QByteArray() << QStringLiteral("usage: mailroomctl [options] list-users") << QString();
    QTest::newRow("init with an argument")
        << Setup::Nothing << QStringList{dataDir, data, init, QStringLiteral("extra")} << QByteArray()
        << QStringLiteral("usage: mailroomctl [options] init") << QString();

    // Options: refused before anything is created.
    QTest::newRow("unknown option") << Setup::Nothing << QStringList{QStringLiteral("--frobnicate"), dataDir, data, init}
                                    << QByteArray() << QStringLiteral("Unknown option 'frobnicate'") << QString();
    QTest::newRow("option without value") << Setup::Nothing << QStringList{init, dataDir} << QByteArray()
                                          << QStringLiteral("Missing value after '--data-dir'") << QString();
    QTest::newRow("pbkdf2 iterations 5")
        << Setup::Nothing << QStringList{QStringLiteral("--pbkdf2-iterations"), QStringLiteral("5"), dataDir, data, init}
        << QByteArray() << QStringLiteral("invalid --pbkdf2-iterations '5'") << QString();
    QTest::newRow("pbkdf2 iterations 999")
        << Setup::Nothing
        << QStringList{QStringLiteral("--pbkdf2-iterations"), QStringLiteral("999"), dataDir, data, init}
        << QByteArray() << QStringLiteral("invalid --pbkdf2-iterations '999'") << QString();
    QTest::newRow("pbkdf2 iterations not a number")
        << Setup::Nothing
        << QStringList{QStringLiteral("--pbkdf2-iterations"), QStringLiteral("many"), dataDir, data, init}
        << QByteArray() << QStringLiteral("invalid --pbkdf2-iterations 'many'") << QString();
    QTest::newRow("pbkdf2 iterations 5 for add-user")
        << Setup::Initialized
        << QStringList{QStringLiteral("--pbkdf2-iterations"), QStringLiteral("5"), dataDir, data, addUser, alice}
        << password << QStringLiteral("invalid --pbkdf2-iterations '5'") << QString();
    QTest::newRow("bad domain")
        << Setup::Nothing << QStringList{QStringLiteral("--domain"), QStringLiteral("not a domain"), dataDir, data, init}
        << QByteArray() << QStringLiteral("invalid --domain 'not a domain'") << QString();
    QTest::newRow("bad hostname")
        << Setup::Nothing << QStringList{QStringLiteral("--hostname"), QStringLiteral("-bad-"), dataDir, data, init}
        << QByteArray() << QStringLiteral("invalid --hostname '-bad-'") << QString();
    QTest::newRow("cert without key")
        << Setup::Nothing << QStringList{QStringLiteral("--cert"), QStringLiteral("@TMP@/cert.pem"), dataDir, data, init}
        << QByteArray() << QStringLiteral("--cert and --key go together") << QString();
    QTest::newRow("database in a missing directory: init")
        << Setup::Nothing
        << QStringList{QStringLiteral("--database"), QStringLiteral("@TMP@/no-such-dir/x.db"), dataDir, data, init}
        << QByteArray() << QStringLiteral("directory @TMP@/no-such-dir for the database does not exist")
        << QStringLiteral("@TMP@/no-such-dir");
    QTest::newRow("database elsewhere: the hint names it")
        << Setup::EmptyDirectory
        << QStringList{QStringLiteral("--database"), QStringLiteral("@TMP@/other.db"), dataDir, data,
                       QStringLiteral("list-users")}
        << QByteArray()
        << QStringLiteral("run 'mailroomctl --data-dir @DATA@ --database @TMP@/other.db init' first")
        << QStringLiteral("@TMP@/other.db");
    // Port 1: nothing listens there. The message names the URL without its password.
    QTest::newRow("postgresql database not reachable")
        << Setup::Nothing
        << QStringList{QStringLiteral("--database"), QStringLiteral("postgresql://mail:pw-secret@127.0.0.1:1/mail"),
                       dataDir, data, init}
        << QByteArray() << QStringLiteral("cannot connect to postgresql://mail@127.0.0.1:1/mail:") << QString();
    QTest::newRow("postgresql password file missing")
        << Setup::Nothing
        << QStringList{QStringLiteral("--database"), QStringLiteral("postgresql://mail@127.0.0.1:1/mail"),
                       QStringLiteral("--database-password-file"), QStringLiteral("@TMP@/no-such-file"), dataDir,
                       data, init}
        << QByteArray() << QStringLiteral("invalid --database-password-file '@TMP@/no-such-file': cannot read it")
        << QString();
}

void TestMailroomCtl::refusals()
{
    QFETCH(Setup, setup);
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    QFETCH(QString, absent);

    switch (setup) {
    case Setup::Nothing:
        break;
    case Setup::RegularFile:
        QVERIFY(writeFile(m_dataDir, "a file, not a directory\n"));
        break;
    case Setup::EmptyDirectory:
        QVERIFY(QDir().mkpath(m_dataDir));
        break;
    case Setup::Initialized:
        VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
        break;
    }
    const QStringList before = snapshot(m_tmp->path());

    const CtlRun run = ctl(substituted(arguments), input);
    VERIFY_FAILED(run);
    QVERIFY2(run.errorLine().contains(substituted(expected)), qPrintable(run.describe()));
    // Nothing reported as done, nothing created or changed (the database included).
    QVERIFY2(run.out.isEmpty(), qPrintable(run.describe()));
    QCOMPARE(snapshot(m_tmp->path()), before);
    if (!absent.isEmpty())
        QVERIFY2(!QFileInfo::exists(absent), qPrintable(absent));
}

void TestMailroomCtl::passwdChangesPasswordAndEndsSessions()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "old-password-1\n"));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("bob")}, "bob-password-1\n"));

    // Held open during the run, like a server sharing the file.
    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    const auto alice = store.findAccount(QStringLiteral("alice"));
    const auto bob = store.findAccount(QStringLiteral("bob"));
    QVERIFY(alice);
    QVERIFY(bob);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray aliceToken = tokenHash("alice token 1");
    const QByteArray aliceToken2 = tokenHash("alice token 2");
    const QByteArray bobToken = tokenHash("bob token");
    QVERIFY(store.addToken(aliceToken, alice->id, now, now.addSecs(3600)));
    QVERIFY(store.addToken(aliceToken2, alice->id, now, now.addSecs(3600)));
    QVERIFY(store.addToken(bobToken, bob->id, now, now.addSecs(3600)));
    QCOMPARE(store.tokenAccount(aliceToken, now).value_or(-1), alice->id);

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("passwd"), QStringLiteral("Alice")}, "new-password-2\n");
    VERIFY_SUCCEEDED(run);
    QVERIFY2(run.out.contains("alice@project.com"), qPrintable(run.describe()));

    const auto changed = store.findAccount(QStringLiteral("alice"));
    QVERIFY(changed);
    QCOMPARE(changed->id, alice->id);
    QVERIFY(changed->passwordHash.startsWith(QStringLiteral("pbkdf2-sha256$1000$")));
    QVERIFY(!Passwords::verify(QStringLiteral("old-password-1"), changed->passwordHash));
    QVERIFY(Passwords::verify(QStringLiteral("new-password-2"), changed->passwordHash));
    // Every session of alice ended; bob's account and session untouched.
    QVERIFY(!store.tokenAccount(aliceToken, now));
    QVERIFY(store.lastError() == Store::Error::NotFound);
    QVERIFY(!store.tokenAccount(aliceToken2, now));
    QCOMPARE(store.tokenAccount(bobToken, now).value_or(-1), bob->id);
    QCOMPARE(store.findAccount(QStringLiteral("bob"))->passwordHash, bob->passwordHash);
}

void TestMailroomCtl::passwdRefusals_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");

    QTest::newRow("unknown account") << QStringLiteral("nobody") << QByteArray("new-password-2\n")
                                     << QStringLiteral("no account nobody");
    QTest::newRow("invalid name") << QStringLiteral("a..b") << QByteArray("new-password-2\n")
                                  << QStringLiteral("invalid username 'a..b'");
    QTest::newRow("password too short") << QStringLiteral("alice") << QByteArray("short\n")
                                        << QStringLiteral("at least 8 characters");
    QTest::newRow("password too long") << QStringLiteral("alice") << line(QByteArray(129, 'p'))
                                       << QStringLiteral("at most 128 characters");
    QTest::newRow("empty stdin") << QStringLiteral("alice") << QByteArray() << QStringLiteral("no password given");
    // docs/PROTOCOL.md §6: no control characters, U+0000-U+001F and U+007F.
    QTest::newRow("password with a CR inside") << QStringLiteral("alice") << QByteArray("new-pass\rword-2\n")
                                               << QStringLiteral("contains a control character");
    QTest::newRow("password with a tab") << QStringLiteral("alice") << QByteArray("new-pass\tword-2\n")
                                         << QStringLiteral("contains a control character");
    QTest::newRow("password with U+001F") << QStringLiteral("alice") << QByteArray("new-pass\x1fword-2\n")
                                          << QStringLiteral("contains a control character");
    QTest::newRow("password with DEL") << QStringLiteral("alice") << QByteArray("new-pass\x7fword-2\n")
                                       << QStringLiteral("contains a control character");
}

void TestMailroomCtl::passwdRefusals()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);

    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "old-password-1\n"));
    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    const auto alice = store.findAccount(QStringLiteral("alice"));
    QVERIFY(alice);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray token = tokenHash("alice token");
    QVERIFY(store.addToken(token, alice->id, now, now.addSecs(3600)));

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("passwd"), name}, input);
    VERIFY_FAILED(run);
    QVERIFY2(run.errorLine().contains(expected), qPrintable(run.describe()));

    // A refused change keeps the password and the sessions.
    QCOMPARE(store.findAccount(QStringLiteral("alice"))->passwordHash, alice->passwordHash);
    QCOMPARE(store.tokenAccount(token, now).value_or(-1), alice->id);
    const auto accounts = store.listAccounts();
    QVERIFY(accounts);
    QCOMPARE(accounts->size(), 1);
}

void TestMailroomCtl::delUserKeepsOthersMail()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("bob")}, "bob-password-1\n"));

    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    const auto alice = store.findAccount(QStringLiteral("alice"));
    const auto bob = store.findAccount(QStringLiteral("bob"));
    QVERIFY(alice);
    QVERIFY(bob);
    const QByteArray toBobRaw = "Subject: to bob\r\n\r\nfrom alice\r\n";
    const QByteArray toAliceRaw = "Subject: to alice\r\n\r\nfrom bob\r\n";
    const auto toBob = store.deliver(makeMessage(alice->id, {bob->id}, toBobRaw));
    const auto toAlice = store.deliver(makeMessage(bob->id, {alice->id}, toAliceRaw));
    // Held by alice alone (no sender entry): must go with her.
    const auto aliceOnly = store.deliver(makeMessage(0, {alice->id}, "Subject: only alice\r\n\r\nx\r\n"));
    QVERIFY(toBob);
    QVERIFY(toAlice);
    QVERIFY(aliceOnly);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(store.addToken(tokenHash("alice token"), alice->id, now, now.addSecs(3600)));

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("del-user"), QStringLiteral("alice")});
    VERIFY_SUCCEEDED(run);
    QVERIFY2(run.out.contains("alice@project.com"), qPrintable(run.describe()));

    QVERIFY(!store.findAccount(QStringLiteral("alice")));
    QVERIFY(store.lastError() == Store::Error::NotFound);
    QVERIFY(!store.findAccount(alice->id));
    QVERIFY(!store.tokenAccount(tokenHash("alice token"), now));

    // Bob keeps both sides of his correspondence with alice.
    const auto inbox = store.listFolder(bob->id, FolderRole::Inbox, 10);
    QVERIFY(inbox);
    QCOMPARE(inbox->entries.size(), 1);
    QCOMPARE(inbox->entries.first().id, toBob->inboxEntryIds.first());
    QCOMPARE(store.rawMessage(bob->id, toBob->inboxEntryIds.first()).value_or(QByteArray()), toBobRaw);
    const auto sent = store.listFolder(bob->id, FolderRole::Sent, 10);
    QVERIFY(sent);
    QCOMPARE(sent->entries.size(), 1);
    QCOMPARE(store.rawMessage(bob->id, toAlice->sentEntryId).value_or(QByteArray()), toAliceRaw);

    QSqlQuery query(store.database());
    query.prepare(QStringLiteral("SELECT count(*) FROM mailbox_entries WHERE owner_id = ?"));
    query.addBindValue(alice->id);
    QVERIFY(query.exec() && query.next());
    QCOMPARE(query.value(0).toLongLong(), 0);
    query.prepare(QStringLiteral("SELECT count(*) FROM messages WHERE id = ?"));
    query.addBindValue(aliceOnly->messageId);
    QVERIFY(query.exec() && query.next());
    QCOMPARE(query.value(0).toLongLong(), 0);
    query.finish();
    const auto stats = store.stats();
    QVERIFY(stats);
    QCOMPARE(stats->accounts, 1);
    QCOMPARE(stats->messages, 2);
    QCOMPARE(stats->mailboxEntries, 2);

    const CtlRun again = ctlIn(m_dataDir, {QStringLiteral("del-user"), QStringLiteral("alice")});
    VERIFY_FAILED(again);
    QVERIFY2(again.errorLine().contains(QStringLiteral("no account alice")), qPrintable(again.describe()));
    const CtlRun unknown = ctlIn(m_dataDir, {QStringLiteral("del-user"), QStringLiteral("carol")});
    VERIFY_FAILED(unknown);
    QVERIFY2(unknown.errorLine().contains(QStringLiteral("no account carol")), qPrintable(unknown.describe()));
    QVERIFY(store.findAccount(QStringLiteral("bob")));

    // docs/protocol/messages.md §1: ids are never reused, so a new alice is a new account.
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    const auto newAlice = store.findAccount(QStringLiteral("alice"));
    QVERIFY(newAlice);
    QVERIFY(newAlice->id > bob->id);
    const auto newInbox = store.listFolder(newAlice->id, FolderRole::Inbox, 10);
    QVERIFY(newInbox);
    QVERIFY(newInbox->entries.isEmpty());
}

void TestMailroomCtl::statsMatchStore_data()
{
    QTest::addColumn<int>("accounts");
    QTest::addColumn<int>("messages");
    QTest::addColumn<int>("activeTokens");
    QTest::addColumn<int>("expiredTokens");

    QTest::newRow("empty") << 0 << 0 << 0 << 0;
    QTest::newRow("one account, no mail") << 1 << 0 << 0 << 0;
    QTest::newRow("one account writing to itself") << 1 << 2 << 1 << 0;
    QTest::newRow("two accounts, three messages") << 2 << 3 << 1 << 0;
    QTest::newRow("five accounts, twelve messages, expired tokens") << 5 << 12 << 2 << 3;
}

void TestMailroomCtl::statsMatchStore()
{
    QFETCH(int, accounts);
    QFETCH(int, messages);
    QFETCH(int, activeTokens);
    QFETCH(int, expiredTokens);

    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    const QString database = m_database->url().displayString();
    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    QList<qint64> ids;
    for (int i = 0; i < accounts; ++i) {
        const auto account = store.createAccount(
            QStringLiteral("user%1").arg(i), Passwords::hash(QStringLiteral("secret-pass-1"), Passwords::MinIterations));
        QVERIFY(account);
        ids.append(account->id);
    }
    qint64 bytes = 0;
    for (int i = 0; i < messages; ++i) {
        // Sizes differ, so a byte total that counts the wrong thing shows.
        const QByteArray raw = "Subject: " + QByteArray::number(i) + "\r\n\r\n" + QByteArray(i * 100, 'x') + "\r\n";
        bytes += raw.size();
        QVERIFY(store.deliver(makeMessage(ids.at(i % accounts), {ids.at((i + 1) % accounts)}, raw)));
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < activeTokens; ++i)
        QVERIFY(store.addToken(tokenHash("active " + QByteArray::number(i)), ids.first(), now, now.addSecs(3600)));
    for (int i = 0; i < expiredTokens; ++i) {
        QVERIFY(store.addToken(tokenHash("expired " + QByteArray::number(i)), ids.first(), now.addSecs(-7200),
                               now.addSecs(-3600)));
    }

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("stats")});
    VERIFY_SUCCEEDED(run);
    const QMap<QString, QString> fields = statsFields(run.out);
    const QString context = run.describe();
    QVERIFY2(fields.value(QStringLiteral("database")) == database, qPrintable(context));
    QVERIFY2(fields.value(QStringLiteral("schema version")) == QString::number(Store::latestSchemaVersion()),
             qPrintable(context));
    QVERIFY2(fields.value(QStringLiteral("accounts")) == QString::number(accounts), qPrintable(context));
    QVERIFY2(fields.value(QStringLiteral("messages")) == QString::number(messages), qPrintable(context));
    QVERIFY2(fields.value(QStringLiteral("message bytes")) == QString::number(bytes), qPrintable(context));
    // Each message: the recipient's inbox entry and the sender's sent entry.
    QVERIFY2(fields.value(QStringLiteral("mailbox entries")) == QString::number(2 * messages), qPrintable(context));
    QVERIFY2(fields.value(QStringLiteral("active sessions")) == QString::number(activeTokens), qPrintable(context));

    const auto stats = store.stats();
    QVERIFY(stats);
    QCOMPARE(stats->accounts, accounts);
    QCOMPARE(stats->messages, messages);
    QCOMPARE(stats->messageBytes, bytes);
}

void TestMailroomCtl::checkBackupConsistent(const QString &file, qint64 *messages)
{
    DatabaseCopy copy(file, copyPath());
    QVERIFY2(copy.isOpen(), qPrintable(copy.error()));
    const auto integrity = copy.table(QStringLiteral("PRAGMA integrity_check"));
    QVERIFY2(integrity, qPrintable(copy.error()));
    QCOMPARE(integrity->rows.size(), 1);
    QCOMPARE(integrity->rows.first().first().toString(), QStringLiteral("ok"));
    const auto foreignKeys = copy.table(QStringLiteral("PRAGMA foreign_key_check"));
    QVERIFY2(foreignKeys, qPrintable(copy.error()));
    QCOMPARE(foreignKeys->rows.size(), 0);

    QCOMPARE(copy.value(QStringLiteral("SELECT count(*) FROM accounts")).toLongLong(), 2);
    const qint64 count = copy.value(QStringLiteral("SELECT count(*) FROM messages")).toLongLong();
    QCOMPARE(copy.value(QStringLiteral("SELECT count(*) FROM mailbox_entries")).toLongLong(), 2 * count);
    // Every message shows exactly in alice's sent folder and bob's inbox.
    QCOMPARE(copy.value(QStringLiteral(
                            "SELECT count(*) FROM messages m WHERE"
                            " (SELECT count(*) FROM mailbox_entries e WHERE e.message_id = m.id) != 2"
                            " OR NOT EXISTS (SELECT 1 FROM mailbox_entries e JOIN accounts a ON a.id = e.owner_id"
                            "  JOIN folders f ON f.id = e.folder_id WHERE e.message_id = m.id AND a.username = 'alice' AND f.role = 'sent')"
                            " OR NOT EXISTS (SELECT 1 FROM mailbox_entries e JOIN accounts a ON a.id = e.owner_id"
                            "  JOIN folders f ON f.id = e.folder_id WHERE e.message_id = m.id AND a.username = 'bob' AND f.role = 'inbox')"))
                 .toLongLong(),
             0);
    QCOMPARE(copy.value(QStringLiteral("SELECT count(*) FROM mailbox_entries e"
                                       " WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id)"))
                 .toLongLong(),
             0);
    // One writer commits in order, so a consistent snapshot holds a prefix of its messages.
    QCOMPARE(copy.value(QStringLiteral("SELECT coalesce(max(id), 0) FROM messages")).toLongLong(), count);
    *messages = count;
}

void TestMailroomCtl::backupWhileWriting()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("bob")}, "bob-password-1\n"));
    const QString database = m_dataDir + QStringLiteral("/mailroom.db");
    const QString backupDir = m_tmp->filePath(QStringLiteral("backups"));
    QVERIFY(QDir().mkpath(backupDir));

    QProcess writer;
    writer.start(QStringLiteral(STORE_WRITER), {database, QStringLiteral("alice"), QStringLiteral("bob"),
                                                QString::number(WriterMessages)});
    QVERIFY2(writer.waitForStarted(ProcessTimeoutMs), qPrintable(writer.errorString()));
    {
        // Start backing up only once the writer is committing.
        Store probe;
        QVERIFY(probe.open(database, Store::OpenMode::MustExist));
        QTRY_VERIFY_WITH_TIMEOUT(probe.stats().value_or(StoreStats()).messages > 0, ProcessTimeoutMs);
    }

    QStringList backups;
    for (int i = 0; i < 4; ++i) {
        const QString file = backupDir + QStringLiteral("/backup-%1.db").arg(i);
        const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("backup"), file});
        VERIFY_SUCCEEDED(run);
        QVERIFY2(run.out.contains(file.toUtf8()), qPrintable(run.describe()));
        backups.append(file);
    }

    QVERIFY2(writer.waitForFinished(ProcessTimeoutMs * 2), "store_writer did not finish");
    QCOMPARE(writer.exitStatus(), QProcess::NormalExit);
    QVERIFY2(writer.exitCode() == 0, writer.readAllStandardError().constData());
    {
        Store store;
        QVERIFY(store.open(database, Store::OpenMode::MustExist));
        const auto stats = store.stats();
        QVERIFY(stats);
        QCOMPARE(stats->messages, WriterMessages);
        QCOMPARE(stats->mailboxEntries, 2 * WriterMessages);
    }

    QList<qint64> counts;
    for (const QString &file : backups) {
        qint64 messages = 0;
        checkBackupConsistent(file, &messages);
        if (QTest::currentTestFailed())
            return;
        counts.append(messages);
    }
    // The first backup caught the writer in the middle of its work: the case
    // that needs a consistent snapshot.
    QVERIFY2(counts.first() > 0 && counts.first() < WriterMessages,
             qPrintable(QStringLiteral("first backup holds %1 of %2 messages").arg(counts.first()).arg(WriterMessages)));
    for (qsizetype i = 1; i < counts.size(); ++i)
        QVERIFY(counts.at(i) >= counts.at(i - 1));

    // Restore the mid-write backup into another, initialized data directory
    // that holds an account of its own: all of it is replaced.
    const QString restoredDir = m_tmp->filePath(QStringLiteral("restored"));
    VERIFY_SUCCEEDED(ctlIn(restoredDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(restoredDir, {QStringLiteral("add-user"), QStringLiteral("carol")}, "carol-password\n"));
    const CtlRun restored = ctlIn(restoredDir, {QStringLiteral("restore"), backups.first()});
    VERIFY_SUCCEEDED(restored);
    QVERIFY2(restored.out.contains(QStringLiteral("(2 accounts, %1 messages)").arg(counts.first()).toUtf8()),
             qPrintable(restored.describe()));

    DatabaseCopy expected(backups.first(), copyPath());
    DatabaseCopy actual(restoredDir + QStringLiteral("/mailroom.db"), copyPath());
    QVERIFY2(expected.isOpen(), qPrintable(expected.error()));
    QVERIFY2(actual.isOpen(), qPrintable(actual.error()));
    // The accounts' modseqs and the folders' uidValidity move on at a
    // restore (docs/STORAGE.md, "Folders, flags and changes"): all else is
    // as the backup has it.
    const QStringList queries = {
        QStringLiteral("SELECT id, username, password_hash, created_at, display_name, display_name_key FROM accounts ORDER BY id"),
        QStringLiteral("SELECT id, owner_id, name, role, uid_next, modseq, highest_modseq, total, unseen FROM folders ORDER BY id"),
        QStringLiteral("SELECT * FROM messages ORDER BY id"),
        QStringLiteral("SELECT * FROM mailbox_entries ORDER BY id"),
        QStringLiteral("SELECT * FROM removals ORDER BY id"),
        QStringLiteral("SELECT * FROM api_tokens ORDER BY token_hash"),
        QStringLiteral("SELECT * FROM sqlite_sequence ORDER BY name"),
    };
    for (const QString &sql : queries) {
        const auto want = expected.table(sql);
        const auto got = actual.table(sql);
        QVERIFY2(want, qPrintable(expected.error()));
        QVERIFY2(got, qPrintable(actual.error()));
        const QString difference = tableDifference(*want, *got);
        QVERIFY2(difference.isEmpty(), qPrintable(sql + QStringLiteral(": ") + difference));
    }
    // Clients start over: every account's modseq is past the backup's, with
    // its removals forgotten up to there.
    for (const char *id : {"1", "2"}) {
        const QString modseq = QStringLiteral("SELECT modseq FROM accounts WHERE id = %1").arg(QLatin1StringView(id));
        QVERIFY(actual.value(modseq).toLongLong() > expected.value(modseq).toLongLong());
        QCOMPARE(actual.value(QStringLiteral("SELECT removals_forgotten FROM accounts WHERE id = %1").arg(QLatin1StringView(id))),
                 actual.value(modseq));
    }
    // The comparison saw real data, raw blobs included.
    QCOMPARE(actual.value(QStringLiteral("SELECT count(*) FROM messages")).toLongLong(), counts.first());
    QVERIFY(actual.value(QStringLiteral("SELECT raw FROM messages ORDER BY id LIMIT 1")).toByteArray().startsWith(
        "Subject: message 0 of pid"));

    // The restored directory is a working one: alice logs in with her password.
    Store store;
    QVERIFY(store.open(restoredDir + QStringLiteral("/mailroom.db"), Store::OpenMode::MustExist));
    QVERIFY(!store.findAccount(QStringLiteral("carol")));
    const auto alice = store.findAccount(QStringLiteral("alice"));
    QVERIFY(alice);
    QVERIFY(Passwords::verify(QStringLiteral("alice-password"), alice->passwordHash));
}

void TestMailroomCtl::backupRefusals_data()
{
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("kind"); // what is at target beforehand
    QTest::addColumn<QString>("expected");

    QTest::newRow("existing file") << QStringLiteral("@TMP@/target.db") << QStringLiteral("file")
                                   << QStringLiteral("@TMP@/target.db already exists");
    QTest::newRow("existing empty file") << QStringLiteral("@TMP@/target.db") << QStringLiteral("empty")
                                         << QStringLiteral("@TMP@/target.db already exists");
    QTest::newRow("existing directory") << QStringLiteral("@TMP@/target") << QStringLiteral("directory")
                                        << QStringLiteral("@TMP@/target already exists");
    QTest::newRow("the database itself") << QStringLiteral("@DATA@/mailroom.db") << QString()
                                         << QStringLiteral("@DATA@/mailroom.db already exists");
    QTest::newRow("missing directory") << QStringLiteral("@TMP@/missing/target.db") << QString()
                                       << QStringLiteral("@TMP@/missing does not exist");
    // Symbolic links are never followed (found: a dangling one had the whole
    // database written where it pointed). The places they point to are
    // outside @TMP@, in @OUT@, except for the relative one.
    const QString link = QStringLiteral("@TMP@/target.db");
    const QString linkRefused = QStringLiteral("@TMP@/target.db already exists (a symbolic link");
    QTest::newRow("dangling symbolic link") << link << QStringLiteral("dangling link") << linkRefused;
    QTest::newRow("dangling symbolic link, relative") << link << QStringLiteral("relative link") << linkRefused;
    QTest::newRow("symbolic link to a file") << link << QStringLiteral("link to file") << linkRefused;
    QTest::newRow("symbolic link to a directory") << link << QStringLiteral("link to directory") << linkRefused;
    QTest::newRow("symbolic link to itself") << link << QStringLiteral("loop") << linkRefused;
}

void TestMailroomCtl::backupRefusals()
{
    QFETCH(QString, target);
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    target = substituted(target);

    if (TestDatabase::postgresql() && target.startsWith(m_dataDir))
        QSKIP("no database file in the data directory on PostgreSQL");

    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    const QString outside = m_scratch->filePath(QStringLiteral("outside"));
    if (kind == u"file")
        QVERIFY(writeFile(target, "precious, not a backup\n"));
    else if (kind == u"empty")
        QVERIFY(writeFile(target, {}));
    else if (kind == u"directory")
        QVERIFY(QDir().mkpath(target));
    else if (kind == u"dangling link")
        QVERIFY(QFile::link(outside, target));
    else if (kind == u"relative link")
        QCOMPARE(::symlink("victim.db", QFile::encodeName(target).constData()), 0);
    else if (kind == u"link to file")
        QVERIFY(writeFile(outside, "precious, not a backup\n") && QFile::link(outside, target));
    else if (kind == u"link to directory")
        QVERIFY(QDir().mkpath(outside) && QFile::link(outside, target));
    else if (kind == u"loop")
        QCOMPARE(::symlink("target.db", QFile::encodeName(target).constData()), 0);
    const QStringList before = snapshot(m_tmp->path());
    const QStringList beforeOutside = snapshot(m_scratch->path());

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("backup"), target});
    VERIFY_FAILED(run);
    QVERIFY2(run.errorLine().contains(substituted(expected)), qPrintable(run.describe()));
    // What was there is untouched (a link still points where it did),
    // nothing was created where a link points, and no partial file or work
    // directory is left behind.
    QCOMPARE(snapshot(m_tmp->path()), before);
    QCOMPARE(snapshot(m_scratch->path()), beforeOutside);
}

// Failing halfway (the file grows past RLIMIT_FSIZE, as on a full disk):
// exit 2, and neither the backup nor its work directory is left behind.
void TestMailroomCtl::backupFailureLeavesNothing()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    {
        Store store;
        QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
        const qint64 alice = store.findAccount(QStringLiteral("alice"))->id;
        // Random bytes, so that no page compresses: the copy needs them all.
        QByteArray body;
        for (int i = 0; i < 512 * 1024 / 4; ++i) {
            const quint32 word = QRandomGenerator::global()->generate();
            body.append(reinterpret_cast<const char *>(&word), 4);
        }
        QVERIFY(store.deliver(makeMessage(alice, {alice}, "Subject: big\r\n\r\n" + body.toBase64() + "\r\n")));
    }
    const QString backupDir = m_scratch->filePath(QStringLiteral("backups"));
    QVERIFY(QDir().mkpath(backupDir));
    const QString target = backupDir + QStringLiteral("/backup.db");

    m_fileSizeLimit = 256 * 1024;
    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("backup"), target});
    m_fileSizeLimit = 0;
    VERIFY_FAILED(run);
    QVERIFY2(run.errorLine().contains(u"backing up to " + target), qPrintable(run.describe()));
    QCOMPARE(QDir(backupDir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot),
             QStringList());

    // Without the limit the same backup works.
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("backup"), target}));
    QCOMPARE(QDir(backupDir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot),
             QStringList{QStringLiteral("backup.db")});
}

void TestMailroomCtl::restoreRefusals_data()
{
    QTest::addColumn<QString>("kind");

    QTest::newRow("text file") << QStringLiteral("text");
    QTest::newRow("empty file") << QStringLiteral("empty");
    QTest::newRow("missing file") << QStringLiteral("missing");
    QTest::newRow("directory") << QStringLiteral("directory");
    QTest::newRow("SQLite database of another program") << QStringLiteral("foreign");
    QTest::newRow("truncated backup") << QStringLiteral("truncated");
    QTest::newRow("backup of a newer schema") << QStringLiteral("newer");
}

void TestMailroomCtl::restoreRefusals()
{
    QFETCH(QString, kind);

    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    const QString database = m_dataDir + QStringLiteral("/mailroom.db");
    {
        Store store;
        QVERIFY(store.open(database, Store::OpenMode::MustExist));
        const auto alice = store.findAccount(QStringLiteral("alice"));
        QVERIFY(alice);
        QVERIFY(store.deliver(makeMessage(alice->id, {alice->id}, "Subject: kept\r\n\r\nkept\r\n")));
    }

    // The bad backups are made outside m_tmp, so that the snapshot below
    // covers only what mailroomctl may touch.
    const QString source = m_scratch->filePath(QStringLiteral("source.db"));
    const QString fullBackup = m_scratch->filePath(QStringLiteral("full.db"));
    if (kind == u"truncated" || kind == u"newer") {
        VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("backup"), fullBackup}));
        QVERIFY(QFileInfo(fullBackup).size() > 4096);
    }
    if (kind == u"text") {
        QVERIFY(writeFile(source, QByteArray("this is not a database\n").repeated(200)));
    } else if (kind == u"empty") {
        QVERIFY(writeFile(source, {}));
    } else if (kind == u"directory") {
        QVERIFY(QDir().mkpath(source));
    } else if (kind == u"foreign") {
        const QString connection = QStringLiteral("foreign");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
            db.setDatabaseName(source);
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")));
            QVERIFY(query.exec(QStringLiteral("INSERT INTO notes (text) VALUES ('hello')")));
            query.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    } else if (kind == u"truncated") {
        const QByteArray bytes = readAll(fullBackup);
        QVERIFY(writeFile(source, bytes.left(bytes.size() / 2)));
    } else if (kind == u"newer") {
        QVERIFY(QFile::copy(fullBackup, source));
        const QString connection = QStringLiteral("newer");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
            db.setDatabaseName(source);
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(QStringLiteral("PRAGMA user_version = %1").arg(Store::latestSchemaVersion() + 1)));
            query.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    }
    const QStringList before = snapshot(m_tmp->path());

    const CtlRun run = ctlIn(m_dataDir, {QStringLiteral("restore"), source});
    VERIFY_FAILED(run);
    QVERIFY2(run.errorLine().contains(source), qPrintable(run.describe()));
    // The data is what it was, and no work files are left behind.
    QCOMPARE(snapshot(m_tmp->path()), before);
    Store store;
    QVERIFY(store.open(database, Store::OpenMode::MustExist));
    const auto stats = store.stats();
    QVERIFY(stats);
    QCOMPARE(stats->accounts, 1);
    QCOMPARE(stats->messages, 1);
    QVERIFY(store.findAccount(QStringLiteral("alice")));
}

// The database, its -wal, backups and the key hold password hashes and mail:
// private to the owner even in a data directory others can read.
void TestMailroomCtl::createdFilesArePrivate()
{
    QVERIFY(QDir().mkpath(m_dataDir));
    QVERIFY(QFile::setPermissions(m_dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                                 | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "secret-pass-1\n"));
    QCOMPARE(modeOf(m_dataDir + QStringLiteral("/mailroom.db")), QStringLiteral("600"));
    QCOMPARE(modeOf(m_dataDir + QStringLiteral("/tls/key.pem")), QStringLiteral("600"));
    const QString backup = m_tmp->filePath(QStringLiteral("private-backup.db"));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("backup"), backup}));
    QCOMPARE(modeOf(backup), QStringLiteral("600"));
}

// backup and restore on the engine under test: a backup is a SQLite file
// either way, readable by a Store; a restore brings back exactly what it
// holds, ends every session, and ids continue after everything ever used.
// The backup of a PostgreSQL database also restores into a data directory
// of its own (SQLite), so the file moves a mail system between engines.
void TestMailroomCtl::backupAndRestoreRoundTrip()
{
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("init")}));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("alice")}, "alice-password\n"));
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("bob")}, "bob-password-1\n"));
    Store store;
    QVERIFY(store.open(m_database->url(), Store::OpenMode::MustExist));
    const qint64 alice = store.findAccount(QStringLiteral("alice"))->id;
    const qint64 bob = store.findAccount(QStringLiteral("bob"))->id;
    const QByteArray binary = "Subject: bytes\r\n\r\n" + QByteArray("\xff\x00\x01\r\n", 5) + "\r\n";
    const auto kept = store.deliver(makeMessage(alice, {bob}, binary));
    const auto deleted = store.deliver(makeMessage(bob, {alice}, "Subject: gone later\r\n\r\nx\r\n"));
    QVERIFY(kept && deleted);
    QVERIFY(store.deleteEntry(alice, deleted->inboxEntryIds.first()));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(store.addToken(tokenHash("alice session"), alice, now, now.addSecs(3600)));

    const QString backup = m_scratch->filePath(QStringLiteral("backup.db"));
    const CtlRun backedUp = ctlIn(m_dataDir, {QStringLiteral("backup"), backup});
    VERIFY_SUCCEEDED(backedUp);
    // Only the file: its work directory is gone.
    QCOMPARE(QDir(m_scratch->path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot),
             QStringList{QStringLiteral("backup.db")});
    QVERIFY2(backedUp.out.contains(m_database->url().displayString().toUtf8()), qPrintable(backedUp.describe()));
    QVERIFY2(!backedUp.out.contains(m_database->url().password.toUtf8()) || m_database->url().password.isEmpty(),
             "the password is in the output");
    {
        Store copy;
        QVERIFY2(copy.open(backup, Store::OpenMode::MustExist), qPrintable(copy.lastErrorText()));
        QCOMPARE(copy.engine(), Store::Engine::Sqlite);
        QCOMPARE(copy.rawMessage(bob, kept->inboxEntryIds.first()).value_or(QByteArray()), binary);
        QCOMPARE(copy.stats()->mailboxEntries, 3);
    }

    // After the backup: a new account, more mail, the kept message deleted.
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("carol")}, "carol-password\n"));
    const qint64 carol = store.findAccount(QStringLiteral("carol"))->id;
    const auto later = store.deliver(makeMessage(carol, {alice, bob}, "Subject: after\r\n\r\nx\r\n"));
    QVERIFY(later);
    QVERIFY(store.deleteEntry(bob, kept->inboxEntryIds.first()));

    const CtlRun restored = ctlIn(m_dataDir, {QStringLiteral("restore"), backup});
    VERIFY_SUCCEEDED(restored);
    QVERIFY2(restored.out.contains("2 accounts"), qPrintable(restored.describe()));
    QVERIFY(!store.findAccount(QStringLiteral("carol")));
    QCOMPARE(store.rawMessage(bob, kept->inboxEntryIds.first()).value_or(QByteArray()), binary);
    QVERIFY(!store.entry(alice, deleted->inboxEntryIds.first()));
    QVERIFY(!store.tokenAccount(tokenHash("alice session"), now)); // every session ended
    QCOMPARE(store.stats()->mailboxEntries, 3);
    QVERIFY(Passwords::verify(QStringLiteral("alice-password"), store.findAccount(alice)->passwordHash));
    // Ids continue after everything ever given out, the undone ones included.
    VERIFY_SUCCEEDED(ctlIn(m_dataDir, {QStringLiteral("add-user"), QStringLiteral("dave")}, "dave-password\n"));
    QVERIFY(store.findAccount(QStringLiteral("dave"))->id > carol);
    const auto next = store.deliver(makeMessage(alice, {bob}, "Subject: next\r\n\r\nx\r\n"));
    QVERIFY(next);
    QVERIFY(next->messageId > later->messageId);
    QVERIFY(next->inboxEntryIds.first() > later->sentEntryId);

    // The same file restores into another data directory on the SQLite file.
    const QString otherDir = m_tmp->filePath(QStringLiteral("other"));
    VERIFY_SUCCEEDED(ctl({QStringLiteral("--data-dir"), otherDir, QStringLiteral("--database"),
                          otherDir + QStringLiteral("/mailroom.db"), QStringLiteral("restore"), backup}));
    Store other;
    QVERIFY(other.open(otherDir + QStringLiteral("/mailroom.db"), Store::OpenMode::MustExist));
    QCOMPARE(other.rawMessage(bob, kept->inboxEntryIds.first()).value_or(QByteArray()), binary);
    QCOMPARE(other.listAccounts()->size(), 2);
}

QTEST_GUILESS_MAIN(TestMailroomCtl)
#include "tst_mailroomctl.moc"
