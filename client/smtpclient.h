#pragma once

#include "clienterror.h"
#include "serverendpoint.h"
#include "smtpdialogue.h"

#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>

class QSslSocket;
class ServerTrust;

// The account a submission logs in as (RFC 4954 AUTH PLAIN).
struct SmtpCredentials
{
    QString username;
    QString password;
};

// One SMTP conversation on its own connection: connect, the greeting, EHLO,
// STARTTLS with the server trust's verdict, EHLO, AUTH, the operation's
// commands, QUIT. Exactly one of succeeded() or failed() is emitted, then the
// job deletes itself. The socket is driven by signals and one timer; nothing
// waits.
class SmtpJob : public QObject
{
    Q_OBJECT
public:
    [[nodiscard]] const ServerEndpoint &server() const { return m_server; }
    // Ends the conversation at once (the connection is reset: a message
    // whose DATA is not complete is not stored); neither succeeded() nor
    // failed() comes after it. For a session that ended meanwhile.
    void cancel();

Q_SIGNALS:
    // The operation's last reply, e.g. "250 2.0.0 OK: queued as 12".
    void succeeded(const SmtpReply &reply);
    void failed(const ClientError &error);
    // DATA: `written` of the payload's `total` bytes have gone to TLS.
    void progress(qint64 written, qint64 total);
    // The SIZE (RFC 1870) the server announced over TLS; 0: no fixed limit.
    void maxMessageSizeKnown(qint64 bytes);

private:
    friend class SmtpClient;
    SmtpJob(const ServerEndpoint &server, ServerTrust *trust, SmtpDialogue dialogue, const QString &heloName,
            int timeoutMs, QObject *parent);
    enum class Close { Gracefully, Abort };

    void start();
    void onReadyRead();
    void onEncrypted();
    void onSslErrors(const QList<QSslError> &errors);
    void onSocketError();
    void handle(const SmtpDialogue::Events &events);
    // Writes the DATA payload a piece at a time, as TLS takes it, so that
    // neither the socket's buffers hold a second copy of a large message
    // nor the progress runs ahead of the network.
    void writePayload();
    void onBytesWritten(qint64 bytes);
    // Emits failed() for an error (once), then closes and deletes the job.
    void finish(const std::optional<ClientError> &error, Close close);

    ServerEndpoint m_server;
    QString m_heloName;
    QPointer<ServerTrust> m_trust;
    SmtpDialogue m_dialogue;
    QSslSocket *m_socket = nullptr;
    QTimer m_timer;
    std::optional<ClientError> m_trustRefusal;
    std::optional<ClientError> m_refusal; // a request refused before connecting
    bool m_done = false;    // succeeded() or failed() was emitted
    bool m_closing = false;
    bool m_cancelled = false; // cancel(): nothing more is written or reported
    QByteArray m_payload;          // the DATA payload while it is being written
    qsizetype m_payloadQueued = 0; // of it, handed to the socket
    qint64 m_payloadWritten = -1;  // of it, taken by TLS; -1 before DATA's 354
    qint64 m_payloadTotal = 0;
    qint64 m_maxMessageSize = -1;  // as last reported
};

// Makes SmtpJobs for one mailroom-smtpd: the seed's PING, REG and GETUSER,
// and message submission. Jobs run independently, each on its own connection.
class SmtpClient : public QObject
{
    Q_OBJECT
public:
    SmtpClient(const ServerEndpoint &server, ServerTrust *trust, QObject *parent = nullptr);

    [[nodiscard]] const ServerEndpoint &server() const { return m_server; }
    // The longest wait for a connection, a handshake or any one reply.
    void setTimeout(int milliseconds) { m_timeoutMs = milliseconds; }
    // EHLO's argument (one word; anything from the first space or control
    // character on is dropped); by default the local address as a literal.
    void setHeloName(const QString &name)
    {
        qsizetype end = 0;
        while (end < name.size() && name.at(end).unicode() > 0x20 && name.at(end).unicode() != 0x7f)
            ++end;
        m_heloName = name.left(end);
    }

    [[nodiscard]] SmtpJob *ping();
    // REG: creates the account (no login needed, but TLS is).
    [[nodiscard]] SmtpJob *registerAccount(const QString &username, const QString &password);
    // GETUSER: the reply's text is "<id> <user>@<domain>".
    [[nodiscard]] SmtpJob *lookUpUser(const SmtpCredentials &credentials, const QString &name);
    // MAIL FROM, RCPT TO for each recipient, DATA with `message` (any line
    // ends; dot-stuffed here). A rejected recipient fails the whole job:
    // nothing is sent to the others either. A message larger than the
    // server's SIZE fails before MAIL FROM with a sentence giving both sizes.
    [[nodiscard]] SmtpJob *send(const SmtpCredentials &credentials, const QString &sender,
                                const QStringList &recipients, const QByteArray &message);
    // The same with the message already made into SmtpDialogue::dataPayload()
    // and its SmtpDialogue::messageSize() (work for another thread when the
    // message is large).
    [[nodiscard]] SmtpJob *sendPayload(const SmtpCredentials &credentials, const QString &sender,
                                       const QStringList &recipients, const QByteArray &payload, qint64 size);

    // The SIZE limit the server announced (over TLS) in the latest
    // conversation: 0 while unknown or when it has no fixed limit.
    [[nodiscard]] qint64 maxMessageSize() const { return m_maxMessageSize; }

Q_SIGNALS:
    void maxMessageSizeChanged();

private:
    SmtpJob *start(const SmtpCredentials &credentials, QList<SmtpStep> steps, QByteArray message = {});

    ServerEndpoint m_server;
    QPointer<ServerTrust> m_trust;
    QString m_heloName; // empty: our address as a literal
    int m_timeoutMs = 60000;
    qint64 m_maxMessageSize = 0;
};

namespace DataSize {
// "512 bytes", "1.5 KB", "27.4 MB" (units of 1024, one decimal, ".0" left out).
[[nodiscard]] QString format(qint64 bytes);
// "The message is 27.4 MB; the server accepts at most 25 MB." (exact byte
// counts when both would read the same).
[[nodiscard]] QString tooLargeMessage(qint64 size, qint64 limit);
} // namespace DataSize
