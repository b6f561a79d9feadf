#include "searchwords.h"

namespace {

bool isMark(char32_t codePoint)
{
    switch (QChar::category(codePoint)) {
    case QChar::Mark_NonSpacing:
    case QChar::Mark_SpacingCombining:
    case QChar::Mark_Enclosing:
        return true;
    default:
        return false;
    }
}

// Latin letters that no decomposition takes apart, written as people
// type them without the key for it (as Unicode's collation and most search
// engines fold them): "strasse" finds "Straße", "oresund" "Øresund".
const char *plainLatin(char32_t folded)
{
    switch (folded) {
    case 0x00DF: return "ss"; // ß
    case 0x00E6: return "ae"; // æ
    case 0x0153: return "oe"; // œ
    case 0x00F8: return "o";  // ø
    case 0x0142: return "l";  // ł
    case 0x0111: return "d";  // đ
    case 0x00F0: return "d";  // ð
    case 0x00FE: return "th"; // þ
    case 0x0127: return "h";  // ħ
    case 0x0131: return "i";  // ı
    default: return nullptr;
    }
}

// Calls wordFound(word) for each folded word; stops when it returns false.
template<typename WordFound>
void foldWords(QStringView text, WordFound wordFound)
{
    // NFKD splits accented letters into the letter and its marks, and
    // compatibility forms (ligatures, full-width letters) into plain ones.
    const QString decomposed = text.toString().normalized(QString::NormalizationForm_KD);
    QString word;
    bool tooLong = false;
    const auto endWord = [&] {
        const bool go = word.isEmpty() || tooLong || wordFound(word);
        word.clear();
        tooLong = false;
        return go;
    };
    const qsizetype size = decomposed.size();
    for (qsizetype i = 0; i < size; ++i) {
        char32_t codePoint = decomposed.at(i).unicode();
        if (QChar::isHighSurrogate(codePoint) && i + 1 < size && decomposed.at(i + 1).isLowSurrogate()) {
            codePoint = QChar::surrogateToUcs4(decomposed.at(i), decomposed.at(i + 1));
            ++i;
        }
        if (QChar::isLetterOrNumber(codePoint)) {
            if (tooLong)
                continue;
            const char32_t folded = QChar::toCaseFolded(codePoint);
            if (const char *plain = plainLatin(folded)) {
                word.append(QLatin1StringView(plain));
            } else if (QChar::requiresSurrogates(folded)) {
                word.append(QChar(QChar::highSurrogate(folded)));
                word.append(QChar(QChar::lowSurrogate(folded)));
            } else {
                word.append(QChar(char16_t(folded)));
            }
            if (word.size() > SearchWords::MaxWordLength) {
                tooLong = true;
                word.clear();
            }
        } else if (isMark(codePoint) && (!word.isEmpty() || tooLong)) {
            continue; // an accent of the letter before it
        } else if (!endWord()) {
            return;
        }
    }
    endWord();
}

} // namespace

namespace SearchWords {

QStringList words(QStringView text)
{
    QStringList found;
    foldWords(text, [&found](const QString &word) {
        found.append(word);
        return true;
    });
    return found;
}

bool append(QStringView text, QString *out, qsizetype budget, qsizetype *words, qsizetype wordBudget)
{
    bool complete = true;
    foldWords(text, [&](const QString &word) {
        const qsizetype needed = word.size() + (out->isEmpty() ? 0 : 1);
        if (*words >= wordBudget || out->size() + needed > budget) {
            complete = false;
            return false;
        }
        if (!out->isEmpty())
            out->append(QLatin1Char(' '));
        out->append(word);
        ++*words;
        return true;
    });
    return complete;
}

} // namespace SearchWords
