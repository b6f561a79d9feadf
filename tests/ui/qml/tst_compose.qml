import QtQuick
import QtQuick.Dialogs
import QtTest
import Mailroom
import Mailroom.Client

// ComposeDialog over a logged-in session: recipient validation as the user
// types (To, Cc, Bcc), when Send is possible, sending by click and by
// Ctrl+Return, the server's refusal, attachments (added, dropped, removed,
// name and size shown), closing and the question before a changed message
// is thrown away, and the dialog at the smallest window size.
Item {
    id: root
    width: 1000
    height: 700

    // The main window's smallest size.
    Item {
        id: small
        width: 800
        height: 600
    }

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
    SignalSpy {
        id: closedSpy
        signalName: "closed"
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
            closedSpy.clear()
            closedSpy.target = dialog
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
        // Row `index` of the attachment list, once the view has made it.
        function row(list, index) {
            tryVerify(() => findChild(list, "attachment_" + index) !== null, ui.timeout, "no attachment row " + index)
            return ui.find(list, "attachment_" + index)
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

        // Nothing written: Escape closes at once, no question.
        function test_escapeUnchangedCloses() {
            compare(dialog.controller.modified, false)
            keyClick(Qt.Key_Escape)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(control("discardQuestion").visible, false)
            compare(sentSpy.count, 0)
        }

        // Defect 6: Escape on a message being written asks first; "Keep
        // writing" keeps every character, "Discard" closes.
        function test_escapeChangedAsks() {
            const question = control("discardQuestion")
            ui.type(control("to"), recipient)
            ui.type(control("body"), "Half a thought")
            verify(dialog.controller.modified)
            keyClick(Qt.Key_Escape)
            tryCompare(question, "opened", true, ui.timeout)
            verify(dialog.visible)
            mouseClick(control("keepWritingButton"))
            tryCompare(question, "visible", false, ui.timeout)
            verify(dialog.opened)
            compare(closedSpy.count, 0)
            compare(control("body").text, "Half a thought")
            compare(control("to").text, recipient)
            // The cursor is back where it was: typing goes on.
            verify(control("body").activeFocus)
            keyClick("!")
            compare(dialog.controller.body, "Half a thought!")

            keyClick(Qt.Key_Escape)
            tryCompare(question, "opened", true, ui.timeout)
            // Escape in the question means "keep writing".
            keyClick(Qt.Key_Escape)
            tryCompare(question, "visible", false, ui.timeout)
            verify(dialog.visible)

            keyClick(Qt.Key_Escape)
            tryCompare(question, "opened", true, ui.timeout)
            mouseClick(control("discardButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(question.visible, false)
            compare(sentSpy.count, 0)
            // Opened again, it starts empty.
            dialog.openNew()
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(control("to").text, "")
            compare(control("body").text, "")
            compare(dialog.controller.modified, false)
        }

        // Cancel goes the same way; text typed and then taken back is no change.
        function test_cancelAsksOnlyWhenChanged() {
            const question = control("discardQuestion")
            ui.type(control("subject"), "x")
            mouseClick(control("cancelButton"))
            tryCompare(question, "opened", true, ui.timeout)
            mouseClick(control("keepWritingButton"))
            tryCompare(question, "visible", false, ui.timeout)
            compare(control("subject").text, "x")
            ui.retype(control("subject"), "")
            compare(dialog.controller.modified, false)
            mouseClick(control("cancelButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(question.visible, false)
        }

        function test_ccAndBcc() {
            const send = control("send")
            ui.type(control("cc"), recipient)
            compare(dialog.controller.cc, recipient)
            // Cc alone is a recipient.
            compare(send.enabled, true)
            ui.type(control("bcc"), "x@@y")
            compare(dialog.controller.bcc, "x@@y")
            verify(control("bccError").visible)
            verify(control("bccError").text.indexOf("x@@y") >= 0)
            compare(send.enabled, false)
            ui.retype(control("bcc"), recipient)
            compare(control("bccError").visible, false)
            compare(send.enabled, true)
            ui.retype(control("cc"), "a b@c")
            verify(control("ccError").visible)
            compare(send.enabled, false)
            ui.retype(control("cc"), "")
            compare(control("ccError").visible, false)
            compare(send.enabled, true) // Bcc alone
            compare(dialog.controller.recipients.length, 1)
            mouseClick(send)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 1)
            compare(sentSpy.signalArguments[0][0], "Message sent to 1 recipient.")
        }

        function test_attachmentsShownAndRemoved() {
            compare(control("attachmentList").visible, false)
            compare(control("attachmentsSummary").text, "or drop files here")
            verify(dialog.controller.addAttachments([testServers.makeFile("report.pdf", 1536)]))
            verify(dialog.controller.addAttachments([testServers.makeFile("Größe.bin", 3 * 1024 * 1024)]))
            verify(dialog.controller.modified)
            const list = control("attachmentList")
            tryCompare(list, "count", 2)
            verify(list.visible)
            const first = row(list, 0)
            compare(ui.find(first, "attachmentName").text, "report.pdf")
            compare(ui.find(first, "attachmentSize").text, "1.5 KB")
            const second = row(list, 1)
            compare(ui.find(second, "attachmentName").text, "Größe.bin")
            compare(ui.find(second, "attachmentSize").text, "3 MB")
            compare(control("attachmentsSummary").text, "2 files, 3 MB")

            mouseClick(ui.find(first, "removeAttachment"))
            tryCompare(list, "count", 1)
            compare(dialog.controller.attachments.length, 1)
            compare(dialog.controller.attachments[0].name, "Größe.bin")
            compare(ui.find(row(list, 0), "attachmentName").text, "Größe.bin")
            compare(control("attachmentsSummary").text, "1 file, 3 MB")
            mouseClick(ui.find(row(list, 0), "removeAttachment"))
            tryCompare(list, "count", 0)
            compare(list.visible, false)
            compare(dialog.controller.modified, false)
        }

        // A file dropped on the dialog is attached; an attachment alone is a change to ask about.
        function test_dropAttaches() {
            const url = testServers.makeFile("dropped.txt", 10)
            verify(testServers.dropUrls(control("body"), [url]))
            tryCompare(control("attachmentList"), "count", 1)
            compare(dialog.controller.attachments[0].name, "dropped.txt")
            compare(dialog.controller.attachments[0].size, 10)
            keyClick(Qt.Key_Escape)
            tryCompare(control("discardQuestion"), "opened", true, ui.timeout)
            mouseClick(control("discardButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
        }

        function test_attachButtonOpensFileDialog() {
            const files = control("attachFileDialog")
            compare(files.fileMode, FileDialog.OpenFiles)
            mouseClick(control("attachButton"))
            tryCompare(files, "visible", true, ui.timeout)
            files.reject()
            tryCompare(files, "visible", false, ui.timeout)
            compare(dialog.controller.attachments.length, 0)
        }

        // A file is sent with the message: the progress bar shows while it goes, then the result.
        function test_sendWithAttachment() {
            verify(dialog.controller.addAttachments([testServers.makeFile("data.bin", 300000)]))
            ui.type(control("to"), recipient)
            ui.type(control("subject"), "With a file")
            const progress = control("sendProgress")
            compare(progress.visible, false)
            mouseClick(control("send"))
            verify(progress.visible)
            compare(control("attachButton").enabled, false)
            compare(ui.find(row(control("attachmentList"), 0), "removeAttachment").enabled, false)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(sentSpy.count, 1)
            compare(sentSpy.signalArguments[0][0], "Message sent to 1 recipient.")
            compare(dialog.controller.progress, 1)
        }
    }

    // At the main window's smallest size (800x600) every control of the
    // dialog is inside it and usable, with three attachments listed.
    TestHelpers {
        id: smallUi
        testCase: smallTest
    }

    TestCase {
        id: smallTest
        name: "ComposeDialogSmall"
        when: windowShown

        property var dialog: null

        function init() {
            dialog = createTemporaryObject(dialogComponent, small, { session: test.session })
            verify(dialog)
        }
        function cleanup() {
            smallUi.checkNoQmlWarnings()
        }

        function test_fits() {
            dialog.openNew()
            tryCompare(dialog, "opened", true, smallUi.timeout)
            compare(dialog.width, 760)
            compare(dialog.height, 560)
            for (let i = 0; i < 3; ++i)
                verify(dialog.controller.addAttachments([testServers.makeFile("file-" + i + ".txt", 100 * (i + 1))]))
            dialog.controller.cc = "someone-with-a-wrong@@address"
            // The layout settles at the next polish.
            const list = smallUi.find(dialog, "attachmentList")
            tryVerify(() => list.height > 0 && findChild(list, "attachment_2") !== null, smallUi.timeout)
            const frame = dialog.contentItem.parent
            const box = frame.mapToItem(null, 0, 0)
            for (const name of ["to", "cc", "ccError", "bcc", "subject", "attachButton", "attachmentList", "body",
                                "cancelButton", "send"]) {
                const item = smallUi.find(dialog, name)
                verify(item.visible, name + " is hidden")
                verify(item.width > 0 && item.height > 0, name + " has no size")
                const at = item.mapToItem(null, 0, 0)
                verify(at.x >= box.x && at.y >= box.y && at.x + item.width <= box.x + frame.width
                       && at.y + item.height <= box.y + frame.height,
                       name + " is outside the dialog: " + at.x + "," + at.y + " " + item.width + "x" + item.height)
            }
            verify(smallUi.find(dialog, "body").height >= 60, "no room to write")
            // Three attachments show whole: the list need not scroll.
            const last = smallUi.find(list, "attachment_2")
            verify(last.mapToItem(list, 0, 0).y + last.height <= list.height)
            dialog.controller.clear()
            dialog.close()
            tryCompare(dialog, "visible", false, smallUi.timeout)
        }
    }
}
