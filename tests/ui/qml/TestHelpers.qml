import QtQuick
import QtTest
import Mailroom.Client

// What every page test does: find a control by objectName, type into it
// with key events as a user does, log a session in, and fail on any QML
// warning recorded by the C++ setup (testServers).
QtObject {
    id: helpers

    required property TestCase testCase
    readonly property int timeout: 20000

    // Qt Test takes the message handler when the first TestCase starts:
    // put the warning recorder back in front of it.
    property Connections recorder: Connections {
        target: helpers.testCase
        function onRunningChanged() {
            if (helpers.testCase.running)
                testServers.recordQmlWarnings()
        }
    }

    // The control named `name` under `parent` (a visual child, or a
    // QObject child such as a popup's contents); fails the test when none.
    function find(parent, name) {
        const object = testCase.findChild(parent, name)
        testCase.verify(object !== null && object !== undefined, "no object named \"" + name + "\"")
        return object
    }

    // Focuses `item` and types `text` key by key. QTest's key events carry
    // ASCII only; keyClick("X") with a string gives the character itself.
    function type(item, text) {
        item.forceActiveFocus()
        testCase.verify(item.activeFocus, "cannot focus " + item.objectName)
        for (let i = 0; i < text.length; ++i)
            testCase.keyClick(text[i])
    }

    // Replaces the text of a focused field as a user does: select all, type.
    function retype(item, text) {
        item.forceActiveFocus()
        testCase.keyClick(Qt.Key_A, Qt.ControlModifier)
        if (text.length === 0)
            testCase.keyClick(Qt.Key_Backspace)
        else
            type(item, text)
        testCase.compare(item.text, text)
    }

    // A new Session logged in as `name` (with testServers.password).
    function loggedInSession(name) {
        const session = testServers.newSession()
        session.login(name, testServers.password)
        testCase.tryCompare(session, "loggedIn", true, timeout, "log in as " + name + ": " + session.errorString)
        return session
    }

    // The QML warnings since the last check; call it from cleanup().
    function checkNoQmlWarnings() {
        const warnings = testServers.takeQmlWarnings()
        testCase.verify(warnings.length === 0, "QML warnings:\n" + warnings.join("\n"))
    }

    // Labels under `item` whose text is set, as {text, bold} (a delegate's row).
    function labels(item) {
        let found = []
        for (let i = 0; i < item.children.length; ++i) {
            const child = item.children[i]
            if (child.visible && child.text !== undefined && child.font !== undefined && child.text.length > 0
                    && child.children.length === 0)
                found.push({ text: child.text, bold: child.font.bold })
            found = found.concat(labels(child))
        }
        return found
    }
}
