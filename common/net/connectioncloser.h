#pragma once

#include <QObject>
#include <QTimer>

class QAbstractSocket;

// How every server (SessionConnection, WebConnection) closes its side of a
// connection without losing its last answer, and without being held open by
// a client that does not read it. Lives on the connection's thread.
class ConnectionCloser : public QObject
{
    Q_OBJECT
public:
    explicit ConnectionCloser(QAbstractSocket *socket, QObject *parent = nullptr);

    // The client is done (QUIT, "Connection: close", a timeout answered):
    // closed once the last answer is written.
    void closeAfterWrite();
    // Closing on our own while the client may still be sending (an error
    // answer to an upload, a timeout, shutdown). A socket closed with unread
    // input is reset by the kernel, and the reset can destroy the last answer
    // before the client reads it (RFC 9112 §9.6): what still comes is read
    // and dropped until the client has been quiet for a moment, then closed.
    void closeLingering();

    [[nodiscard]] bool isLingering() const { return m_lingering; }
    // While lingering, instead of reading: drops what arrived.
    void discardInput();
    // Bytes of ours left the socket: a client that reads gets more time.
    void progressed();

    static constexpr int GraceMs = 5000;
    static constexpr int LingerQuietMs = 1000;
    // Dropped input is bounded in bytes as well as in time.
    static constexpr qint64 LingerMaxBytes = 32 * 1024 * 1024;

private:
    void stopLingering();

    QAbstractSocket *m_socket;
    // A few seconds without progress once closing, then a reset.
    QTimer m_graceTimer;
    QTimer m_quietTimer;
    qint64 m_discarded = 0;
    bool m_lingering = false;
};
