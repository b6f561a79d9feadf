import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

// Log in, or create an account (REG) and log in. The session words every
// failure: wrong credentials, an unreachable server, an untrusted
// certificate. A certificate seen for the first time or changed is asked
// about in CertificateDialog; this page lists the certificates trusted now.
Pane {
    id: page

    required property Session session
    property bool registering: false
    property string problem: ""

    function submit() {
        if (page.session.busy)
            return
        if (page.registering) {
            page.problem = page.session.registrationProblem(username.text, password.text, confirmation.text)
            if (page.problem.length === 0)
                page.session.registerAccount(username.text, password.text)
        } else {
            page.problem = ""
            page.session.login(username.text, password.text)
        }
    }

    Connections {
        target: page.session
        function onLoggedIn() {
            password.text = ""
            confirmation.text = ""
            page.registering = false
        }
    }

    onVisibleChanged: if (visible) username.forceActiveFocus()

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(400, page.availableWidth - 32)
        spacing: 12

        Label {
            text: qsTr("Mailroom")
            font.pixelSize: 32
            font.bold: true
            Layout.alignment: Qt.AlignHCenter
        }
        Label {
            text: page.registering ? qsTr("Create an account") : qsTr("Log in to your mailbox")
            font.pixelSize: 16
            Layout.alignment: Qt.AlignHCenter
        }

        TextField {
            id: username
            objectName: "username"
            placeholderText: qsTr("User name (alice or alice@project.com)")
            Layout.fillWidth: true
            focus: true
            enabled: !page.session.busy
            onAccepted: password.forceActiveFocus()
        }
        TextField {
            id: password
            objectName: "password"
            placeholderText: qsTr("Password")
            echoMode: TextInput.Password
            Layout.fillWidth: true
            enabled: !page.session.busy
            onAccepted: page.registering ? confirmation.forceActiveFocus() : page.submit()
        }
        TextField {
            id: confirmation
            objectName: "confirmation"
            placeholderText: qsTr("Password again")
            echoMode: TextInput.Password
            visible: page.registering
            Layout.fillWidth: true
            enabled: !page.session.busy
            onAccepted: page.submit()
        }

        ErrorLabel {
            objectName: "loginError"
            text: page.problem.length > 0 ? page.problem : page.session.errorString
            Layout.fillWidth: true
        }

        RowLayout {
            Layout.fillWidth: true
            Button {
                objectName: "switchMode"
                text: page.registering ? qsTr("I have an account") : qsTr("Create an account…")
                flat: true
                enabled: !page.session.busy
                onClicked: {
                    page.registering = !page.registering
                    page.problem = ""
                }
            }
            Item { Layout.fillWidth: true }
            BusyIndicator {
                running: page.session.busy
                visible: running
                Layout.preferredHeight: 32
                Layout.preferredWidth: 32
            }
            Button {
                objectName: "submit"
                text: page.registering ? qsTr("Create account") : qsTr("Log in")
                highlighted: true
                enabled: !page.session.busy && username.text.length > 0 && password.text.length > 0
                onClicked: page.submit()
            }
        }

        // The certificates trusted now (pinned on first use), so that the
        // user can compare them with the administrator's at any time.
        ColumnLayout {
            objectName: "trustedCertificates"
            visible: page.session.trustedCertificates.length > 0
            spacing: 2
            Layout.fillWidth: true
            Label {
                text: qsTr("Trusted certificates (SHA-256):")
                font.pixelSize: 11
                opacity: 0.8
            }
            Repeater {
                model: page.session.trustedCertificates
                delegate: ColumnLayout {
                    id: trusted
                    required property var modelData
                    spacing: 0
                    Label {
                        text: trusted.modelData.server
                        font.pixelSize: 11
                        opacity: 0.8
                    }
                    Label {
                        objectName: "trustedFingerprint " + trusted.modelData.server
                        text: page.session.displayFingerprint(trusted.modelData.fingerprint)
                        font.family: "monospace"
                        font.pixelSize: 11
                        opacity: 0.8
                        wrapMode: Text.NoWrap
                    }
                }
            }
        }
        Label {
            text: qsTr("Servers: SMTP %1, HTTPS %2. %3")
                .arg(page.session.smtpServer).arg(page.session.webServer)
                .arg(page.session.usesCaFile ? qsTr("Certificates are checked against the CA file.")
                                             : qsTr("Certificates are trusted on first use."))
            font.pixelSize: 11
            opacity: 0.7
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
    }
}
