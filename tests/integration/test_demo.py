#!/usr/bin/env python3
"""`make demo` as a new user meets it: the accounts README promises exist in
the demo directory with those passwords (checked against the LDIF's own
{SSHA} hashes, not through our code), the demo script prints its URL and
every one of them, serves the sign-in page, lets a README account in, and
on Ctrl-C (SIGINT) stops every process it started."""
import base64
import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from portal import Client, _tcp_connectable, _wait  # noqa: E402
from slapd import free_port  # noqa: E402
from tap import build_dir, case, main, src_dir  # noqa: E402
import tempfile  # noqa: E402

SRC = src_dir()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def readme_accounts():
    """(login, password) rows of the README's demo table."""
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", text, re.M)
    check(len(rows) >= 4, "README demo table not found: %r" % rows)
    return rows


def ldif_hashes():
    """uid -> userPassword of conf/demo/directory.ldif."""
    with open(os.path.join(SRC, "conf", "demo", "directory.ldif")) as f:
        entries = f.read().split("\n\n")
    out = {}
    for e in entries:
        uid = re.search(r"^uid: (.*)$", e, re.M)
        pw = re.search(r"^userPassword: (.*)$", e, re.M)
        if uid and pw:
            out[uid.group(1)] = pw.group(1)
    return out


def ssha_matches(stored, password):
    """RFC 2307-style {SSHA}: base64(SHA1(password + salt) + salt)."""
    if not stored.startswith("{SSHA}"):
        return False
    raw = base64.b64decode(stored[6:])
    digest, salt = raw[:20], raw[20:]
    return hashlib.sha1(password.encode() + salt).digest() == digest


@case
def readme_accounts_have_those_passwords_in_the_demo_directory(env):
    hashes = ldif_hashes()
    for login, password in readme_accounts():
        check(login in hashes, "%s is not in directory.ldif" % login)
        check(ssha_matches(hashes[login], password),
              "README's password for %s does not match the LDIF" % login)
    check(not ssha_matches(hashes["alice"], "Bob-Demo-2026"),
          "the hash check accepts any password")


def _procs_mentioning(text):
    """pids whose command line contains text (our own demo folder)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % p) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z":
            pids.append(p)
    return pids


def _read_until(proc, marker, timeout):
    out, end = "", time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while marker not in out and time.monotonic() < end:
        if proc.poll() is not None:
            break
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
            if not chunk:
                break
            out += chunk
    return out


@case
def demo_prints_url_and_accounts_serves_and_stops_on_ctrl_c(env):
    run = tempfile.mkdtemp(prefix="tp-demo-")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(SRC, "conf", "demo", "demo.py"),
         "--build", build_dir(), "--port", str(port), "--run", run],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = _read_until(proc, "Press Ctrl-C", 60)
        check("Press Ctrl-C" in out, "demo did not come up:\n" + out)
        check("http://127.0.0.1:%d/" % port in out, "URL not printed:\n" + out)
        for login, password in readme_accounts():
            check(re.search(r"^\s+%s\s+%s\s" % (re.escape(login), re.escape(password)),
                            out, re.M), "%s / %s not printed:\n%s" % (login, password, out))
        check(_procs_mentioning(run), "no demo process found")
        c = Client("http://127.0.0.1:%d/" % port)
        r = c.get("/login")
        check(r.status == 200 and 'name="csrf"' in r.body, "sign-in page: %d" % r.status)
        login, password = readme_accounts()[-1]
        r = c.post("/login", {"username": login, "password": password})
        check(r.status == 303 and r.header("Location") in ("/", "/login"),
              "%s cannot sign in: %d" % (login, r.status))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        out += proc.stdout.read().decode("utf-8", "replace")
        check("demo stopped." in out, "no stop message:\n" + out)
        _wait(lambda: not _procs_mentioning(run), 10, "demo processes to go")
        check(not _tcp_connectable(port), "port %d still open" % port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in _procs_mentioning(run):
            try:
                os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", run])


if __name__ == "__main__":
    main()
