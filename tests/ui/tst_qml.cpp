// The client's QML pages one by one (LoginPage, ComposeDialog, MailboxPage,
// ChangePasswordDialog), driven with real mouse and key events by the
// QtQuickTest files in qml/, against real mailroom-smtpd and mailroom-webd
// code in this process on 127.0.0.1. The setup object starts the servers
// once and gives each test file's engine `testServers`: sessions, accounts,
// deliveries, and the web server switched off and on. Any QML warning fails
// the run: each TestCase checks testServers.takeQmlWarnings() after every
// test function, and the setup's cleanupTestCase() catches the rest.
// Qt.openUrlExternally() for http, https and mailto comes to
// `testServers.openedUrls` instead of a browser.

#include "clienttestservers.h"
#include "mainwindow.h"
#include "messagebuilder.h"
#include "servertrust.h"
#include "session.h"
#include "smtpclient.h"

#include <QDesktopServices>
#include <QDir>
#include <QDropEvent>
#include <QMimeData>
#include <QQuickItem>
#include <QQuickWindow>
#include <QFile>
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
    Q_PROPERTY(QStringList openedUrls READ openedUrls NOTIFY openedUrlsChanged)

public:
    static constexpr int WaitMs = 20000;

    explicit TestServers(QObject *parent = nullptr) : QObject(parent) {}

    [[nodiscard]] bool start()
    {
        // Every test file's sessions, all from 127.0.0.1, over the whole
        // run: far more than one client address is let hold at once (the
        // limit itself is tst_webapi's subject).
        Limits limits;
        limits.maxConnectionsPerAddress = limits.maxConnections;
        m_servers.setLimits(limits);
        return m_servers.isValid() && m_servers.start();
    }

    [[nodiscard]] QString password() const { return u"test-password-1"_s; }
    [[nodiscard]] QString domain() const { return m_servers.config().domain; }
    [[nodiscard]] QString webServer() const { return m_servers.web().toString(); }
    [[nodiscard]] QString smtpServer() const { return m_servers.smtp().toString(); }
    // What the client asked the desktop to open, in order.
    [[nodiscard]] QStringList openedUrls() const { return m_openedUrls; }

    // A logged-out Session on the test servers with a pin file of its own
    // that holds their certificate already (trust on first use answered
    // earlier). Owned here, not by QML.
    Q_INVOKABLE Session *newSession()
    {
        const QString pinFile = newPinFile();
        if (!m_servers.pinCertificate(pinFile))
            qWarning() << "cannot pin the test servers' certificate in" << pinFile;
        return makeSession(pinFile);
    }
    // The same with nothing pinned: the first login asks.
    Q_INVOKABLE Session *newUnpinnedSession() { return makeSession(newPinFile()); }
    // The same with the web server pinned to `fingerprint` (the certificate
    // it had before, as far as the session knows) and SMTP to the real one.
    Q_INVOKABLE Session *newSessionWithWebPin(const QString &fingerprint)
    {
        const QString pinFile = newPinFile();
        ServerTrust trust(pinFile);
        if (!trust.pin(m_servers.smtp(), m_servers.certificateFingerprint()) || !trust.pin(m_servers.web(), fingerprint))
            qWarning() << "cannot write" << pinFile;
        return makeSession(pinFile);
    }
    // Deletes a session made here, closing its connections: the web server
    // limits open connections per client address, over the whole run.
    Q_INVOKABLE void endSession(Session *session)
    {
        if (session && session->parent() == this)
            session->deleteLater();
    }
    // The test servers' certificate's SHA-256 fingerprint ("AB:CD:…").
    Q_INVOKABLE QString certificateFingerprint() const { return m_servers.certificateFingerprint(); }
    // What `session` has pinned for `server` ("host:port"), "" for nothing.
    Q_INVOKABLE QString pinnedFingerprint(Session *session, const QString &server) const
    {
        const std::optional<ServerEndpoint> endpoint = ServerEndpoint::parse(server);
        return session && endpoint ? session->trust()->pinnedFingerprint(*endpoint) : QString();
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
        return submit(fromUser, password, toAddress, MessageBuilder::build(message));
    }

    // Submits `message` as written (RFC 5322, any line ends, sent as UTF-8)
    // as `fromUser`: what the client does not write itself, such as an
    // HTML-only message. True once the server has accepted it.
    Q_INVOKABLE bool deliverRaw(const QString &fromUser, const QString &password, const QString &toAddress,
                                const QString &message)
    {
        return submit(fromUser, password, toAddress, message.toUtf8());
    }

    Q_INVOKABLE void clearOpenedUrls()
    {
        m_openedUrls.clear();
        Q_EMIT openedUrlsChanged();
    }

    // A folder where a test may save files, as a file URL (a new one each time).
    Q_INVOKABLE QUrl newFolderUrl()
    {
        const QString path = m_servers.path(u"folder-%1"_s.arg(++m_folders));
        return QDir().mkpath(path) ? QUrl::fromLocalFile(path) : QUrl();
    }
    // A saved file's bytes as Latin-1 text (each byte one character), "" when unreadable.
    Q_INVOKABLE QString savedFileBytes(const QUrl &url) const
    {
        QFile file(url.toLocalFile());
        return file.open(QIODevice::ReadOnly) ? QString::fromLatin1(file.readAll()) : QString();
    }

    // Drops `urls` on the middle of `target` as the window system does: drag
    // enter, move and drop events through its window. True when the drop
    // was accepted.
    Q_INVOKABLE bool dropUrls(QQuickItem *target, const QList<QUrl> &urls) const
    {
        if (!target || !target->window())
            return false;
        QQuickWindow *window = target->window();
        const QPoint at = target->mapToScene(QPointF(target->width() / 2, target->height() / 2)).toPoint();
        QMimeData data;
        data.setUrls(urls);
        QDragEnterEvent enter(at, Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &enter);
        QDragMoveEvent move(at, Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &move);
        if (!move.isAccepted())
            return false;
        QDropEvent drop(at, Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(window, &drop);
        return drop.isAccepted();
    }

    // A new file `name` of `bytes` bytes (every byte value in turn) in the
    // test's temporary directory, for attaching; its file URL.
    Q_INVOKABLE QUrl makeFile(const QString &name, int bytes) const
    {
        const QString directory = m_servers.path(u"files"_s);
        QDir().mkpath(directory);
        QFile file(directory + u'/' + name);
        QByteArray content(bytes, Qt::Uninitialized);
        for (int i = 0; i < bytes; ++i)
            content[i] = char(i & 0xff);
        if (!file.open(QIODevice::WriteOnly) || file.write(content) != bytes)
            qWarning() << "cannot write" << file.fileName();
        return QUrl::fromLocalFile(file.fileName());
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

public Q_SLOTS:
    // The URL handler for http, https and mailto (QDesktopServices::setUrlHandler).
    void openUrl(const QUrl &url)
    {
        m_openedUrls.append(url.toString());
        Q_EMIT openedUrlsChanged();
    }

Q_SIGNALS:
    void openedUrlsChanged();

private:
    [[nodiscard]] QString newPinFile() { return m_servers.path(u"pins-%1.ini"_s.arg(++m_sessions)); }
    Session *makeSession(const QString &pinFile)
    {
        ClientSettings settings;
        settings.smtp = m_servers.smtp();
        settings.web = m_servers.web();
        settings.pinFile = pinFile;
        settings.timeoutMs = WaitMs;
        auto *session = new Session(settings, this);
        QQmlEngine::setObjectOwnership(session, QQmlEngine::CppOwnership);
        return session;
    }
    // `message` over SMTP as `fromUser` to `toAddress`; true once accepted.
    bool submit(const QString &fromUser, const QString &password, const QString &toAddress, const QByteArray &message)
    {
        const QString pinFile = m_servers.path(u"deliver-pins.ini"_s);
        if (!m_servers.pinCertificate(pinFile))
            qWarning() << "cannot pin the test servers' certificate in" << pinFile;
        ServerTrust trust(pinFile);
        SmtpClient smtp(m_servers.smtp(), &trust);
        SmtpJob *job = smtp.send({fromUser, password}, m_servers.config().address(fromUser), {toAddress}, message);
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

    ClientTestServers m_servers;
    QStringList m_openedUrls;
    int m_sessions = 0;
    int m_accounts = 0;
    int m_folders = 0;
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
        for (const QString &scheme : urlSchemes())
            QDesktopServices::setUrlHandler(scheme, m_servers.get(), "openUrl");
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
        for (const QString &scheme : urlSchemes())
            QDesktopServices::unsetUrlHandler(scheme);
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
    static QStringList urlSchemes() { return {u"http"_s, u"https"_s, u"mailto"_s}; }

    std::unique_ptr<TestServers> m_servers;
};

QUICK_TEST_MAIN_WITH_SETUP(tst_qml, Setup)

#include "tst_qml.moc"
