import QtQuick
import QtQuick.Controls
import Mailroom

// A menu entry that shows its action's shortcut on the right, as desktop
// menus do (Qt Quick Controls 6.4 menus show none).
MenuItem {
    id: control

    readonly property string shortcutText: control.action ? KeySequenceText.nativeText(control.action.shortcut) : ""

    rightPadding: control.horizontalPadding + (shortcutLabel.visible ? shortcutLabel.implicitWidth + 24 : 0)

    Label {
        id: shortcutLabel
        objectName: "shortcutText"
        x: control.width - width - control.horizontalPadding
        anchors.verticalCenter: parent.verticalCenter
        text: control.shortcutText
        visible: text.length > 0
        opacity: control.enabled ? 0.75 : 0.4
        color: control.highlighted ? control.palette.highlightedText : control.palette.windowText
    }
}
