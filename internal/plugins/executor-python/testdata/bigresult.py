def handler(input, ctx):
    return "x" * input["n"]
