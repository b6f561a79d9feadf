import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

// A new message or a reply. Validation and sending are ComposeController's;
// this shows its fields, its verdicts and its progress.
Dialog {
    id: dialog

    required property Session session
    readonly property ComposeController controller: compose

    signal messageSent()

    function openNew() {
        compose.clear()
        open()
        to.forceActiveFocus()
    }
    function openReply(messageId) {
        compose.clear()
        compose.replyTo(messageId)
        open()
        body.forceActiveFocus()
    }

    title: compose.isReply ? qsTr("Reply") : qsTr("New message")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(760, (parent ? parent.width : 800) - 40)
    height: Math.min(600, (parent ? parent.height : 600) - 40)
    closePolicy: compose.busy ? Popup.NoAutoClose : Popup.CloseOnEscape

    ComposeController {
        id: compose
        objectName: "composeController"
        session: dialog.session
        onSent: {
            dialog.close()
            dialog.messageSent()
        }
    }

    Shortcut {
        sequences: ["Ctrl+Return", "Ctrl+Enter"]
        enabled: dialog.visible
        onActivated: if (compose.canSend) compose.send()
    }

    contentItem: ColumnLayout {
        spacing: 8

        GridLayout {
            columns: 2
            columnSpacing: 8
            Layout.fillWidth: true

            Label { text: qsTr("To:") }
            TextField {
                id: to
                objectName: "to"
                text: compose.to
                placeholderText: qsTr("alice, bob@project.com")
                enabled: !compose.busy
                Layout.fillWidth: true
                onTextEdited: compose.to = text
            }
            Item { width: 1; height: 1; visible: recipientsError.visible }
            ErrorLabel {
                id: recipientsError
                objectName: "recipientsError"
                text: compose.recipientsError
                font.pixelSize: 12
                Layout.fillWidth: true
            }
            Label { text: qsTr("Subject:") }
            TextField {
                id: subject
                objectName: "subject"
                text: compose.subject
                enabled: !compose.busy
                Layout.fillWidth: true
                onTextEdited: compose.subject = text
            }
        }

        Frame {
            padding: 1
            Layout.fillWidth: true
            Layout.fillHeight: true
            ScrollView {
            anchors.fill: parent
            TextArea {
                id: body
                objectName: "body"
                text: compose.body
                enabled: !compose.busy
                wrapMode: TextEdit.Wrap
                font.family: "monospace"
                placeholderText: qsTr("Write your message here.")
                onTextChanged: if (text !== compose.body) compose.body = text
            }
            }
        }

        RowLayout {
            Layout.fillWidth: true
            BusyIndicator {
                running: compose.busy
                visible: running
                Layout.preferredWidth: 28
                Layout.preferredHeight: 28
            }
            Label {
                objectName: "composeStatus"
                text: compose.state === ComposeController.Sending ? qsTr("Sending…")
                    : compose.state === ComposeController.Preparing ? qsTr("Loading the message…")
                    : ""
                visible: text.length > 0
            }
            ErrorLabel {
                objectName: "composeError"
                text: compose.errorString
                Layout.fillWidth: true
            }
            Item { Layout.fillWidth: true }
            Button {
                text: qsTr("Cancel")
                enabled: !compose.busy
                onClicked: dialog.close()
            }
            Button {
                objectName: "send"
                text: qsTr("Send")
                highlighted: true
                enabled: compose.canSend
                onClicked: compose.send()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Send (Ctrl+Return)")
            }
        }
    }
}
