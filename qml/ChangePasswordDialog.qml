import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

Dialog {
    id: dialog

    required property Session session
    property string problem: ""
    property bool waiting: false

    title: qsTr("Change password")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(420, (parent ? parent.width : 420) - 40)
    closePolicy: Popup.CloseOnEscape

    onOpened: {
        current.text = ""
        replacement.text = ""
        confirmation.text = ""
        problem = ""
        current.forceActiveFocus()
    }

    function submit() {
        problem = session.newPasswordProblem(replacement.text, confirmation.text)
        if (problem.length > 0)
            return
        waiting = true
        session.changePassword(current.text, replacement.text)
    }

    Connections {
        target: dialog.session
        function onPasswordChanged() {
            dialog.waiting = false
            dialog.close()
        }
        function onPasswordChangeFailed(message) {
            dialog.waiting = false
            dialog.problem = message
        }
    }

    contentItem: ColumnLayout {
        spacing: 8
        TextField {
            id: current
            objectName: "currentPassword"
            placeholderText: qsTr("Current password")
            echoMode: TextInput.Password
            Layout.fillWidth: true
            onAccepted: replacement.forceActiveFocus()
        }
        TextField {
            id: replacement
            objectName: "newPassword"
            placeholderText: qsTr("New password (8 to 128 characters)")
            echoMode: TextInput.Password
            Layout.fillWidth: true
            onAccepted: confirmation.forceActiveFocus()
        }
        TextField {
            id: confirmation
            objectName: "confirmPassword"
            placeholderText: qsTr("New password again")
            echoMode: TextInput.Password
            Layout.fillWidth: true
            onAccepted: dialog.submit()
        }
        ErrorLabel {
            objectName: "passwordError"
            text: dialog.problem
            Layout.fillWidth: true
        }
        RowLayout {
            Layout.fillWidth: true
            BusyIndicator {
                running: dialog.waiting
                visible: running
                Layout.preferredWidth: 28
                Layout.preferredHeight: 28
            }
            Item { Layout.fillWidth: true }
            Button {
                text: qsTr("Cancel")
                onClicked: dialog.close()
            }
            Button {
                objectName: "changePassword"
                text: qsTr("Change")
                highlighted: true
                enabled: !dialog.waiting && current.text.length > 0 && replacement.text.length > 0
                onClicked: dialog.submit()
            }
        }
    }
}
