// WebApi: version 2's mailbox routes (docs/protocol/web.md §3): folders,
// flags and moves, copies, and what changed since a modseq.

#include "webapi.h"
#include "webapi_p.h"

#include "eventhub.h"
#include "mailheaders.h"
#include "searchquery.h"
#include "weblogging.h"

#include <QJsonArray>
#include <QJsonObject>

using namespace WebApiInternal;

namespace {

void writeFolder(JsonWriter &json, const MailFolder &folder)
{
    using L = QLatin1StringView;
    json.beginObject();
    json.key(L("id")).value(folder.id);
    json.key(L("name")).value(folder.name);
    json.key(L("role"));
    if (folder.role)
        json.value(roleName(*folder.role));
    else
        json.null();
    json.key(L("total")).value(folder.total);
    json.key(L("unseen")).value(folder.unseen);
    json.key(L("uidValidity")).value(folder.uidValidity);
    json.key(L("uidNext")).value(folder.uidNext);
    json.key(L("highestModseq")).value(folder.highestModseq);
    json.endObject();
}

HttpResponse folderResponse(int status, const MailFolder &folder)
{
    JsonWriter json;
    writeFolder(json, folder);
    return HttpResponse::json(status, json.take());
}

HttpResponse summaryResponse(int status, const MailboxEntry &entry)
{
    JsonWriter json;
    json.beginObject();
    writeSummaryMembers(json, entry);
    json.endObject();
    return HttpResponse::json(status, json.take());
}

// {"name": "..."}: the folder name a create or rename asks for.
std::optional<QString> folderNameOf(const HttpRequest &request, HttpResponse *refusal)
{
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body) {
        *refusal = HttpResponse::error(bodyError);
        return std::nullopt;
    }
    const QJsonValue name = body->value(u"name");
    if (!name.isString()) {
        *refusal = errorResponse(400, "bad_request", QStringLiteral("Send {\"name\": \"...\"}."));
        return std::nullopt;
    }
    return name.toString();
}

// A folder id in a JSON body: a positive integer.
std::optional<qint64> folderIdOf(const QJsonValue &value)
{
    const double number = value.toDouble(-1);
    if (!value.isDouble() || number < 1 || number > 9007199254740991.0 || number != double(qint64(number)))
        return std::nullopt;
    return qint64(number);
}

} // namespace

HttpResponse WebApi::storeRefusal()
{
    switch (m_store.lastError()) {
    case Store::Error::NotFound:
        return notFound();
    case Store::Error::Invalid:
        return errorResponse(400, "bad_request", m_store.lastErrorText() + u'.');
    case Store::Error::AlreadyExists:
        return errorResponse(409, "conflict", m_store.lastErrorText() + u'.');
    default:
        return storeFailure();
    }
}

HttpResponse WebApi::folders(const Caller &caller)
{
    // The modseq first: a change committed between the two reads shows in
    // the folders and again in the changes after the modseq, never in neither.
    const std::optional<qint64> modseq = m_store.accountModseq(caller.account.id);
    const auto all = modseq ? m_store.folders(caller.account.id) : std::nullopt;
    if (!all)
        return storeFailure();
    JsonWriter json;
    json.beginObject().key(QLatin1StringView("folders")).beginArray();
    for (const MailFolder &folder : *all)
        writeFolder(json, folder);
    json.endArray().key(QLatin1StringView("modseq")).value(*modseq).endObject();
    return HttpResponse::json(200, json.take());
}

HttpResponse WebApi::createFolder(const HttpRequest &request, const Caller &caller)
{
    HttpResponse refusal;
    const std::optional<QString> name = folderNameOf(request, &refusal);
    if (!name)
        return refusal;
    const auto folder = m_store.createFolder(caller.account.id, *name);
    if (!folder)
        return storeRefusal();
    qCInfo(lcWeb).noquote() << caller.account.username << "created folder" << folder->id;
    return folderResponse(201, *folder);
}

HttpResponse WebApi::renameFolder(const HttpRequest &request, const Caller &caller, qint64 folderId)
{
    HttpResponse refusal;
    const std::optional<QString> name = folderNameOf(request, &refusal);
    if (!name)
        return refusal;
    const auto folder = m_store.renameFolder(caller.account.id, folderId, *name);
    return folder ? folderResponse(200, *folder) : storeRefusal();
}

HttpResponse WebApi::deleteFolder(const Caller &caller, qint64 folderId)
{
    if (!m_store.deleteFolder(caller.account.id, folderId))
        return storeRefusal();
    qCInfo(lcWeb).noquote() << caller.account.username << "deleted folder" << folderId;
    return HttpResponse::noContent();
}

HttpResponse WebApi::patchMessage(const HttpRequest &request, const Caller &caller, qint64 entryId)
{
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body)
        return HttpResponse::error(bodyError);
    const auto usage = [] {
        return errorResponse(400, "bad_request",
                             QStringLiteral("Send one or more of {\"seen\", \"answered\", \"flagged\": true or false,"
                                            " \"keywords\": [\"...\"], \"folderId\": a folder's id}."));
    };
    EntryUpdate update;
    bool known = false;
    for (auto it = body->constBegin(); it != body->constEnd(); ++it) {
        const QString key = it.key();
        const QJsonValue value = it.value();
        known = known || key == u"seen" || key == u"answered" || key == u"flagged" || key == u"keywords" || key == u"folderId";
        if (key == u"seen" || key == u"answered" || key == u"flagged") {
            if (!value.isBool())
                return usage();
            (key == u"seen" ? update.seen : key == u"answered" ? update.answered : update.flagged) = value.toBool();
        } else if (key == u"keywords") {
            if (!value.isArray())
                return usage();
            QStringList keywords;
            for (const QJsonValue &keyword : value.toArray()) {
                if (!keyword.isString())
                    return usage();
                keywords.append(keyword.toString());
            }
            update.keywords = keywords;
        } else if (key == u"folderId") {
            update.folderId = folderIdOf(value);
            // No such folder is one that is not the caller's: 404 alike.
            if (!update.folderId)
                return value.isDouble() ? notFound() : usage();
        }
        // Other members are ignored, as in every body (docs/protocol/web.md §1).
    }
    if (!known)
        return usage();
    const auto entry = m_store.updateEntry(caller.account.id, entryId, update);
    return entry ? summaryResponse(200, *entry) : storeRefusal();
}

HttpResponse WebApi::copyMessage(const HttpRequest &request, const Caller &caller, qint64 entryId)
{
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body)
        return HttpResponse::error(bodyError);
    const QJsonValue target = body->value(u"folderId");
    if (!target.isDouble())
        return errorResponse(400, "bad_request", QStringLiteral("Send {\"folderId\": a folder's id}."));
    const std::optional<qint64> folderId = folderIdOf(target);
    if (!folderId)
        return notFound();
    const auto copy = m_store.copyEntry(caller.account.id, entryId, *folderId);
    return copy ? summaryResponse(201, *copy) : storeRefusal();
}

HttpResponse WebApi::changes(const HttpRequest &request, const Caller &caller)
{
    const std::optional<QString> sinceText = request.queryValue(QStringLiteral("since"));
    // 0 is a valid start (everything); pathId takes positive numbers only.
    const std::optional<qint64> since =
        !sinceText ? std::nullopt : *sinceText == u"0" ? std::optional<qint64>(0) : pathId(*sinceText);
    if (!since)
        return errorResponse(400, "bad_request", QStringLiteral("since must be a modseq: 0 or a positive number."));
    const auto set = m_store.changes(caller.account.id, *since);
    if (!set)
        return storeRefusal();
    using L = QLatin1StringView;
    JsonWriter json;
    json.reserve(512 * (set->created.size() + 1) + 128 * set->updated.size());
    json.beginObject();
    json.key(L("modseq")).value(set->modseq);
    json.key(L("reset")).value(set->reset);
    json.key(L("created")).beginArray();
    for (const MailboxEntry &entry : set->created) {
        json.beginObject();
        writeSummaryMembers(json, entry);
        json.endObject();
    }
    json.endArray().key(L("updated")).beginArray();
    for (const MailboxEntry &entry : set->updated) {
        json.beginObject().key(L("id")).value(entry.id).key(L("folderId")).value(entry.folderId);
        writeFlagMembers(json, entry);
        json.endObject();
    }
    json.endArray().key(L("removed")).beginArray();
    for (const qint64 id : set->removed)
        json.value(id);
    json.endArray().key(L("folders")).beginArray();
    for (const MailFolder &folder : set->folders)
        writeFolder(json, folder);
    json.endArray().key(L("foldersRemoved")).beginArray();
    for (const qint64 id : set->foldersRemoved)
        json.value(id);
    json.endArray().key(L("more")).value(set->more);
    json.endObject();
    return HttpResponse::json(200, json.take());
}

HttpResponse WebApi::openEventStream(const HttpRequest &request, const Caller &caller)
{
    if (!m_eventHub)
        return storeFailure();
    // Last-Event-ID (WHATWG HTML §9.2): the modseq of the last event the
    // client saw; anything else starts afresh.
    const QByteArray last = request.header("last-event-id").trimmed();
    std::optional<qint64> lastEventId;
    if (last == "0")
        lastEventId = 0;
    else if (const auto id = pathId(QString::fromLatin1(last)))
        lastEventId = *id;
    const quint64 ticket = m_eventHub->reserve(caller.account.id, caller.tokenHash, lastEventId);
    if (!ticket) {
        return errorResponse(429, "too_many_requests",
                             QStringLiteral("An account has at most %1 event streams open.")
                                 .arg(EventHub::MaxStreamsPerAccount));
    }
    HttpResponse response;
    response.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/event-stream")},
                        {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")}};
    // A client that loses the stream tries again after 3 s, with Last-Event-ID.
    response.body = QByteArrayLiteral("retry: 3000\n\n");
    response.streamTicket = ticket;
    return response;
}

bool WebApi::takesUpload(const QString &path)
{
    static const QString prefix = QStringLiteral("/api/v1/folders/");
    static const QString suffix = QStringLiteral("/messages");
    if (!path.startsWith(prefix) || !path.endsWith(suffix) || path.size() <= prefix.size() + suffix.size())
        return false;
    return pathId(path.mid(prefix.size(), path.size() - prefix.size() - suffix.size())).has_value();
}

HttpResponse WebApi::appendMessage(const HttpRequest &request, const Caller &caller, qint64 folderId)
{
    const QByteArray type = request.header("content-type");
    if (type.split(';').first().trimmed().toLower() != "message/rfc822")
        return errorResponse(415, "unsupported_media_type", QStringLiteral("Send the message as message/rfc822."));
    EntryFlags flags;
    if (const auto text = request.queryValue(QStringLiteral("flags")); text && !text->isEmpty()) {
        for (const QString &flag : text->split(u',')) {
            if (flag == u"seen")
                flags.seen = true;
            else if (flag == u"answered")
                flags.answered = true;
            else if (flag == u"flagged")
                flags.flagged = true;
            else if (flag == u"draft")
                flags.draft = true;
            else
                return errorResponse(400, "bad_request",
                                     QStringLiteral("flags is a list of seen, answered, flagged and draft, by commas."));
        }
    }
    if (request.body.isEmpty())
        return errorResponse(400, "bad_request", QStringLiteral("The message is empty."));
    if (request.body.size() > m_config.limits.maxMessageBytes)
        return errorResponse(413, "too_large",
                             QStringLiteral("A message is at most %1 bytes.").arg(m_config.limits.maxMessageBytes));
    if (HeaderBlock::sectionSize(request.body) > m_config.limits.maxHeaderBytes)
        return errorResponse(413, "too_large",
                             QStringLiteral("A header section is at most %1 bytes.").arg(m_config.limits.maxHeaderBytes));
    // Words folded here, before the store's write transaction begins.
    NewMessage message = Store::parsedMessage(request.body);
    message.receivedAt = QDateTime::currentDateTimeUtc();
    const auto entry = m_store.appendMessage(caller.account.id, folderId, message, flags);
    if (!entry)
        return storeRefusal();
    qCInfo(lcWeb).noquote() << caller.account.username << "appended entry" << entry->id << "to folder" << folderId;
    return summaryResponse(201, *entry);
}

HttpResponse WebApi::search(const HttpRequest &request, const Caller &caller)
{
    int limit = 0;
    std::optional<qint64> before;
    if (auto refusal = readPageParameters(request, &limit, &before))
        return std::move(*refusal);
    const std::optional<QString> text = request.queryValue(QStringLiteral("q"));
    if (!text)
        return errorResponse(400, "bad_request", QStringLiteral("Send the query as q, e.g. ?q=from:alice%20invoice."));
    // docs/protocol/web.md §3: a query the language or the mailbox refuses
    // says where, so a client can point at the term.
    const auto fault = [](const SearchError &error) {
        return HttpResponse::json(400, QJsonObject{{QStringLiteral("error"),
                                                    QJsonObject{{QStringLiteral("code"), QStringLiteral("bad_request")},
                                                                {QStringLiteral("message"), error.message},
                                                                {QStringLiteral("position"), qint64(error.position)}}}});
    };
    const SearchParse parsed = SearchQuery::parse(*text);
    if (!parsed.query)
        return fault(parsed.error);
    SearchFault storeFault;
    const auto page = m_store.search(caller.account.id, *parsed.query, limit, before, &storeFault);
    if (!page) {
        if (m_store.lastError() == Store::Error::Invalid)
            return fault(SearchError{storeFault.position, storeFault.message});
        return storeFailure();
    }
    return pageResponse(*page);
}
