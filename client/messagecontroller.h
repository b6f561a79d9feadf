#pragma once

#include "clienterror.h"

#include <QDateTime>
#include <QJsonValue>
#include <QObject>
#include <QPointer>
#include <QUrl>
#include <QVariantList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include "session.h"

// One message for the message view: GET /api/v1/messages/{id} (the summary,
// the decoded text and the headers in message order). Loading does not mark
// it seen (docs/protocol/web.md §2); InboxModel.markSeen does.
class MessageController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(Session *session READ session WRITE setSession NOTIFY sessionChanged)
    Q_PROPERTY(qint64 messageId READ messageId NOTIFY loadedChanged)
    Q_PROPERTY(bool loading READ isLoading NOTIFY loadingChanged)
    Q_PROPERTY(bool loaded READ isLoaded NOTIFY loadedChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(QString subject READ subject NOTIFY loadedChanged)
    Q_PROPERTY(QString fromName READ fromName NOTIFY loadedChanged)
    Q_PROPERTY(QString fromAddress READ fromAddress NOTIFY loadedChanged)
    Q_PROPERTY(QString to READ to NOTIFY loadedChanged) // "Alice <alice@…>, bob@…"
    Q_PROPERTY(QString cc READ cc NOTIFY loadedChanged)
    Q_PROPERTY(QDateTime date READ date NOTIFY loadedChanged)
    Q_PROPERTY(QString text READ text NOTIFY loadedChanged)
    // The text as rich text for a read-only TextEdit (MessageText::toRichText):
    // the same text, with its web and mail addresses as links.
    Q_PROPERTY(QString richText READ richText NOTIFY loadedChanged)
    // The view shows the first ShownTextChars characters of a longer text
    // (laying out more would freeze the window); richText is of those.
    Q_PROPERTY(bool textCut READ isTextCut NOTIFY loadedChanged)
    Q_PROPERTY(qsizetype shownTextChars READ shownTextCharsLimit CONSTANT)
    Q_PROPERTY(bool seen READ isSeen NOTIFY loadedChanged)
    // [[name, value], …] in message order, decoded.
    Q_PROPERTY(QVariantList headers READ headers NOTIFY loadedChanged)
    // [{index, filename, contentType, size}, …]
    Q_PROPERTY(QVariantList attachments READ attachments NOTIFY loadedChanged)
    // Where a save dialog starts: the user's Downloads folder (their home
    // folder when there is none), as a local file URL.
    Q_PROPERTY(QUrl downloadsFolder READ downloadsFolder CONSTANT)

public:
    explicit MessageController(QObject *parent = nullptr);

    [[nodiscard]] Session *session() const { return m_session; }
    void setSession(Session *session);
    [[nodiscard]] qint64 messageId() const { return m_id; }
    [[nodiscard]] bool isLoading() const { return m_loading; }
    [[nodiscard]] bool isLoaded() const { return m_id != 0; }
    [[nodiscard]] QString errorString() const { return m_errorString; }
    [[nodiscard]] QString subject() const { return m_subject; }
    [[nodiscard]] QString fromName() const { return m_fromName; }
    [[nodiscard]] QString fromAddress() const { return m_fromAddress; }
    [[nodiscard]] QString to() const { return m_to; }
    [[nodiscard]] QString cc() const { return m_cc; }
    [[nodiscard]] QDateTime date() const { return m_date; }
    [[nodiscard]] QString text() const { return m_text; }
    [[nodiscard]] QString richText() const { return m_richText; }
    [[nodiscard]] bool isTextCut() const { return m_textCut; }
    [[nodiscard]] static qsizetype shownTextCharsLimit() { return ShownTextChars; }
    static constexpr qsizetype ShownTextChars = 1024 * 1024;
    // Up to this much text is marked up at once; more on a worker thread.
    static constexpr qsizetype RichTextOnThisThreadChars = 64 * 1024;
    // The part of `text` the view shows: all of it, or the lines within ShownTextChars.
    [[nodiscard]] static QString shownPart(const QString &text);
    [[nodiscard]] bool isSeen() const { return m_seen; }
    [[nodiscard]] QVariantList headers() const { return m_headers; }
    [[nodiscard]] QVariantList attachments() const { return m_attachments; }
    [[nodiscard]] static QUrl downloadsFolder();
    // A file name to offer for an attachment's name as the sender wrote it:
    // no folders ("../x", "a/b", "c:\\d"), no control or invisible
    // formatting characters (a right-to-left override hiding the real
    // extension), no leading dots; "attachment" when nothing is left.
    [[nodiscard]] static QString safeFileName(const QString &name);
    // Where the save dialog proposes to put attachment `index`: the
    // Downloads folder and its safe name.
    [[nodiscard]] Q_INVOKABLE QUrl suggestedSaveFile(int index) const;
    // The local file a save dialog's URL names ("" for none): a file URL,
    // or what Qt 6.4's own dialog gives for a typed name, a bare path.
    [[nodiscard]] static QString localPath(const QUrl &file);
    // {exists, name, folder} of where a save would go: a file that is there
    // already is not replaced without asking.
    [[nodiscard]] Q_INVOKABLE static QVariantMap saveTarget(const QUrl &file);
    // A size as the compose window writes it ("48 KB"), for one unit everywhere.
    [[nodiscard]] Q_INVOKABLE static QString formatSize(qint64 bytes);
    // The first header of that name (case-insensitive), decoded; empty when none.
    [[nodiscard]] Q_INVOKABLE QString header(const QString &name) const;

public Q_SLOTS:
    // Shows nothing of the message shown before while `id` loads: what is
    // on screen is always what Reply and Delete act on.
    void load(qint64 id);
    void clear();
    // Downloads attachment `index` of the loaded message into `file` (a
    // local file URL, as a FileDialog gives it); replaces the file whole or
    // not at all.
    void saveAttachment(int index, const QUrl &file);

Q_SIGNALS:
    void sessionChanged();
    void loadingChanged();
    void loadedChanged();
    void errorStringChanged();
    void loaded();
    void loadFailed(const QString &message);
    // path: the file written; folder: where it is, for the user to find it.
    void attachmentSaved(const QString &path, const QString &folder);
    void attachmentSaveFailed(const QString &message);

private:
    void show(qint64 id, const QJsonValue &answer, const QString &richText, bool textCut);
    void setLoading(bool loading);
    void setErrorString(const QString &message);

    QPointer<Session> m_session;
    qint64 m_id = 0;
    qint64 m_requested = 0; // the id whose answer is awaited: older answers are dropped
    bool m_loading = false;
    QString m_errorString;
    QString m_subject;
    QString m_fromName;
    QString m_fromAddress;
    QString m_to;
    QString m_cc;
    QDateTime m_date;
    QString m_text;
    QString m_richText;
    bool m_textCut = false;
    bool m_seen = false;
    QVariantList m_headers;
    QVariantList m_attachments;
};
