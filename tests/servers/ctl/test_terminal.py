#!/usr/bin/env python3
"""mailroomctl asking for a password on a terminal (a pseudo-terminal here):
echo is off while the password is typed, it is asked twice, and the terminal
gets its echo back however the prompt ends, Ctrl-C included."""

import argparse
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest

MAILROOMCTL = None


def echo_on(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


class Terminal:
    """Runs mailroomctl with a pseudo-terminal as its controlling terminal."""

    def __init__(self, args):
        self.master, self.slave = pty.openpty()
        self.output = b""
        self.process = subprocess.Popen(
            [MAILROOMCTL, "--pbkdf2-iterations", "1000"] + args,
            stdin=self.slave, stdout=self.slave, stderr=self.slave,
            start_new_session=True,
            preexec_fn=lambda: __import__("fcntl").ioctl(0, termios.TIOCSCTTY, 0))

    def read_available(self, wait):
        """Reads what the program wrote within `wait` seconds. Never blocks
        longer: the slave side stays open here, so there is no end of file."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 1024)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def read_until(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in {self.output!r}")
            self.read_available(0.1)
        return self.output

    def wait_for_echo(self, wanted, timeout=10):
        deadline = time.monotonic() + timeout
        while echo_on(self.slave) != wanted:
            if time.monotonic() > deadline:
                raise AssertionError(f"echo never became {wanted}")
            time.sleep(0.01)

    def finish(self):
        code = self.process.wait(timeout=30)
        while self.read_available(0.2):
            pass
        return code

    def close(self):
        os.close(self.master)
        os.close(self.slave)


class TerminalPrompt(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.directory.name, "data")
        subprocess.run([MAILROOMCTL, "--data-dir", self.data, "--hostname", "localhost", "init"],
                       check=True, stdout=subprocess.DEVNULL)

    def tearDown(self):
        self.directory.cleanup()

    def list_users(self):
        return subprocess.run([MAILROOMCTL, "--data-dir", self.data, "list-users"],
                              check=True, capture_output=True, text=True).stdout

    def test_password_typed_twice_without_echo(self):
        terminal = Terminal(["--data-dir", self.data, "add-user", "alice"])
        try:
            self.assertTrue(echo_on(terminal.slave))
            terminal.read_until(b"New password for alice@project.com: ")
            terminal.wait_for_echo(False)
            os.write(terminal.master, b"typed-secret-1\n")
            terminal.read_until(b"Repeat the password: ")
            os.write(terminal.master, b"typed-secret-1\n")
            self.assertEqual(terminal.finish(), 0, terminal.output)
            self.assertNotIn(b"typed-secret-1", terminal.output)
            self.assertIn(b"created account alice@project.com", terminal.output)
            self.assertTrue(echo_on(terminal.slave))
        finally:
            terminal.close()
        self.assertIn("alice@project.com", self.list_users())

    def test_different_passwords_refused(self):
        # Typed the moment the prompt shows, as a paste would: echo is already
        # off then, and nothing typed is lost or shown.
        terminal = Terminal(["--data-dir", self.data, "add-user", "bob"])
        try:
            terminal.read_until(b"New password")
            os.write(terminal.master, b"first-password\n")
            terminal.read_until(b"Repeat")
            os.write(terminal.master, b"other-password\n")
            self.assertEqual(terminal.finish(), 2)
            self.assertIn(b"the two passwords differ", terminal.output)
            self.assertNotIn(b"first-password", terminal.output)
            self.assertNotIn(b"other-password", terminal.output)
            self.assertTrue(echo_on(terminal.slave))
        finally:
            terminal.close()
        self.assertNotIn("bob@", self.list_users())

    def test_ctrl_c_at_the_prompt_restores_echo(self):
        terminal = Terminal(["--data-dir", self.data, "add-user", "carol"])
        try:
            terminal.read_until(b"New password")
            terminal.wait_for_echo(False)
            os.write(terminal.master, b"\x03")  # the terminal turns it into SIGINT
            code = terminal.finish()
            self.assertEqual(code, -signal.SIGINT)
            self.assertTrue(echo_on(terminal.slave), "echo stayed off after Ctrl-C")
        finally:
            terminal.close()
        self.assertNotIn("carol@", self.list_users())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailroomctl", required=True)
    options, rest = parser.parse_known_args()
    MAILROOMCTL = options.mailroomctl
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
