// The client's QML pages one by one (LoginPage, ComposeDialog, MailboxPage,
// ChangePasswordDialog), driven with real mouse and key events by the
// QtQuickTest files in qml/, against real mailroom-smtpd and mailroom-webd
// code in this process on 127.0.0.1. The setup object starts the servers
// once and gives each test file's engine `testServers`: sessions, accounts,
// deliveries, and the web server switched off and on. Any QML warning fails
// the run: each TestCase checks testServers.takeQmlWarnings() after every
// test function, and the setup's cleanupTestCase() catches the rest.

#include "clienttestservers.h"
#include "mainwindow.h"
#include "messagebuilder.h"
#include "servertrust.h"
#include "session.h"
#include "smtpclient.h"

#include <QMutex>
#include <QQmlContext>
#include <QQmlEngine>
#include <QSignalSpy>
#include <QtQuickTest>

#include <cstdio>
#include <memory>
#include <utility>

using namespace Qt::StringLiterals;

namespace {

// What the QML engine and Qt Quick report (binding and type errors, unknown
// properties, layout loops), anything about the modules' qrc files or a
// line of a test file; the same filter as uidriver.h's QmlWarningCollector.
// Qt Test installs a handler of its own when the first TestCase starts and
// passes nothing on, so install() runs again then, to stay in front of it.
class QmlWarnings
{
public:
    static void install()
    {
        const QtMessageHandler previous = qInstallMessageHandler(&QmlWarnings::handle);
        if (previous != &QmlWarnings::handle)
            s_previous = previous;
    }
    // Qt Test's handler goes when its log closes: print from now on.
    static void stopForwarding() { s_previous = nullptr; }
    static QStringList take()
    {
        QMutexLocker lock(&s_mutex);
        return std::exchange(s_warnings, {});
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        const QByteArray category(context.category ? context.category : "");
        const bool fromQml = category == "qml" || category == "js" || category.startsWith("qt.qml")
            || category.startsWith("qt.quick") || message.contains(QLatin1String("qrc:/"))
            || message.contains(QLatin1String(".qml:"));
        if (type >= QtWarningMsg && fromQml) {
            QMutexLocker lock(&s_mutex);
            s_warnings.append(message);
        }
        if (s_previous)
            s_previous(type, context, message);
        else
            std::fprintf(stderr, "%s\n", qPrintable(qFormatLogMessage(type, context, message)));
    }

    static inline QMutex s_mutex;
    static inline QStringList s_warnings;
    static inline QtMessageHandler s_previous = nullptr;
};

} // namespace

// What the QML tests reach as `testServers`.
class TestServers : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString password READ password CONSTANT)
    Q_PROPERTY(QString domain READ domain CONSTANT)
    Q_PROPERTY(QString webServer READ webServer CONSTANT)
    Q_PROPERTY(QString smtpServer READ smtpServer CONSTANT)

public:
    static constexpr int WaitMs = 20000;

    explicit TestServers(QObject *parent = nullptr) : QObject(parent) {}

    [[nodiscard]] bool start() { return m_servers.isValid() && m_servers.start(); }

    [[nodiscard]] QString password() const { return u"test-password-1"_s; }
    [[nodiscard]] QString domain() const { return m_servers.config().domain; }
    [[nodiscard]] QString webServer() const { return m_servers.web().toString(); }
    [[nodiscard]] QString smtpServer() const { return m_servers.smtp().toString(); }

    // A logged-out Session on the test servers, trusting their certificate
    // on first use with a pin file of its own. Owned here, not by QML.
    Q_INVOKABLE Session *newSession()
    {
        ClientSettings settings;
        settings.smtp = m_servers.smtp();
        settings.web = m_servers.web();
        settings.pinFile = m_servers.path(u"pins-%1.ini"_s.arg(++m_sessions));
        settings.timeoutMs = WaitMs;
        auto *session = new Session(settings, this);
        QQmlEngine::setObjectOwnership(session, QQmlEngine::CppOwnership);
        return session;
    }

    // An account made in the store directly, as mailroomctl add-user does.
    Q_INVOKABLE bool createAccount(const QString &name, const QString &password)
    {
        return m_servers.createAccount(name, password);
    }

    // Whether the store holds an account of that name.
    Q_INVOKABLE bool accountExists(const QString &name)
    {
        Store store;
        return store.open(m_servers.config().database.sqlitePath, Store::OpenMode::MustExist)
            && store.findAccount(name).has_value();
    }

    // A new account "<prefix><n>" with `password`; its name, or "" on failure.
    Q_INVOKABLE QString newAccount(const QString &prefix)
    {
        const QString name = prefix + QString::number(++m_accounts);
        return m_servers.createAccount(name, password()) ? name : QString();
    }

    // Submits a plain-text message over SMTP as `fromUser`, as another
    // client would; true once the server has accepted it.
    Q_INVOKABLE bool deliver(const QString &fromUser, const QString &password, const QString &toAddress,
                             const QString &subject, const QString &text)
    {
        OutgoingMessage message;
        message.from = {{}, m_servers.config().address(fromUser)};
        message.to = {{{}, toAddress}};
        message.subject = subject;
        message.text = text;
        ServerTrust trust(m_servers.path(u"deliver-pins.ini"_s));
        SmtpClient smtp(m_servers.smtp(), &trust);
        SmtpJob *job = smtp.send({fromUser, password}, message.from.address, {toAddress}, MessageBuilder::build(message));
        QSignalSpy succeeded(job, &SmtpJob::succeeded);
        QSignalSpy failed(job, &SmtpJob::failed);
        if (!QTest::qWaitFor([&] { return !succeeded.isEmpty() || !failed.isEmpty(); }, WaitMs)) {
            qWarning() << "delivery timed out";
            return false;
        }
        if (!failed.isEmpty())
            qWarning().noquote() << "delivery failed:" << failed.first().first().value<ClientError>().toString();
        return !succeeded.isEmpty();
    }

    // The web API goes away (connections refused) and comes back on the same
    // port; startWeb() does nothing while it runs.
    Q_INVOKABLE void stopWeb()
    {
        m_servers.stopWeb();
        m_webStopped = true;
    }
    Q_INVOKABLE bool startWeb()
    {
        if (m_webStopped && m_servers.startWeb())
            m_webStopped = false;
        return !m_webStopped;
    }

    // Called when a TestCase starts running, after Qt Test took the message handler.
    Q_INVOKABLE void recordQmlWarnings() { QmlWarnings::install(); }
    // The QML warnings recorded since the last call.
    Q_INVOKABLE QStringList takeQmlWarnings() { return QmlWarnings::take(); }

private:
    ClientTestServers m_servers;
    int m_sessions = 0;
    int m_accounts = 0;
    bool m_webStopped = false;
};

class Setup : public QObject
{
    Q_OBJECT

public Q_SLOTS:
    void applicationAvailable()
    {
        // Warnings while the first file loads, before any TestCase runs.
        QmlWarnings::install();
        // Also links mainwindow.cpp, whose Q_IMPORT_QML_PLUGIN lines bring
        // in the static Mailroom and Mailroom.Client plugins.
        MainWindow::applyStyle();
        m_servers = std::make_unique<TestServers>();
        if (!m_servers->start()) {
            std::fprintf(stderr, "tst_qml: the test servers did not start\n");
            std::exit(2);
        }
    }

    void qmlEngineAvailable(QQmlEngine *engine)
    {
        // The modules are static: their qmldir files are resources under
        // qrc:/Mailroom (6.4's default prefix), which is no import path by default.
        engine->addImportPath(u"qrc:/"_s);
        engine->rootContext()->setContextProperty(u"testServers"_s, m_servers.get());
    }

    void cleanupTestCase()
    {
        // Before the application goes: the servers' sockets need it.
        m_servers.reset();
        QmlWarnings::stopForwarding();
        // Warnings after the last test function (the last file's engine
        // going away) have no test left to fail.
        const QStringList late = QmlWarnings::take();
        if (late.isEmpty())
            return;
        for (const QString &warning : late)
            std::fprintf(stderr, "tst_qml: QML warning after the last test: %s\n", qPrintable(warning));
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(1);
    }

private:
    std::unique_ptr<TestServers> m_servers;
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
