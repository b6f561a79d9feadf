#pragma once

#include <QLoggingCategory>
#include <QObject>
#include <QTimer>

class QSslSocket;

// The TLS side of a server's connection, for every protocol: the server's
// handshake under a deadline, a failed one logged in the one form
// (logTlsHandshakeFailure), and a session that breaks later ended at once.
// On either failure failed() says so, then the socket is aborted (so the
// connection knows, when it hears of the disconnection, that it was ours).
class ServerTls : public QObject
{
    Q_OBJECT
public:
    enum class FirstByte {
        Any,
        // Handshake only once the client's first byte can begin one (a TLS
        // handshake record): anything else, plain HTTP say, is closed with
        // a line of its own instead of a TLS error (mailroom-webd's port).
        MustBeginHandshake,
    };

    // The peer's address and port are taken now: once the socket is
    // closed they are gone, and the log line needs them.
    ServerTls(QSslSocket *socket, int handshakeTimeoutMs, const QLoggingCategory &category, QString peerAddress,
              QObject *parent = nullptr);

    // Implicit TLS at once; STARTTLS after its reply was written.
    void startHandshake(FirstByte firstByte = FirstByte::Any);
    [[nodiscard]] bool isHandshaking() const { return m_deadline.isActive(); }

Q_SIGNALS:
    void established();
    void failed();

private:
    void checkFirstByte();
    void handshakeFailed(const QString &reason);

    QSslSocket *m_socket;
    const QLoggingCategory &m_category;
    QString m_peerAddress;
    quint16 m_peerPort = 0;
    QTimer m_deadline;
    bool m_awaitingFirstByte = false;
};
