def handler(input, ctx):
    yield 1
    yield 2
    yield 3
    return "done"
