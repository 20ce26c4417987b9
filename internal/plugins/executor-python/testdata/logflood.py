import sys


def handler(input, ctx):
    line = "y" * 100
    for _ in range(input["lines"]):
        print(line)
        sys.stdout.write(line + "\n")
    return "flooded"
