// SORT and THREAD (RFC 5256, RFC 5957's display keys): table rows of base
// subjects, sort criteria as the command sends them, records and the order
// or THREAD response they give; a mailbox of 10,000 messages, and a reply
// chain as deep, for their speed and for depth without recursion.

#include "imaparguments.h"
#include "imapsortthread.h"
#include "maildate.h"

#include <QElapsedTimer>
#include <QHash>
#include <QTest>

#include <numeric>

using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(ImapSortRecord)

namespace {

const QDateTime Epoch(QDate(2026, 3, 1), QTime(12, 0), Qt::UTC);

QDateTime minute(int minutes)
{
    return Epoch.addSecs(qint64(minutes) * 60);
}

// A message arriving at minute `arrival`, with a Date: header `sent`
// minutes in when that is not negative.
ImapSortRecord message(quint32 number, int arrival, int sent = -1)
{
    ImapSortRecord record;
    record.number = number;
    record.internalDate = minute(arrival);
    if (sent >= 0)
        record.date = MailDate::format(minute(sent));
    return record;
}

ImapSortRecord withSubject(ImapSortRecord record, const QByteArray &subject)
{
    record.subject = subject;
    return record;
}

// A message for THREAD: sent at minute `sent` (arriving then too), its own
// Message-ID, References and subject.
ImapSortRecord threaded(quint32 number, int sent, const QByteArray &messageId, const QByteArray &references,
                        const QByteArray &subject)
{
    ImapSortRecord record = message(number, sent, sent);
    record.messageId = messageId;
    record.references = references;
    record.subject = subject;
    return record;
}

QString keysText(const QList<ImapSortKey> &keys)
{
    static const char *const Names[] = {"ARRIVAL", "CC",      "DATE",        "FROM",     "SIZE",
                                        "SUBJECT", "TO",      "DISPLAYFROM", "DISPLAYTO"};
    QStringList words;
    for (const ImapSortKey &key : keys)
        words.append(QString::fromLatin1(key.reverse ? "REVERSE " : "") + QString::fromLatin1(Names[int(key.field)]));
    return words.join(u", "_s);
}

QList<ImapSortKey> keysOf(const QByteArray &criteria)
{
    const QByteArrayList parts{criteria};
    ImapArgumentReader reader(parts);
    const std::optional<QList<ImapSortKey>> keys = ImapSortThread::parseSortKeys(reader);
    if (!keys || !reader.atEnd())
        qFatal("bad sort criteria in a test row: %s", criteria.constData());
    return *keys;
}

} // namespace

class TestImapSortThread : public QObject
{
    Q_OBJECT

private slots:
    void baseSubject_data();
    void baseSubject();
    void collation_data();
    void collation();
    void sortKeys_data();
    void sortKeys();
    void threadAlgorithm_data();
    void threadAlgorithm();
    void sort_data();
    void sort();
    void thread_data();
    void thread();
    void tenThousandMessages();
    void aReplyChainTenThousandDeep();
};

void TestImapSortThread::baseSubject_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("base");
    QTest::addColumn<bool>("replyOrForward");

    const auto row = [](const char *name, const QByteArray &raw, const QString &base, bool replyOrForward) {
        QTest::newRow(name) << raw << base << replyOrForward;
    };
    row("plain", "subject"_ba, u"subject"_s, false);
    row("re", "Re: subject"_ba, u"subject"_s, true);
    row("RE without a space", "RE:subject"_ba, u"subject"_s, true);
    row("re, repeated", "Re: re: RE: subject"_ba, u"subject"_s, true);
    row("fw", "Fw: subject"_ba, u"subject"_s, true);
    row("fwd", "FWD: subject"_ba, u"subject"_s, true);
    row("white space before the colon", "fwd  : subject"_ba, u"subject"_s, true);
    row("a blob inside the leader", "Re[2]: subject"_ba, u"subject"_s, true);
    row("a blob and white space inside the leader", "Re [2] : subject"_ba, u"subject"_s, true);
    row("a blob before the leader", "[PATCH 1/2] re: subject"_ba, u"subject"_s, true);
    row("the brief's example", "Re: [list] Re: Fwd: subject (fwd)"_ba, u"subject"_s, true);
    row("a blob alone is no reply", "[list] subject"_ba, u"subject"_s, false);
    row("a blob that would leave nothing stays", "[list]"_ba, u"[list]"_s, false);
    row("the second of two blobs stays", "[a][b]"_ba, u"[b]"_s, false);
    row("a blob after a reply", "Re: [list]"_ba, u"[list]"_s, true);
    row("[fwd: ...]", "[fwd: subject]"_ba, u"subject"_s, true);
    row("[Fwd: ...] with a leader and trailer inside", "[Fwd: Re: subject] (fwd)"_ba, u"subject"_s, true);
    row("[fwd: ...] after a leader", "Re: [fwd: subject]"_ba, u"subject"_s, true);
    row("[fwd: ...] nested", "[fwd: [fwd: subject]]"_ba, u"subject"_s, true);
    row("[fwd:] of nothing", "[fwd:]"_ba, QString(), true);
    row("a [fwd: ...] blob before text is only a blob", "[fwd: x] subject"_ba, u"subject"_s, false);
    row("trailers, repeated", "subject (fwd) (FWD)  "_ba, u"subject"_s, true);
    row("(fwd) not at the end", "subject (fwd)x"_ba, u"subject (fwd)x"_s, false);
    row("only a leader", "Re: "_ba, QString(), true);
    row("leaders only", "Re:Fwd:"_ba, QString(), true);
    row("a word that starts like re", "Rex: subject"_ba, u"Rex: subject"_s, false);
    row("a leader the RFC does not know", "Sv: subject"_ba, u"Sv: subject"_s, false);
    row("no colon", "Fwd subject"_ba, u"Fwd subject"_s, false);
    row("re as the subject", "Re: Re"_ba, u"Re"_s, true);
    row("empty", ""_ba, QString(), false);
    row("white space only", " \t "_ba, QString(), false);
    row("white space collapsed, folding undone", "Re:\tmany   \r\n  spaces\t"_ba, u"many spaces"_s, true);
    row("an encoded word holding the leader", "=?UTF-8?Q?Re=3A_caf=C3=A9?="_ba, u"café"_s, true);
    row("an encoded word after the leader", "Re: =?ISO-8859-1?Q?Gr=FC=DFe?="_ba, u"Grüße"_s, true);
    row("adjacent encoded words joined", "=?UTF-8?B?UmU6IA==?= =?UTF-8?B?aGk=?="_ba, u"hi"_s, true);
    row("raw UTF-8", "Re: Entw\xc3\xbcrfe"_ba, u"Entwürfe"_s, true);
}

void TestImapSortThread::baseSubject()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, base);
    QFETCH(bool, replyOrForward);
    const ImapBaseSubject extracted = ImapSortThread::baseSubject(raw);
    QCOMPARE(extracted.text, base);
    QCOMPARE(extracted.replyOrForward, replyOrForward);
}

void TestImapSortThread::collation_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<int>("order"); // -1: a first, 0: equal, 1: b first

    QTest::newRow("ASCII case") << u"HELLO"_s << u"hello"_s << 0;
    QTest::newRow("accented case") << u"ÉCOLE"_s << u"école"_s << 0;
    QTest::newRow("precomposed and combining") << u"e\u0301"_s << u"é"_s << 0;
    QTest::newRow("full-width") << u"Ｆｕｌｌ"_s << u"FULL"_s << 0;
    QTest::newRow("titlecase digraphs") << u"ǆ"_s << u"Ǆ"_s << 0;
    QTest::newRow("letters before case") << u"a"_s << u"B"_s << -1;
    QTest::newRow("prefix first") << u"abc"_s << u"ABCD"_s << -1;
    QTest::newRow("empty first") << QString() << u"a"_s << -1;
    QTest::newRow("code point order beyond the BMP") << u"\U0001F600"_s << u"\uE000"_s << 1;
}

void TestImapSortThread::collation()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(int, order);
    const QByteArray keyA = ImapSortThread::collationKey(a);
    const QByteArray keyB = ImapSortThread::collationKey(b);
    QCOMPARE(keyA < keyB ? -1 : (keyB < keyA ? 1 : 0), order);
}

void TestImapSortThread::sortKeys_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("keys"); // or "fault: ..."
    QTest::addColumn<QByteArray>("next"); // the character left to read, none at the end

    QTest::newRow("the usual") << "(REVERSE DATE SUBJECT)"_ba << u"REVERSE DATE, SUBJECT"_s << QByteArray();
    QTest::newRow("every key, any case")
        << "(arrival Cc date from size subject to displayFrom REVERSE displayto)"_ba
        << u"ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, REVERSE DISPLAYTO"_s << QByteArray();
    QTest::newRow("the charset follows") << "(SIZE) UTF-8 ALL"_ba << u"SIZE"_s << " "_ba;
    QTest::newRow("no parenthesis") << "DATE"_ba << u"fault: expected '(' at \"DATE\""_s << "D"_ba;
    QTest::newRow("empty list") << "()"_ba << u"fault: expected a sort key at \")\""_s << ")"_ba;
    QTest::newRow("unclosed") << "(DATE"_ba << u"fault: expected ')' at the end of the command"_s << QByteArray();
    QTest::newRow("unknown key") << "(DATE FOO)"_ba << u"fault: unknown sort key FOO at \")\""_s << ")"_ba;
    QTest::newRow("REVERSE alone") << "(REVERSE)"_ba << u"fault: expected ' ' at \")\""_s << ")"_ba;
    QTest::newRow("REVERSE twice") << "(REVERSE REVERSE DATE)"_ba
                                   << u"fault: unknown sort key REVERSE at \" DATE)\""_s << " "_ba;
    QTest::newRow("two spaces") << "(DATE  SIZE)"_ba << u"fault: expected a sort key at \" SIZE)\""_s << " "_ba;
    QTest::newRow("a key is a whole word") << "(DATES)"_ba << u"fault: unknown sort key DATES at \")\""_s << ")"_ba;
}

void TestImapSortThread::sortKeys()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, keys);
    QFETCH(QByteArray, next);
    const QByteArrayList parts{line};
    ImapArgumentReader reader(parts);
    const std::optional<QList<ImapSortKey>> parsed = ImapSortThread::parseSortKeys(reader);
    QCOMPARE(parsed ? keysText(*parsed) : u"fault: "_s + QString::fromLatin1(reader.fault()), keys);
    QCOMPARE(parsed.has_value(), reader.ok());
    QCOMPARE(reader.atEnd() ? QByteArray() : QByteArray(1, reader.peek()), next);
}

void TestImapSortThread::threadAlgorithm_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("algorithm");

    QTest::newRow("REFERENCES") << "REFERENCES"_ba << u"references"_s;
    QTest::newRow("orderedsubject") << "orderedsubject"_ba << u"orderedsubject"_s;
    QTest::newRow("unknown") << "REFS"_ba << u"fault: unknown threading algorithm REFS at the end of the command"_s;
    QTest::newRow("none") << "(x)"_ba << u"fault: expected a threading algorithm at \"(x)\""_s;
}

void TestImapSortThread::threadAlgorithm()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, algorithm);
    const QByteArrayList parts{line};
    ImapArgumentReader reader(parts);
    const std::optional<ImapThreadAlgorithm> parsed = ImapSortThread::parseThreadAlgorithm(reader);
    const QString got = !parsed ? u"fault: "_s + QString::fromLatin1(reader.fault())
        : *parsed == ImapThreadAlgorithm::References ? u"references"_s
                                                     : u"orderedsubject"_s;
    QCOMPARE(got, algorithm);
}

void TestImapSortThread::sort_data()
{
    QTest::addColumn<QList<ImapSortRecord>>("records");
    QTest::addColumn<QByteArray>("criteria");
    QTest::addColumn<QList<quint32>>("numbers");

    // Given out of order: the result must not depend on the input's order.
    {
        QList<ImapSortRecord> records{message(4, 0), message(3, 20), message(1, 20), message(2, 10)};
        QTest::newRow("ARRIVAL") << records << "(ARRIVAL)"_ba << QList<quint32>{4, 2, 1, 3};
        QTest::newRow("REVERSE ARRIVAL, ties ascending") << records << "(REVERSE ARRIVAL)"_ba
                                                         << QList<quint32>{1, 3, 2, 4};
    }
    {
        QList<ImapSortRecord> records{message(1, 0), message(2, 0), message(3, 0), message(4, 0)};
        records[0].size = 300;
        records[1].size = 100;
        records[2].size = 300;
        records[3].size = 200;
        QTest::newRow("SIZE") << records << "(SIZE)"_ba << QList<quint32>{2, 4, 1, 3};
        QTest::newRow("REVERSE SIZE") << records << "(REVERSE SIZE)"_ba << QList<quint32>{1, 3, 4, 2};
    }
    {
        // 1: sent at 30 in +0200, 08:00 UTC plus 30 minutes; 2: no Date:,
        // arrived at 10; 3: a Date: that does not parse, arrived at 40;
        // 4: sent at 10 (ties with 2); 5: sent at 50, arrived at 0.
        QList<ImapSortRecord> records{message(1, 60), message(2, 10), message(3, 40), message(4, 99, 10),
                                      message(5, 0, 50)};
        records[0].date = "Sun, 1 Mar 2026 14:30:00 +0200"_ba;
        records[2].date = "yesterday, around noon"_ba;
        QTest::newRow("DATE, in UTC, the internal date standing in")
            << records << "(DATE)"_ba << QList<quint32>{2, 4, 1, 3, 5};
        QTest::newRow("REVERSE DATE") << records << "(REVERSE DATE)"_ba << QList<quint32>{5, 3, 1, 2, 4};
        QTest::newRow("ARRIVAL ignores Date:") << records << "(ARRIVAL)"_ba << QList<quint32>{5, 2, 3, 1, 4};
    }
    {
        QList<ImapSortRecord> records{withSubject(message(1, 0), "Re: beta"_ba), withSubject(message(2, 0), "alpha"_ba),
                                      withSubject(message(3, 0), "[list] BETA"_ba), withSubject(message(4, 0), ""_ba),
                                      withSubject(message(5, 0), "=?UTF-8?Q?=C3=A9t=C3=A9?="_ba),
                                      withSubject(message(6, 0), "Fwd: Alpha (fwd)"_ba)};
        QTest::newRow("SUBJECT, base subjects without case")
            << records << "(SUBJECT)"_ba << QList<quint32>{4, 2, 6, 1, 3, 5};
        QTest::newRow("REVERSE SUBJECT") << records << "(REVERSE SUBJECT)"_ba << QList<quint32>{5, 1, 3, 2, 6, 4};
    }
    {
        // FROM sorts by the local part, DISPLAYFROM by the name, else the address.
        QList<ImapSortRecord> records{message(1, 0), message(2, 0), message(3, 0), message(4, 0), message(5, 0)};
        records[0].from = "Zed <Alice@z.example>"_ba;
        records[1].from = "Amy <bob@a.example>, carol@c.example"_ba;
        records[2].from = "carl@c.example"_ba;
        records[3].from = ""_ba;
        records[4].from = "=?UTF-8?Q?=C3=89mile?= <alice@b.example>"_ba;
        QTest::newRow("FROM") << records << "(FROM)"_ba << QList<quint32>{4, 1, 5, 2, 3};
        QTest::newRow("REVERSE FROM") << records << "(REVERSE FROM)"_ba << QList<quint32>{3, 2, 1, 5, 4};
        QTest::newRow("DISPLAYFROM") << records << "(DISPLAYFROM)"_ba << QList<quint32>{4, 2, 3, 5, 1};
        QTest::newRow("REVERSE DISPLAYFROM") << records << "(REVERSE DISPLAYFROM)"_ba
                                             << QList<quint32>{1, 5, 3, 2, 4};
    }
    {
        QList<ImapSortRecord> records{message(1, 0), message(2, 0), message(3, 0), message(4, 0)};
        records[0].to = "undisclosed-recipients:;"_ba;
        records[1].to = "team: Yves <yves@x.example>, ann@x.example;"_ba;
        records[2].to = "\"Bee, Queen\" <ann@y.example>"_ba;
        records[3].to = "not an address"_ba;
        records[0].cc = "mo@x.example"_ba;
        records[1].cc = "al@x.example"_ba;
        records[3].cc = "Mo <MO@y.example>"_ba;
        QTest::newRow("TO: a group's members, names with commas") << records << "(TO)"_ba << QList<quint32>{1, 4, 3, 2};
        QTest::newRow("REVERSE TO") << records << "(REVERSE TO)"_ba << QList<quint32>{2, 3, 1, 4};
        QTest::newRow("DISPLAYTO") << records << "(DISPLAYTO)"_ba << QList<quint32>{1, 4, 3, 2};
        QTest::newRow("REVERSE DISPLAYTO") << records << "(REVERSE DISPLAYTO)"_ba << QList<quint32>{2, 3, 1, 4};
        QTest::newRow("CC") << records << "(CC)"_ba << QList<quint32>{3, 2, 1, 4};
        QTest::newRow("REVERSE CC") << records << "(REVERSE CC)"_ba << QList<quint32>{1, 4, 2, 3};
    }
    {
        QList<ImapSortRecord> records{withSubject(message(1, 5), "b"_ba), withSubject(message(2, 1), "a"_ba),
                                      withSubject(message(3, 9), "Re: b"_ba), withSubject(message(4, 5), "B"_ba)};
        QTest::newRow("SUBJECT, then REVERSE ARRIVAL")
            << records << "(SUBJECT REVERSE ARRIVAL)"_ba << QList<quint32>{2, 3, 1, 4};
        QTest::newRow("REVERSE SUBJECT, then ARRIVAL")
            << records << "(REVERSE SUBJECT ARRIVAL)"_ba << QList<quint32>{1, 4, 3, 2};
    }
    QTest::newRow("no messages") << QList<ImapSortRecord>() << "(DATE)"_ba << QList<quint32>();
}

void TestImapSortThread::sort()
{
    QFETCH(QList<ImapSortRecord>, records);
    QFETCH(QByteArray, criteria);
    QFETCH(QList<quint32>, numbers);
    QCOMPARE(ImapSortThread::sort(records, keysOf(criteria)), numbers);
}

void TestImapSortThread::thread_data()
{
    QTest::addColumn<QList<ImapSortRecord>>("records");
    QTest::addColumn<bool>("references"); // else ORDEREDSUBJECT
    QTest::addColumn<QByteArray>("response");

    const auto references = [](const char *name, const QList<ImapSortRecord> &records, const QByteArray &response) {
        QTest::newRow(name) << records << true << response;
    };
    const auto ordered = [](const char *name, const QList<ImapSortRecord> &records, const QByteArray &response) {
        QTest::newRow(name) << records << false << response;
    };

    // RFC 5256 §4's tree: 2 alone; 3, its reply 6, whose replies 4 (with
    // its reply 23) and 44 (with 7, and 7's reply 96). Given shuffled.
    references("RFC 5256's example tree",
               {threaded(44, 44, "<44@x>", "<3@x> <6@x>", "Re: three"),
                threaded(2, 2, "<2@x>", "", "two"),
                threaded(96, 96, "<96@x>", "<3@x> <6@x> <44@x> <7@x>", "Re: three"),
                threaded(3, 3, "<3@x>", "", "three"),
                threaded(6, 6, "<6@x>", "<3@x>", "Re: three"),
                threaded(4, 4, "<4@x>", "<3@x> <6@x>", "Re: three"),
                threaded(23, 23, "<23@x>", "<3@x> <6@x> <4@x>", "Re: three"),
                threaded(7, 7, "<7@x>", "<3@x> <6@x> <44@x>", "Re: three")},
               "(2)(3 6 (4 23)(44 7 96))");
    // The RFC's "((3)(5))": two replies to a message not in the mailbox.
    // The dummy sorts by its first child, before 1.
    references("a missing parent of two is a dummy",
               {threaded(1, 10, "<1@x>", "", "one"), threaded(3, 3, "<3@x>", "<gone@x>", "three"),
                threaded(5, 5, "<5@x>", "<gone@x>", "five")},
               "((3)(5))(1)");
    references("a missing parent of one is dropped", {threaded(3, 3, "<3@x>", "<gone@x>", "three")}, "(3)");
    // Kept, the dummy would take 4 as a sibling of 3 in step 5.
    references("a missing parent of one leaves no dummy to join",
               {threaded(3, 3, "<3@x>", "<gone@x>", "x"), threaded(4, 4, "<4@x>", "", "Re: x")}, "(3 4)");
    references("a missing message between two", {threaded(1, 1, "<1@x>", "", "one"),
                                                  threaded(2, 2, "<2@x>", "<1@x> <gone@x>", "two")},
               "(1 2)");
    references("missing grandparents", {threaded(3, 3, "<3@x>", "<g1@x> <g2@x>", "three"),
                                        threaded(4, 4, "<4@x>", "<g1@x> <g3@x>", "four")},
               "((3)(4))");
    {
        ImapSortRecord reply = threaded(2, 2, "<2@x>", "", "two");
        reply.inReplyTo = "Your message of Tuesday <bad> <junk <1@x> <3@x>"_ba;
        references("In-Reply-To: its first valid id", {threaded(1, 1, "<1@x>", "", "one"), reply,
                                                        threaded(3, 3, "<3@x>", "", "three")},
                   "(1 2)(3)");
        reply.references = "<3@x>"_ba;
        references("References before In-Reply-To", {threaded(1, 1, "<1@x>", "", "one"), reply,
                                                      threaded(3, 3, "<3@x>", "", "three")},
                   "(1)(3 2)");
        reply.references = "(comment <3@x>) <>"_ba;
        references("References without a valid id gives way to In-Reply-To",
                   {threaded(1, 1, "<1@x>", "", "one"), reply, threaded(3, 3, "<3@x>", "", "three")}, "(1 2)(3)");
    }
    references("ids are compared with case", {threaded(1, 1, "<A@x>", "", "one"),
                                              threaded(2, 2, "<2@x>", "<a@x>", "two")},
               "(1)(2)");
    references("ids folded over lines", {threaded(1, 1, "<1@\r\n x>", "", "one"),
                                         threaded(2, 2, "<2@x>", "<1@x>", "two")},
               "(1 2)");
    references("a Message-ID loop", {threaded(1, 1, "<a@x>", "<b@x>", "one"), threaded(2, 2, "<b@x>", "<a@x>", "two")},
               "(2 1)");
    references("a message referring to itself", {threaded(1, 1, "<a@x>", "<a@x>", "one")}, "(1)");
    references("a References loop among others",
               {threaded(1, 1, "<1@x>", "", "one"), threaded(2, 2, "<2@x>", "", "two"),
                threaded(3, 3, "<3@x>", "<1@x> <2@x> <1@x>", "three")},
               "(1 (2)(3))");
    references("a message's own empty References undoes another's link",
               {threaded(1, 1, "<1@x>", "", "one"), threaded(3, 3, "<3@x>", "<1@x> <2@x>", "three"),
                threaded(4, 4, "<2@x>", "", "four")},
               "(1)(4 3)");
    references("an earlier link stays",
               {threaded(1, 1, "<1@x>", "", "one"), threaded(2, 2, "<2@x>", "", "two"),
                threaded(3, 3, "<3@x>", "<9@x>", "three"),
                threaded(4, 4, "<4@x>", "<1@x> <9@x> <3@x>", "four"),
                threaded(5, 5, "<5@x>", "<2@x> <9@x> <3@x>", "five")},
               "(1 3 (4)(5))(2)");
    references("a duplicate Message-ID belongs to the lowest number",
               {threaded(2, 2, "<d@x>", "", "two"), threaded(1, 1, "<d@x>", "", "one"),
                threaded(3, 3, "<3@x>", "<d@x>", "three")},
               "(1 3)(2)");
    references("no Message-ID", {threaded(1, 1, "", "", "one"), threaded(2, 2, "not an id", "<>", "two")}, "(1)(2)");
    {
        ImapSortRecord badDate = threaded(2, 5, "<2@x>", "<1@x>", "Re: one");
        badDate.date = "soon"_ba;
        references("siblings by sent date, the internal date standing in",
                   {threaded(1, 1, "<1@x>", "", "one"), badDate, threaded(3, 3, "<3@x>", "<1@x>", "Re: one"),
                    threaded(4, 5, "<4@x>", "<1@x>", "Re: one")},
                   "(1 (3)(2)(4))");
    }

    // Step 5: threads joined by base subject.
    references("same subject, neither a reply", {threaded(1, 1, "<1@x>", "", "x"), threaded(2, 2, "<2@x>", "", "X")},
               "((1)(2))");
    references("a reply by subject alone", {threaded(1, 1, "<1@x>", "", "x"), threaded(2, 2, "<2@x>", "", "Re: [l] x")},
               "(1 2)");
    references("the first message wins over an earlier reply",
               {threaded(1, 1, "<1@x>", "", "Re: x"), threaded(2, 2, "<2@x>", "", "x")}, "(2 1)");
    references("a dummy takes the others",
               {threaded(3, 3, "<3@x>", "<gone@x>", "x"), threaded(5, 5, "<5@x>", "<gone@x>", "Re: x"),
                threaded(7, 7, "<7@x>", "", "x"), threaded(8, 8, "<8@x>", "", "Fwd: x")},
               "((3)(5)(7)(8))");
    references("two dummies become one",
               {threaded(1, 1, "<1@x>", "<g1@x>", "x"), threaded(2, 2, "<2@x>", "<g1@x>", "x"),
                threaded(3, 3, "<3@x>", "<g2@x>", "x"), threaded(4, 4, "<4@x>", "<g2@x>", "x")},
               "((1)(2)(3)(4))");
    references("a reply joins with its own replies",
               {threaded(1, 1, "<1@x>", "", "x"), threaded(2, 2, "<2@x>", "", "Re: x"),
                threaded(3, 3, "<3@x>", "<2@x>", "Re: x")},
               "(1 2 3)");
    references("three of a subject, none a reply", {threaded(1, 1, "<1@x>", "", "x"), threaded(2, 2, "<2@x>", "", "x"),
                                                    threaded(3, 3, "<3@x>", "", "x")},
               "((1)(2)(3))");
    references("empty subjects are not joined",
               {threaded(1, 1, "<1@x>", "", ""), threaded(2, 2, "<2@x>", "", "Re:"), threaded(3, 3, "<3@x>", "", "")},
               "(1)(2)(3)");
    references("only threads at the top are joined",
               {threaded(1, 1, "<1@x>", "", "x"), threaded(2, 2, "<2@x>", "", "y"),
                threaded(3, 3, "<3@x>", "<2@x>", "x")},
               "(1)(2 3)");
    references("no messages", {}, "");

    // ORDEREDSUBJECT: one thread a base subject, the first message the
    // parent of all others.
    ordered("threads by subject, children in date order",
            {threaded(1, 1, "", "", "a"), threaded(2, 2, "", "", "Re: a"), threaded(3, 3, "", "", "b"),
             threaded(4, 4, "", "", "[list] A")},
            "(1 (2)(4))(3)");
    ordered("two of a subject", {threaded(1, 1, "", "", "a"), threaded(2, 2, "", "", "Re: a")}, "(1 2)");
    ordered("threads in the date order of their first message",
            {threaded(1, 5, "", "", "b"), threaded(2, 1, "", "", "a"), threaded(3, 6, "", "", "Re: b")}, "(2)(1 3)");
    ordered("an earlier reply first", {threaded(1, 1, "", "", "Re: x"), threaded(2, 2, "", "", "x")}, "(1 2)");
    ordered("references do not count", {threaded(1, 1, "<1@x>", "", "a"), threaded(2, 2, "<2@x>", "<1@x>", "b")},
            "(1)(2)");
    ordered("ties by number", {threaded(3, 1, "", "", "a"), threaded(2, 1, "", "", "a"), threaded(1, 1, "", "", "b")},
            "(1)(2 3)");
    ordered("no messages", {}, "");
}

void TestImapSortThread::thread()
{
    QFETCH(QList<ImapSortRecord>, records);
    QFETCH(bool, references);
    QFETCH(QByteArray, response);
    QCOMPARE(ImapSortThread::threadResponse(
                 records, references ? ImapThreadAlgorithm::References : ImapThreadAlgorithm::OrderedSubject),
             response);
}

namespace {

// The numbers of a THREAD response, in order.
QList<quint32> numbersIn(const QByteArray &response)
{
    QList<quint32> numbers;
    const QByteArray spaced = QByteArray(response).replace('(', ' ').replace(')', ' ');
    for (const QByteArray &word : spaced.split(' ')) {
        if (!word.isEmpty())
            numbers.append(word.toUInt());
    }
    return numbers;
}

bool balanced(const QByteArray &response)
{
    int depth = 0;
    for (char c : response) {
        depth += c == '(' ? 1 : (c == ')' ? -1 : 0);
        if (depth < 0)
            return false;
    }
    return depth == 0;
}

} // namespace

void TestImapSortThread::tenThousandMessages()
{
    constexpr int Count = 10000;
    QList<ImapSortRecord> records;
    records.reserve(Count);
    quint32 seed = 12345;
    const auto next = [&seed](quint32 below) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % below;
    };
    static const char *const Leaders[] = {"", "Re: ", "Fwd: ", "[list] Re: ", "RE: Re: "};
    for (int i = 0; i < Count; ++i) {
        ImapSortRecord record = message(quint32(i + 1), int(next(100000)), next(10) == 0 ? -1 : int(next(100000)));
        const int thread = int(next(1500));
        record.subject = QByteArray(Leaders[next(5)]) + "topic " + QByteArray::number(thread);
        record.from = "Person " + QByteArray::number(next(300)) + " <p" + QByteArray::number(next(300)) + "@x.example>";
        record.to = "list@x.example"_ba;
        record.size = next(50000);
        // Every 500th id is a duplicate; replies name an earlier message
        // of the mailbox, or one that is not in it.
        record.messageId = "<m" + QByteArray::number(i % 500 == 499 ? i - 1 : i) + "@x>";
        if (i > 0 && next(3) != 0) {
            const int parent = int(next(quint32(i)));
            record.references = "<root" + QByteArray::number(thread) + "@x> <m" + QByteArray::number(parent) + "@x>";
        }
        records.append(record);
    }
    std::reverse(records.begin(), records.end());

    QElapsedTimer timer;
    timer.start();
    const QList<quint32> byDate = ImapSortThread::sort(records, keysOf("(REVERSE DATE)"_ba));
    const qint64 sortDate = timer.restart();
    const QList<quint32> bySubject = ImapSortThread::sort(records, keysOf("(SUBJECT FROM REVERSE SIZE)"_ba));
    const qint64 sortSubject = timer.restart();
    const QByteArray references = ImapSortThread::threadResponse(records, ImapThreadAlgorithm::References);
    const qint64 threadReferences = timer.restart();
    const QByteArray ordered = ImapSortThread::threadResponse(records, ImapThreadAlgorithm::OrderedSubject);
    const qint64 threadOrdered = timer.restart();
    qDebug("10,000 messages: SORT (REVERSE DATE) %lld ms, SORT (SUBJECT FROM REVERSE SIZE) %lld ms, "
           "THREAD REFERENCES %lld ms, THREAD ORDEREDSUBJECT %lld ms",
           sortDate, sortSubject, threadReferences, threadOrdered);

    QList<quint32> all(Count);
    std::iota(all.begin(), all.end(), 1u);
    for (const QList<quint32> &numbers : {byDate, bySubject, numbersIn(references), numbersIn(ordered)}) {
        QList<quint32> sorted = numbers;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted, all); // every message once
    }
    QVERIFY(balanced(references));
    QVERIFY(balanced(ordered));
    QVERIFY(!references.contains("()"));

    // Spot checks of the order: dates descending, then numbers ascending.
    QHash<quint32, const ImapSortRecord *> byNumber;
    for (const ImapSortRecord &record : std::as_const(records))
        byNumber.insert(record.number, &record);
    const auto sent = [&](quint32 number) {
        const ImapSortRecord *record = byNumber.value(number);
        const std::optional<QDateTime> date = MailDate::parse(record->date);
        return date ? *date : record->internalDate;
    };
    for (qsizetype i = 1; i < byDate.size(); ++i) {
        const QDateTime before = sent(byDate.at(i - 1));
        const QDateTime after = sent(byDate.at(i));
        QVERIFY(before > after || (before == after && byDate.at(i - 1) < byDate.at(i)));
    }
}

void TestImapSortThread::aReplyChainTenThousandDeep()
{
    constexpr int Count = 10000;
    QList<ImapSortRecord> records;
    QByteArray expected = "(";
    for (int i = 1; i <= Count; ++i) {
        ImapSortRecord record = threaded(quint32(i), i, "<" + QByteArray::number(i) + "@x>", "", "Re: chain");
        if (i > 1)
            record.inReplyTo = "<" + QByteArray::number(i - 1) + "@x>";
        records.append(record);
        expected += QByteArray::number(i) + (i < Count ? " " : ")");
    }
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(ImapSortThread::threadResponse(records, ImapThreadAlgorithm::References), expected);
    qDebug("a reply chain 10,000 deep: THREAD REFERENCES %lld ms", timer.elapsed());
}

QTEST_GUILESS_MAIN(TestImapSortThread)
#include "tst_imapsortthread.moc"
