#pragma once

#include "clienterror.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QtQml/qqmlregistration.h>

#include "session.h"

// The compose window's state: the fields, their validation, sending through
// SMTP as the session's account, and reply prefill. Validation lives here,
// not in QML. (Tokodon's PostEditorBackend is the model.)
class ComposeController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Session *session READ session WRITE setSession NOTIFY sessionChanged)
    Q_PROPERTY(QString to READ to WRITE setTo NOTIFY toChanged)
    Q_PROPERTY(QString subject READ subject WRITE setSubject NOTIFY subjectChanged)
    Q_PROPERTY(QString body READ body WRITE setBody NOTIFY bodyChanged)
    // Why `to` cannot be sent to ("" when it can, or when it is still empty).
    Q_PROPERTY(QString recipientsError READ recipientsError NOTIFY toChanged)
    Q_PROPERTY(QStringList recipients READ recipients NOTIFY toChanged)
    Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ isBusy NOTIFY stateChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    // Set by replyTo(): the message replied to, "" otherwise.
    Q_PROPERTY(QString inReplyTo READ inReplyTo NOTIFY replyChanged)
    Q_PROPERTY(bool isReply READ isReply NOTIFY replyChanged)

public:
    enum class State { Idle, Preparing, Sending, Sent, Failed };
    Q_ENUM(State)

    explicit ComposeController(QObject *parent = nullptr);

    [[nodiscard]] Session *session() const { return m_session; }
    void setSession(Session *session);
    [[nodiscard]] QString to() const { return m_to; }
    void setTo(const QString &to);
    [[nodiscard]] QString subject() const { return m_subject; }
    void setSubject(const QString &subject);
    [[nodiscard]] QString body() const { return m_body; }
    void setBody(const QString &body);
    [[nodiscard]] QString recipientsError() const;
    [[nodiscard]] QStringList recipients() const;
    [[nodiscard]] bool canSend() const;
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isBusy() const { return m_state == State::Preparing || m_state == State::Sending; }
    [[nodiscard]] QString errorString() const { return m_errorString; }
    [[nodiscard]] QString inReplyTo() const { return m_inReplyTo; }
    [[nodiscard]] bool isReply() const { return !m_inReplyTo.isEmpty(); }
    [[nodiscard]] QStringList references() const { return m_references; }
    // The RFC 5322 bytes send() would submit now (Date and Message-ID fresh).
    [[nodiscard]] QByteArray buildMessage() const;

public Q_SLOTS:
    void send();
    // Loads message `messageId` and fills the fields for a reply: To the
    // sender (Reply-To when given; the original recipients when replying to
    // one's own message), "Re: " subject, the text quoted, In-Reply-To and
    // References (RFC 5322 §3.6.4). Ignored while a message is being sent.
    void replyTo(qint64 messageId);
    // Empties the form; ignored while a message is being sent.
    void clear();

Q_SIGNALS:
    void sessionChanged();
    void toChanged();
    void subjectChanged();
    void bodyChanged();
    void canSendChanged();
    void stateChanged();
    void errorStringChanged();
    void replyChanged();
    void sent();
    void sendFailed(const QString &message);
    void replyReady();

private:
    void setState(State state);
    void setErrorString(const QString &message);
    void updateCanSend();
    [[nodiscard]] QString defaultDomain() const;

    QPointer<Session> m_session;
    QString m_to;
    QString m_subject;
    QString m_body;
    QString m_inReplyTo;
    QStringList m_references;
    State m_state = State::Idle;
    QString m_errorString;
    bool m_canSend = false;
    quint64 m_generation = 0; // clear() drops answers to what was asked before
};
