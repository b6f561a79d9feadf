// MailboxSync and FolderSync against a scripted server: each request is
// computed by the server when it is made (as webd reads its store then) and
// answered when the test says, so the order in which a listing, a change and
// a count arrive is the test's to choose. Every edit a FolderSync announces
// is applied to a mirror, which must equal the rows it holds after each step
// (what InboxModel does; tst_clientflow runs InboxModel against real webd).

#include "changejournal.h"
#include "foldersync.h"
#include "mailboxbackend.h"
#include "mailboxsync.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>

#include <map>
#include <memory>

using namespace Qt::StringLiterals;

using Ids = QList<qint64>;

namespace {

MessageListEntry entry(qint64 id, bool seen = false)
{
    MessageListEntry made;
    made.id = id;
    made.from = {u"Alice"_s, u"alice@project.com"_s};
    made.subject = u"Message %1"_s.arg(id);
    made.seen = seen;
    made.size = 100 + id;
    return made;
}

Ids idsOf(const QList<MessageListEntry> &entries)
{
    Ids ids;
    for (const MessageListEntry &one : entries)
        ids.append(one.id);
    return ids;
}

// 1..n, newest first.
Ids range(qint64 first, qint64 last)
{
    Ids ids;
    for (qint64 id = last; id >= first; --id)
        ids.append(id);
    return ids;
}

ClientError serverError()
{
    return ClientError::fromHttp(500, u"internal"_s, u"the store failed"_s, 0, false, {u"127.0.0.1"_s, 9999});
}

ClientError notFound()
{
    return ClientError::fromHttp(404, u"not_found"_s, u"no such message"_s, 0, false, {u"127.0.0.1"_s, 9999});
}

} // namespace

// Folders of entries, newest first. A request reads or changes them when it
// is made; its answer waits in `pending` until answer() delivers it.
class ScriptedServer final : public MailboxBackend
{
public:
    enum class Kind { List, Counts, Seen, Remove };
    struct Request
    {
        Kind kind = Kind::List;
        std::optional<qint64> before;
        std::function<void()> deliver;
    };

    std::map<QString, QList<MessageListEntry>> folders;
    bool online = true;
    std::optional<ClientError> failNext; // the next request made fails with this
    QList<ClientError> reported;
    QList<Request> pending;
    int listRequests = 0;

    void add(const QString &folder, const Ids &ids)
    {
        QList<MessageListEntry> &entries = folders[folder];
        for (const qint64 id : ids)
            entries.append(entry(id));
        std::sort(entries.begin(), entries.end(), [](const auto &a, const auto &b) { return a.id > b.id; });
    }
    MessageListEntry *find(qint64 id)
    {
        for (auto &[name, entries] : folders) {
            for (MessageListEntry &one : entries) {
                if (one.id == id)
                    return &one;
            }
        }
        return nullptr;
    }
    bool erase(qint64 id)
    {
        for (auto &[name, entries] : folders) {
            if (entries.removeIf([id](const MessageListEntry &one) { return one.id == id; }) > 0)
                return true;
        }
        return false;
    }

    // Delivers the oldest pending answer of `kind`; false when there is none.
    bool answer(Kind kind)
    {
        for (qsizetype i = 0; i < pending.size(); ++i) {
            if (pending.at(i).kind == kind) {
                const Request request = pending.takeAt(i);
                request.deliver();
                return true;
            }
        }
        return false;
    }
    // Everything, including what the answers ask for next.
    void answerAll()
    {
        while (!pending.isEmpty())
            pending.takeFirst().deliver();
    }
    [[nodiscard]] int pendingOf(Kind kind) const
    {
        return int(std::count_if(pending.begin(), pending.end(), [kind](const Request &r) { return r.kind == kind; }));
    }

    bool isOnline() const override { return online; }

    void list(const QString &folder, int limit, std::optional<qint64> before, QObject *context,
              Done<MessageListing> done, Failed failed) override
    {
        ++listRequests;
        MessageListing listing;
        const QList<MessageListEntry> &entries = folders[folder];
        for (qsizetype i = 0; i < entries.size(); ++i) {
            if (before && entries.at(i).id >= *before)
                continue;
            if (listing.entries.size() == limit) {
                listing.nextBefore = listing.entries.last().id;
                break;
            }
            listing.entries.append(entries.at(i));
        }
        queue(Kind::List, before, context, [done, listing] { done(listing); }, failed);
    }

    void counts(QObject *context, Done<QHash<QString, FolderTotals>> done, Failed failed) override
    {
        QHash<QString, FolderTotals> counts;
        for (const auto &[name, entries] : folders) {
            const auto unseen = std::count_if(entries.begin(), entries.end(), [](const auto &one) { return !one.seen; });
            counts.insert(name, {int(unseen), int(entries.size())});
        }
        queue(Kind::Counts, {}, context, [done, counts] { done(counts); }, failed);
    }

    void setSeen(qint64 id, bool seen, QObject *context, std::function<void()> done, Failed failed) override
    {
        MessageListEntry *found = failNext ? nullptr : find(id);
        if (found)
            found->seen = seen;
        else if (!failNext)
            failNext = notFound();
        queue(Kind::Seen, {}, context, done, failed);
    }

    void remove(qint64 id, QObject *context, std::function<void()> done, Failed failed) override
    {
        if (!failNext && !erase(id))
            failNext = notFound();
        queue(Kind::Remove, {}, context, done, failed);
    }

    void reportError(const ClientError &error) override { reported.append(error); }

private:
    void queue(Kind kind, std::optional<qint64> before, QObject *context, std::function<void()> done, Failed failed)
    {
        const QPointer<QObject> guard(context);
        std::function<void()> deliver;
        if (const std::optional<ClientError> error = std::exchange(failNext, std::nullopt))
            deliver = [guard, failed, error = *error] { if (guard) failed(error); };
        else
            deliver = [guard, done] { if (guard) done(); };
        pending.append({kind, before, deliver});
    }
};

// What a view of a FolderSync sees: its edits, applied to a copy of the rows.
class Mirror
{
public:
    explicit Mirror(FolderSync *sync)
        : m_sync(sync)
    {
        QObject::connect(sync, &FolderSync::inserted, sync, [this](int first, const QList<MessageListEntry> &entries) {
            log.append(u"insert %1+%2"_s.arg(first).arg(entries.size()));
            rows = rows.first(first) + entries + rows.sliced(first);
        });
        QObject::connect(sync, &FolderSync::removed, sync, [this](int row) {
            log.append(u"remove %1"_s.arg(row));
            rows.removeAt(row);
        });
        QObject::connect(sync, &FolderSync::updated, sync, [this](int row, const MessageListEntry &one, bool onlySeen) {
            log.append(onlySeen ? u"update %1 seen"_s.arg(row) : u"update %1"_s.arg(row));
            rows[row] = one;
        });
        QObject::connect(sync, &FolderSync::replaced, sync, [this](const QList<MessageListEntry> &entries) {
            log.append(u"reset %1"_s.arg(entries.size()));
            rows = entries;
        });
    }
    [[nodiscard]] bool matches() const { return rows == m_sync->entries(); }

    QList<MessageListEntry> rows;
    QStringList log;

private:
    FolderSync *m_sync;
};

class TestMailboxSync : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<ClientError>(); }
    void init();
    void cleanup();

    void firstPagesThenOlder();
    void refreshMerges_data();
    void refreshMerges();
    void changeRacesAListing_data();
    void changeRacesAListing();
    void changeOfAnotherViewOrTheServer_data();
    void changeOfAnotherViewOrTheServer();
    void failures_data();
    void failures();
    void countsOlderThanAChangeAreIgnored();
    void offlineAsksNothing();
    void closedViewHearsNothing();
    void journal_data();
    void journal();

private:
    // A view of `folder` with its first listing (and counts) in.
    std::unique_ptr<FolderSync> open(const QString &folder, int limit);

    ScriptedServer *m_server = nullptr;
    std::unique_ptr<MailboxSync> m_mailbox;
};

void TestMailboxSync::init()
{
    auto server = std::make_unique<ScriptedServer>();
    m_server = server.get();
    m_mailbox = std::make_unique<MailboxSync>(std::move(server));
}

void TestMailboxSync::cleanup()
{
    m_mailbox.reset();
    m_server = nullptr;
}

std::unique_ptr<FolderSync> TestMailboxSync::open(const QString &folder, int limit)
{
    std::unique_ptr<FolderSync> sync = m_mailbox->openFolder(folder, limit);
    sync->refresh();
    m_server->answerAll();
    return sync;
}

void TestMailboxSync::firstPagesThenOlder()
{
    m_server->add(u"inbox"_s, range(1, 5));
    std::unique_ptr<FolderSync> sync = m_mailbox->openFolder(u"inbox"_s, 3);
    Mirror mirror(sync.get());
    QSignalSpy loading(sync.get(), &FolderSync::loadingChanged);
    QSignalSpy more(sync.get(), &FolderSync::hasMoreChanged);
    sync->refresh();
    QVERIFY(sync->isLoading());
    QCOMPARE(m_server->pendingOf(ScriptedServer::Kind::List), 1);
    QCOMPARE(m_server->pendingOf(ScriptedServer::Kind::Counts), 1);
    m_server->answerAll();
    QVERIFY(!sync->isLoading());
    QCOMPARE(loading.size(), 2);
    QCOMPARE(idsOf(sync->entries()), range(3, 5));
    QCOMPARE(mirror.log, QStringList{u"insert 0+3"_s});
    QVERIFY(sync->hasMore());
    QCOMPARE(sync->nextBefore(), 3);
    QCOMPARE(more.size(), 1);
    QCOMPARE(sync->counts(), (FolderTotals{5, 5}));

    sync->fetchMore();
    sync->fetchMore(); // one at a time
    QCOMPARE(m_server->pendingOf(ScriptedServer::Kind::List), 1);
    m_server->answerAll();
    QCOMPARE(idsOf(sync->entries()), range(1, 5));
    QVERIFY(!sync->hasMore());
    QCOMPARE(more.size(), 2);
    QCOMPARE(mirror.log, (QStringList{u"insert 0+3"_s, u"insert 3+2"_s}));
    QVERIFY(mirror.matches());
    sync->fetchMore(); // nothing older
    QCOMPARE(m_server->pending.size(), 0);
}

void TestMailboxSync::refreshMerges_data()
{
    QTest::addColumn<Ids>("initial");
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("pagesMore"); // fetchMore() calls after the first listing
    QTest::addColumn<Ids>("added");     // on the server before the refresh
    QTest::addColumn<Ids>("deleted");
    QTest::addColumn<Ids>("seen");
    QTest::addColumn<Ids>("renamed");
    QTest::addColumn<Ids>("expected");
    QTest::addColumn<QStringList>("edits");
    QTest::addColumn<bool>("hasMore");
    QTest::addColumn<int>("listRequests"); // by the refresh

    QTest::newRow("nothing changed") << range(1, 3) << 10 << 0 << Ids{} << Ids{} << Ids{} << Ids{} << range(1, 3)
                                     << QStringList{} << false << 1;
    QTest::newRow("new on top") << range(1, 3) << 10 << 0 << Ids{4, 5} << Ids{} << Ids{} << Ids{} << range(1, 5)
                                << QStringList{u"insert 0+2"_s} << false << 1;
    QTest::newRow("deleted elsewhere") << range(1, 3) << 10 << 0 << Ids{} << Ids{2} << Ids{} << Ids{} << Ids{3, 1}
                                       << QStringList{u"remove 1"_s} << false << 1;
    QTest::newRow("all deleted elsewhere") << range(1, 3) << 10 << 0 << Ids{} << Ids{1, 2, 3} << Ids{} << Ids{}
                                           << Ids{} << QStringList{u"remove 2"_s, u"remove 1"_s, u"remove 0"_s}
                                           << false << 1;
    QTest::newRow("seen elsewhere") << range(1, 3) << 10 << 0 << Ids{} << Ids{} << Ids{3} << Ids{} << range(1, 3)
                                    << QStringList{u"update 0 seen"_s} << false << 1;
    QTest::newRow("other fields changed") << range(1, 3) << 10 << 0 << Ids{} << Ids{} << Ids{} << Ids{2} << range(1, 3)
                                          << QStringList{u"update 1"_s} << false << 1;
    QTest::newRow("new, deleted and seen at once")
        << range(1, 3) << 10 << 0 << Ids{4} << Ids{1} << Ids{2} << Ids{} << Ids{4, 3, 2}
        << QStringList{u"remove 2"_s, u"update 1 seen"_s, u"insert 0+1"_s} << false << 1;
    // What lies below the newest page is as fetched before.
    QTest::newRow("below the page untouched") << range(1, 6) << 2 << 1 << Ids{} << Ids{3} << Ids{} << Ids{}
                                              << range(3, 6) << QStringList{} << true << 1;
    QTest::newRow("deleted down to a complete page") << range(1, 4) << 2 << 1 << Ids{} << Ids{1, 2} << Ids{}
                                                     << Ids{} << range(3, 4) << QStringList{u"remove 3"_s, u"remove 2"_s}
                                                     << false << 1;
    // A burst larger than a page: the refresh pages back to the rows held.
    QTest::newRow("burst caught up") << range(1, 3) << 2 << 0 << range(4, 8) << Ids{} << Ids{} << Ids{}
                                     << range(2, 8) << QStringList{u"insert 0+5"_s} << true << 3;
    // Past MaxCatchUp new messages it starts over from the newest page.
    QTest::newRow("burst past the catch-up") << range(1, 2) << 500 << 0 << range(3, FolderSync::MaxCatchUp + 102)
                                             << Ids{} << Ids{} << Ids{} << range(103, FolderSync::MaxCatchUp + 102)
                                             << QStringList{u"reset %1"_s.arg(FolderSync::MaxCatchUp)} << true
                                             << FolderSync::MaxCatchUp / 500;
}

void TestMailboxSync::refreshMerges()
{
    QFETCH(Ids, initial);
    QFETCH(int, limit);
    QFETCH(int, pagesMore);
    QFETCH(Ids, added);
    QFETCH(Ids, deleted);
    QFETCH(Ids, seen);
    QFETCH(Ids, renamed);
    QFETCH(Ids, expected);
    QFETCH(QStringList, edits);
    QFETCH(bool, hasMore);
    QFETCH(int, listRequests);

    m_server->add(u"inbox"_s, initial);
    std::unique_ptr<FolderSync> sync = open(u"inbox"_s, limit);
    for (int i = 0; i < pagesMore; ++i) {
        sync->fetchMore();
        m_server->answerAll();
    }
    Mirror mirror(sync.get());
    mirror.rows = sync->entries();

    m_server->add(u"inbox"_s, added);
    for (const qint64 id : deleted)
        QVERIFY(m_server->erase(id));
    for (const qint64 id : seen)
        m_server->find(id)->seen = true;
    for (const qint64 id : renamed)
        m_server->find(id)->subject = u"Renamed"_s;
    const int before = m_server->listRequests;
    sync->refresh();
    m_server->answerAll();

    QCOMPARE(m_server->listRequests - before, listRequests);
    QCOMPARE(idsOf(sync->entries()), expected);
    QCOMPARE(mirror.log, edits);
    QVERIFY(mirror.matches());
    QCOMPARE(sync->hasMore(), hasMore);
    QVERIFY(!sync->isLoading());
    QCOMPARE(sync->errorString(), QString());
    QCOMPARE(m_mailbox->journal().size(), 0);
}

void TestMailboxSync::changeRacesAListing_data()
{
    QTest::addColumn<bool>("paging"); // the listing on its way: fetchMore(), else refresh()
    QTest::addColumn<qint64>("target");
    QTest::addColumn<bool>("remove"); // else seen
    QTest::addColumn<bool>("seen");
    QTest::addColumn<Ids>("expected");
    QTest::addColumn<bool>("expectedSeen"); // of target, when listed

    // Listed: the change shows at once, and the stale listing does not undo it.
    QTest::newRow("refresh, seen") << false << qint64(4) << false << true << range(1, 4) << true;
    QTest::newRow("refresh, unseen") << false << qint64(3) << false << false << range(1, 4) << false;
    QTest::newRow("refresh, deleted") << false << qint64(4) << true << false << range(1, 3) << false;
    // Not listed yet (paged in by the listing on its way): the listing is corrected.
    QTest::newRow("fetchMore, seen") << true << qint64(2) << false << true << range(1, 4) << true;
    QTest::newRow("fetchMore, unseen") << true << qint64(1) << false << false << range(1, 4) << false;
    QTest::newRow("fetchMore, deleted") << true << qint64(2) << true << false << Ids{4, 3, 1} << false;
}

void TestMailboxSync::changeRacesAListing()
{
    QFETCH(bool, paging);
    QFETCH(qint64, target);
    QFETCH(bool, remove);
    QFETCH(bool, seen);
    QFETCH(Ids, expected);
    QFETCH(bool, expectedSeen);

    m_server->add(u"inbox"_s, range(1, 4));
    m_server->find(3)->seen = true;
    m_server->find(1)->seen = true;
    std::unique_ptr<FolderSync> sync = open(u"inbox"_s, paging ? 2 : 10);
    Mirror mirror(sync.get());
    mirror.rows = sync->entries();
    QSignalSpy removed(sync.get(), &FolderSync::messageRemoved);

    // The server computes the listing now, before the change...
    if (paging)
        sync->fetchMore();
    else
        sync->refresh();
    QCOMPARE(m_server->pendingOf(ScriptedServer::Kind::List), 1);
    if (remove)
        sync->removeMessage(target);
    else
        sync->setMessageSeen(target, seen);
    // ...and the change is answered first.
    QVERIFY(m_server->answer(remove ? ScriptedServer::Kind::Remove : ScriptedServer::Kind::Seen));
    QVERIFY(mirror.matches());
    if (!paging) {
        if (remove)
            QCOMPARE(sync->rowOf(target), -1);
        else
            QCOMPARE(sync->entries().at(sync->rowOf(target)).seen, expectedSeen);
    }
    QCOMPARE(m_mailbox->journal().size(), 1); // the listing on its way needs it
    m_server->answerAll();

    QCOMPARE(idsOf(sync->entries()), expected);
    if (!remove)
        QCOMPARE(sync->entries().at(sync->rowOf(target)).seen, expectedSeen);
    QVERIFY(mirror.matches());
    QCOMPARE(removed.size(), remove ? 1 : 0);
    QCOMPARE(m_mailbox->journal().size(), 0);
    QCOMPARE(sync->counts(), (FolderTotals{remove || seen ? 1 : 3, remove ? 3 : 4}));
    // What the server holds, the next refresh agrees with.
    mirror.log.clear();
    sync->refresh();
    m_server->answerAll();
    QCOMPARE(mirror.log, QStringList{});
}

void TestMailboxSync::changeOfAnotherViewOrTheServer_data()
{
    QTest::addColumn<bool>("fromServer"); // MailboxSync::applyChange, else the other view's request
    QTest::newRow("another view") << false;
    QTest::newRow("the server") << true;
}

// Views of one account share its changes: the inbox seen at 2 and at 10 a
// page, the sent folder beside them.
void TestMailboxSync::changeOfAnotherViewOrTheServer()
{
    QFETCH(bool, fromServer);
    m_server->add(u"inbox"_s, range(1, 4));
    m_server->add(u"sent"_s, range(10, 11));
    std::unique_ptr<FolderSync> small = open(u"inbox"_s, 2);
    std::unique_ptr<FolderSync> large = open(u"inbox"_s, 10);
    std::unique_ptr<FolderSync> sent = open(u"sent"_s, 10);
    Mirror smallMirror(small.get());
    smallMirror.rows = small->entries();
    Mirror sentMirror(sent.get());
    sentMirror.rows = sent->entries();
    QSignalSpy largeRemoved(large.get(), &FolderSync::messageRemoved);

    // The small view's refresh is computed before the changes.
    small->refresh();
    if (fromServer) {
        m_server->find(4)->seen = true;
        m_mailbox->applyChange(MessageChange::seenChange(4, true));
        QVERIFY(m_server->erase(3));
        m_mailbox->applyChange(MessageChange::removal(3));
    } else {
        large->setMessageSeen(4, true);
        large->removeMessage(3);
        QVERIFY(m_server->answer(ScriptedServer::Kind::Seen));
        QVERIFY(m_server->answer(ScriptedServer::Kind::Remove));
    }
    // Both inbox views show them at once.
    QCOMPARE(idsOf(large->entries()), (Ids{4, 2, 1}));
    QVERIFY(large->entries().first().seen);
    QCOMPARE(idsOf(small->entries()), (Ids{4}));
    QVERIFY(small->entries().first().seen);
    QCOMPARE(smallMirror.log, (QStringList{u"update 0 seen"_s, u"remove 1"_s}));
    QCOMPARE(largeRemoved.size(), fromServer ? 0 : 1);
    // The stale listing does not bring them back.
    m_server->answerAll();
    QCOMPARE(idsOf(small->entries()), (Ids{4}));
    QVERIFY(small->hasMore());
    QVERIFY(small->entries().first().seen);
    QVERIFY(smallMirror.matches());
    QCOMPARE(sentMirror.log, QStringList{});
    QCOMPARE(small->counts(), (FolderTotals{2, 3}));
    QCOMPARE(large->counts(), (FolderTotals{2, 3}));
    QCOMPARE(sent->counts(), (FolderTotals{2, 2}));
    QCOMPARE(m_mailbox->journal().size(), 0);
}

void TestMailboxSync::failures_data()
{
    QTest::addColumn<QString>("action");
    QTest::addColumn<ClientError>("error");
    QTest::addColumn<bool>("reported"); // failed(), errorString, the session's error line
    QTest::addColumn<Ids>("expected");
    QTest::addColumn<int>("messagesRemoved");

    // Rows 6..3 listed; what failed changes none of them.
    QTest::newRow("refresh") << u"refresh"_s << serverError() << true << range(3, 6) << 0;
    QTest::newRow("fetchMore") << u"fetchMore"_s << serverError() << true << range(3, 6) << 0;
    QTest::newRow("seen") << u"seen"_s << serverError() << true << range(3, 6) << 0;
    QTest::newRow("remove") << u"remove"_s << serverError() << true << range(3, 6) << 0;
    // Gone already (deleted elsewhere): what the user wanted.
    QTest::newRow("remove, not found") << u"remove"_s << notFound() << false << Ids{6, 5, 4} << 1;
}

void TestMailboxSync::failures()
{
    QFETCH(QString, action);
    QFETCH(ClientError, error);
    QFETCH(bool, reported);
    QFETCH(Ids, expected);
    QFETCH(int, messagesRemoved);

    m_server->add(u"inbox"_s, range(1, 6));
    std::unique_ptr<FolderSync> sync = open(u"inbox"_s, 4);
    QSignalSpy failed(sync.get(), &FolderSync::failed);
    QSignalSpy removed(sync.get(), &FolderSync::messageRemoved);
    Mirror mirror(sync.get());
    mirror.rows = sync->entries();
    if (error.kind == ClientError::Kind::NotFound)
        QVERIFY(m_server->erase(3)); // deleted elsewhere; the server answers 404 itself
    else
        m_server->failNext = error;
    if (action == u"refresh")
        sync->refresh();
    else if (action == u"fetchMore")
        sync->fetchMore();
    else if (action == u"seen")
        sync->setMessageSeen(3, true);
    else
        sync->removeMessage(3);
    m_server->answerAll();

    QVERIFY(!sync->isLoading());
    QCOMPARE(failed.size(), reported ? 1 : 0);
    if (reported)
        QCOMPARE(failed.first().first().value<ClientError>(), error);
    QCOMPARE(sync->errorString(), reported ? error.message : QString());
    QCOMPARE(m_server->reported.size(), reported ? 1 : 0);
    QCOMPARE(removed.size(), messagesRemoved);
    QCOMPARE(idsOf(sync->entries()), expected);
    QVERIFY(mirror.matches());
    QCOMPARE(m_mailbox->journal().size(), 0);
    // A listing that succeeds clears the error.
    sync->refresh();
    m_server->answerAll();
    QCOMPARE(sync->errorString(), QString());
}

void TestMailboxSync::countsOlderThanAChangeAreIgnored()
{
    m_server->add(u"inbox"_s, range(1, 3));
    std::unique_ptr<FolderSync> sync = open(u"inbox"_s, 10);
    QCOMPARE(sync->counts(), (FolderTotals{3, 3}));
    sync->refresh(); // its counts read now: 3 unseen
    sync->setMessageSeen(2, true);
    m_server->find(1)->seen = true; // elsewhere: the count after the change reads it
    QVERIFY(m_server->answer(ScriptedServer::Kind::Seen));
    QCOMPARE(sync->counts(), (FolderTotals{2, 3})); // at once
    QVERIFY(m_server->answer(ScriptedServer::Kind::Counts));
    QCOMPARE(sync->counts(), (FolderTotals{2, 3})); // the older count is not taken
    m_server->answerAll();
    QCOMPARE(sync->counts(), (FolderTotals{1, 3}));
}

void TestMailboxSync::offlineAsksNothing()
{
    m_server->online = false;
    m_server->add(u"inbox"_s, range(1, 3));
    std::unique_ptr<FolderSync> sync = m_mailbox->openFolder(u"inbox"_s, 10);
    sync->refresh();
    sync->fetchMore();
    sync->setMessageSeen(1, true);
    sync->removeMessage(1);
    QCOMPARE(m_server->pending.size(), 0);
    QVERIFY(!sync->isLoading());
}

// A model reloading (another folder, limit or account) drops its FolderSync
// with requests on their way: their answers go nowhere, and the journal keeps
// nothing for them.
void TestMailboxSync::closedViewHearsNothing()
{
    m_server->add(u"inbox"_s, range(1, 3));
    std::unique_ptr<FolderSync> other = open(u"inbox"_s, 10);
    std::unique_ptr<FolderSync> sync = open(u"inbox"_s, 10);
    QSignalSpy otherEdits(other.get(), &FolderSync::updated);
    sync->refresh();
    sync->setMessageSeen(3, true);
    QCOMPARE(m_server->pendingOf(ScriptedServer::Kind::List), 1);
    sync.reset();
    m_server->answerAll();
    QCOMPARE(otherEdits.size(), 0); // the change's answer went with its view
    m_mailbox->applyChange(MessageChange::seenChange(2, true));
    QCOMPARE(otherEdits.size(), 1);
    QCOMPARE(m_mailbox->journal().size(), 0);

    // A view outliving its mailbox asks nothing more.
    m_server->answerAll();
    m_mailbox.reset();
    m_server = nullptr;
    other->refresh();
    other->setMessageSeen(1, true);
    QVERIFY(!other->isLoading());
}

void TestMailboxSync::journal_data()
{
    QTest::addColumn<bool>("openBefore"); // a listing was asked for before the changes
    QTest::addColumn<Ids>("expected");
    QTest::addColumn<bool>("seenOfTwo");
    QTest::addColumn<int>("kept");

    QTest::newRow("listing asked before") << true << Ids{3, 2} << true << 2;
    QTest::newRow("no listing on its way") << false << Ids{3, 2, 1} << false << 0;
}

void TestMailboxSync::journal()
{
    QFETCH(bool, openBefore);
    QFETCH(Ids, expected);
    QFETCH(bool, seenOfTwo);
    QFETCH(int, kept);

    ChangeJournal journal;
    journal.record(MessageChange::removal(9)); // before anything was asked: nobody needs it
    QCOMPARE(journal.size(), 0);
    const quint64 snapshot = openBefore ? journal.openSnapshot() : 0;
    journal.record(MessageChange::seenChange(2, true));
    journal.record(MessageChange::removal(1));
    QCOMPARE(journal.size(), kept);
    const QList<MessageListEntry> page{entry(3), entry(2), entry(1)};
    const QList<MessageListEntry> replayed = journal.replay(page, openBefore ? snapshot : journal.sequence());
    QCOMPARE(idsOf(replayed), expected);
    QCOMPARE(replayed.at(1).seen, seenOfTwo);
    // A listing asked for after the changes shows them itself.
    const quint64 later = journal.openSnapshot();
    QCOMPARE(journal.replay(page, later), page);
    if (openBefore)
        journal.closeSnapshot(snapshot);
    QCOMPARE(journal.size(), 0);
    journal.closeSnapshot(later);
    journal.closeSnapshot(later); // once too often: nothing happens
    QCOMPARE(journal.size(), 0);
}

QTEST_GUILESS_MAIN(TestMailboxSync)
#include "tst_mailboxsync.moc"
