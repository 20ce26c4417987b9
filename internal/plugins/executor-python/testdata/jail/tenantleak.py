import os

seen = []


def handler(input, ctx):
    prev = list(seen)
    seen.append(input["secret"])
    files = []
    for base in {os.environ.get("TMPDIR", "/tmp"), "/tmp"}:
        try:
            files += [n for n in os.listdir(base) if n.startswith("leak-")]
        except OSError:
            pass
    for base in {os.environ.get("TMPDIR", "/tmp"), "/tmp"}:
        with open(os.path.join(base, "leak-" + input["secret"]), "w") as f:
            f.write("x")
    return {"globals": prev, "files": files}
