#!/usr/bin/env python3
"""Throw-away certificates for TLS tests on loopback, made with the openssl CLI.

    from testca import TestCA
    ca = TestCA(folder)          # creates the files once, reuses them after
    ca.ca_file, ca.cert_file, ca.key_file, ca.other_ca_file

    python3 tests/lib/testca.py FOLDER
        makes (or reuses) the files and prints one "name path" line each:
        "ca", "cert", "key", "other_ca".

Files in FOLDER:
    ca.pem          the test CA (the trust anchor a client is configured with)
    server.pem      a server certificate signed by it, for 127.0.0.1 and
                    localhost (subjectAltName IP:127.0.0.1, DNS:localhost;
                    RFC 6125: clients match the SAN, not the CN)
    server.key      its private key (mode 0600)
    other-ca.pem    a second CA with the very same subject name but its own
                    key: a client trusting only this one must refuse the
                    server, and it can only do so by checking the signature,
                    not by comparing names

Keys are P-256 (fast to make: the whole set takes about 0.2 s) and the
certificates are valid for two days from now.  Everything is made once per folder: a second
TestCA on the same folder only reads the paths.  The CA keys are deleted
once the certificates are signed; nothing here is a secret worth keeping.
"""
import os
import subprocess
import sys

OPENSSL = "openssl"
SUBJECT_CA = "/O=tokenportal tests/CN=tokenportal throw-away test CA"
SUBJECT_SERVER = "/O=tokenportal tests/CN=localhost"
DAYS = "2"

SERVER_EXT = """basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _run(args, cwd):
    r = subprocess.run([OPENSSL] + args, cwd=cwd, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0],
                                                      r.stderr.strip()))


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _make_ca(folder, name):
    """A self-signed CA: NAME.pem and NAME.key."""
    _run(["req", "-x509", "-new", "-newkey", "ec",
          "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", name + ".key", "-out", name + ".pem",
          "-subj", SUBJECT_CA, "-days", DAYS, "-sha256",
          "-config", "/dev/null",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash"],
         folder)


def _make_server(folder):
    """server.key and server.pem, signed by ca.pem / ca.key."""
    _write(os.path.join(folder, "server.ext"), SERVER_EXT)
    _run(["req", "-new", "-newkey", "ec",
          "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", "server.key", "-out", "server.csr",
          "-subj", SUBJECT_SERVER, "-config", "/dev/null"], folder)
    os.chmod(os.path.join(folder, "server.key"), 0o600)
    _run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
          "-CAkey", "ca.key", "-set_serial",
          str(int.from_bytes(os.urandom(8), "big")), "-days", DAYS,
          "-sha256", "-extfile", "server.ext", "-out", "server.pem"],
         folder)


class TestCA:
    """The certificate set in folder (made on first use)."""

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        self.ca_file = os.path.join(self.folder, "ca.pem")
        self.cert_file = os.path.join(self.folder, "server.pem")
        self.key_file = os.path.join(self.folder, "server.key")
        self.other_ca_file = os.path.join(self.folder, "other-ca.pem")
        if not os.path.exists(self.other_ca_file):
            self._make()

    def _make(self):
        os.makedirs(self.folder, exist_ok=True)
        _make_ca(self.folder, "ca")
        _make_server(self.folder)
        _make_ca(self.folder, "other-ca")
        for name in ("ca.key", "other-ca.key", "server.csr",
                     "server.ext"):
            try:
                os.unlink(os.path.join(self.folder, name))
            except FileNotFoundError:
                pass

    def paths(self):
        return {"ca": self.ca_file, "cert": self.cert_file,
                "key": self.key_file, "other_ca": self.other_ca_file}


def main():
    if len(sys.argv) != 2:
        print("usage: testca.py FOLDER", file=sys.stderr)
        return 2
    for name, path in TestCA(sys.argv[1]).paths().items():
        print(name, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
