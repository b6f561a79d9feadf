#pragma once

// The scripted TLS client of the socket-level SMTP tests (tst_smtpserver,
// tst_smtpspec).

#include "testbytes.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTest>

using namespace Qt::StringLiterals;

namespace SmtpTest {

// Generous for a loaded machine; a server that never answers still fails.
constexpr int ReplyTimeoutMs = 10000;

// One SMTP reply, possibly multi-line (RFC 5321 §4.2.1), as received.
struct SmtpReply
{
    int code = 0; // 0: none came; -1: not an SMTP reply line
    QList<QByteArray> lines; // whole lines without CRLF, e.g. "250-PIPELINING"

    // The last line, e.g. "250 2.0.0 OK", for comparisons that print well.
    [[nodiscard]] QByteArray status() const { return lines.isEmpty() ? "<no reply>"_ba : lines.last(); }
    // An EHLO keyword line, e.g. "AUTH PLAIN LOGIN".
    [[nodiscard]] bool hasLine(QByteArrayView text) const
    {
        for (const QByteArray &line : lines) {
            if (line.size() > 4 && QByteArrayView(line).sliced(4) == text)
                return true;
        }
        return false;
    }
    [[nodiscard]] QByteArray all() const { return lines.join("\\r\\n"); }
};

using TestBytes::plainCredentials;

// A scripted SMTP client over one QSslSocket: trusts only the server's
// generated certificate, verifies it as "localhost", and waits only by
// processing events (client and server share the test's thread).
class SmtpClient
{
public:
    explicit SmtpClient(const QSslCertificate &ca)
    {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates({ca});
        tls.setPeerVerifyMode(QSslSocket::VerifyPeer);
        m_socket.setSslConfiguration(tls);
        m_socket.setPeerVerifyName(u"localhost"_s);
        QObject::connect(&m_socket, &QSslSocket::readyRead, &m_socket, [this] { slurp(); });
        QObject::connect(&m_socket, &QSslSocket::sslErrors, &m_socket,
                         [this](const QList<QSslError> &errors) { m_sslErrors += errors; });
    }
    SmtpClient(const SmtpClient &) = delete;
    SmtpClient &operator=(const SmtpClient &) = delete;

    bool connectPlain(quint16 port, const QHostAddress &from = {})
    {
        if (!from.isNull() && !m_socket.bind(from)) {
            qWarning() << "cannot bind to" << from << m_socket.errorString();
            return false;
        }
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        const bool settled = QTest::qWaitFor(
            [this] { return m_socket.state() == QAbstractSocket::ConnectedState
                         || m_socket.state() == QAbstractSocket::UnconnectedState; },
            ReplyTimeoutMs);
        if (!settled || m_socket.state() != QAbstractSocket::ConnectedState) {
            qWarning() << "cannot connect to port" << port << m_socket.errorString();
            return false;
        }
        return true;
    }

    void startTlsConnect(quint16 port, const QHostAddress &from = {})
    {
        if (!from.isNull())
            m_socket.bind(from);
        m_socket.connectToHostEncrypted(u"127.0.0.1"_s, port, u"localhost"_s);
    }

    bool connectTls(quint16 port, const QHostAddress &from = {})
    {
        startTlsConnect(port, from);
        return waitEncrypted();
    }

    bool startTls()
    {
        slurp();
        if (!m_received.isEmpty()) {
            qWarning() << "plaintext after the STARTTLS reply:" << m_received;
            return false;
        }
        m_socket.startClientEncryption();
        return waitEncrypted();
    }

    void send(const QByteArray &bytes)
    {
        m_sent.start();
        m_socket.write(bytes);
    }

    SmtpReply command(const QByteArray &line)
    {
        send(line + "\r\n");
        return readReply();
    }

    SmtpReply readReply(int timeoutMs = ReplyTimeoutMs)
    {
        SmtpReply reply;
        const bool got = QTest::qWaitFor(
            [&] {
                slurp();
                return takeReply(&reply) || m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
        m_lastReplyMs = m_sent.isValid() ? m_sent.elapsed() : -1;
        if (!got || reply.lines.isEmpty()) {
            reply.code = 0;
            reply.lines = {"<no reply: "_ba + (got ? "connection closed"_ba : "timed out"_ba)
                           + ", pending: "_ba + m_received.left(200).toPercentEncoding(" ") + '>'};
        }
        return reply;
    }

    // Every whole reply received so far.
    QList<SmtpReply> takeReplies()
    {
        slurp();
        QList<SmtpReply> replies;
        SmtpReply reply;
        while (takeReply(&reply))
            replies.append(std::exchange(reply, {}));
        return replies;
    }

    bool waitClosed(int timeoutMs = ReplyTimeoutMs)
    {
        return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
    }

    [[nodiscard]] QByteArray pending()
    {
        slurp();
        return m_received;
    }
    [[nodiscard]] qint64 lastReplyMs() const { return m_lastReplyMs; }
    [[nodiscard]] QSslSocket &socket() { return m_socket; }
    [[nodiscard]] bool isEncrypted() const { return m_socket.isEncrypted(); }
    [[nodiscard]] QList<QSslError> sslErrors() const { return m_sslErrors; }

private:
    void slurp()
    {
        if (m_socket.bytesAvailable() > 0)
            m_received += m_socket.readAll();
    }

    bool waitEncrypted()
    {
        const bool settled = QTest::qWaitFor(
            [this] { return m_socket.isEncrypted() || m_socket.state() == QAbstractSocket::UnconnectedState; },
            ReplyTimeoutMs);
        if (!settled || !m_socket.isEncrypted()) {
            qWarning() << "TLS handshake failed:" << m_socket.errorString() << m_sslErrors;
            return false;
        }
        return true;
    }

    bool takeReply(SmtpReply *reply)
    {
        qsizetype pos = 0;
        QList<QByteArray> lines;
        for (;;) {
            const qsizetype lf = m_received.indexOf('\n', pos);
            if (lf < 0)
                return false;
            QByteArray line = m_received.mid(pos, lf - pos);
            if (line.endsWith('\r'))
                line.chop(1);
            pos = lf + 1;
            lines.append(line);
            if (line.size() < 4 || line.at(3) != '-')
                break;
        }
        bool ok = false;
        const int code = lines.last().left(3).toInt(&ok);
        reply->code = ok ? code : -1;
        reply->lines = lines;
        m_received.remove(0, pos);
        return true;
    }

    QSslSocket m_socket;
    QByteArray m_received;
    QList<QSslError> m_sslErrors;
    QElapsedTimer m_sent;
    qint64 m_lastReplyMs = -1;
};

} // namespace SmtpTest

using SmtpTest::plainCredentials;
using SmtpTest::ReplyTimeoutMs;
using SmtpTest::SmtpClient;
using SmtpTest::SmtpReply;
