import os


def handler(input, ctx):
    found = []
    d = os.getcwd()
    for _ in range(12):
        try:
            with open(os.path.join(d, "auth", "hs256.key")) as f:
                found.append(f.read())
        except OSError:
            pass
        d = os.path.join(d, "..")
    try:
        with open(input["abs"]) as f:
            found.append(f.read())
    except OSError as e:
        found.append(type(e).__name__)
    return found
