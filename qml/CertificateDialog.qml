import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Mailroom.Client

// Trust on first use asks before anything is sent: open whenever the session
// has a certificate question (a server contacted for the first time, or one
// presenting another certificate than the one trusted before), logged in or
// not. The answer names exactly the server and fingerprint shown here.
Dialog {
    id: dialog

    required property Session session
    readonly property bool asking: session.certificateQuestion !== Session.None
    readonly property bool changed: session.certificateQuestion === Session.Changed
    readonly property string server: session.certificateQuestionServer
    readonly property string fingerprint: session.certificateQuestionFingerprint

    title: dialog.changed ? qsTr("The certificate of %1 has changed").arg(dialog.server)
                          : qsTr("Do you trust %1?").arg(dialog.server)
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(560, (parent ? parent.width : 560) - 40)
    closePolicy: Popup.CloseOnEscape

    onAskingChanged: dialog.asking ? dialog.open() : dialog.close()
    Component.onCompleted: if (dialog.asking) dialog.open()
    // Escape is "Don't trust"; a question answered closes the dialog itself.
    onClosed: if (dialog.asking) dialog.session.declineCertificate()

    contentItem: ColumnLayout {
        spacing: 10
        Label {
            objectName: "certificateExplanation"
            text: dialog.changed
                  ? qsTr("The server at %1 presents a different certificate from the one trusted before, so Mailroom "
                         + "sent nothing to it. Someone may be intercepting the connection. Trust the new certificate "
                         + "only if the server's administrator confirms its fingerprint.").arg(dialog.server)
                  : qsTr("Mailroom has not connected to %1 before and has sent nothing to it, not even your password. "
                         + "Compare the fingerprint below with the one the server's administrator gives you; trust "
                         + "it only if they are the same.").arg(dialog.server)
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Label {
            text: dialog.changed ? qsTr("New certificate, SHA-256 fingerprint:") : qsTr("SHA-256 fingerprint:")
            font.bold: true
        }
        Label {
            objectName: "presentedFingerprint"
            text: dialog.session.displayFingerprint(dialog.fingerprint)
            font.family: "monospace"
            wrapMode: Text.NoWrap
        }
        Label {
            visible: dialog.changed
            text: qsTr("Trusted before:")
            font.bold: true
        }
        Label {
            objectName: "pinnedFingerprint"
            visible: dialog.changed
            text: dialog.session.displayFingerprint(dialog.session.certificateQuestionPinnedFingerprint)
            font.family: "monospace"
            wrapMode: Text.NoWrap
        }
        Label {
            text: qsTr("On the server, mailroomctl init prints it, and so does\n"
                       + "openssl x509 -noout -fingerprint -sha256 -in cert.pem")
            font.pixelSize: 11
            opacity: 0.8
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        RowLayout {
            Layout.fillWidth: true
            Item { Layout.fillWidth: true }
            Button {
                objectName: "declineCertificate"
                text: qsTr("Don't trust")
                onClicked: dialog.session.declineCertificate()
            }
            Button {
                objectName: "acceptCertificate"
                text: qsTr("Trust and continue")
                onClicked: dialog.session.acceptCertificate(dialog.server, dialog.fingerprint)
            }
        }
    }
}
