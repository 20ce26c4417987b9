"""Sleeps, streaming a heartbeat chunk every 100 ms: for timeouts, retries and long runs."""
import time


def handler(input, ctx):
    ms = int((input or {}).get("ms", 1000))
    end = time.time() + ms / 1000
    beats = 0
    while time.time() < end:
        beats += 1
        yield {"beat": beats}
        time.sleep(0.1)
    return {"slept_ms": ms, "beats": beats}
