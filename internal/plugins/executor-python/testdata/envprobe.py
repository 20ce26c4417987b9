import os
import secrets
import tempfile

PROC = secrets.token_hex(8)


def handler(input, ctx):
    d = os.environ["TMPDIR"]
    fresh = not os.listdir(d)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(b"ok")
    return {
        "secret": os.environ.get("SOUS_SECRET"), "path": os.environ.get("PATH"),
        "home": os.environ.get("HOME"), "tmpdir": d, "myvar": os.environ.get("MY_VAR"),
        "proc": PROC, "fresh": fresh, "wrote": os.path.dirname(f.name) == d,
    }
