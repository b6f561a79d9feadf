import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

ApplicationWindow {
    id: window

    required property Session session
    // Set by the application: where the source and the documents are.
    property url sourceUrl
    property url docsUrl
    property string version

    width: 1280
    height: 800
    minimumWidth: 800
    minimumHeight: 600
    visible: true
    // A message being written is not closed away without asking; once the
    // user discards it, the window closes as asked.
    property bool closeAfterCompose: false
    onClosing: (close) => {
        if (compose.visible && !compose.requestClose()) {
            close.accepted = false
            window.closeAfterCompose = true
        }
    }
    // The platform adds the application's name ("… — Mailroom") itself.
    title: session.loggedIn ? session.account : ""

    // The session ended (log out, or the server ended it): close what it
    // had open; the pages clear themselves.
    Connections {
        target: window.session
        function onLoggedOut() {
            compose.discard()
            changePassword.close()
        }
    }

    menuBar: MenuBar {
        Menu {
            title: qsTr("&Mailbox")
            delegate: ShortcutMenuItem {}
            Action {
                text: qsTr("&Inbox")
                shortcut: "Ctrl+1"
                enabled: window.session.loggedIn
                onTriggered: mailbox.showFolder("inbox")
            }
            Action {
                text: qsTr("&Sent")
                shortcut: "Ctrl+2"
                enabled: window.session.loggedIn
                onTriggered: mailbox.showFolder("sent")
            }
            MenuSeparator {}
            Action {
                text: qsTr("&Compose…")
                shortcut: StandardKey.New
                enabled: window.session.loggedIn
                onTriggered: compose.openNew()
            }
            Action {
                text: qsTr("&Refresh")
                shortcut: "F5"
                enabled: window.session.loggedIn
                onTriggered: mailbox.refresh()
            }
            MenuSeparator {}
            Action {
                text: qsTr("Change &password…")
                enabled: window.session.loggedIn
                onTriggered: changePassword.open()
            }
            Action {
                text: qsTr("&Log out")
                enabled: window.session.loggedIn
                onTriggered: window.session.logout()
            }
            MenuSeparator {}
            Action {
                text: qsTr("&Quit")
                shortcut: "Ctrl+Q"
                onTriggered: Qt.quit()
            }
        }
        Menu {
            id: messageMenu
            objectName: "messageMenu"
            title: qsTr("M&essage")
            delegate: ShortcutMenuItem {}
            // The open message's actions; none while a dialog is up.
            readonly property bool available: window.session.loggedIn && mailbox.hasOpenMessage && !compose.visible
            Action {
                objectName: "replyAction"
                text: qsTr("&Reply")
                shortcut: "Ctrl+R"
                enabled: messageMenu.available
                onTriggered: mailbox.reply()
            }
            Action {
                objectName: "replyAllAction"
                text: qsTr("Reply &all")
                shortcut: "Ctrl+Shift+R"
                enabled: messageMenu.available
                onTriggered: mailbox.replyAll()
            }
            Action {
                objectName: "forwardAction"
                text: qsTr("&Forward")
                shortcut: "Ctrl+L"
                enabled: messageMenu.available
                onTriggered: mailbox.forward()
            }
            MenuSeparator {}
            Action {
                objectName: "markUnreadAction"
                text: qsTr("Mark as &unread")
                shortcut: "Ctrl+U"
                enabled: messageMenu.available
                onTriggered: mailbox.markOpenUnread()
            }
            Action {
                objectName: "deleteAction"
                text: qsTr("&Delete")
                shortcut: "Del"
                enabled: messageMenu.available
                onTriggered: mailbox.removeOpen()
            }
        }
        Menu {
            title: qsTr("&Help")
            delegate: ShortcutMenuItem {}
            Action {
                text: qsTr("&About Mailroom")
                onTriggered: about.open()
            }
        }
    }

    LoginPage {
        id: login
        objectName: "loginPage"
        anchors.fill: parent
        visible: !window.session.loggedIn
        session: window.session
    }

    MailboxPage {
        id: mailbox
        objectName: "mailboxPage"
        anchors.fill: parent
        visible: window.session.loggedIn
        session: window.session
        composeOpen: compose.visible
        onComposeRequested: compose.openNew()
        onReplyRequested: (messageId) => compose.openReply(messageId)
        onReplyAllRequested: (messageId) => compose.openReplyAll(messageId)
        onForwardRequested: (messageId) => compose.openForward(messageId)
    }

    ComposeDialog {
        id: compose
        objectName: "composeDialog"
        session: window.session
        onMessageSent: (result) => mailbox.messageSent(result)
        onDiscardAnswered: (discarded) => {
            const closeWindow = window.closeAfterCompose && discarded
            window.closeAfterCompose = false
            if (closeWindow)
                window.close()
        }
        onClosed: mailbox.focusList()
    }

    ChangePasswordDialog {
        id: changePassword
        objectName: "changePasswordDialog"
        session: window.session
    }

    // Trust on first use asks here, whichever page is showing.
    CertificateDialog {
        objectName: "certificateDialog"
        session: window.session
    }

    AboutDialog {
        id: about
        version: window.version
        sourceUrl: window.sourceUrl
        docsUrl: window.docsUrl
    }
}
