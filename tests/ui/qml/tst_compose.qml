import QtQuick
import QtTest
import Mailroom
import Mailroom.Client

// ComposeDialog over a logged-in session: recipient validation as the user
// types, when Send is possible, sending by click and by Ctrl+Return, the
// server's refusal, closing.
Item {
    id: root
    width: 1000
    height: 700

    Component {
        id: dialogComponent
        ComposeDialog {}
    }

    TestHelpers {
        id: ui
        testCase: test
    }

    SignalSpy {
        id: sentSpy
        signalName: "messageSent"
    }

    TestCase {
        id: test
        name: "ComposeDialog"
        when: windowShown

        property Session session: null
        property string recipient: ""
        property var dialog: null

        function initTestCase() {
            const sender = testServers.newAccount("composer")
            recipient = testServers.newAccount("reader")
            verify(sender.length > 0 && recipient.length > 0)
            session = ui.loggedInSession(sender)
        }
        function init() {
            dialog = createTemporaryObject(dialogComponent, root, { session: session })
            verify(dialog)
            sentSpy.clear()
            sentSpy.target = dialog
            dialog.openNew()
            tryCompare(dialog, "opened", true, ui.timeout)
            // openNew() puts the cursor in To.
            verify(control("to").activeFocus)
        }
        function cleanup() {
            ui.checkNoQmlWarnings()
        }
        function control(name) {
            return ui.find(dialog, name)
        }

        function test_recipientsError() {
            const error = control("recipientsError")
            compare(error.visible, false)
            ui.type(control("to"), "bob@@x")
            compare(dialog.controller.to, "bob@@x")
            verify(error.visible)
            verify(error.text.length > 0)
            compare(control("send").enabled, false)
            ui.retype(control("to"), recipient)
            compare(error.visible, false)
            compare(error.text, "")
            compare(control("send").enabled, true)
        }

        function test_sendEnabling() {
            const send = control("send")
            compare(control("to").text, "")
            compare(send.enabled, false)
            ui.type(control("to"), "a b@c")
            compare(send.enabled, false)
            ui.retype(control("to"), recipient)
            compare(send.enabled, true)
            ui.retype(control("to"), "")
            compare(send.enabled, false)
            ui.type(control("to"), recipient)
            ui.type(control("subject"), "Click")
            ui.type(control("body"), "Sent with the button.")
            mouseClick(send)
            // Sending: nothing to click or edit, Escape does not close it.
            compare(dialog.controller.busy, true)
            compare(send.enabled, false)
            compare(control("to").enabled, false)
            compare(control("body").enabled, false)
            compare(control("composeStatus").text, "Sending…")
            keyClick(Qt.Key_Escape)
            verify(dialog.visible)
            compare(sentSpy.count, 0)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 1)
            compare(dialog.controller.errorString, "")
        }

        function test_ctrlReturnSends() {
            // Not while the recipients are wrong.
            ui.type(control("to"), "bob@@x")
            keyClick(Qt.Key_Return, Qt.ControlModifier)
            compare(dialog.controller.busy, false)
            ui.retype(control("to"), recipient)
            ui.type(control("subject"), "Keyboard")
            keyClick(Qt.Key_Return, Qt.ControlModifier)
            compare(dialog.controller.busy, true)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 1)
        }

        function test_unknownRecipient() {
            ui.type(control("to"), "nosuchuser")
            ui.type(control("subject"), "Lost")
            mouseClick(control("send"))
            const error = control("composeError")
            tryVerify(() => error.visible, ui.timeout, "no error shown")
            compare(error.text, "There is no account nosuchuser@" + testServers.domain + ".")
            // The dialog stays, with what was typed, ready to correct and retry.
            verify(dialog.opened)
            compare(sentSpy.count, 0)
            compare(control("to").text, "nosuchuser")
            compare(control("subject").text, "Lost")
            compare(control("to").enabled, true)
            compare(control("send").enabled, true)
            ui.retype(control("to"), recipient)
            mouseClick(control("send"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 1)
        }

        function test_escapeCloses() {
            ui.type(control("to"), recipient)
            keyClick(Qt.Key_Escape)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 0)
            // Opened again, it starts empty.
            dialog.openNew()
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(control("to").text, "")
        }
    }
}
