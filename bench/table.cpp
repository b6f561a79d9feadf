#include "loads.h"

#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QStringList>
#include <QTextStream>

#include <vector>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

double median(std::vector<double> values)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const size_t middle = values.size() / 2;
    return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// The JSON lines of a file (or stdin for "-" or nothing), grouped by
// scenario in the order they first appear.
struct Runs
{
    QStringList order;
    QHash<QString, QList<QJsonObject>> byScenario;
};

std::optional<Runs> readRuns(const QString &path)
{
    QFile file;
    if (path.isEmpty() || path == u"-"_s) {
        if (!file.open(stdin, QIODevice::ReadOnly))
            return std::nullopt;
    } else {
        file.setFileName(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err() << "mailroom-load: cannot read " << path << ": " << file.errorString() << Qt::endl;
            return std::nullopt;
        }
    }
    Runs runs;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (!line.startsWith('{'))
            continue;
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        if (object.isEmpty())
            continue;
        QString name = object.value(u"scenario"_s).toString();
        if (name.isEmpty())
            name = object.value(u"mode"_s).toString();
        if (!runs.byScenario.contains(name))
            runs.order.append(name);
        runs.byScenario[name].append(object);
    }
    return runs;
}

// The median of one figure over the runs that carry it.
std::optional<double> column(const QList<QJsonObject> &objects, const QString &key)
{
    std::vector<double> values;
    for (const QJsonObject &object : objects) {
        if (object.contains(key))
            values.push_back(object.value(key).toDouble());
    }
    if (values.empty())
        return std::nullopt;
    return median(values);
}

QString cell(std::optional<double> value, int decimals)
{
    return value ? QLocale::c().toString(*value, 'f', decimals) : u"–"_s;
}

// Errors summed over the runs, a timed-out run counting as one.
qint64 errorCount(const QList<QJsonObject> &objects)
{
    qint64 errors = 0;
    for (const QJsonObject &object : objects)
        errors += object.value(u"errors"_s).toInteger() + (object.value(u"timed_out"_s).toBool() ? 1 : 0);
    return errors;
}

} // namespace

// Reads JSON lines and prints one markdown row per scenario: the median of
// each figure over its runs (each column on its own), errors summed.
int printTable(const QString &path)
{
    const std::optional<Runs> runs = readRuns(path);
    if (!runs)
        return 2;
    QTextStream out(stdout);
    out << "| scenario | runs | rate (median) | p50 ms | p99 ms | errors | generator CPU | server CPU | busiest server "
           "thread | other CPU | RSS/conn KiB | target |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const QString &name : std::as_const(runs->order)) {
        const QList<QJsonObject> &objects = runs->byScenario[name];
        const QString unit = objects.first().value(u"unit"_s).toString();
        out << "| " << name << " | " << objects.size() << " | " << cell(column(objects, u"rate"_s), 0) << ' ' << unit
            << " | " << cell(column(objects, u"p50_ms"_s), 2) << " | " << cell(column(objects, u"p99_ms"_s), 2)
            << " | " << errorCount(objects) << " | " << cell(column(objects, u"generator_cpu"_s), 2) << " | "
            << cell(column(objects, u"server_cpu"_s), 2) << " | "
            << cell(column(objects, u"server_busiest_thread"_s), 2) << " | "
            << cell(column(objects, u"other_cpu"_s), 2) << " | "
            << cell(column(objects, u"rss_per_conn_kb"_s), 1)
            << " | " << objects.first().value(u"note"_s).toString() << " |\n";
    }
    out.flush();
    return 0;
}

// Two files of JSON lines of the same matrix (before, after): one row per
// scenario with the medians of both and the change of the rate.
int printComparison(const QString &beforePath, const QString &afterPath)
{
    const std::optional<Runs> before = readRuns(beforePath);
    const std::optional<Runs> after = readRuns(afterPath);
    if (!before || !after)
        return 2;
    QStringList order = before->order;
    for (const QString &name : after->order) {
        if (!order.contains(name))
            order.append(name);
    }
    QTextStream out(stdout);
    out << "| scenario | rate before | rate after | change | p99 ms before | p99 ms after | errors before / after "
           "| server CPU before / after | target |\n"
        << "|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const QString &name : std::as_const(order)) {
        const QList<QJsonObject> was = before->byScenario.value(name);
        const QList<QJsonObject> is = after->byScenario.value(name);
        const QJsonObject any = is.isEmpty() ? was.first() : is.first();
        const QString unit = any.value(u"unit"_s).toString();
        const std::optional<double> rateBefore = column(was, u"rate"_s);
        const std::optional<double> rateAfter = column(is, u"rate"_s);
        const QString change = rateBefore && rateAfter && *rateBefore > 0
            ? QLocale::c().toString((*rateAfter / *rateBefore - 1) * 100, 'f', 0).prepend(*rateAfter >= *rateBefore ? u"+"_s : QString()) + u" %"_s
            : u"–"_s;
        out << "| " << name << " | " << cell(rateBefore, 0) << ' ' << unit << " | " << cell(rateAfter, 0) << ' '
            << unit << " | " << change << " | " << cell(column(was, u"p99_ms"_s), 2) << " | "
            << cell(column(is, u"p99_ms"_s), 2) << " | " << errorCount(was) << " / " << errorCount(is) << " | "
            << cell(column(was, u"server_cpu"_s), 2) << " / " << cell(column(is, u"server_cpu"_s), 2) << " | "
            << any.value(u"note"_s).toString() << " |\n";
    }
    out.flush();
    return 0;
}

} // namespace MailroomLoad
