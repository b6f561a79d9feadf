#pragma once

#include <QString>
#include <QStringView>

// Reduces an HTML body to readable plain text (docs/protocol/messages.md §5:
// the readable text of a message that has no text/plain part).
// Blocks become lines, p and h1-h6 paragraphs, li "- " lines, table cells
// tab-separated; entities are decoded (HTML 4.01 set plus &apos;). A link
// keeps its address: "text <URL>", or the text alone when it is the address
// (a mailto: link's address); only http, https, mailto and ftp addresses are
// shown (relative, fragment, javascript: and the like are dropped). Linear
// time, no recursion, whatever the input.
[[nodiscard]] QString htmlToText(QStringView html);
