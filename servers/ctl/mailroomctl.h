#pragma once

#include "config.h"
#include "datadir.h"
#include "passwordinput.h"
#include "store.h"

#include <QObject>
#include <QStringList>
#include <QTextStream>

class CertificateGenerator;
class PasswordHasher;

// The admin tool: one command per run. Runs on the event loop, since some
// steps (certificate creation, password hashing) are asynchronous; emits
// finished() with the process exit code: 0, or 2 after one error line on stderr.
class MailroomCtl : public QObject
{
    Q_OBJECT
public:
    explicit MailroomCtl(QObject *parent = nullptr);
    ~MailroomCtl() override;

    // Parses arguments (argv[0] first) and starts the command.
    void start(const QStringList &arguments);

Q_SIGNALS:
    void finished(int exitCode);

private:
    void runInit();
    void runAddUser(const QString &name);
    void runPasswd(const QString &name);
    void runDelUser(const QString &name);
    void runListUsers();
    void runStats();
    void runBackup(const QString &file);
    void runRestore(const QString &file);

    bool openStore(DataDirectory::Mode mode);
    std::optional<QString> normalizedName(const QString &name);
    std::optional<QString> readPassword(const QString &username);
    void reportCertificate();

    void failStore();
    void succeed();
    void fail(const QString &message);

    Config m_config;
    Store m_store;
    PasswordHasher *m_hasher = nullptr;
    CertificateGenerator *m_certificateGenerator = nullptr;
    PasswordInput m_passwordInput;
    QTextStream m_out;
    QTextStream m_err;
    QString m_initHint;
    bool m_done = false;
};
