"""The smallest Python function: return a value, it becomes the JSON result."""


def handler(input, ctx):
    name = (input or {}).get("name", "world")
    return {"hello": name, "runtime": "python", "env": ctx.env}
