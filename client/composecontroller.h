#pragma once

#include "clienterror.h"

#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <functional>

#include "session.h"

class SmtpJob;

// The compose window's state: the fields, their validation, sending through
// SMTP as the session's account, and the prefill of a reply, a reply to all
// and a forward. Validation lives here, not in QML. (Tokodon's
// PostEditorBackend is the model.) Attachment files are read, and the
// message built and encoded, on a worker thread: the GUI thread never waits
// for a disk or for base64.
class ComposeController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Session *session READ session WRITE setSession NOTIFY sessionChanged)
    Q_PROPERTY(QString to READ to WRITE setTo NOTIFY toChanged)
    // Cc is a header like To; Bcc recipients get the message through RCPT
    // only, and no header anywhere names them.
    Q_PROPERTY(QString cc READ cc WRITE setCc NOTIFY ccChanged)
    Q_PROPERTY(QString bcc READ bcc WRITE setBcc NOTIFY bccChanged)
    Q_PROPERTY(QString subject READ subject WRITE setSubject NOTIFY subjectChanged)
    Q_PROPERTY(QString body READ body WRITE setBody NOTIFY bodyChanged)
    // The files to send, in order, each {key, name, size, sizeText,
    // contentType, url}: url is the local file ("" for an attachment carried
    // over from a forwarded message, whose bytes are held here). Writing it
    // keeps the entries whose key is known and adds those with a new local
    // file url, so QML may remove or reorder.
    Q_PROPERTY(QVariantList attachments READ attachments WRITE setAttachments NOTIFY attachmentsChanged)
    // The attachments' bytes in all, and "12.4 MB" for it ("" when none).
    Q_PROPERTY(qint64 attachmentsSize READ attachmentsSize NOTIFY attachmentsChanged)
    Q_PROPERTY(QString attachmentsSizeText READ attachmentsSizeText NOTIFY attachmentsChanged)
    // At least what the message will take on the wire (the text and the
    // attachments base64-encoded), and why that is more than the server
    // takes ("" when it is not, or while the server's SIZE is unknown).
    Q_PROPERTY(qint64 estimatedSize READ estimatedSize NOTIFY estimatedSizeChanged)
    Q_PROPERTY(QString sizeError READ sizeError NOTIFY estimatedSizeChanged)
    // Why To, Cc or Bcc cannot be sent to ("" when it can, or when it is
    // empty). recipientsError also says when To, Cc and Bcc hold more than
    // 100 different addresses together.
    Q_PROPERTY(QString recipientsError READ recipientsError NOTIFY recipientsChanged)
    Q_PROPERTY(QString ccError READ ccError NOTIFY recipientsChanged)
    Q_PROPERTY(QString bccError READ bccError NOTIFY recipientsChanged)
    // Every envelope recipient (To, Cc, Bcc), each address once.
    Q_PROPERTY(QStringList recipients READ recipients NOTIFY recipientsChanged)
    Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(bool busy READ isBusy NOTIFY stateChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    // While sending: the share of the message written to the server, 0..1.
    Q_PROPERTY(double progress READ progress NOTIFY progressChanged)
    // After sending: "Message sent to 3 recipients."
    Q_PROPERTY(QString resultText READ resultText NOTIFY resultTextChanged)
    // The fields or attachments differ from what the compose was opened
    // with (empty, or a prefilled reply or forward): closing would lose work.
    Q_PROPERTY(bool modified READ isModified NOTIFY modifiedChanged)
    // Set by replyTo() and replyAllTo(): the message replied to, "" otherwise.
    Q_PROPERTY(QString inReplyTo READ inReplyTo NOTIFY replyChanged)
    Q_PROPERTY(bool isReply READ isReply NOTIFY replyChanged)
    Q_PROPERTY(bool isForward READ isForward NOTIFY replyChanged)

public:
    enum class State { Idle, Preparing, Sending, Sent, Failed };
    Q_ENUM(State)

    // The most addresses To, Cc and Bcc may hold together (the server's limit).
    static constexpr int MaxRecipients = 100;

    explicit ComposeController(QObject *parent = nullptr);

    [[nodiscard]] Session *session() const { return m_session; }
    void setSession(Session *session);
    [[nodiscard]] QString to() const { return m_to; }
    void setTo(const QString &to);
    [[nodiscard]] QString cc() const { return m_cc; }
    void setCc(const QString &cc);
    [[nodiscard]] QString bcc() const { return m_bcc; }
    void setBcc(const QString &bcc);
    [[nodiscard]] QString subject() const { return m_subject; }
    void setSubject(const QString &subject);
    [[nodiscard]] QString body() const { return m_body; }
    void setBody(const QString &body);
    [[nodiscard]] QVariantList attachments() const;
    void setAttachments(const QVariantList &attachments);
    [[nodiscard]] qint64 attachmentsSize() const;
    [[nodiscard]] QString attachmentsSizeText() const;
    [[nodiscard]] qint64 estimatedSize() const;
    [[nodiscard]] QString sizeError() const;
    [[nodiscard]] QString recipientsError() const;
    [[nodiscard]] QString ccError() const;
    [[nodiscard]] QString bccError() const;
    [[nodiscard]] QStringList recipients() const;
    [[nodiscard]] bool canSend() const;
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] bool isBusy() const { return m_state == State::Preparing || m_state == State::Sending; }
    [[nodiscard]] QString errorString() const { return m_errorString; }
    [[nodiscard]] double progress() const { return m_progress; }
    [[nodiscard]] QString resultText() const { return m_resultText; }
    [[nodiscard]] bool isModified() const { return m_modified; }
    [[nodiscard]] QString inReplyTo() const { return m_inReplyTo; }
    [[nodiscard]] bool isReply() const { return !m_inReplyTo.isEmpty(); }
    [[nodiscard]] bool isForward() const { return m_forward; }
    [[nodiscard]] QStringList references() const { return m_references; }

    // Adds local files (file: URLs, from the file dialog or a drop). Each
    // is checked at once with QFileInfo only (it exists, is a file, may be
    // read; nothing of it is read here); the first that is not gives
    // errorString and is left out. True when all were added.
    Q_INVOKABLE bool addAttachments(const QList<QUrl> &urls);
    Q_INVOKABLE void removeAttachment(int index);

    // For tests: called on the thread that reads attachment files, with
    // each file's path, before it is read. Set it before send().
    static void setFileReadHook(std::function<void(const QString &path)> hook);

public Q_SLOTS:
    void send();
    // Loads message `messageId` and fills the fields for a reply: To the
    // sender (Reply-To when given; the original recipients when replying to
    // one's own message), "Re: " subject, the text quoted, In-Reply-To and
    // References (RFC 5322 §3.6.4). Ignored while a message is being sent.
    void replyTo(qint64 messageId);
    // replyTo(), and Cc the original's other recipients (its To and Cc)
    // without this account and without those already in To.
    void replyAllTo(qint64 messageId);
    // "Fwd: " subject, the original's header block and quoted text, its
    // attachments downloaded now and carried, References the original's
    // References plus its Message-ID, and no In-Reply-To: a forward starts
    // a conversation with others, it answers nobody (docs/PROTOCOL.md).
    void forward(qint64 messageId);
    // Empties the form; ignored while a message is being sent.
    void clear();

Q_SIGNALS:
    void sessionChanged();
    void toChanged();
    void ccChanged();
    void bccChanged();
    void subjectChanged();
    void bodyChanged();
    void attachmentsChanged();
    void estimatedSizeChanged();
    void recipientsChanged();
    void canSendChanged();
    void stateChanged();
    void errorStringChanged();
    void progressChanged();
    void resultTextChanged();
    void modifiedChanged();
    void replyChanged();
    void sent();
    void sendFailed(const QString &message);
    // The reply, reply-all or forward prefill is in the fields.
    void replyReady();

private:
    enum class Prefill { Reply, ReplyAll, Forward };
    struct Attachment
    {
        int key = 0;
        QString name;
        QString contentType;
        qint64 size = 0;
        QString path;    // a local file, read when sending
        QByteArray data; // a forwarded message's attachment
    };
    // What "modified" compares with.
    struct Snapshot
    {
        QString to, cc, bcc, subject, body;
        QList<int> attachmentKeys;
        friend bool operator==(const Snapshot &, const Snapshot &) = default;
    };

    void load(qint64 messageId, Prefill prefill);
    void applyPrefill(const QJsonValue &answer, Prefill prefill, const QList<Attachment> &attachments);
    void setState(State state);
    void setErrorString(const QString &message);
    void setProgress(double progress);
    void setResultText(const QString &text);
    void setReply(const QString &inReplyTo, const QStringList &references, bool forward);
    void setAttachmentList(const QList<Attachment> &attachments);
    void fieldChanged();
    void updateCanSend();
    void updateModified();
    void takeSnapshot();
    void refuse(const QString &message);
    [[nodiscard]] Snapshot current() const;
    [[nodiscard]] QString defaultDomain() const;
    [[nodiscard]] QString fieldError(const QString &text) const;
    [[nodiscard]] QString recipientsProblem() const;

    QPointer<Session> m_session;
    QString m_to;
    QString m_cc;
    QString m_bcc;
    QString m_subject;
    QString m_body;
    QList<Attachment> m_attachments;
    int m_nextKey = 1;
    QString m_inReplyTo;
    QStringList m_references;
    bool m_forward = false;
    State m_state = State::Idle;
    QString m_errorString;
    double m_progress = 0;
    QString m_resultText;
    bool m_canSend = false;
    bool m_modified = false;
    Snapshot m_snapshot;
    qint64 m_estimatedSize = -1;
    QString m_sizeError;
    quint64 m_generation = 0; // clear(), a new load or send drop answers to what was asked before
    QPointer<SmtpJob> m_job;  // the conversation sending now
};
