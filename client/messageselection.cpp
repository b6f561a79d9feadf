#include "messageselection.h"

MessageSelection::MessageSelection(QObject *parent)
    : QObject(parent)
{
}

void MessageSelection::setModel(InboxModel *model)
{
    if (m_model == model)
        return;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    if (m_model) {
        const auto follow = [this] { scheduleUpdate(); };
        connect(m_model, &QAbstractItemModel::rowsInserted, this, follow);
        connect(m_model, &QAbstractItemModel::rowsRemoved, this, follow);
        connect(m_model, &QAbstractItemModel::rowsMoved, this, follow);
        connect(m_model, &QAbstractItemModel::layoutChanged, this, follow);
        connect(m_model, &QAbstractItemModel::modelReset, this, follow);
        connect(m_model, &QObject::destroyed, this, follow);
    }
    Q_EMIT modelChanged();
    updateRow(true);
}

void MessageSelection::setMessageId(qint64 id)
{
    id = std::max<qint64>(id, 0);
    if (m_messageId == id)
        return;
    m_messageId = id;
    Q_EMIT messageIdChanged();
    updateRow();
}

int MessageSelection::row() const
{
    return m_model && m_messageId > 0 ? m_model->rowOf(m_messageId) : -1;
}

void MessageSelection::selectRow(int row)
{
    setMessageId(m_model ? m_model->idAt(row) : 0);
}

void MessageSelection::scheduleUpdate()
{
    // A view learns of the same change through its own connection, which
    // may come after this one, and then moves its current index by itself.
    // Told once that is done, a view bound to `row` ends where the message
    // is, whatever the order; a reset also puts a view's current index back
    // to the top, so it is told even when the row stayed the same.
    if (m_updateScheduled)
        return;
    m_updateScheduled = true;
    QMetaObject::invokeMethod(this, [this] {
        m_updateScheduled = false;
        updateRow(true);
    }, Qt::QueuedConnection);
}

void MessageSelection::updateRow(bool forceNotify)
{
    const int now = row();
    if (now == m_row && !forceNotify)
        return;
    m_row = now;
    Q_EMIT rowChanged();
}
