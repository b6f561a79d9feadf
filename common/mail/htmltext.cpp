#include "htmltext.h"

#include "htmlsyntax_p.h"

#include <algorithm>
#include <string_view>
#include <utility>

// One forward pass over the input with a handful of counters and flags: no
// element stack and no recursion, so a million nested <div>s cost no more
// than a million <br>s. Every search that can fail (an unterminated comment,
// script or quoted attribute) ends the input when it does, so no character
// is looked at more than a few times and the time stays linear.

namespace {

using namespace HtmlSyntax;

// Builds the output line by line. Line breaks, spaces, tabs and bullets are
// only requested, and written when the next visible character arrives: that
// is what drops spaces at line ends, keeps at most one blank line in a row
// and leaves no blank lines or white space at either end.
class PlainTextWriter
{
public:
    void setPreformatted(bool on) { m_pre = on; }

    void character(QChar c)
    {
        const char16_t u = c.unicode();
        if (m_pre) {
            if (u == u'\n' || u == u'\r') {
                lineBreak();
                return;
            }
            // Indentation is kept, but a line of nothing but white space is
            // a blank line like any other.
            if (!m_lineHasText && (u == u' ' || u == u'\t' || u == u'\f')) {
                m_indent.append(c);
                return;
            }
        } else if (isHtmlSpace(u)) {
            if (m_lineHasText && !m_tab)
                m_space = true;
            return;
        }
        startContent();
        m_out.append(c);
    }

    void lineBreak()
    {
        flushBullet();
        endLine();
        m_newlines = std::min(m_newlines + 1, 2);
    }

    // newlines: 1 for a block element, 2 (a blank line) for a paragraph.
    void blockBoundary(int newlines, bool endTag)
    {
        // "<li><p>Item</p></li>" (lists pasted from Google Docs) keeps the
        // item on its bullet's line; only an end tag shows an empty item's
        // bullet.
        if (m_bullet && !endTag)
            return;
        flushBullet();
        endLine();
        m_newlines = std::max(m_newlines, newlines);
    }

    void listItem()
    {
        flushBullet(); // an empty <li> without an end tag still shows
        blockBoundary(1, false);
        m_bullet = true;
    }

    void cellStart()
    {
        // Requested, not written: empty spacer cells of table layouts add
        // nothing, and no line starts or ends with a tab.
        if (m_lineHasText) {
            m_tab = true;
            m_space = false;
        }
    }

    // A link's text starts with the next visible character written: the
    // bullet, line breaks and space requested before it are not part of it.
    void beginLinkText()
    {
        m_linkTextPending = true;
        m_linkTextStart = -1;
    }

    // What was written since beginLinkText(), white space at either end left
    // out; valid until the next write.
    [[nodiscard]] QStringView linkText() const
    {
        if (m_linkTextStart < 0)
            return {};
        QStringView text = QStringView(m_out).sliced(m_linkTextStart);
        while (!text.isEmpty() && isHtmlSpace(text.back().unicode()))
            text.chop(1);
        return text;
    }

    // Ends the open link with its address: " <URL>" right after its text,
    // before the white space and line breaks that followed the text inside
    // the link, so "<a><div>Button</div></a>Next" gives "Button <URL>" on a
    // line of its own; "<URL>" as new text when the link has none.
    void endLink(QStringView url)
    {
        const QStringView text = linkText();
        if (text.isEmpty()) {
            endLinkText();
            character(u'<');
            for (const QChar c : url)
                character(c);
            character(u'>');
            return;
        }
        // Only white space follows the text, and each character of output
        // is inside at most one link: linear overall.
        const qsizetype end = m_linkTextStart + text.size();
        endLinkText();
        const QString target = QStringLiteral(" <") + url + u'>';
        m_out.insert(end, target);
    }

    void endLinkText()
    {
        m_linkTextPending = false;
        m_linkTextStart = -1;
    }

    [[nodiscard]] QString finish()
    {
        flushBullet();
        // Only a <pre> line can end in written white space.
        qsizetype end = m_out.size();
        while (end > 0 && isHtmlSpace(m_out.at(end - 1).unicode()))
            --end;
        m_out.truncate(end);
        return std::move(m_out);
    }

private:
    void beginLine()
    {
        if (m_lineHasText)
            return;
        if (!m_out.isEmpty()) {
            for (int i = 0; i < m_newlines; ++i)
                m_out.append(u'\n');
            m_out.append(m_indent);
        }
        m_newlines = 0;
        m_indent.clear();
        m_lineHasText = true;
    }

    void startContent()
    {
        flushBullet();
        beginLine();
        if (m_tab)
            m_out.append(u'\t');
        else if (m_space)
            m_out.append(u' ');
        m_tab = false;
        m_space = false;
        if (m_linkTextPending) {
            m_linkTextPending = false;
            m_linkTextStart = m_out.size();
        }
    }

    void flushBullet()
    {
        if (!m_bullet)
            return;
        m_bullet = false;
        beginLine();
        m_out.append(u'-');
        m_space = true; // written only if the item has text: "- Item", or "-"
    }

    void endLine()
    {
        m_lineHasText = false;
        m_space = false;
        m_tab = false;
        m_indent.clear();
    }

    QString m_out;
    QString m_indent; // white space opening a <pre> line, written if text follows
    int m_newlines = 0; // requested before the next text, at most 2
    bool m_lineHasText = false;
    bool m_space = false;
    bool m_tab = false;
    bool m_bullet = false;
    bool m_pre = false;
    bool m_linkTextPending = false;
    qsizetype m_linkTextStart = -1; // where the open link's text starts in m_out
};

class Reducer
{
public:
    explicit Reducer(QStringView html)
        : m_html(html)
    {
    }

    QString run()
    {
        const qsizetype size = m_html.size();
        qsizetype i = 0;
        while (i < size) {
            qsizetype lt = m_html.indexOf(u'<', i);
            if (lt < 0)
                lt = size;
            if (lt > i)
                text(m_html.sliced(i, lt - i));
            if (lt == size)
                break;
            i = markup(lt);
        }
        closeLink(); // a link left open runs to the end, as in browsers
        return m_writer.finish();
    }

private:
    [[nodiscard]] bool suppressed() const { return m_inHead || m_templateDepth > 0; }

    // Past the next terminator at or after from; the end of the input when
    // there is none, which drops an unterminated comment or tag.
    [[nodiscard]] qsizetype skipPast(QStringView terminator, qsizetype from) const
    {
        const qsizetype at = m_html.indexOf(terminator, from);
        return at < 0 ? m_html.size() : at + terminator.size();
    }

    // Attributes from i up to the tag's '>' (quotes respected, so
    // title="a>b" does not end the tag); returns the index past the '>', or
    // -1 when the input ends first. The value of the first attribute named
    // `wanted` (lower case) goes to *value.
    [[nodiscard]] qsizetype skipAttributes(qsizetype i, std::string_view wanted = {},
                                           QStringView *value = nullptr) const
    {
        const qsizetype size = m_html.size();
        bool seen = false;
        for (;;) {
            while (i < size && (isHtmlSpace(m_html[i].unicode()) || m_html[i] == u'/'))
                ++i;
            if (i >= size)
                return -1;
            if (m_html[i] == u'>')
                return i + 1;
            const qsizetype nameStart = i++; // may be '=': "<a =x>" names an attribute "=x"
            while (i < size && !isHtmlSpace(m_html[i].unicode()) && m_html[i] != u'/' && m_html[i] != u'>'
                   && m_html[i] != u'=')
                ++i;
            const QStringView name = m_html.sliced(nameStart, i - nameStart);
            while (i < size && isHtmlSpace(m_html[i].unicode()))
                ++i;
            if (i >= size)
                return -1;
            if (m_html[i] != u'=')
                continue;
            ++i;
            while (i < size && isHtmlSpace(m_html[i].unicode()))
                ++i;
            if (i >= size)
                return -1;
            QStringView attributeValue;
            const QChar quote = m_html[i];
            if (quote == u'"' || quote == u'\'') {
                const qsizetype close = m_html.indexOf(quote, i + 1);
                if (close < 0)
                    return -1;
                attributeValue = m_html.sliced(i + 1, close - i - 1);
                i = close + 1;
            } else {
                const qsizetype valueStart = i;
                while (i < size && !isHtmlSpace(m_html[i].unicode()) && m_html[i] != u'>')
                    ++i;
                attributeValue = m_html.sliced(valueStart, i - valueStart);
            }
            if (value && !seen && equalsAsciiCaseInsensitive(name, wanted)) {
                *value = attributeValue;
                seen = true;
            }
        }
    }

    // At a '<': handles the tag, comment or declaration there and returns
    // where text resumes.
    qsizetype markup(qsizetype lt)
    {
        const qsizetype size = m_html.size();
        const char16_t next = lt + 1 < size ? m_html[lt + 1].unicode() : u'\0';
        if (isAsciiLetter(next))
            return tag(lt + 1, false);
        if (next == u'/' && lt + 2 < size && isAsciiLetter(m_html[lt + 2].unicode()))
            return tag(lt + 2, true);
        if (next == u'/' || next == u'!' || next == u'?') {
            m_preJustOpened = false;
            const QStringView rest = m_html.sliced(lt);
            // "<!-->" and "<!--->" are complete (empty) comments, hence the
            // search from the first '-'.
            if (rest.startsWith(u"<!--"))
                return skipPast(u"-->", lt + 2);
            if (rest.startsWith(u"<![CDATA["))
                return skipPast(u"]]>", lt + 9);
            // <!DOCTYPE>, <?xml ...?>, Outlook's <![if !supportLists]> and
            // "</ x>" all end at the first '>'.
            return skipPast(u">", lt + 2);
        }
        text(m_html.sliced(lt, 1)); // "a < b", "<3", "<" at the end
        return lt + 1;
    }

    qsizetype tag(qsizetype nameStart, bool endTag)
    {
        const qsizetype size = m_html.size();
        qsizetype i = nameStart;
        while (i < size && !isHtmlSpace(m_html[i].unicode()) && m_html[i] != u'/' && m_html[i] != u'>')
            ++i;
        const TagInfo *info = findTag(m_html.sliced(nameStart, i - nameStart));
        const TagKind kind = info ? info->kind : TagKind::Other;
        // An image's alt text stands in for it; a link's href follows its text.
        QStringView value;
        std::string_view wanted;
        if (!endTag && kind == TagKind::Image)
            wanted = "alt";
        else if (!endTag && kind == TagKind::Link)
            wanted = "href";
        const qsizetype end = skipAttributes(i, wanted, wanted.empty() ? nullptr : &value);
        if (end < 0)
            return size;
        m_preJustOpened = false;
        apply(kind, endTag, value);
        if (kind == TagKind::RawText && !endTag)
            return skipRawText(info->name, end);
        return end;
    }

    // Script and style may hold '<' and even "</div>" in strings; only their
    // own end tag ends them. Without one the rest of the input is dropped.
    qsizetype skipRawText(std::string_view name, qsizetype from)
    {
        const qsizetype size = m_html.size();
        const auto nameLength = qsizetype(name.size());
        for (qsizetype lt = m_html.indexOf(u'<', from); lt >= 0; lt = m_html.indexOf(u'<', lt + 1)) {
            const qsizetype nameStart = lt + 2;
            const qsizetype after = nameStart + nameLength;
            if (after > size || m_html[lt + 1] != u'/'
                || !equalsAsciiCaseInsensitive(m_html.sliced(nameStart, nameLength), name))
                continue;
            if (after < size && !isHtmlSpace(m_html[after].unicode()) && m_html[after] != u'/'
                && m_html[after] != u'>')
                continue; // "</scripts>" does not end a script
            const qsizetype end = skipAttributes(after);
            return end < 0 ? size : end;
        }
        return size;
    }

    // value: an img's alt, an a's href.
    void apply(TagKind kind, bool endTag, QStringView value)
    {
        switch (kind) {
        case TagKind::Link:
            // Links do not nest: a new one ends the one still open, as in
            // browsers. Inline, so a link does not end the head.
            closeLink();
            if (!endTag && !suppressed()) {
                m_linkTarget = linkTarget(value);
                if (!m_linkTarget.isEmpty())
                    m_writer.beginLinkText();
            }
            return;
        case TagKind::Head:
            // A second <head> after the body is ignored, as browsers do, so
            // it cannot hide the rest of the message.
            m_inHead = !endTag && !m_seenBody;
            return;
        case TagKind::Body:
            if (!endTag) {
                m_inHead = false;
                m_seenBody = true;
            }
            return;
        case TagKind::Html:
            if (endTag)
                m_inHead = false;
            return;
        case TagKind::Template:
            if (!endTag)
                ++m_templateDepth;
            else if (m_templateDepth > 0)
                --m_templateDepth;
            return;
        case TagKind::Other:
        case TagKind::RawText:
            return;
        default:
            break;
        }
        // A body element where </head> and <body> were both left out ends
        // the head, so a missing </head> cannot swallow the message.
        if (m_inHead && !endTag)
            m_inHead = false;
        if (suppressed())
            return;

        switch (kind) {
        case TagKind::LineBreak:
            m_writer.lineBreak(); // </br> too, as in browsers
            break;
        case TagKind::Block:
            m_writer.blockBoundary(1, endTag);
            break;
        case TagKind::Paragraph:
            m_writer.blockBoundary(2, endTag);
            break;
        case TagKind::ListItem:
            if (endTag)
                m_writer.blockBoundary(1, true);
            else
                m_writer.listItem();
            break;
        case TagKind::Cell:
            if (!endTag)
                m_writer.cellStart();
            break;
        case TagKind::Pre:
            m_writer.blockBoundary(1, endTag);
            if (!endTag) {
                ++m_preDepth;
                m_preJustOpened = true;
            } else if (m_preDepth > 0) {
                --m_preDepth;
            }
            m_writer.setPreformatted(m_preDepth > 0);
            break;
        case TagKind::Image:
            if (!endTag)
                text(value);
            break;
        default:
            break;
        }
    }

    // The open link's address after its text: "text <URL>", "<URL>" for a
    // link with no text (an image without alt), the text alone when it is
    // the address already. Each character of output is inside at most one
    // link, so the comparison keeps the whole pass linear.
    void closeLink()
    {
        if (m_linkTarget.isEmpty())
            return;
        const QString target = std::exchange(m_linkTarget, {});
        if (suppressed() || textShowsTarget(m_writer.linkText(), target))
            m_writer.endLinkText();
        else
            m_writer.endLink(target);
    }

    void text(QStringView chunk)
    {
        // HTML drops a newline right after <pre>, so "<pre>\ncode" starts
        // with "code".
        const bool skipNewline = std::exchange(m_preJustOpened, false);
        if (suppressed())
            return;
        qsizetype i = 0;
        if (skipNewline && chunk.startsWith(u"\r\n"))
            i = 2;
        else if (skipNewline && (chunk.startsWith(u'\n') || chunk.startsWith(u'\r')))
            i = 1;
        while (i < chunk.size()) {
            const QChar c = chunk[i];
            if (c == u'&') {
                char32_t codePoint = 0;
                if (const qsizetype length = decodeEntity(chunk, i, codePoint)) {
                    if (QChar::requiresSurrogates(codePoint)) {
                        m_writer.character(QChar(QChar::highSurrogate(codePoint)));
                        m_writer.character(QChar(QChar::lowSurrogate(codePoint)));
                    } else {
                        m_writer.character(QChar(char16_t(codePoint)));
                    }
                    i += length;
                    continue;
                }
            } else if (c == u'\r' && i + 1 < chunk.size() && chunk[i + 1] == u'\n') {
                ++i; // CRLF is one line break inside <pre>
                continue;
            }
            m_writer.character(c);
            ++i;
        }
    }

    QStringView m_html;
    PlainTextWriter m_writer;
    qsizetype m_preDepth = 0;
    qsizetype m_templateDepth = 0;
    QString m_linkTarget; // of the open link; empty when none is open or it is not shown
    bool m_inHead = false;
    bool m_seenBody = false;
    bool m_preJustOpened = false;
};

} // namespace

QString htmlToText(QStringView html)
{
    return Reducer(html).run();
}
