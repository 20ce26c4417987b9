import os


def handler(input, ctx):
    hits = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if input["secret"].encode() in f.read():
                    hits.append(pid)
        except OSError:
            pass
    try:
        with open(f"/proc/{input['pid']}/environ", "rb") as f:
            hits.append(f.read().decode(errors="replace"))
    except OSError as e:
        hits.append(type(e).__name__)
    return hits
