#include "mailboxbackend.h"

#include "apiclient.h"
#include "session.h"

namespace {

// Both outcomes of an ApiCall, answered in `context`, its answer parsed by `parse`.
template<typename Parse, typename Done>
void whenAnswered(ApiCall *call, QObject *context, Parse parse, Done done, const MailboxBackend::Failed &failed)
{
    QObject::connect(call, &ApiCall::succeeded, context, [parse, done](const QJsonValue &answer) { done(parse(answer)); });
    QObject::connect(call, &ApiCall::failed, context, failed);
}

} // namespace

ApiMailboxBackend::ApiMailboxBackend(Session *session)
    : m_session(session)
{
}

bool ApiMailboxBackend::isOnline() const
{
    return m_session && m_session->isLoggedIn();
}

void ApiMailboxBackend::list(const QString &folder, int limit, std::optional<qint64> before, QObject *context,
                             Done<MessageListing> done, Failed failed)
{
    whenAnswered(m_session->api()->listMessages(folder, limit, before), context, &MessageListing::fromJson,
                 std::move(done), failed);
}

void ApiMailboxBackend::counts(QObject *context, Done<QHash<QString, FolderTotals>> done, Failed failed)
{
    whenAnswered(m_session->api()->account(), context, &FolderTotals::fromAccountJson, std::move(done), failed);
}

void ApiMailboxBackend::setSeen(qint64 id, bool seen, QObject *context, std::function<void()> done, Failed failed)
{
    whenAnswered(m_session->api()->setSeen(id, seen), context, [](const QJsonValue &) { return 0; },
                 [done = std::move(done)](int) { done(); }, failed);
}

void ApiMailboxBackend::remove(qint64 id, QObject *context, std::function<void()> done, Failed failed)
{
    whenAnswered(m_session->api()->deleteMessage(id), context, [](const QJsonValue &) { return 0; },
                 [done = std::move(done)](int) { done(); }, failed);
}

void ApiMailboxBackend::reportError(const ClientError &error)
{
    if (m_session)
        m_session->reportError(error);
}
