#include "webapi.h"
#include "webapi_p.h"

#include "logging.h"

#include "backendreply.h"
#include "eventhub.h"
#include "httproutes.h"
#include "requestworkers.h"
#include "jsonwriter.h"
#include "messagejson.h"
#include "mimemessage.h"
#include "passwords.h"
#include "sharedauthenticator.h"
#include "username.h"
#include "weblogging.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonArray>
#include <QRandomGenerator>

// Shared with the v2 mailbox routes (webmailbox.cpp) through webapi_p.h.
namespace WebApiInternal {

constexpr int TokenBytes = 32;
// docs/protocol/web.md §1: display names, and the directory's answers.
constexpr int MaxDisplayNameCharacters = 100;
constexpr int DirectoryLimit = 20;
constexpr int RemovalsKeptDays = 30;

// U+0000 to U+001F and U+007F: the rule passwords follow (docs/PROTOCOL.md
// §6), for display names and directory queries too.
bool hasControlCharacter(QStringView text)
{
    return Passwords::containsControlCharacter(text);
}

QString isoUtc(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODate);
}

void writeAddress(JsonWriter &json, const MailAddress &address)
{
    json.beginObject().key(QLatin1StringView("name")).value(address.name);
    json.key(QLatin1StringView("address")).value(address.address).endObject();
}

// A summary lists at most MessageSummary::MaxListedAddresses of a field
// (the store keeps no more) and counts them all (toCount, ccCount); the
// message's headers and raw bytes have the rest.
constexpr qsizetype ListedAddresses = MessageSummary::MaxListedAddresses;

void writeAddresses(JsonWriter &json, const QList<MailAddress> &addresses)
{
    json.beginArray();
    for (const MailAddress &address : addresses.first(std::min(addresses.size(), ListedAddresses)))
        writeAddress(json, address);
    json.endArray();
}

// A listing entry's summary fields (docs/PROTOCOL.md), as members of the object being
// written (a message adds its own after them).
void writeSummaryMembers(JsonWriter &json, const MailboxEntry &entry)
{
    using L = QLatin1StringView;
    const MessageSummary &summary = entry.summary;
    json.key(L("id")).value(entry.id);
    json.key(L("from"));
    writeAddress(json, summary.from);
    json.key(L("to"));
    writeAddresses(json, summary.to);
    json.key(L("cc"));
    writeAddresses(json, summary.cc);
    json.key(L("toCount")).value(std::max<qint64>(summary.toCount, summary.to.size()));
    json.key(L("ccCount")).value(std::max<qint64>(summary.ccCount, summary.cc.size()));
    json.key(L("subject")).value(summary.subject);
    json.key(L("date")).isoUtc(summary.date.isValid() ? summary.date : entry.receivedAt);
    json.key(L("receivedAt")).isoUtc(entry.receivedAt);
    json.key(L("size")).value(entry.size);
    json.key(L("seen")).value(entry.seen);
    json.key(L("preview")).value(summary.preview);
    json.key(L("folderId")).value(entry.folderId);
    writeFlagMembers(json, entry);
    json.key(L("hasAttachments")).value(!summary.attachments.isEmpty());
}

void writeFlagMembers(JsonWriter &json, const MailboxEntry &entry)
{
    using L = QLatin1StringView;
    json.key(L("flags")).beginObject();
    json.key(L("seen")).value(entry.seen);
    json.key(L("answered")).value(entry.answered);
    json.key(L("flagged")).value(entry.flagged);
    json.key(L("draft")).value(entry.draft);
    json.endObject();
    json.key(L("keywords")).beginArray();
    for (const QString &keyword : entry.keywords)
        json.value(keyword);
    json.endArray();
}

// A response for done(), always later and on the asking connection's
// thread, and never once that connection is gone: the one way every backend
// answers a connection (the network thread's routes here, the workers', the
// password checks').
using Answer = BackendReply<HttpResponse>;

HttpResponse errorResponse(int status, const char *code, const QString &message)
{
    return HttpResponse::error(HttpError{status, code, message});
}

HttpResponse notFound()
{
    return errorResponse(404, "not_found", QStringLiteral("No such resource."));
}

HttpResponse unauthorized(const QString &message, bool tokenGiven)
{
    HttpResponse response = errorResponse(401, "unauthorized", message);
    response.headers.append({QByteArrayLiteral("WWW-Authenticate"),
                             tokenGiven ? QByteArrayLiteral("Bearer error=\"invalid_token\"") : QByteArrayLiteral("Bearer")});
    return response;
}

HttpResponse methodNotAllowed(const QByteArray &allowed)
{
    HttpResponse response = errorResponse(405, "method_not_allowed", QStringLiteral("Use %1.").arg(QString::fromLatin1(allowed)));
    response.headers.append({QByteArrayLiteral("Allow"), allowed});
    return response;
}

// docs/protocol/web.md §1: a query parameter the route does not take, or
// one given twice, is 400, so that a misspelt or unsupported one (`?q=` on a
// listing) never looks like a request that did what it asked.
std::optional<HttpResponse> queryRefusal(const HttpRequest &request, const QList<QLatin1StringView> &taken)
{
    QStringList seen;
    for (const auto &parameter : request.query) {
        const QString &name = parameter.first;
        const QString shown = name.left(64);
        if (std::none_of(taken.cbegin(), taken.cend(), [&name](QLatin1StringView known) { return name == known; })) {
            QStringList names;
            for (QLatin1StringView known : taken)
                names.append(known);
            return errorResponse(400, "bad_request",
                                 taken.isEmpty() ? QStringLiteral("Unknown query parameter '%1': this takes none.").arg(shown)
                                                 : QStringLiteral("Unknown query parameter '%1': this takes %2.")
                                                       .arg(shown, names.join(QStringLiteral(", "))));
        }
        if (seen.contains(name))
            return errorResponse(400, "bad_request", QStringLiteral("The query parameter '%1' is given twice.").arg(shown));
        seen.append(name);
    }
    return std::nullopt;
}

// A positive id in a path segment or a query; anything else names nothing (404).
std::optional<qint64> pathId(const QString &segment)
{
    return httpPositiveInteger(segment);
}

// RFC 6266: an ASCII fallback and the UTF-8 name.
QByteArray contentDisposition(const QString &filename)
{
    QByteArray fallback;
    for (QChar c : filename)
        fallback += (c.unicode() >= 32 && c.unicode() < 127 && c != u'"' && c != u'\\') ? char(c.unicode()) : '_';
    return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + filename.toUtf8().toPercentEncoding();
}

bool isSafeMediaType(const QString &type)
{
    const qsizetype slash = type.indexOf(u'/');
    return slash > 0 && slash < type.size() - 1 && type.size() < 128
        && std::all_of(type.cbegin(), type.cend(), [](QChar c) {
               return (c.isLetterOrNumber() && c.unicode() < 128) || QStringView(u"/!#$&^_.+-").contains(c);
           });
}

} // namespace WebApiInternal

using namespace WebApiInternal;

WebApi::WebApi(const Config &config, QObject *parent)
    : WebApi(config, new SharedAuthenticator(config), parent)
{
    m_authenticator->setParent(this);
    m_ownsAuthenticator = true;
}

WebApi::WebApi(const Config &config, SharedAuthenticator *authenticator, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_authenticator(authenticator)
{
    m_hasher = new PasswordHasher(this, config.pbkdf2Iterations);
    connect(m_hasher, &PasswordHasher::verified, this, [this](quint64 ticket, bool matches) {
        if (auto done = m_verifications.take(ticket))
            done(matches);
    });
    connect(m_hasher, &PasswordHasher::hashed, this, [this](quint64 ticket, const QString &stored) {
        if (auto done = m_hashes.take(ticket))
            done(stored);
    });
}

WebApi::~WebApi() = default;

bool WebApi::storeReady()
{
    if (m_store.isOpen())
        return true;
    if (m_lastOpenAttempt.isValid() && m_lastOpenAttempt.elapsed() < 1000)
        return false;
    m_lastOpenAttempt.start();
    if (m_store.open(m_config.database, Store::OpenMode::CreateIfMissing))
        return true;
    qCWarning(lcWeb).noquote() << "cannot open the store:" << m_store.lastErrorText();
    return false;
}

bool WebApi::open(QString *error)
{
    if (!m_store.open(m_config.database, Store::OpenMode::CreateIfMissing)) {
        *error = m_store.lastErrorText();
        return false;
    }
    return !m_ownsAuthenticator || m_authenticator->open(error);
}

QByteArray WebApi::tokenHash(const QByteArray &token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256);
}

HttpResponse WebApi::storeFailure()
{
    qCWarning(lcWeb).noquote() << "storage failed:" << m_store.lastErrorText();
    if (m_store.lastError() == Store::Error::Unavailable)
        return unavailable();
    return errorResponse(500, "internal", QStringLiteral("The server could not complete the request."));
}

// The database cannot be reached now: the client may try again soon (the
// store reconnects within seconds of the database being back).
HttpResponse WebApi::unavailable()
{
    HttpResponse response = errorResponse(503, "unavailable", QStringLiteral("The mail store is unavailable, try again shortly."));
    response.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("5")});
    return response;
}

std::optional<WebApi::Caller> WebApi::authenticate(const HttpRequest &request, HttpResponse *failure)
{
    const QByteArray header = request.header("authorization");
    if (header.isEmpty()) {
        *failure = unauthorized(QStringLiteral("Log in first: send Authorization: Bearer <token>."), false);
        return std::nullopt;
    }
    const qsizetype space = header.indexOf(' ');
    const QByteArray scheme = space < 0 ? header : header.left(space);
    const QByteArray encoded = space < 0 ? QByteArray() : header.mid(space + 1).trimmed();
    const auto token = QByteArray::fromBase64Encoding(encoded, QByteArray::Base64UrlEncoding
                                                                   | QByteArray::OmitTrailingEquals
                                                                   | QByteArray::AbortOnBase64DecodingErrors);
    if (scheme.compare("Bearer", Qt::CaseInsensitive) != 0 || !token || token.decoded.size() != TokenBytes) {
        *failure = unauthorized(QStringLiteral("The token is malformed."), true);
        return std::nullopt;
    }
    const QByteArray hash = tokenHash(token.decoded);
    // A deleted account's tokens go with it (ON DELETE CASCADE).
    const auto account = m_store.tokenOwner(hash, QDateTime::currentDateTimeUtc());
    if (!account) {
        *failure = m_store.lastError() == Store::Error::NotFound
            ? unauthorized(QStringLiteral("The token is unknown, expired or ended."), true)
            : storeFailure();
        return std::nullopt;
    }
    return Caller{*account, hash};
}

void WebApi::handle(const HttpRequest &request, const QString &clientAddress, QObject *context, Done done)
{
    if (!context)
        return;
    QPointer<QObject> guard(context);
    // Answers always come later, so a caller never gets one inside this call.
    const Answer reply(context, done);

    // What a route's handler is given; caller is null on routes open without a token.
    struct Call
    {
        const HttpRequest &request;
        const QString &clientAddress;
        const QPointer<QObject> &context;
        const Done &done;
        const std::function<void(const HttpResponse &)> &reply;
        const HttpPathParameters &path;
        const Caller *caller;
    };
    struct Route
    {
        void (*handler)(WebApi &api, const Call &call);
        bool needsToken = true;
        // Store work that may take long (a listing, a large message): done
        // on a request worker, token check included, so it never holds up
        // the other connections of this network thread.
        bool onWorker = false;
        bool needsStore = true;
        // The query parameters it takes; any other is 400 (queryRefusal).
        QList<QLatin1StringView> parameters = {};
    };
    // docs/protocol/web.md §1. A path no pattern matches is 404 (ids
    // that are no positive numbers, unknown folders, trailing slashes); a
    // method no route of a matching pattern has is 405, whose Allow lists
    // the methods in this order. Read-only once built, so every network
    // thread's WebApi shares it.
    static const HttpRouteTable<Route> routes = [] {
        HttpRouteTable<Route> table;
        // The v1 mailboxes, aliases of two role folders.
        table.addType(QStringLiteral("mailbox"), [](QStringView name) { return name == u"inbox" || name == u"sent"; });
        const auto health = [](WebApi &, const Call &call) {
            call.reply(HttpResponse::json(200, {{QStringLiteral("status"), QStringLiteral("ok")}}));
        };
        const bool allAdded = table.add("GET", u"/healthz", {health, false, false, false})
            && table.add("HEAD", u"/healthz", {health, false, false, false})
            && table.add("POST", u"/api/v1/session",
                         {[](WebApi &api, const Call &call) {
                              api.login(call.request, call.clientAddress, call.context, call.done);
                          },
                          false})
            && table.add("DELETE", u"/api/v1/session",
                         {[](WebApi &api, const Call &call) {
                             if (!api.m_store.deleteToken(call.caller->tokenHash)
                                 && api.m_store.lastError() != Store::Error::NotFound)
                                 return call.reply(api.storeFailure());
                             if (api.m_eventHub)
                                 api.m_eventHub->tokenEnded(call.caller->tokenHash);
                             call.reply(HttpResponse::noContent());
                         }, true, true})
            && table.add("GET", u"/api/v1/account",
                         {[](WebApi &api, const Call &call) { call.reply(api.account(*call.caller)); }, true, true})
            && table.add("PATCH", u"/api/v1/account",
                         {[](WebApi &api, const Call &call) { call.reply(api.patchAccount(call.request, *call.caller)); },
                          true, true})
            && table.add("GET", u"/api/v1/directory",
                         {[](WebApi &api, const Call &call) { call.reply(api.directory(call.request)); }, true, true,
                          true, {QLatin1StringView("q")}})
            && table.add("PUT", u"/api/v1/account/password",
                         {[](WebApi &api, const Call &call) {
                             api.changePassword(call.request, *call.caller, call.clientAddress, call.context, call.done);
                         }})
            && table.add("GET", u"/api/v1/mailboxes/{mailbox:mailbox}/messages",
                         {[](WebApi &api, const Call &call) {
                             const FolderRole role = *roleFromName(call.path.value(u"mailbox"));
                             call.reply(api.listFolder(call.request, *call.caller, role));
                         }, true, true, true, {QLatin1StringView("limit"), QLatin1StringView("before")}})
            && table.add("GET", u"/api/v1/folders",
                         {[](WebApi &api, const Call &call) { call.reply(api.folders(*call.caller)); }, true, true})
            && table.add("POST", u"/api/v1/folders",
                         {[](WebApi &api, const Call &call) { call.reply(api.createFolder(call.request, *call.caller)); },
                          true, true})
            && table.add("PATCH", u"/api/v1/folders/{id:int}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.renameFolder(call.request, *call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("DELETE", u"/api/v1/folders/{id:int}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.deleteFolder(*call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("GET", u"/api/v1/folders/{id:int}/messages",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.listFolder(call.request, *call.caller, call.path.number(u"id")));
                         }, true, true, true, {QLatin1StringView("limit"), QLatin1StringView("before")}})
            && table.add("POST", u"/api/v1/folders/{id:int}/messages",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.appendMessage(call.request, *call.caller, call.path.number(u"id")));
                         }, true, true, true, {QLatin1StringView("flags")}})
            && table.add("POST", u"/api/v1/messages/{id:int}/copy",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.copyMessage(call.request, *call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("GET", u"/api/v1/events",
                         {[](WebApi &api, const Call &call) { call.reply(api.openEventStream(call.request, *call.caller)); }})
            && table.add("GET", u"/api/v1/search",
                         {[](WebApi &api, const Call &call) { call.reply(api.search(call.request, *call.caller)); },
                          true, true, true,
                          {QLatin1StringView("q"), QLatin1StringView("limit"), QLatin1StringView("before")}})
            && table.add("GET", u"/api/v1/changes",
                         {[](WebApi &api, const Call &call) { call.reply(api.changes(call.request, *call.caller)); },
                          true, true, true, {QLatin1StringView("since")}})
            && table.add("GET", u"/api/v1/messages/{id:int}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.message(*call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("PATCH", u"/api/v1/messages/{id:int}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.patchMessage(call.request, *call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("DELETE", u"/api/v1/messages/{id:int}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.deleteMessage(*call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("GET", u"/api/v1/messages/{id:int}/raw",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.rawMessage(*call.caller, call.path.number(u"id")));
                         }, true, true})
            && table.add("GET", u"/api/v1/messages/{id:int}/attachments/{index:index}",
                         {[](WebApi &api, const Call &call) {
                             call.reply(api.attachment(*call.caller, call.path.number(u"id"),
                                                       int(call.path.number(u"index"))));
                         }, true, true});
        Q_ASSERT(allAdded);
        Q_UNUSED(allAdded);
        return table;
    }();

    const HttpRouteTable<Route>::Match match = routes.match(request.method, request.path);
    if (!match.target)
        return reply(match.allowed.isEmpty() ? notFound() : methodNotAllowed(match.allowed));
    // Like 404 and 405, before any token check: the request's form is wrong.
    if (const std::optional<HttpResponse> refusal = queryRefusal(request, match.target->parameters))
        return reply(*refusal);
    if (match.target->onWorker && m_workers) {
        // Answered on this thread, later, while the asking connection lives.
        m_workers->run([request, clientAddress, path = match.parameters, route = *match.target, answer = reply](WebApi &api) {
            if (!api.storeReady())
                return answer(api.unavailable());
            HttpResponse response;
            const std::function<void(const HttpResponse &)> keep = [&response](const HttpResponse &r) { response = r; };
            if (const std::optional<Caller> caller = api.authenticate(request, &response)) {
                const QPointer<QObject> noContext; // worker routes answer through `keep` only
                const Done none;
                route.handler(api, Call{request, clientAddress, noContext, none, keep, path, &*caller});
            }
            answer(response);
        });
        return;
    }
    if (match.target->needsStore && !storeReady())
        return reply(unavailable());
    std::optional<Caller> caller;
    if (match.target->needsToken) {
        HttpResponse failure;
        caller = authenticate(request, &failure);
        if (!caller)
            return reply(failure);
    }
    const std::function<void(const HttpResponse &)> answer = reply;
    match.target->handler(*this, Call{request, clientAddress, guard, done, answer, match.parameters,
                                      caller ? &*caller : nullptr});
}

void WebApi::login(const HttpRequest &request, const QString &clientAddress, QPointer<QObject> context, Done done)
{
    const Answer answer(context.data(), done);
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body)
        return answer(HttpResponse::error(bodyError));
    const QJsonValue usernameValue = body->value(u"username");
    const QJsonValue passwordValue = body->value(u"password");
    if (!usernameValue.isString() || !passwordValue.isString())
        return answer(errorResponse(400, "bad_request", QStringLiteral("Send {\"username\": ..., \"password\": ...}.")));
    const QString loginName = usernameValue.toString();
    const QString username = Username::loginKey(loginName, m_config.domain);
    m_authenticator->login(username, passwordValue.toString(), clientAddress, context,
                           [this, username, clientAddress, answer](LoginOutcome outcome, qint64 accountId) {
        if (outcome == LoginOutcome::Throttled) {
            HttpResponse response =
                errorResponse(429, "too_many_requests", QStringLiteral("Too many failed logins, try later."));
            response.headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(m_config.limits.loginWindowSeconds)});
            return answer(response);
        }
        if (outcome == LoginOutcome::Unavailable)
            return answer(unavailable());
        if (outcome != LoginOutcome::Accepted) {
            qCInfo(lcWeb).noquote() << clientAddress << "login failed for" << Logging::printable(username);
            return answer(unauthorized(QStringLiteral("Wrong username or password."), false));
        }
        runStoreWrite([accountId, username, clientAddress, answer](WebApi &api) {
            api.issueToken(accountId, username, clientAddress, answer);
        });
    });
}

void WebApi::runStoreWrite(std::function<void(WebApi &api)> work)
{
    if (m_workers)
        m_workers->run(std::move(work));
    else
        work(*this);
}

void WebApi::issueToken(qint64 accountId, const QString &username, const QString &clientAddress, const Done &answer)
{
    if (!storeReady())
        return answer(unavailable());
    const std::optional<Account> account = m_store.findAccount(accountId);
    if (!account) { // deleted since its password was checked
        qCInfo(lcWeb).noquote() << clientAddress << "login failed for" << Logging::printable(username);
        return answer(unauthorized(QStringLiteral("Wrong username or password."), false));
    }
    QByteArray token(TokenBytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(token.data()), TokenBytes / sizeof(quint32));
    const QDateTime created = QDateTime::currentDateTimeUtc();
    const QDateTime expires = created.addSecs(m_config.limits.tokenLifetimeSeconds);
    m_store.purgeExpiredTokens(created);
    // Changes are owed to clients for 30 days (docs/STORAGE.md, "Folders,
    // flags and changes"); older removals are forgotten at each login.
    m_store.forgetRemovals(created.addDays(-RemovalsKeptDays).toMSecsSinceEpoch());
    if (!m_store.addToken(tokenHash(token), account->id, created, expires))
        return answer(storeFailure());
    qCInfo(lcWeb).noquote() << clientAddress << "logged in as" << account->username;
    answer(HttpResponse::json(
        200, {{QStringLiteral("token"),
               QString::fromLatin1(token.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals))},
              {QStringLiteral("expiresAt"), isoUtc(expires)},
              {QStringLiteral("account"),
               QJsonObject{{QStringLiteral("id"), account->id},
                           {QStringLiteral("username"), account->username},
                           {QStringLiteral("address"), m_config.address(account->username)}}}}));
}

void WebApi::changePassword(const HttpRequest &request, const Caller &caller, const QString &clientAddress,
                            QPointer<QObject> context, Done done)
{
    const Answer answer(context.data(), done);
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body)
        return answer(HttpResponse::error(bodyError));
    const QJsonValue current = body->value(u"current");
    const QJsonValue next = body->value(u"new");
    if (!current.isString() || !next.isString())
        return answer(errorResponse(400, "bad_request", QStringLiteral("Send {\"current\": ..., \"new\": ...}.")));
    const Passwords::Strength strength = Passwords::checkStrength(next.toString());
    if (strength != Passwords::Strength::Acceptable)
        return answer(errorResponse(400, "bad_request", Passwords::strengthMessage(strength) + u'.'));
    // A password with a control character never matches, as at login (docs/PROTOCOL.md;
    // HMAC's zero padding would let "secret\0" match "secret"): an empty hash
    // matches nothing, and the caller holds a token of the account already,
    // so how fast it fails tells nothing.
    const bool currentUsable = !Passwords::containsControlCharacter(current.toString());
    const quint64 ticket =
        m_hasher->verifyAsync(current.toString(), currentUsable ? caller.account.passwordHash : QString());
    m_verifications.insert(ticket, [this, caller, clientAddress, newPassword = next.toString(), answer](bool matches) {
        if (!matches) {
            m_authenticator->recordFailure(clientAddress, caller.account.username);
            return answer(unauthorized(QStringLiteral("The current password is wrong."), false));
        }
        const quint64 hashTicket = m_hasher->hashAsync(newPassword);
        m_hashes.insert(hashTicket, [this, caller, answer](const QString &stored) {
            runStoreWrite([caller, stored, answer](WebApi &api) {
                if (!api.storeReady())
                    return answer(api.unavailable());
                if (!api.m_store.changePassword(caller.account.id, stored, caller.tokenHash))
                    return answer(api.storeFailure());
                qCInfo(lcWeb).noquote() << caller.account.username << "changed the password; other sessions ended";
                answer(HttpResponse::noContent());
            });
        });
    });
}

HttpResponse WebApi::account(const Caller &caller)
{
    const auto counts = m_store.counts(caller.account.id);
    if (!counts)
        return storeFailure();
    const auto folderJson = [](const FolderCounts &folder) {
        return QJsonObject{{QStringLiteral("total"), folder.total}, {QStringLiteral("unseen"), folder.unseen}};
    };
    return HttpResponse::json(200, {{QStringLiteral("id"), caller.account.id},
                                    {QStringLiteral("username"), caller.account.username},
                                    {QStringLiteral("address"), m_config.address(caller.account.username)},
                                    {QStringLiteral("displayName"), caller.account.displayName},
                                    {QStringLiteral("folders"),
                                     QJsonObject{{QStringLiteral("inbox"), folderJson(counts->inbox)},
                                                 {QStringLiteral("sent"), folderJson(counts->sent)}}}});
}

HttpResponse WebApi::patchAccount(const HttpRequest &request, const Caller &caller)
{
    HttpError bodyError;
    const auto body = jsonBody(request, &bodyError);
    if (!body)
        return HttpResponse::error(bodyError);
    const QJsonValue displayName = body->value(u"displayName");
    if (!displayName.isString())
        return errorResponse(400, "bad_request", QStringLiteral("Send {\"displayName\": \"...\"}."));
    const QString name = displayName.toString();
    if (name.toUcs4().size() > MaxDisplayNameCharacters || hasControlCharacter(name)) {
        return errorResponse(400, "bad_request",
                             QStringLiteral("A display name has at most %1 characters and no control characters.")
                                 .arg(MaxDisplayNameCharacters));
    }
    if (!m_store.setDisplayName(caller.account.id, name))
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    Caller changed = caller;
    changed.account.displayName = name;
    return account(changed);
}

HttpResponse WebApi::directory(const HttpRequest &request)
{
    const QString prefix = request.queryValue(QStringLiteral("q")).value_or(QString());
    if (prefix.toUcs4().size() > MaxDisplayNameCharacters || hasControlCharacter(prefix)) {
        return errorResponse(400, "bad_request",
                             QStringLiteral("q is at most %1 characters, without control characters.")
                                 .arg(MaxDisplayNameCharacters));
    }
    const auto entries = m_store.directory(prefix, DirectoryLimit);
    if (!entries)
        return storeFailure();
    // A JSON array, the one answer that is not an object (docs/protocol/web.md §1).
    JsonWriter json;
    json.beginArray();
    for (const DirectoryEntry &entry : *entries) {
        json.beginObject().key(QLatin1StringView("username")).value(entry.username);
        json.key(QLatin1StringView("address")).value(m_config.address(entry.username));
        json.key(QLatin1StringView("displayName")).value(entry.displayName).endObject();
    }
    json.endArray();
    return HttpResponse::json(200, json.take());
}

namespace WebApiInternal {

std::optional<HttpResponse> readPageParameters(const HttpRequest &request, int *limit, std::optional<qint64> *before)
{
    *limit = 50;
    if (const auto text = request.queryValue(QStringLiteral("limit"))) {
        bool ok = false;
        *limit = text->toInt(&ok);
        if (!ok || *limit < 1 || *limit > 500
            || !std::all_of(text->cbegin(), text->cend(), [](QChar c) { return c.isDigit(); }))
            return errorResponse(400, "bad_request", QStringLiteral("limit must be a number from 1 to 500."));
    }
    if (const auto text = request.queryValue(QStringLiteral("before"))) {
        *before = pathId(*text);
        if (!*before)
            return errorResponse(400, "bad_request", QStringLiteral("before must be a message id."));
    }
    return std::nullopt;
}

HttpResponse pageResponse(const FolderPage &page)
{
    JsonWriter json;
    json.reserve(512 * (page.entries.size() + 1));
    json.beginObject().key(QLatin1StringView("messages")).beginArray();
    for (const MailboxEntry &entry : page.entries) {
        json.beginObject();
        writeSummaryMembers(json, entry);
        json.endObject();
    }
    json.endArray().key(QLatin1StringView("nextBefore"));
    if (page.nextBefore)
        json.value(*page.nextBefore);
    else
        json.null();
    json.endObject();
    return HttpResponse::json(200, json.take());
}

} // namespace WebApiInternal

HttpResponse WebApi::listFolder(const HttpRequest &request, const Caller &caller, std::variant<FolderRole, qint64> folder)
{
    int limit = 0;
    std::optional<qint64> before;
    if (auto refusal = readPageParameters(request, &limit, &before))
        return std::move(*refusal);
    if (const qint64 *id = std::get_if<qint64>(&folder); id && !m_store.folder(caller.account.id, *id))
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    const auto page = std::holds_alternative<FolderRole>(folder)
        ? m_store.listFolder(caller.account.id, std::get<FolderRole>(folder), limit, before)
        : m_store.listFolder(caller.account.id, std::get<qint64>(folder), limit, before);
    if (!page)
        return storeFailure();
    return pageResponse(*page);
}

HttpResponse WebApi::message(const Caller &caller, qint64 entryId)
{
    const auto entry = m_store.entry(caller.account.id, entryId);
    const auto raw = entry ? m_store.rawMessage(caller.account.id, entryId) : std::nullopt;
    if (!entry || !raw)
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    const MimeMessage parsed = MimeMessage::parse(*raw);
    JsonWriter json;
    json.beginObject();
    writeSummaryMembers(json, *entry);
    json.key(QLatin1StringView("text")).value(parsed.readableText());
    json.key(QLatin1StringView("headers")).beginArray();
    for (const auto &[name, value] : parsed.decodedHeaders())
        json.beginArray().value(name).value(value).endArray();
    json.endArray();
    json.key(QLatin1StringView("attachments")).value(QJsonValue(MessageJson::attachments(entry->summary.attachments)));
    json.endObject();
    return HttpResponse::json(200, json.take());
}

HttpResponse WebApi::rawMessage(const Caller &caller, qint64 entryId)
{
    const auto raw = m_store.rawMessage(caller.account.id, entryId);
    if (!raw)
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    HttpResponse response;
    response.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("message/rfc822")});
    response.body = *raw;
    return response;
}

HttpResponse WebApi::attachment(const Caller &caller, qint64 entryId, int index)
{
    const auto raw = m_store.rawMessage(caller.account.id, entryId);
    if (!raw)
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    const MimeMessage parsed = MimeMessage::parse(*raw);
    const auto data = parsed.attachmentData(index);
    if (!data)
        return notFound();
    const AttachmentInfo info = parsed.attachments().at(index);
    HttpResponse response;
    const QString type = isSafeMediaType(info.contentType) ? info.contentType : QStringLiteral("application/octet-stream");
    response.headers.append({QByteArrayLiteral("Content-Type"), type.toLatin1()});
    response.headers.append({QByteArrayLiteral("Content-Disposition"), contentDisposition(info.filename)});
    response.headers.append({QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff")});
    response.body = *data;
    return response;
}

HttpResponse WebApi::deleteMessage(const Caller &caller, qint64 entryId)
{
    if (!m_store.deleteEntry(caller.account.id, entryId))
        return m_store.lastError() == Store::Error::NotFound ? notFound() : storeFailure();
    return HttpResponse::noContent();
}
