// Search figures on a large mailbox (docs/performance.md, "Search"): one
// account's inbox of MESSAGES messages delivered through Store::deliverAll
// (the index written in each group's transaction, as smtpd writes it), then
// in-process query times (server time: no network, no JSON):
// - one-word searches, words drawn from every frequency band of the
//   vocabulary, first page of 50: p50, p90, p99, by band;
// - a few other query shapes;
// - the newest-50 listing of the same folder, for comparison.
// The text is made of a Zipf-distributed vocabulary of 20,000 made-up words
// (ranks 1..20,000, frequency ~ 1/rank), so word frequencies look like a
// real mailbox's: a few words in nearly every message, most in few.
//
// Usage: bench_search [MESSAGES] [DATABASE]   (default 1000000, a new
// SQLite file; DATABASE: a URL as mailroomctl takes it, with the password
// in PGPASSWORD for PostgreSQL; the database must exist. One this filled
// before is searched again without filling: give the same MESSAGES.)

#include "benchstore.h"
#include "searchquery.h"
#include "store.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <cmath>

namespace {

constexpr int Vocabulary = 20000;

// Made-up words: syllables by the rank's digits, so each rank has one word
// and none is an English word a stemmer or a stop list would touch.
QString wordOf(int rank)
{
    static const char *const syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pu",
                                            "ba", "do", "fe", "gi", "ho", "ju", "xe", "wy", "qo", "ci"};
    QString word;
    int n = rank;
    do {
        word += QLatin1StringView(syllables[n % 20]);
        n /= 20;
    } while (n > 0);
    return word + QLatin1StringView("r");
}

// Ranks by Zipf's law (s = 1): inverse transform over the cumulative weights.
class ZipfWords
{
public:
    ZipfWords()
    {
        double total = 0;
        m_cumulative.reserve(Vocabulary);
        for (int rank = 1; rank <= Vocabulary; ++rank) {
            total += 1.0 / rank;
            m_cumulative.push_back(total);
        }
        for (double &value : m_cumulative)
            value /= total;
    }
    int rank(QRandomGenerator &random) const
    {
        const double u = random.generateDouble();
        return int(std::lower_bound(m_cumulative.cbegin(), m_cumulative.cend(), u) - m_cumulative.cbegin()) + 1;
    }
    QString text(QRandomGenerator &random, int words) const
    {
        QString text;
        for (int i = 0; i < words; ++i) {
            if (i)
                text += QLatin1Char(' ');
            text += wordOf(rank(random));
        }
        return text;
    }

private:
    std::vector<double> m_cumulative;
};

struct Percentiles
{
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    const auto at = [&ms](double q) { return ms.empty() ? 0.0 : ms.at(std::min(ms.size() - 1, size_t(q * ms.size()))); };
    return {at(0.5), at(0.9), at(0.99), ms.empty() ? 0.0 : ms.back()};
}

QString row(const QString &name, const std::vector<double> &ms, double results = -1)
{
    const Percentiles p = percentiles(ms);
    QString line = QStringLiteral("  %1 n=%2  p50 %3 ms  p90 %4 ms  p99 %5 ms  max %6 ms")
                       .arg(name, -34)
                       .arg(ms.size(), 4)
                       .arg(p.p50, 7, 'f', 2)
                       .arg(p.p90, 7, 'f', 2)
                       .arg(p.p99, 7, 'f', 2)
                       .arg(p.max, 7, 'f', 2);
    if (results >= 0)
        line += QStringLiteral("  (%1 results on the first page, mean)").arg(results, 0, 'f', 1);
    return line;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const qint64 messages = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1000000;
    QTextStream out(stdout);
    QTemporaryDir dir;
    const std::optional<DatabaseUrl> database = benchDatabase(argc, argv, 2, dir, out);
    if (!database)
        return 2;
    Store store;
    if (!openStore(store, *database, out))
        return 1;
    // A database this filled before is searched again as it is.
    const std::optional<Account> filled = store.findAccount(QStringLiteral("bob"));
    const auto alice = filled ? store.findAccount(QStringLiteral("alice"))
                              : store.createAccount(QStringLiteral("alice"), QStringLiteral("x"));
    const auto bob = filled ? filled : store.createAccount(QStringLiteral("bob"), QStringLiteral("x"));
    if (!alice || !bob) {
        out << "cannot create accounts: " << store.lastErrorText() << Qt::endl;
        return 1;
    }

    const ZipfWords zipf;
    QRandomGenerator random(22);
    GroupDelivery delivery(store, out);
    for (qint64 i = 0; i < (filled ? 0 : messages); ++i) {
        NewMessage message;
        message.summary.subject = zipf.text(random, 5);
        const int sender = int(random.bounded(500));
        message.summary.from = {QStringLiteral("Sender %1").arg(sender), QStringLiteral("sender%1@example.org").arg(sender)};
        message.summary.to = {{QStringLiteral("Bob"), QStringLiteral("bob@project.com")}};
        message.summary.date = QDateTime::currentDateTimeUtc().addSecs(-(messages - i) * 60);
        message.text = zipf.text(random, 80);
        message.summary.preview = message.text.left(160);
        message.raw = "From: " + message.summary.from.address.toUtf8() + "\r\nSubject: " + message.summary.subject.toUtf8()
            + "\r\n\r\n" + message.text.toUtf8() + "\r\n";
        message.receivedAt = QDateTime::currentDateTimeUtc();
        message.recipientIds = {bob->id};
        if (!delivery.add(std::move(message)))
            return 1;
    }
    if (!delivery.finish())
        return 1;
    if (filled)
        out << "searching the " << messages << " messages delivered before" << Qt::endl;
    else
        out << (database->kind == DatabaseUrl::Kind::Sqlite ? "SQLite" : "PostgreSQL") << ": " << messages
        << " messages of ~85 words delivered in groups of " << GroupDelivery::Group << " with the index: "
        << QString::number(delivery.perSecond(), 'f', 0) << " per second" << Qt::endl;

    const auto timeQuery = [&](const QString &text, double *resultCount) {
        const SearchParse parsed = SearchQuery::parse(text);
        QElapsedTimer clock;
        clock.start();
        const auto page = store.search(bob->id, *parsed.query, 50);
        const double ms = clock.nsecsElapsed() / 1e6;
        if (!page) {
            out << "search failed: " << store.lastErrorText() << Qt::endl;
            std::exit(1);
        }
        *resultCount += page->entries.size();
        return ms;
    };
    // Warm the caches as a running server's are: a few of each kind first.
    double ignored = 0;
    for (int i = 0; i < 20; ++i)
        timeQuery(wordOf(1 + int(random.bounded(Vocabulary))), &ignored);

    // One-word queries: ranks log-uniform over the vocabulary, so every
    // band from the commonest words to the rarest is asked as often.
    struct Band
    {
        QString name;
        int low, high;
        std::vector<double> ms;
        double results = 0;
    };
    std::vector<Band> bands = {{QStringLiteral("words of rank 1-10 (in most messages)"), 1, 10, {}, 0},
                               {QStringLiteral("rank 11-200"), 11, 200, {}, 0},
                               {QStringLiteral("rank 201-2000"), 201, 2000, {}, 0},
                               {QStringLiteral("rank 2001-20000 (rare)"), 2001, Vocabulary, {}, 0}};
    std::vector<double> all;
    double allResults = 0;
    for (int i = 0; i < 400; ++i) {
        const int rank = std::clamp(int(std::exp(random.generateDouble() * std::log(double(Vocabulary)))), 1, Vocabulary);
        double results = 0;
        const double ms = timeQuery(wordOf(rank), &results);
        all.push_back(ms);
        allResults += results;
        for (Band &band : bands) {
            if (rank >= band.low && rank <= band.high) {
                band.ms.push_back(ms);
                band.results += results;
            }
        }
    }
    out << "one-word search, first page of 50, bob's " << messages << " messages:" << Qt::endl;
    out << row(QStringLiteral("all one-word queries"), all, allResults / all.size()) << Qt::endl;
    for (const Band &band : bands)
        out << row(band.name, band.ms, band.ms.empty() ? 0 : band.results / band.ms.size()) << Qt::endl;

    const auto shape = [&](const QString &name, const std::function<QString()> &query) {
        std::vector<double> ms;
        double results = 0;
        for (int i = 0; i < 50; ++i)
            ms.push_back(timeQuery(query(), &results));
        out << row(name, ms, results / ms.size()) << Qt::endl;
    };
    const auto midWord = [&] { return wordOf(201 + int(random.bounded(1800))); };
    shape(QStringLiteral("two mid words"), [&]() -> QString { return midWord() + QLatin1Char(' ') + midWord(); });
    shape(QStringLiteral("a two-word phrase"),
          [&] { return QStringLiteral("\"%1 %2\"").arg(wordOf(1 + int(random.bounded(10))), wordOf(1 + int(random.bounded(10)))); });
    shape(QStringLiteral("from:senderN"),
          [&] { return QStringLiteral("from:sender%1").arg(random.bounded(500)); });
    shape(QStringLiteral("subject:word (mid)"), [&]() -> QString { return QStringLiteral("subject:") + midWord(); });
    shape(QStringLiteral("word is:unread"), [&]() -> QString { return midWord() + QStringLiteral(" is:unread"); });

    std::vector<double> listing;
    for (int i = 0; i < 200; ++i) {
        QElapsedTimer clock;
        clock.start();
        const auto page = store.listFolder(bob->id, FolderRole::Inbox, 50);
        listing.push_back(clock.nsecsElapsed() / 1e6);
        if (!page || page->entries.size() != 50) {
            out << "listing failed: " << store.lastErrorText() << Qt::endl;
            return 1;
        }
    }
    out << row(QStringLiteral("newest-50 listing of the inbox"), listing) << Qt::endl;
    return 0;
}
