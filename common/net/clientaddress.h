#pragma once

#include <QHostAddress>
#include <QString>

// A client's address as counted and logged: an IPv4-mapped IPv6 address
// ("::ffff:127.0.0.1") is its IPv4 form, so one client is one key for
// throttling and connection limits on every listener.
[[nodiscard]] QString clientAddressText(const QHostAddress &address);
// The same for an accepted socket not yet wrapped in a QAbstractSocket;
// empty when the client is already gone.
[[nodiscard]] QString clientAddressOfSocket(qintptr socketDescriptor);
