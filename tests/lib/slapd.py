#!/usr/bin/env python3
"""A throw-away OpenLDAP server on loopback, for tests and `make demo`.

    from slapd import Slapd
    with Slapd(workdir) as s:          # loads conf/demo/directory.ldif
        s.uri, s.port, s.base_dn, s.service_dn, s.service_password
        s.stop(); s.restart()          # same port, same data
    with Slapd(workdir, tls=True) as s:
        s.uri (StartTLS offered), s.ldaps_uri, s.ca_file, s.other_ca_file

With tls=True the server also listens on an ldaps:// port and offers
StartTLS on the ldap:// one, with a throw-away CA and a certificate for
127.0.0.1 / localhost made by testca.py under workdir/tls (or in tls_dir,
so several servers of one test run share one set).  other_ca_file is a
second CA that did not sign the server's certificate.  Such a server
refuses simple binds without TLS ("security simple_bind=128"), so a client
that signs in there provably spoke TLS; pass tls_required=False to allow
them.

The server runs as a child in its own process group with an mdb database
under workdir; stop() and the context manager kill that group, also after
an exception.  Group membership is groupOfNames `member`; the memberof
overlay is loaded and, because slapadd bypasses overlays, memberOf values
are computed here from the groups before loading (what the overlay would
have written had the groups been added over LDAP).

Command line:
    python3 tests/lib/slapd.py [--workdir D] [--ldif F ...] [--no-memberof]
        runs in the foreground until Ctrl-C, printing the URI and accounts.
    python3 tests/lib/slapd.py --control [...]
        for programs driving it through a pipe (the C unit tests): prints
        "uri URI", "port N", "base BASE_DN", "service DN", "password PW",
        with --tls also "ldaps_uri URI", "ca FILE", "other_ca FILE",
        then "ready"; then reads commands on stdin, one a line:
        "stop" (answers "stopped"), "start" (answers "ready"), "quit".
        End of input also stops the server and cleans up, so a crashed
        test never leaves a slapd behind.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testca import TestCA  # noqa: E402

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = "/etc/ldap/schema"
MODULE_DIR = "/usr/lib/ldap"
SRC = os.environ.get("TP_SRC") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_LDIF = os.path.join(SRC, "conf", "demo", "directory.ldif")

BASE_DN = "dc=example,dc=org"
SERVICE_DN = "cn=tokenportal,ou=services,dc=example,dc=org"
SERVICE_PASSWORD = "Portal-Service-2026"
PEOPLE_DN = "ou=people," + BASE_DN
GROUPS_DN = "ou=groups," + BASE_DN


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a minimal LDAP client: a simple bind is all the readiness check needs --

def _ber_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag, body):
    return bytes([tag]) + _ber_len(len(body)) + body


def ldap_bind(host, port, dn, password, timeout=2.0):
    """Simple bind (RFC 4511 4.2); returns the LDAP result code (0 = ok).
    Raises OSError when nothing answers."""
    req = _tlv(0x02, b"\x03") + _tlv(0x04, dn.encode()) + \
        _tlv(0x80, password.encode())
    msg = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x60, req))
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(msg)
        data = b""
        while len(data) < 64:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
            i = data.find(b"\x61")
            if i >= 0 and data.find(b"\x0a\x01", i) >= 0:
                break
    i = data.find(b"\x61")
    j = data.find(b"\x0a\x01", i) if i >= 0 else -1
    if j < 0:
        raise OSError("no bind response")
    return data[j + 2]


# --- LDIF: just enough to derive memberOf from groupOfNames ---------------

def _records(text):
    """Splits LDIF text into records, each a list of unfolded lines."""
    recs, cur, lines = [], [], []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]          # RFC 2849 line folding
        else:
            lines.append(raw)
    for line in lines:
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                recs.append(cur)
            cur = []
            continue
        cur.append(line)
    if cur:
        recs.append(cur)
    return recs


def _values(rec, attr):
    out = []
    for line in rec:
        name, _, val = line.partition(":")
        if name.lower() == attr.lower() and not val.startswith(":"):
            out.append(val.strip())
    return out


def _norm(dn):
    return ",".join(p.strip().lower() for p in dn.split(","))


def with_memberof(text):
    """The LDIF with a memberOf value on every entry named by a
    groupOfNames member value."""
    recs = _records(text)
    groups = {}
    for rec in recs:
        if "groupofnames" in [v.lower() for v in _values(rec, "objectClass")]:
            gdn = _values(rec, "dn")[0]
            for m in _values(rec, "member"):
                groups.setdefault(_norm(m), []).append(gdn)
    out = []
    for rec in recs:
        dn = _values(rec, "dn")
        extra = groups.get(_norm(dn[0]), []) if dn else []
        out.append("\n".join(rec + ["memberOf: " + g for g in extra]))
    return "\n\n".join(out) + "\n"


class Slapd:
    """One slapd process with its own config and database under workdir."""

    def __init__(self, workdir, ldif_paths=None, memberof=True, tls=False,
                 tls_dir=None, tls_required=True):
        self.workdir = os.path.abspath(workdir)
        self.tls = tls
        self.tls_required = tls and tls_required
        self.tls_dir = tls_dir or os.path.join(self.workdir, "tls")
        self.ldaps_port = None
        self.ldaps_uri = None
        self.ca_file = None
        self.other_ca_file = None
        self._cert = None
        self.ldif_paths = list(ldif_paths) if ldif_paths else [DEMO_LDIF]
        self.memberof = memberof
        self.port = None
        self.uri = None
        self.base_dn = BASE_DN
        self.people_dn = PEOPLE_DN
        self.groups_dn = GROUPS_DN
        self.service_dn = SERVICE_DN
        self.service_password = SERVICE_PASSWORD
        self.root_dn = "cn=admin," + BASE_DN
        self.root_password = os.urandom(12).hex()
        self.proc = None
        self._loaded = False
        self.conf = os.path.join(self.workdir, "slapd.conf")
        self.data = os.path.join(self.workdir, "data")
        self.log = os.path.join(self.workdir, "slapd.log")

    # -- set-up ---------------------------------------------------------

    def _write_conf(self):
        schemas = ["core", "cosine", "inetorgperson", "nis"]
        w = self.workdir
        lines = ["include %s/%s.schema" % (SCHEMA_DIR, s) for s in schemas]
        lines += [
            "modulepath " + MODULE_DIR,
            "moduleload back_mdb",
        ]
        if self.memberof:
            lines.append("moduleload memberof")
        lines += [
            "pidfile %s/slapd.pid" % w,
            "argsfile %s/slapd.args" % w,
        ]
        if self.tls:
            lines += [
                "TLSCACertificateFile " + self.ca_file,
                "TLSCertificateFile " + self._cert.cert_file,
                "TLSCertificateKeyFile " + self._cert.key_file,
            ]
        if self.tls_required:
            # RFC 4513 section 6.3.1: a password only over a protected
            # connection; slapd answers confidentialityRequired (13).
            lines.append("security simple_bind=128")
        lines += [
            # Passwords are checked, never read: the service account sees
            # people and groups but no password hash (least privilege).
            "database mdb",
            'suffix "%s"' % BASE_DN,
            'rootdn "%s"' % self.root_dn,
            "rootpw " + self.root_password,
            'directory "%s"' % self.data,
            "maxsize 16777216",
            "index objectClass eq",
            "index uid,cn,mail,member eq",
        ]
        if self.memberof:
            lines.append("overlay memberof")
        lines += [
            "access to attrs=userPassword",
            "    by anonymous auth",
            "    by * none",
            'access to dn.subtree="%s"' % PEOPLE_DN,
            '    by dn.exact="%s" read' % SERVICE_DN,
            "    by self read",
            "    by * none",
            'access to dn.subtree="%s"' % GROUPS_DN,
            '    by dn.exact="%s" read' % SERVICE_DN,
            "    by * none",
            'access to dn.base="%s"' % BASE_DN,
            '    by dn.exact="%s" read' % SERVICE_DN,
            "    by * none",
            "access to *",
            "    by self read",
            "    by * none",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _load(self):
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data)
        text = ""
        for p in self.ldif_paths:
            with open(p) as f:
                text += f.read() + "\n\n"
        if self.memberof:
            text = with_memberof(text)
        ldif = os.path.join(self.workdir, "load.ldif")
        with open(ldif, "w") as f:
            f.write(text)
        r = subprocess.run([SLAPADD, "-q", "-f", self.conf, "-l", ldif],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("slapadd failed: " + r.stderr.strip())
        self._loaded = True

    # -- process --------------------------------------------------------

    def start(self):
        """Writes the config, loads the LDIF (first start only), starts
        slapd and returns once the service account can bind."""
        os.makedirs(self.workdir, exist_ok=True)
        if not self._loaded:
            if self.tls:
                self._cert = TestCA(self.tls_dir)
                self.ca_file = self._cert.ca_file
                self.other_ca_file = self._cert.other_ca_file
            self._write_conf()
            self._load()
        fixed = self.port is not None
        for _ in range(1 if fixed else 5):
            if not fixed:
                self.port = free_port()
                if self.tls:
                    self.ldaps_port = free_port()
            self.uri = "ldap://127.0.0.1:%d/" % self.port
            if self.tls:
                self.ldaps_uri = "ldaps://127.0.0.1:%d/" % self.ldaps_port
            if self._spawn():
                return self
        self._kill()
        raise RuntimeError("slapd did not start; see " + self.log)

    def _spawn(self):
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                [SLAPD, "-h", self._listen(), "-f", self.conf, "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)
        finally:
            logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                return False        # port taken, or a config error
            try:
                rc = ldap_bind("127.0.0.1", self.port, self.service_dn,
                               self.service_password, 1.0)
                # Our plain-text bind is refused where TLS is required;
                # any answer shows the server is up.
                if rc == 0 or (self.tls_required and rc == 13):
                    return True
            except OSError:
                pass
            time.sleep(0.01)
        self._kill()
        return False

    def _listen(self):
        if self.tls:
            return self.uri + " " + self.ldaps_uri
        return self.uri

    def _kill(self):
        p, self.proc = self.proc, None
        if p is None:
            return
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # A daemon killed in a sandbox can linger <defunct> (STACK.md):
        # make sure the port is closed before saying we stopped.
        deadline = time.monotonic() + 5
        for port in (self.port, self.ldaps_port):
            while port is not None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port),
                                             0.2).close()
                except OSError:
                    break
                time.sleep(0.01)

    def stop(self):
        """Stops the server; data and port are kept for restart()."""
        self._kill()

    def restart(self):
        self._kill()
        return self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self._kill()
            raise

    def __exit__(self, *exc):
        self._kill()
        return False

    def __del__(self):
        try:
            self._kill()
        except Exception:
            pass


def _control(s):
    print("uri " + s.uri)
    print("port %d" % s.port)
    print("base " + s.base_dn)
    print("service " + s.service_dn)
    print("password " + s.service_password)
    if s.tls:
        print("ldaps_uri " + s.ldaps_uri)
        print("ca " + s.ca_file)
        print("other_ca " + s.other_ca_file)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "stop":
            s.stop()
            print("stopped", flush=True)
        elif cmd == "start":
            s.start()
            print("ready", flush=True)
        elif cmd == "quit":
            break
        else:
            print("error unknown command " + cmd, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", help="folder for config and data "
                    "(default: a temporary folder, removed at exit)")
    ap.add_argument("--ldif", action="append", help="LDIF to load "
                    "(default conf/demo/directory.ldif); repeatable")
    ap.add_argument("--no-memberof", action="store_true",
                    help="no memberof overlay: groups only via member")
    ap.add_argument("--tls", action="store_true",
                    help="also ldaps:// and StartTLS, with a throw-away CA")
    ap.add_argument("--tls-dir", help="folder for the test CA and server "
                    "certificate (default WORKDIR/tls; reused if present)")
    ap.add_argument("--control", action="store_true",
                    help="driven through stdin/stdout (tests)")
    a = ap.parse_args()
    tmp = None
    workdir = a.workdir
    if not workdir:
        tmp = tempfile.mkdtemp(prefix="tp-slapd-")
        workdir = tmp
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = Slapd(workdir, a.ldif, memberof=not a.no_memberof, tls=a.tls,
              tls_dir=a.tls_dir)
    try:
        s.start()
        if a.control:
            _control(s)
        else:
            print("slapd listening on %s (base %s)" % (s.uri, s.base_dn))
            if s.tls:
                print("and on %s; CA certificate %s" % (s.ldaps_uri,
                                                         s.ca_file))
            print("service account %s / %s" % (s.service_dn,
                                                s.service_password))
            print("demo users: alice/Alice-Demo-2026 ... "
                  "(see conf/demo/directory.ldif); Ctrl-C stops",
                  flush=True)
            while s.running():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
