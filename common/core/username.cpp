#include "username.h"

namespace Username {

namespace {
bool isLowerAlnum(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9');
}
} // namespace

bool isValid(QStringView name)
{
    if (name.isEmpty() || name.size() > MaxLength)
        return false;
    if (!isLowerAlnum(name.front()) || !isLowerAlnum(name.back()))
        return false;
    QChar previous;
    for (QChar c : name) {
        if (!isLowerAlnum(c) && c != u'.' && c != u'_' && c != u'-')
            return false;
        if (c == u'.' && previous == u'.')
            return false;
        previous = c;
    }
    return true;
}

std::optional<QString> normalize(QStringView input)
{
    // Only ASCII is valid, so an ASCII-only fold is enough and locale-independent
    // (no Turkish dotless i surprises).
    QString name;
    name.reserve(input.size());
    for (QChar c : input)
        name.append(c >= u'A' && c <= u'Z' ? QChar(c.unicode() + (u'a' - u'A')) : c);
    if (!isValid(name))
        return std::nullopt;
    return name;
}

std::optional<QString> fromLogin(QStringView input, QStringView domain)
{
    const qsizetype at = input.lastIndexOf(u'@');
    if (at < 0)
        return normalize(input);
    if (input.sliced(at + 1).compare(domain, Qt::CaseInsensitive) != 0)
        return std::nullopt;
    return normalize(input.first(at));
}

QString loginKey(QStringView input, QStringView domain)
{
    if (std::optional<QString> name = fromLogin(input, domain))
        return *name;
    return input.toString().toLower().left(MaxLength + 100);
}

bool sameAccount(QStringView authorizationId, QStringView loginName, QStringView domain)
{
    if (authorizationId == loginName)
        return true;
    const std::optional<QString> account = fromLogin(authorizationId, domain);
    return account && account == fromLogin(loginName, domain);
}

} // namespace Username
