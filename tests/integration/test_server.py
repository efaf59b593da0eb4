#!/usr/bin/env python3
"""The process model and the HTTP edges of tokenportal: error pages, body
limits, worker restarts, SIGHUP, SIGTERM, an inherited socket on fd 0 (as
spawn-fcgi hands it over), and start-up refusals that name the config key."""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from portal import Portal, USERS, _wait  # noqa: E402
from tap import case, main  # noqa: E402


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def setup():
    return Portal(workers=3).start()


# --- a minimal FastCGI client (FastCGI spec 1.0, section 3) -------------------

def _record(rtype, req_id, content):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, rtype, req_id, len(content), pad) + \
        content + b"\0" * pad


def _nv(name, value):
    def ln(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(name)) + ln(len(value)) + name + value


def fastcgi_get(sock_path, path):
    """Sends one GET as a web server would; returns the raw CGI response."""
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "SCRIPT_NAME": path,
              "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
              "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    body = b"".join(_nv(k.encode(), v.encode()) for k, v in params.items())
    msg = _record(1, 1, struct.pack(">HB5x", 1, 0))       # BEGIN_REQUEST, RESPONDER
    msg += _record(4, 1, body) + _record(4, 1, b"")       # PARAMS
    msg += _record(5, 1, b"")                             # empty STDIN
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(msg)
    out, buf = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            _, rtype, _, clen, pad = struct.unpack(">BBHHBx", buf[:8])
            if len(buf) < 8 + clen + pad:
                break
            if rtype == 6:                                 # STDOUT
                out += buf[8:8 + clen]
            buf = buf[8 + clen + pad:]
            if rtype == 3:                                 # END_REQUEST
                s.close()
                return out.decode("utf-8", "replace")
    s.close()
    return out.decode("utf-8", "replace")


# --- pages ------------------------------------------------------------------------

@case
def unknown_path_is_a_404_page(env):
    r = env.client().get("/no/such/page")
    check(r.status == 404, "status %d" % r.status)
    check("Page not found" in r.body and 'href="/static/style.css"' in r.body,
          "a page in the layout")


@case
def pages_start_with_the_doctype(env):
    # No blank lines from the templates' includes and defs before it.
    c = env.client()
    pages = [c.get("/login"), c.get("/no/such/page")]
    check(c.login("bob", USERS["bob"]).status == 303, "bob cannot sign in")
    pages += [c.get("/"), c.get("/enroll/totp"), c.get("/enroll/email")]
    for r in pages:
        check(r.body.startswith("<!DOCTYPE html>"), "%r starts with %r"
              % (r, r.body[:20]))
    c.logout()


@case
def wrong_method_is_a_405_page_with_allow(env):
    c = env.client()
    r = c.get("/logout")
    check(r.status == 405 and r.header("Allow") == "POST", "%r %r" % (r, r.header("Allow")))
    check("Method not allowed" in r.body, "page text")
    r = c.request("PUT", "/login", body="x")
    check(r.status == 405, "PUT: %d" % r.status)


@case
def oversized_form_is_a_413_page(env):
    c = env.client()
    c.get("/login")
    r = c.post("/login", {"username": "a" * (100 * 1024), "password": "x"})
    check(r.status == 413, "status %d" % r.status)
    check("more data than this portal accepts" in r.body, "our page, not nginx's")


@case
def form_over_nginx_cap_gets_a_413_page_of_ours(env):
    c = env.client()
    c.get("/login")
    r = c.post("/login", {"username": "a" * (200 * 1024), "password": "x"})
    check(r.status == 413, "status %d" % r.status)
    check("more data than this portal accepts" in r.body and
          "/static/style.css" in r.body, "nginx's bare page: %r" % r.body[:200])


def _shipped_site(env, folder, http_port, https_port, ca):
    """conf/nginx/tokenportal.conf with only ports, certificate, socket,
    static folder and the temp paths moved into folder."""
    with open(os.path.join(env.src, "conf", "nginx", "tokenportal.conf")) as f:
        site = f.read()
    for old, new in (
            ("listen 80;", "listen 127.0.0.1:%d;" % http_port),
            ("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % https_port),
            ("listen [::]:80;", ""), ("listen [::]:443 ssl http2;", ""),
            ("/etc/ssl/certs/tokens.example.org.pem", ca.cert_file),
            ("/etc/ssl/private/tokens.example.org.key", ca.key_file),
            ("/run/tokenportal/tokenportal.sock", env.sock_path),
            ("/usr/local/share/tokenportal/static/", env.src + "/static/")):
        check(old in site, "%r no longer in the shipped site" % old)
        site = site.replace(old, new)
    site = site.replace("include fastcgi_params;", "include /etc/nginx/fastcgi_params;")
    temps = "".join("    %s_temp_path %s/%s;\n" % (t, folder, t) for t in
                    ("client_body", "fastcgi", "proxy", "scgi", "uwsgi"))
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (f"{user}daemon off;\npid {folder}/nginx.pid;\nevents {{}}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n"
            f"{temps}{site}\n}}\n")


@case
def shipped_nginx_site_serves_the_portal(env):
    import http.client
    import ssl
    import tempfile
    from slapd import free_port
    from testca import TestCA
    folder = tempfile.mkdtemp(prefix="tp-site-")
    ca = TestCA(os.path.join(folder, "ca"))
    http_port, https_port = free_port(), free_port()
    conf = os.path.join(folder, "nginx.conf")
    with open(conf, "w") as f:
        f.write(_shipped_site(env, folder, http_port, https_port, ca))
    args = ["/usr/sbin/nginx", "-p", folder, "-c", conf, "-e",
            os.path.join(folder, "error.log")]
    t = subprocess.run(args + ["-t"], capture_output=True, text=True)
    check(t.returncode == 0, "nginx -t: " + t.stderr)
    proc = subprocess.Popen(args)
    try:
        from portal import _tcp_connectable
        _wait(lambda: _tcp_connectable(https_port), 10, "nginx")
        ctx = ssl.create_default_context(cafile=ca.ca_file)

        def req(method, path, body=None, headers=None, tls=True):
            conn = (http.client.HTTPSConnection("127.0.0.1", https_port, context=ctx,
                                                timeout=10) if tls else
                    http.client.HTTPConnection("127.0.0.1", http_port, timeout=10))
            try:
                conn.request(method, path, body=body, headers=headers or {})
                r = conn.getresponse()
                body = r.read().decode("utf-8", "replace")
                return r.status, {k: ", ".join(r.msg.get_all(k)) for k in r.msg}, body
            finally:
                conn.close()
        st, h, _ = req("GET", "/login", tls=False)
        check(st == 301 and h.get("Location", "").startswith("https://"), "http: %d" % st)
        st, h, body = req("GET", "/login")
        check(st == 200 and 'name="csrf"' in body, "login over TLS: %d" % st)
        check("frame-ancestors 'none'" in h.get("Content-Security-Policy", ""), "CSP")
        check("max-age" in h.get("Strict-Transport-Security", ""), "HSTS")
        st, h, _ = req("GET", "/static/style.css")
        check(st == 200 and "max-age" in h.get("Cache-Control", "") and
              h.get("X-Content-Type-Options") == "nosniff", "static: %d %r" % (st, h))
        st, h, body = req("POST", "/login", body="username=" + "a" * (200 * 1024),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(st == 413 and "more data than this portal accepts" in body,
              "413: %d %r" % (st, body[:200]))
        check("frame-ancestors 'none'" in h.get("Content-Security-Policy", ""),
              "413 page without CSP: %r" % h)
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)
        subprocess.run(["rm", "-rf", folder])


@case
def other_form_encodings_are_refused(env):
    c = env.client()
    c.get("/login")
    r = c.request("POST", "/login", body="--b\r\n\r\n--b--\r\n",
                  headers={"Content-Type": "multipart/form-data; boundary=b"})
    check(r.status == 415, "multipart: %d" % r.status)


@case
def debug_query_does_not_dump_the_dataset(env):
    r = env.client().get("/login?debug=1&debug_pause=1")
    check(r.status == 200 and "<pre>" not in r.body, "debug output")
    check("bind_password" not in r.body and "Portal-Service" not in r.body,
          "config secret in the page")


@case
def static_files_are_served_by_nginx_with_caching(env):
    r = env.client().get("/static/style.css")
    check(r.status == 200 and "text/css" in (r.header("Content-Type") or ""), "%r" % r)
    check(r.header("Cache-Control") and "max-age" in r.header("Cache-Control"),
          "caching header: %r" % r.header("Cache-Control"))


# --- processes ------------------------------------------------------------------------

@case
def workers_are_running_as_configured(env):
    pids = env.worker_pids()
    check(len(pids) == 3, "workers: %r" % pids)


@case
def a_killed_worker_is_replaced(env):
    before = env.worker_pids()
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: len(env.worker_pids()) == 3 and victim not in env.worker_pids(),
          10, "a new worker")
    c = env.client()
    for _ in range(6):                  # every worker answers
        check(c.get("/login").status == 200, "request after the restart")
    r = c.login("alice", USERS["alice"])
    check(r.status == 303, "sign-in after the restart: %r" % r)
    check("killed by signal 9" in env.output(), "restart logged")


@case
def sighup_reopens_the_log_file(env):
    moved = env.log_path + ".1"
    os.rename(env.log_path, moved)
    os.kill(env.parent_pid(), signal.SIGHUP)
    _wait(lambda: os.path.exists(env.log_path), 5, "a new log file")
    c = env.client()
    c.get("/login")
    c.post("/login", {"username": "x", "password": "y"}, csrf=None)  # logs a warning
    _wait(lambda: "csrf check failed" in open(env.log_path).read(), 5,
          "a worker line in the new log")


@case
def inherited_socket_on_fd_0_is_served(env):
    path = os.path.join(env.workdir, "inherited.sock")
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(16)
    proc = subprocess.Popen([os.path.join(env.build, "tokenportal"), "-c",
                             env.conf_path, "--foreground", "--workers", "1"],
                            stdin=ls.fileno(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    ls.close()
    try:
        out = ""
        for _ in range(50):
            try:
                out = fastcgi_get(path, "/login")
                break
            except OSError:
                time.sleep(0.1)
        check(out.startswith("Status: 200") and 'name="username"' in out,
              "response: %r" % out[:200])
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
    check(rc == 0, "exit status %d" % rc)


@case
def bad_settings_are_refused_naming_the_key(env):
    binary = os.path.join(env.build, "tokenportal")
    base = open(env.conf_path).read()
    for key, value in (("portal.workers", "0"), ("portal.listen", "nowhere"),
                       ("portal.cookie_secure", "maybe"),
                       ("portal.session_idle_minutes", "-5"),
                       ("enroll.bootstrap", "telepathy"),
                       # The step-up page cannot take password + code.
                       ("resources.portal.pin_mode", "directory"),
                       # mail.c wants a plain address (the name goes in
                       # smtp.from_name): refused at start, not by workers.
                       ("smtp.from", "Token portal <tokens@example.org>")):
        conf = os.path.join(env.workdir, "bad.hdf")
        with open(conf, "w") as f:
            f.write(base + "%s = %s\n" % (key, value))
            if key.startswith("smtp."):
                f.write("smtp.url = smtp://127.0.0.1:9\n")
        r = subprocess.run([binary, "-c", conf, "--foreground"], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode != 0 and key in r.stderr, "%s: %d %r" % (key, r.returncode,
                                                                    r.stderr))


@case
def missing_store_stops_the_server_with_a_message(env):
    conf = os.path.join(env.workdir, "nostore.hdf")
    with open(conf, "w") as f:
        f.write(open(env.conf_path).read().replace(
            env.store_path, os.path.join(env.workdir, "absent.db")).replace(
            "portal.sock", "nostore.sock"))
    r = subprocess.run([os.path.join(env.build, "tokenportal"), "-c", conf,
                        "--foreground", "--workers", "2"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 1, "exit status %d" % r.returncode)


@case
def sigterm_stops_everything_cleanly(env):
    workers = env.worker_pids()
    rc = env.stop_portal()
    check(rc == 0, "exit status %r" % rc)
    for pid in workers:
        check(not os.path.exists("/proc/%d" % pid) or
              open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z",
              "worker %d still running" % pid)
    check(not os.path.exists(env.sock_path), "socket file left behind")


if __name__ == "__main__":
    main(setup=setup, teardown=lambda env: env and env.stop())
