import QtQuick
import QtTest
import Mailroom
import Mailroom.Client

// LoginPage against the real servers: enabling, wording of each failure,
// the busy state, registration.
Item {
    id: root
    width: 800
    height: 600

    Component {
        id: pageComponent
        LoginPage {
            anchors.fill: parent
        }
    }

    TestHelpers {
        id: ui
        testCase: test
    }

    TestCase {
        id: test
        name: "LoginPage"
        when: windowShown

        property var page: null

        function init() {
            page = createTemporaryObject(pageComponent, root, { session: testServers.newSession() })
            verify(page)
        }
        function cleanup() {
            verify(testServers.startWeb(), "the web server did not come back")
            ui.checkNoQmlWarnings()
        }
        function control(name) {
            return ui.find(page, name)
        }

        function test_submitNeedsBothFields() {
            const submit = control("submit")
            compare(submit.enabled, false)
            ui.type(control("username"), "alice")
            compare(submit.enabled, false)
            ui.type(control("password"), "x")
            compare(submit.enabled, true)
            keyClick(Qt.Key_Backspace)
            compare(submit.enabled, false)
            // A click on the disabled button starts nothing.
            mouseClick(submit)
            compare(page.session.busy, false)
            compare(control("loginError").visible, false)
        }

        function test_wrongPassword() {
            const name = testServers.newAccount("wrongpw")
            verify(name.length > 0)
            ui.type(control("username"), name)
            ui.type(control("password"), "not-the-password")
            // Return in the password field submits, as the button does.
            keyClick(Qt.Key_Return)
            compare(page.session.busy, true)
            const error = control("loginError")
            tryCompare(error, "text", "The user name or password is wrong.", ui.timeout)
            verify(error.visible)
            compare(page.session.loggedIn, false)
            compare(page.session.busy, false)
            compare(control("username").enabled, true)
            compare(control("submit").enabled, true)
        }

        function test_busyWhileLoggingIn() {
            const name = testServers.newAccount("busy")
            verify(name.length > 0)
            ui.type(control("username"), name)
            ui.type(control("password"), testServers.password)
            mouseClick(control("submit"))
            compare(page.session.busy, true)
            compare(control("username").enabled, false)
            compare(control("password").enabled, false)
            compare(control("submit").enabled, false)
            compare(control("switchMode").enabled, false)
            tryCompare(page.session, "loggedIn", true, ui.timeout)
            compare(page.session.account, name + "@" + testServers.domain)
            compare(control("loginError").visible, false)
            // The password does not stay in the field once logged in.
            compare(control("password").text, "")
        }

        function test_switchModeShowsConfirmation() {
            const confirmation = control("confirmation")
            const submit = control("submit")
            compare(confirmation.visible, false)
            compare(submit.text, "Log in")
            mouseClick(control("switchMode"))
            compare(confirmation.visible, true)
            compare(page.registering, true)
            compare(submit.text, "Create account")
            mouseClick(control("switchMode"))
            compare(confirmation.visible, false)
            compare(page.registering, false)
        }

        SignalSpy {
            id: stateSpy
            signalName: "stateChanged"
        }

        function test_registerMismatch() {
            stateSpy.clear()
            stateSpy.target = page.session
            mouseClick(control("switchMode"))
            ui.type(control("username"), "mismatch")
            ui.type(control("password"), "first-password")
            ui.type(control("confirmation"), "other-password")
            mouseClick(control("submit"))
            const error = control("loginError")
            compare(error.text, "The two passwords differ.")
            verify(error.visible)
            // Refused here: the session never went busy, no account was made.
            compare(stateSpy.count, 0)
            compare(page.session.busy, false)
            verify(!testServers.accountExists("mismatch"))
            // Switching back to logging in drops the verdict.
            mouseClick(control("switchMode"))
            compare(error.visible, false)
        }

        function test_registerLogsIn() {
            mouseClick(control("switchMode"))
            ui.type(control("username"), "newcomer")
            ui.type(control("password"), "newcomer-password")
            ui.type(control("confirmation"), "newcomer-password")
            // Return in the confirmation field submits.
            keyClick(Qt.Key_Return)
            compare(page.session.busy, true)
            tryCompare(page.session, "loggedIn", true, ui.timeout)
            compare(page.session.account, "newcomer@" + testServers.domain)
            verify(testServers.accountExists("newcomer"))
            compare(control("loginError").visible, false)
            compare(page.registering, false)
            compare(control("confirmation").text, "")
        }

        function test_webServerDown() {
            testServers.stopWeb()
            const name = testServers.newAccount("unreachable")
            ui.type(control("username"), name)
            ui.type(control("password"), testServers.password)
            mouseClick(control("submit"))
            const error = control("loginError")
            tryCompare(error, "text", "Cannot reach the server at " + testServers.webServer + "; is it running?",
                       ui.timeout)
            verify(error.visible)
            compare(page.session.loggedIn, false)
            compare(page.session.busy, false)
            verify(testServers.startWeb())
            // With the server back, the same page logs in.
            mouseClick(control("submit"))
            tryCompare(page.session, "loggedIn", true, ui.timeout)
        }
    }
}
