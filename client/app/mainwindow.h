#pragma once

#include <QString>

class QQmlApplicationEngine;
class QQuickWindow;
class Session;

// The desktop client's window, shared by the mailroom executable, the UI
// tests and the screenshot tool so that all three show the same thing.
namespace MainWindow {

// The one Qt Quick Controls style the client is drawn in.
void applyStyle();

// Loads Main.qml (module Mailroom) for `session`. Returns the window, or
// null with the QML errors in `error`.
[[nodiscard]] QQuickWindow *load(QQmlApplicationEngine &engine, Session &session, QString *error);

} // namespace MainWindow
