#include "keysequencetext.h"

#include <QKeySequence>

QString KeySequenceText::nativeText(const QVariant &shortcut)
{
    QKeySequence sequence;
    switch (shortcut.typeId()) {
    case QMetaType::QKeySequence:
        sequence = shortcut.value<QKeySequence>();
        break;
    case QMetaType::QString:
        sequence = QKeySequence::fromString(shortcut.toString(), QKeySequence::PortableText);
        break;
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Double:
        // A StandardKey, as QML passes enum values.
        sequence = QKeySequence::keyBindings(QKeySequence::StandardKey(shortcut.toInt())).value(0);
        break;
    default:
        if (shortcut.canConvert<QKeySequence>())
            sequence = shortcut.value<QKeySequence>();
        break;
    }
    return sequence.toString(QKeySequence::NativeText);
}
