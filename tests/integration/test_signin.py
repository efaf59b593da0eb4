#!/usr/bin/env python3
"""Sign-in, sessions, CSRF and security headers, driven over HTTP through a
real nginx in front of tokenportal, against a real slapd (tests/lib/portal.py).

Codes for the step-up come from oathtool, which we did not write."""
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from portal import Portal, USERS  # noqa: E402
from tap import case, main  # noqa: E402

SESSION = "tp_session"
# Step-up tokens (RFC 6238's SHA-1 seed in Base32, and another).
SECRET_BOB = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SECRET_DAVE = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DENIED = "The user name or password is not right."


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def totp(secret, offset=0):
    """The TOTP code oathtool computes for now + offset seconds."""
    t = int(time.time()) + offset
    return subprocess.run(["oathtool", "--totp", "-b", "-N", "@%d" % t, secret],
                          capture_output=True, text=True, check=True).stdout.strip()


def setup():
    p = Portal(config={"portal.throttle.user_max": 3,
                       "portal.throttle.address_max": 10})
    p.start()
    p.add_totp("bob", SECRET_BOB, "TOTPBOB1")
    p.add_totp("dave", SECRET_DAVE, "TOTPDAVE1")
    return p


def fresh(env):
    """Forget earlier failures: cases must not throttle each other."""
    env.sql("DELETE FROM throttle")
    return env.client()


def field_error(html, name):
    m = re.search(r'id="%s-error">([^<]*)<' % name, html)
    return m.group(1) if m else None


def signed_in(c):
    r = c.get("/")
    return r.status == 200 and 'action="/logout"' in r.body


# --- password sign-in ---------------------------------------------------------

@case
def right_password_signs_in_and_shows_my_tokens(env):
    c = fresh(env)
    r = c.login("alice", USERS["alice"])
    check(r.status == 303 and r.header("Location") == "/", "303 to /: %r" % r)
    r = c.get("/")
    check(r.status == 200, "GET / %d" % r.status)
    check("Alice Archer" in r.body, "display name from the directory shown")
    check("My tokens" in r.body and "Add a token" in r.body, "navigation")


@case
def wrong_password_and_unknown_user_get_the_same_answer(env):
    c = fresh(env)
    a = c.login("alice", "not-her-password")
    b = c.login("mallory", "whatever-1")
    for r in (a, b):
        check(r.status == 200, "status %d" % r.status)
        check(field_error(r.body, "password") == DENIED, "message: %r" %
              field_error(r.body, "password"))
        check(SESSION not in c.cookies, "no session cookie")
    strip = lambda h: re.sub(r'value="[^"]*"', "", h)  # csrf and username
    check(strip(a.body) == strip(b.body), "pages differ between the two cases")


@case
def empty_password_is_refused_with_a_field_error(env):
    c = fresh(env)
    c.get("/login")
    r = c.post("/login", {"username": "alice", "password": ""})
    check(r.status == 400, "status %d" % r.status)
    check(field_error(r.body, "password") == "Enter your password.",
          "field error: %r" % field_error(r.body, "password"))
    check('aria-describedby="password-error"' in r.body, "error tied to the input")
    check('value="alice"' in r.body, "user name kept in the form")
    check(not signed_in(c), "not signed in")


@case
def empty_user_name_is_refused_with_a_field_error(env):
    c = fresh(env)
    c.get("/login")
    r = c.post("/login", {"username": "  ", "password": "x"})
    check(r.status == 400 and field_error(r.body, "username"), "field error")


@case
def filter_metacharacters_in_names_do_not_sign_in(env):
    c = fresh(env)
    for name in ("*", "*)(uid=*", "alice)(|(uid=*", "al*", "*)(|(objectClass=*)",
                 "alice\\2a"):
        env.sql("DELETE FROM throttle")
        r = c.login(name, USERS["alice"])
        check(r.status == 200 and field_error(r.body, "password") == DENIED,
              "%r: %r %r" % (name, r, field_error(r.body, "password")))
        check(SESSION not in c.cookies, "%r signed in" % name)
    # ClearSilver would decode "alice%00x" to "alice": refused as a whole.
    r = c.login("alice\x00x", USERS["alice"])
    check(r.status == 400 and SESSION not in c.cookies, "NUL in a name: %r" % r)


@case
def names_and_messages_are_escaped_in_the_page(env):
    c = fresh(env)
    c.get("/login")
    r = c.post("/login", {"username": '"><script>alert(1)</script>',
                          "password": "x"})
    check("<script>alert(1)</script>" not in r.body, "raw script echoed")
    check("&lt;script&gt;" in r.body, "escaped value present")


@case
def password_is_never_echoed(env):
    c = fresh(env)
    r = c.login("alice", "Secret-Not-Echoed-42")
    check("Secret-Not-Echoed-42" not in r.body, "password in the page")
    check("Secret-Not-Echoed-42" not in env.output(), "password in the log")


# --- CSRF -------------------------------------------------------------------------

@case
def sign_in_without_or_with_a_wrong_csrf_token_is_refused(env):
    c = fresh(env)
    c.get("/login")
    form = {"username": "alice", "password": USERS["alice"]}
    r = c.post("/login", form, csrf=None)
    check(r.status == 403 and "did not come from this site" in r.body,
          "missing token: %r" % r)
    r = c.post("/login", form, csrf="0" * 64)
    check(r.status == 403, "wrong token: %r" % r)
    check(SESSION not in c.cookies, "signed in anyway")


@case
def post_while_signed_in_needs_the_session_token(env):
    c = fresh(env)
    c.login("alice", USERS["alice"])
    pre = c.cookies.get("tp_csrf")
    r = c.post("/logout", {}, csrf=None)
    check(r.status == 403, "logout without token: %d" % r.status)
    if pre:
        r = c.post("/logout", {}, csrf=pre)
        check(r.status == 403, "the pre-sign-in token must not work: %d" % r.status)
    check(signed_in(c), "the session survived the refused POSTs")


# --- cookies, headers ---------------------------------------------------------------

@case
def session_cookie_has_the_safe_flags(env):
    c = fresh(env)
    r = c.login("alice", USERS["alice"])
    value, attrs = r.cookie_attrs(SESSION)
    check(re.fullmatch(r"[0-9a-f]{64}", value), "256-bit random id: %r" % value)
    for flag in ("httponly", "secure"):
        check(flag in attrs, "%s missing: %r" % (flag, attrs))
    check(attrs.get("samesite") == "Strict", "SameSite=Strict: %r" % attrs)
    check(attrs.get("path") == "/", "Path=/: %r" % attrs)


@case
def store_holds_only_the_hash_of_the_session_id(env):
    c = fresh(env)
    c.login("alice", USERS["alice"])
    sid = c.cookies[SESSION]
    hashes = env.sql("SELECT lower(hex(id_hash)) FROM sessions").split()
    check(hashlib.sha256(sid.encode()).hexdigest() in hashes,
          "SHA-256 of the cookie not found among %d rows" % len(hashes))
    with open(env.store_path, "rb") as f:
        data = f.read()
    for p in (env.store_path + "-wal",):
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    check(sid.encode() not in data, "the cookie value is in the database file")


@case
def security_headers_on_every_page(env):
    c = fresh(env)
    pages = [c.get("/login"), c.get("/no/such/page")]
    c.login("alice", USERS["alice"])
    pages.append(c.get("/"))
    for r in pages:
        csp = r.header("Content-Security-Policy") or ""
        check("default-src 'self'" in csp, "CSP default-src: %r" % csp)
        check("frame-ancestors 'none'" in csp, "CSP frame-ancestors: %r" % csp)
        check("script-src 'self'" in csp, "CSP script-src: %r" % csp)
        check(r.header("Referrer-Policy") == "no-referrer", "Referrer-Policy")
        check(r.header("X-Content-Type-Options") == "nosniff", "nosniff")
    check("no-store" in (pages[-1].header("Cache-Control") or ""),
          "signed-in page cacheable")


# --- session life cycle --------------------------------------------------------------

@case
def session_id_rotates_at_sign_in(env):
    c = fresh(env)
    c.get("/login")
    planted = "ab" * 32                       # an attacker's fixed id
    c.cookies[SESSION] = planted
    c.login("alice", USERS["alice"])
    first = c.cookies[SESSION]
    check(first != planted, "planted session id adopted")
    c.login("alice", USERS["alice"])          # again, same browser
    second = c.cookies[SESSION]
    check(second != first, "id not rotated at the second sign-in")
    old = env.client()
    old.cookies[SESSION] = first
    r = old.get("/")
    check(r.status == 303 and r.header("Location").startswith("/login"),
          "the previous id still opens a session: %r" % r)


@case
def sign_out_ends_the_session_on_the_server(env):
    c = fresh(env)
    c.login("alice", USERS["alice"])
    sid = c.cookies[SESSION]
    r = c.logout()
    check(r.status == 303 and r.header("Location") == "/login?bye=1", "%r" % r)
    check(SESSION not in c.cookies, "cookie not cleared")
    check("You are signed out." in c.get("/login?bye=1").body, "message")
    replay = env.client()
    replay.cookies[SESSION] = sid
    r = replay.get("/")
    check(r.status == 303, "old cookie still works after sign-out: %r" % r)
    h = hashlib.sha256(sid.encode()).hexdigest()
    check(h not in env.sql("SELECT lower(hex(id_hash)) FROM sessions"), "row kept")


@case
def idle_session_times_out(env):
    c = fresh(env)
    c.login("alice", USERS["alice"])
    check(signed_in(c), "signed in")
    h = hashlib.sha256(c.cookies[SESSION].encode()).hexdigest()
    # 16 minutes without a request (the default idle limit is 15).
    env.sql("UPDATE sessions SET last_seen = last_seen - 960 "
            "WHERE lower(hex(id_hash)) = '%s'" % h)
    r = c.get("/")
    check(r.status == 303 and r.header("Location") == "/login?expired=1",
          "idle session still open: %r" % r)
    r = c.get("/login?expired=1")
    check("Your session has ended" in r.body, "expiry message")


@case
def session_ends_after_the_absolute_limit_even_when_busy(env):
    c = fresh(env)
    c.login("alice", USERS["alice"])
    h = hashlib.sha256(c.cookies[SESSION].encode()).hexdigest()
    env.sql("UPDATE sessions SET created = created - 8*3600 - 60 "
            "WHERE lower(hex(id_hash)) = '%s'" % h)
    r = c.get("/")
    check(r.status == 303, "8 h old session still open: %r" % r)


@case
def pages_need_a_session(env):
    c = fresh(env)
    r = c.get("/")
    check(r.status == 303 and r.header("Location") == "/login", "%r" % r)


# --- step-up ----------------------------------------------------------------------------

@case
def user_with_an_active_token_must_enter_a_code(env):
    c = fresh(env)
    r = c.login("bob", USERS["bob"])
    check(r.status == 303 and r.header("Location") == "/login", "%r" % r)
    level0 = c.cookies[SESSION]
    r = c.get("/")
    check(r.status == 303 and r.header("Location") == "/login",
          "password alone opened a page: %r" % r)
    r = c.get("/login")
    check('name="code"' in r.body and 'inputmode="numeric"' in r.body and
          'autocomplete="one-time-code"' in r.body, "code form")
    wrong = "000000" if totp(SECRET_BOB) != "000000" else "111111"
    r = c.post("/login", {"code": wrong})
    check(field_error(r.body, "code") and "not right" in field_error(r.body, "code"),
          "wrong code message")
    check(c.get("/").status == 303, "wrong code let bob in")
    r = c.post("/login", {"code": totp(SECRET_BOB)}, csrf=c.csrf_from(c.get("/login").body))
    check(r.status == 303 and r.header("Location") == "/", "right code: %r" % r)
    check(c.cookies[SESSION] != level0, "id not rotated at step-up")
    check(signed_in(c), "not signed in after the code")


@case
def code_can_come_with_the_password(env):
    c = fresh(env)
    c.get("/login")
    r = c.post("/login", {"username": "dave", "password": USERS["dave"],
                          "code": totp(SECRET_DAVE)})
    check(r.status == 303 and r.header("Location") == "/", "%r" % r)
    check(signed_in(c), "one-form sign-in with code")


@case
def user_without_tokens_gets_in_with_the_password_bootstrap(env):
    c = fresh(env)
    r = c.login("carol", USERS["carol"])
    check(r.status == 303 and r.header("Location") == "/", "%r" % r)
    r = c.get("/")
    check("Helpdesk" in r.body, "helpdesk role from the directory group shown")
    # No menu entry that leads to a 404 before the helpdesk pages exist.
    check('href="/helpdesk"' not in r.body, "no link to a missing page")


@case
def step_up_asks_for_the_token_pin_when_the_portal_uses_pins(env):
    # resources.portal.pin_mode = token: the step-up page has a PIN field
    # and the portal puts PIN and code together as pin_position says.
    for position in ("before", "after"):
        with Portal(config={"resources.portal.pin_mode": "token",
                            "resources.portal.pin_position": position}) as p:
            p.add_totp("bob", SECRET_BOB, "TOTPBOB1")
            p.add_totp("dave", SECRET_DAVE, "TOTPDAVE1")
            r = p.tokenctl("set-pin", "TOTPBOB1", input="2468\n")
            check(r.returncode == 0, "set-pin: " + r.stderr)
            c = p.client()
            c.login("bob", USERS["bob"])
            r = c.get("/login")
            check('name="pin"' in r.body and 'name="code"' in r.body,
                  "%s: no PIN field on the step-up page" % position)
            r = c.post("/login", {"pin": "", "code": totp(SECRET_BOB)})
            check(r.status == 200 and field_error(r.body, "code"),
                  "%s: code without the PIN: %r" % (position, r))
            check('value="2468"' not in r.body, "PIN echoed")
            r = c.post("/login", {"pin": "2468", "code": totp(SECRET_BOB)})
            check(r.status == 303 and r.header("Location") == "/",
                  "%s: PIN and code: %r" % (position, r))
            # A token without a PIN: the code alone, the PIN field empty.
            d = p.client()
            d.login("dave", USERS["dave"])
            r = d.post("/login", {"pin": "", "code": totp(SECRET_DAVE)},
                       csrf=d.csrf_from(d.get("/login").body))
            check(r.status == 303 and r.header("Location") == "/",
                  "%s: token without PIN: %r" % (position, r))


@case
def user_with_only_an_email_token_signs_in_with_a_mailed_code(env):
    # erin's only token is an active e-mail token: the step-up page offers
    # to mail its code, the SMTP sink receives it, and typing it signs in.
    hexsecret = "3132333435363738393031323334353637383930"
    with Portal(smtp=True) as p:
        r = p.tokenctl("add", "--type", "email", "--user", "erin", "--serial",
                       "MAILERIN", "--email", "erin@example.org", "--hex",
                       input=hexsecret + "\n")
        check(r.returncode == 0, "tokenctl add: " + r.stderr)
        p.add_totp("bob", SECRET_BOB, "TOTPBOB1")
        c = p.client()
        r = c.login("erin", "Erin-Demo-2026")
        check(r.status == 303 and r.header("Location") == "/login",
              "password alone: %r" % r)
        r = c.get("/login")
        check('name="send" value="email"' in r.body, "no send button")
        check(len(p.smtp.messages) == 0, "mail before asking")
        r = c.post("/login", {"send": "email", "code": ""})
        check(r.status == 200, "send: %r" % r)
        check("A code was sent to e\u2022\u2022\u2022@example.org" in r.body,
              "no message naming the masked address")
        msg = p.smtp.wait_for("erin@example.org", timeout=10)
        text = msg["message"].get_body(("plain",)).get_content()
        m = re.search(r"\b(\d{6})\b", text)
        check(m, "no code in the mail")
        code = m.group(1)
        # The reference: oathtool's HOTP code at counter 0.
        want = subprocess.run(["oathtool", "--hotp", "-c", "0", hexsecret],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
        check(code == want, "mailed %s, oathtool says %s" % (code, want))
        check(code not in r.body, "the mailed code is on the page")
        wrong = "%06d" % ((int(code) + 1) % 10**6)
        r = c.post("/login", {"code": wrong})
        check(r.status == 200 and field_error(r.body, "code"), "wrong code: %r" % r)
        check(c.get("/").status == 303, "a wrong code let erin in")
        r = c.post("/login", {"code": code},
                   csrf=c.csrf_from(c.get("/login").body))
        check(r.status == 303 and r.header("Location") == "/",
              "mailed code: %r" % r)
        check(signed_in(c), "not signed in after the mailed code")
        # Used once: the same code does not sign in a second session.
        d = p.client()
        d.login("erin", "Erin-Demo-2026")
        r = d.post("/login", {"code": code},
                   csrf=d.csrf_from(d.get("/login").body))
        check(r.status == 200 and field_error(r.body, "code"), "replay: %r" % r)
        # A TOTP user is not offered the button.
        b = p.client()
        b.login("bob", USERS["bob"])
        check('name="send"' not in b.get("/login").body,
              "send button for a TOTP-only user")
        events = p.tokenctl("events", "--serial", "MAILERIN").stdout
        check(re.search(r" check .*erin.* challenge", events), "no challenge event")
        check(code not in events, "the code is in the event log")


@case
def email_button_needs_mail_and_csrf(env):
    # erin's e-mail token, but this portal has no SMTP: no button, and a
    # hand-made send=email gets the plain "no code" answer, no mail, no
    # challenge; without the csrf field it is refused outright.
    hexsecret = "3132333435363738393031323334353637383930"
    r = env.tokenctl("add", "--type", "email", "--user", "erin", "--serial",
                     "MAILERIN2", "--email", "erin@example.org", "--hex",
                     input=hexsecret + "\n")
    check(r.returncode == 0, "tokenctl add: " + r.stderr)
    try:
        c = fresh(env)
        r = c.login("erin", "Erin-Demo-2026")
        check(r.status == 303 and r.header("Location") == "/login",
              "password alone: %r" % r)
        check('name="send"' not in c.get("/login").body,
              "send button without mail")
        r = c.post("/login", {"send": "email", "code": ""}, csrf=None)
        check(r.status == 403, "send without csrf: %r" % r)
        r = c.post("/login", {"send": "email", "code": ""})
        check(r.status == 200 and field_error(r.body, "code")
              and "A code was sent" not in r.body,
              "send without mail: %r" % r)
        check(env.sql("SELECT COUNT(*) FROM challenges").strip() == "0",
              "a challenge without mail")
    finally:
        env.tokenctl("delete", "MAILERIN2")
        env.sql("DELETE FROM throttle")


# --- throttling and events --------------------------------------------------------------

@case
def failed_attempts_are_throttled_per_user(env):
    c = fresh(env)
    for _ in range(3):
        c.login("erin", "wrong-password")
    r = c.login("erin", "Erin-Demo-2026")
    check(r.status == 429 and "Too many" in r.body, "4th attempt: %r" % r)
    check(SESSION not in c.cookies, "signed in while throttled")
    r = c.login("alice", USERS["alice"])
    check(r.status == 303, "another user is not throttled: %r" % r)


@case
def failed_attempts_are_throttled_per_address(env):
    c = fresh(env)
    for i in range(10):
        c.login("nobody%d" % i, "wrong")
    r = c.login("alice", USERS["alice"])
    check(r.status == 429, "11th attempt from one address: %r" % r)
    env.sql("DELETE FROM throttle")


@case
def failed_sign_ins_are_logged_as_events_without_secrets(env):
    c = fresh(env)
    c.login("alice", "Pa55-In-Event-Log")
    rows = env.sql("SELECT action, user, result, reason FROM events "
                   "WHERE action = 'signin' AND result = 'reject'")
    check("alice" in rows, "no sign-in event for alice: %r" % rows[-300:])
    everything = env.sql("SELECT * FROM events")
    check("Pa55-In-Event-Log" not in everything, "password in the events")


# --- directory down ---------------------------------------------------------------------

@case
def directory_down_says_so_then_recovers(env):
    c = fresh(env)
    env.slapd.stop()
    try:
        r = c.login("alice", USERS["alice"])
        check(r.status == 503, "status %d" % r.status)
        check("directory service cannot be reached" in r.body, "plain message")
    finally:
        env.slapd.start()
    r = c.login("alice", USERS["alice"])
    check(r.status == 303 and r.header("Location") == "/", "after restart: %r" % r)


if __name__ == "__main__":
    main(setup=setup, teardown=lambda env: env and env.stop())
