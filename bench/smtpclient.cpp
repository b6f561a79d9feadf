#include "smtpclient.h"

#include "smtpdotstuffing.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>
#include <QSslSocket>

using namespace Qt::StringLiterals;

namespace MailroomLoad {

MessageFactory::MessageFactory(const SmtpOptions &options, Format format)
    : m_options(options)
    , m_format(format)
    , m_date(QLocale::c().toString(QDateTime::currentDateTimeUtc(), u"ddd, dd MMM yyyy hh:mm:ss"_s).toLatin1()
             + " +0000")
    , m_runId(QByteArray::number(QCoreApplication::applicationPid()) + '.'
              + QByteArray::number(QDateTime::currentMSecsSinceEpoch()))
{
    const QByteArray words = "the quick brown fox jumps over the lazy dog while mailroom counts every byte ";
    while (m_text.size() < LineLength + 1)
        m_text += words;
    m_dotted = '.' + m_text.mid(1);
}

void MessageFactory::build(QByteArray &wire, int connection, qint64 sequence) const
{
    wire.clear();
    wire.reserve(m_options.size + m_options.size / 40 + 64);
    const QByteArray tag = QByteArray::number(connection) + '.' + QByteArray::number(sequence);
    // No header line begins with a dot: they need no stuffing.
    wire += "From: <" + m_options.from + ">\r\nTo: <" + m_options.to + ">\r\nSubject: mailroom-load " + tag
        + "\r\nDate: " + m_date + "\r\nMessage-ID: <" + tag + '.' + m_runId
        + "@mailroom-load.invalid>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    // Unstuffed bytes still to add; the dots added by stuffing don't count.
    qsizetype remaining = m_options.size - wire.size();
    if (remaining <= 0)
        remaining = 2; // one empty body line: as small as a valid message gets
    qsizetype full = remaining / (LineLength + 2);
    qsizetype rest = remaining % (LineLength + 2);
    qsizetype longLine = 0; // a one-byte rest goes into one line a byte longer
    if (rest == 1 && full > 0) {
        longLine = 1;
        rest = 0;
    } else if (rest == 1) {
        rest = 2;
    }
    for (qsizetype i = 0; i < full; ++i)
        appendLine(wire, i, LineLength + (i == 0 ? longLine : 0));
    if (rest >= 2)
        appendLine(wire, full, rest - 2);
    if (m_format == Format::SmtpData)
        wire += SmtpDotStuffing::EndOfData;
}

void MessageFactory::appendLine(QByteArray &wire, qsizetype index, qsizetype length) const
{
    // Every 16th line starts with a dot, for the server to unstuff.
    const QByteArrayView line = length > 0 && index % 16 == 3 ? QByteArrayView(m_dotted).first(length)
                                                               : QByteArrayView(m_text).sliced(index % 7, length);
    if (m_format == Format::Raw)
        wire.append(line).append("\r\n");
    else
        SmtpDotStuffing::appendLine(wire, line);
}

QJsonObject PhaseLog::percentiles(double percent)
{
    QJsonObject object;
    for (size_t phase = 0; phase < PhaseCount; ++phase) {
        if (!samples[phase].empty())
            object.insert(QString::fromUtf16(Names[phase]), rounded(percentileMs(samples[phase], percent), 3));
    }
    return object;
}


void SmtpClient::start(const Common &common)
{
    m_startNs = nowNs();
    m_socket = clientSocket(this, common, [this](const QString &error) { fail(error); });
    connect(m_socket, &QSslSocket::connected, this, [this] {
        // Implicit TLS: the handshake, then the greeting.
        setState(m_options.implicitTls ? State::Handshake : State::Greeting);
    });
    connect(m_socket, &QSslSocket::readyRead, this, &SmtpClient::onReadyRead);
    connect(m_socket, &QSslSocket::encrypted, this, &SmtpClient::onEncrypted);
    m_stateSinceNs = m_startNs;
    m_state = State::Connecting;
    if (m_options.implicitTls)
        m_socket->connectToHostEncrypted(common.host, common.port);
    else
        m_socket->connectToHost(common.host, common.port);
}


void SmtpClient::begin()
{
    if (m_state == State::Ready)
        sendTransaction();
}


void SmtpClient::quit()
{
    if (m_state == State::Holding)
        sendQuit();
}


void SmtpClient::setState(State state)
{
    const qint64 now = nowNs();
    if (const int phase = phaseOf(m_state); phase >= 0 && state != State::Failed)
        m_phases->samples[size_t(phase)].push_back(now - m_stateSinceNs);
    m_stateSinceNs = now;
    m_state = state;
}


int SmtpClient::phaseOf(State state)
{
    switch (state) {
    case State::Connecting:
        return PhaseLog::Connect;
    case State::Greeting:
        return PhaseLog::Greeting;
    case State::Ehlo:
        return PhaseLog::Ehlo;
    case State::StartTls:
        return PhaseLog::StartTls;
    case State::Handshake:
        return PhaseLog::TlsHandshake;
    case State::EhloTls:
        return PhaseLog::EhloTls;
    case State::Auth:
        return PhaseLog::Auth;
    case State::Mail:
        return PhaseLog::Mail;
    case State::Rcpt:
        return PhaseLog::Rcpt;
    case State::Data:
        return PhaseLog::Data;
    default:
        return -1;
    }
}


void SmtpClient::send(const QByteArray &bytes)
{
    m_socket->write(bytes);
    // Hand the bytes to the kernel now rather than on a later event-loop
    // pass: lower latency, fewer wake-ups (flush never blocks).
    m_socket->flush();
}


void SmtpClient::onEncrypted()
{
    if (m_state != State::Handshake)
        return;
    if (m_options.implicitTls) {
        setState(State::Greeting);
        // The greeting may have come with the end of the handshake.
        if (m_socket->bytesAvailable() > 0)
            onReadyRead();
        return;
    }
    setState(State::EhloTls);
    send("EHLO " + m_options.ehloName + "\r\n");
}


void SmtpClient::onReadyRead()
{
    m_replies.append(m_socket->readAll());
    while (m_state != State::Done && m_state != State::Failed) {
        const std::optional<SmtpReply> reply = m_replies.next();
        if (!reply)
            break;
        handle(*reply);
    }
    if (m_replies.hasError())
        fail(m_replies.errorString());
}


void SmtpClient::unexpected(const char *step, const SmtpReply &reply)
{
    fail(u"unexpected reply to %1: %2"_s.arg(QString::fromLatin1(step), reply.toString().left(120)));
}


void SmtpClient::afterEhlo(const SmtpReply &reply, bool encrypted)
{
    if (reply.code != 250)
        return unexpected("EHLO", reply);
    if (!encrypted && m_options.starttls) {
        setState(State::StartTls);
        send("STARTTLS\r\n");
    } else if (m_options.idle) {
        setState(State::Holding);
        m_reachedReady = true;
        m_observer->sessionReady(this, nowNs() - m_startNs);
    } else if (!m_options.authPlain.isEmpty()) {
        setState(State::Auth);
        send("AUTH PLAIN " + m_options.authPlain + "\r\n");
    } else {
        becomeReady();
    }
}


void SmtpClient::becomeReady()
{
    setState(State::Ready);
    m_reachedReady = true;
    m_observer->sessionReady(this, nowNs() - m_startNs);
}


void SmtpClient::handle(const SmtpReply &reply)
{
    switch (m_state) {
    case State::Greeting:
        if (reply.code != 220)
            return unexpected("the greeting", reply);
        setState(State::Ehlo);
        send("EHLO " + m_options.ehloName + "\r\n");
        return;
    case State::Ehlo:
        return afterEhlo(reply, m_options.implicitTls);
    case State::StartTls:
        if (reply.code != 220)
            return unexpected("STARTTLS", reply);
        // Nothing may follow the 220 in plaintext: it would be read as if
        // it came over TLS (STARTTLS injection, RFC 3207 §5).
        if (m_replies.bufferedBytes() > 0 || m_socket->bytesAvailable() > 0)
            return fail(u"plaintext after the STARTTLS 220 reply"_s);
        setState(State::Handshake);
        m_socket->startClientEncryption();
        return;
    case State::EhloTls:
        return afterEhlo(reply, true);
    case State::Auth:
        if (reply.code != 235)
            return unexpected("AUTH PLAIN", reply);
        return becomeReady();
    case State::Mail:
        if (reply.code != 250)
            return unexpected("MAIL", reply);
        setState(State::Rcpt);
        if (!m_options.pipelining)
            send("RCPT TO:<" + m_options.to + ">\r\n");
        return;
    case State::Rcpt:
        if (reply.code != 250)
            return unexpected("RCPT", reply);
        setState(State::Data);
        if (!m_options.pipelining)
            send("DATA\r\n");
        return;
    case State::Data:
        if (reply.code != 354)
            return unexpected("DATA", reply);
        setState(State::Body);
        m_factory.build(m_wire, m_id, m_sequence++);
        send(m_wire);
        m_endOfDataNs = nowNs();
        return;
    case State::Body:
        if (reply.code != 250)
            return unexpected("the end of data", reply);
        ++m_delivered;
        m_observer->messageDone(this, nowNs() - m_endOfDataNs);
        if (m_state != State::Body)
            return; // the run ended meanwhile
        if (m_delivered < m_options.messagesPerConnection)
            sendTransaction();
        else
            sendQuit();
        return;
    case State::Quit:
        if (reply.code != 221)
            return unexpected("QUIT", reply);
        setState(State::Done);
        m_socket->disconnectFromHost();
        m_observer->sessionFinished(this, QString());
        return;
    case State::Idle:
    case State::Connecting:
    case State::Handshake:
    case State::Ready:
    case State::Holding:
    case State::Done:
    case State::Failed:
        return unexpected("nothing", reply);
    }
}


void SmtpClient::sendTransaction()
{
    setState(State::Mail);
    const QByteArray mail
        = "MAIL FROM:<" + m_options.from + "> SIZE=" + QByteArray::number(m_options.size) + "\r\n";
    if (m_options.pipelining) // RFC 2920: DATA ends the group
        send(mail + "RCPT TO:<" + m_options.to + ">\r\nDATA\r\n");
    else
        send(mail);
}


void SmtpClient::sendQuit()
{
    setState(State::Quit);
    send("QUIT\r\n");
}


void SmtpClient::fail(const QString &error)
{
    if (m_state == State::Done || m_state == State::Failed)
        return;
    setState(State::Failed);
    m_socket->abort();
    m_observer->sessionFinished(this, error);
}

} // namespace MailroomLoad
