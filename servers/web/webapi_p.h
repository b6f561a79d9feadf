#pragma once

// What webapi.cpp and webmailbox.cpp share: error answers and the JSON of
// summaries (docs/protocol/web.md). Internal to servers/web.

#include "httpmessage.h"
#include "jsonwriter.h"
#include "store.h"

#include <optional>

namespace WebApiInternal {

HttpResponse errorResponse(int status, const char *code, const QString &message);
HttpResponse notFound();
// A positive id in a path segment or a query; anything else names nothing (404).
std::optional<qint64> pathId(const QString &segment);
// A listing entry's summary fields, as members of the object being written.
void writeSummaryMembers(JsonWriter &json, const MailboxEntry &entry);
// limit (1 to 500, default 50) and before (an entry id) of a listing or
// a search; the refusal when one is bad.
std::optional<HttpResponse> readPageParameters(const HttpRequest &request, int *limit, std::optional<qint64> *before);
// {"messages": [summaries], "nextBefore": id or null}.
HttpResponse pageResponse(const FolderPage &page);
// flags and keywords, as members of the object being written.
void writeFlagMembers(JsonWriter &json, const MailboxEntry &entry);

} // namespace WebApiInternal
