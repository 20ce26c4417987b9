import os
import time


def handler(input, ctx):
    kids = []
    for _ in range(input["n"]):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
    for k in kids:
        os.kill(k, 9)
        os.waitpid(k, 0)
    return len(kids)
