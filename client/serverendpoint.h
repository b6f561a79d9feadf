#pragma once

#include <QString>

#include <optional>

// Where a server is: a host name or address and a port, as given on the
// command line ("127.0.0.1:8025", "[::1]:9999", "mail.example.org:8025").
struct ServerEndpoint
{
    QString host;
    quint16 port = 0;

    [[nodiscard]] static std::optional<ServerEndpoint> parse(QStringView text);
    // "host:port", an IPv6 address in brackets; also the key servers are pinned by.
    [[nodiscard]] QString toString() const;

    friend bool operator==(const ServerEndpoint &, const ServerEndpoint &) = default;
};
