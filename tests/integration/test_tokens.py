#!/usr/bin/env python3
"""The token pages, driven over HTTP through a real nginx in front of
tokenportal, against a real slapd and an SMTP sink (tests/lib/portal.py).

Every code comes from oathtool and every QR code is read back by zbarimg
(rasterised by rsvg-convert): programs we did not write decide whether what
the portal shows is right."""
import base64
import html
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from portal import Portal, USERS  # noqa: E402
from tap import case, main  # noqa: E402

MAX_TOKENS = 4
EMAIL_SENDS = 3


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def oathtool(*args):
    return subprocess.run(["oathtool"] + list(args), capture_output=True,
                          text=True, check=True).stdout.strip()


class Totp:
    """A TOTP secret with the last time step the portal accepted, so each
    case asks for a code the replay guard has not seen yet."""

    def __init__(self, b32, algo="sha1", digits=6, period=30):
        self.b32, self.algo, self.digits, self.period = b32, algo, digits, period
        self.last = -1

    def code(self):
        while True:
            now = int(time.time()) // self.period
            # The portal's window is one step each side of now.
            for step in (now - 1, now, now + 1):
                if step > self.last:
                    self.last = step
                    return oathtool("--totp=" + self.algo, "-b", "-d",
                                    str(self.digits), "-s", "%ds" % self.period,
                                    "-N", "@%d" % (step * self.period), self.b32)
            time.sleep(1)


def element(body, ident):
    """The inner HTML of the element with id ident."""
    m = re.search(r'<(\w+)[^>]*\bid="%s"[^>]*>(.*?)</\1>' % re.escape(ident),
                  body, re.S)
    check(m, "no element id=%s in the page" % ident)
    return m.group(2)


def field_error(body, ident):
    m = re.search(r'id="%s-error">([^<]*)<' % re.escape(ident), body)
    return html.unescape(m.group(1)) if m else None


def serial_from(resp):
    loc = resp.header("Location") or ""
    m = re.search(r"/enroll/activate/([A-Za-z0-9._-]+)", loc)
    check(resp.status == 303 and m, "enrollment did not redirect to its "
          "activation page: %d %s" % (resp.status, loc))
    return m.group(1)


def enroll(c, kind="totp", **form):
    c.get("/enroll/" + kind)
    return serial_from(c.post("/enroll/" + kind, form))


def activation(c, serial):
    """GETs the activation page; returns (response, secret bytes, uri)."""
    r = c.get("/enroll/activate/" + serial)
    check(r.status == 200, "activation page: %d" % r.status)
    b32 = re.sub(r"\s", "", html.unescape(element(r.body, "secret-base32")))
    hexs = re.sub(r"\s", "", html.unescape(element(r.body, "secret-hex")))
    m = re.search(r'<a[^>]*\bid="otpauth-uri"[^>]*>', r.body)
    check(m, "no otpauth link")
    uri = html.unescape(re.search(r'href="([^"]*)"', m.group(0)).group(1))
    raw = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    check(raw == bytes.fromhex(hexs), "Base32 and hex secrets differ")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    check(q["secret"][0] == b32, "the URI's secret is not the Base32 shown")
    return r, raw, uri


def token_row(env, serial):
    out = env.sql("SELECT state FROM tokens WHERE serial = '%s'" % serial)
    return out.strip()


def login(env, user):
    c = env.client()
    r = c.login(user, USERS[user])
    check(r.status == 303, "%s cannot sign in: %d" % (user, r.status))
    return c


def setup():
    p = Portal(smtp=True, config={"enroll.max_tokens": MAX_TOKENS,
                                  "enroll.email_sends": EMAIL_SENDS})
    p.start()
    # Signed in before they own any token (password bootstrap); the
    # sessions then last the whole suite, no step-up needed.
    p.alice = login(p, "alice")
    p.bob = login(p, "bob")
    p.carol = login(p, "carol")
    return p


def teardown(p):
    if p is not None:
        p.stop()


# --- TOTP ----------------------------------------------------------------

@case
def totp_enrollment_shows_the_secret_consistently(env):
    c = env.alice
    r = c.get("/enroll/totp")
    check(r.status == 200 and 'name="description"' in r.body, "enroll form")
    env.totp_serial = enroll(c, description="Work phone")
    r, raw, uri = activation(c, env.totp_serial)
    check("no-store" in (r.header("Cache-Control") or ""), "activation page "
          "may be cached")
    check(len(raw) == 20, "a SHA-1 secret is 20 bytes, not %d" % len(raw))
    check(uri.startswith("otpauth://totp/"), uri)
    check("algorithm=" not in uri and "digits=" not in uri, "defaults in URI")
    check('id="nondefault-warning"' not in r.body, "warning for defaults")
    check('autocomplete="one-time-code"' in r.body
          and 'inputmode="numeric"' in r.body, "code field attributes")
    env.totp = Totp(base64.b32encode(raw).decode().rstrip("="))
    env.totp_uri = uri
    env.totp_raw = raw


@case
def qr_code_decodes_to_the_otpauth_uri(env):
    r = env.alice.get("/enroll/activate/" + env.totp_serial)
    svg = element(r.body, "qr")
    check(svg.lstrip().startswith("<svg"), "the QR is not inline SVG")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "qr.svg"), "w") as f:
            f.write(svg)
        subprocess.run(["rsvg-convert", "-w", "600", "-o",
                        os.path.join(d, "qr.png"), os.path.join(d, "qr.svg")],
                       check=True)
        out = subprocess.run(["zbarimg", "--raw", "--quiet", "--nodbus",
                              os.path.join(d, "qr.png")],
                             capture_output=True, text=True, check=True)
    check(out.stdout.strip() == env.totp_uri, "QR says %r" % out.stdout)


@case
def wrong_code_is_refused_and_token_stays_pending(env):
    good = env.totp.code()
    wrong = "%06d" % ((int(good) + 500000) % 1000000)
    env.totp.last -= 1          # the good code was not used
    r = env.alice.post("/enroll/activate/" + env.totp_serial, {"code": wrong})
    check(r.status == 400, "wrong code: %d" % r.status)
    check(field_error(r.body, "code"), "no error next to the code field")
    check(token_row(env, env.totp_serial) == "0", "token no longer pending")
    r = env.alice.post("/enroll/activate/" + env.totp_serial, {"code": "12ab"})
    check(r.status == 400 and field_error(r.body, "code"), "malformed code")


@case
def correct_code_activates_and_the_secret_is_gone(env):
    c = env.alice
    r = c.post("/enroll/activate/" + env.totp_serial, {"code": env.totp.code()})
    check(r.status == 303 and r.header("Location").startswith(
        "/tokens/" + env.totp_serial), "activation: %d %s" % (r.status, r.header("Location")))
    check(token_row(env, env.totp_serial) == "1", "token not active")
    r = c.get(r.header("Location"))
    check(r.status == 200 and "activated" in r.body, "no activation message")
    # A second submit of the form (double click, another tab): 409.
    r = c.post("/enroll/activate/" + env.totp_serial, {"code": "000000"})
    check(r.status == 409, "activating an active token: %d" % r.status)
    r = c.get("/enroll/activate/" + env.totp_serial)
    check(r.status == 303 and "/enroll/" not in r.header("Location"),
          "activation page of an active token: %d" % r.status)
    hexs = env.totp_raw.hex()
    for path in ("/", "/tokens/" + env.totp_serial):
        body = c.get(path).body
        check(env.totp.b32 not in re.sub(r"\s", "", body)
              and hexs not in body.replace(" ", ""), "secret shown on " + path)


@case
def store_file_holds_no_secret(env):
    data = b""
    for suffix in ("", "-wal"):
        if os.path.exists(env.store_path + suffix):
            with open(env.store_path + suffix, "rb") as f:
                data += f.read()
    raw = env.totp_raw
    for needle in (raw, raw.hex().encode(), raw.hex().upper().encode(),
                   env.totp.b32.encode(), env.totp.b32.lower().encode()):
        check(needle not in data, "the store file contains the secret")


@case
def test_a_code_right_and_wrong(env):
    c, s = env.alice, env.totp_serial
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "test", "code": env.totp.code()})
    check(r.status == 303 and "test_ok" in r.header("Location"), "right code")
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "test", "code": "000000"
                                if env.totp.code() != "000000" else "111111"})
    check(r.status == 400 and field_error(r.body, "test-code"), "wrong code")


@case
def rename_renders_markup_escaped(env):
    c, s = env.alice, env.totp_serial
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "rename", "description": payload})
    check(r.status == 303, "rename: %d" % r.status)
    for path in ("/", "/tokens/" + s):
        body = c.get(path).body
        check("<script>alert" not in body and "<img src=x" not in body,
              "raw markup on " + path)
        check("&lt;script&gt;alert(" in body, "description missing on " + path)


@case
def disable_and_enable(env):
    c, s = env.alice, env.totp_serial
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "disable"})
    check(r.status == 303 and token_row(env, s) == "2", "disable")
    body = c.get("/tokens/" + s).body
    check("badge" in body and "Disabled" in body, "status not shown")
    r = c.post("/tokens/" + s, {"action": "test", "code": env.totp.code()})
    check(r.status == 400 and field_error(r.body, "test-code"), "a disabled token passed a test: %d" % r.status)
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "enable"})
    check(r.status == 303 and token_row(env, s) == "1", "enable")


@case
def pin_set_then_checked_by_otpcheck(env):
    c, s = env.alice, env.totp_serial
    body = c.get("/tokens/" + s).body
    check('name="pin2"' in body, "no PIN form")
    r = c.post("/tokens/" + s, {"action": "pin", "pin": "4321", "pin2": "4322"})
    check(r.status == 400 and field_error(r.body, "pin2"), "PIN mismatch")
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "pin", "pin": "4321", "pin2": "4321"})
    check(r.status == 303 and "pin_set" in r.header("Location"), "PIN set")
    otpcheck = os.path.join(env.build, "otpcheck")

    def run(passcode):
        return subprocess.run([otpcheck, "-c", env.conf_path, "alice"],
                              input=passcode + "\n", capture_output=True,
                              text=True).returncode
    check(run("4321" + env.totp.code()) == 0, "PIN + code refused")
    check(run(env.totp.code()) == 1, "code without the PIN accepted")


@case
def non_default_settings_warn_and_work(env):
    c = env.alice
    s = enroll(c, algorithm="SHA256", digits="8", period="60")
    r, raw, uri = activation(c, s)
    check('id="nondefault-warning"' in r.body, "no warning")
    check(len(raw) == 32, "a SHA-256 secret is 32 bytes")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    check(q.get("algorithm") == ["SHA256"] and q.get("digits") == ["8"]
          and q.get("period") == ["60"], "URI parameters: " + uri)
    t = Totp(base64.b32encode(raw).decode(), "sha256", 8, 60)
    r = c.post("/enroll/activate/" + s, {"code": t.code()})
    check(r.status == 303 and token_row(env, s) == "1", "activation")
    env.sha256_serial = s
    r = c.post("/enroll/totp", {"algorithm": "MD5"})
    check(r.status == 400 and field_error(r.body, "algorithm"), "MD5 taken")


# --- HOTP ------------------------------------------------------------------

@case
def hotp_enroll_activate_and_resync(env):
    c = env.alice
    s = enroll(c, "hotp", description="Key fob")
    r, raw, uri = activation(c, s)
    check(uri.startswith("otpauth://hotp/") and "counter=0" in uri, uri)
    hexs = raw.hex()

    def hotp(n):
        return oathtool("--hotp", "-c", str(n), hexs)
    r = c.post("/enroll/activate/" + s, {"code": hotp(0)})
    check(r.status == 303 and token_row(env, s) == "1", "HOTP activation")
    body = c.get("/tokens/" + s).body
    check('name="code2"' in body, "no resync form")
    # Far beyond the normal look-ahead window, a test fails...
    r = c.post("/tokens/" + s, {"action": "test", "code": hotp(200)})
    check(r.status == 400, "counter 200 accepted without resync")
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "resync", "code": hotp(300),
                                "code2": hotp(302)})
    check(r.status == 400 and field_error(r.body, "resync-code2"),
          "non-consecutive codes accepted")
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "resync", "code": hotp(300),
                                "code2": hotp(301)})
    check(r.status == 303 and "resynced" in r.header("Location"), "resync")
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "test", "code": hotp(302)})
    check(r.status == 303, "next code after resync refused")
    env.hotp_serial = s


def selected_options(body):
    """{select id: value of its selected option} of a form."""
    out = {}
    for m in re.finditer(r'<select id="(\w+)"(.*?)</select>', body, re.S):
        sel = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[m.group(1)] = sel.group(1) if sel else None
    return out


@case
def preselected_settings_follow_the_config(env):
    # SHA1/6/30 when the lists allow it, wherever it is listed; else the
    # first value listed.  A form without the advanced fields gets them.
    with Portal(config={"enroll.algorithms": "sha512 sha256",
                        "enroll.digits": "8 6", "enroll.periods": "60"}) as p:
        c = login(p, "bob")
        r = c.get("/enroll/totp")
        got = selected_options(r.body)
        check(got == {"algorithm": "SHA512", "digits": "6", "period": "60"},
              "preselected: %r" % got)
        s = serial_from(c.post("/enroll/totp", {"description": "defaults"}))
        row = p.sql("SELECT algo, digits, period FROM tokens WHERE serial"
                    " = '%s'" % s).strip()
        check(row == "2|6|60", "token settings: %r" % row)
    r = env.bob.get("/enroll/totp")
    got = selected_options(r.body)
    check(got == {"algorithm": "SHA1", "digits": "6", "period": "30"},
          "default config preselects %r" % got)


@case
def email_tokens_unavailable_without_smtp(env):
    with Portal() as p:                 # no smtp.url
        c = login(p, "bob")
        home = c.get("/").body
        check('href="/enroll/email"' not in home, "home offers e-mail tokens")
        r = c.get("/enroll/email")
        check(r.status == 503 and 'id="email-unavailable"' in r.body
              and "cannot send mail" in r.body, "GET: %d" % r.status)
        check('action="/enroll/email"' not in r.body, "the form is shown")
        r = c.post("/enroll/email", {"digits": "6"})
        check(r.status == 503 and 'id="email-unavailable"' in r.body,
              "POST: %d" % r.status)
        n = p.sql("SELECT count(*) FROM tokens").strip()
        check(n == "0", "%s tokens created" % n)


# --- limits, expiry, deletion ------------------------------------------------

@case
def max_tokens_is_enforced(env):
    c = env.alice
    # totp, sha256, hotp: one more fits.
    env.pending_serial = enroll(c)
    r = c.get("/enroll/totp")
    check('id="max-tokens"' in r.body, "full form not said")
    r = c.post("/enroll/totp", {"description": "one too many"})
    check(r.status == 403 and 'id="max-tokens"' in r.body,
          "enrollment over the limit: %d" % r.status)
    n = env.sql("SELECT count(*) FROM tokens WHERE owner = 'alice'").strip()
    check(n == str(MAX_TOKENS), "alice has %s tokens" % n)
    check('id="max-tokens"' in c.get("/").body, "home page does not say so")


@case
def expired_enrollment_is_explained_and_swept(env):
    c, s = env.alice, env.pending_serial
    env.sql("UPDATE tokens SET expires = %d WHERE serial = '%s'"
            % (int(time.time()) - 5, s))
    r = c.get("/enroll/activate/" + s)
    check(r.status == 410 and "expired" in r.body,
          "expired activation page: %d" % r.status)
    check(token_row(env, s) == "", "expired token not swept")
    check(s not in c.get("/").body, "expired token still listed")
    r = c.get("/enroll/activate/" + s)
    check(r.status == 404, "swept enrollment: %d" % r.status)


@case
def enrollment_expiring_while_typing_is_410(env):
    c = env.alice
    s = enroll(c, "totp")
    r, raw, _ = activation(c, s)
    env.sql("UPDATE tokens SET expires = %d WHERE serial = '%s'"
            % (int(time.time()) - 5, s))
    code = Totp(base64.b32encode(raw).decode()).code()
    r = c.post("/enroll/activate/" + s, {"code": code})
    check(r.status == 410 and "expired" in r.body, "status %d" % r.status)
    check(token_row(env, s) == "", "expired token not swept")


@case
def delete_asks_for_confirmation(env):
    c, s = env.alice, env.sha256_serial
    c.get("/tokens/" + s)
    r = c.post("/tokens/" + s, {"action": "delete"})
    check(r.status == 200 and 'id="confirm-delete"' in r.body, "no question")
    check(token_row(env, s) == "1", "deleted without confirmation")
    r = c.post("/tokens/" + s, {"action": "delete", "confirm": "yes"})
    check(r.status == 303 and token_row(env, s) == "", "not deleted")
    check(c.get("/tokens/" + s).status == 404, "deleted token still shown")


@case
def token_events_are_listed_newest_first(env):
    body = env.alice.get("/tokens/" + env.hotp_serial).body
    ev = element(body, "events")
    actions = re.findall(r'data-label="What">([^<]*)<', ev)
    check(actions[:2] == ["test", "resync"], "events: %r" % actions[:4])
    check("enroll" in actions and "portal:alice" in ev, "actor missing")


# --- access --------------------------------------------------------------------

@case
def other_users_serials_are_404(env):
    b = env.bob
    for s in (env.totp_serial, env.hotp_serial):
        for path in ("/tokens/" + s, "/enroll/activate/" + s):
            r = b.get(path)
            check(r.status == 404, "bob GET %s: %d" % (path, r.status))
            b.get("/")
            r = b.post(path, {"action": "disable", "code": "123456"})
            check(r.status == 404, "bob POST %s: %d" % (path, r.status))
    check(token_row(env, env.totp_serial) == "1", "bob changed alice's token")
    r1 = b.get("/tokens/" + env.totp_serial)
    r2 = b.get("/tokens/NOSUCH1")
    check(r1.body.replace(env.totp_serial, "X") ==
          r2.body.replace("NOSUCH1", "X"), "404 pages differ")


@case
def posts_without_csrf_are_403(env):
    c, s = env.alice, env.totp_serial
    for path, form in (("/tokens/" + s, {"action": "disable"}),
                       ("/tokens/" + s, {"action": "delete", "confirm": "yes"}),
                       ("/enroll/totp", {}),
                       ("/enroll/email", {}),
                       ("/enroll/activate/" + s, {"code": "123456"})):
        r = c.post(path, form, csrf=None)
        check(r.status == 403, "%s without csrf: %d" % (path, r.status))
        r = c.post(path, form, csrf="0" * 64)
        check(r.status == 403, "%s with a wrong csrf: %d" % (path, r.status))
    check(token_row(env, s) == "1", "token changed without csrf")


# --- e-mail --------------------------------------------------------------------

def mailed_code(env, rcpt, since, digits):
    msg = env.smtp.wait_for(rcpt, timeout=10, since=since)
    text = msg["message"].get_body(("plain",)).get_content()
    m = re.search(r"\b(\d{%d})\b" % digits, text)
    check(m, "no code in the mail")
    return m.group(1)


@case
def email_token_enroll_and_activate(env):
    c = env.bob
    r = c.get("/enroll/email")
    check(r.status == 200 and "bob@example.org" in r.body, "address shown")
    check('id="weaker"' in r.body, "not labelled as weaker")
    since = len(env.smtp.messages)
    r = c.post("/enroll/email", {"digits": "8", "description": "mail"})
    s = serial_from(r)
    check("msg=sent" in r.header("Location"), "not sent: " + r.header("Location"))
    code = mailed_code(env, "bob@example.org", since, 8)
    r = c.get(r.header("Location"))
    check(r.status == 200 and "bob@example.org" in r.body, "activation page")
    wrong = "%08d" % ((int(code) + 1) % 10**8)
    r = c.post("/enroll/activate/" + s, {"code": wrong})
    check(r.status == 400 and field_error(r.body, "code"), "wrong code taken")
    r = c.post("/enroll/activate/" + s, {"code": code})
    check(r.status == 303 and token_row(env, s) == "1", "mailed code refused")
    check(env.sql("SELECT email FROM tokens WHERE serial = '%s'" % s).strip()
          == "bob@example.org", "token address")
    env.email_serial = s


@case
def email_token_cannot_be_tested_without_a_mail(env):
    c, s = env.bob, env.email_serial
    r = c.get("/tokens/" + s)
    check(r.status == 200 and 'id="test-code"' not in r.body,
          "test form offered for an e-mail token")
    before = env.sql("SELECT counter, fail_count FROM tokens WHERE serial"
                     " = '%s'" % s).strip()
    r = c.post("/tokens/" + s, {"action": "test", "code": "12345678"})
    check(r.status == 400 and "Send a code to my e-mail" in r.body,
          "test of an e-mail token: %d" % r.status)
    check(env.sql("SELECT counter, fail_count FROM tokens WHERE serial"
                  " = '%s'" % s).strip() == before, "token changed")


@case
def email_send_again_is_limited(env):
    c = env.carol
    since = len(env.smtp.messages)
    c.get("/enroll/email")
    s = serial_from(c.post("/enroll/email", {}))
    first = mailed_code(env, "carol@example.org", since, 6)
    for i in range(EMAIL_SENDS - 1):
        since = len(env.smtp.messages)
        c.get("/enroll/activate/" + s)
        r = c.post("/enroll/activate/" + s, {"action": "resend"})
        check(r.status == 303 and "msg=sent" in r.header("Location"),
              "resend %d: %d" % (i, r.status))
        again = mailed_code(env, "carol@example.org", since, 6)
        check(again == first, "a resent code differs")
    c.get("/enroll/activate/" + s)
    r = c.post("/enroll/activate/" + s, {"action": "resend"})
    check(r.status == 429 and field_error(r.body, "code"), "no limit: %d"
          % r.status)
    r = c.post("/enroll/activate/" + s, {"code": first})
    check(r.status == 303 and token_row(env, s) == "1", "activation")


if __name__ == "__main__":
    main(setup=setup, teardown=teardown)
