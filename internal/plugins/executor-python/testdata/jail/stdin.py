import sys


def handler(input, ctx):
    return sys.stdin.read(10)
