#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/) from the
test data: the C: lines of tst_smtpsession and tst_pop3session (and the C:
and C< steps of tst_imapsession) as whole conversations, the requests of
tst_httpparser, the replies of tst_smtpreply and tst_smtpsession, the
messages of tests/data/messages. Each file starts with the option bytes its
fuzz target reads (see the comment at the top of each fuzz_*.cpp). Run once after the tests change; the output is committed.
Files the fuzzers found (scripts/fuzz.sh) sit beside these, named by their
SHA-1 hash; this script writes only seed-*, and removes none."""

import base64
import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fuzz" / "corpus"
MAX_BYTES = 64 * 1024

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def unescape(text):
    """A C string literal's bytes (the escapes the tests use)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = text[i + 1]
        if n == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
            out.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
            continue
        if n.isdigit():
            m = re.match(r"[0-7]{1,3}", text[i + 1:])
            out.append(int(m.group(0), 8))
            i += 1 + len(m.group(0))
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"'}.get(n, n.encode())
        i += 2
    return bytes(out)


def literals(path):
    return [unescape(m.group(1)) for m in LITERAL.finditer(path.read_text(encoding="utf-8"))]


def write(target, name, data):
    directory = OUT / target
    directory.mkdir(parents=True, exist_ok=True)
    data = data[:MAX_BYTES]
    (directory / f"seed-{name}").write_bytes(data)


def client_lines(test):
    """The client's lines of a session test's scripts, in order, deduplicated."""
    seen, lines = set(), []
    for literal in literals(test):
        if literal.startswith(b"C: ") and literal not in seen:
            seen.add(literal)
            lines.append(literal[3:] + b"\r\n")
    return lines


def groups(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def smtp_session():
    # Byte 0: options (0x01 implicit TLS; 0 = logins accepted, STARTTLS);
    # byte 1: cutting (2 = a line per read, so the handshake comes between).
    plain = base64.b64encode(b"\0alice\0alice-password")
    to_auth = b"EHLO client.example\r\nSTARTTLS\r\nEHLO client.example\r\nAUTH PLAIN " + plain + b"\r\n"
    to_auth_implicit = b"EHLO client.example\r\nAUTH PLAIN " + plain + b"\r\n"
    transaction = b"MAIL FROM:<alice@project.com>\r\nRCPT TO:<bob@project.com>\r\n"
    lines = client_lines(ROOT / "tests/servers/smtp/tst_smtpsession.cpp")
    for n, group in enumerate(groups(lines, 8)):
        write("fuzz_smtp_session", f"script-{n:02}", b"\x00\x02" + to_auth + b"".join(group))
    for n, eml in enumerate(sorted((ROOT / "tests/data/messages").glob("*.eml"))):
        body = eml.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = b"".join(b"." + line if line.startswith(b".") else line for line in body.splitlines(keepends=True))
        conversation = to_auth_implicit + transaction + b"DATA\r\n" + body + b".\r\nQUIT\r\n"
        # implicit TLS, cut at pseudo-random sizes
        write("fuzz_smtp_session", f"message-{eml.stem}", bytes([0x01, 7 + n]) + conversation)
    write("fuzz_smtp_session", "register", b"\x00\x02EHLO c\r\nSTARTTLS\r\nEHLO c\r\nREG "
          + base64.b64encode(b"dave\0dave-password") + b"\r\nQUIT\r\n")
    # 0x05: implicit TLS and the small size limits (a 256-octet header section).
    big_header = b"From: alice@project.com\r\nTo: " + b",\r\n ".join(b"u%d@example.org" % i for i in range(30)) + b"\r\n\r\n"
    write("fuzz_smtp_session", "header-too-large", b"\x05\x02" + to_auth_implicit + transaction + b"DATA\r\n"
          + big_header + b"x\r\n.\r\n" + transaction + b"DATA\r\nSubject: s\r\n\r\nx\r\n.\r\nQUIT\r\n")
    # Ends inside DATA with an odd size: the DATA deadline ends the session.
    write("fuzz_smtp_session", "data-deadline", b"\x01\x02" + to_auth_implicit + transaction
          + b"DATA\r\nSubject: slow\r\n\r\npart")
    write("fuzz_smtp_session", "auth-login", b"\x01\x01EHLO c\r\nAUTH LOGIN\r\n" + base64.b64encode(b"alice")
          + b"\r\n" + base64.b64encode(b"alice-password") + b"\r\n" + transaction + b"DATA\r\nSubject: s\r\n\r\nx\r\n.\r\n")


def pop3_session():
    # Byte 0: options (0x01 implicit TLS; 0 = logins accepted); byte 1:
    # cutting (2 = a line per read, with the per-command checks).
    login = b"STLS\r\nUSER alice\r\nPASS secret\r\n"
    lines = client_lines(ROOT / "tests/servers/pop3/tst_pop3session.cpp")
    for n, group in enumerate(groups(lines, 8)):
        write("fuzz_pop3_session", f"script-{n:02}", b"\x00\x02" + login + b"".join(group))
    write("fuzz_pop3_session", "everything", b"\x01\x02CAPA\r\nAUTH PLAIN " + base64.b64encode(b"\0alice\0secret")
          + b"\r\nSTAT\r\nLIST\r\nUIDL\r\nLIST 1\r\nRETR 1\r\nTOP 1 1\r\nTOP 3 0\r\nDELE 2\r\nRSET\r\nDELE 1\r\nNOOP\r\nQUIT\r\n")


def http_request():
    # Byte 0: limits (low 2 bits) and cutting (the rest).
    test = ROOT / "tests/servers/web/tst_httpparser.cpp"
    requests = [lit for lit in literals(test) if re.match(rb"^[A-Z]+ \S* ?HTTP/|^[A-Z]+ /", lit)]
    requests += [
        b"GET /api/v1/mailboxes/inbox/messages?limit=10&before=42 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer abc\r\n\r\n",
        b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n"
        b'{"username":"alice","password":"secret1"}',
        b"GET /one HTTP/1.1\r\nHost: h\r\n\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}GET /three HTTP/1.0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"\r\n\r\nGET /x HTTP/1.1\nHost: h\n\n",
        # Host and Authorization twice (RFC 9110 §5.3: 400), among others and pipelined after a good request
        b"GET /api/v1/account HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer abc\r\nX-A: 1\r\n"
        b"authorization: Bearer abd\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET /healthz HTTP/1.1\r\nHost: h\r\nHOST: evil\r\n\r\n",
    ]
    for n, request in enumerate(dict.fromkeys(requests)):
        write("fuzz_http_request", f"request-{n:02}", bytes([(n % 4) | ((n * 5 % 60) << 2)]) + request)


def smtp_reply():
    # Byte 0: cutting.
    replies = [lit for lit in literals(ROOT / "tests/client/tst_smtpreply.cpp") if re.match(rb"^\d{3}", lit)]
    for lit in literals(ROOT / "tests/servers/smtp/tst_smtpsession.cpp"):
        if lit.startswith(b"S: ") and re.match(rb"^\d{3} ", lit[3:]):
            replies.append(lit[3:].replace(b" * ", b" ").replace(b"...", b"text").replace(b"{id}", b"0123ABCD") + b"\r\n")
    replies = list(dict.fromkeys(replies))
    for n, group in enumerate(groups(replies, 6)):
        write("fuzz_smtp_reply", f"replies-{n:02}", bytes([n % 64]) + b"".join(group))
    write("fuzz_smtp_reply", "ehlo", b"\x01220 mx.project.com ESMTP Mailroom\r\n250-mx.project.com\r\n250-PIPELINING\r\n"
          b"250-SIZE 26214400\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n")


def mail_message():
    for eml in sorted((ROOT / "tests/data/messages").glob("*.eml")):
        write("fuzz_mail_message", eml.stem, eml.read_bytes())
    test = ROOT / "tests/common/tst_mailparsing.cpp"
    snippets = [lit for lit in literals(test) if b"\r\n" in lit and len(lit) > 12]
    for n, snippet in enumerate(dict.fromkeys(snippets)):
        write("fuzz_mail_message", f"snippet-{n:02}", snippet)
    # Address fields past the 1,000 mailboxes a summary keeps
    # (MessageSummary::MaxAddresses): counted on, groups, unparsable ones.
    many = b",".join(b"u%d@x" % i for i in range(1, 1202))
    group = b"G: " + b", ".join(b'"N, %d" <g%d@x> (c)' % (i, i) for i in range(1, 60)) + b";, bad, <>, u@x"
    write("fuzz_mail_message", "many-addresses",
          b"From: a@x, b@x\r\nTo: " + many + b"\r\nCc: " + group + b"\r\nSubject: s\r\n\r\nbody\r\n")


def search_query():
    # No option bytes: the input is the query.
    test = ROOT / "tests/common/tst_searchquery.cpp"
    names = {unescape(m.group(1)) for m in re.finditer(r'newRow\("((?:[^"\\\n]|\\.)*)"', test.read_text(encoding="utf-8"))}
    queries = [lit for lit in literals(test) if lit and len(lit) < 200 and lit not in names]
    for n, query in enumerate(dict.fromkeys(queries)):
        write("fuzz_search_query", f"query-{n:02}", query)


def imap_command():
    # Byte 0: how the input is cut into reads (0 whole, 1 bytewise, 2 lines,
    # else pseudo-random); then the rows of tst_imapcommandreader's table.
    test = ROOT / "tests/servers/imap/tst_imapcommandreader.cpp"
    inputs = [lit for lit in literals(test) if b"\n" in lit]
    for n, data in enumerate(dict.fromkeys(inputs)):
        write("fuzz_imap_command", f"row-{n:02}", bytes([n % 4]) + data)
    write("fuzz_imap_command", "append-at-the-limit", b"\x01a1 APPEND INBOX {512}\r\n" + b"m" * 512 + b"\r\n")


def imap_session():
    # Byte 0: options (0x01 implicit TLS; bits 1-2 the login answer, 0 =
    # accepted; 0x08 the fake mailbox); byte 1: cutting (2 = a line per read).
    # The C: and C< steps of tst_imapsession in groups, after a login and a
    # SELECT, so that most of them reach the selected state.
    login = b"l0 LOGIN alice alice-password\r\ns0 SELECT INBOX\r\n"
    seen, steps = set(), []
    for literal in literals(ROOT / "tests/servers/imap/tst_imapsession.cpp"):
        if literal in seen:
            continue
        seen.add(literal)
        if literal.startswith(b"C: "):
            steps.append(literal[3:] + b"\r\n")
        elif literal.startswith(b"C< "):
            steps.append(literal[3:])
    for n, group in enumerate(groups(steps, 8)):
        # implicit TLS, a line per read; every fourth with the fake mailbox
        write("fuzz_imap_session", f"script-{n:02}", bytes([0x01 | (0x08 if n % 4 == 3 else 0), 2]) + login
              + b"".join(group))
    message = b"From: alice@project.com\r\nSubject: appended\r\n\r\nfour\r\n"
    append = b"a1 APPEND INBOX (\\Seen) {%d+}\r\n%s\r\n" % (len(message), message)
    write("fuzz_imap_session", "everything", b"\x00\x02c1 CAPABILITY\r\nt1 STARTTLS\r\n"
          b"a1 AUTHENTICATE PLAIN " + base64.b64encode(b"\0alice\0alice-password") + b"\r\n"
          b"e1 ENABLE QRESYNC\r\ns1 SELECT INBOX (QRESYNC (1 1))\r\n" + append
          + b"f1 FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n"
          b"f2 UID FETCH 1:* (BODY.PEEK[HEADER] BINARY[2])\r\nf3 FETCH 1 BODY[]\r\n"
          b"w1 STORE 1:2 +FLAGS (\\Deleted $Work)\r\nw2 UID STORE 3 (UNCHANGEDSINCE 1) -FLAGS.SILENT (\\Seen)\r\n"
          b"q1 SEARCH RETURN (MIN MAX COUNT) OR DELETED (SUBJECT one)\r\nq2 UID SORT (SUBJECT) UTF-8 ALL\r\n"
          b"q3 THREAD REFERENCES UTF-8 ALL\r\nx1 EXPUNGE\r\ni1 IDLE\r\nDONE\r\nm1 CREATE Work/Sub\r\n"
          b"m2 UID MOVE 1:* Work/Sub\r\nm3 LIST \"\" *\r\nm4 STATUS Work/Sub (MESSAGES UIDNEXT SIZE)\r\n"
          b"m5 RENAME Work Play\r\nm6 DELETE Play/Sub\r\nu1 UNSELECT\r\nz1 LOGOUT\r\n")
    write("fuzz_imap_session", "literals", b"\x01\x01l1 LOGIN {5}\r\nalice {14}\r\nalice-password\r\n"
          b"a1 APPEND INBOX {%d}\r\n%s {2+}\r\nhi\r\na2 APPEND INBOX {99999999}\r\na3 NOOP\r\n" % (len(message), message))


if __name__ == "__main__":
    smtp_session()
    pop3_session()
    http_request()
    smtp_reply()
    mail_message()
    search_query()
    imap_command()
    imap_session()
    for target in sorted(OUT.iterdir()):
        print(target.name, len(list(target.iterdir())), "files")
