#include "messagecontroller.h"

#include "apiclient.h"
#include "messagejson.h"
#include "messagetext.h"
#include "offthread.h"
#include "recipients.h"
#include "session.h"
#include "smtpclient.h"

#include <QJsonArray>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

MessageController::MessageController(QObject *parent)
    : QObject(parent)
{
}

void MessageController::setSession(Session *session)
{
    if (m_session == session)
        return;
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (m_session) {
        connect(m_session, &Session::loggedOut, this, &MessageController::clear);
        connect(m_session, &QObject::destroyed, this, &MessageController::clear);
    }
    Q_EMIT sessionChanged();
    clear();
}

void MessageController::setLoading(bool loading)
{
    if (m_loading == loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged();
}

void MessageController::setErrorString(const QString &message)
{
    if (m_errorString == message)
        return;
    m_errorString = message;
    Q_EMIT errorStringChanged();
}

QString MessageController::header(const QString &name) const
{
    for (const QVariant &pair : m_headers) {
        const QVariantList fields = pair.toList();
        if (fields.size() == 2 && fields.at(0).toString().compare(name, Qt::CaseInsensitive) == 0)
            return fields.at(1).toString();
    }
    return {};
}

void MessageController::clear()
{
    m_requested = 0;
    setLoading(false);
    setErrorString({});
    if (m_id == 0)
        return;
    m_id = 0;
    m_subject.clear();
    m_fromName.clear();
    m_fromAddress.clear();
    m_to.clear();
    m_cc.clear();
    m_date = {};
    m_text.clear();
    m_richText.clear();
    m_textCut = false;
    m_seen = false;
    m_headers.clear();
    m_attachments.clear();
    Q_EMIT loadedChanged();
}

void MessageController::load(qint64 id)
{
    if (!m_session || !m_session->isLoggedIn() || id <= 0) {
        setErrorString(u"Log in first."_s);
        Q_EMIT loadFailed(m_errorString);
        return;
    }
    if (m_id != id)
        clear();
    m_requested = id;
    setLoading(true);
    setErrorString({});
    ApiCall *call = m_session->api()->message(id);
    connect(call, &ApiCall::succeeded, this, [this, id](const QJsonValue &answer) {
        if (m_requested != id)
            return;
        const QString text = answer[u"text"].toString();
        const QString shown = shownPart(text);
        if (shown.size() <= RichTextOnThisThreadChars)
            return show(id, answer, MessageText::toRichText(shown), shown.size() < text.size());
        // Tens of megabytes of text take a second and more to mark up.
        runOffThread(this, [shown] { return MessageText::toRichText(shown); },
                     [id, answer, cut = shown.size() < text.size()](MessageController *self, const QString &richText) {
            if (self->m_requested == id)
                self->show(id, answer, richText, cut);
        });
    });
    connect(call, &ApiCall::failed, this, [this, id](const ClientError &error) {
        if (m_requested != id)
            return;
        m_requested = 0;
        setLoading(false);
        setErrorString(error.message);
        if (m_session)
            m_session->reportError(error);
        Q_EMIT loadFailed(error.message);
    });
}

QString MessageController::shownPart(const QString &text)
{
    if (text.size() <= ShownTextChars)
        return text;
    // At a line's end, so that no line is shown half.
    const qsizetype end = text.lastIndexOf(u'\n', ShownTextChars - 1);
    return text.left(end > 0 ? end + 1 : ShownTextChars);
}

void MessageController::show(qint64 id, const QJsonValue &answer, const QString &richText, bool textCut)
{
    m_requested = 0;
    m_id = id;
    m_subject = answer[u"subject"].toString();
    m_fromName = answer[u"from"][u"name"].toString();
    m_fromAddress = answer[u"from"][u"address"].toString();
    m_to = Recipients::formatListed(MessageJson::addressesFrom(answer[u"to"].toArray()),
                                    answer[u"toCount"].toInteger());
    m_cc = Recipients::formatListed(MessageJson::addressesFrom(answer[u"cc"].toArray()),
                                    answer[u"ccCount"].toInteger());
    m_date = QDateTime::fromString(answer[u"date"].toString(), Qt::ISODate);
    m_text = answer[u"text"].toString();
    m_richText = richText;
    m_textCut = textCut;
    m_seen = answer[u"seen"].toBool();
    m_headers = answer[u"headers"].toArray().toVariantList();
    m_attachments = answer[u"attachments"].toArray().toVariantList();
    setLoading(false);
    Q_EMIT loadedChanged();
    Q_EMIT loaded();
}

QUrl MessageController::downloadsFolder()
{
    const QString downloads = QStandardPaths::writableLocation(QStandardPaths::DownloadLocation);
    if (!downloads.isEmpty() && QFileInfo(downloads).isDir())
        return QUrl::fromLocalFile(downloads);
    return QUrl::fromLocalFile(QDir::homePath());
}

QString MessageController::safeFileName(const QString &name)
{
    QString cleaned;
    for (const QChar c : name) {
        const QChar::Category category = c.category();
        if (category == QChar::Other_Control || category == QChar::Other_Format || category == QChar::Other_Surrogate
            || c == u'\u2028' || c == u'\u2029')
            continue;
        cleaned.append(c);
    }
    // The last part of any path, whichever separator the sender's system had.
    cleaned = cleaned.mid(std::max(cleaned.lastIndexOf(u'/'), cleaned.lastIndexOf(u'\\')) + 1);
    if (const qsizetype colon = cleaned.lastIndexOf(u':'); colon >= 0)
        cleaned = cleaned.mid(colon + 1);
    // No hidden files, no "." or "..".
    qsizetype start = 0;
    while (start < cleaned.size() && (cleaned.at(start) == u'.' || cleaned.at(start).isSpace()))
        ++start;
    cleaned = cleaned.mid(start).trimmed();
    return cleaned.isEmpty() ? u"attachment"_s : cleaned;
}

QString MessageController::localPath(const QUrl &file)
{
    if (file.isLocalFile())
        return file.toLocalFile();
    // Qt 6.4's own save dialog gives a name typed by the user as a URL
    // without a scheme ("/home/me/report.pdf"): that is a local file too.
    // Such a name was parsed as a URL: a '#' or '?' in it split it.
    if (!file.scheme().isEmpty() || !QDir::isAbsolutePath(file.path()))
        return {};
    return file.path(QUrl::FullyDecoded) + (file.hasQuery() ? u'?' + file.query(QUrl::FullyDecoded) : QString())
        + (file.hasFragment() ? u'#' + file.fragment(QUrl::FullyDecoded) : QString());
}

QVariantMap MessageController::saveTarget(const QUrl &file)
{
    const QString path = localPath(file);
    const QFileInfo info(path);
    return {
        {u"exists"_s, !path.isEmpty() && info.exists()},
        {u"name"_s, info.fileName()},
        {u"folder"_s, path.isEmpty() ? QString() : QDir::toNativeSeparators(info.absolutePath())},
    };
}

QString MessageController::formatSize(qint64 bytes)
{
    return DataSize::format(bytes);
}

QUrl MessageController::suggestedSaveFile(int index) const
{
    QString name;
    for (const QVariant &attachment : m_attachments) {
        const QVariantMap fields = attachment.toMap();
        if (fields.value(u"index"_s).toInt() == index)
            name = fields.value(u"filename"_s).toString();
    }
    return QUrl::fromLocalFile(QDir(downloadsFolder().toLocalFile()).filePath(safeFileName(name)));
}

void MessageController::saveAttachment(int index, const QUrl &file)
{
    const auto fail = [this](const QString &message) {
        setErrorString(message);
        Q_EMIT attachmentSaveFailed(message);
    };
    if (!m_session || !m_session->isLoggedIn() || m_id == 0)
        return fail(u"Open a message first."_s);
    const QString path = localPath(file);
    if (path.isEmpty())
        return fail(u"Choose a file on this computer to save to."_s);
    ApiCall *call = m_session->api()->attachment(m_id, index);
    connect(call, &ApiCall::downloaded, this, [this, path, fail](const QByteArray &bytes) {
        // Writing and flushing 25 MB to disk takes long enough to freeze
        // the window: a worker does it, and the verdict comes back here.
        runOffThread(this, [path, bytes] {
            QSaveFile out(path);
            const bool saved = out.open(QIODevice::WriteOnly) && out.write(bytes) == bytes.size() && out.commit();
            return saved ? QString() : out.errorString();
        }, [path, fail](MessageController *self, const QString &error) {
            if (!error.isEmpty())
                return fail(u"Cannot save to %1: %2"_s.arg(path, error));
            self->setErrorString({});
            Q_EMIT self->attachmentSaved(path, QDir::toNativeSeparators(QFileInfo(path).absolutePath()));
        });
    });
    connect(call, &ApiCall::failed, this, [this, fail](const ClientError &error) {
        if (m_session)
            m_session->reportError(error);
        fail(error.message);
    });
}
