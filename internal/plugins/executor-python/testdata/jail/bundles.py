import glob
import os


def handler(input, ctx):
    read, wrote = [], []
    roots = [input["cache"]]
    d = os.getcwd()
    for _ in range(3):
        d = os.path.dirname(d)
        roots.append(d)
    for root in roots:
        if root in ("", "/"):
            continue  # the jail's root holds only the runtime and /proc
        for p in glob.glob(os.path.join(root, "**", "*"), recursive=True)[:2000]:
            if os.path.isdir(p):
                continue
            try:
                with open(p, errors="replace") as f:
                    text = f.read()
                if input["mark"] in text or input["secret"] in text:
                    read.append(p)
            except OSError:
                pass
            if p.endswith(("main.py", "meta.json", "runner.py", "runner.ts")):
                try:
                    with open(p, "a") as f:
                        f.write("\n# PWNED\n")
                    wrote.append(p)
                except OSError:
                    pass
    return {"read": read, "wrote": wrote}
