#include "htmlsyntax_p.h"

#include <algorithm>
#include <array>

namespace HtmlSyntax {

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

void appendCodePoint(QString &out, char32_t codePoint)
{
    if (QChar::requiresSurrogates(codePoint)) {
        out.append(QChar(QChar::highSurrogate(codePoint)));
        out.append(QChar(QChar::lowSurrogate(codePoint)));
    } else {
        out.append(QChar(char16_t(codePoint)));
    }
}

} // namespace

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

qsizetype decodeEntity(QStringView text, qsizetype at, char32_t &codePoint, bool inAttribute)
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

} // namespace HtmlSyntax
