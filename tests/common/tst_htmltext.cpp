#include "htmltext.h"

#include <QElapsedTimer>
#include <QTest>

namespace {
bool isHtmlSpace(QChar c)
{
    return c == u' ' || c == u'\t' || c == u'\n' || c == u'\r' || c == u'\f';
}

// What every result must satisfy, whatever the input.
void verifyShape(const QString &text)
{
    QVERIFY2(!text.contains(QStringLiteral("\n\n\n")), "more than one blank line in a row");
    if (!text.isEmpty()) {
        QVERIFY2(!isHtmlSpace(text.front()), "leading white space");
        QVERIFY2(!isHtmlSpace(text.back()), "trailing white space");
    }
}

void addColumns()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected"); // empty: nothing readable
}

// Ten million characters of `unit`, give or take one unit.
QString tenMegabytesOf(const QString &unit)
{
    return unit.repeated(10'000'000 / unit.size());
}
} // namespace

class TestHtmlText : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void removedContent_data();
    void removedContent();
    void lineBreaks_data();
    void lineBreaks();
    void lists_data();
    void lists();
    void tables_data();
    void tables();
    void whiteSpace_data();
    void whiteSpace();
    void entities_data();
    void entities();
    void linksAndImages_data();
    void linksAndImages();
    void mailClients_data();
    void mailClients();

    void millionNestedDivs();
    void unterminatedScript();
    void unterminatedComment();
    void unterminatedQuotedAttribute();
    void entityLikeRuns();
    void largeNewsletter();
    void manyLinks();
    void linkTextOfWhiteSpaceInPre();

private:
    void compareRow();
};

// The slots share their columns, so one comparison serves them all.
void TestHtmlText::compareRow()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const QString result = htmlToText(input);
    QCOMPARE(result, expected);
    verifyShape(result);
}

void TestHtmlText::removedContent_data()
{
    addColumns();

    QTest::newRow("script")
        << QStringLiteral("<p>Hello</p><script type=\"text/javascript\">document.write(\"<p>tracking</p>\");</script><p>"
                          "World</p>")
        << QStringLiteral("Hello\n\nWorld");
    QTest::newRow("script end tag in capitals with a space")
        << QStringLiteral("before<SCRIPT>var a = 1 < 2;</SCRIPT >after") << QStringLiteral("beforeafter");
    QTest::newRow("script holding </scripts> and </div>")
        << QStringLiteral("a<script>x = \"</scripts>\" + \"</div>\";</script>b") << QStringLiteral("ab");
    QTest::newRow("style with CSS containing < and >")
        << QStringLiteral("<style type=\"text/css\">\n/* narrow: < 600px */\n"
                          "@media (max-width:600px) { .row > td { display:block } }\n</style><p>Body text</p>")
        << QStringLiteral("Body text");
    QTest::newRow("style in mixed case") << QStringLiteral("<STYLE>p{}</Style>Text") << QStringLiteral("Text");
    QTest::newRow("style with attributes on its end tag")
        << QStringLiteral("<style>p{}</style foo=\">\">Text") << QStringLiteral("Text");
    QTest::newRow("head with meta, title and style")
        << QStringLiteral("<html><head><meta charset=\"utf-8\"><title>Newsletter</title><style>body{}</style></head><body>"
                          "Hi</body></html>")
        << QStringLiteral("Hi");
    QTest::newRow("head closed by <body> alone")
        << QStringLiteral("<head><title>T</title><meta name=x content=y><body>Hi") << QStringLiteral("Hi");
    QTest::newRow("text inside head") << QStringLiteral("<HEAD>stray text</HEAD>Body") << QStringLiteral("Body");
    QTest::newRow("head without end tag or body, then a paragraph")
        << QStringLiteral("<head><title>T</title><p>Visible</p>") << QStringLiteral("Visible");
    QTest::newRow("a second head after the body is ignored")
        << QStringLiteral("<body>One<head>Two</head>Three") << QStringLiteral("OneTwoThree");
    QTest::newRow("title outside head") << QStringLiteral("<title>Subject</title>Text") << QStringLiteral("Text");
    QTest::newRow("title holding markup")
        << QStringLiteral("<title>a <b>bold</b> title</title>Text") << QStringLiteral("Text");
    QTest::newRow("template") << QStringLiteral("A<template><div>hidden <b>x</b></div></template>B")
                              << QStringLiteral("AB");
    QTest::newRow("nested template")
        << QStringLiteral("A<template>x<template>y</template>z</template>B") << QStringLiteral("AB");
    QTest::newRow("comment with tags and >")
        << QStringLiteral("Hello<!-- a <b>comment</b> with > signs -->World") << QStringLiteral("HelloWorld");
    QTest::newRow("Outlook conditional comment")
        << QStringLiteral("<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/>"
                          "</o:OfficeDocumentSettings></xml><![endif]-->Text")
        << QStringLiteral("Text");
    QTest::newRow("downlevel-revealed conditional comment")
        << QStringLiteral("<!--[if !mso]><!-->Shown<!--<![endif]-->") << QStringLiteral("Shown");
    QTest::newRow("empty comments") << QStringLiteral("a<!---->b<!-->c<!--->d") << QStringLiteral("abcd");
    QTest::newRow("doctype")
        << QStringLiteral("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">"
                          "Text")
        << QStringLiteral("Text");
    QTest::newRow("doctype in lower case") << QStringLiteral("<!doctype html>\nText") << QStringLiteral("Text");
    QTest::newRow("xml declaration")
        << QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>Text") << QStringLiteral("Text");
    QTest::newRow("Outlook namespace processing instruction")
        << QStringLiteral("<?xml:namespace prefix = o ns = \"urn:schemas-microsoft-com:office:office\" /><p>Text</p>")
        << QStringLiteral("Text");
    QTest::newRow("CDATA") << QStringLiteral("a<![CDATA[ x > y <b> ]]>b") << QStringLiteral("ab");
    QTest::newRow("Outlook supportLists markers keep what is between them")
        << QStringLiteral("<![if !supportLists]>1.<![endif]>Item") << QStringLiteral("1.Item");
    QTest::newRow("unterminated tag at the end")
        << QStringLiteral("Text<a href=\"http://exa") << QStringLiteral("Text");
    QTest::newRow("unterminated tag with an unquoted attribute")
        << QStringLiteral("Text <div class=x") << QStringLiteral("Text");
    QTest::newRow("unterminated end tag") << QStringLiteral("Text</div") << QStringLiteral("Text");
    QTest::newRow("unterminated comment")
        << QStringLiteral("Text<!-- never closed <p>more</p>") << QStringLiteral("Text");
    QTest::newRow("unterminated script") << QStringLiteral("Text<script>alert(1)") << QStringLiteral("Text");
    QTest::newRow("script end tag cut off") << QStringLiteral("Text<script>x</script") << QStringLiteral("Text");
    QTest::newRow("unterminated CDATA") << QStringLiteral("Text<![CDATA[abc") << QStringLiteral("Text");
    QTest::newRow("unterminated doctype") << QStringLiteral("Text<!DOCTYPE") << QStringLiteral("Text");
    QTest::newRow("unterminated processing instruction") << QStringLiteral("Text<?xml") << QStringLiteral("Text");
    QTest::newRow("< at the very end is text") << QStringLiteral("a <") << QStringLiteral("a <");
    QTest::newRow("< before space and digit is text")
        << QStringLiteral("if a < b and c <3 d") << QStringLiteral("if a < b and c <3 d");
    QTest::newRow("<= is text") << QStringLiteral("x <= y") << QStringLiteral("x <= y");
    QTest::newRow("< before a non-ASCII letter is text")
        << QStringLiteral("<\u00e9t\u00e9>") << QStringLiteral("<\u00e9t\u00e9>");
    QTest::newRow("bogus end tags") << QStringLiteral("a</ b>c</>d</3>e") << QStringLiteral("acde");
    QTest::newRow("tag names in any case")
        << QStringLiteral("<DIV>a</DIV><Div>b</dIV>") << QStringLiteral("a\nb");
    QTest::newRow("> inside a double-quoted value")
        << QStringLiteral("<a title=\"1 > 0\" href=\"x\">link</a>") << QStringLiteral("link");
    QTest::newRow("> inside a single-quoted value")
        << QStringLiteral("<span title='a>b'>text</span>") << QStringLiteral("text");
    QTest::newRow("the other quote inside a value")
        << QStringLiteral("<span title=\"it's > fine\" style='font:7pt \"Times\"'>ok</span>")
        << QStringLiteral("ok");
    QTest::newRow("unquoted values") << QStringLiteral("<font size=2 color=#333333>small</font>")
                                     << QStringLiteral("small");
    QTest::newRow("quoted > in an end tag's attribute")
        << QStringLiteral("<div>a</div class=\"x>y\">b") << QStringLiteral("a\nb");
    QTest::newRow("unknown namespaced tags")
        << QStringLiteral("Text<o:p></o:p><v:shape id=x></v:shape>") << QStringLiteral("Text");
}

void TestHtmlText::removedContent()
{
    compareRow();
}

void TestHtmlText::lineBreaks_data()
{
    addColumns();

    QTest::newRow("br") << QStringLiteral("a<br>b") << QStringLiteral("a\nb");
    QTest::newRow("br/") << QStringLiteral("a<br/>b") << QStringLiteral("a\nb");
    QTest::newRow("br /") << QStringLiteral("a<br />b") << QStringLiteral("a\nb");
    QTest::newRow("BR with a space") << QStringLiteral("a<BR >b") << QStringLiteral("a\nb");
    QTest::newRow("br with attributes") << QStringLiteral("a<br clear=\"all\" class=\"\">b") << QStringLiteral("a\nb");
    QTest::newRow("</br> as browsers read it") << QStringLiteral("a</br>b") << QStringLiteral("a\nb");
    QTest::newRow("two br make a blank line") << QStringLiteral("a<br><br>b") << QStringLiteral("a\n\nb");
    QTest::newRow("four br still one blank line")
        << QStringLiteral("a<br><br><br><br>b") << QStringLiteral("a\n\nb");
    QTest::newRow("br at start and end") << QStringLiteral("<br><br>a<br><br>") << QStringLiteral("a");
    QTest::newRow("spaces around br") << QStringLiteral("a <br> b") << QStringLiteral("a\nb");
    QTest::newRow("div") << QStringLiteral("<div>a</div><div>b</div>") << QStringLiteral("a\nb");
    QTest::newRow("text around a div") << QStringLiteral("a<div>b</div>c") << QStringLiteral("a\nb\nc");
    QTest::newRow("nested divs give one break")
        << QStringLiteral("<div><div><div>a</div></div></div><div>b</div>") << QStringLiteral("a\nb");
    QTest::newRow("empty divs add nothing") << QStringLiteral("a<div></div><div> </div>b") << QStringLiteral("a\nb");
    QTest::newRow("br ending a div adds nothing") << QStringLiteral("<div>a<br></div><div>b</div>")
                                                  << QStringLiteral("a\nb");
    QTest::newRow("br then div") << QStringLiteral("a<br><div>b</div>") << QStringLiteral("a\nb");
    QTest::newRow("div then br is a blank line")
        << QStringLiteral("<div>a</div><br><div>b</div>") << QStringLiteral("a\n\nb");

    // Every block element the same way, and its name in capitals.
    for (const char *name : {"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
                             "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav",
                             "ol", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"}) {
        const QString tag = QString::fromLatin1(name);
        QTest::addRow("block %s", name)
            << QStringLiteral("x<") + tag + QStringLiteral(">y</") + tag + QStringLiteral(">z") << QStringLiteral("x\ny\nz");
        const QString upper = tag.toUpper();
        QTest::addRow("block %s in capitals", name)
            << QStringLiteral("x<") + upper + QStringLiteral(" class=\"a\">y</") + upper + QStringLiteral(">z")
            << QStringLiteral("x\ny\nz");
    }
    QTest::newRow("hr without end tag") << QStringLiteral("above<hr>below") << QStringLiteral("above\nbelow");

    QTest::newRow("p") << QStringLiteral("<p>a</p><p>b</p>") << QStringLiteral("a\n\nb");
    QTest::newRow("text around p") << QStringLiteral("a<p>b</p>c") << QStringLiteral("a\n\nb\n\nc");
    QTest::newRow("p without end tags") << QStringLiteral("<p>a<p>b") << QStringLiteral("a\n\nb");
    QTest::newRow("P in capitals with attributes")
        << QStringLiteral("<P ALIGN=center>a</P>b") << QStringLiteral("a\n\nb");
    for (int level = 1; level <= 6; ++level) {
        const QString tag = QStringLiteral("h") + QString::number(level);
        QTest::addRow("h%d", level) << QStringLiteral("<") + tag + QStringLiteral(">Title</") + tag + QStringLiteral(">Text")
                                    << QStringLiteral("Title\n\nText");
    }
    QTest::newRow("p inside div") << QStringLiteral("<div><p>a</p></div><div>b</div>") << QStringLiteral("a\n\nb");
    QTest::newRow("empty paragraphs add no blank lines")
        << QStringLiteral("<p>a</p><p></p><p> </p><p>b</p>") << QStringLiteral("a\n\nb");
    QTest::newRow("br inside p") << QStringLiteral("<p>a<br>b</p><p>c</p>") << QStringLiteral("a\nb\n\nc");
    QTest::newRow("br between paragraphs adds nothing")
        << QStringLiteral("<p>a</p><br><br><p>b</p>") << QStringLiteral("a\n\nb");
    QTest::newRow("h1 then div") << QStringLiteral("<h1>Big</h1><div>small</div>") << QStringLiteral("Big\n\nsmall");
}

void TestHtmlText::lineBreaks()
{
    compareRow();
}

void TestHtmlText::lists_data()
{
    addColumns();

    QTest::newRow("ul") << QStringLiteral("<ul><li>One</li><li>Two</li></ul>") << QStringLiteral("- One\n- Two");
    QTest::newRow("ol uses the same marker")
        << QStringLiteral("<ol><li>One</li><li>Two</li></ol>") << QStringLiteral("- One\n- Two");
    QTest::newRow("li without end tags") << QStringLiteral("<ul><li>One<li>Two</ul>") << QStringLiteral("- One\n- Two");
    QTest::newRow("LI in capitals") << QStringLiteral("<UL><LI>One</LI></UL>") << QStringLiteral("- One");
    QTest::newRow("nested lists are not indented")
        << QStringLiteral("<ul><li>Fruit<ul><li>Apple</li><li>Pear</li></ul></li><li>Bread</li></ul>")
        << QStringLiteral("- Fruit\n- Apple\n- Pear\n- Bread");
    QTest::newRow("ol inside ul")
        << QStringLiteral("<ul><li>Steps<ol><li>Open</li><li>Close</li></ol></li></ul>")
        << QStringLiteral("- Steps\n- Open\n- Close");
    QTest::newRow("list between text")
        << QStringLiteral("Shopping:<ul><li>Milk</li></ul>Thanks") << QStringLiteral("Shopping:\n- Milk\nThanks");
    QTest::newRow("indented source")
        << QStringLiteral("<ul>\n  <li>\n    One\n  </li>\n  <li>Two  </li>\n</ul>") << QStringLiteral("- One\n- Two");
    QTest::newRow("p inside li stays on the bullet's line")
        << QStringLiteral("<ol><li><p>First</p></li><li><p>Second</p></li></ol>")
        << QStringLiteral("- First\n\n- Second");
    QTest::newRow("div inside li") << QStringLiteral("<ul><li><div>a</div><div>b</div></li></ul>")
                                   << QStringLiteral("- a\nb");
    QTest::newRow("empty li") << QStringLiteral("<ul><li></li><li>Two</li></ul>") << QStringLiteral("-\n- Two");
    QTest::newRow("empty li without end tag")
        << QStringLiteral("<ul><li><li>Two</ul>") << QStringLiteral("-\n- Two");
    QTest::newRow("li with inline markup")
        << QStringLiteral("<ul><li><b>Bold</b> and <a href=x>link</a></li></ul>")
        << QStringLiteral("- Bold and link");
    QTest::newRow("li with br") << QStringLiteral("<ul><li>a<br>b</li></ul>") << QStringLiteral("- a\nb");
    QTest::newRow("dl") << QStringLiteral("<dl><dt>Term</dt><dd>Definition</dd></dl>")
                        << QStringLiteral("Term\nDefinition");
}

void TestHtmlText::lists()
{
    compareRow();
}

void TestHtmlText::tables_data()
{
    addColumns();

    QTest::newRow("two cells") << QStringLiteral("<table><tr><td>a</td><td>b</td></tr></table>")
                               << QStringLiteral("a\tb");
    QTest::newRow("header and data rows")
        << QStringLiteral("<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Apples</td><td>3</td></tr></table>")
        << QStringLiteral("Item\tQty\nApples\t3");
    QTest::newRow("TD in capitals") << QStringLiteral("<TABLE><TR><TD>a<TD>b</TABLE>") << QStringLiteral("a\tb");
    QTest::newRow("white space between and inside cells")
        << QStringLiteral("<table>\n  <tr>\n    <td> a </td>\n    <td>  b  </td>\n  </tr>\n</table>")
        << QStringLiteral("a\tb");
    QTest::newRow("single cell") << QStringLiteral("<table><tr><td>only</td></tr></table>") << QStringLiteral("only");
    QTest::newRow("three cells") << QStringLiteral("<tr><td>1</td><td>2</td><td>3</td></tr>")
                                 << QStringLiteral("1\t2\t3");
    QTest::newRow("empty and spacer cells add no tab")
        << QStringLiteral("<tr><td></td><td>a</td><td>&nbsp;</td><td>b</td><td></td></tr>") << QStringLiteral("a\tb");
    QTest::newRow("cells without end tags") << QStringLiteral("<table><tr><td>a<td>b<tr><td>c<td>d</table>")
                                            << QStringLiteral("a\tb\nc\td");
    QTest::newRow("table in a cell")
        << QStringLiteral("<table><tr><td>Left</td><td><table><tr><td>Inner</td></tr></table></td></tr></table>")
        << QStringLiteral("Left\nInner");
    QTest::newRow("thead tbody tfoot")
        << QStringLiteral("<table><thead><tr><th>H</th></tr></thead><tbody><tr><td>B</td></tr></tbody>"
                          "<tfoot><tr><td>F</td></tr></tfoot></table>")
        << QStringLiteral("H\nB\nF");
    QTest::newRow("text before a table") << QStringLiteral("Total:<table><tr><td>1</td></tr></table>")
                                         << QStringLiteral("Total:\n1");
    QTest::newRow("cell with a paragraph")
        << QStringLiteral("<table><tr><td><p>Intro</p></td></tr><tr><td>Next</td></tr></table>")
        << QStringLiteral("Intro\n\nNext");
}

void TestHtmlText::tables()
{
    compareRow();
}

void TestHtmlText::whiteSpace_data()
{
    addColumns();

    QTest::newRow("runs collapse") << QStringLiteral("a  \t\r\n\f b") << QStringLiteral("a b");
    QTest::newRow("leading and trailing") << QStringLiteral("  \n a b \n ") << QStringLiteral("a b");
    QTest::newRow("only white space") << QStringLiteral(" \r\n\t ") << QString();
    QTest::newRow("empty input") << QString() << QString();
    QTest::newRow("line starts and ends")
        << QStringLiteral("<div>  a  </div>  <div>  b  </div>") << QStringLiteral("a\nb");
    QTest::newRow("around inline tags") << QStringLiteral("a <b> bold </b> c") << QStringLiteral("a bold c");
    QTest::newRow("no space invented between tags") << QStringLiteral("<b>bo</b><i>ld</i>") << QStringLiteral("bold");
    QTest::newRow("source newline is a space") << QStringLiteral("Hello\nWorld") << QStringLiteral("Hello World");
    QTest::newRow("CRLF outside pre") << QStringLiteral("a\r\nb") << QStringLiteral("a b");
    QTest::newRow("&nbsp; run folds") << QStringLiteral("a&nbsp;&nbsp;&nbsp;b") << QStringLiteral("a b");
    QTest::newRow("&nbsp; and spaces fold together") << QStringLiteral("a &nbsp; &nbsp; b") << QStringLiteral("a b");
    QTest::newRow("&nbsp; paragraph is empty")
        << QStringLiteral("<p>a</p><p>&nbsp;</p><p>b</p>") << QStringLiteral("a\n\nb");
    QTest::newRow("&nbsp; indent removed") << QStringLiteral("<div>&nbsp;&nbsp;Indented</div>")
                                           << QStringLiteral("Indented");
    QTest::newRow("literal no-break space is not white space")
        << QStringLiteral("a\u00a0b \u00a0") << QStringLiteral("a\u00a0b \u00a0");
    QTest::newRow("pre keeps spaces, tabs and newlines")
        << QStringLiteral("Code:<pre>  a   b\n\tc</pre>") << QStringLiteral("Code:\n  a   b\n\tc");
    QTest::newRow("PRE in capitals") << QStringLiteral("x<PRE>a  b</PRE>") << QStringLiteral("x\na  b");
    QTest::newRow("pre at the very start loses its first indent (no leading white space)")
        << QStringLiteral("<pre>   x\n   y</pre>") << QStringLiteral("x\n   y");
    QTest::newRow("pre CRLF") << QStringLiteral("<pre>a\r\nb\r\n\r\nc</pre>") << QStringLiteral("a\nb\n\nc");
    QTest::newRow("pre lone CR") << QStringLiteral("<pre>a\rb</pre>") << QStringLiteral("a\nb");
    QTest::newRow("pre drops the newline right after its start tag")
        << QStringLiteral("Text<pre>\nline\n</pre>") << QStringLiteral("Text\nline");
    QTest::newRow("pre drops CRLF right after its start tag")
        << QStringLiteral("Text<pre>\r\n\r\nline</pre>") << QStringLiteral("Text\n\nline");
    QTest::newRow("pre blank lines capped at one")
        << QStringLiteral("<pre>a\n\n\n\n\nb</pre>") << QStringLiteral("a\n\nb");
    QTest::newRow("pre lines of white space are blank")
        << QStringLiteral("<pre>a\n   \n\t\n   \nb</pre>") << QStringLiteral("a\n\nb");
    QTest::newRow("pre keeps trailing spaces inside")
        << QStringLiteral("<pre>a  \nb</pre>") << QStringLiteral("a  \nb");
    QTest::newRow("pre trailing spaces at the very end")
        << QStringLiteral("<pre>a   </pre>") << QStringLiteral("a");
    QTest::newRow("pre entities") << QStringLiteral("<pre>if (a &lt; b)&nbsp;&nbsp;x</pre>")
                                  << QStringLiteral("if (a < b)  x");
    QTest::newRow("pre with inline tags") << QStringLiteral("<pre><b>bold</b>   text</pre>")
                                          << QStringLiteral("bold   text");
    QTest::newRow("text after pre collapses again")
        << QStringLiteral("<pre>a  b</pre>c   d") << QStringLiteral("a  b\nc d");
    QTest::newRow("nested pre") << QStringLiteral("<pre>a  <pre>b  c</pre>d  e</pre>f  g")
                                << QStringLiteral("a  \nb  c\nd  e\nf g");
}

void TestHtmlText::whiteSpace()
{
    compareRow();
}

void TestHtmlText::entities_data()
{
    addColumns();

    QTest::newRow("decimal") << QStringLiteral("caf&#233;") << QStringLiteral("caf\u00e9");
    QTest::newRow("hex") << QStringLiteral("caf&#xe9;") << QStringLiteral("caf\u00e9");
    QTest::newRow("hex, digits in capitals") << QStringLiteral("caf&#xE9;") << QStringLiteral("caf\u00e9");
    QTest::newRow("hex, X in capitals") << QStringLiteral("caf&#Xe9;") << QStringLiteral("caf\u00e9");
    QTest::newRow("leading zeros") << QStringLiteral("&#00065;&#x000042;") << QStringLiteral("AB");
    QTest::newRow("decimal without ; before a space")
        << QStringLiteral("caf&#233 au lait") << QStringLiteral("caf\u00e9 au lait");
    QTest::newRow("hex without ; before punctuation")
        << QStringLiteral("caf&#xE9, ok") << QStringLiteral("caf\u00e9, ok");
    QTest::newRow("without ; before a tag") << QStringLiteral("caf&#233<b>!</b>") << QStringLiteral("caf\u00e9!");
    QTest::newRow("without ; at the end") << QStringLiteral("caf&#233") << QStringLiteral("caf\u00e9");
    QTest::newRow("without ; before a letter: as written")
        << QStringLiteral("&#233abc") << QStringLiteral("&#233abc");
    QTest::newRow("hex before a non-hex letter: as written")
        << QStringLiteral("&#xE9g") << QStringLiteral("&#xE9g");
    QTest::newRow("no digits: as written") << QStringLiteral("&#; &#x; &# &#") << QStringLiteral("&#; &#x; &# &#");
    QTest::newRow("zero") << QStringLiteral("a&#0;b") << QStringLiteral("a\ufffdb");
    QTest::newRow("high surrogate") << QStringLiteral("&#xD800;") << QStringLiteral("\ufffd");
    QTest::newRow("low surrogate, decimal") << QStringLiteral("&#57343;") << QStringLiteral("\ufffd");
    QTest::newRow("just above U+10FFFF") << QStringLiteral("&#x110000;&#1114112;")
                                         << QStringLiteral("\ufffd\ufffd");
    QTest::newRow("far too large") << QStringLiteral("&#99999999999999999999;&#xFFFFFFFFFFFF41;")
                                   << QStringLiteral("\ufffd\ufffd");
    QTest::newRow("U+10FFFF") << QStringLiteral("&#x10FFFF;") << QStringLiteral("\U0010FFFF");
    QTest::newRow("emoji") << QStringLiteral("Thanks &#x1F600;&#128077;")
                           << QStringLiteral("Thanks \U0001F600\U0001F44D");
    QTest::newRow("numeric white space folds") << QStringLiteral("a&#32;&#9;&#10;&#13;b") << QStringLiteral("a b");
    QTest::newRow("&#160; is a no-break space, only &nbsp; folds")
        << QStringLiteral("a&#160;b&#xa0;") << QStringLiteral("a\u00a0b\u00a0");
    QTest::newRow("markup characters")
        << QStringLiteral("&lt;b&gt; &amp; &quot;q&quot; &apos;s") << QStringLiteral("<b> & \"q\" 's");
    QTest::newRow("decoded < is not markup") << QStringLiteral("&lt;div&gt;x&lt;/div&gt;")
                                             << QStringLiteral("<div>x</div>");
    QTest::newRow("double escaped") << QStringLiteral("&amp;lt;") << QStringLiteral("&lt;");
    QTest::newRow("Latin-1")
        << QStringLiteral("&eacute;&Eacute;&szlig;&yuml;&copy;&reg;&deg;&frac12;&iquest;&Oslash;&thorn;&shy;")
        << QStringLiteral("\u00e9\u00c9\u00df\u00ff\u00a9\u00ae\u00b0\u00bd\u00bf\u00d8\u00fe\u00ad");
    QTest::newRow("punctuation")
        << QStringLiteral("&euro;&hellip;&mdash;&ndash;&lsquo;&rsquo;&ldquo;&rdquo;&sbquo;&bdquo;&bull;&trade;")
        << QStringLiteral("\u20ac\u2026\u2014\u2013\u2018\u2019\u201c\u201d\u201a\u201e\u2022\u2122");
    QTest::newRow("Greek") << QStringLiteral("&alpha;&beta;&Omega;&sigmaf;&thetasym;&upsih;&piv;")
                           << QStringLiteral("\u03b1\u03b2\u03a9\u03c2\u03d1\u03d2\u03d6");
    QTest::newRow("mathematics and arrows")
        << QStringLiteral("&forall;&sum;&infin;&ne;&le;&rArr;&crarr;&lceil;&loz;&diams;")
        << QStringLiteral("\u2200\u2211\u221e\u2260\u2264\u21d2\u21b5\u2308\u25ca\u2666");
    QTest::newRow("special")
        << QStringLiteral("&OElig;&scaron;&Yuml;&circ;&tilde;&dagger;&Dagger;&permil;&lsaquo;&rsaquo;&fnof;")
        << QStringLiteral("\u0152\u0161\u0178\u02c6\u02dc\u2020\u2021\u2030\u2039\u203a\u0192");
    QTest::newRow("spacing and joiners are not white space")
        << QStringLiteral("a&thinsp;b&ensp;c&emsp;d&zwj;e&zwnj;f&lrm;g&rlm;h")
        << QStringLiteral("a\u2009b\u2002c\u2003d\u200de\u200cf\u200eg\u200fh");
    QTest::newRow("lang and rang keep their HTML 4 code points")
        << QStringLiteral("&lang;x&rang;") << QStringLiteral("\u2329x\u232a");
    QTest::newRow("names are case-sensitive")
        << QStringLiteral("&Eacute; &eacute; &EACUTE;") << QStringLiteral("\u00c9 \u00e9 &EACUTE;");
    QTest::newRow("unknown names stay as written")
        << QStringLiteral("&bogus; &hearts; &nosuchthing") << QStringLiteral("&bogus; \u2665 &nosuchthing");
    QTest::newRow("HTML5-only names stay as written")
        << QStringLiteral("&check; &NewLine; &AMP;") << QStringLiteral("&check; &NewLine; &AMP;");
    QTest::newRow("bare ampersands") << QStringLiteral("Tom & Jerry, AT&T, Q&A, &&")
                                     << QStringLiteral("Tom & Jerry, AT&T, Q&A, &&");
    QTest::newRow("Latin-1 and markup names without ;")
        << QStringLiteral("&copy 2024 Acme &amp Co, 5 &lt 6, &quot;hi&quot") << QStringLiteral("\u00a9 2024 Acme & Co, 5 < 6, \"hi\"");
    QTest::newRow("other names need their ;")
        << QStringLiteral("&alpha beta &hellip. &apos") << QStringLiteral("&alpha beta &hellip. &apos");
    QTest::newRow("name running into letters stays")
        << QStringLiteral("&copyright &amplifier") << QStringLiteral("&copyright &amplifier");
    QTest::newRow("&nbsp without ;") << QStringLiteral("a&nbsp b &nbspc") << QStringLiteral("a b &nbspc");
    QTest::newRow("query string in text decodes as browsers show it")
        << QStringLiteral("https://example.com/?a=1&b=2&copy=3") << QStringLiteral("https://example.com/?a=1&b=2\u00a9=3");
    QTest::newRow("entity split by a tag is not one")
        << QStringLiteral("&am<b></b>p;") << QStringLiteral("&amp;");
}

void TestHtmlText::entities()
{
    compareRow();
}

void TestHtmlText::linksAndImages_data()
{
    addColumns();

    // A link keeps its address after its text (the text alone said nowhere
    // where the link went), with entities decoded.
    QTest::newRow("link") << QStringLiteral("<a href=\"https://example.com/x?a=1&amp;b=2\">Read more</a>")
                          << QStringLiteral("Read more <https://example.com/x?a=1&b=2>");
    QTest::newRow("link with markup inside")
        << QStringLiteral("<a href=x><span style=\"color:#1155cc\"><b>Click</b> here</span></a>")
        << QStringLiteral("Click here");
    QTest::newRow("mailto link in a sentence")
        << QStringLiteral("Write to <a href=\"mailto:bob@example.com\">bob@example.com</a>.")
        << QStringLiteral("Write to bob@example.com.");
    QTest::newRow("A HREF in capitals") << QStringLiteral("<A HREF='x'>Go</A>") << QStringLiteral("Go");
    QTest::newRow("empty link") << QStringLiteral("a<a href=x></a>b") << QStringLiteral("ab");
    QTest::newRow("img alt") << QStringLiteral("<img src=\"cid:logo@01DA\" alt=\"ACME Corp\">")
                             << QStringLiteral("ACME Corp");
    QTest::newRow("IMG ALT in capitals") << QStringLiteral("<IMG SRC=\"x.png\" ALT=\"Logo\">")
                                         << QStringLiteral("Logo");
    QTest::newRow("alt in single quotes with an entity")
        << QStringLiteral("<img alt='Tom &amp; Jerry' src=x>") << QStringLiteral("Tom & Jerry");
    QTest::newRow("unquoted alt") << QStringLiteral("<img alt=Logo src=x>") << QStringLiteral("Logo");
    QTest::newRow("alt holding >") << QStringLiteral("<img alt=\"a > b\" src=x>c") << QStringLiteral("a > bc");
    QTest::newRow("self-closing img") << QStringLiteral("<img src=\"x\" alt=\"Logo\" />") << QStringLiteral("Logo");
    QTest::newRow("img without alt") << QStringLiteral("a<img src=\"spacer.gif\" width=\"1\" height=\"1\">b")
                                     << QStringLiteral("ab");
    QTest::newRow("img with empty alt") << QStringLiteral("a<img alt=\"\" src=x>b") << QStringLiteral("ab");
    QTest::newRow("img in a sentence") << QStringLiteral("Hello <img alt=\"[smile]\" src=x> there")
                                       << QStringLiteral("Hello [smile] there");
    QTest::newRow("alt white space collapses")
        << QStringLiteral("<img alt=\"  Big\n  Sale  \">") << QStringLiteral("Big Sale");
    QTest::newRow("linked banner") << QStringLiteral("<a href=\"x\"><img src=\"banner.png\" alt=\"Summer Sale\"></a>")
                                   << QStringLiteral("Summer Sale");
    QTest::newRow("first alt wins") << QStringLiteral("<img alt=\"one\" alt=\"two\">") << QStringLiteral("one");
    QTest::newRow("alt on other elements is not output")
        << QStringLiteral("<area alt=\"x\"><input type=\"image\" alt=\"y\">z") << QStringLiteral("z");
    QTest::newRow("http link") << QStringLiteral("See <a href=\"http://example.com/a\">the page</a>.")
                               << QStringLiteral("See the page <http://example.com/a>.");
    QTest::newRow("ftp link") << QStringLiteral("<a href=\"ftp://ftp.example.com/pub/\">Files</a>")
                              << QStringLiteral("Files <ftp://ftp.example.com/pub/>");
    QTest::newRow("mailto link with other text")
        << QStringLiteral("<a href=\"mailto:bob@example.com\">Write to Bob</a>")
        << QStringLiteral("Write to Bob <mailto:bob@example.com>");
    QTest::newRow("mailto link whose text is the address in other case")
        << QStringLiteral("<a href=\"mailto:Bob@Example.com\">bob@example.com</a>") << QStringLiteral("bob@example.com");
    QTest::newRow("mailto link whose text is the whole URL")
        << QStringLiteral("<a href=\"mailto:bob@example.com\">mailto:bob@example.com</a>")
        << QStringLiteral("mailto:bob@example.com");
    QTest::newRow("mailto with a subject shows it")
        << QStringLiteral("<a href=\"mailto:bob@example.com?subject=Hi\">bob@example.com</a>")
        << QStringLiteral("bob@example.com <mailto:bob@example.com?subject=Hi>");
    QTest::newRow("text is the URL") << QStringLiteral("<a href=\"https://example.com/x\">https://example.com/x</a>")
                                     << QStringLiteral("https://example.com/x");
    QTest::newRow("text is the URL without its final /")
        << QStringLiteral("<a href=\"https://example.com/\">https://example.com</a>") << QStringLiteral("https://example.com");
    QTest::newRow("text is the URL inside markup")
        << QStringLiteral("Go to <a href=\"https://example.com/x\"><b> https://example.com/x </b></a> now")
        << QStringLiteral("Go to https://example.com/x now");
    QTest::newRow("text naming another address shows the real one")
        << QStringLiteral("<a href=\"https://evil.example/login\">https://bank.example/login</a>")
        << QStringLiteral("https://bank.example/login <https://evil.example/login>");
    QTest::newRow("empty href") << QStringLiteral("<a href=\"\">Nowhere</a> else") << QStringLiteral("Nowhere else");
    QTest::newRow("href of white space") << QStringLiteral("<a href=\"  \">x</a>") << QStringLiteral("x");
    QTest::newRow("no href (an anchor)") << QStringLiteral("<a name=\"top\">Top</a>") << QStringLiteral("Top");
    QTest::newRow("href without a value") << QStringLiteral("<a href>Top</a>") << QStringLiteral("Top");
    QTest::newRow("fragment") << QStringLiteral("<a href=\"#top\">Back to top</a>") << QStringLiteral("Back to top");
    QTest::newRow("relative path") << QStringLiteral("<a href=\"/account/settings\">Settings</a>")
                                   << QStringLiteral("Settings");
    QTest::newRow("protocol-relative") << QStringLiteral("<a href=\"//example.com/x\">x</a>") << QStringLiteral("x");
    QTest::newRow("javascript:") << QStringLiteral("<a href=\"javascript:alert(1)\">Click</a>") << QStringLiteral("Click");
    QTest::newRow("JavaScript: in capitals with spaces")
        << QStringLiteral("<a href=\"  JavaScript:alert(1)\">Click</a>") << QStringLiteral("Click");
    QTest::newRow("javascript: split by a tab entity")
        << QStringLiteral("<a href=\"java&#9;script:alert(1)\">Click</a>") << QStringLiteral("Click");
    QTest::newRow("javascript: split by a newline")
        << QStringLiteral("<a href=\"java\nscript:alert(1)\">Click</a>") << QStringLiteral("Click");
    QTest::newRow("javascript: with an entity colon")
        << QStringLiteral("<a href=\"javascript&#58;alert(1)\">Click</a>") << QStringLiteral("Click");
    QTest::newRow("data:") << QStringLiteral("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">Open</a>")
                           << QStringLiteral("Open");
    QTest::newRow("vbscript:") << QStringLiteral("<a href=\"vbscript:msgbox(1)\">Open</a>") << QStringLiteral("Open");
    QTest::newRow("file:") << QStringLiteral("<a href=\"file:///etc/passwd\">Open</a>") << QStringLiteral("Open");
    QTest::newRow("other schemes") << QStringLiteral("<a href=\"tel:+441234\">Call</a> <a href=\"cid:x\">See</a>")
                                   << QStringLiteral("Call See");
    QTest::newRow("http without a host") << QStringLiteral("<a href=\"https:\">a</a><a href=\"http:///x\">b</a>")
                                         << QStringLiteral("ab");
    QTest::newRow("mailto without an address") << QStringLiteral("<a href=\"mailto:\">Mail</a>")
                                               << QStringLiteral("Mail");
    QTest::newRow("scheme in capitals is shown in lower case")
        << QStringLiteral("<a href=\"HTTPS://Example.com/Path\">Go</a>") << QStringLiteral("Go <https://Example.com/Path>");
    QTest::newRow("white space around the href trimmed")
        << QStringLiteral("<a href=\"\n  https://example.com/x \t\">Go</a>") << QStringLiteral("Go <https://example.com/x>");
    QTest::newRow("newlines inside the href removed")
        << QStringLiteral("<a href=\"https://example.com/very/\r\nlong/path\">Go</a>")
        << QStringLiteral("Go <https://example.com/very/long/path>");
    QTest::newRow("spaces, quotes and angle brackets inside the href encoded")
        << QStringLiteral("<a href='https://example.com/a b\"<c>'>Go</a>")
        << QStringLiteral("Go <https://example.com/a%20b%22%3Cc%3E>");
    QTest::newRow("entities in the href")
        << QStringLiteral("<a href=\"https://example.com/?a=1&amp;b=2&#38;c=&#x33;&quot;\">Go</a>")
        << QStringLiteral("Go <https://example.com/?a=1&b=2&c=3%22>");
    QTest::newRow("legacy entity before = in the href stays as written")
        << QStringLiteral("<a href=\"https://example.com/?a=1&copy=2&amp=3\">Go</a>")
        << QStringLiteral("Go <https://example.com/?a=1&copy=2&amp=3>");
    QTest::newRow("unquoted href") << QStringLiteral("<a href=https://example.com/x>Go</a>")
                                   << QStringLiteral("Go <https://example.com/x>");
    QTest::newRow("HREF in capitals, other attributes first")
        << QStringLiteral("<A TARGET=_blank HREF='https://example.com/x' title=\"t\">Go</A>")
        << QStringLiteral("Go <https://example.com/x>");
    QTest::newRow("first href wins")
        << QStringLiteral("<a href=\"https://one.example/\" href=\"https://two.example/\">Go</a>")
        << QStringLiteral("Go <https://one.example/>");
    QTest::newRow("image link without alt") << QStringLiteral("a <a href=\"https://example.com/\"><img src=x></a> b")
                                            << QStringLiteral("a <https://example.com/> b");
    QTest::newRow("link of only white space")
        << QStringLiteral("a<a href=\"https://example.com/\"> &nbsp; </a>b") << QStringLiteral("a <https://example.com/>b");
    QTest::newRow("empty link with an address")
        << QStringLiteral("a<a href=\"https://example.com/\"></a>b") << QStringLiteral("a<https://example.com/>b");
    QTest::newRow("linked image with alt")
        << QStringLiteral("<a href=\"https://example.com/sale\"><img src=\"banner.png\" alt=\"Summer Sale\"></a>")
        << QStringLiteral("Summer Sale <https://example.com/sale>");
    QTest::newRow("link in a list item")
        << QStringLiteral("<ul><li><a href=\"https://example.com/1\">One</a></li><li><a href=\"https://example.com/2\">"
                          "Two</a></li></ul>")
        << QStringLiteral("- One <https://example.com/1>\n- Two <https://example.com/2>");
    QTest::newRow("link holding a block") << QStringLiteral("<a href=\"https://example.com/\"><div>Big button</div></a>Next")
                                          << QStringLiteral("Big button <https://example.com/>\nNext");
    QTest::newRow("link in pre") << QStringLiteral("<pre>see  <a href=\"https://example.com/\">here</a>  ok</pre>")
                                 << QStringLiteral("see  here <https://example.com/>  ok");
    QTest::newRow("a new link ends the open one")
        << QStringLiteral("<a href=\"https://one.example/\">one<a href=\"https://two.example/\">two</a>")
        << QStringLiteral("one <https://one.example/>two <https://two.example/>");
    QTest::newRow("an anchor ends the open link")
        << QStringLiteral("<a href=\"https://one.example/\">one<a name=x>two</a>") << QStringLiteral("one <https://one.example/>two");
    QTest::newRow("link left open runs to the end")
        << QStringLiteral("<p><a href=\"https://example.com/\">Read more</p>") << QStringLiteral("Read more <https://example.com/>");
    QTest::newRow("stray end tag") << QStringLiteral("a</a>b") << QStringLiteral("ab");
    QTest::newRow("link in the head is not shown")
        << QStringLiteral("<head><a href=\"https://example.com/\">x</a></head><body>Hi") << QStringLiteral("Hi");
    QTest::newRow("link in a template is not shown")
        << QStringLiteral("A<template><a href=\"https://example.com/\">x</a></template>B") << QStringLiteral("AB");
    QTest::newRow("link ending inside a template is not shown")
        << QStringLiteral("A<a href=\"https://example.com/\">x<template></a></template>B") << QStringLiteral("AxB");
    QTest::newRow("link text in a comment is not text")
        << QStringLiteral("<a href=\"https://example.com/\"><!-- https://example.com/ --></a>")
        << QStringLiteral("<https://example.com/>");
    QTest::newRow("tracking pixel only")
        << QStringLiteral("<img src=\"https://t.example.com/open.gif?id=1\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\" />")
        << QString();
}

void TestHtmlText::linksAndImages()
{
    compareRow();
}

void TestHtmlText::mailClients_data()
{
    addColumns();

    QTest::newRow("Outlook desktop (Word HTML)")
        << QStringLiteral("<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns=\"http://www.w3.org/TR/REC-html40\">"
                          "\n"
                          "<head>\n"
                          "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=us-ascii\">\n"
                          "<meta name=\"Generator\" content=\"Microsoft Word 15 (filtered medium)\">\n"
                          "<!--[if !mso]><style>v\\:* {behavior:url(#default#VML);}\n"
                          "o\\:* {behavior:url(#default#VML);}\n"
                          "</style><![endif]--><style><!--\n"
                          "/* Font Definitions */\n"
                          "@font-face\n"
                          "\t{font-family:\"Cambria Math\";\n"
                          "\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n"
                          "p.MsoNormal, li.MsoNormal, div.MsoNormal\n"
                          "\t{margin:0cm;\n"
                          "\tfont-size:11.0pt;\n"
                          "\tfont-family:\"Calibri\",sans-serif;}\n"
                          "--></style><!--[if gte mso 9]><xml>\n"
                          "<o:shapedefaults v:ext=\"edit\" spidmax=\"1026\" />\n"
                          "</xml><![endif]-->\n"
                          "</head>\n"
                          "<body lang=\"EN-GB\" link=\"#0563C1\" vlink=\"#954F72\" style=\"word-wrap:break-word\">\n"
                          "<div class=\"WordSection1\">\n"
                          "<p class=\"MsoNormal\">Hi Bob,<o:p></o:p></p>\n"
                          "<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"
                          "<p class=\"MsoNormal\">"
                          "The quarterly figures are attached &#8211; let me know if anything&#8217;s missing.<o:p></o:p></p>\n"
                          "<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\n"
                          "<p class=\"MsoNormal\">Kind regards,<o:p></o:p></p>\n"
                          "<p class=\"MsoNormal\">Alice<o:p></o:p></p>\n"
                          "</div>\n"
                          "</body>\n"
                          "</html>\n")
        << QStringLiteral("Hi Bob,\n\nThe quarterly figures are attached \u2013 let me know if anything\u2019s missing."
                          "\n\nKind regards,\n\nAlice");

    QTest::newRow("Outlook list paragraphs")
        << QStringLiteral("<p class=MsoListParagraph style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]>"
                          "<span style='font-family:Symbol'><span style='mso-list:Ignore'>"
                          "&middot;<span style='font:7.0pt \"Times New Roman\"'>"
                          "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>First point<o:p></o:p></p>"
                          "\n"
                          "<p class=MsoListParagraph style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]>"
                          "<span style='font-family:Symbol'><span style='mso-list:Ignore'>"
                          "&middot;<span style='font:7.0pt \"Times New Roman\"'>"
                          "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>Second point<o:p></o:p>"
                          "</p>")
        << QStringLiteral("\u00b7 First point\n\n\u00b7 Second point");

    QTest::newRow("Outlook reply header")
        << QStringLiteral("<p class=\"MsoNormal\">Done.<o:p></o:p></p>\n"
                          "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\n"
                          "<p class=\"MsoNormal\"><b>From:</b> Bob Smith &lt;bob@example.com&gt; <br>\n"
                          "<b>Sent:</b> Monday, 3 June 2024 09:14<br>\n"
                          "<b>To:</b> Alice &lt;alice@example.com&gt;<br>\n"
                          "<b>Subject:</b> Re: Figures<o:p></o:p></p>\n"
                          "</div>")
        << QStringLiteral("Done.\n\nFrom: Bob Smith <bob@example.com>\nSent: Monday, 3 June 2024 09:14\n"
                          "To: Alice <alice@example.com>\nSubject: Re: Figures");

    QTest::newRow("Outlook on the web")
        << QStringLiteral("<div style=\"font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);\">"
                          "Hello<br></div><div id=\"appendonsend\"></div>"
                          "<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\"><div id=\"divRplyFwdMsg\" dir=\"ltr\">"
                          "<font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\"><b>From:</b> Bob<br>"
                          "<b>Sent:</b> Monday<br></font><div>&nbsp;</div></div>")
        << QStringLiteral("Hello\nFrom: Bob\nSent: Monday");

    QTest::newRow("Gmail reply with quote")
        << QStringLiteral("<div dir=\"ltr\">Hi Alice,<div><br></div><div>Sounds good &mdash; see you Thursday.</div><div><br>"
                          "</div><div>Bob</div></div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
                          "On Mon, 3 Jun 2024 at 09:14, Alice &lt;<a href=\"mailto:alice@example.com\">alice@example.com</a>"
                          "&gt; wrote:<br></div>"
                          "<blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">"
                          "Are we still on for Thursday?</blockquote></div>\n")
        << QStringLiteral("Hi Alice,\n\nSounds good \u2014 see you Thursday.\n\nBob\n\n"
                          "On Mon, 3 Jun 2024 at 09:14, Alice <alice@example.com> wrote:\nAre we still on for Thursday?");

    QTest::newRow("Gmail lines with br")
        << QStringLiteral("<div dir=\"ltr\">Line one<br>Line two<br><br>Paragraph two<br></div>")
        << QStringLiteral("Line one\nLine two\n\nParagraph two");

    QTest::newRow("Gmail nested list")
        << QStringLiteral("<div dir=\"ltr\">Agenda:<ul><li>Budget<ul><li>Q3</li><li>Q4</li></ul></li>"
                          "<li style=\"margin-left:15px\">AOB</li></ul><div>Bob</div></div>")
        << QStringLiteral("Agenda:\n- Budget\n- Q3\n- Q4\n- AOB\nBob");

    QTest::newRow("Apple Mail")
        << QStringLiteral("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"></head>"
                          "<body style=\"word-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;\" class=\"\">"
                          "Hi team,<div class=\"\"><br class=\"\"></div><div class=\"\">Notes from today:</div><div class=\"\">"
                          "<ul class=\"MailOutline\"><li class=\"\">Launch moved to <b class=\"\">Friday</b></li>"
                          "<li class=\"\">Budget approved</li></ul><div class=\"\"><br class=\"\"></div></div><div class=\"\">"
                          "Thanks,<br class=\"\"><div class=\"\">Carol<br class=\"\"><div class=\"\"><br class=\"\"></div>"
                          "</div></div></body></html>")
        << QStringLiteral("Hi team,\n\nNotes from today:\n- Launch moved to Friday\n- Budget approved\n\nThanks,\nCarol");

    QTest::newRow("Apple Mail converted space")
        << QStringLiteral("Hello<span class=\"Apple-converted-space\">&nbsp;</span>world")
        << QStringLiteral("Hello world");

    QTest::newRow("Thunderbird quote in pre")
        << QStringLiteral("<p>Thanks!</p><div class=\"moz-cite-prefix\">On 03/06/2024 09:14, Bob wrote:<br></div>"
                          "<blockquote type=\"cite\"><pre class=\"moz-quote-pre\" wrap=\"\">Can you  send the\n"
                          "figures?\n</pre></blockquote>")
        << QStringLiteral("Thanks!\n\nOn 03/06/2024 09:14, Bob wrote:\nCan you  send the\nfigures?");

    QTest::newRow("table layout newsletter")
        << QStringLiteral("<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">"
                          "\n"
                          "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n"
                          "<head>\n"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
                          "<title>The Weekly Digest</title>\n"
                          "<style type=\"text/css\">\n"
                          "  body { margin: 0; }\n"
                          "  @media only screen and (max-width: 480px) { td[class=\"col\"] { display: block !important; } }\n"
                          "</style>\n"
                          "</head>\n"
                          "<body>\n"
                          "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"#f4f4f4\">\n"
                          "  <tr>\n"
                          "    <td align=\"center\">\n"
                          "      <table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">\n"
                          "        <tr><td height=\"20\">&nbsp;</td></tr>\n"
                          "        <tr>\n"
                          "          <td><a href=\"https://example.com/?utm_source=newsletter&amp;utm_medium=email\">"
                          "<img src=\"https://example.com/logo.png\" alt=\"The Weekly Digest\" width=\"200\" border=\"0\" />"
                          "</a></td>\n"
                          "        </tr>\n"
                          "        <tr>\n"
                          "          <td class=\"col\">\n"
                          "            <h1 style=\"font-size:24px\">This week&rsquo;s top stories</h1>\n"
                          "            <p>Five things you missed&hellip;</p>\n"
                          "          </td>\n"
                          "        </tr>\n"
                          "        <tr>\n"
                          "          <td class=\"col\" width=\"290\">Story one</td>\n"
                          "          <td width=\"20\">&nbsp;</td>\n"
                          "          <td class=\"col\" width=\"290\">Story two</td>\n"
                          "        </tr>\n"
                          "        <tr>\n"
                          "          <td align=\"center\" style=\"font-size:12px;color:#999999\">\n"
                          "            &copy; 2024 Example Ltd &middot; <a href=\"https://example.com/unsubscribe\">"
                          "Unsubscribe</a>\n"
                          "          </td>\n"
                          "        </tr>\n"
                          "      </table>\n"
                          "    </td>\n"
                          "  </tr>\n"
                          "</table>\n"
                          "<img src=\"https://t.example.com/open?id=123\" width=\"1\" height=\"1\" alt=\"\" />\n"
                          "</body>\n"
                          "</html>\n")
        << QStringLiteral("The Weekly Digest <https://example.com/?utm_source=newsletter&utm_medium=email>\n\n"
                          "This week\u2019s top stories\n\nFive things you missed\u2026\n\n"
                          "Story one\tStory two\n\u00a9 2024 Example Ltd \u00b7 Unsubscribe <https://example.com/unsubscribe>");

    QTest::newRow("newsletter entities without ; and &nbsp; runs")
        << QStringLiteral("<p>Save 20&#37 today&nbsp;&nbsp;&nbsp;&mdash;&nbsp;&nbsp;ends Sunday&#8230</p>"
                          "<p>Prices in &pound&nbsp;incl. VAT &amp delivery</p>")
        << QStringLiteral("Save 20% today \u2014 ends Sunday\u2026\n\nPrices in \u00a3 incl. VAT & delivery");

    QTest::newRow("newsletter with hidden preheader script and tracking")
        << QStringLiteral("<html><head><style>/* hide on <600px */ .hide{display:none}</style>"
                          "<script type=\"application/ld+json\">{\"@type\": \"EmailMessage\", \"description\": \"</div>"
                          "\"}</script></head>\n"
                          "<body><center><table role=\"presentation\"><tr><td><h2>Your order has shipped</h2></td></tr>\n"
                          "<tr><td>Order&nbsp;#1234 &middot; 2&nbsp;items</td></tr>\n"
                          "<tr><td><a href=\"https://example.com/track?o=1234&amp;u=9\">Track your parcel &rarr;</a></td></tr>"
                          "</table></center>\n"
                          "<img src=\"https://t.example.com/o.gif\" width=\"1\" height=\"1\"></body></html>")
        << QStringLiteral("Your order has shipped\n\nOrder #1234 \u00b7 2 items\n"
                          "Track your parcel \u2192 <https://example.com/track?o=1234&u=9>");
}

void TestHtmlText::mailClients()
{
    compareRow();
}

// The performance cases check the result, and print the time for the
// record: a pass/fail on time would be flaky on a loaded machine.

void TestHtmlText::millionNestedDivs()
{
    const QString input = QStringLiteral("<div>").repeated(1'000'000) + QStringLiteral("deep")
        + QStringLiteral("</div>").repeated(1'000'000);
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(result, QStringLiteral("deep"));
    qInfo("1,000,000 nested <div>s (%lld characters): %lld ms", qint64(input.size()), elapsed);
}

void TestHtmlText::unterminatedScript()
{
    const QString input = QStringLiteral("<p>Before</p><script>")
        + tenMegabytesOf(QStringLiteral("if (a < b && c </scrip> d) { s = '</scr' + 'ipt>' + '<!--'; }\n"));
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(result, QStringLiteral("Before"));
    qInfo("unterminated <script> (%lld characters): %lld ms", qint64(input.size()), elapsed);
}

void TestHtmlText::unterminatedComment()
{
    const QString input =
        QStringLiteral("Before<!--") + tenMegabytesOf(QStringLiteral("-- > <p>x</p> - -> <!-- <![CDATA[ ]]> -"));
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(result, QStringLiteral("Before"));
    qInfo("unterminated comment (%lld characters): %lld ms", qint64(input.size()), elapsed);
}

void TestHtmlText::unterminatedQuotedAttribute()
{
    const QString input =
        QStringLiteral("Before<a title=\"") + tenMegabytesOf(QStringLiteral("text > <b>bold</b> <br> '"));
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(result, QStringLiteral("Before"));
    qInfo("unterminated quoted attribute (%lld characters): %lld ms", qint64(input.size()), elapsed);
}

// Long runs after '&' that turn out not to be entities are scanned once and
// kept as written.
void TestHtmlText::entityLikeRuns()
{
    const QString letters = u'&' + QString(5'000'000, u'a');
    const QString digits = QStringLiteral("&#") + QString(5'000'000, u'9') + u'z';
    QElapsedTimer timer;
    timer.start();
    const QString lettersResult = htmlToText(letters);
    const QString digitsResult = htmlToText(digits);
    const qint64 elapsed = timer.elapsed();
    QCOMPARE(lettersResult, letters);
    QCOMPARE(digitsResult, digits);
    qInfo("entity-like runs (%lld characters): %lld ms", qint64(letters.size() + digits.size()), elapsed);
}

void TestHtmlText::largeNewsletter()
{
    const QString row = QStringLiteral("<tr><td class=\"col\">Item&nbsp;&amp;&#x41;</td><td>&nbsp;</td>"
                                       "<td><a href=\"https://example.com/?a=1&amp;b=2\">Buy</a></td></tr>\n"
                                       "<!-- spacer --><tr><td><br></td></tr>\n");
    const int rows = int(10'000'000 / row.size());
    const QString input = QStringLiteral("<table>") + row.repeated(rows) + QStringLiteral("</table>");
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    // Each row's <br> cell makes the blank line between two item lines.
    QString expected = QStringLiteral("Item &A\tBuy <https://example.com/?a=1&b=2>\n\n").repeated(rows);
    expected.chop(2);
    QCOMPARE(result, expected);
    qInfo("table newsletter, %d rows (%lld characters): %lld ms", rows, qint64(input.size()), elapsed);
}

// Each link's text is compared with its address once, and links do not
// nest: a link left open is ended by the next one.
void TestHtmlText::manyLinks()
{
    const QString unit = QStringLiteral("<a href=\"https://example.com/?a=1&amp;b=2\">Buy</a> "
                                        "<a href=\"https://example.com/\">https://example.com/</a> "
                                        "<a href=\"https://example.com/open\">open ");
    const QString input = tenMegabytesOf(unit);
    const qsizetype units = input.size() / unit.size();
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    QString expected = QStringLiteral("Buy <https://example.com/?a=1&b=2> https://example.com/ open <https://example.com/open> ")
                           .repeated(units);
    expected.chop(1);
    QCOMPARE(result, expected);
    qInfo("%lld links (%lld characters): %lld ms", qint64(units * 3), qint64(input.size()), elapsed);
}

// The address goes right after a link's text, before the white space that
// followed it inside the link: moving that white space costs its length once.
void TestHtmlText::linkTextOfWhiteSpaceInPre()
{
    const QString unit = QStringLiteral("<a href=\"https://example.com/\">x") + QString(1000, u' ') + QStringLiteral("</a>");
    const QString input = QStringLiteral("<pre>") + tenMegabytesOf(unit) + QStringLiteral("y</pre>");
    const qsizetype units = (input.size() - 12) / unit.size();
    QElapsedTimer timer;
    timer.start();
    const QString result = htmlToText(input);
    const qint64 elapsed = timer.elapsed();
    const QString expected =
        QString(QStringLiteral("x <https://example.com/>") + QString(1000, u' ')).repeated(units) + u'y';
    QCOMPARE(result, expected);
    qInfo("%lld links in pre (%lld characters): %lld ms", qint64(units), qint64(input.size()), elapsed);
}

QTEST_GUILESS_MAIN(TestHtmlText)
#include "tst_htmltext.moc"
