import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Mailroom.Client

// One message: its headers, the text (selectable), the attachments (saved
// to a file), Reply, Reply all, Forward, Mark as unread and Delete.
Pane {
    id: root

    required property MessageController controller
    property int savingIndex: -1
    property string notice: ""
    property bool noticeIsError: false

    signal replyRequested()
    signal replyAllRequested()
    signal forwardRequested()
    signal markUnreadRequested()
    signal removeRequested()

    Connections {
        target: root.controller
        function onAttachmentSaved(path, folder) {
            root.noticeIsError = false
            root.notice = qsTr("Saved “%1” in %2").arg(path.substring(path.lastIndexOf("/") + 1)).arg(folder)
        }
        function onAttachmentSaveFailed(message) {
            root.noticeIsError = true
            root.notice = message
        }
        function onLoadedChanged() { root.notice = "" }
    }

    FileDialog {
        id: saveDialog
        objectName: "saveAttachmentDialog"
        fileMode: FileDialog.SaveFile
        title: qsTr("Save attachment")
        acceptLabel: qsTr("Save")
        parentWindow: root.Window.window
        currentFolder: root.controller.downloadsFolder
        onAccepted: root.saveTo(selectedFile)
    }
    // Qt 6.4's own save dialog replaces a file without asking: ask here.
    function saveTo(file) {
        const target = root.controller.saveTarget(file)
        if (!target.exists) {
            root.controller.saveAttachment(root.savingIndex, file)
            return
        }
        replaceQuestion.file = file
        replaceQuestion.target = target
        replaceQuestion.open()
    }
    Dialog {
        id: replaceQuestion
        objectName: "replaceQuestion"
        property url file
        property var target: ({ name: "", folder: "" })
        parent: Overlay.overlay
        anchors.centerIn: Overlay.overlay
        width: 420
        modal: true
        title: qsTr("Replace “%1”?").arg(replaceQuestion.target.name)
        contentItem: Label {
            text: qsTr("A file of that name is in %1 already. Replacing it overwrites what it holds.")
                .arg(replaceQuestion.target.folder)
            wrapMode: Text.Wrap
        }
        footer: DialogButtonBox {
            Button {
                objectName: "replaceButton"
                text: qsTr("Replace")
                DialogButtonBox.buttonRole: DialogButtonBox.DestructiveRole
                onClicked: {
                    replaceQuestion.close()
                    root.controller.saveAttachment(root.savingIndex, replaceQuestion.file)
                }
            }
            Button {
                objectName: "keepFileButton"
                text: qsTr("Cancel")
                highlighted: true
                DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
                onClicked: replaceQuestion.close()
            }
        }
    }

    Label {
        objectName: "noMessage"
        anchors.centerIn: parent
        visible: !root.controller.loaded && !root.controller.loading
        text: root.controller.errorString.length > 0 ? root.controller.errorString : qsTr("Select a message to read it.")
        opacity: 0.6
    }
    BusyIndicator {
        anchors.centerIn: parent
        running: root.controller.loading
        visible: running
    }

    ColumnLayout {
        anchors.fill: parent
        visible: root.controller.loaded
        spacing: 8

        RowLayout {
            Layout.fillWidth: true
            Label {
                objectName: "subject"
                text: root.controller.subject.length > 0 ? root.controller.subject : qsTr("(no subject)")
                font.pixelSize: 20
                font.bold: true
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
        }
        Flow {
            objectName: "messageActions"
            spacing: 6
            Layout.fillWidth: true
            Button {
                objectName: "replyButton"
                text: qsTr("Reply")
                onClicked: root.replyRequested()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Reply to the sender (Ctrl+R)")
            }
            Button {
                objectName: "replyAllButton"
                text: qsTr("Reply all")
                onClicked: root.replyAllRequested()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Reply to the sender and every recipient (Ctrl+Shift+R)")
            }
            Button {
                objectName: "forwardButton"
                text: qsTr("Forward")
                onClicked: root.forwardRequested()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Forward with its attachments (Ctrl+L)")
            }
            Button {
                objectName: "markUnreadButton"
                text: qsTr("Mark as unread")
                onClicked: root.markUnreadRequested()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Mark as unread (Ctrl+U)")
            }
            Button {
                objectName: "deleteButton"
                text: qsTr("Delete")
                onClicked: root.removeRequested()
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Delete (Del)")
            }
        }

        GridLayout {
            columns: 2
            columnSpacing: 12
            rowSpacing: 2
            Layout.fillWidth: true

            Label { text: qsTr("From:"); opacity: 0.7 }
            Label {
                objectName: "from"
                text: root.controller.fromName.length > 0
                      ? "%1 <%2>".arg(root.controller.fromName).arg(root.controller.fromAddress)
                      : root.controller.fromAddress
                textFormat: Text.PlainText
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Label { text: qsTr("To:"); opacity: 0.7 }
            Label {
                objectName: "to"
                text: root.controller.to
                textFormat: Text.PlainText
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
            Label { text: qsTr("Cc:"); opacity: 0.7; visible: root.controller.cc.length > 0 }
            Label {
                text: root.controller.cc
                textFormat: Text.PlainText
                visible: root.controller.cc.length > 0
                wrapMode: Text.Wrap
                Layout.fillWidth: true
            }
            Label { text: qsTr("Date:"); opacity: 0.7 }
            Label {
                objectName: "date"
                text: root.controller.date.toLocaleString(Qt.locale(), Locale.LongFormat)
                Layout.fillWidth: true
            }
        }

        Flow {
            objectName: "attachments"
            visible: root.controller.attachments.length > 0
            spacing: 6
            Layout.fillWidth: true
            Label {
                text: qsTr("Attachments:")
                opacity: 0.7
                height: implicitHeight
                topPadding: 6
            }
            Repeater {
                model: root.controller.attachments
                delegate: Button {
                    required property var modelData
                    text: qsTr("%1 (%2)…").arg(modelData.filename.length > 0 ? modelData.filename : qsTr("attachment"))
                                           .arg(root.controller.formatSize(modelData.size))
                    onClicked: {
                        root.savingIndex = modelData.index
                        saveDialog.currentFolder = root.controller.downloadsFolder
                        saveDialog.selectedFile = root.controller.suggestedSaveFile(modelData.index)
                        saveDialog.open()
                    }
                    ToolTip.visible: hovered
                    ToolTip.text: qsTr("Save it to a file (%1)").arg(modelData.contentType)
                }
            }
        }
        ErrorLabel {
            objectName: "attachmentNotice"
            text: root.notice
            color: root.noticeIsError ? "#b3261e" : palette.text
            Layout.fillWidth: true
        }

        Rectangle {
            color: palette.mid
            implicitHeight: 1
            Layout.fillWidth: true
        }
        Label {
            objectName: "textCutNotice"
            visible: root.controller.textCut
            text: qsTr("This text is long: its first %1 characters are shown.")
                .arg(Qt.locale().toString(root.controller.shownTextChars))
            font.italic: true
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }

        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            TextArea {
                id: body
                objectName: "body"
                // Rich text only for the links: the same characters, spacing
                // and wrapping as the plain text (MessageController.richText).
                // A click asks first; nothing opens without the user's yes.
                text: root.controller.richText
                textFormat: TextEdit.RichText
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                font.family: "monospace"
                background: null
                onLinkActivated: (link) => linkDialog.ask(link)
                // hoveredLink follows the mouse only with hover events, which
                // a TextArea takes only where the platform asks for hover effects.
                hoverEnabled: true
                ToolTip.visible: hoveredLink.length > 0
                ToolTip.text: hoveredLink
                ToolTip.delay: 300

                HoverHandler {
                    objectName: "bodyHover"
                    cursorShape: body.hoveredLink.length > 0 ? Qt.PointingHandCursor : Qt.IBeamCursor
                }
            }
        }
    }

    // The whole address, as plain text the user can read and select, before
    // anything opens it: a link's text can say one place and go to another.
    Dialog {
        id: linkDialog
        objectName: "openLinkDialog"

        property string address: ""

        function ask(link) {
            address = link
            open()
        }

        title: qsTr("Open this address?")
        modal: true
        anchors.centerIn: Overlay.overlay
        width: Math.min(560, root.width)
        onAccepted: Qt.openUrlExternally(address)

        contentItem: TextEdit {
            objectName: "linkAddress"
            text: linkDialog.address
            textFormat: TextEdit.PlainText
            readOnly: true
            selectByMouse: true
            wrapMode: TextEdit.WrapAnywhere
            font.family: "monospace"
            color: palette.text
            selectionColor: palette.highlight
            selectedTextColor: palette.highlightedText
        }

        footer: DialogButtonBox {
            Button {
                objectName: "openLinkButton"
                text: qsTr("Open")
                DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole
            }
            Button {
                objectName: "cancelLinkButton"
                text: qsTr("Cancel")
                DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
            }
        }
    }
}
