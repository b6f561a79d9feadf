import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Mailroom.Client

// One message: its headers, the text (selectable), the attachments (saved
// to a file), Reply and Delete.
Pane {
    id: root

    required property MessageController controller
    property int savingIndex: -1
    property string notice: ""

    signal replyRequested()
    signal removeRequested()

    Connections {
        target: root.controller
        function onAttachmentSaved(path) { root.notice = qsTr("Saved to %1").arg(path) }
        function onAttachmentSaveFailed(message) { root.notice = message }
        function onLoadedChanged() { root.notice = "" }
    }

    FileDialog {
        id: saveDialog
        fileMode: FileDialog.SaveFile
        title: qsTr("Save attachment")
        onAccepted: root.controller.saveAttachment(root.savingIndex, selectedFile)
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
            Button {
                objectName: "replyButton"
                text: qsTr("Reply")
                onClicked: root.replyRequested()
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
                                           .arg(Qt.locale().formattedDataSize(modelData.size))
                    onClicked: {
                        root.savingIndex = modelData.index
                        saveDialog.currentFile = "file:" + (modelData.filename.length > 0 ? modelData.filename : "attachment")
                        saveDialog.open()
                    }
                    ToolTip.visible: hovered
                    ToolTip.text: qsTr("Save %1 to a file").arg(modelData.contentType)
                }
            }
        }
        ErrorLabel {
            text: root.notice
            color: root.notice.startsWith(qsTr("Saved")) ? palette.text : "#b3261e"
            Layout.fillWidth: true
        }

        Rectangle {
            color: palette.mid
            implicitHeight: 1
            Layout.fillWidth: true
        }

        ScrollView {
            Layout.fillWidth: true
            Layout.fillHeight: true
            TextArea {
                objectName: "body"
                text: root.controller.text
                textFormat: TextEdit.PlainText
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                font.family: "monospace"
                background: null
            }
        }
    }
}
