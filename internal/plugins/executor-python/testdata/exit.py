import sys


def handler(input, ctx):
    if input.get("exit"):
        print("before exit")
        sys.exit(3)
    return "alive"
