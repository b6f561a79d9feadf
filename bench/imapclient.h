#pragma once

// The IMAP side of mailroom-load: one client connection to mailroom-imapd,
// one command at a time, driven by the server's responses. Responses are
// framed with the project's own reader of IMAP lines and literals
// (CommandLineBuffer, ImapCommandReader::literalMarker): a literal {N} is
// taken by its count, whatever bytes it holds, and a command ends at the
// tagged line with its own tag. Of the untagged responses only what the
// loads need is read: EXISTS, EXPUNGE, FETCH and the greeting's capabilities.

#include "commandlinebuffer.h"
#include "loadcommon.h"

#include <QByteArray>
#include <QObject>

class QSslSocket;

namespace MailroomLoad {

struct ImapClientOptions
{
    bool implicitTls = true; // false: STARTTLS on the plain port
    QByteArray user;
    QByteArray password;
};

// The end of one command: its tagged status and what came meanwhile.
struct ImapReply
{
    QByteArray status; // OK, NO or BAD
    QByteArray text;   // the rest of the tagged line (response code and text)
    int fetches = 0;   // "* n FETCH" responses
    int expunges = 0;  // "* n EXPUNGE" responses
    qint64 literalBytes = 0;
    [[nodiscard]] bool ok() const { return status == "OK"; }
};

class ImapClient;

// What a run learns from its IMAP connections.
class ImapObserver
{
public:
    virtual ~ImapObserver() = default;
    // Greeting, TLS and LOGIN done.
    virtual void sessionReady(ImapClient *client, qint64 setupNs) = 0;
    // The tagged completion of the last command(), `latencyNs` after it was sent.
    virtual void commandDone(ImapClient *client, const ImapReply &reply, qint64 latencyNs) = 0;
    // IDLE accepted ("+"): updates come as they happen from now on.
    virtual void idling(ImapClient *) { }
    // "* n EXISTS", whenever it comes.
    virtual void existsChanged(ImapClient *, qint64) { }
    // Once per connection: after LOGOUT, or on the first error (`error` set).
    virtual void sessionFinished(ImapClient *client, const QString &error) = 0;
};

class ImapClient : public QObject
{
public:
    ImapClient(QObject *parent, int id, const ImapClientOptions &options, ImapObserver *observer);

    void start(const Common &common);
    // Ready only: sends "TAG text", or with a literal "TAG text {N+}" and its
    // bytes (a synchronizing "{N}" waits for the server's "+" when it does
    // not offer LITERAL+). commandDone() follows.
    void command(const QByteArray &text, const QByteArray &literal = {});
    // Ready only: IDLE; idling() once the server accepts it.
    void idle();
    // Idling only: DONE; commandDone() with IDLE's completion follows.
    void endIdle();
    void logout();
    void abort(const QString &reason) { fail(reason); }

    [[nodiscard]] int id() const { return m_id; }
    [[nodiscard]] bool reachedReady() const { return m_reachedReady; }
    // The message count of the selected folder as the server last said it.
    [[nodiscard]] qint64 exists() const { return m_exists; }

private:
    enum class State { Idle, Connecting, Handshake, Greeting, StartTls, Login, Ready, Command, IdleStart, Idling, Logout, Done, Failed };

    void onEncrypted();
    void onReadyRead();
    void handle(const QByteArray &line);
    void untagged(const QByteArray &line);
    void tagged(const QByteArray &status, const QByteArray &text);
    void sendCommand(const QByteArray &text);
    void send(const QByteArray &bytes);
    void login();
    void closed(const QString &error);
    void finished();
    void fail(const QString &error);

    int m_id = 0;
    const ImapClientOptions &m_options;
    ImapObserver *m_observer = nullptr;
    QSslSocket *m_socket = nullptr;
    State m_state = State::Idle;
    // Lines up to 1 MiB, literals up to 64 MiB: far above anything these loads fetch.
    CommandLineBuffer m_input{1024 * 1024, 64 * 1024 * 1024};
    QByteArray m_response; // the first line of the response being read (its kind)
    bool m_inResponse = false;
    QByteArray m_tag;
    qint64 m_tagNumber = 0;
    QByteArray m_pendingLiteral; // a synchronizing literal waiting for "+"
    bool m_literalPlus = false;
    ImapReply m_reply;
    qint64 m_exists = 0;
    qint64 m_startNs = 0;
    qint64 m_sentNs = 0;
    bool m_reachedReady = false;
};

} // namespace MailroomLoad
