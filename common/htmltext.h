#pragma once

#include <QString>
#include <QStringView>

// Reduces an HTML body to readable plain text (SPEC "Storage": the readable
// text of a message that has no text/plain part).
// Blocks become lines, p and h1-h6 paragraphs, li "- " lines, table cells
// tab-separated; entities are decoded (HTML 4.01 set plus &apos;). Linear
// time, no recursion, whatever the input.
[[nodiscard]] QString htmlToText(QStringView html);
