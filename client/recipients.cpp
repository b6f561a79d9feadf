#include "recipients.h"

#include <QRegularExpression>
#include <QSet>

using namespace Qt::StringLiterals;

namespace {

bool isAtext(QChar c)
{
    // RFC 5322 §3.2.3 atext
    if (c.unicode() > 0x7f)
        return false;
    if (c.isLetterOrNumber())
        return true;
    return u"!#$%&'*+-/=?^_`{|}~"_s.contains(c);
}

bool isDotAtom(QStringView text)
{
    if (text.isEmpty() || text.startsWith(u'.') || text.endsWith(u'.') || text.contains(u".."))
        return false;
    return std::all_of(text.begin(), text.end(), [](QChar c) { return c == u'.' || isAtext(c); });
}

bool isDomain(QStringView domain)
{
    if (domain.isEmpty() || domain.size() > 253)
        return false;
    for (QStringView label : domain.split(u'.')) {
        if (label.isEmpty() || label.size() > 63 || label.startsWith(u'-') || label.endsWith(u'-'))
            return false;
        for (QChar c : label) {
            if (c.unicode() > 0x7f || !(c.isLetterOrNumber() || c == u'-'))
                return false;
        }
    }
    return true;
}

// Splits at separators that are not inside "quotes" or <angle brackets>.
QStringList splitEntries(const QString &text)
{
    QStringList entries;
    QString current;
    bool quoted = false;
    bool angled = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted && c == u'\\' && i + 1 < text.size()) {
            current += c;
            current += text.at(++i);
            continue;
        }
        if (c == u'"' && !angled)
            quoted = !quoted;
        else if (c == u'<' && !quoted)
            angled = true;
        else if (c == u'>' && !quoted)
            angled = false;
        if ((c == u',' || c == u';') && !quoted && !angled) {
            entries.append(current);
            current.clear();
            continue;
        }
        current += c;
    }
    entries.append(current);
    return entries;
}

QString unquote(QString name)
{
    name = name.trimmed();
    if (name.size() >= 2 && name.startsWith(u'"') && name.endsWith(u'"')) {
        name = name.mid(1, name.size() - 2);
        QString out;
        for (qsizetype i = 0; i < name.size(); ++i) {
            if (name.at(i) == u'\\' && i + 1 < name.size())
                ++i;
            out += name.at(i);
        }
        return out;
    }
    return name;
}

} // namespace

bool Recipients::isValidAddress(QStringView address)
{
    if (address.size() > 254)
        return false;
    const qsizetype at = address.lastIndexOf(u'@');
    if (at <= 0 || at > 64)
        return false;
    return isDotAtom(address.first(at)) && isDomain(address.mid(at + 1));
}

QString Recipients::format(const MailAddress &address)
{
    if (address.name.isEmpty())
        return address.address;
    static const QRegularExpression special(u"[,;\"<>@\\\\]"_s);
    QString name = address.name;
    if (name.contains(special)) {
        name.replace(u'\\', u"\\\\"_s).replace(u'"', u"\\\""_s);
        name = u'"' + name + u'"';
    }
    return name + u" <" + address.address + u'>';
}

QString Recipients::formatList(const QList<MailAddress> &addresses)
{
    QStringList parts;
    for (const MailAddress &address : addresses)
        parts.append(format(address));
    return parts.join(u", "_s);
}

QString Recipients::formatListed(const QList<MailAddress> &listed, qint64 count)
{
    const qint64 more = count - listed.size();
    if (more <= 0)
        return formatList(listed);
    return listed.isEmpty() ? u"%1 addresses"_s.arg(count) : formatList(listed) + u" and %1 more"_s.arg(more);
}

RecipientList RecipientList::parse(const QString &text, const QString &defaultDomain)
{
    RecipientList list;
    QSet<QString> seen;
    for (const QString &rawEntry : splitEntries(text)) {
        const QString entry = rawEntry.trimmed();
        if (entry.isEmpty())
            continue;
        MailAddress address;
        const qsizetype open = entry.lastIndexOf(u'<');
        if (open >= 0) {
            if (!entry.endsWith(u'>')) {
                list.error = u"“%1” is not an e-mail address: it misses its closing “>”."_s.arg(entry);
                return list;
            }
            address.name = unquote(entry.left(open));
            address.address = entry.mid(open + 1, entry.size() - open - 2).trimmed();
        } else {
            address.address = entry;
        }
        if (!address.address.contains(u'@') && !defaultDomain.isEmpty())
            address.address += u'@' + defaultDomain;
        // RFC 5321 §2.4: the domain is case-insensitive; Mailroom's local parts are lower case too.
        address.address = address.address.toLower();
        if (!Recipients::isValidAddress(address.address)) {
            list.error = u"“%1” is not an e-mail address."_s.arg(entry);
            return list;
        }
        if (seen.contains(address.address))
            continue;
        seen.insert(address.address);
        list.addresses.append(address);
    }
    return list;
}
