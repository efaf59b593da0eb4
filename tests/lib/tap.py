"""Minimal TAP reporting for the Python test suites.

    from tap import case, main

    @case
    def sign_in_with_wrong_password_is_refused(env): ...

    main(setup=make_env, teardown=stop_env)

Each case prints "ok N - name" or "not ok N - name" with the reason as
"#" comments; main() exits 1 if any case failed.  setup() runs once and its
result is passed to every case; teardown() always runs, even after a crash,
so servers the suite started are stopped.  TP_ONLY=word runs only the
cases whose function name contains word (while working on them).
"""
import os
import sys
import traceback

_cases = []


def case(fn):
    _cases.append(fn)
    return fn


def main(setup=None, teardown=None):
    env = None
    failed = 0
    n = 0
    try:
        env = setup() if setup else None
        only = os.environ.get("TP_ONLY")    # a substring: run those cases
        for fn in _cases:
            if only and only not in fn.__name__:
                continue
            n += 1
            name = fn.__name__.replace("_", " ")
            try:
                fn(env)
                print(f"ok {n} - {name}", flush=True)
            except Exception:
                failed += 1
                print(f"not ok {n} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print("# " + line, flush=True)
    except Exception:
        failed += 1
        print(f"not ok {n + 1} - setup", flush=True)
        for line in traceback.format_exc().splitlines():
            print("# " + line, flush=True)
    finally:
        if teardown:
            try:
                teardown(env)
            except Exception:
                traceback.print_exc()
    sys.exit(1 if failed else 0)


def build_dir():
    """Absolute path of the build directory (TP_BUILD, else ./build)."""
    return os.environ.get("TP_BUILD") or os.path.abspath("build")


def src_dir():
    return os.environ.get("TP_SRC") or os.path.abspath(".")
