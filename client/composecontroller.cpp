#include "composecontroller.h"

#include "apiclient.h"
#include "clientlogging.h"
#include "mailaddress.h"
#include "messagebuilder.h"
#include "messagejson.h"
#include "recipients.h"
#include "session.h"
#include "smtpclient.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QMimeDatabase>
#include <QMutex>
#include <QRegularExpression>
#include <QSet>
#include <QThreadPool>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

QString firstHeader(const QJsonArray &headers, QStringView name)
{
    for (const QJsonValue &pair : headers) {
        if (pair[0].toString().compare(name, Qt::CaseInsensitive) == 0)
            return pair[1].toString().trimmed();
    }
    return {};
}

// A field of the message: the server lists at most 50 of its addresses and
// counts them all (docs/protocol/web.md §2). With `every`, a field that had
// more is read again from its header, which the message's headers list has
// whole (decoded: an encoded name may read differently, never an address).
QList<MailAddress> addressField(const QJsonValue &answer, QStringView field, QStringView countField,
                                QStringView header, bool every)
{
    const QList<MailAddress> listed = MessageJson::addressesFrom(answer[field].toArray());
    if (!every || answer[countField].toInteger() <= listed.size())
        return listed;
    const AddressList whole = MailAddresses::parseList(firstHeader(answer[u"headers"].toArray(), header).toUtf8());
    return whole.addresses.size() > listed.size() ? whole.addresses : listed;
}

QString quoted(const QString &text)
{
    QStringList lines = text.split(u'\n');
    while (!lines.isEmpty() && lines.last().trimmed().isEmpty())
        lines.removeLast();
    for (QString &line : lines) {
        if (line.endsWith(u'\r'))
            line.chop(1);
        line = (line.startsWith(u'>') ? u">"_s : u"> "_s) + line;
    }
    return lines.join(u'\n');
}

// The message ids (RFC 5322 §3.6.4 msg-id) in a References or In-Reply-To value.
QStringList messageIds(const QString &value)
{
    static const QRegularExpression msgId(u"<[^<>\\s]+>"_s);
    QStringList ids;
    for (auto match = msgId.globalMatch(value); match.hasNext();)
        ids.append(match.next().captured(0));
    return ids;
}

QList<MailAddress> withoutDuplicates(const QList<MailAddress> &addresses, QSet<QString> *seen)
{
    QList<MailAddress> out;
    for (const MailAddress &address : addresses) {
        const QString key = address.address.toLower();
        if (key.isEmpty() || seen->contains(key))
            continue;
        seen->insert(key);
        out.append(address);
    }
    return out;
}

// The hook of setFileReadHook(); copied into each preparation when it starts.
QMutex s_hookMutex;
std::function<void(const QString &)> s_fileReadHook;

// Carries a worker's result to the GUI thread, where it lives. The worker
// only posts it one call (deliver(), below) and never touches it again; the
// call emits finished() there, then the relay deletes itself. It has no
// parent, so a controller destroyed meanwhile leaves nothing dangling: its
// connection is simply gone.
class PreparationRelay : public QObject
{
    Q_OBJECT
public:
    // From the worker thread.
    void deliver(const QByteArray &payload, qint64 size, const QString &error)
    {
        QMetaObject::invokeMethod(
            this,
            [this, payload, size, error] {
                Q_EMIT finished(payload, size, error);
                deleteLater();
            },
            Qt::QueuedConnection);
    }
Q_SIGNALS:
    void finished(const QByteArray &payload, qint64 size, const QString &error);
};

struct AttachmentSource
{
    QString name;
    QString contentType;
    QString path;
    QByteArray data;
};

// On the worker: reads the files, builds the message and makes it the DATA
// payload. A file that cannot be read fails all of it: nothing half-sent.
void prepare(OutgoingMessage message, const QList<AttachmentSource> &sources,
             const std::function<void(const QString &)> &hook, PreparationRelay *relay)
{
    for (const AttachmentSource &source : sources) {
        OutgoingAttachment attachment{source.name, source.contentType, source.data};
        if (!source.path.isEmpty()) {
            if (hook)
                hook(source.path);
            QFile file(source.path);
            if (!file.open(QIODevice::ReadOnly)) {
                relay->deliver({}, 0, u"“%1” cannot be read (%2), so nothing was sent."_s.arg(source.name,
                                                                                               file.errorString()));
                return;
            }
            attachment.data = file.readAll();
            if (file.error() != QFileDevice::NoError) {
                relay->deliver({}, 0, u"“%1” cannot be read (%2), so nothing was sent."_s.arg(source.name,
                                                                                               file.errorString()));
                return;
            }
        }
        message.attachments.append(std::move(attachment));
    }
    QByteArray built = MessageBuilder::build(message);
    message.attachments.clear();
    const QByteArray payload = SmtpDialogue::dataPayload(built);
    built.clear();
    relay->deliver(payload, SmtpDialogue::messageSize(payload), {});
}

} // namespace

ComposeController::ComposeController(QObject *parent)
    : QObject(parent)
{
}

void ComposeController::setFileReadHook(std::function<void(const QString &)> hook)
{
    QMutexLocker lock(&s_hookMutex);
    s_fileReadHook = std::move(hook);
}

void ComposeController::setSession(Session *session)
{
    if (m_session == session)
        return;
    if (m_session) {
        disconnect(m_session, nullptr, this, nullptr);
        if (m_session->smtp())
            disconnect(m_session->smtp(), nullptr, this, nullptr);
    }
    m_session = session;
    if (m_session) {
        connect(m_session, &Session::stateChanged, this, &ComposeController::updateCanSend);
        connect(m_session, &Session::accountChanged, this, [this] {
            Q_EMIT toChanged(); // bare user names complete with the account's domain
            fieldChanged();
        });
        // Its jobs die with it, unanswered.
        connect(m_session, &QObject::destroyed, this, [this] {
            ++m_generation;
            if (isBusy())
                setState(State::Idle);
        });
        // The session ended (log out, or the server ended it): a message
        // still on its way is not sent as whoever logs in next, nor is its
        // outcome shown to them; the form is emptied.
        connect(m_session, &Session::loggedOut, this, [this] {
            ++m_generation;
            if (m_job)
                m_job->cancel();
            setState(State::Idle);
            clear();
        });
        if (m_session->smtp())
            connect(m_session->smtp(), &SmtpClient::maxMessageSizeChanged, this, &ComposeController::fieldChanged);
    }
    Q_EMIT sessionChanged();
    fieldChanged();
}

void ComposeController::setTo(const QString &to)
{
    if (m_to == to)
        return;
    m_to = to;
    Q_EMIT toChanged();
    fieldChanged();
}

void ComposeController::setCc(const QString &cc)
{
    if (m_cc == cc)
        return;
    m_cc = cc;
    Q_EMIT ccChanged();
    fieldChanged();
}

void ComposeController::setBcc(const QString &bcc)
{
    if (m_bcc == bcc)
        return;
    m_bcc = bcc;
    Q_EMIT bccChanged();
    fieldChanged();
}

void ComposeController::setSubject(const QString &subject)
{
    if (m_subject == subject)
        return;
    m_subject = subject;
    Q_EMIT subjectChanged();
    fieldChanged();
}

void ComposeController::setBody(const QString &body)
{
    if (m_body == body)
        return;
    m_body = body;
    Q_EMIT bodyChanged();
    fieldChanged();
}

QVariantList ComposeController::attachments() const
{
    QVariantList list;
    for (const Attachment &attachment : m_attachments) {
        list.append(QVariantMap{
            {u"key"_s, attachment.key},
            {u"name"_s, attachment.name},
            {u"size"_s, attachment.size},
            {u"sizeText"_s, DataSize::format(attachment.size)},
            {u"contentType"_s, attachment.contentType},
            {u"url"_s, attachment.path.isEmpty() ? QString() : QUrl::fromLocalFile(attachment.path).toString()},
        });
    }
    return list;
}

void ComposeController::setAttachments(const QVariantList &attachments)
{
    if (isBusy())
        return;
    QList<Attachment> kept;
    QList<QUrl> added;
    for (const QVariant &entry : attachments) {
        const QVariantMap map = entry.toMap();
        const int key = map.value(u"key"_s).toInt();
        const auto known = std::find_if(m_attachments.cbegin(), m_attachments.cend(),
                                        [key](const Attachment &attachment) { return attachment.key == key; });
        if (key > 0 && known != m_attachments.cend())
            kept.append(*known);
        else if (const QUrl url = map.value(u"url"_s).toUrl(); url.isValid() && !url.isEmpty())
            added.append(url);
    }
    const bool changed = kept.size() != m_attachments.size()
        || !std::equal(kept.cbegin(), kept.cend(), m_attachments.cbegin(),
                       [](const Attachment &a, const Attachment &b) { return a.key == b.key; });
    if (changed)
        setAttachmentList(kept);
    if (!added.isEmpty())
        addAttachments(added);
}

bool ComposeController::addAttachments(const QList<QUrl> &urls)
{
    if (isBusy())
        return false;
    QList<Attachment> list = m_attachments;
    QString problem;
    static const QMimeDatabase mimeTypes;
    for (const QUrl &url : urls) {
        if (!url.isLocalFile()) {
            problem = u"“%1” is not a file on this computer; only local files can be attached."_s.arg(url.toDisplayString());
            break;
        }
        // QFileInfo asks the file system about the file; nothing of it is
        // read until the worker sends it.
        const QFileInfo info(url.toLocalFile());
        const QString name = info.fileName();
        if (!info.exists()) {
            problem = u"“%1” does not exist."_s.arg(info.filePath());
            break;
        }
        if (info.isDir()) {
            problem = u"“%1” is a folder; only files can be attached."_s.arg(name);
            break;
        }
        if (!info.isFile() || !info.isReadable()) {
            problem = u"“%1” cannot be read."_s.arg(name);
            break;
        }
        Attachment attachment;
        attachment.key = m_nextKey++;
        attachment.name = name;
        attachment.path = info.absoluteFilePath();
        attachment.size = info.size();
        // By name only: content sniffing would read the file here.
        attachment.contentType = mimeTypes.mimeTypeForFile(info, QMimeDatabase::MatchExtension).name();
        list.append(attachment);
    }
    if (list.size() != m_attachments.size())
        setAttachmentList(list);
    if (!problem.isEmpty()) {
        setErrorString(problem);
        return false;
    }
    if (m_state == State::Failed || !m_errorString.isEmpty()) {
        setErrorString({});
        if (m_state == State::Failed)
            setState(State::Idle);
    }
    return true;
}

void ComposeController::removeAttachment(int index)
{
    if (isBusy() || index < 0 || index >= m_attachments.size())
        return;
    QList<Attachment> list = m_attachments;
    list.removeAt(index);
    setAttachmentList(list);
}

void ComposeController::setAttachmentList(const QList<Attachment> &attachments)
{
    m_attachments = attachments;
    Q_EMIT attachmentsChanged();
    fieldChanged();
}

qint64 ComposeController::attachmentsSize() const
{
    qint64 total = 0;
    for (const Attachment &attachment : m_attachments)
        total += attachment.size;
    return total;
}

QString ComposeController::attachmentsSizeText() const
{
    return m_attachments.isEmpty() ? QString() : DataSize::format(attachmentsSize());
}

qint64 ComposeController::estimatedSize() const
{
    // A lower bound: what the headers add is left out, so that a message
    // the server would take is never refused on a guess.
    qint64 size = m_body.toUtf8().size();
    for (const Attachment &attachment : m_attachments) {
        // An attached message may go as its own lines (MessageBuilder).
        size += attachment.contentType.startsWith(u"message/") ? attachment.size
                                                                : MessageBuilder::base64Size(attachment.size);
    }
    return size;
}

QString ComposeController::sizeError() const
{
    const qint64 limit = m_session && m_session->smtp() ? m_session->smtp()->maxMessageSize() : 0;
    const qint64 size = estimatedSize();
    return limit > 0 && size > limit ? DataSize::tooLargeMessage(size, limit) : QString();
}

QString ComposeController::defaultDomain() const
{
    return m_session ? m_session->domain() : QString();
}

QString ComposeController::fieldError(const QString &text) const
{
    if (text.trimmed().isEmpty())
        return {};
    return RecipientList::parse(text, defaultDomain()).error;
}

QString ComposeController::recipientsError() const
{
    if (const QString error = fieldError(m_to); !error.isEmpty())
        return error;
    if (ccError().isEmpty() && bccError().isEmpty() && recipients().size() > MaxRecipients)
        return u"At most %1 recipients per message (To, Cc and Bcc together)."_s.arg(MaxRecipients);
    return {};
}

QString ComposeController::ccError() const
{
    return fieldError(m_cc);
}

QString ComposeController::bccError() const
{
    return fieldError(m_bcc);
}

QStringList ComposeController::recipients() const
{
    QStringList addresses;
    QSet<QString> seen;
    for (const QString *field : {&m_to, &m_cc, &m_bcc}) {
        for (const MailAddress &address : withoutDuplicates(RecipientList::parse(*field, defaultDomain()).addresses, &seen))
            addresses.append(address.address);
    }
    return addresses;
}

// Why send() would refuse the recipients now, or "".
QString ComposeController::recipientsProblem() const
{
    for (const QString &error : {recipientsError(), ccError(), bccError()}) {
        if (!error.isEmpty())
            return error;
    }
    if (recipients().isEmpty())
        return u"Add at least one recipient."_s;
    return {};
}

bool ComposeController::canSend() const
{
    if (!m_session || !m_session->isLoggedIn() || isBusy())
        return false;
    // sizeError() warns, but the server decides: the limit it announced in
    // the last conversation may have been raised since, and only another
    // conversation can tell (the dialogue checks SIZE before MAIL FROM).
    return recipientsProblem().isEmpty();
}

void ComposeController::fieldChanged()
{
    Q_EMIT recipientsChanged();
    const qint64 size = estimatedSize();
    const QString error = sizeError();
    if (size != m_estimatedSize || error != m_sizeError) {
        m_estimatedSize = size;
        m_sizeError = error;
        Q_EMIT estimatedSizeChanged();
    }
    updateCanSend();
    updateModified();
}

void ComposeController::updateCanSend()
{
    const bool now = canSend();
    if (m_canSend == now)
        return;
    m_canSend = now;
    Q_EMIT canSendChanged();
}

ComposeController::Snapshot ComposeController::current() const
{
    Snapshot snapshot{m_to, m_cc, m_bcc, m_subject, m_body, {}};
    for (const Attachment &attachment : m_attachments)
        snapshot.attachmentKeys.append(attachment.key);
    return snapshot;
}

void ComposeController::takeSnapshot()
{
    m_snapshot = current();
    updateModified();
}

void ComposeController::updateModified()
{
    const bool now = !(current() == m_snapshot);
    if (m_modified == now)
        return;
    m_modified = now;
    Q_EMIT modifiedChanged();
}

void ComposeController::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged();
    updateCanSend();
}

void ComposeController::setErrorString(const QString &message)
{
    if (m_errorString == message)
        return;
    m_errorString = message;
    Q_EMIT errorStringChanged();
}

void ComposeController::setProgress(double progress)
{
    if (qFuzzyCompare(m_progress + 1, progress + 1))
        return;
    m_progress = progress;
    Q_EMIT progressChanged();
}

void ComposeController::setResultText(const QString &text)
{
    if (m_resultText == text)
        return;
    m_resultText = text;
    Q_EMIT resultTextChanged();
}

void ComposeController::setReply(const QString &inReplyTo, const QStringList &references, bool forward)
{
    if (m_inReplyTo == inReplyTo && m_references == references && m_forward == forward)
        return;
    m_inReplyTo = inReplyTo;
    m_references = references;
    m_forward = forward;
    Q_EMIT replyChanged();
}

void ComposeController::refuse(const QString &message)
{
    setErrorString(message);
    setState(State::Failed);
    Q_EMIT sendFailed(message);
}

void ComposeController::send()
{
    if (isBusy())
        return;
    if (!m_session || !m_session->isLoggedIn())
        return refuse(u"Log in first."_s);
    if (const QString problem = recipientsProblem(); !problem.isEmpty())
        return refuse(problem);

    OutgoingMessage message;
    message.from = {QString(), m_session->account()};
    QSet<QString> seen;
    message.to = withoutDuplicates(RecipientList::parse(m_to, defaultDomain()).addresses, &seen);
    // An address already in To is not repeated in Cc. Bcc is the envelope's
    // alone: no header names it, so neither recipients nor the Sent copy show it.
    message.cc = withoutDuplicates(RecipientList::parse(m_cc, defaultDomain()).addresses, &seen);
    message.subject = m_subject;
    message.text = m_body;
    message.inReplyTo = m_inReplyTo;
    message.references = m_references;
    QList<AttachmentSource> sources;
    for (const Attachment &attachment : std::as_const(m_attachments))
        sources.append({attachment.name, attachment.contentType, attachment.path, attachment.data});
    const QStringList envelope = recipients();

    setErrorString({});
    setResultText({});
    setProgress(0);
    setState(State::Sending);
    const quint64 generation = ++m_generation;
    std::function<void(const QString &)> hook;
    {
        QMutexLocker lock(&s_hookMutex);
        hook = s_fileReadHook;
    }
    auto *relay = new PreparationRelay;
    connect(relay, &PreparationRelay::finished, this,
            [this, generation, envelope](const QByteArray &payload, qint64 size, const QString &error) {
                if (generation != m_generation || !m_session || !m_session->isLoggedIn() || !m_session->smtp())
                    return; // cleared, another send, or the session went
                if (!error.isEmpty())
                    return refuse(error);
                SmtpJob *job = m_session->smtp()->sendPayload(m_session->credentials(), m_session->account(),
                                                              envelope, payload, size);
                m_job = job;
                connect(job, &SmtpJob::progress, this, [this, generation](qint64 written, qint64 total) {
                    if (generation == m_generation && total > 0)
                        setProgress(double(written) / double(total));
                });
                connect(job, &SmtpJob::succeeded, this, [this, generation, count = envelope.size()](const SmtpReply &reply) {
                    if (generation != m_generation)
                        return;
                    qCInfo(lcClient).noquote() << "sent:" << reply.toString();
                    setProgress(1);
                    setResultText(count == 1 ? u"Message sent to 1 recipient."_s
                                             : u"Message sent to %1 recipients."_s.arg(count));
                    takeSnapshot(); // nothing is lost by closing now
                    setState(State::Sent);
                    Q_EMIT sent();
                });
                connect(job, &SmtpJob::failed, this, [this, generation](const ClientError &error) {
                    if (generation != m_generation)
                        return;
                    if (m_session)
                        m_session->reportError(error);
                    refuse(error.message);
                });
            });
    QThreadPool::globalInstance()->start([message = std::move(message), sources = std::move(sources),
                                          hook = std::move(hook), relay] {
        prepare(message, sources, hook, relay);
    });
}

void ComposeController::replyTo(qint64 messageId)
{
    load(messageId, Prefill::Reply);
}

void ComposeController::replyAllTo(qint64 messageId)
{
    load(messageId, Prefill::ReplyAll);
}

void ComposeController::forward(qint64 messageId)
{
    load(messageId, Prefill::Forward);
}

void ComposeController::load(qint64 messageId, Prefill prefill)
{
    if (m_state == State::Sending)
        return; // the message being sent would be lost track of
    if (!m_session || !m_session->isLoggedIn()) {
        setErrorString(u"Log in first."_s);
        setState(State::Failed);
        return;
    }
    setErrorString({});
    setState(State::Preparing);
    const quint64 generation = ++m_generation;
    const auto fail = [this, generation](const ClientError &error) {
        if (generation != m_generation)
            return;
        if (m_session)
            m_session->reportError(error);
        setErrorString(error.message);
        setState(State::Failed);
    };
    ApiCall *call = m_session->api()->message(messageId);
    connect(call, &ApiCall::failed, this, fail);
    connect(call, &ApiCall::succeeded, this, [this, generation, messageId, prefill, fail](const QJsonValue &answer) {
        if (generation != m_generation)
            return;
        const QList<AttachmentInfo> infos = MessageJson::attachmentsFrom(answer[u"attachments"].toArray());
        if (prefill != Prefill::Forward || infos.isEmpty())
            return applyPrefill(answer, prefill, {});
        // A forward carries the original's attachments: all of them are
        // downloaded before the form is filled, so it is never half there.
        auto pending = std::make_shared<QList<Attachment>>(infos.size());
        auto remaining = std::make_shared<qsizetype>(infos.size());
        for (qsizetype i = 0; i < infos.size(); ++i) {
            const AttachmentInfo info = infos.at(i);
            ApiCall *download = m_session->api()->attachment(messageId, info.index);
            connect(download, &ApiCall::failed, this, fail);
            connect(download, &ApiCall::downloaded, this,
                    [this, generation, answer, pending, remaining, i, info](const QByteArray &bytes, const QString &) {
                        if (generation != m_generation)
                            return;
                        Attachment &attachment = (*pending)[i];
                        attachment.name = info.filename;
                        attachment.contentType = info.contentType;
                        attachment.data = bytes;
                        attachment.size = bytes.size();
                        if (--*remaining == 0)
                            applyPrefill(answer, Prefill::Forward, *pending);
                    });
        }
    });
}

void ComposeController::applyPrefill(const QJsonValue &answer, Prefill prefill, const QList<Attachment> &attachments)
{
    const QJsonArray headers = answer[u"headers"].toArray();
    const QString ownAddress = m_session ? m_session->account().toLower() : QString();
    const MailAddress from = MessageJson::addressFrom(answer[u"from"].toObject());
    // A reply goes to every recipient; a forward's header block shows the listed ones and how many more.
    const bool every = prefill != Prefill::Forward;
    const QList<MailAddress> originalTo = addressField(answer, u"to", u"toCount", u"To", every);
    const QList<MailAddress> originalCc = addressField(answer, u"cc", u"ccCount", u"Cc", every);
    const QString subject = answer[u"subject"].toString();
    const QString messageId = messageIds(firstHeader(headers, u"Message-ID")).value(0);
    // The parent's References (or, without them, its In-Reply-To).
    QStringList references = messageIds(firstHeader(headers, u"References"));
    if (references.isEmpty())
        references = messageIds(firstHeader(headers, u"In-Reply-To"));
    if (!messageId.isEmpty() && !references.contains(messageId))
        references.append(messageId);

    if (prefill == Prefill::Forward) {
        static const QRegularExpression alreadyForward(u"^\\s*(fwd?|fw)\\s*:"_s, QRegularExpression::CaseInsensitiveOption);
        QString date = firstHeader(headers, u"Date");
        if (date.isEmpty())
            date = answer[u"date"].toString();
        QString block = u"\n\n---------- Forwarded message ----------\nFrom: "_s + Recipients::format(from)
            + u"\nDate: "_s + date + u"\nSubject: "_s + subject + u"\nTo: "_s
            + Recipients::formatListed(originalTo, answer[u"toCount"].toInteger()) + u'\n';
        if (!originalCc.isEmpty())
            block += u"Cc: "_s + Recipients::formatListed(originalCc, answer[u"ccCount"].toInteger()) + u'\n';
        setTo({});
        setCc({});
        setBcc({});
        setSubject(alreadyForward.match(subject).hasMatch() ? subject : u"Fwd: "_s + subject);
        setBody(block + u'\n' + quoted(answer[u"text"].toString()) + u'\n');
        QList<Attachment> carried = attachments;
        for (Attachment &attachment : carried)
            attachment.key = m_nextKey++;
        setAttachmentList(carried);
        // RFC 5322 §3.6.4 asks In-Reply-To and References of replies only. A
        // forward keeps the thread in References, so that the original's
        // participants' clients can thread it, and answers no one.
        setReply({}, references, true);
    } else {
        QSet<QString> seen;
        QList<MailAddress> to;
        const bool ownMessage = from.address.compare(ownAddress, Qt::CaseInsensitive) == 0;
        if (const QString replyTo = firstHeader(headers, u"Reply-To"); !replyTo.isEmpty())
            to = RecipientList::parse(replyTo, defaultDomain()).addresses;
        else if (ownMessage)
            to = originalTo; // replying to one's own sent message goes to its recipients again
        if (to.isEmpty())
            to = {from};
        to = withoutDuplicates(to, &seen);
        QList<MailAddress> cc;
        if (prefill == Prefill::ReplyAll) {
            seen.insert(ownAddress); // never oneself in Cc
            cc = withoutDuplicates(originalTo + originalCc, &seen);
        }
        setTo(Recipients::formatList(to));
        setCc(Recipients::formatList(cc));
        setBcc({});
        static const QRegularExpression alreadyReply(u"^\\s*re\\s*:"_s, QRegularExpression::CaseInsensitiveOption);
        setSubject(alreadyReply.match(subject).hasMatch() ? subject : u"Re: "_s + subject);
        const QDateTime date = QDateTime::fromString(answer[u"date"].toString(), Qt::ISODate).toLocalTime();
        const QString who = from.name.isEmpty() ? from.address : from.name;
        setBody(u"\n\nOn %1, %2 wrote:\n%3\n"_s.arg(date.toString(u"yyyy-MM-dd HH:mm"_s), who,
                                                   quoted(answer[u"text"].toString())));
        setAttachmentList({});
        // RFC 5322 §3.6.4: In-Reply-To the parent's Message-ID, References
        // the parent's References (or In-Reply-To) plus its Message-ID.
        setReply(messageId, references, false);
    }
    setResultText({});
    setProgress(0);
    takeSnapshot(); // opened with the prefill: only the user's changes count
    setState(State::Idle);
    Q_EMIT replyReady();
}

void ComposeController::clear()
{
    if (m_state == State::Sending)
        return; // its outcome is still to be shown
    ++m_generation;
    setTo({});
    setCc({});
    setBcc({});
    setSubject({});
    setBody({});
    if (!m_attachments.isEmpty())
        setAttachmentList({});
    setReply({}, {}, false);
    setErrorString({});
    setResultText({});
    setProgress(0);
    takeSnapshot();
    setState(State::Idle);
}

#include "composecontroller.moc"
