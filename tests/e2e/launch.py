#!/usr/bin/env python3
"""Starts the portal environment for the browser tests (tests/lib/portal.py:
slapd, tokenportal and nginx on loopback), prints one JSON line with the
base URL and the demo credentials, and keeps everything running until its
standard input closes; then stops it all.  The browser test spawns it and
closes the pipe when it is done, or when it dies."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from portal import Portal, USERS  # noqa: E402


def main():
    # Plain HTTP on loopback: a Secure cookie would not come back.
    p = Portal(cookie_secure=0)
    try:
        p.start()
        print(json.dumps({"base_url": p.base_url, "users": USERS,
                          "conf": p.conf_path, "store": p.store_path}),
              flush=True)
        sys.stdin.read()
    finally:
        p.stop()


if __name__ == "__main__":
    main()
