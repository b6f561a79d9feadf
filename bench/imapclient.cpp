#include "imapclient.h"

#include "imapcommandreader.h"

#include <QSslSocket>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

namespace {

// A quoted string (RFC 9051 quoted): LOGIN's name and password.
QByteArray quoted(const QByteArray &text)
{
    QByteArray out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

// The first word of `text` from `from` on, and where the next one starts.
QByteArrayView wordAt(const QByteArray &text, qsizetype from, qsizetype *next)
{
    qsizetype end = text.indexOf(' ', from);
    if (end < 0)
        end = text.size();
    *next = end + 1;
    return QByteArrayView(text).sliced(std::min(from, text.size()), std::max<qsizetype>(0, end - from));
}

} // namespace

ImapClient::ImapClient(QObject *parent, int id, const ImapClientOptions &options, ImapObserver *observer)
    : QObject(parent)
    , m_id(id)
    , m_options(options)
    , m_observer(observer)
{
}

void ImapClient::start(const Common &common)
{
    m_startNs = nowNs();
    m_socket = clientSocket(this, common, [this](const QString &error) { closed(error); });
    connect(m_socket, &QSslSocket::connected, this, [this] {
        // Implicit TLS: the handshake, then the greeting.
        m_state = m_options.implicitTls ? State::Handshake : State::Greeting;
    });
    connect(m_socket, &QSslSocket::readyRead, this, &ImapClient::onReadyRead);
    connect(m_socket, &QSslSocket::encrypted, this, &ImapClient::onEncrypted);
    m_state = State::Connecting;
    if (m_options.implicitTls)
        m_socket->connectToHostEncrypted(common.host, common.port);
    else
        m_socket->connectToHost(common.host, common.port);
}

void ImapClient::command(const QByteArray &text, const QByteArray &literal)
{
    if (m_state != State::Ready)
        return;
    m_state = State::Command;
    m_reply = ImapReply();
    if (literal.isEmpty())
        return sendCommand(text);
    const QByteArray size = QByteArray::number(literal.size());
    if (m_literalPlus)
        return sendCommand(text + " {" + size + "+}\r\n" + literal);
    m_pendingLiteral = literal + "\r\n";
    sendCommand(text + " {" + size + '}');
}

void ImapClient::idle()
{
    if (m_state != State::Ready)
        return;
    m_state = State::IdleStart;
    m_reply = ImapReply();
    sendCommand("IDLE");
}

void ImapClient::endIdle()
{
    if (m_state != State::Idling)
        return;
    m_state = State::Command; // IDLE's tagged completion comes next
    m_sentNs = nowNs();
    send("DONE\r\n");
}

void ImapClient::logout()
{
    if (m_state != State::Ready)
        return;
    m_state = State::Logout;
    sendCommand("LOGOUT");
}

void ImapClient::sendCommand(const QByteArray &text)
{
    m_tag = 'a' + QByteArray::number(++m_tagNumber);
    m_sentNs = nowNs();
    send(m_tag + ' ' + text + "\r\n");
}

void ImapClient::send(const QByteArray &bytes)
{
    m_socket->write(bytes);
    m_socket->flush(); // to the kernel now, as SmtpClient::send does
}

void ImapClient::onEncrypted()
{
    if (m_state != State::Handshake)
        return;
    if (m_options.implicitTls) {
        m_state = State::Greeting;
        // The greeting may have come with the end of the handshake.
        if (m_socket->bytesAvailable() > 0)
            onReadyRead();
        return;
    }
    login();
}

void ImapClient::login()
{
    m_state = State::Login;
    sendCommand("LOGIN " + quoted(m_options.user) + ' ' + quoted(m_options.password));
}

// Responses are framed line by line; a line that ends in a literal marker
// goes on after the literal's bytes, taken by their count. Only the first
// line of a response says what it is.
void ImapClient::onReadyRead()
{
    m_input.append(m_socket->readAll());
    while (m_state != State::Done && m_state != State::Failed) {
        if (m_input.isInLiteral()) {
            const std::optional<QByteArray> literal = m_input.takeLiteral();
            if (!literal)
                return;
            m_reply.literalBytes += literal->size();
            continue;
        }
        std::optional<CommandLineBuffer::Line> line = m_input.takeLine();
        if (!line)
            return;
        if (line->tooLong)
            return fail(u"a response line over 1 MiB"_s);
        if (const auto marker = ImapCommandReader::literalMarker(line->text)) {
            if (marker->size < 0 || !marker->synchronizing)
                return fail(u"a bad literal marker: "_s + QString::fromLatin1(line->text.right(40)));
            if (m_input.expectLiteral(qsizetype(marker->size)) != CommandLineBuffer::LiteralStart::Accepted)
                return fail(u"a literal over 64 MiB"_s);
            if (!m_inResponse)
                m_response = std::move(line->text);
            m_inResponse = true;
            continue;
        }
        if (!m_inResponse)
            m_response = std::move(line->text);
        m_inResponse = false;
        handle(m_response);
    }
}

void ImapClient::handle(const QByteArray &line)
{
    if (line.startsWith('+')) {
        if (m_state == State::Command && !m_pendingLiteral.isEmpty()) {
            send(std::exchange(m_pendingLiteral, {}));
            return;
        }
        if (m_state == State::IdleStart) {
            m_state = State::Idling;
            m_observer->idling(this);
            return;
        }
        return fail(u"an unexpected continuation: "_s + QString::fromLatin1(line.left(120)));
    }
    if (line.startsWith("* "))
        return untagged(line);
    qsizetype next = 0;
    const QByteArrayView tag = wordAt(line, 0, &next);
    const bool waiting = m_state == State::StartTls || m_state == State::Login || m_state == State::Command
        || m_state == State::IdleStart || m_state == State::Idling || m_state == State::Logout;
    if (!waiting || tag != m_tag)
        return fail(u"an unexpected response: "_s + QString::fromLatin1(line.left(120)));
    const QByteArray status = wordAt(line, next, &next).toByteArray().toUpper();
    if (status != "OK" && status != "NO" && status != "BAD")
        return fail(u"a tagged response without OK, NO or BAD: "_s + QString::fromLatin1(line.left(120)));
    tagged(status, line.mid(next));
}

void ImapClient::untagged(const QByteArray &line)
{
    if (m_state == State::Greeting) {
        if (!line.startsWith("* OK"))
            return fail(u"greeting: "_s + QString::fromLatin1(line.left(120)));
        m_literalPlus = line.contains(" LITERAL+");
        if (m_options.implicitTls)
            return login();
        m_state = State::StartTls;
        sendCommand("STARTTLS");
        return;
    }
    qsizetype next = 0;
    const QByteArrayView first = wordAt(line, 2, &next);
    bool isNumber = false;
    const qint64 number = first.toLongLong(&isNumber);
    if (!isNumber)
        return; // OK, BYE, FLAGS, CAPABILITY, LIST, SEARCH...: nothing the loads need
    const QByteArrayView kind = wordAt(line, next, &next);
    if (kind == "EXISTS") {
        m_exists = number;
        m_observer->existsChanged(this, number);
    } else if (kind == "EXPUNGE") {
        --m_exists;
        ++m_reply.expunges;
    } else if (kind == "FETCH") {
        ++m_reply.fetches;
    }
}

void ImapClient::tagged(const QByteArray &status, const QByteArray &text)
{
    const qint64 latency = nowNs() - m_sentNs;
    switch (m_state) {
    case State::StartTls:
        if (status != "OK")
            return fail(u"STARTTLS: "_s + QString::fromLatin1(status + ' ' + text));
        // Nothing may follow the OK in plaintext (RFC 9051 §11.1).
        if (!m_input.isEmpty() || m_socket->bytesAvailable() > 0)
            return fail(u"plaintext after the STARTTLS OK"_s);
        m_state = State::Handshake;
        m_socket->startClientEncryption();
        return;
    case State::Login:
        if (status != "OK")
            return fail(u"LOGIN: "_s + QString::fromLatin1(status + ' ' + text));
        m_state = State::Ready;
        m_reachedReady = true;
        m_observer->sessionReady(this, nowNs() - m_startNs);
        return;
    case State::Logout:
        return finished();
    case State::Command:
    case State::IdleStart: // IDLE refused
    case State::Idling: {  // the server ended IDLE itself
        m_state = State::Ready;
        m_pendingLiteral.clear();
        ImapReply reply = std::exchange(m_reply, ImapReply());
        reply.status = status;
        reply.text = text;
        m_observer->commandDone(this, reply, latency);
        return;
    }
    case State::Idle:
    case State::Connecting:
    case State::Handshake:
    case State::Greeting:
    case State::Ready:
    case State::Done:
    case State::Failed:
        return;
    }
}

// The server closed the connection, or it failed. What came before is read
// first: Qt reports a TLS close_notify that arrived with the last records
// before their data (a busy client meets this after LOGOUT). After LOGOUT
// a close is the end (RFC 9051 §6.1.3), the tagged OK read or not.
void ImapClient::closed(const QString &error)
{
    if (m_state != State::Done && m_state != State::Failed && m_socket->bytesAvailable() > 0)
        onReadyRead();
    if (m_state == State::Logout)
        return finished();
    fail(error);
}

void ImapClient::finished()
{
    m_state = State::Done;
    m_socket->disconnectFromHost();
    m_observer->sessionFinished(this, QString());
}

void ImapClient::fail(const QString &error)
{
    if (m_state == State::Done || m_state == State::Failed)
        return;
    m_state = State::Failed;
    if (m_socket)
        m_socket->abort();
    m_observer->sessionFinished(this, error);
}

} // namespace MailroomLoad
