#pragma once

#include "smtpsession.h"

// Accounts alice=1, bob=2, carol=3 in project.com; user1..user200 are
// 1001..1200 for the recipient limit. Names must arrive normalized: "Bob"
// is no account here. With `unavailable` set every look-up fails as with a
// database that is down.
class FakeSmtpDirectory final : public SmtpDirectory
{
public:
    bool unavailable = false;

    AccountLookup lookUpAccount(const QString &username) override
    {
        if (unavailable)
            return {AccountLookup::Result::Unavailable, 0};
        const std::optional<qint64> id = accountId(username);
        return id ? AccountLookup{AccountLookup::Result::Found, *id} : AccountLookup{};
    }

    static std::optional<qint64> accountId(const QString &username)
    {
        if (username == u"alice")
            return 1;
        if (username == u"bob")
            return 2;
        if (username == u"carol")
            return 3;
        if (username.startsWith(u"user")) {
            bool ok = false;
            const int n = username.mid(4).toInt(&ok);
            if (ok && n >= 1 && n <= 200 && username.mid(4) == QString::number(n))
                return 1000 + n;
        }
        return std::nullopt;
    }
};
