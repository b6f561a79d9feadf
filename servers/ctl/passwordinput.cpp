#include "passwordinput.h"

#include <QByteArray>
#include <QStringDecoder>

#include <csignal>
#include <iterator>

#include <termios.h>
#include <unistd.h>

namespace {

// The terminal state to put back if a signal ends the process while echo is
// off (Ctrl-C at the prompt): a destructor would never run then.
int g_terminalFd = -1;
termios g_savedTerminal{};
const int RestoringSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

extern "C" void restoreTerminalAndReraise(int signalNumber)
{
    if (g_terminalFd >= 0)
        tcsetattr(g_terminalFd, TCSAFLUSH, &g_savedTerminal);
    signal(signalNumber, SIG_DFL);
    raise(signalNumber);
}

// Turns echo off for its lifetime, and puts it back however the read ends.
class EchoOff
{
public:
    explicit EchoOff(int fd)
        : m_fd(fd)
    {
        if (tcgetattr(m_fd, &m_saved) != 0)
            return;
        g_savedTerminal = m_saved;
        g_terminalFd = m_fd;
        struct sigaction action = {};
        action.sa_handler = restoreTerminalAndReraise;
        sigemptyset(&action.sa_mask);
        for (size_t i = 0; i < std::size(RestoringSignals); ++i)
            sigaction(RestoringSignals[i], &action, &m_previous[i]);
        termios quiet = m_saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        // TCSANOW, not TCSAFLUSH: what was typed ahead is kept, not lost.
        m_active = tcsetattr(m_fd, TCSANOW, &quiet) == 0;
    }
    ~EchoOff()
    {
        if (m_active)
            tcsetattr(m_fd, TCSANOW, &m_saved);
        if (g_terminalFd == m_fd) {
            for (size_t i = 0; i < std::size(RestoringSignals); ++i)
                sigaction(RestoringSignals[i], &m_previous[i], nullptr);
            g_terminalFd = -1;
        }
    }
    EchoOff(const EchoOff &) = delete;
    EchoOff &operator=(const EchoOff &) = delete;

private:
    int m_fd;
    termios m_saved{};
    struct sigaction m_previous[std::size(RestoringSignals)] = {};
    bool m_active = false;
};

} // namespace

PasswordInput::PasswordInput(FILE *input, FILE *prompt)
    : m_input(input)
    , m_prompt(prompt)
{
}

std::optional<QString> PasswordInput::readLine(bool hideEcho, const char *prompt)
{
    // Echo goes off before the prompt shows: whatever is typed once it is
    // visible must not appear on the screen.
    std::optional<EchoOff> echoOff;
    if (hideEcho)
        echoOff.emplace(fileno(m_input));
    if (prompt) {
        std::fputs(prompt, m_prompt);
        std::fflush(m_prompt);
    }
    QByteArray line;
    int c = 0;
    // The longest allowed password is 128 characters of up to 4 UTF-8 bytes;
    // anything much longer is not a password line.
    while ((c = std::fgetc(m_input)) != EOF && c != '\n') {
        if (line.size() > 4096) {
            m_error = QStringLiteral("the password line is too long");
            return std::nullopt;
        }
        line.append(char(c));
    }
    if (hideEcho)
        std::fputc('\n', m_prompt);
    if (c == EOF && line.isEmpty()) {
        m_error = QStringLiteral("no password given: type it, or pipe one line into standard input");
        return std::nullopt;
    }
    if (line.endsWith('\r'))
        line.chop(1);
    // A password typed in another encoding would be stored as U+FFFD
    // characters and match the wrong passwords: refuse it.
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString password = utf8.decode(line);
    if (utf8.hasError()) {
        m_error = QStringLiteral("the password is not valid UTF-8: set the terminal or the input to UTF-8");
        return std::nullopt;
    }
    return password;
}

std::optional<QString> PasswordInput::readNewPassword(const QString &account)
{
    const bool terminal = isatty(fileno(m_input));
    if (!terminal)
        return readLine(false, nullptr);
    const QByteArray prompt = "New password for " + account.toUtf8() + ": ";
    const auto first = readLine(true, prompt.constData());
    if (!first)
        return std::nullopt;
    const auto second = readLine(true, "Repeat the password: ");
    if (!second)
        return std::nullopt;
    if (*first != *second) {
        m_error = QStringLiteral("the two passwords differ");
        return std::nullopt;
    }
    return first;
}
