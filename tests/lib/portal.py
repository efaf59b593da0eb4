"""The integration harness: a real slapd, tokenportal and a real nginx in
front of it, all on loopback, plus a small HTTP client with a cookie jar.

    from portal import Portal
    with Portal() as p:                       # or p = Portal().start() ... p.stop()
        c = p.client()
        r = c.login("alice", "Alice-Demo-2026")
        r = c.get("/")
        p.base_url, p.conf_path, p.store_path, p.workdir

Portal(config={...}) adds or overrides config keys ("portal.session_idle_seconds":
2); workers=N; smtp=True also starts tests/lib/smtpsink.py and sets smtp.*.
Everything lives in a temporary folder that stop() removes (TP_KEEP=1 keeps
it, and its logs, for a post-mortem).  Whatever failed half-way through
start() is stopped again before the exception leaves start().
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from slapd import Slapd, free_port  # noqa: E402
from tap import build_dir, src_dir  # noqa: E402

NGINX = "/usr/sbin/nginx"

# The demo directory's people (conf/demo/directory.ldif).
USERS = {
    "alice": "Alice-Demo-2026",
    "bob": "Bob-Demo-2026",
    "carol": "Carol-Demo-2026",   # helpdesk
    "dave": "Dave-Demo-2026",     # admin
}


def _wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def _unix_connectable(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _tcp_connectable(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def hdf_value(v):
    """An HDF value on one line (HDF has no quoting: refuse newlines)."""
    v = str(v)
    if "\n" in v:
        raise ValueError("config values are single lines")
    return v


# --- HTTP client ------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name):
        """The first value of header name (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def set_cookies(self):
        return self.all("Set-Cookie")

    def cookie_attrs(self, name):
        """The Set-Cookie of cookie name as (value, {attr-lower: value})."""
        for sc in self.set_cookies:
            parts = [p.strip() for p in sc.split(";")]
            k, _, v = parts[0].partition("=")
            if k == name:
                attrs = {}
                for p in parts[1:]:
                    a, _, av = p.partition("=")
                    attrs[a.lower()] = av
                return v, attrs
        return None

    def __repr__(self):
        return "<Response %d %d bytes>" % (self.status, len(self.body))


class Client:
    """HTTP/1.1 to the portal with a cookie jar.  Redirects are returned,
    not followed, unless follow=True."""

    def __init__(self, base_url):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}
        self.last = None

    def _store_cookies(self, resp):
        for sc in resp.set_cookies:
            parts = [p.strip() for p in sc.split(";")]
            k, _, v = parts[0].partition("=")
            attrs = {p.split("=")[0].lower(): p.partition("=")[2]
                     for p in parts[1:]}
            if attrs.get("max-age") == "0" or v == "":
                self.cookies.pop(k, None)
            else:
                self.cookies[k] = v

    def request(self, method, path, body=None, headers=None, follow=False):
        for _ in range(10):
            h = {"Host": "%s:%d" % (self.host, self.port)}
            if self.cookies:
                h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
            if headers:
                h.update(headers)
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request(method, path, body=body, headers=h)
                r = conn.getresponse()
                resp = Response(r.status, r.getheaders(),
                                r.read().decode("utf-8", "replace"))
            finally:
                conn.close()
            self._store_cookies(resp)
            self.last = resp
            if follow and resp.status in (301, 302, 303) and resp.header("Location"):
                method, path, body = "GET", resp.header("Location"), None
                headers = None
                continue
            return resp
        raise RuntimeError("too many redirects")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, csrf=True, **kw):
        """POSTs form (dict or list of pairs).  csrf=True adds the token
        from the last page seen (or GET path first when none); csrf=None
        sends no token; a string sends that one."""
        items = list(form.items()) if isinstance(form, dict) else list(form)
        if csrf is True:
            token = self.csrf_from(self.last.body) if self.last else None
            if token is None:
                token = self.csrf_from(self.get(path, follow=True).body)
            items.append(("csrf", token or ""))
        elif csrf:
            items.append(("csrf", csrf))
        body = urllib.parse.urlencode(items)
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        hdrs.update(kw.pop("headers", None) or {})
        return self.request("POST", path, body=body, headers=hdrs, **kw)

    @staticmethod
    def csrf_from(html):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html or "")
        return m.group(1) if m else None

    def login(self, user, password, code=None):
        """Signs in from a fresh GET /login; with code, answers the step-up
        page too.  Returns the last response (a 303 to / on success)."""
        self.get("/login", follow=True)   # "/" when already signed in
        r = self.post("/login", {"username": user, "password": password})
        if code is not None and r.status == 303 and r.header("Location") == "/login":
            self.get("/login")
            r = self.post("/login", {"code": code})
        return r

    def logout(self):
        if not self.last or self.csrf_from(self.last.body) is None:
            self.get("/")
        return self.post("/logout", {})


# --- the servers --------------------------------------------------------------

class Portal:
    def __init__(self, config=None, workers=2, smtp=False, cookie_secure=1,
                 workdir=None, port=None, smtp_out=None, keep_store=False):
        self.extra = dict(config or {})
        self.fixed_port = port          # nginx's port; None: a free one
        self.smtp_out = smtp_out        # print each mail there (the demo)
        self.keep_store = keep_store    # reuse an existing key and store
        self.workers = workers
        self.want_smtp = smtp
        self.cookie_secure = cookie_secure
        self.build = build_dir()
        self.src = src_dir()
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="tp-portal-")
        self.conf_path = os.path.join(self.workdir, "tokenportal.hdf")
        self.store_path = os.path.join(self.workdir, "store.db")
        self.key_path = os.path.join(self.workdir, "master.key")
        self.sock_path = os.path.join(self.workdir, "portal.sock")
        self.log_path = os.path.join(self.workdir, "portal.log")
        self.nginx_dir = os.path.join(self.workdir, "nginx")
        self.slapd = None
        self.smtp = None
        self.proc = None
        self.nginx = None
        self.port = None
        self.base_url = None

    # -- context manager ----------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- set-up -------------------------------------------------------------

    def start(self):
        try:
            self.slapd = Slapd(os.path.join(self.workdir, "slapd")).start()
            if self.want_smtp:
                from smtpsink import SmtpSink
                self.smtp = SmtpSink(out=self.smtp_out)
                self.smtp.start()
            self.write_config()
            self.init_store()
            self.start_portal()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def config_values(self):
        s = self.slapd
        v = {
            "store.driver": "sqlite",
            "store.path": self.store_path,
            "keys.master_file": self.key_path,
            "directory.uri": s.uri,
            "directory.bind_dn": s.service_dn,
            "directory.bind_password": s.service_password,
            "directory.base_dn": s.people_dn,
            "directory.user_filter": "(uid=%s)",
            "directory.timeout_seconds": 2,
            "roles.helpdesk.group": "cn=helpdesk," + s.groups_dn,
            "roles.admin.group": "cn=admins," + s.groups_dn,
            "enroll.bootstrap": "password",
            "portal.issuer": "Example Org",
            "portal.templates": os.path.join(self.src, "templates"),
            "portal.listen": "unix:" + self.sock_path,
            "portal.log": self.log_path,
            "portal.workers": self.workers,
            "portal.cookie_secure": self.cookie_secure,
            "portal.stop_timeout_seconds": 5,
            "resources.portal.pin_mode": "none",
        }
        if self.smtp:
            v["smtp.url"] = "smtp://127.0.0.1:%d" % self.smtp.port
            v["smtp.from"] = "tokens@example.org"
            v["smtp.from_name"] = "Token portal"
        v.update(self.extra)
        return {k: x for k, x in v.items() if x is not None}

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/lib/portal.py\n")
            for k, x in self.config_values().items():
                f.write("%s = %s\n" % (k, hdf_value(x)))

    def init_store(self):
        """Creates the master key and the store: `tokenctl init` when it
        is built, else a throw-away program calling ac_ctx_init()."""
        if self.keep_store and os.path.exists(self.key_path) and \
                os.path.exists(self.store_path):
            return
        tokenctl = os.path.join(self.build, "tokenctl")
        if os.access(tokenctl, os.X_OK):
            r = subprocess.run([tokenctl, "-c", self.conf_path, "init"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("tokenctl init: " + r.stderr.strip())
            return
        prog = os.path.join(self.workdir, "ac_init")
        csrc = prog + ".c"
        with open(csrc, "w") as f:
            f.write('#include <stdio.h>\n#include "authcore.h"\n'
                    'int main(int c, char **v) { char e[256] = "";\n'
                    '  (void)c; if (ac_ctx_init(v[1], e, sizeof e) != 0)'
                    ' { fprintf(stderr, "%s\\n", e); return 1; } return 0; }\n')
        libs = subprocess.run(["pkg-config", "--libs", "fcgi", "ldap",
                               "libqrencode", "openssl", "sqlite3", "libcurl"],
                              capture_output=True, text=True).stdout.split()
        subprocess.run(["cc", "-o", prog, "-I", os.path.join(self.src, "authcore"),
                        csrc, os.path.join(self.build, "libauthcore.a"),
                        "-lneo_cgi", "-lneo_cs", "-lneo_utl", "-lz"] + libs,
                       check=True, capture_output=True)
        r = subprocess.run([prog, self.conf_path], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("ac_ctx_init: " + r.stderr.strip())

    def start_portal(self, extra_args=None):
        binary = os.path.join(self.build, "tokenportal")
        self.portal_out = open(os.path.join(self.workdir, "portal.out"), "ab")
        self.proc = subprocess.Popen(
            [binary, "-c", self.conf_path, "--foreground"] + list(extra_args or []),
            stdout=self.portal_out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            _wait(lambda: self.proc.poll() is not None or
                  _unix_connectable(self.sock_path), 10, "tokenportal's socket")
        except RuntimeError:
            raise RuntimeError("tokenportal did not start:\n" + self.output())
        if self.proc.poll() is not None:
            raise RuntimeError("tokenportal exited %d:\n%s" %
                               (self.proc.returncode, self.output()))

    def output(self):
        text = ""
        for p in (os.path.join(self.workdir, "portal.out"), self.log_path):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()[-4000:]
        return text

    def nginx_conf(self):
        d = self.nginx_dir
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temps = "".join("    %s_temp_path %s/tmp/%s;\n" % (t, d, t) for t in
                        ("client_body", "fastcgi", "proxy", "scgi", "uwsgi"))
        return f"""{user}daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {d}/access.log;
{temps}    server_tokens off;
    server {{
        listen 127.0.0.1:{self.port};
        server_name localhost;
        client_max_body_size 128k;
        error_page 413 /static/errors/413.html;
        location /static/ {{
            alias {self.src}/static/;
            expires 1h;
        }}
        location / {{
            include /etc/nginx/fastcgi_params;
            fastcgi_pass unix:{self.sock_path};
        }}
    }}
}}
"""

    def start_nginx(self):
        os.makedirs(os.path.join(self.nginx_dir, "tmp"), exist_ok=True)
        for attempt in range(1 if self.fixed_port else 5):
            self.port = self.fixed_port or free_port()
            conf = os.path.join(self.nginx_dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.nginx_conf())
            self.nginx = subprocess.Popen(
                [NGINX, "-p", self.nginx_dir, "-c", conf,
                 "-e", os.path.join(self.nginx_dir, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            try:
                _wait(lambda: self.nginx.poll() is not None or
                      _tcp_connectable(self.port), 10, "nginx")
            except RuntimeError:
                pass
            if self.nginx.poll() is None and _tcp_connectable(self.port):
                self.base_url = "http://127.0.0.1:%d" % self.port
                return
            self._stop_proc(self.nginx, signal.SIGQUIT)
            self.nginx = None
        raise RuntimeError("nginx did not start on 127.0.0.1:%d (port taken?); "
                           "see %s/error.log" % (self.port, self.nginx_dir))

    # -- helpers for tests ------------------------------------------------------

    def client(self):
        return Client(self.base_url)

    def tokenctl(self, *args, input=None):
        """Runs build/tokenctl -c CONF ARGS; returns CompletedProcess."""
        return subprocess.run([os.path.join(self.build, "tokenctl"), "-c",
                               self.conf_path] + list(args), input=input,
                              capture_output=True, text=True)

    def add_totp(self, user, secret_b32, serial):
        r = self.tokenctl("add", "--type", "totp", "--user", user,
                          "--serial", serial, input=secret_b32 + "\n")
        if r.returncode != 0:
            raise RuntimeError("tokenctl add: " + r.stderr.strip())

    def sql(self, query):
        """Runs one SQL statement on the store with the sqlite3 shell."""
        r = subprocess.run(["sqlite3", "-cmd", ".timeout 5000",
                            self.store_path, query], capture_output=True,
                           encoding="utf-8", errors="replace")
        if r.returncode != 0:
            raise RuntimeError("sqlite3: " + r.stderr.strip())
        return r.stdout

    def parent_pid(self):
        return self.proc.pid if self.proc else None

    def worker_pids(self):
        """Pids whose parent is the tokenportal parent process."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if fields[0] != "Z" and int(fields[1]) == self.proc.pid:
                pids.append(int(d))
        return sorted(pids)

    # -- tear-down --------------------------------------------------------------

    @staticmethod
    def _stop_proc(p, sig=signal.SIGTERM, timeout=10):
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        try:
            os.killpg(p.pid, sig)
        except OSError:
            p.send_signal(sig)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
            return p.wait(5)

    def stop_portal(self):
        """SIGTERM to the parent alone (it stops its workers); returns its
        exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            raise RuntimeError("tokenportal did not stop on SIGTERM")

    def _stop_stray_nginx(self):
        """An nginx this harness started but lost track of (a test that
        restarted it, say) still has its pid file under nginx_dir."""
        try:
            with open(os.path.join(self.nginx_dir, "nginx.pid")) as f:
                pid = int(f.read().strip())
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if self.nginx_dir.encode() in f.read():
                    os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass

    def stop(self):
        for step in (lambda: self._stop_proc(self.nginx, signal.SIGQUIT),
                     self._stop_stray_nginx,
                     self.stop_portal,
                     lambda: self._stop_proc(self.proc, signal.SIGKILL),
                     lambda: self.smtp and self.smtp.stop(),
                     lambda: self.slapd and self.slapd.stop()):
            try:
                step()
            except Exception as e:  # keep tearing down the rest
                print("# teardown: %s" % e, file=sys.stderr)
        if self.own_workdir and not os.environ.get("TP_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
