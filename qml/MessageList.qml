import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

// A folder's messages, newest first: the latest-N selector, refresh, more
// on scroll, unread in bold, an empty state.
Pane {
    id: root

    required property InboxModel model
    property string title
    property int latest: 50
    // The row of the message open, -1 for none: highlighted, and where the
    // arrow keys move on from. The list never opens anything by itself.
    property int selectedRow: -1
    // Where the keys go on from when nothing is open, by entry id (rows
    // move as mail comes and goes): the messages after and before the one
    // just deleted; 0 for none.
    property var afterId: 0
    property var beforeId: 0

    signal latestEdited(int value)
    // The user opened the message at `row`: a click, Enter or a key that moves.
    signal activated(int row)
    // Delete pressed in the list (the window's menu has the same key).
    signal deleteRequested()

    // Keyboard focus on the list: arrows open the next or previous message, Delete deletes.
    function focusList() { view.forceActiveFocus() }

    // Opens `row`, clamped to the list, and keeps it in sight.
    function activate(row) {
        if (view.count === 0)
            return
        row = Math.max(0, Math.min(view.count - 1, row))
        view.positionViewAtIndex(row, ListView.Contain)
        root.activated(row)
    }
    function clearAnchor() {
        root.afterId = 0
        root.beforeId = 0
    }
    // The rows of the messages after and before the one just deleted (-1: none).
    function anchorRows() {
        return {
            after: root.afterId > 0 ? root.model.rowOf(root.afterId) : -1,
            before: root.beforeId > 0 ? root.model.rowOf(root.beforeId) : -1
        }
    }
    // Down opens the message after the deleted one, Up the one before it.
    function step(delta) {
        if (root.selectedRow >= 0)
            return activate(root.selectedRow + delta)
        const rows = anchorRows()
        if (delta > 0 && rows.after >= 0)
            activate(rows.after + delta - 1)
        else if (delta < 0 && rows.before >= 0)
            activate(rows.before + delta + 1)
        else
            activate(anchorRow())
    }
    // Where Enter opens when nothing is open.
    function anchorRow() {
        const rows = anchorRows()
        return rows.after >= 0 ? rows.after : Math.max(rows.before, 0)
    }
    function rowsPerPage() {
        return Math.max(1, Math.floor(view.height / 64))
    }

    padding: 0
    background: Rectangle { color: root.palette.base }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ToolBar {
            Layout.fillWidth: true
            ColumnLayout {
                anchors.fill: parent
                anchors.leftMargin: 8
                anchors.rightMargin: 8
                spacing: 0
                RowLayout {
                    Layout.fillWidth: true
                    Label {
                        text: root.title
                        font.pixelSize: 18
                        font.bold: true
                    }
                    Label {
                        objectName: "unseenCount"
                        text: root.model.unseenCount > 0 ? qsTr("%1 unread").arg(root.model.unseenCount) : ""
                        opacity: 0.7
                    }
                    Item { Layout.fillWidth: true }
                    ToolButton {
                        objectName: "refreshButton"
                        text: qsTr("Refresh")
                        // A toolbar button: the keys stay with the list.
                        focusPolicy: Qt.NoFocus
                        enabled: !root.model.loading
                        onClicked: root.model.refresh()
                        ToolTip.visible: hovered
                        ToolTip.text: qsTr("Refresh (F5)")
                    }
                }
                RowLayout {
                    Layout.fillWidth: true
                    Layout.bottomMargin: 4
                    Label { text: qsTr("Show the latest") }
                    SpinBox {
                        objectName: "latest"
                        from: 1
                        to: 500
                        editable: true
                        value: root.latest
                        onValueModified: root.latestEdited(value)
                        Layout.preferredWidth: 96
                    }
                }
            }
        }

        ErrorLabel {
            objectName: "listError"
            text: root.model.errorString
            Layout.fillWidth: true
            Layout.margins: 8
        }

        ListView {
            id: view
            objectName: "messageListView"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.model
            // Always selectedRow. A view moves its current row by itself when
            // rows come and go, the model resets or another model comes
            // (to the top, when it has none), and opening what it landed on
            // opened, and marked seen, mail nobody asked for: such a move is
            // undone, and nothing opens but what the user opens. The keys
            // are handled below instead of by the view.
            currentIndex: -1
            onCurrentIndexChanged: if (currentIndex !== root.selectedRow) Qt.callLater(view.showSelected)
            function showSelected() {
                if (view.currentIndex !== root.selectedRow)
                    view.currentIndex = root.selectedRow
            }
            Connections {
                target: root
                function onSelectedRowChanged() { view.showSelected() }
            }
            keyNavigationEnabled: false
            highlightFollowsCurrentItem: false
            focus: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}

            Keys.onPressed: (event) => {
                switch (event.key) {
                case Qt.Key_Down: root.step(1); break
                case Qt.Key_Up: root.step(-1); break
                case Qt.Key_PageDown: root.step(root.rowsPerPage()); break
                case Qt.Key_PageUp: root.step(-root.rowsPerPage()); break
                case Qt.Key_Home: root.activate(0); break
                case Qt.Key_End: root.activate(view.count - 1); break
                case Qt.Key_Delete: root.deleteRequested(); break
                case Qt.Key_Return:
                case Qt.Key_Enter:
                    root.activate(root.selectedRow >= 0 ? root.selectedRow : root.anchorRow())
                    break
                default: return
                }
                event.accepted = true
            }

            onAtYEndChanged: {
                if (atYEnd && root.model.hasMore && !root.model.loading)
                    root.model.fetchMore()
            }

            delegate: ItemDelegate {
                id: row

                required property int index
                required property var messageId
                required property string sender
                required property string to
                required property string subject
                required property string dateText
                required property string preview
                required property bool seen

                width: ListView.view.width
                highlighted: ListView.isCurrentItem
                onClicked: {
                    view.forceActiveFocus()
                    root.activated(index)
                }

                contentItem: ColumnLayout {
                    spacing: 2
                    RowLayout {
                        Layout.fillWidth: true
                        Label {
                            text: root.model.folder === "sent" ? qsTr("To: %1").arg(row.to) : row.sender
                            font.bold: !row.seen
                            elide: Text.ElideRight
                            Layout.fillWidth: true
                        }
                        Label {
                            text: row.dateText
                            font.bold: !row.seen
                            opacity: 0.8
                        }
                    }
                    Label {
                        text: row.subject.length > 0 ? row.subject : qsTr("(no subject)")
                        font.bold: !row.seen
                        elide: Text.ElideRight
                        Layout.fillWidth: true
                    }
                    Label {
                        text: row.preview
                        opacity: 0.65
                        elide: Text.ElideRight
                        maximumLineCount: 1
                        Layout.fillWidth: true
                    }
                }
            }

            // More on scroll; and a button, for when the list does not fill the view.
            footer: Item {
                width: ListView.view.width
                height: root.model.loading || root.model.hasMore ? 48 : 0
                BusyIndicator {
                    anchors.centerIn: parent
                    running: root.model.loading
                    visible: running
                }
                Button {
                    objectName: "loadMore"
                    anchors.centerIn: parent
                    visible: root.model.hasMore && !root.model.loading
                    flat: true
                    text: qsTr("Show %1 older").arg(root.model.limit)
                    onClicked: root.model.fetchMore()
                }
            }
        }
    }

    Label {
        objectName: "emptyState"
        anchors.centerIn: parent
        visible: root.model.count === 0 && !root.model.loading && root.model.errorString.length === 0
        horizontalAlignment: Text.AlignHCenter
        text: root.model.folder === "sent" ? qsTr("Nothing sent yet.\nCompose a message with Ctrl+N.")
                                           : qsTr("No messages yet.\nMail sent to you shows up here.")
        opacity: 0.6
    }
}
