#pragma once

#include <QList>
#include <QString>
#include <QStringView>

// A message's readable text for the message view: plain text made into rich
// text that shows the same (every character escaped, line breaks and runs of
// spaces kept) with its web and mail addresses as links.
namespace MessageText {

// An address found in plain text.
struct Link
{
    qsizetype start = 0; // in the text, in UTF-16 units
    qsizetype length = 0;
    QString target; // what the link opens: the text itself, or https:// before a www. address

    friend bool operator==(const Link &, const Link &) = default;
};

// The http://, https:// and mailto: URLs and bare www. addresses of `text`
// (schemes in any case), in order. A URL ends at white space, a control or
// format character, '<', '>' or '"'; punctuation that ends a sentence
// (".", ",", ")" without its "(", …) is not part of it, except inside
// "<URL>" (RFC 3986 Appendix C), which delimits it exactly. Linear time.
[[nodiscard]] QList<Link> findLinks(QStringView text);

// `text` as HTML for a rich-text QML TextEdit (Qt's rich text subset): one
// pre-wrap block, so the document's plain text and layout are those of
// `text` as plain text, with each link of findLinks() as <a href>. CRLF and
// CR become LF, as a plain-text view reads them.
[[nodiscard]] QString toRichText(QStringView text);

} // namespace MessageText
