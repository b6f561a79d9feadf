#pragma once

#include "smtpreply.h"

#include <QByteArray>
#include <QString>

// SMTP reply codes by name: RFC 5321 §4.2.2 and §4.2.3, plus AUTH's (RFC
// 4954 §6) and the parameter error of RFC 5321 §4.1.1.11. An unscoped enum
// inside a namespace, so that a name reads `SmtpCode::Ok` and compares with
// SmtpReply::code as it is.
namespace SmtpCode {
enum Code : int {
    HelpMessage = 214,
    ServiceReady = 220,
    ServiceClosing = 221,
    AuthSucceeded = 235,
    Ok = 250,
    UserNotLocalWillForward = 251,
    CannotVerifyUser = 252,
    AuthContinue = 334,
    StartMailInput = 354,
    ServiceNotAvailable = 421,
    MailboxUnavailableTemporarily = 450,
    LocalError = 451,
    InsufficientStorage = 452,
    TemporaryAuthFailure = 454,
    SyntaxError = 500,
    ParameterSyntaxError = 501,
    BadSequence = 503,
    ParameterNotImplemented = 504,
    AuthRequired = 530,
    AuthInvalid = 535,
    EncryptionRequired = 538,
    MailboxUnavailable = 550,
    ExceededStorage = 552,
    MailboxNameNotAllowed = 553,
    ParametersNotRecognized = 555,
};
} // namespace SmtpCode

// One reply mailroom-smtpd sends: its code, its RFC 3463 enhanced status
// code (RFC 2034; none on the greeting, 334 and 354) and its text, in which
// "%1", "%2" take arguments. The server writes it, the client and the load
// generator recognise it, and docs/PROTOCOL.md (SMTP) lists them all.
struct SmtpServerReply
{
    int code = 0;
    const char *enhanced = nullptr; // "5.7.8", or nullptr
    const char *text = "";          // ASCII

    // The text with each argument put in by QString::arg(), in order.
    template<typename... Args>
    [[nodiscard]] QString formatText(const Args &...arguments) const
    {
        QString out = QString::fromLatin1(text);
        ((out = out.arg(arguments)), ...);
        return out;
    }
    // The reply line as sent: "250 2.0.0 OK\r\n".
    template<typename... Args>
    [[nodiscard]] QByteArray toBytes(const Args &...arguments) const
    {
        return line(formatText(arguments...));
    }
    [[nodiscard]] QByteArray line(const QString &formattedText) const;
    // A reply received is this one: the same code and enhanced code (the
    // text may be the server's own words).
    [[nodiscard]] bool matches(const SmtpReply &reply) const;
};

// Every reply mailroom-smtpd sends, by what it means.
namespace SmtpReplies {
// Connection (RFC 5321 §4.2, §3.8)
inline constexpr SmtpServerReply Greeting{SmtpCode::ServiceReady, nullptr, "%1 ESMTP Mailroom"};
inline constexpr SmtpServerReply HeloOk{SmtpCode::Ok, nullptr, "%1"};
inline constexpr SmtpServerReply Bye{SmtpCode::ServiceClosing, "2.0.0", "Bye"};
inline constexpr SmtpServerReply Timeout{SmtpCode::ServiceNotAvailable, "4.4.2", "Timeout"};
inline constexpr SmtpServerReply DataTimeout{SmtpCode::ServiceNotAvailable, "4.4.2",
                                             "Message data took too long, closing connection"};
inline constexpr SmtpServerReply ShuttingDown{SmtpCode::ServiceNotAvailable, "4.3.2", "Service shutting down"};
inline constexpr SmtpServerReply TooManyConnections{SmtpCode::ServiceNotAvailable, "4.7.0", "Too many connections"};
inline constexpr SmtpServerReply TooManyErrors{SmtpCode::ServiceNotAvailable, "4.7.0", "Too many errors"};

// Commands in general
inline constexpr SmtpServerReply Ok{SmtpCode::Ok, "2.0.0", "OK"};
inline constexpr SmtpServerReply Pong{SmtpCode::Ok, "2.0.0", "PONG"};
inline constexpr SmtpServerReply CannotVerify{SmtpCode::CannotVerifyUser, "2.5.0", "Cannot VRFY user"};
inline constexpr SmtpServerReply Help{SmtpCode::HelpMessage, "2.0.0", "Commands: %1"}; // the verbs, space-separated
inline constexpr SmtpServerReply CommandUnrecognized{SmtpCode::SyntaxError, "5.5.2", "Command unrecognized"};
inline constexpr SmtpServerReply LineTooLong{SmtpCode::SyntaxError, "5.5.2", "Line too long"};
inline constexpr SmtpServerReply EhloSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: EHLO hostname"};
inline constexpr SmtpServerReply HeloSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: HELO hostname"};

// STARTTLS (RFC 3207)
inline constexpr SmtpServerReply ReadyToStartTls{SmtpCode::ServiceReady, "2.0.0", "Ready to start TLS"};
inline constexpr SmtpServerReply TlsAlreadyActive{SmtpCode::BadSequence, "5.5.1", "TLS already active"};
inline constexpr SmtpServerReply StartTlsSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: STARTTLS"};
inline constexpr SmtpServerReply StartTlsFirst{SmtpCode::AuthRequired, "5.7.0", "Must issue a STARTTLS command first"};
inline constexpr SmtpServerReply EncryptionRequired{SmtpCode::EncryptionRequired, "5.7.11", "Encryption required"};

// AUTH (RFC 4954, RFC 4616 PLAIN, LOGIN)
inline constexpr SmtpServerReply AuthPlainPrompt{SmtpCode::AuthContinue, nullptr, ""};
inline constexpr SmtpServerReply AuthUsernamePrompt{SmtpCode::AuthContinue, nullptr, "VXNlcm5hbWU6"}; // "Username:"
inline constexpr SmtpServerReply AuthPasswordPrompt{SmtpCode::AuthContinue, nullptr, "UGFzc3dvcmQ6"}; // "Password:"
inline constexpr SmtpServerReply AuthSucceeded{SmtpCode::AuthSucceeded, "2.7.0", "Authentication successful"};
inline constexpr SmtpServerReply AuthInvalid{SmtpCode::AuthInvalid, "5.7.8", "Authentication credentials invalid"};
inline constexpr SmtpServerReply AuthRequired{SmtpCode::AuthRequired, "5.7.0", "Authentication required"};
inline constexpr SmtpServerReply AlreadyAuthenticated{SmtpCode::BadSequence, "5.5.1", "Already authenticated"};
inline constexpr SmtpServerReply AuthInsideTransaction{SmtpCode::BadSequence, "5.5.1",
                                                       "AUTH not allowed inside a transaction"};
inline constexpr SmtpServerReply AuthSyntax{SmtpCode::ParameterSyntaxError, "5.5.4",
                                            "Syntax: AUTH mechanism [initial-response]"};
inline constexpr SmtpServerReply UnknownMechanism{SmtpCode::ParameterNotImplemented, "5.5.4",
                                                  "Unrecognized authentication mechanism"};
inline constexpr SmtpServerReply AuthCanceled{SmtpCode::ParameterSyntaxError, "5.7.0", "Authentication canceled"};
inline constexpr SmtpServerReply InvalidBase64{SmtpCode::ParameterSyntaxError, "5.5.2", "Invalid base64 data"};
inline constexpr SmtpServerReply InvalidPlainResponse{SmtpCode::ParameterSyntaxError, "5.5.2", "Invalid PLAIN response"};
inline constexpr SmtpServerReply LoginsThrottled{SmtpCode::TemporaryAuthFailure, "4.7.0",
                                                 "Too many failed logins, try later"};
inline constexpr SmtpServerReply AuthUnavailable{SmtpCode::TemporaryAuthFailure, "4.7.0",
                                                 "Temporary authentication failure, try again later"};
inline constexpr SmtpServerReply TooManyAuthFailures{SmtpCode::ServiceNotAvailable, "4.7.0",
                                                     "Too many failed authentications"};

// REG and GETUSER (Mailroom's own commands, docs/PROTOCOL.md)
inline constexpr SmtpServerReply AccountCreated{SmtpCode::Ok, "2.0.0", "Account %1 created"};
inline constexpr SmtpServerReply RegistrationClosed{SmtpCode::MailboxUnavailable, "5.7.1", "Registration is closed"};
inline constexpr SmtpServerReply RegSyntax{SmtpCode::ParameterSyntaxError, "5.5.4",
                                           "Syntax: REG base64(username NUL password)"};
inline constexpr SmtpServerReply InvalidUsername{SmtpCode::MailboxNameNotAllowed, "5.1.3", "Invalid username"};
inline constexpr SmtpServerReply PasswordTooWeak{SmtpCode::MailboxUnavailable, "5.7.1", "Password too weak"};
inline constexpr SmtpServerReply PasswordTooLong{SmtpCode::MailboxUnavailable, "5.7.1", "Password too long"};
inline constexpr SmtpServerReply PasswordControlCharacter{SmtpCode::MailboxUnavailable, "5.7.1",
                                                          "Password must not contain control characters"};
inline constexpr SmtpServerReply UsernameTaken{SmtpCode::MailboxUnavailable, "5.1.0", "Username already taken"};
inline constexpr SmtpServerReply RegistrationsThrottled{SmtpCode::MailboxUnavailableTemporarily, "4.7.1",
                                                        "Too many registrations from your address, try later"};
inline constexpr SmtpServerReply UserFound{SmtpCode::Ok, "2.1.5", "%1 %2"}; // account id, address
inline constexpr SmtpServerReply GetUserSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: GETUSER username"};
inline constexpr SmtpServerReply NoSuchUser{SmtpCode::MailboxUnavailable, "5.1.1", "No such user"};
inline constexpr SmtpServerReply LookupUnavailable{SmtpCode::LocalError, "4.3.0",
                                                   "Temporary lookup failure, try again later"};

// The envelope (RFC 5321 §4.1.1.2-3, RFC 1870 SIZE, RFC 6152 8BITMIME)
inline constexpr SmtpServerReply SenderOk{SmtpCode::Ok, "2.1.0", "OK"};
inline constexpr SmtpServerReply RecipientOk{SmtpCode::Ok, "2.1.5", "OK"};
inline constexpr SmtpServerReply NestedMail{SmtpCode::BadSequence, "5.5.1", "Nested MAIL command"};
inline constexpr SmtpServerReply MailSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: MAIL FROM:<address>"};
inline constexpr SmtpServerReply SizeSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: SIZE=number"};
inline constexpr SmtpServerReply SizeExceedsLimit{SmtpCode::ExceededStorage, "5.3.4",
                                                  "Message size exceeds fixed maximum message size"};
inline constexpr SmtpServerReply BodySyntax{SmtpCode::ParameterSyntaxError, "5.5.4",
                                            "Syntax: BODY=7BIT or BODY=8BITMIME"};
inline constexpr SmtpServerReply UnsupportedParameterNamed{SmtpCode::ParametersNotRecognized, "5.5.4",
                                                           "Unsupported parameter %1"};
inline constexpr SmtpServerReply UnsupportedParameter{SmtpCode::ParametersNotRecognized, "5.5.4",
                                                      "Unsupported parameter"};
inline constexpr SmtpServerReply SenderNotOwned{SmtpCode::MailboxNameNotAllowed, "5.7.1",
                                                "Sender address not owned by you"};
inline constexpr SmtpServerReply NeedMail{SmtpCode::BadSequence, "5.5.1", "Need MAIL before RCPT"};
inline constexpr SmtpServerReply RcptSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: RCPT TO:<address>"};
inline constexpr SmtpServerReply RelayingDenied{SmtpCode::MailboxUnavailable, "5.7.1",
                                                "no such recipient exists (relaying denied)"};
inline constexpr SmtpServerReply NoSuchRecipient{SmtpCode::MailboxUnavailable, "5.1.1", "No such user here"};
inline constexpr SmtpServerReply TooManyRecipients{SmtpCode::InsufficientStorage, "4.5.3", "Too many recipients"};

// DATA and the message (RFC 5321 §4.1.1.4, §4.5.3.1)
inline constexpr SmtpServerReply DataSyntax{SmtpCode::ParameterSyntaxError, "5.5.4", "Syntax: DATA"};
inline constexpr SmtpServerReply NoValidRecipients{SmtpCode::BadSequence, "5.5.1", "No valid recipients"};
inline constexpr SmtpServerReply StartMailInput{SmtpCode::StartMailInput, nullptr, "End data with <CR><LF>.<CR><LF>"};
inline constexpr SmtpServerReply MessageTooBig{SmtpCode::ExceededStorage, "5.3.4", "Message too big"};
inline constexpr SmtpServerReply HeaderSectionTooLarge{SmtpCode::ExceededStorage, "5.3.4", "Header section too large"};
inline constexpr SmtpServerReply DataLineTooLong{SmtpCode::MailboxUnavailable, "5.6.0", "Line longer than 1000 octets"};
inline constexpr SmtpServerReply BareCrOrNul{SmtpCode::MailboxUnavailable, "5.6.0", "Bare CR or NUL in message data"};
inline constexpr SmtpServerReply FromNotOwned{SmtpCode::MailboxUnavailable, "5.7.1",
                                              "From: header address not owned by you"};
inline constexpr SmtpServerReply Queued{SmtpCode::Ok, "2.0.0", "OK: queued as %1"};
inline constexpr SmtpServerReply InsufficientStorage{SmtpCode::InsufficientStorage, "4.3.1",
                                                     "Insufficient system storage"};
inline constexpr SmtpServerReply LocalError{SmtpCode::LocalError, "4.3.0", "Local error in processing, try later"};
} // namespace SmtpReplies
