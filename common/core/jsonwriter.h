#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QJsonValue>
#include <QString>
#include <QVarLengthArray>

// Compact JSON (RFC 8259) written straight into bytes, for the answers a
// server sends thousands of times a second (a folder listing): building a
// QJsonObject tree and serialising it cost more than the query behind it.
// The caller keeps the nesting right; strings are escaped as RFC 8259 §7
// asks, and everything else is UTF-8 as is.
class JsonWriter
{
public:
    // Room for about this many bytes, to spare regrowing a long answer.
    void reserve(qsizetype bytes) { m_out.reserve(bytes); }

    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    // In an object: the member's name, then its value.
    JsonWriter &key(QLatin1StringView name);

    JsonWriter &value(QStringView text);
    JsonWriter &value(const QString &text) { return value(QStringView(text)); }
    JsonWriter &value(qint64 number);
    JsonWriter &value(bool flag);
    JsonWriter &value(const char *) = delete; // would be taken as a bool
    JsonWriter &null();
    // "2026-11-22T20:02:18Z", as QDateTime::toString(Qt::ISODate) writes
    // a UTC time; an invalid time is null.
    JsonWriter &isoUtc(const QDateTime &time);
    // Anything else (an attachment list, say), through QJsonDocument.
    JsonWriter &value(const QJsonValue &json);

    [[nodiscard]] QByteArray take() { return std::move(m_out); }

private:
    void beforeValue();
    void open(char bracket);
    void close(char bracket);

    QByteArray m_out;
    // Per open object or array: nothing written in it yet.
    QVarLengthArray<bool, 8> m_empty;
    bool m_afterKey = false;
};
