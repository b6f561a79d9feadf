#include "messagetext.h"

using namespace Qt::StringLiterals;

namespace MessageText {

namespace {

enum class Kind { Web, Mail, Www };

constexpr char16_t asciiLower(char16_t c)
{
    return c >= u'A' && c <= u'Z' ? char16_t(c + (u'a' - u'A')) : c;
}

bool startsWithAsciiCaseInsensitive(QStringView text, qsizetype at, QStringView lowerPrefix)
{
    if (text.size() - at < lowerPrefix.size())
        return false;
    for (qsizetype i = 0; i < lowerPrefix.size(); ++i) {
        if (asciiLower(text[at + i].unicode()) != lowerPrefix[i].unicode())
            return false;
    }
    return true;
}

// What cannot be inside a URL in running text. Format characters (bidi
// overrides, zero-width spaces) end it too: they would make the address
// shown differ from the address opened.
bool isUrlCharacter(QChar c)
{
    const char16_t u = c.unicode();
    if (u == u'<' || u == u'>' || u == u'"' || u == u'`')
        return false;
    if (c.isSpace())
        return false;
    const QChar::Category category = c.category();
    return category != QChar::Other_Control && category != QChar::Other_Format;
}

// Punctuation that ends a sentence or a quotation rather than a URL.
bool isTrailingPunctuation(QChar c)
{
    const char16_t u = c.unicode();
    if (u < 0x80)
        return QStringView(u".,;:!?'*").contains(c);
    return c.isPunct(); // "…", "»", "”", "。", "」"
}

// "http://www.x" is one address, "a.www.x" or "bob@www.x" none; a scheme
// only starts a URL where a word starts ("xhttp://" is not one).
bool isBoundary(QStringView text, qsizetype at, Kind kind)
{
    if (at == 0)
        return true;
    const QChar before = text[at - 1];
    if (before.isLetterOrNumber() || before == u'_')
        return false;
    if (kind == Kind::Www && QStringView(u".-@/:").contains(before))
        return false;
    return true;
}

// The kind of address whose prefix is at `at`, and the prefix's length; the
// first character after the prefix must be a letter or digit ('[' too for
// an IPv6 host), so that "https://." or "www.." starts nothing.
bool prefixAt(QStringView text, qsizetype at, Kind &kind, qsizetype &length)
{
    const char16_t first = asciiLower(text[at].unicode());
    if (first == u'h' && startsWithAsciiCaseInsensitive(text, at, u"https://")) {
        kind = Kind::Web;
        length = 8;
    } else if (first == u'h' && startsWithAsciiCaseInsensitive(text, at, u"http://")) {
        kind = Kind::Web;
        length = 7;
    } else if (first == u'm' && startsWithAsciiCaseInsensitive(text, at, u"mailto:")) {
        kind = Kind::Mail;
        length = 7;
    } else if (first == u'w' && startsWithAsciiCaseInsensitive(text, at, u"www.")) {
        kind = Kind::Www;
        length = 4;
    } else {
        return false;
    }
    if (at + length >= text.size() || !isBoundary(text, at, kind))
        return false;
    const QChar next = text[at + length];
    return next.isLetterOrNumber() || (kind == Kind::Web && next == u'[');
}

// Where the URL that starts at `start` and may run to `end` really ends:
// trailing punctuation left out, and a closing bracket kept only when the
// URL opened it ("…/Foo_(bar)" keeps its ')', "(see https://x/a)" does not).
qsizetype trimmedEnd(QStringView text, qsizetype start, qsizetype end)
{
    int parentheses = 0; // opened minus closed
    int brackets = 0;
    int braces = 0;
    for (qsizetype i = start; i < end; ++i) {
        switch (text[i].unicode()) {
        case u'(': ++parentheses; break;
        case u')': --parentheses; break;
        case u'[': ++brackets; break;
        case u']': --brackets; break;
        case u'{': ++braces; break;
        case u'}': --braces; break;
        default: break;
        }
    }
    while (end > start) {
        const QChar last = text[end - 1];
        if (last == u')' && parentheses < 0)
            ++parentheses;
        else if (last == u']' && brackets < 0)
            ++brackets;
        else if (last == u'}' && braces < 0)
            ++braces;
        else if (!isTrailingPunctuation(last))
            break;
        --end;
    }
    return end;
}

// A www. address needs a dot in its host with a letter or digit after it
// ("www.example.com", not "www.example" or "www.example."); the host ends
// at '/', '?', '#', ':' or the end of the URL. Letters and digits are never
// trimmed, so this holds whatever trimmedEnd() leaves.
bool hasDottedHost(QStringView text, qsizetype hostStart, qsizetype end, qsizetype &hostEnd)
{
    for (hostEnd = hostStart; hostEnd < end; ++hostEnd) {
        const QChar c = text[hostEnd];
        if (c == u'/' || c == u'?' || c == u'#' || c == u':')
            break;
    }
    for (qsizetype i = hostStart; i + 1 < hostEnd; ++i) {
        if (text[i] == u'.' && text[i + 1].isLetterOrNumber())
            return true;
    }
    return false;
}

void appendEscaped(QString &out, QStringView text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        switch (c.unicode()) {
        case u'&': out += u"&amp;"; break;
        case u'<': out += u"&lt;"; break;
        case u'>': out += u"&gt;"; break;
        case u'"': out += u"&quot;"; break;
        case u'\'': out += u"&#39;"; break;
        case u'\r':
            // CRLF is one line break, a lone CR another.
            if (i + 1 >= text.size() || text[i + 1] != u'\n')
                out += u'\n';
            break;
        default: out += c; break;
        }
    }
}

} // namespace

QList<Link> findLinks(QStringView text)
{
    QList<Link> links;
    const qsizetype size = text.size();
    // Every position inside one run of URL characters has the same run end,
    // so it is found once per run: a failed candidate costs no rescan.
    qsizetype runEnd = -1;
    for (qsizetype at = 0; at < size;) {
        Kind kind = Kind::Web;
        qsizetype prefixLength = 0;
        if (!prefixAt(text, at, kind, prefixLength)) {
            ++at;
            continue;
        }
        if (runEnd <= at) {
            runEnd = at;
            while (runEnd < size && isUrlCharacter(text[runEnd]))
                ++runEnd;
        }
        if (kind == Kind::Www) {
            // A failed host holds no ".x", and the next www. candidate has
            // one, so it starts at the host's end at the earliest: each
            // character is scanned a bounded number of times.
            qsizetype hostEnd = 0;
            if (!hasDottedHost(text, at + prefixLength, runEnd, hostEnd)) {
                at += prefixLength;
                continue;
            }
        }
        // "<URL>" is delimited exactly (RFC 3986 Appendix C).
        const bool bracketed = at > 0 && text[at - 1] == u'<' && runEnd < size && text[runEnd] == u'>';
        const qsizetype end = bracketed ? runEnd : trimmedEnd(text, at, runEnd);
        const QStringView written = text.sliced(at, end - at);
        links.append({at, end - at, kind == Kind::Www ? u"https://"_s + written : written.toString()});
        at = end;
    }
    return links;
}

QString toRichText(QStringView text)
{
    QString out;
    out.reserve(text.size() + text.size() / 8 + 64);
    // Qt's HTML import drops a line break right after a block's start tag
    // and one right before its end tag; the extra ones here keep the text's
    // own first and last line breaks.
    out += u"<div style=\"white-space: pre-wrap\">\n";
    qsizetype done = 0;
    for (const Link &link : findLinks(text)) {
        appendEscaped(out, text.sliced(done, link.start - done));
        out += u"<a href=\"";
        appendEscaped(out, link.target);
        out += u"\">";
        appendEscaped(out, text.sliced(link.start, link.length));
        out += u"</a>";
        done = link.start + link.length;
    }
    appendEscaped(out, text.sliced(done));
    out += u"\n</div>";
    return out;
}

} // namespace MessageText
