import QtQuick
import QtQuick.Controls

// A failure sentence as the C++ side words it; hidden when there is none.
Label {
    visible: text.length > 0
    color: "#b3261e"
    wrapMode: Text.Wrap
}
