"""Logs a lot. In dev the logs come back with the result; promote it to prod and they
are dropped by the worker before they reach the event log, the client or disk."""
import sys


def handler(input, ctx):
    lines = int((input or {}).get("lines", 20))
    for i in range(lines):
        print(f"debug line {i}: looking things up")
    print("warn: this one goes to stderr", file=sys.stderr)
    return {"logged": lines + 1, "env": ctx.env}
