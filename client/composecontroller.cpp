#include "composecontroller.h"

#include "apiclient.h"
#include "clientlogging.h"
#include "messagebuilder.h"
#include "messagejson.h"
#include "recipients.h"
#include "session.h"
#include "smtpclient.h"

#include <QJsonArray>
#include <QRegularExpression>

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

} // namespace

ComposeController::ComposeController(QObject *parent)
    : QObject(parent)
{
}

void ComposeController::setSession(Session *session)
{
    if (m_session == session)
        return;
    if (m_session)
        disconnect(m_session, nullptr, this, nullptr);
    m_session = session;
    if (m_session) {
        connect(m_session, &Session::stateChanged, this, &ComposeController::updateCanSend);
        connect(m_session, &Session::accountChanged, this, [this] {
            Q_EMIT toChanged(); // bare user names complete with the account's domain
            updateCanSend();
        });
        // Its jobs die with it, unanswered.
        connect(m_session, &QObject::destroyed, this, [this] {
            ++m_generation;
            if (isBusy())
                setState(State::Idle);
        });
    }
    Q_EMIT sessionChanged();
    updateCanSend();
}

void ComposeController::setTo(const QString &to)
{
    if (m_to == to)
        return;
    m_to = to;
    Q_EMIT toChanged();
    updateCanSend();
}

void ComposeController::setSubject(const QString &subject)
{
    if (m_subject == subject)
        return;
    m_subject = subject;
    Q_EMIT subjectChanged();
}

void ComposeController::setBody(const QString &body)
{
    if (m_body == body)
        return;
    m_body = body;
    Q_EMIT bodyChanged();
}

QString ComposeController::defaultDomain() const
{
    return m_session ? m_session->domain() : QString();
}

QString ComposeController::recipientsError() const
{
    if (m_to.trimmed().isEmpty())
        return {};
    const RecipientList list = RecipientList::parse(m_to, defaultDomain());
    if (!list.error.isEmpty())
        return list.error;
    if (list.addresses.size() > 100)
        return u"At most 100 recipients per message."_s;
    return {};
}

QStringList ComposeController::recipients() const
{
    QStringList addresses;
    for (const MailAddress &address : RecipientList::parse(m_to, defaultDomain()).addresses)
        addresses.append(address.address);
    return addresses;
}

bool ComposeController::canSend() const
{
    if (!m_session || !m_session->isLoggedIn() || isBusy())
        return false;
    const RecipientList list = RecipientList::parse(m_to, defaultDomain());
    return list.isValid() && list.addresses.size() <= 100;
}

void ComposeController::updateCanSend()
{
    const bool now = canSend();
    if (m_canSend == now)
        return;
    m_canSend = now;
    Q_EMIT canSendChanged();
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

QByteArray ComposeController::buildMessage() const
{
    OutgoingMessage message;
    message.from = {QString(), m_session ? m_session->account() : QString()};
    message.to = RecipientList::parse(m_to, defaultDomain()).addresses;
    message.subject = m_subject;
    message.text = m_body;
    message.inReplyTo = m_inReplyTo;
    message.references = m_references;
    return MessageBuilder::build(message);
}

void ComposeController::send()
{
    if (isBusy())
        return;
    const auto refuse = [this](const QString &message) {
        setErrorString(message);
        setState(State::Failed);
        Q_EMIT sendFailed(message);
    };
    if (!m_session || !m_session->isLoggedIn())
        return refuse(u"Log in first."_s);
    if (m_to.trimmed().isEmpty())
        return refuse(u"Add at least one recipient."_s);
    if (const QString error = recipientsError(); !error.isEmpty())
        return refuse(error);

    const QByteArray message = buildMessage();
    setErrorString({});
    setState(State::Sending);
    const quint64 generation = m_generation;
    SmtpJob *job = m_session->smtp()->send(m_session->credentials(), m_session->account(), recipients(), message);
    connect(job, &SmtpJob::succeeded, this, [this, generation](const SmtpReply &reply) {
        if (generation != m_generation)
            return;
        qCInfo(lcClient).noquote() << "sent:" << reply.toString();
        setState(State::Sent);
        Q_EMIT sent();
    });
    connect(job, &SmtpJob::failed, this, [this, generation, refuse](const ClientError &error) {
        if (generation != m_generation)
            return;
        if (m_session)
            m_session->reportError(error);
        refuse(error.message);
    });
}

void ComposeController::replyTo(qint64 messageId)
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
    ApiCall *call = m_session->api()->message(messageId);
    connect(call, &ApiCall::succeeded, this, [this, generation](const QJsonValue &answer) {
        if (generation != m_generation)
            return;
        const QJsonArray headers = answer[u"headers"].toArray();
        const QString ownAddress = m_session ? m_session->account() : QString();
        const QString fromAddress = answer[u"from"][u"address"].toString();
        const QString fromName = answer[u"from"][u"name"].toString();

        QString to = firstHeader(headers, u"Reply-To");
        if (to.isEmpty() && fromAddress.compare(ownAddress, Qt::CaseInsensitive) == 0) {
            // Replying to one's own sent message goes to its recipients again.
            QStringList recipients;
            for (const QJsonValue &address : answer[u"to"].toArray())
                recipients.append(Recipients::format(MessageJson::addressFrom(address.toObject())));
            to = recipients.join(u", "_s);
        }
        if (to.isEmpty())
            to = Recipients::format({fromName, fromAddress});
        setTo(to);

        static const QRegularExpression alreadyReply(u"^\\s*re\\s*:"_s, QRegularExpression::CaseInsensitiveOption);
        const QString subject = answer[u"subject"].toString();
        setSubject(alreadyReply.match(subject).hasMatch() ? subject : u"Re: "_s + subject);

        const QDateTime date = QDateTime::fromString(answer[u"date"].toString(), Qt::ISODate).toLocalTime();
        const QString who = fromName.isEmpty() ? fromAddress : fromName;
        setBody(u"\n\nOn %1, %2 wrote:\n%3\n"_s.arg(date.toString(u"yyyy-MM-dd HH:mm"_s), who,
                                                   quoted(answer[u"text"].toString())));

        // RFC 5322 §3.6.4: the parent's References (or In-Reply-To) plus its Message-ID.
        const QString messageId = firstHeader(headers, u"Message-ID");
        static const QRegularExpression msgId(u"<[^<>\\s]+>"_s);
        QStringList references;
        QString parentReferences = firstHeader(headers, u"References");
        if (parentReferences.isEmpty())
            parentReferences = firstHeader(headers, u"In-Reply-To");
        for (auto match = msgId.globalMatch(parentReferences); match.hasNext();)
            references.append(match.next().captured(0));
        const auto own = msgId.match(messageId);
        m_inReplyTo = own.hasMatch() ? own.captured(0) : QString();
        if (!m_inReplyTo.isEmpty() && !references.contains(m_inReplyTo))
            references.append(m_inReplyTo);
        m_references = references;
        Q_EMIT replyChanged();
        setState(State::Idle);
        Q_EMIT replyReady();
    });
    connect(call, &ApiCall::failed, this, [this, generation](const ClientError &error) {
        if (generation != m_generation)
            return;
        if (m_session)
            m_session->reportError(error);
        setErrorString(error.message);
        setState(State::Failed);
    });
}

void ComposeController::clear()
{
    if (m_state == State::Sending)
        return; // its outcome is still to be shown
    ++m_generation;
    setTo({});
    setSubject({});
    setBody({});
    if (!m_inReplyTo.isEmpty() || !m_references.isEmpty()) {
        m_inReplyTo.clear();
        m_references.clear();
        Q_EMIT replyChanged();
    }
    setErrorString({});
    setState(State::Idle);
}
