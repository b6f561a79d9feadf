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
    // What Reply, Reply all, Forward, Mark as unread and Delete act on: the
    // message shown, whatever the list does meanwhile.
    readonly property bool hasOpenMessage: message.loaded

    signal composeRequested()
    signal replyRequested(var messageId)
    signal replyAllRequested(var messageId)
    signal forwardRequested(var messageId)

    padding: 0

    // Out of the login page's fields, onto the list.
    onVisibleChanged: if (visible) list.focusList()

    function focusList() { list.focusList() }

    function showFolder(name) {
        page.folder = name
        selection.clear()
        message.clear()
        list.clearAnchor()
        list.focusList()
    }
    // The user opened the message listed at `row`: show it, mark it seen.
    function open(row) {
        const id = page.currentModel.idAt(row)
        if (id <= 0)
            return
        selection.messageId = id
        list.clearAnchor()
        page.status = "" // the last action's word is done with
        message.load(id)
        page.currentModel.setMessageSeen(id, true)
    }
    function refresh() {
        inboxModel.refresh()
        sentModel.refresh()
    }
    // result: what the compose says was done ("Message sent to 2 recipients.").
    function messageSent(result) {
        page.status = result.length > 0 ? result : qsTr("Message sent.")
        page.refresh()
    }
    function reply() { if (message.loaded) page.replyRequested(message.messageId) }
    function replyAll() { if (message.loaded) page.replyAllRequested(message.messageId) }
    function forward() { if (message.loaded) page.forwardRequested(message.messageId) }
    function markOpenUnread() {
        if (!message.loaded)
            return
        page.currentModel.setMessageSeen(message.messageId, false)
        page.status = qsTr("Marked as unread.")
    }
    function removeOpen() {
        if (!message.loaded)
            return
        const id = message.messageId
        // The keys go on from its neighbours.
        const row = page.currentModel.rowOf(id)
        list.afterId = row >= 0 ? page.currentModel.idAt(row + 1) : 0
        list.beforeId = row >= 0 ? page.currentModel.idAt(row - 1) : 0
        page.currentModel.removeMessage(id)
        selection.clear()
        message.clear()
        page.status = ""
        // The Delete button that had focus is gone with the message.
        list.focusList()
    }
    // The session ended: nothing of it stays for the next account.
    function reset() {
        page.folder = "inbox"
        page.latest = 50
        page.status = ""
        selection.clear()
        message.clear()
        list.clearAnchor()
    }

    InboxModel {
        id: inboxModel
        objectName: "inboxModel"
        session: page.session
        folder: "inbox"
        limit: page.latest
        onMessageRemoved: page.status = qsTr("Message deleted.")
    }
    InboxModel {
        id: sentModel
        objectName: "sentModel"
        session: page.session
        folder: "sent"
        limit: page.latest
        onMessageRemoved: page.status = qsTr("Message deleted.")
    }
    MessageController {
        id: message
        objectName: "messageController"
        session: page.session
    }
    MessageSelection {
        id: selection
        objectName: "messageSelection"
        model: page.currentModel
    }
    Connections {
        target: page.session
        function onLoggedOut() { page.reset() }
        function onPasswordChanged() { page.status = qsTr("Your password was changed.") }
    }
    // New mail shows up without a click.
    Timer {
        interval: 30000
        repeat: true
        running: page.visible && page.session.loggedIn
        onTriggered: inboxModel.refresh()
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
            selectedRow: selection.row
            onLatestEdited: (value) => page.latest = value
            onActivated: (row) => page.open(row)
            onDeleteRequested: page.removeOpen()
        }

        MessageView {
            objectName: "messageView"
            SplitView.fillWidth: true
            SplitView.minimumWidth: 300
            controller: message
            onReplyRequested: page.reply()
            onReplyAllRequested: page.replyAll()
            onForwardRequested: page.forward()
            onMarkUnreadRequested: page.markOpenUnread()
            onRemoveRequested: page.removeOpen()
        }
    }
}
