#pragma once

#include <QString>

#include <cstdio>
#include <optional>

// Reads a new password for mailroomctl without it ever being in argv: on a
// terminal it prompts twice with echo off; otherwise it takes one line of
// standard input (so scripts can pipe it in).
class PasswordInput
{
public:
    explicit PasswordInput(FILE *input = stdin, FILE *prompt = stderr);

    // Unset with errorString() set when nothing usable was given.
    std::optional<QString> readNewPassword(const QString &account);
    [[nodiscard]] QString errorString() const { return m_error; }

private:
    std::optional<QString> readLine(bool hideEcho, const char *prompt);

    FILE *m_input;
    FILE *m_prompt;
    QString m_error;
};
