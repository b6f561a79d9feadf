#pragma once

// What the standalone store benchmarks share (bench_search, bench_changes,
// bench_imap): their database, and filling it as smtpd would.

#include "store.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <optional>

// argv[index] when given (a URL as mailroomctl takes it, PostgreSQL's
// password from PGPASSWORD), else a new SQLite file in `dir`; none, with the
// reason printed, when it cannot be read.
inline std::optional<DatabaseUrl> benchDatabase(int argc, char *argv[], int index, const QTemporaryDir &dir,
                                                QTextStream &out)
{
    QString error;
    const QString text = argc > index ? QString::fromLocal8Bit(argv[index]) : dir.filePath(QStringLiteral("bench.db"));
    std::optional<DatabaseUrl> database = DatabaseUrl::parse(text, &error);
    if (!database) {
        out << "bad database: " << error << Qt::endl;
        return std::nullopt;
    }
    if (database->kind == DatabaseUrl::Kind::Postgresql)
        database->password = qEnvironmentVariable("PGPASSWORD");
    return database;
}

// Opens the benchmark's store, creating it if need be; false, with the
// reason printed, when it cannot.
inline bool openStore(Store &store, const DatabaseUrl &database, QTextStream &out)
{
    if (store.open(database, Store::OpenMode::CreateIfMissing))
        return true;
    out << "cannot open the store: " << store.lastErrorText() << Qt::endl;
    return false;
}

// Delivers messages as smtpd's delivery thread does, in groups of 500 in a
// transaction each (Store::deliverAll), printing the rate every 100,000.
class GroupDelivery
{
public:
    static constexpr int Group = 500;

    GroupDelivery(Store &store, QTextStream &out)
        : m_store(store)
        , m_out(out)
    {
        m_timer.start();
    }

    // False, with the reason printed, when a delivery failed.
    bool add(NewMessage message)
    {
        m_group.append(std::move(message));
        return m_group.size() < Group || deliver();
    }
    // Delivers what is left.
    bool finish() { return m_group.isEmpty() || deliver(); }
    [[nodiscard]] double perSecond() const { return double(m_delivered) / (double(m_timer.nsecsElapsed()) / 1e9); }

private:
    bool deliver()
    {
        const auto deliveries = m_store.deliverAll(m_group);
        if (std::any_of(deliveries.cbegin(), deliveries.cend(), [](const auto &d) { return !d.has_value(); })) {
            m_out << "delivery failed: " << m_store.lastErrorText() << Qt::endl;
            return false;
        }
        const qint64 before = m_delivered;
        m_delivered += m_group.size();
        m_group.clear();
        if (m_delivered / 100000 > before / 100000)
            m_out << "  " << m_delivered << " delivered, " << QString::number(perSecond(), 'f', 0) << " per second"
                  << Qt::endl;
        return true;
    }

    Store &m_store;
    QTextStream &m_out;
    QElapsedTimer m_timer;
    QList<NewMessage> m_group;
    qint64 m_delivered = 0;
};
