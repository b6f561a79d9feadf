import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

// The logged-in window: folders on the left, the folder's messages, the
// message open on the right.
Pane {
    id: page

    required property Session session
    property bool composeOpen: false
    property string folder: "inbox"
    readonly property InboxModel currentModel: folder === "sent" ? sentModel : inboxModel
    property int latest: 50
    property string status: ""

    signal composeRequested()
    signal replyRequested(var messageId)

    padding: 0

    // Out of the login page's fields, onto the list.
    onVisibleChanged: if (visible) list.focusList()

    function focusList() { list.focusList() }

    function showFolder(name) {
        page.folder = name
        list.currentIndex = -1
        message.clear()
        list.focusList()
    }
    function refresh() {
        inboxModel.refresh()
        sentModel.refresh()
    }
    function messageSent() {
        page.status = qsTr("Message sent.")
        page.refresh()
    }
    function removeCurrent() {
        if (list.currentIndex < 0)
            return
        const row = list.currentIndex
        page.currentModel.remove(row)
        message.clear()
        page.status = qsTr("Message deleted.")
    }

    InboxModel {
        id: inboxModel
        objectName: "inboxModel"
        session: page.session
        folder: "inbox"
        limit: page.latest
    }
    InboxModel {
        id: sentModel
        objectName: "sentModel"
        session: page.session
        folder: "sent"
        limit: page.latest
    }
    MessageController {
        id: message
        objectName: "messageController"
        session: page.session
    }
    // New mail shows up without a click.
    Timer {
        interval: 30000
        repeat: true
        running: page.visible && page.session.loggedIn
        onTriggered: inboxModel.refresh()
    }
    Shortcut {
        sequence: StandardKey.Delete
        enabled: page.visible && !page.composeOpen && message.loaded
        onActivated: page.removeCurrent()
    }

    SplitView {
        anchors.fill: parent
        orientation: Qt.Horizontal

        Pane {
            SplitView.preferredWidth: page.width < 1000 ? 150 : 190
            SplitView.minimumWidth: 130
            ColumnLayout {
                anchors.fill: parent
                spacing: 6
                Button {
                    objectName: "composeButton"
                    text: qsTr("Compose")
                    highlighted: true
                    Layout.fillWidth: true
                    onClicked: page.composeRequested()
                }
                ItemDelegate {
                    objectName: "inboxFolder"
                    text: inboxModel.unseenCount > 0 ? qsTr("Inbox (%1)").arg(inboxModel.unseenCount) : qsTr("Inbox")
                    font.bold: inboxModel.unseenCount > 0
                    highlighted: page.folder === "inbox"
                    Layout.fillWidth: true
                    onClicked: page.showFolder("inbox")
                }
                ItemDelegate {
                    objectName: "sentFolder"
                    text: qsTr("Sent")
                    highlighted: page.folder === "sent"
                    Layout.fillWidth: true
                    onClicked: page.showFolder("sent")
                }
                Item { Layout.fillHeight: true }
                Label {
                    text: page.session.account
                    elide: Text.ElideMiddle
                    opacity: 0.7
                    Layout.fillWidth: true
                }
                Label {
                    objectName: "status"
                    text: page.status
                    visible: text.length > 0
                    wrapMode: Text.Wrap
                    opacity: 0.8
                    Layout.fillWidth: true
                }
            }
        }

        MessageList {
            id: list
            objectName: "messageList"
            SplitView.preferredWidth: Math.max(270, Math.round(page.width * 0.34))
            SplitView.minimumWidth: 240
            model: page.currentModel
            title: page.folder === "sent" ? qsTr("Sent") : qsTr("Inbox")
            latest: page.latest
            onLatestEdited: (value) => page.latest = value
            onOpened: (row, messageId) => {
                message.load(messageId)
                page.currentModel.markSeen(row)
            }
        }

        MessageView {
            objectName: "messageView"
            SplitView.fillWidth: true
            SplitView.minimumWidth: 300
            controller: message
            onReplyRequested: page.replyRequested(message.messageId)
            onRemoveRequested: page.removeCurrent()
        }
    }
}
