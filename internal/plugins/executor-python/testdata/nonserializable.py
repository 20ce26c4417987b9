def handler(input, ctx):
    return {"s": {1, 2}}
