#pragma once

#include <QObject>
#include <QVariant>
#include <QtQml/qqmlregistration.h>

// How a menu shows an Action's shortcut: Qt Quick Controls 6.4 menus show
// none, and a StandardKey is a number that only QKeySequence can name.
class KeySequenceText : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON

public:
    explicit KeySequenceText(QObject *parent = nullptr) : QObject(parent) {}

    // "Ctrl+R" for "Ctrl+R", StandardKey.Quit or a QKeySequence, in the
    // platform's own words; a StandardKey with several bindings is named by
    // its first. "" for no shortcut.
    [[nodiscard]] Q_INVOKABLE static QString nativeText(const QVariant &shortcut);
};
