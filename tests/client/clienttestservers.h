#pragma once

// Real mailroom-smtpd and mailroom-webd code for the client tests, in this
// process on 127.0.0.1 (ports chosen by the system), sharing one temporary
// data directory: SmtpDaemon as mailroom-smtpd runs it, WebApi behind a
// WebServer as mailroom-webd does. The certificate is made on first start
// (as the daemon does) and names 127.0.0.1. Either server can be stopped and
// started again on the same port, with another certificate if asked.

#include "config.h"
#include "messagebuilder.h"
#include "mimemessage.h"
#include "passwords.h"
#include "serverendpoint.h"
#include "servertrust.h"
#include "smtpdaemon.h"
#include "store.h"
#include "tlsmaterial.h"
#include "webapi.h"
#include "webserver.h"

#include <QHostAddress>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

class ClientTestServers
{
public:
    static constexpr int StartTimeoutMs = 30000;

    ClientTestServers()
    {
        m_config.dataDir = m_dir.path();
        m_config.database.sqlitePath = m_dir.filePath(QStringLiteral("mailroom.db"));
        m_config.certificateFile = m_dir.filePath(QStringLiteral("tls/cert.pem"));
        m_config.keyFile = m_dir.filePath(QStringLiteral("tls/key.pem"));
        m_config.hostname = QStringLiteral("localhost");
        m_config.listen = ListenAddress{QHostAddress(QHostAddress::LocalHost), 0};
        m_config.pbkdf2Iterations = Passwords::MinIterations;
    }
    ~ClientTestServers()
    {
        stopWeb();
        stopSmtp();
    }

    [[nodiscard]] bool isValid() const { return m_dir.isValid(); }
    [[nodiscard]] const Config &config() const { return m_config; }
    // The servers' limits (message size, recipients, ...): call it before start().
    void setLimits(const Limits &limits) { m_config.limits = limits; }
    [[nodiscard]] QString path(const QString &name) const { return m_dir.filePath(name); }
    [[nodiscard]] QString certificateFile() const { return m_config.certificateFile; }
    [[nodiscard]] ServerEndpoint smtp() const { return {QStringLiteral("127.0.0.1"), m_smtpPort}; }
    [[nodiscard]] ServerEndpoint web() const { return {QStringLiteral("127.0.0.1"), m_webPort}; }

    // Both servers; the SMTP daemon first, since it makes the certificate.
    [[nodiscard]] bool start() { return startSmtp() && startWeb(); }

    // certificate/key: another pair than the data directory's (as --cert/--key give).
    [[nodiscard]] bool startSmtp(const QString &certificate = {}, const QString &key = {})
    {
        Config config = m_config;
        config.listen = ListenAddress{QHostAddress(QHostAddress::LocalHost), m_smtpPort};
        if (!certificate.isEmpty()) {
            config.certificateFile = certificate;
            config.keyFile = key;
            config.tlsFilesGiven = true;
        }
        m_smtp = std::make_unique<SmtpDaemon>(config);
        QSignalSpy ready(m_smtp.get(), &SmtpDaemon::ready);
        QSignalSpy failed(m_smtp.get(), &SmtpDaemon::failed);
        m_smtp->start();
        if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, StartTimeoutMs) || ready.isEmpty()) {
            qWarning() << "smtpd did not start:" << (failed.isEmpty() ? QVariant() : failed.first().first());
            return false;
        }
        m_smtpPort = m_smtp->port();
        return true;
    }

    void stopSmtp()
    {
        if (!m_smtp)
            return;
        QSignalSpy stopped(m_smtp.get(), &SmtpDaemon::stopped);
        m_smtp->shutDown();
        if (stopped.isEmpty())
            stopped.wait(StartTimeoutMs);
        m_smtp.reset();
    }

    // certificate/key: another pair than the data directory's.
    [[nodiscard]] bool startWeb(const QString &certificate = {}, const QString &key = {})
    {
        if (!m_api) {
            m_api = std::make_unique<WebApi>(m_config);
            QString error;
            if (!m_api->open(&error)) {
                qWarning() << "webd store:" << error;
                return false;
            }
        }
        QString error;
        const auto tls = TlsMaterial::loadServerConfiguration(certificate.isEmpty() ? m_config.certificateFile : certificate,
                                                              key.isEmpty() ? m_config.keyFile : key, &error);
        if (!tls) {
            qWarning() << "webd TLS:" << error;
            return false;
        }
        WebServer::Options options;
        options.maxConnections = m_config.limits.maxConnections;
        options.maxConnectionsPerAddress = m_config.limits.maxConnectionsPerAddress;
        m_web = std::make_unique<WebServer>(*tls, m_api.get(), options);
        if (!m_web->listen(QHostAddress(QHostAddress::LocalHost), m_webPort)) {
            qWarning() << "webd listen:" << m_web->errorString();
            return false;
        }
        m_webPort = m_web->serverPort();
        return true;
    }

    void stopWeb()
    {
        if (!m_web)
            return;
        m_web->close();
        m_web->shutDown();
        m_web.reset();
    }

    // The SHA-256 fingerprint of the data directory's certificate ("AB:CD:…").
    [[nodiscard]] QString certificateFingerprint() const
    {
        const QList<QSslCertificate> certificates = QSslCertificate::fromPath(m_config.certificateFile);
        return certificates.size() == 1 ? ServerTrust::fingerprint(certificates.first()) : QString();
    }

    // Trust on first use already answered: the data directory's certificate
    // pinned for both servers in `pinFile`, as a user who accepted it earlier
    // left it. For tests that are not about trust; call it after start().
    [[nodiscard]] bool pinCertificate(const QString &pinFile) const
    {
        const QString fingerprint = certificateFingerprint();
        if (fingerprint.isEmpty() || m_smtpPort == 0 || m_webPort == 0)
            return false;
        ServerTrust trust(pinFile);
        return trust.pin(smtp(), fingerprint) && trust.pin(web(), fingerprint);
    }

    // A second self-signed certificate (for "the certificate changed").
    [[nodiscard]] bool makeCertificate(const QString &certificate, const QString &key)
    {
        CertificateGenerator generator;
        QSignalSpy finished(&generator, &CertificateGenerator::finished);
        QSignalSpy failed(&generator, &CertificateGenerator::failed);
        generator.start(certificate, key, QStringLiteral("localhost"));
        return QTest::qWaitFor([&] { return !finished.isEmpty() || !failed.isEmpty(); }, StartTimeoutMs)
            && !finished.isEmpty();
    }

    // An account made directly in the store (the way mailroomctl add-user does).
    [[nodiscard]] bool createAccount(const QString &name, const QString &password)
    {
        Store store;
        if (!store.open(m_config.database.sqlitePath, Store::OpenMode::CreateIfMissing))
            return false;
        return store.createAccount(name, Passwords::hash(password, Passwords::MinIterations)).has_value();
    }

    // The id of account `name`, 0 when there is none.
    [[nodiscard]] qint64 accountId(const QString &name)
    {
        Store store;
        if (!store.open(m_config.database.sqlitePath, Store::OpenMode::MustExist))
            return 0;
        const std::optional<Account> account = store.findAccount(name);
        return account ? account->id : 0;
    }

    // A plain-text message as the client builds it.
    [[nodiscard]] static QByteArray plainMessage(const QString &from, const QString &to, const QString &subject)
    {
        OutgoingMessage message;
        message.from = {{}, from};
        message.to = {{{}, to}};
        message.subject = subject;
        message.text = QStringLiteral("Text of ") + subject;
        return MessageBuilder::build(message);
    }

    // Messages from account senderId to recipientId straight into the store,
    // as mailroom-smtpd stores them (summaries parsed from the bytes, one
    // transaction): many at once, faster than SMTP. Their inbox entry ids,
    // in order; empty when any failed.
    [[nodiscard]] QList<qint64> storeMessages(qint64 senderId, qint64 recipientId, const QList<QByteArray> &raws)
    {
        Store store;
        if (!store.open(m_config.database.sqlitePath, Store::OpenMode::MustExist))
            return {};
        QList<NewMessage> messages;
        for (const QByteArray &raw : raws) {
            NewMessage message;
            message.raw = raw;
            message.summary = MimeMessage::parse(raw).summary();
            message.receivedAt = QDateTime::currentDateTimeUtc();
            message.senderId = senderId;
            message.recipientIds = {recipientId};
            messages.append(message);
        }
        QList<qint64> ids;
        for (const std::optional<Delivery> &delivery : store.deliverAll(messages)) {
            if (!delivery || delivery->inboxEntryIds.size() != 1)
                return {};
            ids.append(delivery->inboxEntryIds.first());
        }
        return ids;
    }

    // What the store holds now (messages, active tokens, ...), as mailroomctl stats reads it.
    [[nodiscard]] std::optional<StoreStats> storeStats()
    {
        Store store;
        if (!store.open(m_config.database.sqlitePath, Store::OpenMode::MustExist))
            return std::nullopt;
        return store.stats();
    }

private:
    QTemporaryDir m_dir;
    Config m_config;
    std::unique_ptr<SmtpDaemon> m_smtp;
    std::unique_ptr<WebApi> m_api;
    std::unique_ptr<WebServer> m_web;
    quint16 m_smtpPort = 0;
    quint16 m_webPort = 0;
};
