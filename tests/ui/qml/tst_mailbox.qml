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
            // The view's text as shown (its .text is the rich text behind it).
            compare(control("messageController").text, "Text of Read me")
            const body = control("body")
            compare(body.getText(0, body.length), "Text of Read me")
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
            // The keys still work: the list has the focus the button had.
            verify(view.activeFocus)
            keyClick(Qt.Key_Down)
            tryCompare(control("subject"), "text", "Older", ui.timeout)
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
        // only when the user scrolls for more (docs/protocol/client.md §1: the
        // latest N, more on scroll).
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

        // Going to a folder opens nothing and marks nothing seen: only the
        // user opens mail (a click, Enter, the arrow keys).
        function test_folderSwitchOpensNothing() {
            deliverToOwner("First")
            deliverToOwner("Second")
            refreshUntil(2)
            tryCompare(inbox, "unseenCount", 2, ui.timeout)
            mouseClick(control("sentFolder"))
            mouseClick(control("inboxFolder"))
            tryCompare(view, "count", 2, ui.timeout)
            waitForRendering(view, ui.timeout)
            tryCompare(view, "currentIndex", -1, ui.timeout)
            compare(control("messageController").loaded, false)
            compare(control("messageController").loading, false)
            verify(control("noMessage").visible)
            // Nor on the server: a fresh listing has both unread.
            mouseClick(control("refreshButton"))
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.unseenCount, 2)
            verify(label(row(0), "Second").bold)
            verify(label(row(1), "First").bold)
        }

        // A click on a row always opens it: the highlighted one, one after
        // a folder switch, the open one again.
        function test_clickAlwaysOpens() {
            deliverToOwner("Only one")
            refreshUntil(1)
            openRow(0, "Only one")
            mouseClick(control("sentFolder"))
            mouseClick(control("inboxFolder"))
            tryCompare(view, "count", 1, ui.timeout)
            compare(control("messageController").loaded, false)
            openRow(0, "Only one")
            mouseClick(row(0))
            tryCompare(control("messageController"), "loading", false, ui.timeout)
            compare(control("messageController").loaded, true)
            compare(view.currentIndex, 0)
            compare(control("subject").text, "Only one")
        }

        // After Delete nothing is highlighted that is not shown; Down opens
        // the message that took the deleted one's place, Up the one above.
        function test_deleteThenKeys() {
            deliverToOwner("Oldest")
            deliverToOwner("Middle")
            deliverToOwner("Newest")
            refreshUntil(3)
            openRow(1, "Middle")
            keyClick(Qt.Key_Delete)
            tryCompare(inbox, "count", 2, ui.timeout)
            waitForRendering(view, ui.timeout)
            compare(view.currentIndex, -1)
            compare(control("messageController").loaded, false)
            verify(control("noMessage").visible)
            tryCompare(control("status"), "text", "Message deleted.", ui.timeout)
            // New mail meanwhile moves every row down one.
            deliverToOwner("Newer still")
            refreshUntil(3)
            keyClick(Qt.Key_Down)
            tryCompare(control("messageController"), "loaded", true, ui.timeout)
            compare(control("subject").text, "Oldest")
            compare(view.currentIndex, 2)
            keyClick(Qt.Key_Up)
            tryCompare(control("subject"), "text", "Newest", ui.timeout)
            tryCompare(view, "currentIndex", 1, ui.timeout)
            // Both were opened by the user, so both are seen now; the newest is not.
            tryCompare(inbox, "unseenCount", 1, ui.timeout)
        }

        // The arrow keys open the next and the previous message; Home and End the ends.
        function test_keysOpen() {
            deliverToOwner("One")
            deliverToOwner("Two")
            deliverToOwner("Three")
            refreshUntil(3)
            view.forceActiveFocus()
            keyClick(Qt.Key_Down)
            tryCompare(control("subject"), "text", "Three", ui.timeout)
            keyClick(Qt.Key_Down)
            tryCompare(control("subject"), "text", "Two", ui.timeout)
            compare(view.currentIndex, 1)
            keyClick(Qt.Key_End)
            tryCompare(control("subject"), "text", "One", ui.timeout)
            keyClick(Qt.Key_Down) // already the last: stays
            compare(view.currentIndex, 2)
            keyClick(Qt.Key_Home)
            tryCompare(control("subject"), "text", "Three", ui.timeout)
            compare(view.currentIndex, 0)
        }

        function test_markUnread() {
            deliverToOwner("Read then unread")
            refreshUntil(1)
            openRow(0, "Read then unread")
            tryCompare(inbox, "unseenCount", 0, ui.timeout)
            mouseClick(control("markUnreadButton"))
            tryCompare(inbox, "unseenCount", 1, ui.timeout)
            verify(label(row(0), "Read then unread").bold)
            compare(control("status").text, "Marked as unread.")
            // Still open and highlighted; and unseen on the server too.
            compare(control("messageController").loaded, true)
            compare(view.currentIndex, 0)
            mouseClick(control("refreshButton"))
            tryCompare(inbox, "loading", false, ui.timeout)
            compare(inbox.unseenCount, 1)
            verify(label(row(0), "Read then unread").bold)
        }

        // The visible item under `item` that is a button with this text, or null.
        function buttonWithText(item, text) {
            for (let i = 0; i < item.children.length; ++i) {
                const child = item.children[i]
                if (child.visible && child.text === text && child.clicked !== undefined)
                    return child
                const found = buttonWithText(child, text)
                if (found)
                    return found
            }
            return null
        }

        // Saving an attachment: the dialog says Save, starts in the user's
        // Downloads folder, and the notice says which folder it went to.
        function test_saveAttachment() {
            const raw = "From: " + address(sender) + "\r\nTo: " + address(owner) + "\r\n"
                + "Subject: With a file\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
                + "--b1\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n"
                + "--b1\r\nContent-Type: text/plain; name=notes.txt\r\n"
                + "Content-Disposition: attachment; filename=notes.txt\r\n\r\nThe notes.\r\n"
                + "--b1--\r\n"
            verify(testServers.deliverRaw(sender, testServers.password, address(owner), raw))
            refreshUntil(1)
            openRow(0, "With a file")
            const attachments = control("attachments")
            tryVerify(() => attachments.visible, ui.timeout, "no attachments shown")
            const attachment = buttonWithText(attachments, "notes.txt (10 bytes)…")
            verify(attachment, "no button for notes.txt in " + JSON.stringify(ui.labels(attachments)))
            mouseClick(attachment)
            const dialog = control("saveAttachmentDialog")
            tryCompare(dialog, "visible", true, ui.timeout)
            const controller = control("messageController")
            verify(String(controller.downloadsFolder).startsWith("file:///"))
            compare(dialog.currentFolder, controller.downloadsFolder)
            // The dialog's own button, as the user sees it.
            tryVerify(() => buttonWithText(root.Window.window.contentItem, "Save") !== null, ui.timeout,
                      "no Save button in the dialog")
            compare(buttonWithText(root.Window.window.contentItem, "Open"), null)
            // The attachment's name is offered; the user goes to another folder and names the file.
            const name = findChild(root.Window.window.contentItem, "fileNameTextField")
            verify(name, "no file name field in the dialog")
            tryCompare(name, "text", "notes.txt", ui.timeout)
            const folder = testServers.newFolderUrl()
            verify(String(folder).length > 0)
            dialog.currentFolder = folder
            ui.retype(name, "kept-notes.txt")
            keyClick(Qt.Key_Return)
            // Qt 6.4's dialog gives what was typed as a URL without a scheme.
            compare(String(dialog.selectedFile).replace(/^file:\/\//, ""),
                    String(folder).substring("file://".length) + "/kept-notes.txt")
            mouseClick(buttonWithText(root.Window.window.contentItem, "Save"))
            tryCompare(dialog, "visible", false, ui.timeout)
            tryVerify(() => control("attachmentNotice").text.length > 0, ui.timeout, "no notice")
            compare(control("attachmentNotice").text, "Saved “kept-notes.txt” in " + String(folder).substring("file://".length))
            const file = folder + "/kept-notes.txt"
            compare(testServers.savedFileBytes(file), "The notes.")

            // A file of that name is there already: nothing is replaced without asking.
            const existing = testServers.makeFile("existing.txt", 5)
            const view = control("messageView")
            const question = control("replaceQuestion")
            view.saveTo(existing) // what the dialog's Save does with the chosen file
            tryCompare(question, "opened", true, ui.timeout)
            compare(question.title, "Replace “existing.txt”?")
            mouseClick(control("keepFileButton"))
            tryCompare(question, "visible", false, ui.timeout)
            compare(testServers.savedFileBytes(existing), "\u0000\u0001\u0002\u0003\u0004")
            view.saveTo(existing)
            tryCompare(question, "opened", true, ui.timeout)
            mouseClick(control("replaceButton"))
            tryVerify(() => control("attachmentNotice").text.startsWith("Saved “existing.txt”"), ui.timeout)
            compare(testServers.savedFileBytes(existing), "The notes.")
        }
    }
}
