#include "smtpclient.h"

#include "clientlogging.h"
#include "servertrust.h"

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
    connect(m_socket, &QSslSocket::bytesWritten, this, [this] {
        if (!m_done)
            m_timer.start();
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
    if (!events.send.isEmpty())
        m_socket->write(events.send);
    if (events.failure) {
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
    // On the next turn of the event loop, so that the caller connects first.
    QMetaObject::invokeMethod(job, &SmtpJob::start, Qt::QueuedConnection);
    return job;
}

SmtpJob *SmtpClient::ping()
{
    return start({}, {{SmtpStage::Ping, "PING"_ba, 250, {}, false}});
}

SmtpJob *SmtpClient::registerAccount(const QString &username, const QString &password)
{
    const QByteArray argument = QByteArray(username.toUtf8() + '\0' + password.toUtf8()).toBase64();
    return start({}, {{SmtpStage::Register, "REG " + argument, 250, username, true}});
}

SmtpJob *SmtpClient::lookUpUser(const SmtpCredentials &credentials, const QString &name)
{
    // One word, so nothing can be smuggled after it as another command.
    const bool oneWord = !name.isEmpty() && std::none_of(name.cbegin(), name.cend(), [](QChar c) {
        return c.unicode() <= 0x20 || c.unicode() == 0x7f;
    });
    SmtpJob *job = start(credentials, {{SmtpStage::LookUp, "GETUSER " + name.toUtf8(), 250, name, false}});
    if (!oneWord)
        job->m_refusal = ClientError::invalid(u"“%1” is not a user name or address."_s.arg(name));
    return job;
}

SmtpJob *SmtpClient::send(const SmtpCredentials &credentials, const QString &sender, const QStringList &recipients,
                          const QByteArray &message)
{
    QList<SmtpStep> steps;
    const QByteArray payload = SmtpDialogue::dataPayload(message);
    // SIZE (RFC 1870 §6: the message as CRLF lines, without the dots added by
    // stuffing or the final ".CRLF") lets the server refuse an oversized
    // message before it is sent; the dialogue drops it where not announced.
    qsizetype stuffed = payload.startsWith("..") ? 1 : 0;
    for (qsizetype at = payload.indexOf("\r\n.."); at >= 0; at = payload.indexOf("\r\n..", at + 4))
        ++stuffed;
    const qsizetype size = payload.size() - 3 - stuffed;
    steps.append({SmtpStage::MailFrom, "MAIL FROM:<" + sender.toUtf8() + "> SIZE=" + QByteArray::number(size), 250,
                  sender, false});
    for (const QString &recipient : recipients)
        steps.append({SmtpStage::RcptTo, "RCPT TO:<" + recipient.toUtf8() + '>', 250, recipient, false});
    steps.append({SmtpStage::Data, "DATA"_ba, 354, {}, false});
    steps.append({SmtpStage::Message, {}, 250, {}, false});
    return start(credentials, std::move(steps), payload);
}
