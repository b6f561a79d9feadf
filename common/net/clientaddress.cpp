#include "clientaddress.h"

#include <sys/socket.h>

QString clientAddressText(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4).toString() : address.toString();
}

QString clientAddressOfSocket(qintptr socketDescriptor)
{
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof peer;
    if (::getpeername(int(socketDescriptor), reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
        return {};
    return clientAddressText(QHostAddress(reinterpret_cast<const sockaddr *>(&peer)));
}
