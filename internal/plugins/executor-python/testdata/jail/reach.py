import socket


def handler(input, ctx):
    out = {}
    for name, host in input["targets"].items():
        try:
            s = socket.create_connection((host, input["port"]), timeout=3)
            data = s.recv(16)
            s.close()
            out[name] = "connected " + data.decode(errors="replace").strip()
        except OSError as e:
            out[name] = "refused " + type(e).__name__
    return out
