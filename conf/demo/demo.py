#!/usr/bin/env python3
"""`make demo`: the portal on http://127.0.0.1:8080 with a demo directory.

Builds nothing itself (the Makefile does).  Under run/demo/ (git-ignored)
it keeps a master key and a token store (reused by the next run, so a
phone enrolled once keeps working), and starts:
  - slapd on a free loopback port with conf/demo/directory.ldif,
  - an SMTP sink that prints every mail here (e-mail tokens),
  - tokenportal on a unix socket, and nginx on 127.0.0.1:8080.
Ctrl-C or SIGTERM stops all of it.  `--fresh` starts from an empty store.
"""
import argparse
import os
import shutil
import signal
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))

CREDENTIALS = [
    ("alice", "Alice-Demo-2026", "employee"),
    ("bob", "Bob-Demo-2026", "employee"),
    ("carol", "Carol-Demo-2026", "helpdesk"),
    ("dave", "Dave-Demo-2026", "admin"),
    ("erin", "Erin-Demo-2026", "employee (no display name)"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="build folder (build)")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--run", default=os.path.join(SRC, "run", "demo"),
                    help="folder for the key, store and logs (run/demo)")
    ap.add_argument("--fresh", action="store_true",
                    help="forget the tokens of earlier demo runs")
    args = ap.parse_args()
    os.environ["TP_BUILD"] = os.path.abspath(args.build)
    os.environ["TP_SRC"] = SRC
    from portal import Portal

    if not os.access(os.path.join(args.build, "tokenportal"), os.X_OK):
        sys.exit("demo: %s/tokenportal is missing: run `make demo`" % args.build)
    run = os.path.abspath(args.run)
    if args.fresh:
        shutil.rmtree(run, ignore_errors=True)
    for sub in ("slapd", "nginx"):
        shutil.rmtree(os.path.join(run, sub), ignore_errors=True)
    os.makedirs(run, exist_ok=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    p = Portal(workdir=run, port=args.port, smtp=True, smtp_out=sys.stdout,
               cookie_secure=0, keep_store=True, workers=2,
               config={"portal.issuer": "Example Org (demo)",
                       "portal.log": os.path.join(run, "portal.log")})
    try:
        p.start()
    except Exception as e:
        sys.exit("demo: %s" % e)
    print("\ntokenportal demo is running: %s/\n" % p.base_url)
    print("Sign in as (user / password / role):")
    for user, pw, role in CREDENTIALS:
        print("  %-6s %-16s %s" % (user, pw, role))
    print("\nMails (e-mail tokens) are printed below.  Logs: %s/portal.log" % run)
    print("Press Ctrl-C to stop.\n", flush=True)
    try:
        while not stop:
            if p.proc.poll() is not None:
                print("demo: tokenportal exited:\n" + p.output(), file=sys.stderr)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping...", flush=True)
        p.stop()
    print("demo stopped.")


if __name__ == "__main__":
    main()
