import subprocess
import time


def handler(input, ctx):
    child = subprocess.Popen(["sleep", (input or {}).get("sleep", "300")])
    print("child", child.pid)
    while True:
        time.sleep(1)
