#!/usr/bin/env python3
"""Every TLS handshake that fails or times out is logged once, with the
client's address and port and why (found: 64 lines of "TLS handshake
failed: Unknown error" from mailroom-webd, without an address: QSslServer
reports a timeout after closing the socket, when it no longer knows its
peer; a client that was no TLS at all was not logged).

mailroom-webd (HTTPS), mailroom-smtpd and mailroom-pop3d (implicit TLS, and
STARTTLS/STLS) on one data directory, each with --handshake-timeout 2. Each
way to fail a handshake is tried against every listener at once; then each
server's log must hold exactly one line

    127.0.0.1 TLS handshake failed (client port N): REASON

for each client, N being the client's own port, and no "Unknown error".

    test_tls_handshake_log.py --smtpd P --webd P --pop3d P --ctl P"""

import os
import re
import socket
import ssl
import sys
import time
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))

from mailroom_harness import HOST, Deployment, binaries_from_argv  # noqa: E402

HANDSHAKE = 2  # --handshake-timeout, seconds
SLACK = 8      # how late a line may come on a loaded 2-core machine
BINARIES = None

# A TLS record header, then bytes that are no handshake message.
GARBAGE_RECORD = b"\x16\x03\x01\x00\x05hello"
# The first bytes of a ClientHello: the client closes before the rest.
PARTIAL_HELLO = bytes.fromhex("16030100a5010000a10303") + b"\x00" * 8


def old_protocol_context():
    """A client that offers TLS 1.0 only (the servers accept 1.2 and later)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


class HandshakeLogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Deployment(BINARIES, {"alice": "alice-password-1"}, prefix="mailroom-handshake-log-")
        try:
            limits = ["--handshake-timeout", str(HANDSHAKE)]
            cls.servers = {"smtpd": cls.d.start("smtpd", *limits), "pop3d": cls.d.start("pop3d", *limits),
                           "webd": cls.d.start("webd", *limits)}
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = {name: server.stop() for name, server in cls.servers.items()}
        cls.d.cleanup()
        if any(code != 0 for code in codes.values()):
            raise AssertionError("servers did not exit 0 on SIGTERM: %r" % codes)

    # ---- the listeners: a connected socket at the point where the handshake begins

    # The log names a client by its port alone, and the kernel may hand the
    # same port to two connections made one after the other to different
    # listeners of one server: every connection of this test gets a port of
    # its own, taken (bound, not yet connected: the server sees nothing)
    # until one no earlier connection had.
    used_client_ports = set()

    def connect(self, port):
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            if sock.getsockname()[1] not in self.used_client_ports:
                break
            sock.close()
        self.used_client_ports.add(sock.getsockname()[1])
        sock.settimeout(15)
        sock.connect((HOST, port))
        self.held.append(sock)
        return sock

    @staticmethod
    def read_line(sock):
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(1)
            if not chunk:
                break
            data += chunk
        return data

    def smtp_starttls(self, port):
        sock = self.connect(port)
        self.assertTrue(self.read_line(sock).startswith(b"220"))
        sock.sendall(b"EHLO client.test\r\n")
        while True:
            line = self.read_line(sock)
            self.assertTrue(line.startswith(b"250"), line)
            if line[3:4] == b" ":
                break
        sock.sendall(b"STARTTLS\r\n")
        self.assertTrue(self.read_line(sock).startswith(b"220"))
        return sock

    def pop3_stls(self, port):
        sock = self.connect(port)
        self.assertTrue(self.read_line(sock).startswith(b"+OK"))
        sock.sendall(b"STLS\r\n")
        self.assertTrue(self.read_line(sock).startswith(b"+OK"))
        return sock

    def listeners(self):
        """(server name, description, function giving a socket whose next bytes are the handshake's)."""
        smtpd, pop3d, webd = self.servers["smtpd"], self.servers["pop3d"], self.servers["webd"]
        return [
            ("webd", "HTTPS", lambda: self.connect(webd.port)),
            ("smtpd", "implicit TLS", lambda: self.connect(smtpd.tls_port)),
            ("smtpd", "STARTTLS", lambda: self.smtp_starttls(smtpd.port)),
            ("pop3d", "implicit TLS", lambda: self.connect(pop3d.tls_port)),
            ("pop3d", "STLS", lambda: self.pop3_stls(pop3d.port)),
        ]

    # ---- the ways to fail; each returns the socket's client port

    def silent(self, sock):
        return sock.getsockname()[1]  # held open: the server's timeout ends it

    def garbage_record(self, sock):
        port = sock.getsockname()[1]
        sock.sendall(GARBAGE_RECORD)
        return port

    def plain_text(self, sock):
        port = sock.getsockname()[1]
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        return port

    def closed_mid_handshake(self, sock):
        port = sock.getsockname()[1]
        sock.sendall(PARTIAL_HELLO)
        time.sleep(0.2)
        sock.close()
        return port

    def old_protocol(self, sock):
        port = sock.getsockname()[1]
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            old_protocol_context().wrap_socket(sock, do_handshake_on_connect=True)
        return port

    def setUp(self):
        self.held = []

    def tearDown(self):
        for sock in self.held:
            try:
                sock.close()
            except OSError:
                pass

    def test_every_failed_handshake_is_logged_once_with_the_client(self):
        # (server, listener, way, reason pattern) -> the client's port
        ways = [
            ("silent", self.silent, {"*": r"no handshake within %d s" % HANDSHAKE}),
            ("garbage record", self.garbage_record, {"*": r"Error during SSL handshake: .+"}),
            ("plain text", self.plain_text,
             {"webd": r"not TLS \(its first byte cannot begin a handshake\)", "*": r"Error during SSL handshake: .+"}),
            ("closed mid-handshake", self.closed_mid_handshake, {"*": r"the client closed the connection"}),
            ("TLS 1.0 only", self.old_protocol, {"*": r"Error during SSL handshake: .+"}),
        ]
        marks = {name: server.log_size() for name, server in self.servers.items()}
        expected = []
        for name, listener, begin in self.listeners():
            for way, fail, reasons in ways:
                port = fail(begin())
                expected.append((name, listener, way, port, reasons.get(name, reasons["*"])))

        deadline = time.monotonic() + HANDSHAKE + SLACK
        for name, listener, way, port, reason in expected:
            with self.subTest(server=name, listener=listener, way=way):
                server = self.servers[name]
                pattern = r"^mailroom\.\w+: 127\.0\.0\.1 TLS handshake failed \(client port %d\): %s$" % (port, reason)
                found = server.wait_for_log(pattern, timeout=max(0.1, deadline - time.monotonic()),
                                            start=marks[name])
                self.assertTrue(found, "no line matching %r in the log of %s:\n%s"
                                % (pattern, name, server.log_text(last=40)))
        time.sleep(0.5)  # a second line would come right after the first
        logs = {name: server.log_text().split("\n")[marks[name]:] for name, server in self.servers.items()}
        for name, listener, way, port, _ in expected:
            with self.subTest(server=name, listener=listener, way=way, check="once"):
                mentioning = [line for line in logs[name] if "TLS handshake failed (client port %d)" % port in line]
                self.assertEqual(len(mentioning), 1, mentioning)
        for name, lines in logs.items():
            with self.subTest(server=name, check="no line without the client"):
                self.assertFalse([line for line in lines if "Unknown error" in line], lines)
                self.assertFalse([line for line in lines if re.search(r": +TLS", line)], lines)
                # A client gone during its handshake gets that line, not also "disconnected".
                self.assertFalse([line for line in lines if "disconnected" in line], lines)
        print("\n" + "\n".join(line for lines in logs.values() for line in lines if "handshake" in line),
              file=sys.stderr)


if __name__ == "__main__":
    BINARIES, rest = binaries_from_argv(sys.argv)
    unittest.main(argv=rest, verbosity=2)
