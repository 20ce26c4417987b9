import os
import time


def handler(input, ctx):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 300; echo " + input["marker"]])
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(300)
