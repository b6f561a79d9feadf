// Store::search and the index under it (docs/protocol/search.md §2, §3):
// real messages parsed as smtpd parses them, delivered, moved and flagged,
// then searched with every kind of term, on SQLite and (the postgres run)
// PostgreSQL.

#include "mimemessage.h"
#include "searchquery.h"
#include "searchwords.h"
#include "store.h"
#include "testdatabase.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

// A message as smtpd hands it over: parsed, its readable text included.
NewMessage parsedMessage(const QByteArray &raw, qint64 senderId, const QList<qint64> &recipients)
{
    const MimeMessage parsed = MimeMessage::parse(raw);
    NewMessage message;
    message.raw = raw;
    message.summary = parsed.summary();
    message.text = parsed.readableText();
    message.receivedAt = QDateTime::currentDateTimeUtc();
    message.senderId = senderId;
    message.recipientIds = recipients;
    return message;
}

QByteArray plainMessage(const QByteArray &headers, const QByteArray &body)
{
    return headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n";
}

} // namespace

class TestStoreSearch : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void wordFolding_data();
    void wordFolding();
    void search_data();
    void search();
    void faults_data();
    void faults();
    void paging();
    void commonWordsReadNewestFirst();
    void aRemovedMessageLeavesTheIndex();
    void indexedTextIsBounded();
    void phrasesFarIntoAField();

private:
    // Bob's mail: the entry of each message by its tag.
    QHash<QString, qint64> m_entries;
    qint64 m_bob = 0;
    qint64 m_alice = 0;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<TestDatabase> m_database;
    std::unique_ptr<Store> m_store;

    QStringList tagsOf(const FolderPage &page) const
    {
        QStringList tags;
        for (const MailboxEntry &entry : page.entries)
            tags.append(m_entries.key(entry.id, u"entry %1"_s.arg(entry.id)));
        return tags;
    }
    std::optional<FolderPage> run(const QString &text, int limit = 50, std::optional<qint64> before = std::nullopt,
                                  SearchFault *fault = nullptr)
    {
        const SearchParse parsed = SearchQuery::parse(text);
        if (!parsed.query) {
            qWarning() << "does not parse:" << text << parsed.error.message;
            return std::nullopt;
        }
        return m_store->search(m_bob, *parsed.query, limit, before, fault);
    }
};

void TestStoreSearch::initTestCase()
{
    // One mailbox for every row: built once (a database per row would cost
    // the postgres run a database each).
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_database = std::make_unique<TestDatabase>(m_dir->path());
    QVERIFY(m_database->isValid());
    m_store = std::make_unique<Store>();
    QVERIFY2(m_store->open(m_database->url(), Store::OpenMode::CreateIfMissing), qPrintable(m_store->lastErrorText()));
    m_alice = m_store->createAccount(u"alice"_s, u"pbkdf2-sha256$1$x$y"_s)->id;
    m_bob = m_store->createAccount(u"bob"_s, u"pbkdf2-sha256$1$x$y"_s)->id;
    const qint64 carol = m_store->createAccount(u"carol"_s, u"pbkdf2-sha256$1$x$y"_s)->id;

    const auto deliver = [this](const QString &tag, const NewMessage &message, bool toSent = false) {
        const auto delivery = m_store->deliver(message);
        QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
        m_entries.insert(tag, toSent ? delivery->sentEntryId : delivery->inboxEntryIds.value(
                                                                    message.recipientIds.indexOf(m_bob)));
    };
    // Oldest first: ids, and so "newest first", follow this order.
    deliver(u"report"_s,
            parsedMessage("From: Alice Martin <alice@project.com>\r\nTo: bob@project.com\r\n"
                          "Subject: Quarterly report\r\nDate: Tue, 10 Nov 2026 09:00:00 +0000\r\n"
                          "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                          "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                          "Please find the caf\xc3\xa9 numbers attached.\r\n"
                          "--b\r\nContent-Type: application/pdf\r\n"
                          "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n",
                          m_alice, {m_bob}));
    deliver(u"lunch"_s,
            parsedMessage(plainMessage("From: Carol <carol@example.org>\r\nTo: Bob <bob@project.com>\r\n"
                                       "Cc: dave@project.com\r\nSubject: Lunch on Friday\r\n"
                                       "Date: Fri, 20 Nov 2026 12:00:00 +0000\r\n",
                                       "The report is late. \xc3\x9c" "ber good food."),
                          carol, {m_bob}));
    deliver(u"reply"_s,
            parsedMessage(plainMessage("From: bob@project.com\r\nTo: alice@project.com\r\n"
                                       "Subject: Re: Quarterly report\r\nDate: Wed, 2 Dec 2026 08:00:00 +0000\r\n",
                                       "report quarterly, the other way round"),
                          m_bob, {m_alice}),
            true);
    deliver(u"prize"_s,
            parsedMessage(plainMessage("From: winner@junk.example\r\nTo: bob@project.com\r\nSubject: Win money\r\n"
                                       "Date: Wed, 25 Nov 2026 08:00:00 +0000\r\n",
                                       "Your report prize awaits"),
                          0, {m_bob}));
    deliver(u"plans"_s,
            parsedMessage(plainMessage("From: Dave <dave@project.com>\r\nTo: bob@project.com\r\nSubject: Big plans\r\n"
                                       "Date: Sat, 5 Dec 2026 08:00:00 +0000\r\n",
                                       "A phrase in the body.\r\n" + QByteArray(200 * 1024, 'x').replace(76, 1, "\r\n")),
                          0, {m_bob}));
    // Alice's own copy of a report: never among Bob's results.
    QVERIFY(m_store->deliver(parsedMessage(plainMessage("From: alice@project.com\r\nTo: alice@project.com\r\n"
                                                        "Subject: Quarterly report draft\r\n",
                                                        "report"),
                                           0, {m_alice})));

    const auto trash = m_store->roleFolder(m_bob, FolderRole::Trash);
    QVERIFY(m_store->createFolder(m_bob, u"Projects"_s));
    const auto plans = m_store->createFolder(m_bob, u"Projects/Big Plans"_s);
    QVERIFY(trash && plans);
    EntryUpdate toTrash;
    toTrash.folderId = trash->id;
    QVERIFY(m_store->updateEntry(m_bob, m_entries.value(u"prize"_s), toTrash));
    EntryUpdate toPlans;
    toPlans.folderId = plans->id;
    QVERIFY(m_store->updateEntry(m_bob, m_entries.value(u"plans"_s), toPlans));
    EntryUpdate flagged;
    flagged.flagged = true;
    QVERIFY(m_store->updateEntry(m_bob, m_entries.value(u"report"_s), flagged));
    EntryUpdate read;
    read.seen = true;
    QVERIFY(m_store->updateEntry(m_bob, m_entries.value(u"lunch"_s), read));
}

void TestStoreSearch::cleanupTestCase()
{
    m_store.reset();
    m_database.reset();
    m_dir.reset();
}

void TestStoreSearch::wordFolding_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("words");
    QTest::newRow("case") << u"Hello WORLD"_s << QStringList{u"hello"_s, u"world"_s};
    QTest::newRow("accents") << u"Caf\u00e9 \u00dcber na\u00efve"_s << QStringList{u"cafe"_s, u"uber"_s, u"naive"_s};
    QTest::newRow("letters without a decomposition") << u"Stra\u00dfe \u00d8resund \u0141\u00f3d\u017a \u00c6gir"_s
                                                     << QStringList{u"strasse"_s, u"oresund"_s, u"lodz"_s, u"aegir"_s};
    QTest::newRow("decomposed accents") << u"Cafe\u0301"_s << QStringList{u"cafe"_s};
    QTest::newRow("an address") << u"alice.martin@project.com"_s
                                << QStringList{u"alice"_s, u"martin"_s, u"project"_s, u"com"_s};
    QTest::newRow("punctuation and digits") << u"Q3-2026, 10:30!"_s
                                            << QStringList{u"q3"_s, u"2026"_s, u"10"_s, u"30"_s};
    QTest::newRow("compatibility forms") << u"\ufb01le \uff21\uff22"_s << QStringList{u"file"_s, u"ab"_s};
    QTest::newRow("other scripts") << u"\u041f\u0440\u0438\u0432\u0435\u0442 \u03a3\u03bf\u03c6\u03af\u03b1"_s
                                   << QStringList{u"\u043f\u0440\u0438\u0432\u0435\u0442"_s, u"\u03c3\u03bf\u03c6\u03b9\u03b1"_s};
    QTest::newRow("beyond the BMP") << u"a\U0001D400b \U0001F600 c"_s << QStringList{u"aab"_s, u"c"_s};
    QTest::newRow("a word too long to be one") << (u"x"_s.repeated(SearchWords::MaxWordLength + 1) + u" ok"_s)
                                               << QStringList{u"ok"_s};
    QTest::newRow("the longest word") << u"y"_s.repeated(SearchWords::MaxWordLength)
                                      << QStringList{u"y"_s.repeated(SearchWords::MaxWordLength)};
    QTest::newRow("nothing to search") << u"!!! -- @"_s << QStringList{};
}

void TestStoreSearch::wordFolding()
{
    QFETCH(QString, text);
    QFETCH(QStringList, words);
    QCOMPARE(SearchWords::words(text), words);
}

void TestStoreSearch::search_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QStringList>("found"); // newest first
    const auto tags = [](std::initializer_list<const char16_t *> names) {
        QStringList list;
        for (const char16_t *name : names)
            list.append(QString::fromUtf16(name));
        return list;
    };
    // "prize" is in Trash: only in:trash finds it. Alice's own report never.
    QTest::newRow("a word in any field") << u"report"_s << tags({u"reply", u"lunch", u"report"});
    QTest::newRow("in another case") << u"REPORT"_s << tags({u"reply", u"lunch", u"report"});
    QTest::newRow("accents aside") << u"CAFE"_s << tags({u"report"});
    QTest::newRow("accents in the query") << u"\u00fcber"_s << tags({u"lunch"});
    QTest::newRow("no stemming, no parts of words") << u"quarter"_s << tags({});
    QTest::newRow("several words all match") << u"report late"_s << tags({u"lunch"});
    QTest::newRow("a phrase in order") << u"\"quarterly report\""_s << tags({u"reply", u"report"});
    QTest::newRow("a phrase out of order") << u"subject:\"report quarterly\""_s << tags({});
    QTest::newRow("a phrase in the body") << u"body:\"report quarterly\""_s << tags({u"reply"});
    QTest::newRow("a phrase does not run across fields") << u"\"report alice\""_s << tags({});
    QTest::newRow("the sender by a part of the address") << u"from:alice"_s << tags({u"report"});
    QTest::newRow("the sender by name") << u"from:martin"_s << tags({u"report"});
    QTest::newRow("a whole address") << u"alice@project.com"_s << tags({u"reply", u"report"});
    QTest::newRow("a recipient") << u"to:alice"_s << tags({u"reply"});
    QTest::newRow("cc") << u"cc:dave"_s << tags({u"lunch"});
    QTest::newRow("subject only") << u"subject:report"_s << tags({u"reply", u"report"});
    QTest::newRow("body only") << u"body:late"_s << tags({u"lunch"});
    QTest::newRow("a file name") << u"filename:resume"_s << tags({u"report"});
    QTest::newRow("a file name in any field") << u"pdf"_s << tags({u"report"});
    QTest::newRow("unread") << u"is:unread"_s << tags({u"plans", u"report"});
    QTest::newRow("read") << u"is:read"_s << tags({u"reply", u"lunch"});
    QTest::newRow("flagged") << u"is:flagged"_s << tags({u"report"});
    QTest::newRow("answered") << u"is:answered"_s << tags({});
    QTest::newRow("with attachments") << u"has:attachment"_s << tags({u"report"});
    QTest::newRow("in a role folder") << u"in:trash"_s << tags({u"prize"});
    QTest::newRow("a role word in any case") << u"in:Trash report"_s << tags({u"prize"});
    QTest::newRow("the sent folder") << u"in:sent"_s << tags({u"reply"});
    QTest::newRow("a folder name with spaces") << u"in:\"Projects/Big Plans\""_s << tags({u"plans"});
    QTest::newRow("a folder name in another case") << u"in:\"projects/big plans\" phrase"_s << tags({u"plans"});
    QTest::newRow("not its parent's") << u"in:Projects"_s << tags({});
    QTest::newRow("everything but one folder") << u"-in:inbox"_s << tags({u"plans", u"reply"});
    QTest::newRow("before a day") << u"before:2026-11-20"_s << tags({u"report"});
    QTest::newRow("on or after a day") << u"after:2026-11-20"_s << tags({u"plans", u"reply", u"lunch"});
    QTest::newRow("larger") << u"larger:100K"_s << tags({u"plans"});
    QTest::newRow("smaller") << u"smaller:100K"_s << tags({u"reply", u"lunch", u"report"});
    QTest::newRow("excluded") << u"report -from:carol"_s << tags({u"reply", u"report"});
    QTest::newRow("one of two") << u"lunch OR plans"_s << tags({u"plans", u"lunch"});
    QTest::newRow("a flag or a field") << u"is:flagged OR cc:dave"_s << tags({u"lunch", u"report"});
    QTest::newRow("OR binds tighter than AND") << u"lunch OR reply report"_s << tags({u"lunch"});
    QTest::newRow("nothing matches") << u"zebra"_s << tags({});
}

void TestStoreSearch::search()
{
    QFETCH(QString, query);
    QFETCH(QStringList, found);
    const auto page = run(query);
    QVERIFY2(page, qPrintable(m_store->lastErrorText()));
    QCOMPARE(tagsOf(*page), found);
    QVERIFY(!page->nextBefore);
    for (const MailboxEntry &entry : page->entries) {
        QCOMPARE(entry.ownerId, m_bob);
        QVERIFY(!entry.summary.subject.isEmpty()); // listings' summaries, as a folder's page has them
    }
}

void TestStoreSearch::faults_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("position");
    QTest::newRow("no such folder") << u"report in:Nowhere"_s << 7;
    QTest::newRow("no letters or digits") << u"report \"!!!\""_s << 7;
    QTest::newRow("a negated term without words") << u"-@@"_s << 0;
}

void TestStoreSearch::faults()
{
    QFETCH(QString, query);
    QFETCH(int, position);
    SearchFault fault;
    QVERIFY(!run(query, 50, std::nullopt, &fault));
    QCOMPARE(m_store->lastError(), Store::Error::Invalid);
    QCOMPARE(fault.position, position);
    QVERIFY(!fault.message.isEmpty());
}

void TestStoreSearch::paging()
{
    const auto first = run(u"report"_s, 2);
    QVERIFY(first);
    QCOMPARE(tagsOf(*first), (QStringList{u"reply"_s, u"lunch"_s}));
    QCOMPARE(first->nextBefore, m_entries.value(u"lunch"_s));
    const auto second = run(u"report"_s, 2, first->nextBefore);
    QVERIFY(second);
    QCOMPARE(tagsOf(*second), QStringList{u"report"_s});
    QVERIFY(!second->nextBefore);
}

// A word in more messages than the store looks up one by one (at least 500,
// docs/protocol/search.md §3): the owner's entries are read newest first
// and kept when their message matches. The same answers as the other way.
void TestStoreSearch::commonWordsReadNewestFirst()
{
    const qint64 dora = m_store->createAccount(u"dora"_s, u"pbkdf2-sha256$1$x$y"_s)->id;
    constexpr int Count = 600;
    QList<NewMessage> messages;
    for (int i = 0; i < Count; ++i)
        messages.append(parsedMessage(plainMessage(u"From: news@project.com\r\nTo: dora@project.com\r\n"
                                                   "Subject: Bulletin %1\r\n"_s.arg(i).toUtf8(),
                                                   i % 2 ? "common words, odd" : "common words"),
                                      0, {dora}));
    const auto deliveries = m_store->deliverAll(messages);
    QList<qint64> entries; // oldest first
    for (const auto &delivery : deliveries) {
        QVERIFY(delivery);
        entries.append(delivery->inboxEntryIds.first());
    }
    const auto search = [&](const QString &text, int limit, std::optional<qint64> before = std::nullopt) {
        QList<qint64> ids;
        const auto page = m_store->search(dora, *SearchQuery::parse(text).query, limit, before);
        if (!page) {
            qWarning() << m_store->lastErrorText();
            return std::pair(ids, std::optional<qint64>());
        }
        for (const MailboxEntry &entry : page->entries)
            ids.append(entry.id);
        return std::pair(ids, page->nextBefore);
    };
    QList<qint64> newestFirst(entries.crbegin(), entries.crend());

    // Every page in order, none twice, to the end.
    QList<qint64> all;
    std::optional<qint64> before;
    do {
        const auto [ids, next] = search(u"common"_s, 50, before);
        QVERIFY(!ids.isEmpty());
        all += ids;
        before = next;
    } while (before);
    QCOMPARE(all, newestFirst);
    // An excluded word, and a flag, with a common word.
    QList<qint64> even;
    for (const qint64 id : std::as_const(newestFirst)) {
        if (entries.indexOf(id) % 2 == 0)
            even.append(id);
    }
    QCOMPARE(even.size(), Count / 2);
    QCOMPARE(search(u"common -odd"_s, 500).first, even);
    EntryUpdate flagged;
    flagged.flagged = true;
    for (int i : {3, 300, 599})
        QVERIFY(m_store->updateEntry(dora, entries.at(i), flagged));
    QCOMPARE(search(u"words is:flagged"_s, 50).first, (QList<qint64>{entries.at(599), entries.at(300), entries.at(3)}));
    // A copy of the oldest message is the newest entry: first.
    const auto copy = m_store->copyEntry(dora, entries.first(), m_store->roleFolder(dora, FolderRole::Archive)->id);
    QVERIFY(copy);
    const auto [withCopy, next] = search(u"common"_s, 3);
    QCOMPARE(withCopy, (QList<qint64>{copy->id, entries.at(599), entries.at(598)}));
    QCOMPARE(next, entries.at(598));
    // A phrase and a field.
    QCOMPARE(search(u"subject:\"bulletin 7\""_s, 50).first, QList<qint64>{entries.at(7)});
}

void TestStoreSearch::aRemovedMessageLeavesTheIndex()
{
    const auto delivery = m_store->deliver(parsedMessage(
        plainMessage("From: eve@project.com\r\nTo: bob@project.com\r\nSubject: Ephemeral\r\n", "xylophone"), 0,
        {m_bob}));
    QVERIFY(delivery);
    QCOMPARE(tagsOf(*run(u"xylophone"_s)).size(), 1);
    QVERIFY(m_store->deleteEntry(m_bob, delivery->inboxEntryIds.first()));
    QCOMPARE(tagsOf(*run(u"xylophone"_s)).size(), 0);
    // Its words went with the message: nothing of it stays to be found.
    QSqlQuery query(m_store->database());
    QVERIFY(query.prepare(u"SELECT count(*) FROM message_words WHERE message_id = ?"_s));
    query.addBindValue(delivery->messageId);
    QVERIFY2(query.exec() && query.next(), qPrintable(query.lastError().text()));
    QCOMPARE(query.value(0).toInt(), 0);
    if (m_store->engine() == Store::Engine::Sqlite) {
        QVERIFY(query.exec(u"SELECT count(*) FROM message_index WHERE message_index MATCH 'xylophone'"_s));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), 0);
    }
}

void TestStoreSearch::indexedTextIsBounded()
{
    // A text far past the bound: stored whole, indexed up to it, and the
    // headers always (on PostgreSQL a tsvector of it all would not even fit).
    QByteArray body;
    for (int i = 0; body.size() < 3 * 1024 * 1024; ++i)
        body += "w" + QByteArray::number(i, 36) + " \xe2\x82\xac" + QByteArray::number(i) + "\r\n";
    body += "farfaraway";
    const auto delivery = m_store->deliver(parsedMessage(
        plainMessage("From: frank@project.com\r\nTo: bob@project.com\r\nSubject: Enormous words\r\n", body), 0,
        {m_bob}));
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    QCOMPARE(tagsOf(*run(u"enormous"_s)).size(), 1);
    QCOMPARE(tagsOf(*run(u"w0"_s)).size(), 1);
    QCOMPARE(tagsOf(*run(u"farfaraway"_s)).size(), 0);
    QVERIFY(m_store->rawMessage(m_bob, delivery->inboxEntryIds.first())->endsWith("farfaraway\r\n"));
    QVERIFY(m_store->deleteEntry(m_bob, delivery->inboxEntryIds.first()));
}

// A word that recurs hundreds of times, and a phrase past the first 16,383
// words: PostgreSQL's tsvector keeps neither position, so phrases are
// checked on the stored words; the same answers on both engines.
void TestStoreSearch::phrasesFarIntoAField()
{
    QByteArray to;
    for (int i = 0; i < 300; ++i)
        to += "u" + QByteArray::number(i) + "@project.com, ";
    to += "Zed Last <zed.last@project.com>";
    QByteArray body;
    for (int i = 0; i < 17000; ++i)
        body += "f" + QByteArray::number(i % 7) + (i % 10 == 9 ? "\r\n" : " ");
    body += "closing remark here";
    const auto delivery = m_store->deliver(parsedMessage(
        plainMessage("From: ops@project.com\r\nTo: " + to + "\r\nCc: bob@project.com\r\nSubject: Crowded\r\n", body), 0,
        {m_bob}));
    QVERIFY2(delivery, qPrintable(m_store->lastErrorText()));
    const QList<qint64> it{delivery->inboxEntryIds.first()};
    const auto ids = [this](const QString &text) {
        QList<qint64> found;
        if (const auto page = run(text))
            for (const MailboxEntry &entry : page->entries)
                found.append(entry.id);
        return found;
    };
    QCOMPARE(ids(u"to:zed.last@project.com"_s), it);
    QCOMPARE(ids(u"\"zed last project com\""_s), it);
    QCOMPARE(ids(u"body:\"closing remark\""_s), it);
    QCOMPARE(ids(u"\"remark closing\""_s), QList<qint64>{});
    QCOMPARE(ids(u"to:u299"_s), it);
    QCOMPARE(ids(u"cc:u299"_s), QList<qint64>{});
    QVERIFY(m_store->deleteEntry(m_bob, it.first()));
}

QTEST_GUILESS_MAIN(TestStoreSearch)
#include "tst_storesearch.moc"
