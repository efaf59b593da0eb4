#!/usr/bin/env python3
"""A fake Active Directory LDAP server, just enough to test how the
directory module reads AD's reasons for a refused bind.

Real AD refuses a bind with resultCode 49 and a diagnostic text such as
"80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error,
data 52e, v4563" (STACK.md).  Samba's AD DC answers the same way; this
stand-in answers in that shape without needing a provisioned domain.

Users (search: any filter naming the login; base DN CN=Users,DC=ad,DC=test):
    ok          password Right-1: success
    disabled    Right-1 -> data 533, else data 52e
    expired     Right-1 -> data 532, else data 52e
    mustchange  Right-1 -> data 773, else data 52e
    locked      any password -> data 775 (AD says so whatever was typed)
Nested groups: "ok" is in CN=Helpdesk through CN=Tier1, answered only to
the in-chain matching rule (1.2.840.113556.1.4.1941) on the user's entry.
Service account: CN=svc,CN=Users,DC=ad,DC=test / Svc-1.

    python3 tests/lib/fake_ad.py     prints "uri URI" then "ready"; runs
                                     until its standard input closes.
"""
import socketserver
import sys
import threading

BASE = "CN=Users,DC=ad,DC=test"
SERVICE_DN = "CN=svc," + BASE
SERVICE_PW = b"Svc-1"
RIGHT_PW = b"Right-1"
REASONS = {"disabled": "533", "expired": "532", "mustchange": "773"}
USERS = ["ok", "locked"] + list(REASONS)
IN_CHAIN = "1.2.840.113556.1.4.1941"
# "ok" is in Helpdesk only through Tier1 (Tier1 is a member of Helpdesk).
NESTED = {"ok": ("cn=tier1,cn=users,dc=ad,dc=test",
                 "cn=helpdesk,cn=users,dc=ad,dc=test")}


def blen(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + blen(len(body)) + body


def parse(data):
    """Splits BER data into a list of (tag, value bytes)."""
    out, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        out.append((tag, data[i:i + n]))
        i += n
    return out


def result(tag, code, diag=""):
    return tlv(tag, tlv(0x0A, bytes([code])) + tlv(0x04, b"") +
               tlv(0x04, diag.encode()))


def ad_refusal(code):
    return ("80090308: LdapErr: DSID-0C09044E, comment: "
            "AcceptSecurityContext error, data %s, v4563" % code)


def answer_bind(req):
    parts = parse(req)
    dn = parts[1][1].decode()
    pw = parts[2][1]
    if dn == SERVICE_DN:
        return result(0x61, 0 if pw == SERVICE_PW else 49,
                      "" if pw == SERVICE_PW else ad_refusal("52e"))
    login = dn.split(",")[0][3:] if dn.startswith("CN=") else ""
    if login == "locked":
        return result(0x61, 49, ad_refusal("775"))
    if login in USERS and pw == RIGHT_PW:
        if login in REASONS:
            return result(0x61, 49, ad_refusal(REASONS[login]))
        return result(0x61, 0)
    return result(0x61, 49, ad_refusal("52e"))


def answer_search(req):
    """One entry when the filter names a known login, then done."""
    parts = parse(req)
    if parts[6][0] == 0xA9:
        return answer_in_chain(parts[0][1].decode(), parts[6][1])
    values = [v for t, v in _leaves(req) if t == 0x04]
    for login in USERS:
        if login.encode() not in values:
            continue
        dn = "CN=%s,%s" % (login, BASE)
        attrs = tlv(0x30, tlv(0x04, b"sAMAccountName") +
                    tlv(0x31, tlv(0x04, login.encode())))
        entry = tlv(0x64, tlv(0x04, dn.encode()) + tlv(0x30, attrs))
        return [entry, result(0x65, 0)]
    return [result(0x65, 0)]


def answer_in_chain(base, assertion):
    """(memberOf:1.2.840.113556.1.4.1941:=GROUP) on a user's entry: AD
    walks nested groups; here a fixed table says who is in what."""
    m = dict(parse(assertion))
    rule = m.get(0x81, b"").decode()
    attr = m.get(0x82, b"").decode().lower()
    group = m.get(0x83, b"").decode().lower()
    login = base.split(",")[0][3:]
    done = result(0x65, 0)
    if rule != IN_CHAIN or attr != "memberof" or \
            group not in NESTED.get(login, ()):
        return [done]
    return [tlv(0x64, tlv(0x04, base.encode()) + tlv(0x30, b"")), done]


def _leaves(data):
    """Every primitive value inside data (for finding the filter value)."""
    out = []
    for tag, val in parse(data):
        if tag & 0x20:
            out += _leaves(val)
        else:
            out.append((tag, val))
    return out


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        buf = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2:
                try:
                    (tag, msg), = parse(buf[:_msg_len(buf)])
                except (ValueError, IndexError):
                    break
                buf = buf[_msg_len(buf):]
                if not self.reply(msg):
                    return

    def reply(self, msg):
        parts = parse(msg)
        mid = tlv(0x02, parts[0][1])
        op, req = parts[1]
        if op == 0x60:
            out = [answer_bind(req)]
        elif op == 0x63:
            out = answer_search(req)
        elif op == 0x42:
            return False
        else:
            out = [result(op + 1, 53, "unwilling")]
        self.request.sendall(b"".join(tlv(0x30, mid + o) for o in out))
        return True


def _msg_len(buf):
    n = buf[1]
    if n & 0x80:
        k = n & 0x7F
        if len(buf) < 2 + k:
            raise ValueError
        total = 2 + k + int.from_bytes(buf[2:2 + k], "big")
    else:
        total = 2 + n
    if len(buf) < total:
        raise ValueError
    return total


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("uri ldap://127.0.0.1:%d/" % srv.server_address[1])
    print("ready", flush=True)
    sys.stdin.read()
    srv.shutdown()


if __name__ == "__main__":
    main()
