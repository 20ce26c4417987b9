import os

MARK = "victim-code-mark"


def handler(input, ctx):
    return "victim-ok " + os.environ.get("V_SECRET", "")
