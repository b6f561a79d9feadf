#include "connectioncloser.h"

#include <QAbstractSocket>

#include <sys/socket.h>

ConnectionCloser::ConnectionCloser(QAbstractSocket *socket, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
{
    m_graceTimer.setSingleShot(true);
    m_graceTimer.setInterval(GraceMs);
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        m_quietTimer.stop();
        m_lingering = false;
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            return;
        // Given up on: a reset, not a close, or the kernel would go on
        // trying to deliver what the client does not read.
        const linger resetOnClose{1, 0};
        ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &resetOnClose, sizeof resetOnClose);
        m_socket->abort();
    });
    m_quietTimer.setSingleShot(true);
    m_quietTimer.setInterval(LingerQuietMs);
    connect(&m_quietTimer, &QTimer::timeout, this, &ConnectionCloser::stopLingering);
}

void ConnectionCloser::closeAfterWrite()
{
    m_graceTimer.start();
    m_socket->disconnectFromHost();
}

void ConnectionCloser::closeLingering()
{
    m_graceTimer.start();
    m_lingering = true;
    m_quietTimer.start();
    discardInput();
}

void ConnectionCloser::discardInput()
{
    if (!m_lingering)
        return;
    m_discarded += m_socket->skip(m_socket->bytesAvailable());
    if (m_discarded > LingerMaxBytes)
        stopLingering();
    else
        m_quietTimer.start();
}

void ConnectionCloser::stopLingering()
{
    m_quietTimer.stop();
    m_lingering = false;
    m_socket->disconnectFromHost();
}

void ConnectionCloser::progressed()
{
    if (m_graceTimer.isActive())
        m_graceTimer.start();
}
