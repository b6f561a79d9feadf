import QtQuick
import QtTest
import Mailroom
import Mailroom.Client

// ChangePasswordDialog over a logged-in session of an account of its own
// in each test: the confirmation, a wrong current password, success.
Item {
    id: root
    width: 800
    height: 600

    Component {
        id: dialogComponent
        ChangePasswordDialog {}
    }

    TestHelpers {
        id: ui
        testCase: test
    }

    TestCase {
        id: test
        name: "ChangePasswordDialog"
        when: windowShown

        property string account: ""
        property var dialog: null

        function init() {
            account = testServers.newAccount("changer")
            verify(account.length > 0)
            dialog = createTemporaryObject(dialogComponent, root, { session: ui.loggedInSession(account) })
            verify(dialog)
            dialog.open()
            tryCompare(dialog, "opened", true, ui.timeout)
            verify(control("currentPassword").activeFocus)
        }
        function cleanup() {
            ui.checkNoQmlWarnings()
        }
        function control(name) {
            return ui.find(dialog, name)
        }
        function fill(current, replacement, confirmation) {
            ui.type(control("currentPassword"), current)
            ui.type(control("newPassword"), replacement)
            ui.type(control("confirmPassword"), confirmation)
        }

        function test_buttonNeedsCurrentAndNew() {
            const change = control("changePassword")
            compare(change.enabled, false)
            ui.type(control("currentPassword"), "x")
            compare(change.enabled, false)
            ui.type(control("newPassword"), "y")
            compare(change.enabled, true)
        }

        function test_mismatch() {
            fill(testServers.password, "new-password-1", "new-password-2")
            mouseClick(control("changePassword"))
            const error = control("passwordError")
            compare(error.text, "The two passwords differ.")
            verify(error.visible)
            verify(dialog.opened)
            compare(dialog.waiting, false)
        }

        function test_wrongCurrent() {
            fill("not-the-password", "new-password-1", "new-password-1")
            // Return in the confirmation field submits.
            keyClick(Qt.Key_Return)
            const error = control("passwordError")
            tryCompare(error, "text", "The current password is wrong.", ui.timeout)
            verify(error.visible)
            verify(dialog.opened)
            compare(control("changePassword").enabled, true)
            // The account still has its old password.
            ui.loggedInSession(account)
        }

        function test_success() {
            fill(testServers.password, "brand-new-password", "brand-new-password")
            mouseClick(control("changePassword"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(control("passwordError").visible, false)
            compare(dialog.session.errorString, "")
            // The server took it: a new login needs the new password.
            const session = testServers.newSession()
            session.login(account, "brand-new-password")
            tryCompare(session, "loggedIn", true, ui.timeout)
            // Opened again, the dialog starts empty.
            dialog.open()
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(control("currentPassword").text, "")
            compare(control("newPassword").text, "")
            compare(control("confirmPassword").text, "")
            compare(control("passwordError").visible, false)
        }
    }
}
