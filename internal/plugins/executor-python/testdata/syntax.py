def handler(input, ctx):
    return 1 +
