import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Mailroom.Client

// A new message, a reply, a reply to all or a forward. Validation, files
// and sending are ComposeController's; this shows its fields, its verdicts,
// its attachments and its progress, and asks before changes are thrown away.
Dialog {
    id: dialog

    required property Session session
    readonly property ComposeController controller: compose

    // result: what was done, e.g. "Message sent to 3 recipients."
    signal messageSent(string result)
    // The user answered "Discard this message?": discarded, or keeps writing.
    signal discardAnswered(bool discarded)

    function openNew() {
        dialog.toAll = false
        compose.clear()
        open()
        to.forceActiveFocus()
    }
    function openReply(messageId) {
        dialog.toAll = false
        compose.clear()
        compose.replyTo(messageId)
        open()
        body.forceActiveFocus()
    }
    function openReplyAll(messageId) {
        dialog.toAll = true
        compose.clear()
        compose.replyAllTo(messageId)
        open()
        body.forceActiveFocus()
    }
    function openForward(messageId) {
        dialog.toAll = false
        compose.clear()
        compose.forward(messageId)
        open()
        to.forceActiveFocus()
    }
    // Escape, Cancel and any other way out: closes at once when nothing
    // would be lost, else asks first (Discard / Keep writing). Never while
    // the message is being sent. True when the dialog closed.
    function requestClose() {
        if (!visible)
            return true
        if (compose.state === ComposeController.Sending)
            return false
        if (compose.modified) {
            discardQuestion.returnFocus = to.Window.activeFocusItem
            discardQuestion.open()
            return false
        }
        close()
        return true
    }

    // The session ended: close without asking and forget what was written
    // (nothing of one account stays for the next).
    function discard() {
        discardQuestion.close()
        fileDialog.close()
        close()
        compose.clear()
    }

    title: compose.isForward ? qsTr("Forward")
         : compose.isReply ? (dialog.toAll ? qsTr("Reply all") : qsTr("Reply"))
         : qsTr("New message")
    // Opened by Reply all (the controller knows a reply, not to whom).
    property bool toAll: false
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(760, (parent ? parent.width : 800) - 40)
    height: Math.min(620, (parent ? parent.height : 600) - 40)
    // Escape is the shortcut below: it asks first when there is something to lose.
    closePolicy: Popup.NoAutoClose

    ComposeController {
        id: compose
        objectName: "composeController"
        session: dialog.session
        onSent: {
            dialog.close()
            dialog.messageSent(compose.resultText)
        }
        // The fields are disabled while the original loads: the cursor goes
        // in once they are filled, to the text (a forward: to To).
        onReplyReady: (compose.isForward ? to : body).forceActiveFocus()
    }

    Shortcut {
        sequences: ["Ctrl+Return", "Ctrl+Enter"]
        enabled: dialog.visible
        onActivated: if (compose.canSend) compose.send()
    }
    Shortcut {
        sequence: "Escape"
        enabled: dialog.visible && !discardQuestion.visible
        onActivated: dialog.requestClose()
    }

    FileDialog {
        id: fileDialog
        objectName: "attachFileDialog"
        title: qsTr("Attach files")
        fileMode: FileDialog.OpenFiles
        parentWindow: attachButton.Window.window
        onAccepted: compose.addAttachments(selectedFiles)
    }

    Dialog {
        id: discardQuestion
        objectName: "discardQuestion"

        property Item returnFocus: null
        property bool discardChosen: false

        parent: Overlay.overlay
        anchors.centerIn: Overlay.overlay
        width: 380
        modal: true
        title: qsTr("Discard this message?")
        // Escape here means "no": keep writing.
        closePolicy: Popup.CloseOnEscape
        onClosed: {
            if (dialog.visible)
                (returnFocus && returnFocus.visible ? returnFocus : body).forceActiveFocus()
            returnFocus = null
            const discarded = discardChosen
            discardChosen = false
            dialog.discardAnswered(discarded)
        }

        contentItem: Label {
            text: qsTr("What you have written will be lost.")
            wrapMode: Text.Wrap
        }
        footer: DialogButtonBox {
            Button {
                objectName: "discardButton"
                text: qsTr("Discard")
                DialogButtonBox.buttonRole: DialogButtonBox.DestructiveRole
                onClicked: {
                    discardQuestion.discardChosen = true
                    dialog.close()
                    discardQuestion.close()
                }
            }
            Button {
                objectName: "keepWritingButton"
                text: qsTr("Keep writing")
                highlighted: true
                DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
                onClicked: discardQuestion.close()
            }
        }
    }

    contentItem: Item {
        implicitWidth: form.implicitWidth
        implicitHeight: form.implicitHeight

        ColumnLayout {
            id: form
            anchors.fill: parent
            spacing: 6

            GridLayout {
                columns: 2
                columnSpacing: 8
                rowSpacing: 4
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
                Label { text: qsTr("Cc:") }
                TextField {
                    id: cc
                    objectName: "cc"
                    text: compose.cc
                    enabled: !compose.busy
                    Layout.fillWidth: true
                    onTextEdited: compose.cc = text
                }
                Item { width: 1; height: 1; visible: ccError.visible }
                ErrorLabel {
                    id: ccError
                    objectName: "ccError"
                    text: compose.ccError
                    font.pixelSize: 12
                    Layout.fillWidth: true
                }
                Label { text: qsTr("Bcc:") }
                TextField {
                    id: bcc
                    objectName: "bcc"
                    text: compose.bcc
                    placeholderText: qsTr("not shown to the other recipients")
                    enabled: !compose.busy
                    Layout.fillWidth: true
                    onTextEdited: compose.bcc = text
                }
                Item { width: 1; height: 1; visible: bccError.visible }
                ErrorLabel {
                    id: bccError
                    objectName: "bccError"
                    text: compose.bccError
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

            RowLayout {
                Layout.fillWidth: true
                spacing: 8
                Button {
                    id: attachButton
                    objectName: "attachButton"
                    text: qsTr("Attach…")
                    enabled: !compose.busy
                    onClicked: fileDialog.open()
                }
                Label {
                    objectName: "attachmentsSummary"
                    text: compose.attachments.length === 0 ? qsTr("or drop files here")
                        : compose.attachments.length === 1 ? qsTr("1 file, %1").arg(compose.attachmentsSizeText)
                        : qsTr("%1 files, %2").arg(compose.attachments.length).arg(compose.attachmentsSizeText)
                    opacity: compose.attachments.length === 0 ? 0.6 : 1
                }
                ErrorLabel {
                    objectName: "sizeError"
                    text: compose.sizeError
                    Layout.fillWidth: true
                }
            }

            ListView {
                id: attachmentList
                objectName: "attachmentList"
                model: compose.attachments
                visible: count > 0
                clip: true
                spacing: 2
                interactive: contentHeight > height
                Layout.fillWidth: true
                // Three rows at most; more scroll.
                Layout.preferredHeight: Math.min(count, 3) * 30 - spacing
                ScrollBar.vertical: ScrollBar {}

                delegate: RowLayout {
                    id: attachmentRow
                    required property var modelData
                    required property int index

                    objectName: "attachment_" + index
                    width: ListView.view.width - 12
                    height: 28
                    spacing: 8
                    Label {
                        objectName: "attachmentName"
                        text: attachmentRow.modelData.name
                        elide: Text.ElideMiddle
                        Layout.fillWidth: true
                    }
                    Label {
                        objectName: "attachmentSize"
                        text: attachmentRow.modelData.sizeText
                        opacity: 0.7
                    }
                    ToolButton {
                        objectName: "removeAttachment"
                        text: "✕"
                        enabled: !compose.busy
                        implicitHeight: 26
                        implicitWidth: 26
                        onClicked: compose.removeAttachment(attachmentRow.index)
                        Accessible.name: qsTr("Remove %1").arg(attachmentRow.modelData.name)
                        ToolTip.visible: hovered
                        ToolTip.text: qsTr("Remove this attachment")
                    }
                }
            }

            Frame {
                padding: 1
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.minimumHeight: 80
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
                        : compose.state === ComposeController.Sent ? compose.resultText
                        : ""
                    visible: text.length > 0
                }
                ProgressBar {
                    objectName: "sendProgress"
                    visible: compose.state === ComposeController.Sending
                    from: 0
                    to: 1
                    value: compose.progress
                    Layout.preferredWidth: 120
                }
                ErrorLabel {
                    objectName: "composeError"
                    text: compose.errorString
                    Layout.fillWidth: true
                }
                Item { Layout.fillWidth: true }
                Button {
                    objectName: "cancelButton"
                    text: qsTr("Cancel")
                    enabled: compose.state !== ComposeController.Sending
                    onClicked: dialog.requestClose()
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

        // Files dropped anywhere on the dialog are attached.
        DropArea {
            id: dropArea
            objectName: "attachmentDropArea"
            anchors.fill: parent
            enabled: !compose.busy
            onEntered: (drag) => { drag.accepted = drag.hasUrls }
            onDropped: (drop) => {
                if (!drop.hasUrls)
                    return
                compose.addAttachments(drop.urls)
                drop.accept(Qt.CopyAction)
            }
        }
        Rectangle {
            anchors.fill: parent
            visible: dropArea.containsDrag
            color: "transparent"
            border.color: palette.highlight
            border.width: 2
            radius: 4
            Label {
                anchors.centerIn: parent
                text: qsTr("Drop to attach")
                padding: 8
                background: Rectangle { color: palette.base; radius: 4 }
            }
        }
    }
}
