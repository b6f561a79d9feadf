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
    property alias currentIndex: view.currentIndex

    signal latestEdited(int value)
    signal opened(int row, var messageId)

    // Keyboard focus on the list: arrows move, Delete deletes.
    function focusList() { view.forceActiveFocus() }

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
            currentIndex: -1
            keyNavigationEnabled: true
            focus: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}

            onAtYEndChanged: {
                if (atYEnd && root.model.hasMore && !root.model.loading)
                    root.model.fetchMore()
            }
            // Rows inserted above move the current index; only a different message is opened anew.
            property var openedId
            onCurrentIndexChanged: {
                if (currentIndex < 0 || !currentItem || currentItem.messageId === openedId)
                    return
                openedId = currentItem.messageId
                root.opened(currentIndex, currentItem.messageId)
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
                    view.currentIndex = index
                    view.forceActiveFocus()
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
