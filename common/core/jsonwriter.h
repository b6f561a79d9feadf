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
    void reserve(qsizetype bytes);

    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    // In an object: the member's name, then its value.
    JsonWriter &key(QLatin1StringView name);

    JsonWriter &value(QStringView text);
    JsonWriter &value(const QString &text) { return value(QStringView(text)); }
    // Text already in UTF-8.
    JsonWriter &utf8Value(QByteArrayView text);
    JsonWriter &value(qint64 number);
    JsonWriter &value(bool flag);
    JsonWriter &value(const char *) = delete; // would be taken as a bool
    JsonWriter &null();
    // "2026-11-22T20:02:18Z", as QDateTime::toString(Qt::ISODate) writes
    // a UTC time; an invalid time is null.
    JsonWriter &isoUtc(const QDateTime &time);
    // Anything else (an attachment list, say), through QJsonDocument.
    JsonWriter &value(const QJsonValue &json);

    // The JSON written; the writer is empty again.
    [[nodiscard]] QByteArray take();

private:
    void beforeValue();
    void open(char bracket);
    void close(char bracket);
    // Writes go straight into m_out's bytes, m_size of them used so far:
    // QByteArray::append checks and regrows on every call, which was most
    // of a listing's writing.
    char *room(qsizetype bytes)
    {
        if (m_out.size() - m_size < bytes)
            grow(bytes);
        return m_out.data() + m_size;
    }
    void grow(qsizetype bytes);
    void put(char c)
    {
        *room(1) = c;
        ++m_size;
    }
    void put(const char *bytes, qsizetype count);
    void putRaw(QByteArrayView bytes) { put(bytes.data(), bytes.size()); }
    void putEscaped(QByteArrayView utf8);

    QByteArray m_out;
    qsizetype m_size = 0;
    // Per open object or array: nothing written in it yet.
    QVarLengthArray<bool, 8> m_empty;
    bool m_afterKey = false;
};
