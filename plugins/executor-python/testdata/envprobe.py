import os
import tempfile


def handler(input, ctx):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(b"ok")
    d = os.environ["TMPDIR"]
    return {
        "secret": os.environ.get("SOUS_SECRET"), "path": os.environ.get("PATH"),
        "home": os.environ.get("HOME"), "tmpdir": d, "myvar": os.environ.get("MY_VAR"),
        "pid": os.getpid(), "wrote": os.path.dirname(f.name) == d,
    }
