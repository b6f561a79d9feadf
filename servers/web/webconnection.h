#pragma once

#include "httpmessage.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

class QSslSocket;
class WebApi;

// One HTTPS client: reads requests with the parser, answers them one at a
// time and in order (pipelined ones wait their turn), keeps the connection
// alive unless asked not to, and closes it after the idle timeout.
class WebConnection : public QObject
{
    Q_OBJECT
public:
    WebConnection(QSslSocket *socket, WebApi *api, HttpLimits limits, int keepAliveMs, QObject *parent = nullptr);
    void start();
    void shutDown();

Q_SIGNALS:
    void finished();

private:
    void readAvailable();
    void processNext();
    enum class Close { AfterWrite, Lingering };
    void send(const HttpResponse &response, const HttpRequest *request, bool keepAlive, Close close = Close::AfterWrite);
    void closeAfterWrite();
    void startLingering();
    void abortNow();

    QSslSocket *m_socket = nullptr;
    WebApi *m_api = nullptr;
    HttpRequestParser m_parser;
    QTimer m_idleTimer;
    QTimer m_lingerQuietTimer;
    QTimer m_lingerDeadline;
    qint64 m_discarded = 0;
    bool m_lingering = false;
    QElapsedTimer m_requestTimer;
    QString m_peerAddress;
    bool m_busy = false;
    bool m_closing = false;
};
