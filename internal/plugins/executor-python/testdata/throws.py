def handler(input, ctx):
    raise ValueError("boom-42")
