#!/usr/bin/env python3
"""A small, real SMTP server that keeps every mail it receives (RFC 5321).

Tests and the demo point tokenportal's mail module at it instead of a real
mail server.  It speaks enough ESMTP for libcurl and most clients: EHLO/HELO,
optional AUTH PLAIN/LOGIN, MAIL, RCPT, DATA (with dot-unstuffing, RFC 5321
section 4.5.2), RSET, NOOP, VRFY, QUIT.  It listens on loopback only.

TLS (optional, Python's ssl module; certificates e.g. from testca.py):
  --tls-cert/--tls-key alone: STARTTLS (RFC 3207).  The server then offers
      STARTTLS and nothing else before it: MAIL is answered 530 and AUTH
      538 (RFC 3207 section 4, RFC 4954 section 4) until TLS is up, and
      AUTH is advertised only in the EHLO after STARTTLS.  So a mail that
      arrives came over TLS, and a password never crosses in the clear.
  --implicit-tls as well: TLS from the first byte (smtps, RFC 8314 3.3).
A client that refuses the certificate just drops the connection; nothing
is stored.  Each stored mail notes the TLS version ("TLS TLSv1.3" in the
.env file, msg["tls"]); an AUTH attempted in the clear is counted in
sink.cleartext_auth and written to DIR/cleartext-auth.

In a Python test:

    with SmtpSink() as sink:                 # a free port on 127.0.0.1
        send_mail_to(f"smtp://127.0.0.1:{sink.port}")
        msg = sink.wait_for("alice@example.org")
        msg["message"]["Subject"], msg["data"], msg["rcpt_tos"]

From the command line (the demo, C tests):

    python3 tests/lib/smtpsink.py --port 2525 --print
    python3 tests/lib/smtpsink.py --port 0 --spool DIR

The first line on stdout is always "smtpsink listening on 127.0.0.1:PORT"
(flushed), so a caller that asked for port 0 learns the port.  --print shows
each mail readably; --spool writes each one as DIR/NNNN.eml (the DATA bytes
exactly as received, after unstuffing) and DIR/NNNN.env (the envelope),
before the server answers 250 to DATA, so a client that saw its mail
accepted can read the file at once.
"""
import argparse
import base64
import email
import email.policy
import os
import signal
import socketserver
import ssl
import sys
import threading
import time

MAX_LINE = 1000          # RFC 5321 section 4.5.3.1.6: 1000 octets with CRLF
MAX_MESSAGE = 10 * 1024 * 1024


class _Writer:
    """What the handler writes replies to: the socket, unbuffered."""

    def __init__(self, sock):
        self.sock = sock

    def write(self, data):
        self.sock.sendall(data)

    def flush(self):
        pass

    def close(self):
        pass


class _Handler(socketserver.StreamRequestHandler):
    """One SMTP session."""

    tls_version = None

    def setup(self):
        self.connection = self.request
        self.connection.settimeout(30)
        sink = self.server.sink
        if sink.implicit_tls:
            try:
                self.connection = self.request = sink.ssl_context.wrap_socket(
                    self.request, server_side=True)
            except (ssl.SSLError, OSError):
                self.connection = None     # the client refused us
                return
            self.tls_version = self.connection.version()
        self.rfile = self.connection.makefile("rb")
        self.wfile = _Writer(self.connection)

    def finish(self):
        if self.connection is not None:
            self.rfile.close()

    def reply(self, text):
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            raise EOFError
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            raise ValueError("line too long")
        return line

    def starttls_pending(self):
        """True while this session must still run STARTTLS."""
        sink = self.server.sink
        return sink.ssl_context is not None and self.tls_version is None

    def handle(self):
        sink = self.server.sink
        if self.connection is None:
            return
        self.reset()
        self.authed = sink.auth is None
        self.reply("220 smtpsink ESMTP ready")
        try:
            while True:
                line = self.readline().rstrip(b"\r\n")
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    self.reply("500 5.5.2 command is not UTF-8")
                    continue
                verb, _, arg = text.partition(" ")
                method = getattr(self, "smtp_" + verb.upper(), None)
                if method is None:
                    self.reply("500 5.5.1 command not recognised")
                    continue
                if method(arg.strip()) is False:
                    return
        except (EOFError, ConnectionError, ssl.SSLError, OSError):
            return
        except ValueError:
            self.reply("500 5.5.6 line too long")

    def reset(self):
        self.mail_from = None
        self.rcpt_tos = []

    def smtp_EHLO(self, arg):
        if not arg:
            return self.reply("501 5.5.4 EHLO needs a domain")
        self.reset()
        lines = ["smtpsink greets " + arg, "8BITMIME",
                 "SIZE %d" % MAX_MESSAGE]
        if self.starttls_pending():
            lines.append("STARTTLS")
        elif self.server.sink.auth is not None:
            lines.append("AUTH PLAIN LOGIN")
        for extension in lines[:-1]:
            self.wfile.write(("250-" + extension + "\r\n").encode())
        self.reply("250 " + lines[-1])

    def smtp_HELO(self, arg):
        if not arg:
            return self.reply("501 5.5.4 HELO needs a domain")
        self.reset()
        self.reply("250 smtpsink")

    def smtp_STARTTLS(self, arg):
        """RFC 3207 section 4: 220, the TLS handshake, then a session
        that starts over (the client must EHLO again, 4.2).  Anything the
        client pipelined after the command is dropped with the plain-text
        reader (section 6 warns of such injection)."""
        if not self.starttls_pending():
            return self.reply("503 5.5.1 TLS already active or not offered")
        if arg:
            return self.reply("501 5.5.4 STARTTLS takes no argument")
        self.reply("220 2.0.0 ready to start TLS")
        self.rfile.close()
        try:
            self.connection = self.request = \
                self.server.sink.ssl_context.wrap_socket(self.request,
                                                         server_side=True)
        except (ssl.SSLError, OSError):
            self.connection = None
            return False               # the client refused our certificate
        self.tls_version = self.connection.version()
        self.rfile = self.connection.makefile("rb")
        self.wfile = _Writer(self.connection)
        self.reset()
        self.authed = self.server.sink.auth is None

    def smtp_AUTH(self, arg):
        sink = self.server.sink
        if self.starttls_pending():
            sink._note_cleartext_auth()
            return self.reply("538 5.7.11 encryption required for "
                              "requested authentication mechanism")
        if sink.auth is None:
            return self.reply("503 5.5.1 AUTH not offered")
        mech, _, initial = arg.partition(" ")
        try:
            if mech.upper() == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.readline().strip().decode("ascii")
                parts = base64.b64decode(initial, validate=True).split(b"\0")
                user, password = parts[1].decode(), parts[2].decode()
            elif mech.upper() == "LOGIN":
                self.reply("334 VXNlcm5hbWU6")
                user = base64.b64decode(self.readline().strip()).decode()
                self.reply("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.readline().strip()).decode()
            else:
                return self.reply("504 5.5.4 mechanism not supported")
        except (ValueError, IndexError, UnicodeDecodeError):
            return self.reply("501 5.5.2 cannot decode the response")
        if (user, password) != sink.auth:
            return self.reply("535 5.7.8 authentication credentials invalid")
        self.authed = True
        self.reply("235 2.7.0 authentication successful")

    @staticmethod
    def _path(arg, keyword):
        """The address in 'FROM:<addr> params' (RFC 5321 section 4.1.2)."""
        if not arg.upper().startswith(keyword + ":"):
            return None
        rest = arg[len(keyword) + 1:].strip()
        if not rest.startswith("<") or ">" not in rest:
            return None
        return rest[1:rest.index(">")]

    def smtp_MAIL(self, arg):
        if self.starttls_pending():
            return self.reply("530 5.7.0 must issue a STARTTLS command "
                              "first")
        if not self.authed:
            return self.reply("530 5.7.0 authentication required")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 nested MAIL command")
        addr = self._path(arg, "FROM")
        if addr is None:
            return self.reply("501 5.5.4 syntax: MAIL FROM:<address>")
        self.mail_from = addr
        self.reply("250 2.1.0 sender ok")

    def smtp_RCPT(self, arg):
        if self.mail_from is None:
            return self.reply("503 5.5.1 need MAIL first")
        addr = self._path(arg, "TO")
        if not addr:
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>")
        if addr.lower() in self.server.sink.reject:
            return self.reply("550 5.1.1 no such mailbox here")
        self.rcpt_tos.append(addr)
        self.reply("250 2.1.5 recipient ok")

    def smtp_DATA(self, arg):
        if not self.rcpt_tos:
            return self.reply("503 5.5.1 need RCPT first")
        self.reply("354 end data with <CRLF>.<CRLF>")
        chunks, size = [], 0
        while True:
            line = self.readline()
            if line.rstrip(b"\r\n") == b".":
                break
            if line.startswith(b"."):
                line = line[1:]          # RFC 5321 section 4.5.2
            size += len(line)
            if size > MAX_MESSAGE:
                self.reset()
                return self.reply("552 5.3.4 message too big")
            chunks.append(line)
        number = self.server.sink._store(self.mail_from, self.rcpt_tos,
                                         b"".join(chunks), self.auth_user(),
                                         self.tls_version)
        self.reset()
        self.reply("250 2.0.0 ok: queued as %d" % number)

    def auth_user(self):
        sink = self.server.sink
        return sink.auth[0] if sink.auth is not None and self.authed else None

    def smtp_RSET(self, arg):
        self.reset()
        self.reply("250 2.0.0 ok")

    def smtp_NOOP(self, arg):
        self.reply("250 2.0.0 ok")

    def smtp_VRFY(self, arg):
        self.reply("252 2.1.5 cannot verify, will accept")

    def smtp_QUIT(self, arg):
        self.reply("221 2.0.0 bye")
        return False


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False


class SmtpSink:
    """An SMTP server in a background thread; see the module docstring.

    auth: (user, password) to require AUTH, or None.
    tls_cert, tls_key: PEM files: offer STARTTLS (required before MAIL and
        AUTH), or with implicit_tls=True speak TLS from the start.
    reject: recipient addresses answered with 550.
    spool: a folder to write each message into (NNNN.eml, NNNN.env).
    out: a text stream to print each message on (the --print mode).
    """

    def __init__(self, host="127.0.0.1", port=0, auth=None, reject=(),
                 spool=None, out=None, tls_cert=None, tls_key=None,
                 implicit_tls=False):
        self.host, self.port = host, port
        self.ssl_context = None
        self.implicit_tls = implicit_tls
        self.cleartext_auth = 0
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls_cert, tls_key)
            self.ssl_context = ctx
        elif implicit_tls:
            raise ValueError("implicit TLS needs tls_cert (and tls_key)")
        self.auth = auth
        self.reject = {a.lower() for a in reject}
        self.spool, self.out = spool, out
        self.messages = []
        self._cond = threading.Condition()
        self._server = None
        self._thread = None

    def start(self):
        self._server = _Server((self.host, self.port), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="smtpsink", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_for(self, rcpt, timeout=5, since=0):
        """The newest message (index >= since) addressed to rcpt; waits up
        to timeout seconds for one, then raises TimeoutError."""
        deadline = time.monotonic() + timeout
        rcpt = rcpt.lower()
        with self._cond:
            while True:
                for msg in reversed(self.messages[since:]):
                    if rcpt in (r.lower() for r in msg["rcpt_tos"]):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no mail to %s within %ss"
                                       % (rcpt, timeout))
                self._cond.wait(left)

    def _note_cleartext_auth(self):
        with self._cond:
            self.cleartext_auth += 1
            if self.spool:
                with open(os.path.join(self.spool, "cleartext-auth"),
                          "a") as f:
                    f.write("AUTH attempted before STARTTLS\n")

    def _store(self, mail_from, rcpt_tos, data, auth_user, tls_version=None):
        msg = {
            "mail_from": mail_from,
            "rcpt_tos": list(rcpt_tos),
            "data": data,
            "message": email.message_from_bytes(data,
                                                policy=email.policy.default),
            "auth_user": auth_user,
            "tls": tls_version,
        }
        with self._cond:
            self.messages.append(msg)
            number = len(self.messages)
            if self.spool:
                self._write_spool(number, msg)
            if self.out is not None:
                self._print(number, msg)
            self._cond.notify_all()
        return number

    def _write_spool(self, number, msg):
        base = os.path.join(self.spool, "%04d" % number)
        env = "MAIL FROM:<%s>\n" % msg["mail_from"]
        env += "".join("RCPT TO:<%s>\n" % r for r in msg["rcpt_tos"])
        if msg["auth_user"] is not None:
            env += "AUTH %s\n" % msg["auth_user"]
        if msg["tls"] is not None:
            env += "TLS %s\n" % msg["tls"]
        # Envelope first, message last and by rename: a reader that sees
        # NNNN.eml sees both files complete.
        with open(base + ".env", "w", encoding="utf-8") as f:
            f.write(env)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(msg["data"])
        os.rename(base + ".eml.tmp", base + ".eml")

    def _print(self, number, msg):
        m = msg["message"]
        out = self.out
        out.write("----- mail %d -----\n" % number)
        out.write("envelope: from <%s> to %s\n" % (
            msg["mail_from"], ", ".join("<%s>" % r for r in msg["rcpt_tos"])))
        for name in ("From", "To", "Subject", "Date"):
            out.write("%s: %s\n" % (name, m.get(name, "")))
        out.write("\n")
        try:
            body = m.get_body(preferencelist=("plain",))
            out.write((body.get_content() if body is not None
                       else msg["data"].decode("utf-8", "replace")).rstrip())
        except (LookupError, KeyError):
            out.write(msg["data"].decode("utf-8", "replace").rstrip())
        out.write("\n----- end of mail %d -----\n" % number)
        out.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description="SMTP sink for tests and demo")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2525,
                    help="port to listen on (0: any free port)")
    ap.add_argument("--print", action="store_true", dest="print_",
                    help="print each mail on stdout")
    ap.add_argument("--spool", help="write each mail into this folder")
    ap.add_argument("--auth", help="require AUTH as USER:PASSWORD")
    ap.add_argument("--reject", action="append", default=[],
                    help="answer RCPT for this address with 550")
    ap.add_argument("--tls-cert", help="PEM certificate: offer STARTTLS "
                    "and require it before MAIL and AUTH")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    ap.add_argument("--implicit-tls", action="store_true",
                    help="TLS from the first byte (smtps) instead")
    args = ap.parse_args(argv)

    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    if args.print_:
        # A terminal without UTF-8 must not make the sink drop a mail.
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.implicit_tls and not args.tls_cert:
        ap.error("--implicit-tls needs --tls-cert and --tls-key")
    sink = SmtpSink(args.host, args.port, auth=auth, reject=args.reject,
                    spool=args.spool,
                    out=sys.stdout if args.print_ else None,
                    tls_cert=args.tls_cert, tls_key=args.tls_key,
                    implicit_tls=args.implicit_tls)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    sink.start()
    print("smtpsink listening on %s:%d" % (args.host, sink.port), flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
