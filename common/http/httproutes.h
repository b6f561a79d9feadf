#pragma once

// A route table for an HTTP API: each route states its method, its path
// pattern with typed parameters and its target once, and one lookup gives
// the target, 404 (no pattern matches) or 405 with the Allow list (RFC 9110
// §15.5.6: the methods of the routes whose pattern matches, in table order).
//
// Patterns are "/"-separated segments, each a literal or a parameter
// "{name:type}": "/api/v1/messages/{id:int}". Built-in types: int (a
// positive integer of at most 18 ASCII digits, so that an id of 0, -1 or
// 1e3 names nothing), index (0 or more, at most 6 ASCII digits); a table
// adds its own with addType(). A path matches segment by segment, exactly:
// a trailing slash is one more, empty, segment and matches nothing.

#include <QByteArray>
#include <QByteArrayList>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <functional>
#include <optional>
#include <utility>

// A positive integer of at most 18 ASCII digits (the int type of a path
// parameter): what names an id in a path or a query.
[[nodiscard]] std::optional<qint64> httpPositiveInteger(QStringView text);

// The parameters of a matched path, by name.
class HttpPathParameters
{
public:
    [[nodiscard]] QString value(QStringView name) const;
    // An int or index parameter's value.
    [[nodiscard]] qint64 number(QStringView name) const { return value(name).toLongLong(); }
    void insert(const QString &name, const QString &value) { m_values.append({name, value}); }

    friend bool operator==(const HttpPathParameters &, const HttpPathParameters &) = default;

private:
    QList<std::pair<QString, QString>> m_values;
};

class HttpPathPattern
{
public:
    // Whether a segment is a value of the type.
    using Type = std::function<bool(QStringView)>;
    using Types = QHash<QString, Type>;

    [[nodiscard]] static Types builtInTypes();
    // The segments of a (percent-decoded) request path: "/a/b/" gives a, b and "".
    [[nodiscard]] static QStringList segments(QStringView path);

    // An unknown type or a malformed parameter makes the pattern invalid,
    // and an invalid pattern matches nothing.
    HttpPathPattern(QStringView pattern, const Types &types);

    [[nodiscard]] bool isValid() const { return m_valid; }
    [[nodiscard]] bool match(const QStringList &segments, HttpPathParameters *parameters) const;

private:
    struct Segment
    {
        QString literal;
        QString name; // a parameter's, empty for a literal
        Type type;
    };
    QList<Segment> m_segments;
    bool m_valid = true;
};

template<typename Target>
class HttpRouteTable
{
public:
    struct Match
    {
        const Target *target = nullptr; // null: 404, or 405 when allowed is not empty
        HttpPathParameters parameters;
        QByteArray allowed; // "GET, PATCH, DELETE"
    };

    HttpRouteTable()
        : m_types(HttpPathPattern::builtInTypes())
    {
    }

    // Types are given before the routes that use them.
    void addType(const QString &name, HttpPathPattern::Type type) { m_types.insert(name, std::move(type)); }

    // false (and no route) when the pattern is invalid.
    bool add(const QByteArray &method, QStringView pattern, Target target)
    {
        HttpPathPattern compiled(pattern, m_types);
        if (!compiled.isValid())
            return false;
        m_routes.append(Route{method, std::move(compiled), std::move(target)});
        return true;
    }

    [[nodiscard]] Match match(const QByteArray &method, QStringView path) const
    {
        const QStringList segments = HttpPathPattern::segments(path);
        Match result;
        QByteArrayList allowed;
        for (const Route &route : m_routes) {
            HttpPathParameters parameters;
            if (!route.pattern.match(segments, &parameters))
                continue;
            if (route.method == method) {
                result.target = &route.target;
                result.parameters = std::move(parameters);
                return result;
            }
            if (!allowed.contains(route.method))
                allowed.append(route.method);
        }
        result.allowed = allowed.join(", ");
        return result;
    }

private:
    struct Route
    {
        QByteArray method;
        HttpPathPattern pattern;
        Target target;
    };

    HttpPathPattern::Types m_types;
    QList<Route> m_routes;
};
