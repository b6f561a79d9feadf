#pragma once

#include "pbkdf2iterations.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QStringView>

#include <optional>

// Password rules and hashing, docs/PROTOCOL.md §6: passwords are stored
// only as "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>"
// (RFC 8018 §5.2 PBKDF2 with HMAC-SHA256, a random 16-byte salt per account).
namespace Passwords {

inline constexpr int MinLength = 8;
inline constexpr int MaxLength = 128;

inline constexpr int DefaultIterations = Pbkdf2Iterations::Default;
inline constexpr int MinIterations = Pbkdf2Iterations::Minimum;
inline constexpr int SaltBytes = 16;
inline constexpr int HashBytes = 32;

enum class Strength { Acceptable, TooShort, TooLong, ControlCharacter };

// Length is counted in Unicode code points, not UTF-16 units. Control
// characters (U+0000 to U+001F, U+007F; docs/PROTOCOL.md §6) are refused:
// a CR or LF cannot be sent in a line protocol (POP3 USER/PASS, IMAP LOGIN),
// so such an account could never log in there, and HMAC pads its key with
// zero bytes (RFC 2104 §2), so "secret" and "secret\0" would hash alike.
[[nodiscard]] Strength checkStrength(QStringView password);
[[nodiscard]] QString strengthMessage(Strength strength);
// True when the password holds a character checkStrength refuses as a
// control character: no stored password can match it.
[[nodiscard]] bool containsControlCharacter(QStringView password);

// Slow on purpose: call from a worker thread (see PasswordHasher).
[[nodiscard]] QString hash(const QString &password, int iterations);
[[nodiscard]] QString hashWithSalt(const QString &password, const QByteArray &salt, int iterations);
// False for a wrong password and for a malformed stored string.
[[nodiscard]] bool verify(const QString &password, const QString &stored);
// The iteration count of a stored string, 0 when it is malformed.
[[nodiscard]] int iterationsOf(const QString &stored);

// A hash no password matches in practice, at the given cost: verified
// against when a login names no account, so that it takes as long as one
// that does and the timing tells nothing.
[[nodiscard]] QString unknownAccountHash(int iterations);

// Compares without an early exit, so the time taken does not tell how many
// leading bytes matched.
[[nodiscard]] bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

} // namespace Passwords

// Hashes and verifies on QThreadPool::globalInstance() so that the event loop
// never waits for PBKDF2; each result comes back as a queued signal carrying
// the ticket that the call returned. Results for a destroyed hasher are dropped.
class PasswordHasher : public QObject
{
    Q_OBJECT
public:
    explicit PasswordHasher(QObject *parent = nullptr, int iterations = Passwords::DefaultIterations);

    [[nodiscard]] int iterations() const { return m_iterations; }

    quint64 hashAsync(const QString &password);
    quint64 verifyAsync(const QString &password, const QString &stored);

Q_SIGNALS:
    void hashed(quint64 ticket, const QString &stored);
    void verified(quint64 ticket, bool matches);

private:
    int m_iterations = Passwords::DefaultIterations;
    quint64 m_nextTicket = 1;
};
