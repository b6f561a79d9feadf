// MessageText: which addresses in a message's plain text become links, and
// the rich text the message view shows, checked as Qt's own rich-text
// import reads it (the document's plain text is the message's text, the
// anchors are the links).

#include "messagetext.h"

#include <QElapsedTimer>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>

using namespace Qt::StringLiterals;

namespace {

// "text -> target" per link: readable when QCOMPARE shows a difference.
QStringList describe(QStringView text, const QList<MessageText::Link> &links)
{
    QStringList out;
    for (const MessageText::Link &link : links)
        out.append(text.sliced(link.start, link.length).toString() + u" -> "_s + link.target);
    return out;
}

// The same for the anchors of a rich-text document: each run of anchored
// characters with its href.
QStringList anchorsOf(const QTextDocument &document)
{
    QStringList out;
    QString text;
    QString href;
    const auto flush = [&] {
        if (!href.isEmpty())
            out.append(text + u" -> "_s + href);
        text.clear();
        href.clear();
    };
    for (QTextBlock block = document.begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            const QString fragmentHref = fragment.charFormat().isAnchor() ? fragment.charFormat().anchorHref() : QString();
            if (fragmentHref != href)
                flush();
            href = fragmentHref;
            if (!href.isEmpty())
                text += fragment.text();
        }
        flush();
    }
    return out;
}

QString normalizedLineEnds(QString text)
{
    text.replace(u"\r\n"_s, u"\n"_s);
    text.replace(u'\r', u'\n');
    return text;
}

} // namespace

class TestMessageText : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void findLinks_data();
    void findLinks();
    void toRichText_data();
    void toRichText();
    void documentReadsBack_data();
    void documentReadsBack();
    void largeInputs();
};

void TestMessageText::findLinks_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("links"); // "text -> target"

    const auto same = [](const QString &url) { return QStringList{url + u" -> "_s + url}; };

    QTest::newRow("https in a sentence") << u"See https://example.com/x now"_s << same(u"https://example.com/x"_s);
    QTest::newRow("http") << u"http://example.com"_s << same(u"http://example.com"_s);
    QTest::newRow("scheme in capitals, kept as written")
        << u"HTTPS://EXAMPLE.COM/A"_s << same(u"HTTPS://EXAMPLE.COM/A"_s);
    QTest::newRow("at the start and the end of lines")
        << u"https://a.example/\nmiddle\nhttps://b.example/"_s
        << QStringList{u"https://a.example/ -> https://a.example/"_s, u"https://b.example/ -> https://b.example/"_s};
    QTest::newRow("query and fragment") << u"https://example.com/p?a=1&b=2#top"_s
                                        << same(u"https://example.com/p?a=1&b=2#top"_s);
    QTest::newRow("port and IPv6 host") << u"http://[::1]:8080/x"_s << same(u"http://[::1]:8080/x"_s);
    QTest::newRow("non-ASCII path") << u"https://de.wikipedia.org/wiki/M\u00fcller."_s
                                    << same(u"https://de.wikipedia.org/wiki/M\u00fcller"_s);

    // Punctuation after a URL belongs to the sentence.
    QTest::newRow("full stop") << u"Go to https://example.com/x."_s << same(u"https://example.com/x"_s);
    QTest::newRow("comma") << u"https://example.com/x, then"_s << same(u"https://example.com/x"_s);
    QTest::newRow("several marks") << u"Really https://example.com/x?!..."_s << same(u"https://example.com/x"_s);
    QTest::newRow("semicolon and colon") << u"https://example.com/a; https://example.com/b:"_s
                                         << QStringList{u"https://example.com/a -> https://example.com/a"_s,
                                                        u"https://example.com/b -> https://example.com/b"_s};
    QTest::newRow("dots inside stay") << u"https://example.com/a.b.c"_s << same(u"https://example.com/a.b.c"_s);
    QTest::newRow("in parentheses") << u"(see https://example.com/a)"_s << same(u"https://example.com/a"_s);
    QTest::newRow("in parentheses with a full stop")
        << u"(see https://example.com/a)."_s << same(u"https://example.com/a"_s);
    QTest::newRow("parentheses of the URL stay")
        << u"https://en.wikipedia.org/wiki/Mercury_(planet)"_s << same(u"https://en.wikipedia.org/wiki/Mercury_(planet)"_s);
    QTest::newRow("parentheses of the URL inside parentheses")
        << u"(https://en.wikipedia.org/wiki/Mercury_(planet))."_s
        << same(u"https://en.wikipedia.org/wiki/Mercury_(planet)"_s);
    QTest::newRow("square brackets") << u"[https://example.com/a]"_s << same(u"https://example.com/a"_s);
    QTest::newRow("braces") << u"{https://example.com/a}"_s << same(u"https://example.com/a"_s);
    QTest::newRow("double quotes") << u"\"https://example.com/a\""_s << same(u"https://example.com/a"_s);
    QTest::newRow("single quotes") << u"'https://example.com/a'"_s << same(u"https://example.com/a"_s);
    QTest::newRow("stars of emphasis") << u"*https://example.com/a*"_s << same(u"https://example.com/a"_s);
    QTest::newRow("ellipsis and guillemets") << u"\u00abhttps://example.com/a\u2026\u00bb"_s
                                             << same(u"https://example.com/a"_s);
    QTest::newRow("ideographic full stop") << u"https://example.jp/a\u3002"_s << same(u"https://example.jp/a"_s);

    // "<URL>" (RFC 3986 Appendix C), as the server writes an HTML link.
    QTest::newRow("angle brackets") << u"Read more <https://example.com/x?a=1&b=2>"_s
                                    << same(u"https://example.com/x?a=1&b=2"_s);
    QTest::newRow("angle brackets keep trailing punctuation")
        << u"<https://example.com/x.>"_s << same(u"https://example.com/x."_s);
    QTest::newRow("angle brackets keep a closing parenthesis")
        << u"(<https://example.com/a)>)"_s << same(u"https://example.com/a)"_s);
    QTest::newRow("an open angle bracket alone trims")
        << u"<https://example.com/x."_s << same(u"https://example.com/x"_s);

    // What ends a URL.
    QTest::newRow("a double quote ends it") << u"https://example.com/a\"b"_s << same(u"https://example.com/a"_s);
    QTest::newRow("a no-break space ends it") << u"https://example.com/a\u00a0b"_s << same(u"https://example.com/a"_s);
    QTest::newRow("a tab ends it") << u"https://example.com/a\tb"_s << same(u"https://example.com/a"_s);
    QTest::newRow("a bidi override ends it") << u"https://example.com/\u202Egpj.exe"_s << same(u"https://example.com/"_s);
    QTest::newRow("a zero-width space ends it") << u"https://exam\u200Bple.com"_s << same(u"https://exam"_s);
    QTest::newRow("a control character ends it") << u"https://example.com/a\u0007b"_s << same(u"https://example.com/a"_s);
    QTest::newRow("a backtick ends it") << u"`https://example.com/a`"_s << same(u"https://example.com/a"_s);
    QTest::newRow("commas inside run on") << u"https://a.example/x,https://b.example/"_s
                                          << same(u"https://a.example/x,https://b.example/"_s);

    QTest::newRow("mailto") << u"Write to mailto:bob@example.com."_s << same(u"mailto:bob@example.com"_s);
    QTest::newRow("mailto in angle brackets") << u"Bob <mailto:bob@example.com>"_s << same(u"mailto:bob@example.com"_s);
    QTest::newRow("mailto with a subject") << u"mailto:bob@example.com?subject=Hi%20there"_s
                                           << same(u"mailto:bob@example.com?subject=Hi%20there"_s);
    QTest::newRow("MAILTO in capitals") << u"MAILTO:bob@example.com"_s << same(u"MAILTO:bob@example.com"_s);

    QTest::newRow("www") << u"Visit www.example.com/path."_s
                         << QStringList{u"www.example.com/path -> https://www.example.com/path"_s};
    QTest::newRow("WWW in capitals") << u"WWW.EXAMPLE.COM"_s << QStringList{u"WWW.EXAMPLE.COM -> https://WWW.EXAMPLE.COM"_s};
    QTest::newRow("www in parentheses") << u"(www.example.com)"_s
                                        << QStringList{u"www.example.com -> https://www.example.com"_s};
    QTest::newRow("www with a port") << u"www.example.com:8080/x"_s
                                     << QStringList{u"www.example.com:8080/x -> https://www.example.com:8080/x"_s};
    QTest::newRow("www after http is one link") << u"http://www.example.com"_s << same(u"http://www.example.com"_s);

    // Not a link.
    QTest::newRow("plain text") << u"Nothing to see here. Really."_s << QStringList();
    QTest::newRow("empty") << QString() << QStringList();
    QTest::newRow("scheme alone") << u"https:// and http:// and mailto: and www."_s << QStringList();
    QTest::newRow("no host") << u"https://.com https:///x https://-x"_s << QStringList();
    QTest::newRow("scheme inside a word") << u"xhttps://example.com 1http://example.com"_s << QStringList();
    QTest::newRow("other schemes") << u"ftp://example.com javascript:alert(1) file:///etc/passwd data:text/html,x"_s
                                   << QStringList();
    QTest::newRow("http without slashes") << u"http:example.com"_s << QStringList();
    QTest::newRow("www without a dotted host") << u"www.example www.example. www.example/x.y"_s << QStringList();
    QTest::newRow("www inside a word or host") << u"awww.example.com foo.www.example.com my-www.example.com"_s
                                               << QStringList();
    QTest::newRow("www in a mail address") << u"bob@www.example.com"_s << QStringList();
    QTest::newRow("bare mail address") << u"bob@example.com"_s << QStringList();
    QTest::newRow("markup is not a link") << u"<a href=\"x\">y</a>"_s << QStringList();
}

void TestMessageText::findLinks()
{
    QFETCH(QString, text);
    QFETCH(QStringList, links);
    QCOMPARE(describe(text, MessageText::findLinks(text)), links);
}

void TestMessageText::toRichText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("html"); // between the pre-wrap block's "<div …>\n" and "\n</div>"

    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("plain") << u"Hello"_s << u"Hello"_s;
    QTest::newRow("script and markup escaped")
        << u"<script>alert('x')</script> <b>bold</b>"_s
        << u"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;"_s;
    QTest::newRow("ampersands and quotes") << u"Tom & Jerry \"quoted\" &amp; &lt;"_s
                                           << u"Tom &amp; Jerry &quot;quoted&quot; &amp;amp; &amp;lt;"_s;
    QTest::newRow("spaces, tabs and line breaks kept") << u"  a   b\n\n\tc  \n"_s << u"  a   b\n\n\tc  \n"_s;
    QTest::newRow("CRLF and CR") << u"a\r\nb\rc\r\n"_s << u"a\nb\nc\n"_s;
    QTest::newRow("link") << u"See https://example.com/x."_s
                          << u"See <a href=\"https://example.com/x\">https://example.com/x</a>."_s;
    QTest::newRow("special characters in a URL escaped in both places")
        << u"https://example.com/?a=1&b='2'&c=%22"_s
        << u"<a href=\"https://example.com/?a=1&amp;b=&#39;2&#39;&amp;c=%22\">https://example.com/?a=1&amp;b=&#39;2&#39;&amp;c=%22</a>"_s;
    QTest::newRow("angle-bracketed link") << u"Read more <https://example.com/x?a=1&b=2>"_s
                                          << u"Read more &lt;<a href=\"https://example.com/x?a=1&amp;b=2\">"
                                             u"https://example.com/x?a=1&amp;b=2</a>&gt;"_s;
    QTest::newRow("www gets https") << u"www.example.com"_s
                                    << u"<a href=\"https://www.example.com\">www.example.com</a>"_s;
    QTest::newRow("mailto") << u"mailto:bob@example.com"_s
                            << u"<a href=\"mailto:bob@example.com\">mailto:bob@example.com</a>"_s;
    QTest::newRow("a quote ends a URL, no attribute injection")
        << u"https://example.com/\"onclick=\"x"_s
        << u"<a href=\"https://example.com/\">https://example.com/</a>&quot;onclick=&quot;x"_s;
    QTest::newRow("javascript: stays text") << u"javascript:alert(1)"_s << u"javascript:alert(1)"_s;
}

void TestMessageText::toRichText()
{
    QFETCH(QString, text);
    QFETCH(QString, html);
    QCOMPARE(MessageText::toRichText(text), u"<div style=\"white-space: pre-wrap\">\n"_s + html + u"\n</div>"_s);
}

// What Qt's rich-text import makes of it (what a RichText TextEdit shows):
// the same plain text, in as many blocks, laid out to the same size as the
// text set as plain text, and anchors exactly at the links.
void TestMessageText::documentReadsBack_data()
{
    QTest::addColumn<QString>("text");

    QTest::newRow("empty") << QString();
    QTest::newRow("one line") << u"Hello"_s;
    QTest::newRow("leading and trailing line breaks") << u"\n\nHello\n\n"_s;
    QTest::newRow("only a line break") << u"\n"_s;
    QTest::newRow("spaces and tabs") << u"  a    b\t\tc   \n\t indented\n   "_s;
    QTest::newRow("markup and entities") << u"<p>&amp; &lt;b&gt; \"q\" 'a' <!-- c --> &#x41;</p>"_s;
    QTest::newRow("CRLF") << u"a\r\nb\r\n\r\nc"_s;
    QTest::newRow("quoted reply with links")
        << u"Hi,\n\nsee https://example.com/a?b=1&c=2 and (www.example.org).\n\n"
           u"> On Monday Bob wrote:\n> Read more <https://example.com/x?a=1&b=2>\n> mailto:bob@example.com"_s;
    QTest::newRow("long line that wraps") << (u"word "_s.repeated(100) + u"https://example.com/"_s + u"x"_s.repeated(300));
    QTest::newRow("non-ASCII") << u"Caf\u00e9 \u2014 \U0001F600 https://example.com/\u00e9t\u00e9"_s;
}

void TestMessageText::documentReadsBack()
{
    QFETCH(QString, text);
    const QString plain = normalizedLineEnds(text);
    const QFont font(u"monospace"_s);

    QTextDocument expected;
    expected.setDefaultFont(font);
    expected.setPlainText(plain);
    expected.setTextWidth(400);

    QTextDocument rich;
    rich.setDefaultFont(font);
    rich.setHtml(MessageText::toRichText(text));
    rich.setTextWidth(400);

    QCOMPARE(rich.toPlainText(), expected.toPlainText());
    QCOMPARE(rich.blockCount(), expected.blockCount());
    QCOMPARE(rich.size(), expected.size());
    QCOMPARE(rich.begin().blockFormat().topMargin(), 0.0);
    QCOMPARE(anchorsOf(rich), describe(plain, MessageText::findLinks(plain)));
}

// Inputs made to defeat a naive scan: each finishes in one pass (the time
// is printed for the record, not asserted).
void TestMessageText::largeInputs()
{
    const int units = 500'000;
    struct Case
    {
        QString unit;
        QString tail;
        qsizetype links;
    };
    const QList<Case> cases = {
        // www. candidates without a dotted host, in one run with a long tail.
        {u"www.a?"_s, u"!"_s.repeated(units), 0},
        // Candidates that fail at once.
        {u"https://."_s, QString(), 0},
        // One URL of a million characters with unbalanced brackets.
        {u"(]"_s, u" https://example.com/"_s + u")"_s.repeated(units), 1},
        // Many short links.
        {u"https://e.example/a. "_s, QString(), units},
    };
    for (const Case &test : cases) {
        const QString text = test.unit.repeated(units) + test.tail;
        QElapsedTimer timer;
        timer.start();
        const QList<MessageText::Link> links = MessageText::findLinks(text);
        const QString html = MessageText::toRichText(text);
        const qint64 elapsed = timer.elapsed();
        QCOMPARE(links.size(), test.links);
        QVERIFY(html.size() >= text.size());
        qInfo("%d x \"%s\" (%lld characters): %lld ms", units, qPrintable(test.unit), qint64(text.size()), elapsed);
    }
}

QTEST_MAIN(TestMessageText)
#include "tst_messagetext.moc"
