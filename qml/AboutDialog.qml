import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Dialog {
    id: dialog

    property string version
    property url sourceUrl
    property url docsUrl

    title: qsTr("About Mailroom")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(460, (parent ? parent.width : 460) - 40)
    standardButtons: Dialog.Close

    contentItem: ColumnLayout {
        spacing: 10
        Label {
            text: qsTr("Mailroom %1").arg(dialog.version)
            font.pixelSize: 20
            font.bold: true
        }
        Label {
            text: qsTr("A secure, self-hosted mail system: an ESMTP server, an HTTPS inbox server, "
                       + "a POP3 server and this desktop client, written in C++ with Qt %1.").arg("6")
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Label {
            objectName: "links"
            text: qsTr("<a href=\"%1\">Source code</a> · <a href=\"%2\">Documentation</a>")
                .arg(dialog.sourceUrl).arg(dialog.docsUrl)
            textFormat: Text.StyledText
            onLinkActivated: (link) => Qt.openUrlExternally(link)
        }
    }
}
