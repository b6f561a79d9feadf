#pragma once

// Drives the real client window (MainWindow::load, the same Main.qml as the
// mailroom executable) from C++: finds items by objectName, waits for the
// models, types into fields, grabs frames. Shared by the end-to-end UI test
// and the screenshot tool. QML warnings are collected: any one is a defect.

#include "mainwindow.h"
#include "session.h"

#include <QImage>
#include <QMutex>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QStringList>
#include <QTest>

#include <memory>

class QmlWarningCollector
{
public:
    QmlWarningCollector() { s_instance = this; s_previous = qInstallMessageHandler(&QmlWarningCollector::handle); }
    ~QmlWarningCollector()
    {
        qInstallMessageHandler(s_previous);
        s_instance = nullptr;
    }
    [[nodiscard]] QStringList warnings() const
    {
        QMutexLocker lock(&m_mutex);
        return m_warnings;
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        const QByteArray category(context.category ? context.category : "");
        // What the QML engine and Qt Quick report: binding and type errors,
        // unknown properties, layout loops, anything about our qrc files.
        const bool fromQml = category == "qml" || category == "js" || category.startsWith("qt.qml")
            || category.startsWith("qt.quick") || message.contains(QLatin1String("qrc:/"));
        if (s_instance && type >= QtWarningMsg && fromQml) {
            QMutexLocker lock(&s_instance->m_mutex);
            s_instance->m_warnings.append(message);
        }
        if (s_previous)
            s_previous(type, context, message);
    }

    mutable QMutex m_mutex;
    QStringList m_warnings;
    static inline QmlWarningCollector *s_instance = nullptr;
    static inline QtMessageHandler s_previous = nullptr;
};

class UiDriver
{
public:
    static constexpr int WaitMs = 20000;

    explicit UiDriver(Session &session) : m_session(session) {}

    [[nodiscard]] bool load(const QSize &size = {1280, 800})
    {
        // Once per process: Qt Quick Controls refuses a style set after its first use.
        static const bool styled = (MainWindow::applyStyle(), true);
        Q_UNUSED(styled);
        m_engine = std::make_unique<QQmlApplicationEngine>();
        QString error;
        m_window = MainWindow::load(*m_engine, m_session, &error);
        if (!m_window) {
            qWarning().noquote() << error;
            return false;
        }
        m_window->resize(size);
        m_window->show();
        return QTest::qWaitForWindowExposed(m_window);
    }

    [[nodiscard]] QQuickWindow *window() const { return m_window; }

    template<typename T = QObject>
    [[nodiscard]] T *find(const QString &objectName) const
    {
        return m_window ? m_window->findChild<T *>(objectName) : nullptr;
    }
    // The object `objectName` inside the object `parentName`: names repeat
    // (the message view and the compose dialog both have a "subject").
    template<typename T = QObject>
    [[nodiscard]] T *findIn(const QString &parentName, const QString &objectName) const
    {
        QObject *parent = find(parentName);
        return parent ? parent->findChild<T *>(objectName) : nullptr;
    }
    [[nodiscard]] QVariant property(const QString &objectName, const char *name) const
    {
        QObject *object = find(objectName);
        return object ? object->property(name) : QVariant();
    }
    bool setProperty(const QString &objectName, const char *name, const QVariant &value) const
    {
        QObject *object = find(objectName);
        return object && object->setProperty(name, value);
    }
    // Types into a field as a user does: focus, then key events.
    bool type(const QString &objectName, const QString &text) const
    {
        auto *item = find<QQuickItem>(objectName);
        if (!item)
            return false;
        item->forceActiveFocus();
        for (const QChar c : text) {
            if (c.unicode() > 0x7e || (c.unicode() < 0x20 && c != u'\n'))
                return false; // QTest types ASCII into a QWindow
            QTest::keyClick(m_window, c == u'\n' ? '\r' : char(c.unicode()));
        }
        return item->property("text").toString().contains(text);
    }
    // Clicks an item's centre with the mouse.
    bool click(const QString &objectName) const
    {
        auto *item = find<QQuickItem>(objectName);
        if (!item || !item->isVisible() || !item->isEnabled())
            return false;
        const QPointF centre = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
        QTest::mouseClick(m_window, Qt::LeftButton, Qt::NoModifier, centre.toPoint());
        return true;
    }
    // Clicks row `row` of the ListView `listName` as a person does, scrolled into view first.
    bool clickListRow(const QString &listName, int row) const
    {
        auto *view = find<QQuickItem>(listName);
        if (!view)
            return false;
        QMetaObject::invokeMethod(view, "positionViewAtIndex", Q_ARG(int, row), Q_ARG(int, 0 /* Beginning */));
        QQuickItem *item = nullptr;
        if (!waitFor([&] {
                QMetaObject::invokeMethod(view, "itemAtIndex", Q_RETURN_ARG(QQuickItem *, item), Q_ARG(int, row));
                return item != nullptr && item->isVisible();
            }))
            return false;
        const QPointF centre = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
        QTest::mouseClick(m_window, Qt::LeftButton, Qt::NoModifier, centre.toPoint());
        return true;
    }
    [[nodiscard]] bool waitFor(const std::function<bool()> &condition, int timeoutMs = WaitMs) const
    {
        return QTest::qWaitFor(condition, timeoutMs);
    }
    // Waits for a model to have finished loading with at least `rows` rows.
    [[nodiscard]] bool waitForRows(const QString &modelName, int rows) const
    {
        return waitFor([&] {
            QObject *model = find(modelName);
            return model && !model->property("loading").toBool() && model->property("count").toInt() >= rows;
        });
    }
    [[nodiscard]] QImage grab() const
    {
        // Let pending bindings, layouts and one frame settle first.
        QTest::qWait(50);
        return m_window->grabWindow();
    }

private:
    Session &m_session;
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QQuickWindow *m_window = nullptr;
};
