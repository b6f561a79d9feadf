// FETCH's message data (RFC 9051 §6.4.5, §7.5.2; RFC 3516): table rows of a
// message and what ENVELOPE, BODY, BODYSTRUCTURE, a section or BINARY gives
// of it, to the byte. The expected texts are worked out by hand from RFC
// 9051's rules, not taken from the code's output.

#include "imapmessage.h"
#include "imapresponse.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {

// The messages are written with "\n" for readability and stored with CRLF,
// as the store keeps them.
QByteArray crlf(QByteArray text)
{
    return text.replace("\n", "\r\n");
}

// The body of part 1 of nestedMultipart(), a multipart/alternative:
// quoted-printable text, then HTML.
QByteArray alternativeBody()
{
    return crlf("--inner\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable\n"
                "\n"
                "Gr=C3=BC=C3=9Fe\n"
                "Bob\n"
                "--inner\n"
                "Content-Type: text/html; charset=utf-8\n"
                "\n"
                "<p>Hi</p>\n"
                "--inner--"_ba);
}

// multipart/mixed: a multipart/alternative, then a base64 attachment with
// disposition, languages and location.
QByteArray nestedMultipart()
{
    return crlf("From: Alice Example <alice@example.com>\n"
                "To: Bob <bob@example.org>\n"
                "Subject: Report\n"
                "Date: Mon, 7 Dec 2026 10:00:00 +0100\n"
                "Message-ID: <a1@example.com>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=\"outer\"\n"
                "\n"
                "Preamble text\n"
                "--outer\n"
                "Content-Type: multipart/alternative; boundary=inner\n"
                "\n"_ba)
        + alternativeBody()
        + crlf("\n"
               "--outer\n"
               "Content-Type: application/octet-stream; name=\"data.bin\"\n"
               "Content-Disposition: attachment; filename=\"data.bin\"\n"
               "Content-Transfer-Encoding: base64\n"
               "Content-Language: en, de\n"
               "Content-Location: http://example.com/data.bin\n"
               "\n"
               "AAEC/w==\n"
               "--outer--\n"
               "Epilogue\n"_ba);
}

// The message attached as part 2 of withAttachedMessages(): a multipart of its own.
QByteArray attachedMultipart()
{
    return crlf("From: Carol <carol@example.net>\n"
                "Subject: Inner\n"
                "Content-Type: multipart/alternative; boundary=c\n"
                "\n"
                "--c\n"
                "Content-Type: text/plain\n"
                "\n"
                "plain\n"
                "--c\n"
                "Content-Type: text/html\n"
                "\n"
                "<b>html</b>\n"
                "--c--\n"_ba);
}

// Encoded words kept raw, a group in To, an empty group in Cc, Sender
// given, Reply-To empty; parts: text, a message/rfc822 holding a
// multipart, a message/rfc822 holding a single part.
QByteArray withAttachedMessages()
{
    return crlf("From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\n"
                "Sender: Secretary <sec@example.de>\n"
                "Reply-To:\n"
                "To: Team: \"Doe, Jane\" <jane@example.com>, bob@example.com;, carol@example.net\n"
                "Cc: undisclosed-recipients:;\n"
                "Subject: =?UTF-8?B?R3LDvMOfZQ==?= and \"quotes\" \\ backslash\n"
                "Date: Tue, 8 Dec 2026 09:30:00 +0000\n"
                "Message-ID: <b2@example.de>\n"
                "In-Reply-To: <a1@example.com>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: multipart/mixed; boundary=b\n"
                "\n"
                "--b\n"
                "Content-Type: text/plain\n"
                "\n"
                "See attached.\n"
                "--b\n"
                "Content-Type: message/rfc822\n"
                "Content-Description: forwarded\n"
                "\n"_ba)
        + attachedMultipart()
        + crlf("\n"
               "--b\n"
               "Content-Type: message/rfc822\n"
               "\n"
               "Subject: Note\n"
               "\n"
               "Just a note.\n"
               "--b--\n"_ba);
}

// Not MIME, LF line ends only, 8-bit bytes in a header and in the body.
QByteArray lfOnly8Bit()
{
    return "From: x@y\nSubject: caf\xc3\xa9\n\nLine one\nLigne deux \xc3\xa0\n"_ba;
}

// An mbox separator line, folded fields, a field twice, white space before
// a colon, an empty field.
QByteArray foldedHeaders()
{
    return crlf("From sender@example.com Mon Dec  7 10:00:00 2026\n"
                "Received: from a by b\n"
                "Subject: a long\n"
                "  subject\n"
                "Received: from c\n"
                " by d\n"
                "Comments : spaced\n"
                "X-Empty:\n"
                "\n"
                "body\n"_ba);
}

// A header and no body: not even the empty line.
QByteArray headerOnly()
{
    return "Subject: only\r\n"_ba;
}

// An inline image: RFC 2231 pieces and an encoded word in parameters,
// Content-ID, Content-MD5.
QByteArray inlineImage()
{
    return crlf("Content-Type: multipart/mixed; boundary=\"==x==\"\n"
                "\n"
                "--==x==\n"
                "Content-Type: image/png; name=\"=?UTF-8?Q?Bild_=C3=A4.png?=\"\n"
                "Content-ID: <img1@x>\n"
                "Content-Disposition: inline; filename*0*=UTF-8''Bild%20; filename*1*=%C3%A4.png\n"
                "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
                "Content-Transfer-Encoding: base64\n"
                "\n"
                "iVBORw0KGgo=\n"
                "--==x==--\n"_ba);
}

// A multipart whose boundary never comes.
QByteArray emptyMultipart()
{
    return crlf("Content-Type: multipart/mixed; boundary=zz\n\nno parts here\n"_ba);
}

// Type in mixed case, a comment after a parameter, an encoding no one knows.
QByteArray unknownEncoding()
{
    return crlf("Content-Type: Text/Plain; charset=\"iso-8859-1\" (Latin); format=flowed\n"
                "Content-Transfer-Encoding: X-UUENCODE\n"
                "\n"
                "begin 644 x\n"_ba);
}

// The message itself is a message/rfc822: part 1 is the attached message.
QByteArray topLevelMessage()
{
    return "Content-Type: message/rfc822\r\n\r\nSubject: In\r\n\r\nhi"_ba;
}

QByteArray quotedPrintableText()
{
    return crlf("Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: Quoted-Printable\n"
                "\n"
                "caf=C3=A9 au =\n"
                "lait=3D1\n"_ba);
}

QByteArray headerOf(const QByteArray &message)
{
    return message.left(message.indexOf("\r\n\r\n") + 4);
}

QByteArray textOf(const QByteArray &message)
{
    return message.mid(message.indexOf("\r\n\r\n") + 4);
}

// A text/plain part of RFC 9051's form: size and lines, then (extensible)
// md5, disposition, language, location all NIL.
QByteArray plainText(int size, int lines, bool extensible)
{
    return R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" )"_ba + QByteArray::number(size) + ' '
        + QByteArray::number(lines) + (extensible ? " NIL NIL NIL NIL)" : ")");
}

// Whether `text` is one parenthesized list as RFC 9051's grammar writes
// them: strings (quoted or literal), NIL, numbers and lists inside.
bool isOneList(QByteArrayView text)
{
    int depth = 0;
    qsizetype pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (depth == 0 && (pos > 0 || c != '('))
            return false; // before or after the one list
        if (c == '(') {
            ++depth;
            ++pos;
        } else if (c == ')') {
            --depth;
            ++pos;
        } else if (c == ' ') {
            ++pos;
        } else if (c == '"') {
            for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
                if (text[pos] == '\\')
                    ++pos;
                if (pos >= text.size() || text[pos] == '\r' || text[pos] == '\n')
                    return false;
            }
            if (pos >= text.size())
                return false;
            ++pos;
        } else if (c == '{') {
            const qsizetype close = text.indexOf('}', pos);
            bool ok = false;
            const qsizetype size = close < 0 ? 0 : text.sliced(pos + 1, close - pos - 1).toLongLong(&ok);
            if (!ok || !text.sliced(close + 1).startsWith("\r\n") || close + 3 + size > text.size())
                return false;
            pos = close + 3 + size;
        } else if (text.sliced(pos).startsWith("NIL")) {
            pos += 3;
        } else if (c >= '0' && c <= '9') {
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
                ++pos;
        } else {
            return false;
        }
    }
    return depth == 0 && !text.isEmpty();
}

QList<quint32> partNumbers(const QByteArray &text)
{
    QList<quint32> part;
    for (const QByteArray &number : text.split('.')) {
        if (!number.isEmpty())
            part.append(number.toUInt());
    }
    return part;
}

} // namespace

class TestImapMessage : public QObject
{
    Q_OBJECT

private slots:
    void strings_data();
    void strings();
    void addresses_data();
    void addresses();
    void envelope_data();
    void envelope();
    void bodyStructure_data();
    void bodyStructure();
    void sections_data();
    void sections();
    void sectionSyntax_data();
    void sectionSyntax();
    void partial_data();
    void partial();
    void binary_data();
    void binary();
    void forwardedSample();
    void everySample();
    void attachedMessagesBeyondTheDepthLimit();
};

void TestImapMessage::strings_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << "abc"_ba << R"("abc")"_ba;
    QTest::newRow("empty") << QByteArray() << R"("")"_ba;
    QTest::newRow("quote and backslash escaped") << R"(a"b\c)"_ba << R"("a\"b\\c")"_ba;
    QTest::newRow("a tab stays quoted") << "a\tb"_ba << "\"a\tb\""_ba;
    QTest::newRow("CR LF: a literal") << "a\r\nb"_ba << "{4}\r\na\r\nb"_ba;
    QTest::newRow("a bare CR: a literal") << "a\rb"_ba << "{3}\r\na\rb"_ba;
    QTest::newRow("8-bit: a literal") << "caf\xc3\xa9"_ba << "{5}\r\ncaf\xc3\xa9"_ba;
    QTest::newRow("NUL sent as 0x80") << "a\0b"_ba << "{3}\r\na\x80"
                                                     "b"_ba;
}

void TestImapMessage::strings()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, expected);
    QCOMPARE(ImapResponse::string(bytes), expected);
}

// The To field of a message that has nothing else: the envelope's seventh
// member, every other NIL (Sender and Reply-To follow the missing From).
void TestImapMessage::addresses_data()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("addr-spec") << "alice@example.com"_ba << R"(((NIL NIL "alice" "example.com")))"_ba;
    QTest::newRow("name-addr") << "Alice <alice@example.com>"_ba << R"((("Alice" NIL "alice" "example.com")))"_ba;
    QTest::newRow("quoted name with a comma, then another")
        << R"("Smith, John" <js@example.com>, bob@example.org)"_ba
        << R"((("Smith, John" NIL "js" "example.com")(NIL NIL "bob" "example.org")))"_ba;
    QTest::newRow("a comment is the name when there is none")
        << "bob@example.org (Bob Builder)"_ba << R"((("Bob Builder" NIL "bob" "example.org")))"_ba;
    QTest::newRow("comments inside a name are white space")
        << "John (the (big) man) Smith <js@x.y>"_ba << R"((("John Smith" NIL "js" "x.y")))"_ba;
    QTest::newRow("obsolete route")
        << "Relay <@r1.example,@r2.example:user@example.com>"_ba
        << R"((("Relay" "@r1.example,@r2.example" "user" "example.com")))"_ba;
    QTest::newRow("no domain: host empty, not NIL (a group marker)") << "root"_ba << R"(((NIL NIL "root" "")))"_ba;
    QTest::newRow("no address at all") << "Undisclosed recipients"_ba
                                       << R"(((NIL NIL "Undisclosed recipients" "")))"_ba;
    QTest::newRow("quoted local part kept quoted")
        << R"("john doe"@example.com)"_ba << R"(((NIL NIL "\"john doe\"" "example.com")))"_ba;
    QTest::newRow("domain literal") << "user@[192.0.2.1]"_ba << R"(((NIL NIL "user" "[192.0.2.1]")))"_ba;
    QTest::newRow("IPv6 literal's colons are no group")
        << "a@[IPv6:2001:db8::1]"_ba << R"(((NIL NIL "a" "[IPv6:2001:db8::1]")))"_ba;
    QTest::newRow("encoded words kept")
        << "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>"_ba
        << R"((("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")))"_ba;
    QTest::newRow("encoded word inside quotes kept")
        << R"("=?utf-8?q?R=C3=A9mi?=" <remi@example.fr>)"_ba
        << R"((("=?utf-8?q?R=C3=A9mi?=" NIL "remi" "example.fr")))"_ba;
    QTest::newRow("escaped quotes in a name") << R"("Bob \"the\" Builder" <b@x.y>)"_ba
                                              << R"((("Bob \"the\" Builder" NIL "b" "x.y")))"_ba;
    QTest::newRow("quoted colon is no group") << R"("Re: you" <r@x.y>)"_ba << R"((("Re: you" NIL "r" "x.y")))"_ba;
    QTest::newRow("8-bit name: a literal") << "J\xc3\xb6rg <j@x.de>"_ba << "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.de\"))"_ba;
    QTest::newRow("folded field unfolded") << "Alice\r\n  Example <a@x.y>"_ba << R"((("Alice Example" NIL "a" "x.y")))"_ba;
    QTest::newRow("unterminated angle") << "Bob <bob@x.y"_ba << R"((("Bob" NIL "bob" "x.y")))"_ba;
    QTest::newRow("empty group") << "undisclosed-recipients:;"_ba
                                 << R"(((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)))"_ba;
    QTest::newRow("group with members, then a mailbox")
        << R"(Team: "Doe, Jane" <jane@x.y>, bob@x.y;, carol@x.y)"_ba
        << R"(((NIL NIL "Team" NIL)("Doe, Jane" NIL "jane" "x.y")(NIL NIL "bob" "x.y")(NIL NIL NIL NIL)(NIL NIL "carol" "x.y")))"_ba;
    QTest::newRow("group not closed") << "Team: a@x.y, b@x.y"_ba
                                      << R"(((NIL NIL "Team" NIL)(NIL NIL "a" "x.y")(NIL NIL "b" "x.y")(NIL NIL NIL NIL)))"_ba;
    QTest::newRow("empty field") << QByteArray() << "NIL"_ba;
    QTest::newRow("only commas") << " , ,"_ba << "NIL"_ba;
}

void TestImapMessage::addresses()
{
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, expected);
    const MimeMessage message = MimeMessage::parse("To: " + field + "\r\n\r\n");
    QCOMPARE(ImapMessage::envelope(message), "(NIL NIL NIL NIL NIL " + expected + " NIL NIL NIL NIL)");
}

void TestImapMessage::envelope_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("every field")
        << nestedMultipart()
        << R"(("Mon, 7 Dec 2026 10:00:00 +0100" "Report" (("Alice Example" NIL "alice" "example.com")))"
           R"( (("Alice Example" NIL "alice" "example.com")) (("Alice Example" NIL "alice" "example.com")))"
           R"( (("Bob" NIL "bob" "example.org")) NIL NIL NIL "<a1@example.com>"))"_ba;
    QTest::newRow("encoded words raw, groups, Sender given, Reply-To empty is From")
        << withAttachedMessages()
        << R"(("Tue, 8 Dec 2026 09:30:00 +0000" "=?UTF-8?B?R3LDvMOfZQ==?= and \"quotes\" \\ backslash")"
           R"( (("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.de")) (("Secretary" NIL "sec" "example.de")))"
           R"( (("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.de")))"
           R"( ((NIL NIL "Team" NIL)("Doe, Jane" NIL "jane" "example.com")(NIL NIL "bob" "example.com"))"
           R"((NIL NIL NIL NIL)(NIL NIL "carol" "example.net")))"
           R"( ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL "<a1@example.com>" "<b2@example.de>"))"_ba;
    QTest::newRow("8-bit subject as a literal, LF line ends")
        << lfOnly8Bit()
        << "(NIL {5}\r\ncaf\xc3\xa9 ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) ((NIL NIL \"x\" \"y\")) NIL NIL NIL NIL NIL)"_ba;
    QTest::newRow("folded subject unfolded, its white space kept")
        << foldedHeaders() << R"((NIL "a long  subject" NIL NIL NIL NIL NIL NIL NIL NIL))"_ba;
    QTest::newRow("no header at all") << "\r\nbody"_ba << "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"_ba;
    QTest::newRow("empty subject is an empty string")
        << "Subject:\r\nFrom: a@b.c\r\nBcc: d@e.f\r\n\r\n"_ba
        << R"((NIL "" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL ((NIL NIL "d" "e.f")) NIL NIL))"_ba;
}

void TestImapMessage::envelope()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, expected);
    QCOMPARE(ImapMessage::envelope(MimeMessage::parse(message)), expected);
}

void TestImapMessage::bodyStructure_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("bodyStructure");

    QTest::newRow("nested multiparts")
        << nestedMultipart()
        << R"(((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 20 2))"
           R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 9 1) "ALTERNATIVE"))"
           R"(("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 8) "MIXED"))"_ba
        << R"(((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 20 2 NIL NIL NIL NIL))"
           R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 9 1 NIL NIL NIL NIL))"
           R"( "ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL))"
           R"(("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 8 NIL)"
           R"( ("ATTACHMENT" ("FILENAME" "data.bin")) ("en" "de") "http://example.com/data.bin"))"
           R"( "MIXED" ("BOUNDARY" "outer") NIL NIL NIL))"_ba;

    const QByteArray innerEnvelope = R"((NIL "Inner" (("Carol" NIL "carol" "example.net")))"
                                     R"( (("Carol" NIL "carol" "example.net")) (("Carol" NIL "carol" "example.net")))"
                                     R"( NIL NIL NIL NIL NIL))"_ba;
    const QByteArray noteEnvelope = R"((NIL "Note" NIL NIL NIL NIL NIL NIL NIL NIL))"_ba;
    const QByteArray attachedBody =
        "(" + plainText(13, 1, false) + R"(("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" 192 )" + innerEnvelope + " ("
        + plainText(5, 1, false) + R"(("TEXT" "HTML" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 11 1) "ALTERNATIVE") 13))"
        + R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 29 )" + noteEnvelope + ' ' + plainText(12, 1, false) + R"( 3) "MIXED"))";
    const QByteArray attachedStructure =
        "(" + plainText(13, 1, true) + R"(("MESSAGE" "RFC822" NIL NIL "forwarded" "7BIT" 192 )" + innerEnvelope + " ("
        + plainText(5, 1, true)
        + R"(("TEXT" "HTML" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 11 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "c") NIL NIL NIL))"
        + R"( 13 NIL NIL NIL NIL))" + R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 29 )" + noteEnvelope + ' '
        + plainText(12, 1, true) + R"( 3 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b") NIL NIL NIL))";
    QTest::newRow("message/rfc822 parts: a multipart, a single part")
        << withAttachedMessages() << attachedBody << attachedStructure;

    QTest::newRow("not MIME, LF line ends, 8-bit body") << lfOnly8Bit() << plainText(23, 2, false) << plainText(23, 2, true);
    QTest::newRow("no body") << headerOnly() << plainText(0, 0, false) << plainText(0, 0, true);
    QTest::newRow("parameters as written: encoded word, RFC 2231 pieces")
        << inlineImage()
        << R"((("IMAGE" "PNG" ("NAME" "=?UTF-8?Q?Bild_=C3=A4.png?=") "<img1@x>" NIL "BASE64" 12) "MIXED"))"_ba
        << R"((("IMAGE" "PNG" ("NAME" "=?UTF-8?Q?Bild_=C3=A4.png?=") "<img1@x>" NIL "BASE64" 12)"
           R"( "Q2hlY2sgSW50ZWdyaXR5IQ==" ("INLINE" ("FILENAME*0*" "UTF-8''Bild%20" "FILENAME*1*" "%C3%A4.png")))"
           R"( NIL NIL) "MIXED" ("BOUNDARY" "==x==") NIL NIL NIL))"_ba;
    QTest::newRow("multipart without parts: one empty text part")
        << emptyMultipart() << QByteArray("(" + plainText(0, 0, false) + R"( "MIXED"))")
        << QByteArray("(" + plainText(0, 0, true) + R"( "MIXED" ("BOUNDARY" "zz") NIL NIL NIL))");
    QTest::newRow("type upper-cased, comment skipped, unknown encoding as written")
        << unknownEncoding()
        << R"(("TEXT" "PLAIN" ("CHARSET" "iso-8859-1" "FORMAT" "flowed") NIL NIL "X-UUENCODE" 13 1))"_ba
        << R"(("TEXT" "PLAIN" ("CHARSET" "iso-8859-1" "FORMAT" "flowed") NIL NIL "X-UUENCODE" 13 1 NIL NIL NIL NIL))"_ba;
    const QByteArray attachedIn = R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 17 (NIL "In" NIL NIL NIL NIL NIL NIL NIL NIL) )"_ba;
    QTest::newRow("the message itself a message/rfc822")
        << topLevelMessage() << QByteArray(attachedIn + plainText(2, 1, false) + " 3)")
        << QByteArray(attachedIn + plainText(2, 1, true) + " 3 NIL NIL NIL NIL)");
}

void TestImapMessage::bodyStructure()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, bodyStructure);
    const MimeMessage parsed = MimeMessage::parse(message);
    QCOMPARE(ImapMessage::bodyStructure(parsed, false), body);
    QCOMPARE(ImapMessage::bodyStructure(parsed, true), bodyStructure);
}

void TestImapMessage::sections_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("spec"); // as the client sends it, brackets included
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("bytes");

    const QByteArray a = nestedMultipart();
    QTest::newRow("whole message") << a << "[]"_ba << "BODY[]"_ba << a;
    QTest::newRow("HEADER, with its empty line") << a << "[HEADER]"_ba << "BODY[HEADER]"_ba << headerOf(a);
    QTest::newRow("TEXT, preamble and epilogue too") << a << "[text]"_ba << "BODY[TEXT]"_ba << textOf(a);
    QTest::newRow("HEADER.FIELDS in message order")
        << a << "[HEADER.FIELDS (subject From)]"_ba << "BODY[HEADER.FIELDS (SUBJECT FROM)]"_ba
        << "From: Alice Example <alice@example.com>\r\nSubject: Report\r\n\r\n"_ba;
    QTest::newRow("HEADER.FIELDS.NOT")
        << a << "[HEADER.FIELDS.NOT (SUBJECT FROM content-type)]"_ba
        << "BODY[HEADER.FIELDS.NOT (SUBJECT FROM CONTENT-TYPE)]"_ba
        << "To: Bob <bob@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0100\r\nMessage-ID: <a1@example.com>\r\n"
           "MIME-Version: 1.0\r\n\r\n"_ba;
    QTest::newRow("a multipart part: its body, delimiters inside") << a << "[1]"_ba << "BODY[1]"_ba << alternativeBody();
    QTest::newRow("MIME of a multipart part")
        << a << "[1.MIME]"_ba << "BODY[1.MIME]"_ba << "Content-Type: multipart/alternative; boundary=inner\r\n\r\n"_ba;
    QTest::newRow("nested part: the line end before the delimiter is not in it")
        << a << "[1.1]"_ba << "BODY[1.1]"_ba << "Gr=C3=BC=C3=9Fe\r\nBob"_ba;
    QTest::newRow("MIME of a nested part")
        << a << "[1.1.MIME]"_ba << "BODY[1.1.MIME]"_ba
        << "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"_ba;
    QTest::newRow("last part of the inner multipart") << a << "[1.2]"_ba << "BODY[1.2]"_ba << "<p>Hi</p>"_ba;
    QTest::newRow("base64 part as sent") << a << "[2]"_ba << "BODY[2]"_ba << "AAEC/w=="_ba;
    QTest::newRow("MIME of the last part")
        << a << "[2.MIME]"_ba << "BODY[2.MIME]"_ba
        << crlf("Content-Type: application/octet-stream; name=\"data.bin\"\n"
                "Content-Disposition: attachment; filename=\"data.bin\"\n"
                "Content-Transfer-Encoding: base64\n"
                "Content-Language: en, de\n"
                "Content-Location: http://example.com/data.bin\n"
                "\n"_ba);
    QTest::newRow("no part 3") << a << "[3]"_ba << "BODY[3]"_ba << QByteArray();
    QTest::newRow("no part 1.3") << a << "[1.3]"_ba << "BODY[1.3]"_ba << QByteArray();
    QTest::newRow("a leaf has no parts") << a << "[2.1]"_ba << "BODY[2.1]"_ba << QByteArray();
    QTest::newRow("HEADER of a part that is no message") << a << "[2.HEADER]"_ba << "BODY[2.HEADER]"_ba << QByteArray();
    QTest::newRow("TEXT of a multipart part") << a << "[1.TEXT]"_ba << "BODY[1.TEXT]"_ba << QByteArray();

    const QByteArray b = withAttachedMessages();
    QTest::newRow("message/rfc822 part: the whole attached message") << b << "[2]"_ba << "BODY[2]"_ba << attachedMultipart();
    QTest::newRow("HEADER of the attached message")
        << b << "[2.HEADER]"_ba << "BODY[2.HEADER]"_ba << headerOf(attachedMultipart());
    QTest::newRow("TEXT of the attached message") << b << "[2.TEXT]"_ba << "BODY[2.TEXT]"_ba << textOf(attachedMultipart());
    QTest::newRow("MIME of the message/rfc822 part")
        << b << "[2.MIME]"_ba << "BODY[2.MIME]"_ba << "Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n"_ba;
    QTest::newRow("numbering goes on inside the attached message") << b << "[2.1]"_ba << "BODY[2.1]"_ba << "plain"_ba;
    QTest::newRow("its second part") << b << "[2.2]"_ba << "BODY[2.2]"_ba << "<b>html</b>"_ba;
    QTest::newRow("MIME inside the attached message")
        << b << "[2.1.MIME]"_ba << "BODY[2.1.MIME]"_ba << "Content-Type: text/plain\r\n\r\n"_ba;
    QTest::newRow("HEADER.FIELDS of the attached message")
        << b << "[2.HEADER.FIELDS (SUBJECT)]"_ba << "BODY[2.HEADER.FIELDS (SUBJECT)]"_ba << "Subject: Inner\r\n\r\n"_ba;
    QTest::newRow("no part 2.3") << b << "[2.3]"_ba << "BODY[2.3]"_ba << QByteArray();
    QTest::newRow("HEADER of a text part") << b << "[1.HEADER]"_ba << "BODY[1.HEADER]"_ba << QByteArray();
    QTest::newRow("attached single part: 3.1 is its body") << b << "[3.1]"_ba << "BODY[3.1]"_ba << "Just a note."_ba;
    QTest::newRow("attached single part: 3.1.MIME is its header")
        << b << "[3.1.MIME]"_ba << "BODY[3.1.MIME]"_ba << "Subject: Note\r\n\r\n"_ba;
    QTest::newRow("attached single part: HEADER") << b << "[3.HEADER]"_ba << "BODY[3.HEADER]"_ba << "Subject: Note\r\n\r\n"_ba;
    QTest::newRow("attached single part: TEXT") << b << "[3.TEXT]"_ba << "BODY[3.TEXT]"_ba << "Just a note."_ba;
    QTest::newRow("attached single part: no 3.2") << b << "[3.2]"_ba << "BODY[3.2]"_ba << QByteArray();

    const QByteArray d = lfOnly8Bit();
    const QByteArray dHeader = "From: x@y\nSubject: caf\xc3\xa9\n\n"_ba;
    const QByteArray dBody = "Line one\nLigne deux \xc3\xa0\n"_ba;
    QTest::newRow("LF: part 1 of a message that is not multipart is its body") << d << "[1]"_ba << "BODY[1]"_ba << dBody;
    QTest::newRow("LF: TEXT") << d << "[TEXT]"_ba << "BODY[TEXT]"_ba << dBody;
    QTest::newRow("LF: HEADER") << d << "[HEADER]"_ba << "BODY[HEADER]"_ba << dHeader;
    QTest::newRow("LF: HEADER.FIELDS ends with the message's own empty line")
        << d << "[HEADER.FIELDS (SUBJECT)]"_ba << "BODY[HEADER.FIELDS (SUBJECT)]"_ba << "Subject: caf\xc3\xa9\n\n"_ba;
    QTest::newRow("LF: 1.MIME is the message's header") << d << "[1.MIME]"_ba << "BODY[1.MIME]"_ba << dHeader;
    QTest::newRow("LF: no part 2") << d << "[2]"_ba << "BODY[2]"_ba << QByteArray();
    QTest::newRow("LF: no part 1.1") << d << "[1.1]"_ba << "BODY[1.1]"_ba << QByteArray();

    const QByteArray e = foldedHeaders();
    QTest::newRow("a field twice, continuation lines as written")
        << e << "[HEADER.FIELDS (RECEIVED)]"_ba << "BODY[HEADER.FIELDS (RECEIVED)]"_ba
        << "Received: from a by b\r\nReceived: from c\r\n by d\r\n\r\n"_ba;
    QTest::newRow("folded field, white space before the colon")
        << e << "[HEADER.FIELDS (subject comments)]"_ba << "BODY[HEADER.FIELDS (SUBJECT COMMENTS)]"_ba
        << "Subject: a long\r\n  subject\r\nComments : spaced\r\n\r\n"_ba;
    QTest::newRow(".NOT leaves out the mbox separator")
        << e << "[HEADER.FIELDS.NOT (received subject)]"_ba << "BODY[HEADER.FIELDS.NOT (RECEIVED SUBJECT)]"_ba
        << "Comments : spaced\r\nX-Empty:\r\n\r\n"_ba;
    QTest::newRow("no field matches: the empty line alone")
        << e << "[HEADER.FIELDS (X-NONE)]"_ba << "BODY[HEADER.FIELDS (X-NONE)]"_ba << "\r\n"_ba;
    QTest::newRow("HEADER keeps the mbox separator as stored") << e << "[HEADER]"_ba << "BODY[HEADER]"_ba << headerOf(e);
    QTest::newRow("TEXT after folded fields") << e << "[TEXT]"_ba << "BODY[TEXT]"_ba << "body\r\n"_ba;

    const QByteArray j = headerOnly();
    QTest::newRow("header only: HEADER has no empty line") << j << "[HEADER]"_ba << "BODY[HEADER]"_ba << j;
    QTest::newRow("header only: HEADER.FIELDS adds it")
        << j << "[HEADER.FIELDS (Subject)]"_ba << "BODY[HEADER.FIELDS (SUBJECT)]"_ba << "Subject: only\r\n\r\n"_ba;
    QTest::newRow("header only: TEXT empty") << j << "[TEXT]"_ba << "BODY[TEXT]"_ba << QByteArray();

    const QByteArray i = topLevelMessage();
    QTest::newRow("top message/rfc822: 1 is the attached message") << i << "[1]"_ba << "BODY[1]"_ba
                                                                   << "Subject: In\r\n\r\nhi"_ba;
    QTest::newRow("top message/rfc822: 1.HEADER") << i << "[1.HEADER]"_ba << "BODY[1.HEADER]"_ba << "Subject: In\r\n\r\n"_ba;
    QTest::newRow("top message/rfc822: 1.TEXT") << i << "[1.TEXT]"_ba << "BODY[1.TEXT]"_ba << "hi"_ba;
    QTest::newRow("top message/rfc822: 1.1") << i << "[1.1]"_ba << "BODY[1.1]"_ba << "hi"_ba;
    QTest::newRow("top message/rfc822: 1.MIME")
        << i << "[1.MIME]"_ba << "BODY[1.MIME]"_ba << "Content-Type: message/rfc822\r\n\r\n"_ba;
    QTest::newRow("top message/rfc822: no 1.2") << i << "[1.2]"_ba << "BODY[1.2]"_ba << QByteArray();
}

void TestImapMessage::sections()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, spec);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, bytes);
    const QList<QByteArray> parts{spec};
    ImapArgumentReader reader(parts);
    const std::optional<ImapSection> section = ImapSection::parse(reader);
    QVERIFY2(section, reader.fault().constData());
    QVERIFY(reader.atEnd());
    QCOMPARE(section->name(), name);
    QCOMPARE(ImapMessage::sectionBytes(MimeMessage::parse(message), *section), bytes);
}

// Section specs alone: the canonical name, or a fault (and then nothing).
void TestImapMessage::sectionSyntax_data()
{
    QTest::addColumn<QByteArrayList>("parts"); // lines and literals, as ImapCommandReader frames them
    QTest::addColumn<bool>("binary");
    QTest::addColumn<QByteArray>("name"); // empty: refused
    QTest::addColumn<QByteArray>("rest"); // what is left after the section

    const auto row = [](const char *title, const QByteArrayList &parts, bool binary, const QByteArray &name,
                        const QByteArray &rest = {}) {
        QTest::newRow(title) << parts << binary << name << rest;
    };
    row("empty", {"[]"}, false, "BODY[]");
    row("keywords in any case", {"[1.2.header.fields (from To)]"}, false, "BODY[1.2.HEADER.FIELDS (FROM TO)]");
    row("a quoted field name echoed as an atom", {R"([HEADER.FIELDS.NOT ("x-y" list-id)])"}, false,
        "BODY[HEADER.FIELDS.NOT (X-Y LIST-ID)]");
    row("a field name that must stay quoted", {R"([HEADER.FIELDS ("a b")])"}, false, R"(BODY[HEADER.FIELDS ("A B")])");
    row("a field name as a literal", {"[HEADER.FIELDS ({5}", "x-foo", ")]"}, false, "BODY[HEADER.FIELDS (X-FOO)]");
    row("MIME after a part", {"[4.MIME]"}, false, "BODY[4.MIME]");
    row("TEXT after a part", {"[3.text]"}, false, "BODY[3.TEXT]");
    row("largest part number", {"[4294967295]"}, false, "BODY[4294967295]");
    row("a partial is left to the caller", {"[1]<0.10>"}, false, "BODY[1]", "<0.10>");
    row("MIME without a part", {"[MIME]"}, false, {});
    row("part 0", {"[0]"}, false, {});
    row("part 1.0", {"[1.0]"}, false, {});
    row("a dot and nothing", {"[1.]"}, false, {});
    row("an unknown keyword", {"[FOO]"}, false, {});
    row("HEADER.FIELDS without names", {"[HEADER.FIELDS ()]"}, false, {});
    row("HEADER.FIELDS without a list", {"[HEADER.FIELDS]"}, false, {});
    row("list not closed", {"[HEADER.FIELDS (FROM]"}, false, {});
    row("space before the bracket", {"[TEXT ]"}, false, {});
    row("no closing bracket", {"[1"}, false, {});
    row("no opening bracket", {"1]"}, false, {});
    row("part number over 32 bits", {"[4294967296]"}, false, {});
    row("binary: empty", {"[]"}, true, "BINARY[]");
    row("binary: parts", {"[1.2]"}, true, "BINARY[1.2]");
    row("binary: no MIME", {"[1.MIME]"}, true, {});
    row("binary: no HEADER", {"[HEADER]"}, true, {});
    row("binary: a dot and nothing", {"[1.]"}, true, {});
}

void TestImapMessage::sectionSyntax()
{
    QFETCH(QByteArrayList, parts);
    QFETCH(bool, binary);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, rest);
    ImapArgumentReader reader(parts);
    const std::optional<ImapSection> section = binary ? ImapSection::parseBinary(reader) : ImapSection::parse(reader);
    if (name.isEmpty()) {
        QVERIFY(!section);
        QVERIFY(!reader.ok());
        return;
    }
    QVERIFY2(section, reader.fault().constData());
    QCOMPARE(section->name(binary ? "BINARY" : "BODY"), name);
    for (const char c : std::as_const(rest))
        QVERIFY(reader.take(c));
    QVERIFY(reader.atEnd());
}

void TestImapMessage::partial_data()
{
    QTest::addColumn<QByteArray>("spec");
    QTest::addColumn<QByteArray>("expected"); // of "0123456789"; "fault" when refused
    QTest::newRow("from the start") << "<0.4>"_ba << "0123"_ba;
    QTest::newRow("inside") << "<3.2>"_ba << "34"_ba;
    QTest::newRow("past the end: what there is") << "<8.10>"_ba << "89"_ba;
    QTest::newRow("at the end: empty") << "<10.1>"_ba << ""_ba;
    QTest::newRow("beyond the end: empty") << "<20.5>"_ba << ""_ba;
    QTest::newRow("64-bit values") << "<9223372036854775807.9223372036854775807>"_ba << ""_ba;
    QTest::newRow("count 0") << "<5.0>"_ba << "fault"_ba;
    QTest::newRow("no count") << "<5>"_ba << "fault"_ba;
    QTest::newRow("not closed") << "<5.1"_ba << "fault"_ba;
}

void TestImapMessage::partial()
{
    QFETCH(QByteArray, spec);
    QFETCH(QByteArray, expected);
    const QList<QByteArray> parts{spec};
    ImapArgumentReader reader(parts);
    const std::optional<ImapPartial> partial = ImapPartial::parse(reader);
    if (expected == "fault") {
        QVERIFY(!partial);
        QVERIFY(!reader.ok());
        return;
    }
    QVERIFY2(partial, reader.fault().constData());
    QVERIFY(reader.atEnd());
    QCOMPARE(partial->cut("0123456789"_ba), expected);
}

void TestImapMessage::binary_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("part");
    QTest::addColumn<ImapBinarySection::Outcome>("outcome");
    QTest::addColumn<QByteArray>("bytes");
    using Outcome = ImapBinarySection::Outcome;
    const QByteArray a = nestedMultipart();
    QTest::newRow("quoted-printable") << a << "1.1"_ba << Outcome::Decoded << "Gr\xc3\xbc\xc3\x9f"
                                                                              "e\r\nBob"_ba;
    QTest::newRow("base64 to bytes") << a << "2"_ba << Outcome::Decoded << QByteArray("\x00\x01\x02\xff", 4);
    QTest::newRow("7bit as it is") << a << "1.2"_ba << Outcome::Decoded << "<p>Hi</p>"_ba;
    QTest::newRow("a multipart") << a << "1"_ba << Outcome::Multipart << QByteArray();
    QTest::newRow("no such part") << a << "3"_ba << Outcome::Decoded << QByteArray();
    QTest::newRow("the whole message as stored") << a << ""_ba << Outcome::Decoded << a;
    QTest::newRow("base64 image") << inlineImage() << "1"_ba << Outcome::Decoded << "\x89PNG\r\n\x1a\n"_ba;
    QTest::newRow("unknown encoding") << unknownEncoding() << "1"_ba << Outcome::UnknownEncoding << QByteArray();
    QTest::newRow("quoted-printable soft line break, encoding in mixed case")
        << quotedPrintableText() << "1"_ba << Outcome::Decoded << "caf\xc3\xa9 au lait=1\r\n"_ba;
    const QByteArray b = withAttachedMessages();
    QTest::newRow("a message/rfc822 part") << b << "2"_ba << Outcome::Decoded << attachedMultipart();
    QTest::newRow("inside an attached message") << b << "2.1"_ba << Outcome::Decoded << "plain"_ba;
    QTest::newRow("an attached multipart") << b << "2.1.1"_ba << Outcome::Decoded << QByteArray();
}

void TestImapMessage::binary()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, part);
    QFETCH(ImapBinarySection::Outcome, outcome);
    QFETCH(QByteArray, bytes);
    const ImapBinarySection section = ImapMessage::binarySection(MimeMessage::parse(message), partNumbers(part));
    QCOMPARE(section.outcome, outcome);
    QCOMPARE(section.bytes, bytes);
}

// A Thunderbird forward as attachment (tests/data/messages): the attached
// message's own multipart reached through part 2.
void TestImapMessage::forwardedSample()
{
    QFile file(QFINDTESTDATA("../../data/messages/thunderbird-forward-as-attachment.eml"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray raw = file.readAll();
    const MimeMessage message = MimeMessage::parse(raw);
    const auto section = [&](QList<quint32> part, ImapSection::Text text, QList<QByteArray> fields = {}) {
        return ImapMessage::sectionBytes(message, ImapSection{part, text, fields});
    };
    QCOMPARE(section({2}, ImapSection::Text::HeaderFields, {"subject", "FROM"}),
             "From: Supplier Sales <sales@supplier.example>\r\nSubject: Quote for the new laptops\r\n\r\n"_ba);
    QCOMPARE(section({2, 1}, ImapSection::Text::Mime),
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"_ba);
    QCOMPARE(section({2}, ImapSection::Text::Mime), "Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"_ba);
    const QByteArray attached = section({2}, ImapSection::Text::All);
    QVERIFY(attached.startsWith("Return-Path: <sales@supplier.example>\r\n"));
    QVERIFY(attached.endsWith("\r\n--=_supplier_b1_9f8e7d6c--\r\n"));
    QCOMPARE(section({2}, ImapSection::Text::Header) + section({2}, ImapSection::Text::Text), attached);
    QCOMPARE(raw.count(attached), 1);

    const ImapBinarySection pdf = ImapMessage::binarySection(message, {2, 2});
    QCOMPARE(pdf.outcome, ImapBinarySection::Outcome::Decoded);
    QVERIFY(pdf.bytes.startsWith("%PDF-1.4\n"));
    QVERIFY(pdf.bytes.endsWith("%%EOF\n"));

    const QByteArray structure = ImapMessage::bodyStructure(message, true);
    QVERIFY(structure.startsWith(R"((("TEXT" "PLAIN" ("CHARSET" "UTF-8" "FORMAT" "flowed") NIL NIL "7BIT" )"));
    const QByteArray attachedStart = R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" )" + QByteArray::number(attached.size())
        + R"( ("Wed, 25 Nov 2026 17:45:00 +0100" "Quote for the new laptops")"
          R"( (("Supplier Sales" NIL "sales" "supplier.example")))";
    QVERIFY(structure.contains(attachedStart));
    QVERIFY(structure.contains(R"(("APPLICATION" "PDF" ("NAME" "quote-1182.pdf") NIL NIL "BASE64" )"));
    QVERIFY(structure.contains(R"(("ATTACHMENT" ("FILENAME" "quote-1182.pdf")) NIL NIL) "MIXED")"
                               R"( ("BOUNDARY" "=_supplier_b1_9f8e7d6c") NIL NIL NIL))"));
    QVERIFY(structure.endsWith(R"( "MIXED" ("BOUNDARY" "------------dF7gH8jK9lM0nP1qR2sT3uV4") NIL ("en-US") NIL))"));
}

// Every sample of tests/data/messages: ENVELOPE, BODY and BODYSTRUCTURE
// are well-formed lists, and every part's MIME header stands right before
// its body in the message (part numbers tried up to 4 levels, 1 to 4).
void TestImapMessage::everySample()
{
    const QDir directory(QFINDTESTDATA("../../data/messages"));
    const QStringList names = directory.entryList({u"*.eml"_s}, QDir::Files);
    QVERIFY(!names.isEmpty());
    for (const QString &name : names) {
        QFile file(directory.filePath(name));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray raw = file.readAll();
        const MimeMessage message = MimeMessage::parse(raw);
        QVERIFY2(isOneList(ImapMessage::envelope(message)), qPrintable(name));
        QVERIFY2(isOneList(ImapMessage::bodyStructure(message, false)), qPrintable(name));
        QVERIFY2(isOneList(ImapMessage::bodyStructure(message, true)), qPrintable(name));
        QList<QList<quint32>> paths{{}};
        for (qsizetype i = 0; i < paths.size(); ++i) {
            if (paths.at(i).size() == 4)
                continue;
            for (quint32 number = 1; number <= 4; ++number)
                paths.append(paths.at(i) + QList<quint32>{number});
        }
        for (const QList<quint32> &path : std::as_const(paths)) {
            if (path.isEmpty())
                continue;
            const QByteArray mime = ImapMessage::sectionBytes(message, ImapSection{path, ImapSection::Text::Mime, {}});
            const QByteArray body = ImapMessage::sectionBytes(message, ImapSection{path, ImapSection::Text::All, {}});
            const ImapSection all{path, ImapSection::Text::All, {}};
            QVERIFY2(raw.contains(QByteArray(mime + body)), qPrintable(name + u' ' + QString::fromLatin1(all.name())));
            const ImapBinarySection binary = ImapMessage::binarySection(message, path);
            if (binary.outcome == ImapBinarySection::Outcome::Multipart)
                QVERIFY(body.contains("--"));
        }
    }
}

// Past MimeMessage's depth limit a message/rfc822 part holds no parsed
// message: it is described as bytes, so the structure stays grammatical.
void TestImapMessage::attachedMessagesBeyondTheDepthLimit()
{
    QByteArray raw;
    for (int i = 0; i <= MimeMessage::MaxDepth; ++i)
        raw += "Content-Type: message/rfc822\r\n\r\n";
    raw += "Subject: deep\r\n\r\nhi";
    const QByteArray structure = ImapMessage::bodyStructure(MimeMessage::parse(raw), true);
    QVERIFY(isOneList(structure));
    QCOMPARE(structure.count(R"(("MESSAGE" "RFC822" )"), MimeMessage::MaxDepth);
    QCOMPARE(structure.count(R"(("APPLICATION" "OCTET-STREAM" NIL NIL NIL "7BIT" 19 NIL NIL NIL NIL))"), 1);
}

QTEST_APPLESS_MAIN(TestImapMessage)
#include "tst_imapmessage.moc"
