import sys


def handler(input, ctx):
    print("hello " + input["name"])
    sys.stdout.write("raw " + input["name"] + "\n")
    return input
