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
    title: session.loggedIn ? qsTr("Mailroom — %1").arg(session.account) : qsTr("Mailroom")

    menuBar: MenuBar {
        Menu {
            title: qsTr("&Mailbox")
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
                shortcut: StandardKey.Quit
                onTriggered: Qt.quit()
            }
        }
        Menu {
            title: qsTr("&Help")
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
    }

    ComposeDialog {
        id: compose
        objectName: "composeDialog"
        session: window.session
        onMessageSent: mailbox.messageSent()
        onClosed: mailbox.focusList()
    }

    ChangePasswordDialog {
        id: changePassword
        objectName: "changePasswordDialog"
        session: window.session
    }

    AboutDialog {
        id: about
        version: window.version
        sourceUrl: window.sourceUrl
        docsUrl: window.docsUrl
    }
}
