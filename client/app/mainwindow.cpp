#include "mainwindow.h"

#include "session.h"

#include <QDir>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlExtensionPlugin>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QUrl>

// The QML modules are static libraries: their plugins are linked in, not loaded.
Q_IMPORT_QML_PLUGIN(Mailroom_ClientPlugin)
Q_IMPORT_QML_PLUGIN(MailroomPlugin)

using namespace Qt::StringLiterals;

void MainWindow::applyStyle()
{
    QQuickStyle::setStyle(u"Fusion"_s);
}

QQuickWindow *MainWindow::load(QQmlApplicationEngine &engine, Session &session, QString *error)
{
    QStringList problems;
    // Only while loading: `problems` is gone once this returns.
    const QMetaObject::Connection collecting = QObject::connect(
        &engine, &QQmlApplicationEngine::warnings, &engine, [&problems](const QList<QQmlError> &warnings) {
            for (const QQmlError &warning : warnings)
                problems.append(warning.toString());
        });
    const QDir source(QStringLiteral(MAILROOM_SOURCE_DIR));
    engine.setInitialProperties({
        {u"session"_s, QVariant::fromValue(&session)},
        {u"version"_s, QStringLiteral(MAILROOM_VERSION)},
        {u"sourceUrl"_s, QUrl::fromLocalFile(source.path())},
        {u"docsUrl"_s, QUrl::fromLocalFile(source.filePath(u"README.md"_s))},
    });
    engine.load(QUrl(u"qrc:/Mailroom/Main.qml"_s));
    QObject::disconnect(collecting);
    auto *window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window && error)
        *error = problems.isEmpty() ? u"Main.qml did not load"_s : problems.join(u'\n');
    return window;
}
