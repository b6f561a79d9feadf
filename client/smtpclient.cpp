#include "smtpclient.h"

#include "clientlogging.h"
#include "servertrust.h"
#include "smtpcodes.h"
#include "smtppath.h"

#include <QHostAddress>
#include <QSslCipher>
#include <QSslSocket>

using namespace Qt::StringLiterals;

namespace {

// RFC 5321 §4.1.3: our end's address as an address literal, since a desktop
// rarely has a domain name of its own.
QString addressLiteral(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4)
        return u'[' + QHostAddress(v4).toString() + u']';
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        QHostAddress withoutScope = address;
        withoutScope.setScopeId({}); // "%eth0" is not part of an RFC 5321 address literal
        return u"[IPv6:"_s + withoutScope.toString() + u']';
    }
    return u"[127.0.0.1]"_s;
}

} // namespace

SmtpJob::SmtpJob(const ServerEndpoint &server, ServerTrust *trust, SmtpDialogue dialogue, const QString &heloName,
                 int timeoutMs, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_heloName(heloName)
    , m_trust(trust)
    , m_dialogue(std::move(dialogue))
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(timeoutMs);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        qCInfo(lcClient).noquote() << "smtp" << m_server.toString() << "timed out";
        finish(ClientError::timeout(m_server), Close::Abort);
    });
}

void SmtpJob::start()
{
    m_socket = new QSslSocket(this);
    if (m_refusal) { // refused before any connection
        finish(m_refusal, Close::Abort);
        return;
    }
    if (m_trust)
        m_socket->setSslConfiguration(m_trust->configuration());
    m_socket->setPeerVerifyName(m_server.host);
    connect(m_socket, &QSslSocket::connected, this, [this] {
        m_dialogue.setHeloName(m_heloName.isEmpty() ? addressLiteral(m_socket->localAddress()) : m_heloName);
    });
    connect(m_socket, &QSslSocket::readyRead, this, &SmtpJob::onReadyRead);
    // A long upload is progress too, not a silent server.
    connect(m_socket, &QSslSocket::bytesWritten, this, &SmtpJob::onBytesWritten);
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, [this] {
        if (m_done)
            return;
        m_timer.start();
        writePayload();
    });
    connect(m_socket, &QSslSocket::encrypted, this, &SmtpJob::onEncrypted);
    connect(m_socket, &QSslSocket::sslErrors, this, &SmtpJob::onSslErrors);
    connect(m_socket, &QSslSocket::errorOccurred, this, &SmtpJob::onSocketError);
    connect(m_socket, &QSslSocket::disconnected, this, [this] {
        if (!m_done)
            finish(m_trustRefusal ? m_trustRefusal
                                  : ClientError::fromSocket(QAbstractSocket::RemoteHostClosedError,
                                                            m_socket->errorString(), m_server),
                   Close::Abort);
        else
            deleteLater();
    });
    m_timer.start();
    m_socket->connectToHost(m_server.host, m_server.port);
}

void SmtpJob::onReadyRead()
{
    const QByteArray bytes = m_socket->readAll();
    if (m_done)
        return;
    if (lcClientWire().isDebugEnabled()) {
        for (const QByteArray &line : bytes.split('\n')) {
            if (!line.isEmpty())
                qCDebug(lcClientWire).noquote() << "S:" << QString::fromUtf8(line.trimmed());
        }
    }
    m_timer.start();
    handle(m_dialogue.received(bytes));
}

void SmtpJob::onEncrypted()
{
    if (m_done)
        return;
    if (m_trust) {
        const ServerTrust::Verdict verdict = m_trust->judgeEstablished(m_server, m_socket->peerCertificate());
        if (!verdict.accepted) {
            finish(verdict.refusal, Close::Abort);
            return;
        }
    }
    qCDebug(lcClient).noquote() << "smtp" << m_server.toString() << "TLS up:" << m_socket->sessionCipher().name();
    m_timer.start();
    handle(m_dialogue.encrypted());
}

void SmtpJob::onSslErrors(const QList<QSslError> &errors)
{
    if (!m_trust) {
        m_trustRefusal = ClientError::fromSocket(QAbstractSocket::SslHandshakeFailedError, errors.first().errorString(), m_server);
        return;
    }
    const ServerTrust::Verdict verdict = m_trust->judgeErrors(m_server, m_socket->peerCertificate(), errors);
    if (verdict.accepted)
        m_socket->ignoreSslErrors(errors); // exactly these, for the pinned certificate
    else
        m_trustRefusal = verdict.refusal;
}

void SmtpJob::onSocketError()
{
    if (m_done)
        return;
    const QAbstractSocket::SocketError error = m_socket->error();
    if (m_trustRefusal && (error == QAbstractSocket::SslHandshakeFailedError || error == QAbstractSocket::RemoteHostClosedError)) {
        finish(m_trustRefusal, Close::Abort);
        return;
    }
    finish(ClientError::fromSocket(error, m_socket->errorString(), m_server), Close::Abort);
}

void SmtpJob::handle(const SmtpDialogue::Events &events)
{
    for (const QByteArray &line : events.log)
        qCDebug(lcClientWire).noquote() << "C:" << QString::fromUtf8(line);
    if (const std::optional<qint64> limit = m_dialogue.maxMessageSize(); limit && *limit != m_maxMessageSize) {
        m_maxMessageSize = *limit;
        Q_EMIT maxMessageSizeKnown(m_maxMessageSize);
    }
    if (events.message) {
        m_payload = events.send;
        m_payloadQueued = 0;
        m_payloadWritten = 0;
        m_payloadTotal = m_payload.size();
        Q_EMIT progress(0, m_payloadTotal);
        if (m_cancelled)
            return; // from a slot of progress()
        writePayload();
    } else if (!events.send.isEmpty()) {
        m_socket->write(events.send);
    }
    if (events.failure) {
        if (events.failure->isOverSizeLimit()) {
            ClientError error = ClientError::invalid(
                DataSize::tooLargeMessage(events.failure->messageSize, events.failure->sizeLimit));
            error.detail = u"SIZE %1, message %2 bytes"_s.arg(events.failure->sizeLimit).arg(events.failure->messageSize);
            error.server = m_server;
            finish(error, Close::Gracefully);
            return;
        }
        finish(ClientError::fromSmtp(*events.failure, m_server), Close::Gracefully);
        return;
    }
    if (events.finished && !m_done) {
        // The result is final once the last command is answered; QUIT is manners.
        m_done = true;
        Q_EMIT succeeded(m_dialogue.result());
    }
    if (events.startTls) {
        if (m_socket->bytesAvailable() > 0) { // RFC 3207 §4.2 / QT64-NOTES: no plaintext may cross into TLS
            finish(ClientError::fromSmtp({SmtpStage::StartTls, {}, std::nullopt,
                                          u"the server sent data after its STARTTLS reply"_s},
                                         m_server),
                   Close::Abort);
            return;
        }
        m_socket->startClientEncryption();
    }
    if (events.close)
        finish(std::nullopt, Close::Gracefully);
}

void SmtpJob::writePayload()
{
    if (m_cancelled || m_closing)
        return;
    // Two pieces in flight keep the connection busy; TLS reports each.
    constexpr qsizetype PieceBytes = 128 * 1024;
    while (m_payloadQueued < m_payload.size()
           && m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite() < 2 * PieceBytes) {
        const qsizetype piece = std::min(PieceBytes, m_payload.size() - m_payloadQueued);
        m_socket->write(m_payload.constData() + m_payloadQueued, piece);
        m_payloadQueued += piece;
    }
    if (!m_payload.isEmpty() && m_payloadQueued == m_payload.size()) {
        m_payload = QByteArray(); // all of it is in the socket's hands
        m_payloadQueued = 0;
    }
}

void SmtpJob::onBytesWritten(qint64 bytes)
{
    if (m_done)
        return;
    m_timer.start();
    if (m_payloadWritten >= 0 && m_payloadWritten < m_payloadTotal) {
        m_payloadWritten = std::min(m_payloadTotal, m_payloadWritten + bytes);
        Q_EMIT progress(m_payloadWritten, m_payloadTotal);
        if (m_cancelled)
            return; // from a slot of progress()
    }
    writePayload();
}

void SmtpJob::cancel()
{
    if (m_cancelled)
        return;
    m_done = true;
    m_cancelled = true;
    m_timer.stop();
    // Not from here: this may run inside a signal the socket emits from its
    // TLS code (bytesWritten, through progress()), which goes on using its
    // TLS state once the slot returns; aborting now would free it under it.
    QMetaObject::invokeMethod(this, [this] { finish(std::nullopt, Close::Abort); }, Qt::QueuedConnection);
}

void SmtpJob::finish(const std::optional<ClientError> &error, Close close)
{
    m_timer.stop();
    if (error && !m_done) {
        m_done = true;
        qCInfo(lcClient).noquote() << "smtp" << m_server.toString() << "failed:" << error->toString();
        Q_EMIT failed(*error);
    }
    if (m_closing)
        return;
    m_closing = true;
    if (m_socket->state() == QAbstractSocket::UnconnectedState || close == Close::Abort) {
        m_socket->abort();
        deleteLater();
        return;
    }
    // Let the last command (QUIT) go out; the disconnected() handler or, at
    // the latest, this timer ends the job.
    m_socket->disconnectFromHost();
    QTimer::singleShot(5000, this, [this] {
        m_socket->abort();
        deleteLater();
    });
}

SmtpClient::SmtpClient(const ServerEndpoint &server, ServerTrust *trust, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_trust(trust)
{
}

SmtpJob *SmtpClient::start(const SmtpCredentials &credentials, QList<SmtpStep> steps, QByteArray message)
{
    SmtpDialogue dialogue(m_heloName, credentials.username, credentials.password, std::move(steps), std::move(message));
    auto *job = new SmtpJob(m_server, m_trust, std::move(dialogue), m_heloName, m_timeoutMs, this);
    connect(job, &SmtpJob::maxMessageSizeKnown, this, [this](qint64 bytes) {
        if (m_maxMessageSize == bytes)
            return;
        m_maxMessageSize = bytes;
        Q_EMIT maxMessageSizeChanged();
    });
    // On the next turn of the event loop, so that the caller connects first.
    QMetaObject::invokeMethod(job, &SmtpJob::start, Qt::QueuedConnection);
    return job;
}

SmtpJob *SmtpClient::ping()
{
    return start({}, {{SmtpStage::Ping, "PING"_ba, SmtpCode::Ok, {}, false}});
}

SmtpJob *SmtpClient::registerAccount(const QString &username, const QString &password)
{
    const QByteArray argument = QByteArray(username.toUtf8() + '\0' + password.toUtf8()).toBase64();
    return start({}, {{SmtpStage::Register, "REG " + argument, SmtpCode::Ok, username, true}});
}

SmtpJob *SmtpClient::lookUpUser(const SmtpCredentials &credentials, const QString &name)
{
    // One word, so nothing can be smuggled after it as another command.
    const bool oneWord = !name.isEmpty() && std::none_of(name.cbegin(), name.cend(), [](QChar c) {
        return c.unicode() <= 0x20 || c.unicode() == 0x7f;
    });
    SmtpJob *job = start(credentials, {{SmtpStage::LookUp, "GETUSER " + name.toUtf8(), SmtpCode::Ok, name, false}});
    if (!oneWord)
        job->m_refusal = ClientError::invalid(u"“%1” is not a user name or address."_s.arg(name));
    return job;
}

SmtpJob *SmtpClient::send(const SmtpCredentials &credentials, const QString &sender, const QStringList &recipients,
                          const QByteArray &message)
{
    const QByteArray payload = SmtpDialogue::dataPayload(message);
    return sendPayload(credentials, sender, recipients, payload, SmtpDialogue::messageSize(payload));
}

SmtpJob *SmtpClient::sendPayload(const SmtpCredentials &credentials, const QString &sender,
                                 const QStringList &recipients, const QByteArray &payload, qint64 size)
{
    QList<SmtpStep> steps;
    // SIZE (RFC 1870) lets the server refuse an oversized message before it
    // is sent, and the dialogue refuses it itself when the server's EHLO
    // said so; the dialogue drops it where not announced.
    steps.append({SmtpStage::MailFrom, SmtpCommands::mailFrom(sender.toUtf8(), size), SmtpCode::Ok, sender, false});
    for (const QString &recipient : recipients)
        steps.append({SmtpStage::RcptTo, SmtpCommands::rcptTo(recipient.toUtf8()), SmtpCode::Ok, recipient, false});
    steps.append({SmtpStage::Data, "DATA"_ba, SmtpCode::StartMailInput, {}, false});
    steps.append({SmtpStage::Message, {}, SmtpCode::Ok, {}, false});
    return start(credentials, std::move(steps), payload);
}

QString DataSize::format(qint64 bytes)
{
    if (bytes < 1024)
        return bytes == 1 ? u"1 byte"_s : u"%1 bytes"_s.arg(bytes);
    double value = double(bytes) / 1024;
    QString unit = u"KB"_s;
    for (const QString &larger : {u"MB"_s, u"GB"_s, u"TB"_s}) {
        if (value < 1024)
            break;
        value /= 1024;
        unit = larger;
    }
    QString number = QString::number(value, 'f', 1);
    if (number.endsWith(u".0"))
        number.chop(2);
    return number + u' ' + unit;
}

QString DataSize::tooLargeMessage(qint64 size, qint64 limit)
{
    QString message = format(size);
    QString accepted = format(limit);
    if (message == accepted) {
        message = u"%1 bytes"_s.arg(size);
        accepted = u"%1 bytes"_s.arg(limit);
    }
    return u"The message is %1; the server accepts at most %2."_s.arg(message, accepted);
}
