import QtQuick
import QtTest
import Mailroom
import Mailroom.Client

// LoginPage against the real servers: enabling, wording of each failure,
// the busy state, registration; with CertificateDialog, trust on first use
// asking before anything is sent, and a changed certificate.
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

    Component {
        id: dialogComponent
        CertificateDialog {}
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
        property var dialog: null
        property var initialSession: null
        property var otherSession: null

        function init() {
            initialSession = testServers.newSession()
            page = createTemporaryObject(pageComponent, root, { session: initialSession })
            verify(page)
            dialog = createTemporaryObject(dialogComponent, root, { session: initialSession })
            verify(dialog)
        }
        // The page and the dialog on another session, ended in cleanup().
        function useSession(session) {
            page.session = session
            dialog.session = session
            otherSession = session
        }
        function cleanup() {
            verify(testServers.startWeb(), "the web server did not come back")
            if (otherSession !== null) {
                // Its connections close: the web server counts them per address over the whole run.
                page.session = initialSession
                dialog.session = initialSession
                testServers.endSession(otherSession)
                otherSession = null
            }
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

        function submitLogin(name) {
            ui.type(control("username"), name)
            ui.type(control("password"), testServers.password)
            mouseClick(control("submit"))
        }

        function test_firstLoginAsksBeforeSending() {
            const session = testServers.newUnpinnedSession()
            useSession(session)
            const name = testServers.newAccount("firstcontact")
            verify(name.length > 0)
            submitLogin(name)
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(session.loggedIn, false)
            compare(session.certificateQuestion, Session.FirstContact)
            verify(ui.find(dialog, "certificateExplanation").text.indexOf(testServers.webServer) >= 0)
            // The fingerprint in 4 lines of 8 whole bytes.
            const fingerprint = testServers.certificateFingerprint()
            const shown = ui.find(dialog, "presentedFingerprint").text
            const lines = shown.split("\n")
            compare(lines.length, 4)
            for (let i = 0; i < lines.length; ++i)
                verify(/^([0-9A-F]{2}:){7}[0-9A-F]{2}$/.test(lines[i]), lines[i])
            compare(lines.join(":"), fingerprint)
            compare(ui.find(dialog, "pinnedFingerprint").visible, false)
            compare(testServers.pinnedFingerprint(session, testServers.webServer), "")
            compare(testServers.pinnedFingerprint(session, testServers.smtpServer), "")

            // Don't trust: nothing pinned, still logged out, and why.
            mouseClick(ui.find(dialog, "declineCertificate"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(session.certificateQuestion, Session.None)
            compare(session.loggedIn, false)
            compare(testServers.pinnedFingerprint(session, testServers.webServer), "")
            compare(testServers.pinnedFingerprint(session, testServers.smtpServer), "")
            compare(control("loginError").text,
                    "Not connected: you did not trust the certificate of the server at " + testServers.webServer + ".")
            compare(control("trustedCertificates").visible, false)

            // Log in again: asked again; trusting goes on with the password given, no second Log in.
            mouseClick(control("submit"))
            tryCompare(dialog, "opened", true, ui.timeout)
            mouseClick(ui.find(dialog, "acceptCertificate"))
            tryCompare(session, "loggedIn", true, ui.timeout)
            compare(session.account, name + "@" + testServers.domain)
            compare(dialog.visible, false)
            compare(testServers.pinnedFingerprint(session, testServers.webServer), fingerprint)
            verify(control("trustedCertificates").visible)
            compare(control("trustedFingerprint " + testServers.webServer).text, shown)
        }

        function test_changedCertificateShowsOldAndNew() {
            const old = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                      + "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
            const current = testServers.certificateFingerprint()
            const session = testServers.newSessionWithWebPin(old)
            useSession(session)
            const pinLabel = "trustedFingerprint " + testServers.webServer
            compare(control(pinLabel).text, session.displayFingerprint(old))

            submitLogin(testServers.newAccount("changed"))
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(session.certificateQuestion, Session.Changed)
            compare(session.loggedIn, false)
            compare(ui.find(dialog, "presentedFingerprint").text, session.displayFingerprint(current))
            const pinned = ui.find(dialog, "pinnedFingerprint")
            verify(pinned.visible)
            compare(pinned.text, session.displayFingerprint(old))
            compare(testServers.pinnedFingerprint(session, testServers.webServer), old)

            mouseClick(ui.find(dialog, "acceptCertificate"))
            tryCompare(session, "loggedIn", true, ui.timeout)
            compare(testServers.pinnedFingerprint(session, testServers.webServer), current)
            // The login page shows the certificate trusted now, not the one before.
            tryVerify(function() {
                const label = findChild(page, pinLabel)
                return label !== null && label.text === session.displayFingerprint(current)
            }, ui.timeout)
        }
    }
}
