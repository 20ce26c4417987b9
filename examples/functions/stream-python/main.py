"""A generator: every yield is streamed as a `chunk` event; the return value is the result."""
import time


def handler(input, ctx):
    n = int((input or {}).get("n", 5))
    delay = float((input or {}).get("delay_ms", 0)) / 1000
    total = 0
    for i in range(1, n + 1):
        total += i
        yield {"i": i, "running_total": total}
        if delay:
            time.sleep(delay)
    return {"sum": total}
