// Renders each screen of the desktop client headless into PNG files, against
// real mailroom-smtpd and mailroom-webd code (in this process, on 127.0.0.1)
// with a demo account and a few demo messages: login, the first contact's
// certificate question, inbox, message, forward, compose (Cc, Bcc,
// attachments), sent, and the inbox at 800x600. Fails on any QML warning.
//   mailroom-screenshots --out DIR
// scripts/screenshots.sh regenerates docs/screenshots/ with it.

#include "clienttestservers.h"
#include "messagebuilder.h"
#include "servertrust.h"
#include "smtpclient.h"
#include "uidriver.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QSignalSpy>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace {

const QString DemoPassword = u"demo-password-1"_s;

// RFC 2045 §6.8: base64 in lines of 76 characters.
QByteArray base64Lines(const QByteArray &bytes)
{
    const QByteArray encoded = bytes.toBase64();
    QByteArray out;
    for (qsizetype i = 0; i < encoded.size(); i += 76)
        out += encoded.mid(i, 76) + "\r\n";
    return out;
}

QByteArray withAttachment()
{
    QByteArray report;
    for (int i = 0; i < 48 * 1024; ++i)
        report.append(char('A' + i % 26));
    return "From: Bob Builder <bob@project.com>\r\n"
           "To: Alice Liddell <alice@project.com>\r\n"
           "Subject: Quarterly report\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
           "\r\n"
           "--b1\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "Hi Alice,\r\n\r\nthe numbers for the third quarter are attached. Revenue is up 12 %,\r\n"
           "costs are flat. Can we go through them on Monday?\r\n\r\nBob\r\n"
           "--b1\r\n"
           "Content-Type: application/pdf; name=\"report-q3.pdf\"\r\n"
           "Content-Disposition: attachment; filename=\"report-q3.pdf\"\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "\r\n"_ba
        + base64Lines(report) + "--b1--\r\n"_ba;
}

bool deliver(ClientTestServers &servers, const QString &from, const QByteArray &message, const QStringList &to)
{
    const QString pinFile = servers.path(u"demo-pins.ini"_s);
    if (!servers.pinCertificate(pinFile))
        return false;
    ServerTrust trust(pinFile);
    SmtpClient smtp(servers.smtp(), &trust);
    SmtpJob *job = smtp.send({from, DemoPassword}, from + u"@project.com"_s, to, message);
    QSignalSpy succeeded(job, &SmtpJob::succeeded);
    QSignalSpy failed(job, &SmtpJob::failed);
    if (!QTest::qWaitFor([&] { return !succeeded.isEmpty() || !failed.isEmpty(); }, UiDriver::WaitMs))
        return false;
    if (!failed.isEmpty())
        qWarning() << "demo delivery failed:" << failed.first().first().value<ClientError>().toString();
    return !succeeded.isEmpty();
}

QByteArray plain(const QString &fromName, const QString &from, const QString &toName, const QString &to,
                 const QString &subject, const QString &text)
{
    OutgoingMessage message;
    message.from = {fromName, from + u"@project.com"_s};
    message.to = {{toName, to + u"@project.com"_s}};
    message.subject = subject;
    message.text = text;
    return MessageBuilder::build(message);
}

bool seed(ClientTestServers &servers)
{
    for (const QString &name : {u"alice"_s, u"bob"_s, u"carol"_s}) {
        if (!servers.createAccount(name, DemoPassword))
            return false;
    }
    const QString alice = u"alice@project.com"_s;
    return deliver(servers, u"carol"_s,
                   plain(u"Carol Danvers"_s, u"carol"_s, u"Alice Liddell"_s, u"alice"_s, u"Welcome to the team"_s,
                         u"Hi Alice,\n\nwelcome aboard! Your desk is next to mine; ask me anything.\n\nCarol"_s),
                   {alice})
        && deliver(servers, u"alice"_s,
                   plain(u"Alice Liddell"_s, u"alice"_s, u"Bob Builder"_s, u"bob"_s, u"Monday meeting"_s,
                         u"Bob,\n\nshall we meet on Monday at 10 to go through the report?\n\nAlice"_s),
                   {u"bob@project.com"_s})
        && deliver(servers, u"bob"_s, withAttachment(), {alice})
        && deliver(servers, u"carol"_s,
                   plain(u"Carol Danvers"_s, u"carol"_s, u"Alice Liddell"_s, u"alice"_s, u"Lunch on Friday?"_s,
                         u"There is a new café around the corner. 12:30?\n\nCarol"_s),
                   {alice});
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption outOption(u"out"_s, u"Where to write the PNG files."_s, u"DIR"_s, u"screenshots"_s);
    parser.addOption(outOption);
    parser.process(app);
    const QDir out(parser.value(outOption));
    if (!QDir().mkpath(out.path()))
        return std::fprintf(stderr, "cannot create %s\n", qPrintable(out.path())), 2;

    QmlWarningCollector qmlWarnings;
    ClientTestServers servers;
    if (!servers.start() || !seed(servers)) {
        std::fprintf(stderr, "the demo servers did not start\n");
        return 1;
    }
    ClientSettings settings;
    settings.smtp = servers.smtp();
    settings.web = servers.web();
    settings.pinFile = servers.path(u"pins.ini"_s);
    Session session(settings);
    UiDriver ui(session);
    QStringList written;
    const auto shoot = [&](const QString &name) {
        const QString path = out.filePath(name + u".png"_s);
        if (!ui.grab().save(path))
            return false;
        written.append(path);
        return true;
    };
    const auto check = [](bool ok, const char *what) {
        if (!ok)
            std::fprintf(stderr, "screenshots: %s failed\n", what);
        return ok;
    };

    bool ok = check(ui.load(), "loading the window")
        && check(ui.type(u"username"_s, u"alice"_s), "typing the user name")
        && check(ui.type(u"password"_s, DemoPassword), "typing the password")
        && check(shoot(u"login"_s), "login.png")
        && check(ui.click(u"submit"_s), "clicking Log in")
        && check(ui.waitFor([&] { return ui.property(u"certificateDialog"_s, "opened").toBool(); }),
                 "the first contact's question")
        && check(shoot(u"certificate"_s), "certificate.png")
        && check(ui.click(u"acceptCertificate"_s), "clicking Trust and continue")
        && check(ui.waitFor([&] { return session.isLoggedIn(); }), "logging in")
        && check(ui.waitForRows(u"inboxModel"_s, 3), "the inbox")
        && check(ui.waitForRows(u"sentModel"_s, 1), "the sent folder")
        && check(shoot(u"inbox"_s), "inbox.png")
        && check(ui.clickListRow(u"messageListView"_s, 1), "clicking a message")
        && check(ui.waitFor([&] { return ui.property(u"messageController"_s, "loaded").toBool(); }), "opening it")
        && check(ui.waitFor([&] { return ui.property(u"inboxModel"_s, "unseenCount").toInt() == 2; }), "marking it seen")
        && check(shoot(u"message"_s), "message.png");
    if (ok) {
        // Forward, from the message view: the text quoted, the attachment carried.
        ok = check(ui.click(u"forwardButton"_s), "clicking Forward")
            && check(ui.waitFor([&] {
                   QObject *compose = ui.find(u"composeController"_s);
                   return compose && compose->property("isForward").toBool() && !compose->property("busy").toBool()
                       && compose->property("attachments").toList().size() == 1;
               }), "the forward prefill")
            && check(ui.type(u"to"_s, u"carol"_s), "typing the recipient")
            && check(shoot(u"forward"_s), "forward.png")
            && check(ui.click(u"send"_s), "sending the forward")
            && check(ui.waitFor([&] { return !ui.property(u"composeDialog"_s, "visible").toBool(); }), "the forward sent");
    }
    if (ok) {
        // A new message with Cc, Bcc and two attachments (one added as a
        // file dialog or a drop would add it).
        const QDir files(servers.path(u"files"_s));
        const auto write = [&](const QString &name, qsizetype size) {
            QFile file(files.filePath(name));
            QByteArray bytes(size, '\0');
            for (qsizetype i = 0; i < size; ++i)
                bytes[i] = char(i * 31 % 251);
            return QDir().mkpath(files.path()) && file.open(QIODevice::WriteOnly) && file.write(bytes) == size;
        };
        QObject *compose = ui.find(u"composeController"_s);
        bool attached = false;
        ok = check(write(u"budget-2027.ods"_s, 23 * 1024) && write(u"Straßenplan Süd.png"_s, 318 * 1024), "writing the files")
            && check(ui.click(u"composeButton"_s), "clicking Compose")
            && check(ui.waitFor([&] { return ui.property(u"composeDialog"_s, "opened").toBool(); }), "the compose window")
            && check(ui.type(u"to"_s, u"bob"_s), "typing To")
            && check(ui.type(u"cc"_s, u"carol"_s), "typing Cc")
            && check(ui.type(u"bcc"_s, u"alice"_s), "typing Bcc")
            && check(ui.type(u"subject"_s, u"Budget 2027 and the new site plan"_s), "typing the subject")
            && check(ui.type(u"body"_s, u"Hi Bob,\n\nhere are the budget and the plan we talked about.\n\nAlice"_s),
                     "typing the text")
            && check(QMetaObject::invokeMethod(compose, "addAttachments", Q_RETURN_ARG(bool, attached),
                                               Q_ARG(QList<QUrl>, QList<QUrl>({QUrl::fromLocalFile(files.filePath(u"budget-2027.ods"_s)),
                                                                               QUrl::fromLocalFile(files.filePath(u"Straßenplan Süd.png"_s))})))
                         && attached,
                     "attaching the files")
            && check(shoot(u"compose"_s), "compose.png");
    }
    if (ok) {
        ok = check(ui.click(u"send"_s), "clicking Send")
            && check(ui.waitFor([&] { return !ui.property(u"composeDialog"_s, "visible").toBool(); }), "sending")
            && check(ui.click(u"sentFolder"_s), "opening Sent")
            && check(ui.waitForRows(u"sentModel"_s, 3), "the sent messages")
            && check(shoot(u"sent"_s), "sent.png");
    }
    if (ok) {
        ui.window()->resize(800, 600);
        ok = check(ui.click(u"inboxFolder"_s), "back to the inbox") && check(shoot(u"inbox-800x600"_s), "inbox-800x600.png");
    }
    const QStringList warnings = qmlWarnings.warnings();
    for (const QString &warning : warnings)
        std::fprintf(stderr, "QML warning: %s\n", qPrintable(warning));
    for (const QString &path : written)
        std::printf("%s\n", qPrintable(path));
    return ok && warnings.isEmpty() ? 0 : 1;
}
