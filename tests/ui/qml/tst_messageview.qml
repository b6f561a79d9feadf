import QtQuick
import QtQuick.Controls
import QtTest
import Mailroom
import Mailroom.Client

// The message view's links, in MailboxPage against the real servers: the
// text looks as it did in plain text, web and mail addresses are links, a
// hovered link shows its address and the pointing hand, and a click opens
// nothing until the user has seen the whole address and chosen Open.
// Opening goes through Qt.openUrlExternally to the URL handler tst_qml.cpp
// installs (testServers.openedUrls), the path a real desktop takes.
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

    // The body as it was before links: plain text, monospace, wrapped.
    Component {
        id: plainBodyComponent
        TextArea {
            textFormat: TextEdit.PlainText
            readOnly: true
            wrapMode: TextEdit.Wrap
            font.family: "monospace"
            background: null
        }
    }

    TestHelpers {
        id: ui
        testCase: test
    }

    TestCase {
        id: test
        name: "MessageView"
        when: windowShown

        property string sender: ""
        property string owner: ""
        property var session: null
        property int delivered: 0
        property var page: null

        // One session for the whole file: the test servers allow 64
        // connections per client address, and every session keeps its own
        // open until the run ends. Each test opens the message it delivered.
        function initTestCase() {
            sender = testServers.newAccount("linksender")
            verify(sender.length > 0)
            owner = testServers.newAccount("linkowner")
            verify(owner.length > 0)
            session = ui.loggedInSession(owner)
        }
        function init() {
            testServers.clearOpenedUrls()
            page = createTemporaryObject(pageComponent, root, { session: test.session })
            verify(page)
            tryCompare(control("inboxModel"), "loading", false, ui.timeout)
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

        // Refreshes, opens the message with `subject` and waits for the view
        // to show it.
        function openMessage(subject) {
            const inbox = control("inboxModel")
            mouseClick(control("refreshButton"))
            tryCompare(inbox, "count", delivered, ui.timeout)
            tryCompare(inbox, "loading", false, ui.timeout)
            const view = control("messageListView")
            tryCompare(view, "count", delivered, ui.timeout)
            // The delegate whose subject it is (the list's order is the server's).
            const rowOf = () => {
                for (let i = 0; i < view.count; ++i) {
                    const item = view.itemAtIndex(i)
                    if (item !== null && item.subject === subject)
                        return item
                }
                return null
            }
            tryVerify(() => rowOf() !== null, ui.timeout, "no row for " + subject)
            const row = rowOf()
            mouseClick(row)
            tryCompare(control("messageController"), "loaded", true, ui.timeout)
            compare(control("subject").text, subject)
            const body = control("body")
            waitForRendering(body, ui.timeout)
            return body
        }
        function deliverAndOpen(subject, text) {
            verify(testServers.deliver(sender, testServers.password, address(owner), subject, text))
            ++delivered
            return openMessage(subject)
        }
        // The body's text as shown; QTextCursor gives U+2029 between paragraphs.
        function shownText(body) {
            return body.getText(0, body.length).replace(/\u2029/g, "\n")
        }
        // The middle of the second character of `linkText` in the body.
        function pointOf(body, linkText) {
            const shown = shownText(body)
            const at = shown.indexOf(linkText)
            verify(at >= 0, "\"" + linkText + "\" is not in the body: " + shown)
            const rect = body.positionToRectangle(at + 1)
            return Qt.point(rect.x + 1, rect.y + rect.height / 2)
        }
        function clickLink(body, linkText) {
            const point = pointOf(body, linkText)
            mouseClick(body, point.x, point.y)
        }
        function dialogShows(expected) {
            const dialog = control("openLinkDialog")
            tryCompare(dialog, "opened", true, ui.timeout)
            compare(dialog.title, "Open this address?")
            const shown = control("linkAddress")
            verify(shown.visible)
            compare(shown.textFormat, TextEdit.PlainText)
            compare(shown.text, expected)
            compare(shown.readOnly, true)
            compare(shown.selectByMouse, true)
            return dialog
        }

        function test_plainTextLooksTheSame() {
            const text = "Line one\n\n  indented   with  spaces\n\tTabbed <b>not bold</b> & more\n"
                + "word ".repeat(60) + "\n"
                + "Link https://example.com/a?b=1&c=2. Mail mailto:bob@example.com, site www.example.org."
            const body = deliverAndOpen("Layout", text)
            compare(control("messageController").text, text)
            compare(body.textFormat, TextEdit.RichText)
            compare(body.readOnly, true)
            compare(body.selectByMouse, true)
            compare(body.wrapMode, TextEdit.Wrap)
            // Every character as written, in as many lines, wrapped the same.
            compare(shownText(body), text)
            const plain = createTemporaryObject(plainBodyComponent, root, { width: body.width, text: text })
            verify(plain)
            compare(body.font.family, plain.font.family)
            compare(body.lineCount, plain.lineCount)
            verify(body.lineCount > 6, "the long line does not wrap: " + body.lineCount + " lines")
            compare(body.contentHeight, plain.contentHeight)
            // Selecting still works and gives the plain text.
            body.selectAll()
            compare(body.selectedText.replace(/\u2029/g, "\n"), text)
            body.deselect()
        }

        function test_confirmBeforeOpening_data() {
            return [
                { tag: "https", text: "See https://example.com/a?b=1&c=2 today.", link: "https://example.com/a?b=1&c=2",
                  address: "https://example.com/a?b=1&c=2" },
                { tag: "www", text: "Visit www.example.org.", link: "www.example.org",
                  address: "https://www.example.org" },
                { tag: "mailto", text: "Write to mailto:bob@example.com.", link: "mailto:bob@example.com",
                  address: "mailto:bob@example.com" },
            ]
        }
        function test_confirmBeforeOpening(data) {
            const body = deliverAndOpen("Link " + data.tag, data.text)

            // Cancel: the dialog closes and nothing opens.
            clickLink(body, data.link)
            let dialog = dialogShows(data.address)
            mouseClick(control("cancelLinkButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(testServers.openedUrls, [])

            // Escape: the same.
            clickLink(body, data.link)
            dialog = dialogShows(data.address)
            keyClick(Qt.Key_Escape)
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(testServers.openedUrls, [])

            // Open: exactly that address, once.
            clickLink(body, data.link)
            dialog = dialogShows(data.address)
            mouseClick(control("openLinkButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(testServers.openedUrls, [data.address])
        }

        // Text that is not a link opens nothing and asks nothing.
        function test_clickOnTextAsksNothing() {
            const body = deliverAndOpen("No link", "javascript:alert(1) and plain words")
            clickLink(body, "plain")
            clickLink(body, "javascript")
            wait(0)
            compare(control("openLinkDialog").visible, false)
            compare(testServers.openedUrls, [])
        }

        // An HTML-only message: the server keeps each link's address in the
        // readable text ("text <URL>"), and the view links it.
        function test_htmlLink() {
            const message = "From: " + address(sender) + "\n"
                + "To: " + address(owner) + "\n"
                + "Subject: Newsletter\n"
                + "MIME-Version: 1.0\n"
                + "Content-Type: text/html; charset=utf-8\n"
                + "\n"
                + "<html><body><p>Hello,</p>\n"
                + "<p><a href=\"https://example.com/story?id=7&amp;from=mail\">Read the story</a></p>\n"
                + "<p><a href=\"javascript:alert(1)\">Unsafe</a></p></body></html>\n"
            verify(testServers.deliverRaw(sender, testServers.password, address(owner), message))
            ++delivered
            const body = openMessage("Newsletter")
            const expected = "Hello,\n\nRead the story <https://example.com/story?id=7&from=mail>\n\nUnsafe"
            compare(control("messageController").text, expected)
            compare(shownText(body), expected)

            clickLink(body, "https://example.com/story")
            const dialog = dialogShows("https://example.com/story?id=7&from=mail")
            mouseClick(control("cancelLinkButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(testServers.openedUrls, [])

            clickLink(body, "https://example.com/story")
            dialogShows("https://example.com/story?id=7&from=mail")
            mouseClick(control("openLinkButton"))
            tryCompare(dialog, "visible", false, ui.timeout)
            compare(testServers.openedUrls, ["https://example.com/story?id=7&from=mail"])
        }

        function test_hoverShowsAddress() {
            const body = deliverAndOpen("Hover", "Before\nsee www.example.org/docs here\nAfter")
            const hover = control("bodyHover")
            const onLink = pointOf(body, "www.example.org")
            mouseMove(body, onLink.x, onLink.y)
            tryCompare(body, "hoveredLink", "https://www.example.org/docs", ui.timeout)
            compare(hover.cursorShape, Qt.PointingHandCursor)
            compare(body.ToolTip.text, "https://www.example.org/docs")
            tryCompare(body.ToolTip.toolTip, "visible", true, ui.timeout)

            const offLink = pointOf(body, "After")
            mouseMove(body, offLink.x, offLink.y)
            tryCompare(body, "hoveredLink", "", ui.timeout)
            compare(hover.cursorShape, Qt.IBeamCursor)
            tryCompare(body.ToolTip.toolTip, "visible", false, ui.timeout)
            compare(testServers.openedUrls, [])
        }
    }
}
