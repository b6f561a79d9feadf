import QtQuick
import QtTest
import Mailroom
import Mailroom.Client

// MailboxPage for a logged-in account with an inbox of its own in each test:
// the empty state, new mail after Refresh in bold, opening marks it seen,
// deleting by key and by button, the Sent folder, the "latest N" selector.
Item {
    id: root
    width: 1100
    height: 700

    Component {
        id: pageComponent
        MailboxPage {
            anchors.fill: parent
        }
    }

    TestHelpers {
        id: ui
        testCase: test
    }

    TestCase {
        id: test
        name: "MailboxPage"
        when: windowShown

        property string sender: ""
        property string owner: ""
        property var page: null
        property var inbox: null
        property var view: null

        function initTestCase() {
            sender = testServers.newAccount("sender")
            verify(sender.length > 0)
        }
        function init() {
            owner = testServers.newAccount("owner")
            verify(owner.length > 0)
            page = createTemporaryObject(pageComponent, root, { session: ui.loggedInSession(owner) })
            verify(page)
            inbox = control("inboxModel")
            view = control("messageListView")
            tryCompare(inbox, "loading", false, ui.timeout)
            tryCompare(control("sentModel"), "loading", false, ui.timeout)
            compare(inbox.errorString, "")
        }
        function cleanup() {
            ui.checkNoQmlWarnings()
        }
        function control(name) {
            return ui.find(page, name)
        }
        function address(name) {
            return name + "@" + testServers.domain
        }
        function deliverToOwner(subject) {
            verify(testServers.deliver(sender, testServers.password, address(owner), subject, "Text of " + subject))
        }
        // Clicks Refresh and waits for the list to show `rows` rows.
        function refreshUntil(rows) {
            const refresh = control("refreshButton")
            verify(refresh.enabled)
            mouseClick(refresh)
            tryCompare(page.currentModel, "count", rows, ui.timeout)
            tryCompare(page.currentModel, "loading", false, ui.timeout)
            tryCompare(view, "count", rows, ui.timeout)
        }
        function row(index) {
            tryVerify(() => view.itemAtIndex(index) !== null, ui.timeout, "no delegate for row " + index)
            return view.itemAtIndex(index)
        }
        function label(item, text) {
            const found = ui.labels(item).filter(l => l.text === text)
            verify(found.length === 1, "no label \"" + text + "\" in " + JSON.stringify(ui.labels(item)))
            return found[0]
        }
        function openRow(index, subject) {
            mouseClick(row(index))
            compare(view.currentIndex, index)
            tryCompare(control("messageController"), "loaded", true, ui.timeout)
            compare(control("subject").text, subject)
        }

        function test_emptyInbox() {
            const empty = control("emptyState")
            verify(empty.visible)
            compare(empty.text, "No messages yet.\nMail sent to you shows up here.")
            compare(view.count, 0)
            compare(control("unseenCount").text, "")
            compare(control("inboxFolder").text, "Inbox")
            const noMessage = control("noMessage")
            verify(noMessage.visible)
            compare(noMessage.text, "Select a message to read it.")
        }

        function test_newMailAfterRefresh() {
            deliverToOwner("Fresh news")
            refreshUntil(1)
            compare(control("emptyState").visible, false)
            const unread = row(0)
            compare(label(unread, "Fresh news").bold, true)
            compare(label(unread, address(sender)).bold, true)
            tryCompare(inbox, "unseenCount", 1, ui.timeout)
            compare(control("unseenCount").text, "1 unread")
            compare(control("inboxFolder").text, "Inbox (1)")
        }

        function test_openMarksSeen() {
            deliverToOwner("Read me")
            refreshUntil(1)
            tryCompare(inbox, "unseenCount", 1, ui.timeout)
            openRow(0, "Read me")
            compare(control("from").text, address(sender))
            compare(control("body").text.trim(), "Text of Read me")
            tryCompare(inbox, "unseenCount", 0, ui.timeout)
            compare(label(row(0), "Read me").bold, false)
            compare(control("unseenCount").text, "")
            compare(control("inboxFolder").text, "Inbox")
            compare(control("noMessage").visible, false)
        }

        function test_deleteKey() {
            deliverToOwner("Delete me")
            refreshUntil(1)
            openRow(0, "Delete me")
            keyClick(Qt.Key_Delete)
            tryCompare(inbox, "count", 0, ui.timeout)
            compare(control("status").text, "Message deleted.")
            compare(control("messageController").loaded, false)
            verify(control("noMessage").visible)
            // Once the folder's counts are fetched again.
            tryVerify(() => control("emptyState").visible, ui.timeout, "no empty state")
            // Gone on the server too: a refresh does not bring it back.
            mouseClick(control("refreshButton"))
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.count, 0)
            tryCompare(inbox, "totalCount", 0, ui.timeout)
        }

        function test_deleteButton() {
            deliverToOwner("Older")
            deliverToOwner("Newer")
            refreshUntil(2)
            // Newest first.
            openRow(0, "Newer")
            mouseClick(control("deleteButton"))
            tryCompare(inbox, "count", 1, ui.timeout)
            compare(view.count, 1)
            verify(ui.labels(row(0)).some(l => l.text === "Older"))
            compare(control("messageController").loaded, false)
        }

        function test_sentFolder() {
            mouseClick(control("sentFolder"))
            compare(page.folder, "sent")
            compare(page.currentModel, control("sentModel"))
            const empty = control("emptyState")
            verify(empty.visible)
            compare(empty.text, "Nothing sent yet.\nCompose a message with Ctrl+N.")
            verify(testServers.deliver(owner, testServers.password, address(sender), "Outgoing", "From the owner."))
            refreshUntil(1)
            const sent = row(0)
            compare(label(sent, "To: " + address(sender)).bold, false)
            compare(label(sent, "Outgoing").bold, false)
            openRow(0, "Outgoing")
            compare(control("to").text, address(sender))
            // Back to the inbox: still empty.
            mouseClick(control("inboxFolder"))
            compare(page.folder, "inbox")
            compare(view.count, 0)
            compare(control("messageController").loaded, false)
            verify(control("emptyState").visible)
            compare(control("emptyState").text, "No messages yet.\nMail sent to you shows up here.")
        }

        // Typing a number in "Show the latest" and stepping it with the
        // arrow keys sets both folders' limit; the inbox is fetched again.
        function test_latestChangesLimit() {
            deliverToOwner("One")
            deliverToOwner("Two")
            refreshUntil(2)
            const latest = control("latest")
            compare(latest.value, 50)
            compare(inbox.limit, 50)
            mouseClick(latest.contentItem)
            keyClick(Qt.Key_A, Qt.ControlModifier)
            keyClick("7")
            keyClick(Qt.Key_Return)
            compare(latest.value, 7)
            compare(page.latest, 7)
            compare(inbox.limit, 7)
            compare(control("sentModel").limit, 7)
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.count, 2)
            keyClick(Qt.Key_Up)
            compare(latest.value, 8)
            compare(inbox.limit, 8)
            keyClick(Qt.Key_Down)
            keyClick(Qt.Key_Down)
            compare(inbox.limit, 6)
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.count, 2)
        }

        // "Show the latest 2" with three messages shows two; the third comes
        // only when the user scrolls for more (SPEC: the latest N, more on scroll).
        function test_latestShowsOnlyThatMany() {
            deliverToOwner("One")
            deliverToOwner("Two")
            deliverToOwner("Three")
            refreshUntil(3)
            const latest = control("latest")
            mouseClick(latest.contentItem)
            keyClick(Qt.Key_A, Qt.ControlModifier)
            keyClick("2")
            keyClick(Qt.Key_Return)
            compare(inbox.limit, 2)
            tryCompare(inbox, "loading", false, ui.timeout)
            // The view lays the rows out in the next frame; a fetch it starts
            // on its own then has to end too.
            waitForRendering(view, ui.timeout)
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.count, 2, "rows shown for \"the latest 2\" without any scrolling")
            compare(inbox.hasMore, true)
            verify(ui.labels(row(0)).some(l => l.text === "Three"))
            verify(ui.labels(row(1)).some(l => l.text === "Two"))
        }
    }
}
