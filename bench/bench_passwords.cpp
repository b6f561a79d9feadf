// Time per PBKDF2 hash at the production iteration count and around it, to
// keep Passwords::DefaultIterations in the 50-150 ms band on the machine we
// ship for. Usage: bench_passwords [ROUNDS]   (default 10)

#include "passwords.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTextStream>

#include <algorithm>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int rounds = argc > 1 ? std::max(1, QByteArray(argv[1]).toInt()) : 10;
    QTextStream out(stdout);
    const int counts[] = {Passwords::DefaultIterations / 2, Passwords::DefaultIterations,
                          Passwords::DefaultIterations * 2};
    out << "PBKDF2-HMAC-SHA256, 32-byte key, " << rounds << " rounds each" << Qt::endl;
    for (int iterations : counts) {
        QList<double> ms;
        for (int i = 0; i < rounds; ++i) {
            QElapsedTimer timer;
            timer.start();
            const QString stored = Passwords::hash(QStringLiteral("secret-pass-1"), iterations);
            ms.append(timer.nsecsElapsed() / 1e6);
            Q_UNUSED(stored);
        }
        std::sort(ms.begin(), ms.end());
        out << qSetFieldWidth(9) << iterations << qSetFieldWidth(0) << " iterations: median "
            << QString::number(ms.at(ms.size() / 2), 'f', 1) << " ms, min " << QString::number(ms.first(), 'f', 1)
            << " ms, max " << QString::number(ms.last(), 'f', 1) << " ms"
            << (iterations == Passwords::DefaultIterations ? "  <- production" : "") << Qt::endl;
    }
    return 0;
}
