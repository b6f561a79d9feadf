#include "passwords.h"

#include <QFuture>
#include <QFutureWatcher>
#include <QPasswordDigestor>
#include <QPromise>
#include <QRandomGenerator>
#include <QThreadPool>

#include <algorithm>
#include <memory>

namespace Passwords {

namespace {
const QByteArray Scheme = QByteArrayLiteral("pbkdf2-sha256");

QByteArray derive(const QString &password, const QByteArray &salt, int iterations)
{
    // NFC so that the same password typed on two systems that compose accents
    // differently still matches (RFC 8265 §4.2 does the same).
    const QByteArray utf8 = password.normalized(QString::NormalizationForm_C).toUtf8();
    return QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256, utf8, salt, iterations, HashBytes);
}

struct ParsedHash
{
    int iterations = 0;
    QByteArray salt;
    QByteArray hash;
};

std::optional<ParsedHash> parse(const QString &stored)
{
    const QList<QByteArray> fields = stored.toLatin1().split('$');
    if (fields.size() != 4 || fields[0] != Scheme)
        return std::nullopt;
    bool ok = false;
    const int iterations = fields[1].toInt(&ok);
    if (!ok || iterations < 1)
        return std::nullopt;
    const auto salt = QByteArray::fromBase64Encoding(fields[2], QByteArray::AbortOnBase64DecodingErrors);
    const auto hash = QByteArray::fromBase64Encoding(fields[3], QByteArray::AbortOnBase64DecodingErrors);
    if (!salt || !hash || salt.decoded.isEmpty() || hash.decoded.size() != HashBytes)
        return std::nullopt;
    return ParsedHash{iterations, salt.decoded, hash.decoded};
}
} // namespace

bool containsControlCharacter(QStringView password)
{
    return std::any_of(password.cbegin(), password.cend(),
                       [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; });
}

Strength checkStrength(QStringView password)
{
    if (containsControlCharacter(password))
        return Strength::ControlCharacter;
    const qsizetype length = password.toUcs4().size();
    if (length < MinLength)
        return Strength::TooShort;
    if (length > MaxLength)
        return Strength::TooLong;
    return Strength::Acceptable;
}

QString strengthMessage(Strength strength)
{
    switch (strength) {
    case Strength::Acceptable:
        return {};
    case Strength::TooShort:
        return QStringLiteral("Password too weak: it needs at least %1 characters").arg(MinLength);
    case Strength::TooLong:
        return QStringLiteral("Password too long: at most %1 characters").arg(MaxLength);
    case Strength::ControlCharacter:
        return QStringLiteral("Password not allowed: it contains a control character (such as a tab or a line break)");
    }
    return {};
}

QString hashWithSalt(const QString &password, const QByteArray &salt, int iterations)
{
    const QByteArray key = derive(password, salt, iterations);
    return QString::fromLatin1(Scheme + '$' + QByteArray::number(iterations) + '$' + salt.toBase64() + '$'
                               + key.toBase64());
}

QString hash(const QString &password, int iterations)
{
    QByteArray salt(SaltBytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(salt.data()), SaltBytes / sizeof(quint32));
    return hashWithSalt(password, salt, iterations);
}

bool verify(const QString &password, const QString &stored)
{
    const std::optional<ParsedHash> parsed = parse(stored);
    if (!parsed)
        return false;
    return constantTimeEquals(derive(password, parsed->salt, parsed->iterations), parsed->hash);
}

int iterationsOf(const QString &stored)
{
    const std::optional<ParsedHash> parsed = parse(stored);
    return parsed ? parsed->iterations : 0;
}

QString unknownAccountHash(int iterations)
{
    return hash(QStringLiteral("no such account"), iterations);
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    if (a.size() != b.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

} // namespace Passwords

namespace {
// Runs work on the global pool and hands its result to done in owner's
// thread. The watcher is attached before the work starts, so the result can
// never arrive synchronously inside the call; it is a child of owner, so a
// destroyed owner simply never hears of the result (QFutureWatcher detaches
// from the future under the future's own lock).
template<typename Result, typename Work, typename Done>
void runOffThread(QObject *owner, Work work, Done done)
{
    auto promise = std::make_shared<QPromise<Result>>();
    auto *watcher = new QFutureWatcher<Result>(owner);
    QObject::connect(watcher, &QFutureWatcherBase::finished, owner, [watcher, done = std::move(done)] {
        done(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(promise->future());
    promise->start();
    QThreadPool::globalInstance()->start([promise, work = std::move(work)] {
        promise->addResult(work());
        promise->finish();
    });
}
} // namespace

PasswordHasher::PasswordHasher(QObject *parent, int iterations)
    : QObject(parent)
    , m_iterations(iterations)
{
}

quint64 PasswordHasher::hashAsync(const QString &password)
{
    const quint64 ticket = m_nextTicket++;
    runOffThread<QString>(
        this, [password, iterations = m_iterations] { return Passwords::hash(password, iterations); },
        [this, ticket](QString stored) { Q_EMIT hashed(ticket, stored); });
    return ticket;
}

quint64 PasswordHasher::verifyAsync(const QString &password, const QString &stored)
{
    const quint64 ticket = m_nextTicket++;
    runOffThread<bool>(
        this, [password, stored] { return Passwords::verify(password, stored); },
        [this, ticket](bool matches) { Q_EMIT verified(ticket, matches); });
    return ticket;
}
