#pragma once

// The lexical side of htmlToText (htmltext.h): character classes, the tag
// and entity tables, character references, and which link addresses are
// shown. Internal to common/mail.

#include <QString>
#include <QStringView>

#include <string_view>

namespace HtmlSyntax {

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

constexpr char16_t asciiLower(char16_t c)
{
    return c >= u'A' && c <= u'Z' ? char16_t(c + (u'a' - u'A')) : c;
}

// ASCII-only on purpose: Qt's case folding would let "</ſcript>" (long s)
// close a script, which no browser does.
[[nodiscard]] bool equalsAsciiCaseInsensitive(QStringView text, std::string_view lowerName);

// The tag of this name (any case), or nullptr for one that has no effect.
[[nodiscard]] const TagInfo *findTag(QStringView name);

// The character reference at text[at] == '&': returns how many characters it
// spans and sets codePoint, or returns 0 when it is to be kept as written.
// In an attribute value a name without its ';' before '=' stays as written,
// as browsers read it, so a query "?a=1&copy=2" keeps its "&copy".
[[nodiscard]] qsizetype decodeEntity(QStringView text, qsizetype at, char32_t &codePoint, bool inAttribute = false);

// An href as the reader is shown it, or empty when the link is not to be
// shown: relative and fragment links (no page to resolve them against), and
// every scheme but http, https, mailto and ftp (javascript:, data:,
// vbscript:, file: run or read something instead of going somewhere).
[[nodiscard]] QString linkTarget(QStringView href);

// Whether a link's text already says where it goes, so "text <URL>" would
// repeat it: the URL itself (give or take a final '/'), or a mailto: link's
// address.
[[nodiscard]] bool textShowsTarget(QStringView text, QStringView url);

} // namespace HtmlSyntax
