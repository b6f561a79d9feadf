#pragma once

#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

#include "inboxmodel.h"

// Which message of a folder the user opened, held by its entry id, never by
// its row: rows move when mail arrives, is deleted or is paged in, and the
// message shown, the row highlighted and the message that Reply and Delete
// act on must stay one and the same. `row` follows the id through every
// change of the model (-1 while the message is not listed).
class MessageSelection : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(InboxModel *model READ model WRITE setModel NOTIFY modelChanged)
    Q_PROPERTY(qint64 messageId READ messageId WRITE setMessageId NOTIFY messageIdChanged)
    Q_PROPERTY(int row READ row NOTIFY rowChanged)

public:
    explicit MessageSelection(QObject *parent = nullptr);

    [[nodiscard]] InboxModel *model() const { return m_model; }
    void setModel(InboxModel *model);
    [[nodiscard]] qint64 messageId() const { return m_messageId; }
    void setMessageId(qint64 id);
    // Where the message is listed now (rowChanged() may still be on its way).
    [[nodiscard]] int row() const;

public Q_SLOTS:
    // Selects the message listed at `row`; an invalid row selects nothing.
    void selectRow(int row);
    void clear() { setMessageId(0); }

Q_SIGNALS:
    void modelChanged();
    void messageIdChanged();
    void rowChanged();

private:
    void scheduleUpdate();
    void updateRow(bool forceNotify = false);

    QPointer<InboxModel> m_model;
    qint64 m_messageId = 0;
    int m_row = -1;
    bool m_updateScheduled = false;
};
