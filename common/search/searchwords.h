#pragma once

#include <QString>
#include <QStringList>
#include <QStringView>

// The words the search index holds and queries look for (docs/protocol/
// search.md §3): runs of letters and digits, everything else separates
// them (so an address splits at '@' and '.'), lower-cased with Unicode case
// folding and without accents (compatibility decomposition, combining marks
// dropped). The index and every query fold text here, on both engines, so
// both match the same words and neither needs a database extension.
namespace SearchWords {

// Longer runs (hashes, encoded data) are not words anyone searches for.
inline constexpr int MaxWordLength = 64;

// The folded words of text, in order.
[[nodiscard]] QStringList words(QStringView text);

// Appends the folded words of text to `out`, separated by spaces, while
// `out` stays within `budget` characters and `words` under `wordBudget`;
// false once either was reached (what did not fit is left out).
bool append(QStringView text, QString *out, qsizetype budget, qsizetype *words, qsizetype wordBudget);

} // namespace SearchWords
