#include "htmltext.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

// One forward pass over the input with a handful of counters and flags: no
// element stack and no recursion, so a million nested <div>s cost no more
// than a million <br>s. Every search that can fail (an unterminated comment,
// script or quoted attribute) ends the input when it does, so no character
// is looked at more than a few times and the time stays linear.

namespace {

struct Entity
{
    std::string_view name;
    char32_t codePoint;
};

// The 252 entities of HTML 4.01 (Latin-1, symbols and Greek, special) plus
// &apos;, in byte order for binary search. nbsp maps to U+0020 rather than
// U+00A0: Outlook and newsletters indent and pad with runs of &nbsp;, and in
// stored plain text those should fold like the spaces they stand for.
constexpr auto entities = std::to_array<Entity>({
    {"AElig", 0x00C6}, {"Aacute", 0x00C1}, {"Acirc", 0x00C2}, {"Agrave", 0x00C0}, {"Alpha", 0x0391},
    {"Aring", 0x00C5}, {"Atilde", 0x00C3}, {"Auml", 0x00C4}, {"Beta", 0x0392}, {"Ccedil", 0x00C7},
    {"Chi", 0x03A7}, {"Dagger", 0x2021}, {"Delta", 0x0394}, {"ETH", 0x00D0}, {"Eacute", 0x00C9},
    {"Ecirc", 0x00CA}, {"Egrave", 0x00C8}, {"Epsilon", 0x0395}, {"Eta", 0x0397}, {"Euml", 0x00CB},
    {"Gamma", 0x0393}, {"Iacute", 0x00CD}, {"Icirc", 0x00CE}, {"Igrave", 0x00CC}, {"Iota", 0x0399},
    {"Iuml", 0x00CF}, {"Kappa", 0x039A}, {"Lambda", 0x039B}, {"Mu", 0x039C}, {"Ntilde", 0x00D1},
    {"Nu", 0x039D}, {"OElig", 0x0152}, {"Oacute", 0x00D3}, {"Ocirc", 0x00D4}, {"Ograve", 0x00D2},
    {"Omega", 0x03A9}, {"Omicron", 0x039F}, {"Oslash", 0x00D8}, {"Otilde", 0x00D5},
    {"Ouml", 0x00D6}, {"Phi", 0x03A6}, {"Pi", 0x03A0}, {"Prime", 0x2033}, {"Psi", 0x03A8},
    {"Rho", 0x03A1}, {"Scaron", 0x0160}, {"Sigma", 0x03A3}, {"THORN", 0x00DE}, {"Tau", 0x03A4},
    {"Theta", 0x0398}, {"Uacute", 0x00DA}, {"Ucirc", 0x00DB}, {"Ugrave", 0x00D9},
    {"Upsilon", 0x03A5}, {"Uuml", 0x00DC}, {"Xi", 0x039E}, {"Yacute", 0x00DD}, {"Yuml", 0x0178},
    {"Zeta", 0x0396}, {"aacute", 0x00E1}, {"acirc", 0x00E2}, {"acute", 0x00B4}, {"aelig", 0x00E6},
    {"agrave", 0x00E0}, {"alefsym", 0x2135}, {"alpha", 0x03B1}, {"amp", 0x0026}, {"and", 0x2227},
    {"ang", 0x2220}, {"apos", 0x0027}, {"aring", 0x00E5}, {"asymp", 0x2248}, {"atilde", 0x00E3},
    {"auml", 0x00E4}, {"bdquo", 0x201E}, {"beta", 0x03B2}, {"brvbar", 0x00A6}, {"bull", 0x2022},
    {"cap", 0x2229}, {"ccedil", 0x00E7}, {"cedil", 0x00B8}, {"cent", 0x00A2}, {"chi", 0x03C7},
    {"circ", 0x02C6}, {"clubs", 0x2663}, {"cong", 0x2245}, {"copy", 0x00A9}, {"crarr", 0x21B5},
    {"cup", 0x222A}, {"curren", 0x00A4}, {"dArr", 0x21D3}, {"dagger", 0x2020}, {"darr", 0x2193},
    {"deg", 0x00B0}, {"delta", 0x03B4}, {"diams", 0x2666}, {"divide", 0x00F7}, {"eacute", 0x00E9},
    {"ecirc", 0x00EA}, {"egrave", 0x00E8}, {"empty", 0x2205}, {"emsp", 0x2003}, {"ensp", 0x2002},
    {"epsilon", 0x03B5}, {"equiv", 0x2261}, {"eta", 0x03B7}, {"eth", 0x00F0}, {"euml", 0x00EB},
    {"euro", 0x20AC}, {"exist", 0x2203}, {"fnof", 0x0192}, {"forall", 0x2200}, {"frac12", 0x00BD},
    {"frac14", 0x00BC}, {"frac34", 0x00BE}, {"frasl", 0x2044}, {"gamma", 0x03B3}, {"ge", 0x2265},
    {"gt", 0x003E}, {"hArr", 0x21D4}, {"harr", 0x2194}, {"hearts", 0x2665}, {"hellip", 0x2026},
    {"iacute", 0x00ED}, {"icirc", 0x00EE}, {"iexcl", 0x00A1}, {"igrave", 0x00EC}, {"image", 0x2111},
    {"infin", 0x221E}, {"int", 0x222B}, {"iota", 0x03B9}, {"iquest", 0x00BF}, {"isin", 0x2208},
    {"iuml", 0x00EF}, {"kappa", 0x03BA}, {"lArr", 0x21D0}, {"lambda", 0x03BB}, {"lang", 0x2329},
    {"laquo", 0x00AB}, {"larr", 0x2190}, {"lceil", 0x2308}, {"ldquo", 0x201C}, {"le", 0x2264},
    {"lfloor", 0x230A}, {"lowast", 0x2217}, {"loz", 0x25CA}, {"lrm", 0x200E}, {"lsaquo", 0x2039},
    {"lsquo", 0x2018}, {"lt", 0x003C}, {"macr", 0x00AF}, {"mdash", 0x2014}, {"micro", 0x00B5},
    {"middot", 0x00B7}, {"minus", 0x2212}, {"mu", 0x03BC}, {"nabla", 0x2207}, {"nbsp", 0x0020},
    {"ndash", 0x2013}, {"ne", 0x2260}, {"ni", 0x220B}, {"not", 0x00AC}, {"notin", 0x2209},
    {"nsub", 0x2284}, {"ntilde", 0x00F1}, {"nu", 0x03BD}, {"oacute", 0x00F3}, {"ocirc", 0x00F4},
    {"oelig", 0x0153}, {"ograve", 0x00F2}, {"oline", 0x203E}, {"omega", 0x03C9},
    {"omicron", 0x03BF}, {"oplus", 0x2295}, {"or", 0x2228}, {"ordf", 0x00AA}, {"ordm", 0x00BA},
    {"oslash", 0x00F8}, {"otilde", 0x00F5}, {"otimes", 0x2297}, {"ouml", 0x00F6}, {"para", 0x00B6},
    {"part", 0x2202}, {"permil", 0x2030}, {"perp", 0x22A5}, {"phi", 0x03C6}, {"pi", 0x03C0},
    {"piv", 0x03D6}, {"plusmn", 0x00B1}, {"pound", 0x00A3}, {"prime", 0x2032}, {"prod", 0x220F},
    {"prop", 0x221D}, {"psi", 0x03C8}, {"quot", 0x0022}, {"rArr", 0x21D2}, {"radic", 0x221A},
    {"rang", 0x232A}, {"raquo", 0x00BB}, {"rarr", 0x2192}, {"rceil", 0x2309}, {"rdquo", 0x201D},
    {"real", 0x211C}, {"reg", 0x00AE}, {"rfloor", 0x230B}, {"rho", 0x03C1}, {"rlm", 0x200F},
    {"rsaquo", 0x203A}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"scaron", 0x0161}, {"sdot", 0x22C5},
    {"sect", 0x00A7}, {"shy", 0x00AD}, {"sigma", 0x03C3}, {"sigmaf", 0x03C2}, {"sim", 0x223C},
    {"spades", 0x2660}, {"sub", 0x2282}, {"sube", 0x2286}, {"sum", 0x2211}, {"sup", 0x2283},
    {"sup1", 0x00B9}, {"sup2", 0x00B2}, {"sup3", 0x00B3}, {"supe", 0x2287}, {"szlig", 0x00DF},
    {"tau", 0x03C4}, {"there4", 0x2234}, {"theta", 0x03B8}, {"thetasym", 0x03D1},
    {"thinsp", 0x2009}, {"thorn", 0x00FE}, {"tilde", 0x02DC}, {"times", 0x00D7}, {"trade", 0x2122},
    {"uArr", 0x21D1}, {"uacute", 0x00FA}, {"uarr", 0x2191}, {"ucirc", 0x00FB}, {"ugrave", 0x00F9},
    {"uml", 0x00A8}, {"upsih", 0x03D2}, {"upsilon", 0x03C5}, {"uuml", 0x00FC}, {"weierp", 0x2118},
    {"xi", 0x03BE}, {"yacute", 0x00FD}, {"yen", 0x00A5}, {"yuml", 0x00FF}, {"zeta", 0x03B6},
    {"zwj", 0x200D}, {"zwnj", 0x200C},
});
static_assert(entities.size() == 253);
static_assert(std::ranges::is_sorted(entities, {}, &Entity::name));
constexpr std::size_t longestEntityName = 8; // "thetasym"

// The names browsers (and the HTML standard) still decode without the ';',
// because pages written before it was required rely on it: Latin-1 and the
// four markup characters. So "&copy 2024" decodes but "&alpha beta" stays
// as written.
constexpr bool decodesWithoutSemicolon(const Entity &entity)
{
    return (entity.codePoint >= 0xA0 && entity.codePoint <= 0xFF) || entity.name == "nbsp" || entity.name == "amp"
        || entity.name == "lt" || entity.name == "gt" || entity.name == "quot";
}

enum class TagKind {
    Other, // inline or unknown (span, font, o:p, meta): no effect on the text
    Link, // a: inline, its address follows its text
    LineBreak,
    Block,
    Paragraph,
    ListItem,
    Cell,
    Pre,
    Image,
    RawText, // content up to the matching end tag is not markup and is dropped
    Head,
    Body,
    Html,
    Template,
};

struct TagInfo
{
    std::string_view name;
    TagKind kind;
};

constexpr auto tags = std::to_array<TagInfo>({
    {"a", TagKind::Link},            {"address", TagKind::Block},     {"article", TagKind::Block},     {"aside", TagKind::Block},
    {"blockquote", TagKind::Block},  {"body", TagKind::Body},         {"br", TagKind::LineBreak},
    {"center", TagKind::Block},      {"dd", TagKind::Block},          {"div", TagKind::Block},
    {"dl", TagKind::Block},          {"dt", TagKind::Block},          {"fieldset", TagKind::Block},
    {"figcaption", TagKind::Block},  {"figure", TagKind::Block},      {"footer", TagKind::Block},
    {"form", TagKind::Block},        {"h1", TagKind::Paragraph},      {"h2", TagKind::Paragraph},
    {"h3", TagKind::Paragraph},      {"h4", TagKind::Paragraph},      {"h5", TagKind::Paragraph},
    {"h6", TagKind::Paragraph},      {"head", TagKind::Head},         {"header", TagKind::Block},
    {"hr", TagKind::Block},          {"html", TagKind::Html},         {"img", TagKind::Image},
    {"li", TagKind::ListItem},       {"main", TagKind::Block},        {"nav", TagKind::Block},
    {"ol", TagKind::Block},          {"p", TagKind::Paragraph},       {"pre", TagKind::Pre},
    {"script", TagKind::RawText},    {"section", TagKind::Block},     {"style", TagKind::RawText},
    {"table", TagKind::Block},       {"tbody", TagKind::Block},       {"td", TagKind::Cell},
    {"template", TagKind::Template}, {"tfoot", TagKind::Block},       {"th", TagKind::Cell},
    {"thead", TagKind::Block},       {"title", TagKind::RawText},     {"tr", TagKind::Block},
    {"ul", TagKind::Block},
});
static_assert(std::ranges::is_sorted(tags, {}, &TagInfo::name));
constexpr std::size_t longestTagName = 10; // "blockquote", "figcaption"

constexpr bool isHtmlSpace(char16_t c)
{
    return c == u' ' || c == u'\t' || c == u'\n' || c == u'\r' || c == u'\f';
}

constexpr bool isAsciiLetter(char16_t c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}

constexpr bool isAsciiDigit(char16_t c)
{
    return c >= u'0' && c <= u'9';
}

constexpr bool isAsciiAlnum(char16_t c)
{
    return isAsciiLetter(c) || isAsciiDigit(c);
}

constexpr int digitValue(char16_t c, bool hex)
{
    if (isAsciiDigit(c))
        return c - u'0';
    if (hex && c >= u'a' && c <= u'f')
        return c - u'a' + 10;
    if (hex && c >= u'A' && c <= u'F')
        return c - u'A' + 10;
    return -1;
}

constexpr char16_t asciiLower(char16_t c)
{
    return c >= u'A' && c <= u'Z' ? char16_t(c + (u'a' - u'A')) : c;
}

// ASCII-only on purpose: Qt's case folding would let "</ſcript>" (long s)
// close a script, which no browser does.
bool equalsAsciiCaseInsensitive(QStringView text, std::string_view lowerName)
{
    if (text.size() != qsizetype(lowerName.size()))
        return false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (asciiLower(text[i].unicode()) != char16_t(lowerName[std::size_t(i)]))
            return false;
    }
    return true;
}

const TagInfo *findTag(QStringView name)
{
    std::array<char, longestTagName> buffer{};
    if (name.size() > qsizetype(buffer.size()))
        return nullptr;
    for (qsizetype i = 0; i < name.size(); ++i) {
        const char16_t c = asciiLower(name[i].unicode());
        if (c >= 0x80)
            return nullptr;
        buffer[std::size_t(i)] = char(c);
    }
    const std::string_view key(buffer.data(), std::size_t(name.size()));
    const auto it = std::ranges::lower_bound(tags, key, {}, &TagInfo::name);
    return it != tags.end() && it->name == key ? &*it : nullptr;
}

// The character reference at text[at] == '&': returns how many characters it
// spans and sets codePoint, or returns 0 when it is to be kept as written.
// In an attribute value a name without its ';' before '=' stays as written,
// as browsers read it, so a query "?a=1&copy=2" keeps its "&copy".
qsizetype decodeEntity(QStringView text, qsizetype at, char32_t &codePoint, bool inAttribute = false)
{
    const qsizetype size = text.size();
    qsizetype i = at + 1;
    if (i < size && text[i] == u'#') {
        ++i;
        const bool hex = i < size && (text[i] == u'x' || text[i] == u'X');
        if (hex)
            ++i;
        const qsizetype digitsStart = i;
        char32_t value = 0;
        for (; i < size; ++i) {
            const int digit = digitValue(text[i].unicode(), hex);
            if (digit < 0)
                break;
            // Saturates just past the Unicode range, so "&#99999999999;" cannot
            // overflow into a valid code point.
            value = std::min<char32_t>(value * (hex ? 16 : 10) + char32_t(digit), 0x110000);
        }
        if (i == digitsStart)
            return 0;
        if (i < size && text[i] == u';')
            ++i;
        else if (i < size && isAsciiAlnum(text[i].unicode()))
            return 0;
        const bool invalid = value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF);
        codePoint = invalid ? char32_t(0xFFFD) : value;
        return i - at;
    }

    const qsizetype nameStart = i;
    while (i < size && isAsciiAlnum(text[i].unicode()))
        ++i;
    const qsizetype length = i - nameStart;
    if (length == 0 || length > qsizetype(longestEntityName))
        return 0;
    std::array<char, longestEntityName> buffer{};
    for (qsizetype k = 0; k < length; ++k)
        buffer[std::size_t(k)] = char(text[nameStart + k].unicode());
    const std::string_view name(buffer.data(), std::size_t(length));
    const auto it = std::ranges::lower_bound(entities, name, {}, &Entity::name);
    if (it == entities.end() || it->name != name)
        return 0;
    if (i < size && text[i] == u';') {
        codePoint = it->codePoint;
        return i + 1 - at;
    }
    // The name ended at a character that is not alphanumeric (or the end).
    if (!decodesWithoutSemicolon(*it) || (inAttribute && i < size && text[i] == u'='))
        return 0;
    codePoint = it->codePoint;
    return i - at;
}

void appendCodePoint(QString &out, char32_t codePoint)
{
    if (QChar::requiresSurrogates(codePoint)) {
        out.append(QChar(QChar::highSurrogate(codePoint)));
        out.append(QChar(QChar::lowSurrogate(codePoint)));
    } else {
        out.append(QChar(char16_t(codePoint)));
    }
}

// An href as the reader is shown it, or empty when the link is not to be
// shown: relative and fragment links (no page to resolve them against), and
// every scheme but http, https, mailto and ftp (javascript:, data:,
// vbscript:, file: run or read something instead of going somewhere).
QString linkTarget(QStringView href)
{
    // Decoded, and cleaned as the WHATWG URL parser does before it reads the
    // scheme: controls and spaces at either end stripped, tabs and newlines
    // removed anywhere, so "java&#9;script:" is javascript: here as well.
    QString url;
    url.reserve(href.size());
    for (qsizetype i = 0; i < href.size();) {
        char32_t codePoint = href[i].unicode();
        qsizetype length = 1;
        if (href[i] == u'&') {
            if (const qsizetype entity = decodeEntity(href, i, codePoint, true))
                length = entity;
            else
                codePoint = u'&';
        }
        i += length;
        if (codePoint != u'\t' && codePoint != u'\n' && codePoint != u'\r')
            appendCodePoint(url, codePoint);
    }
    qsizetype begin = 0;
    qsizetype end = url.size();
    while (begin < end && url[begin].unicode() <= 0x20)
        ++begin;
    while (end > begin && url[end - 1].unicode() <= 0x20)
        --end;
    const QStringView trimmed = QStringView(url).sliced(begin, end - begin);

    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    qsizetype colon = 0;
    while (colon < trimmed.size()
           && (isAsciiLetter(trimmed[colon].unicode())
               || (colon > 0
                   && (isAsciiDigit(trimmed[colon].unicode()) || trimmed[colon] == u'+' || trimmed[colon] == u'-'
                       || trimmed[colon] == u'.'))))
        ++colon;
    if (colon == 0 || colon >= trimmed.size() || trimmed[colon] != u':')
        return {};
    const QStringView scheme = trimmed.first(colon);
    const QStringView rest = trimmed.sliced(colon + 1);
    const bool hierarchical = equalsAsciiCaseInsensitive(scheme, "http") || equalsAsciiCaseInsensitive(scheme, "https")
        || equalsAsciiCaseInsensitive(scheme, "ftp");
    if (hierarchical) {
        // A host is needed: "https:" or "https:///x" goes nowhere.
        if (rest.size() < 3 || !rest.startsWith(u"//") || rest[2] == u'/' || rest[2] == u'?' || rest[2] == u'#')
            return {};
    } else if (!equalsAsciiCaseInsensitive(scheme, "mailto") || rest.isEmpty()) {
        return {};
    }

    // The scheme in lower case, and what cannot stand inside "<URL>" in
    // plain text (white space, quotes, angle brackets, controls)
    // percent-encoded, as a browser's address bar writes it.
    QString out;
    out.reserve(trimmed.size() + 16);
    for (const QChar c : scheme)
        out.append(QChar(asciiLower(c.unicode())));
    out.append(u':');
    for (const QChar c : rest) {
        const char16_t u = c.unicode();
        if (u <= 0x20 || u == 0x7F || u == u'"' || u == u'<' || u == u'>') {
            constexpr char16_t hex[] = u"0123456789ABCDEF";
            out.append(u'%');
            out.append(QChar(hex[u >> 4]));
            out.append(QChar(hex[u & 0xF]));
        } else {
            out.append(c);
        }
    }
    return out;
}

// Whether a link's text already says where it goes, so "text <URL>" would
// repeat it: the URL itself (give or take a final '/'), or a mailto: link's
// address.
bool textShowsTarget(QStringView text, QStringView url)
{
    if (text == url)
        return true;
    if (url.endsWith(u'/') && text == url.chopped(1))
        return true;
    if (text.endsWith(u'/') && text.chopped(1) == url)
        return true;
    constexpr QStringView mailto = u"mailto:";
    return url.startsWith(mailto) && text.compare(url.sliced(mailto.size()), Qt::CaseInsensitive) == 0;
}

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
