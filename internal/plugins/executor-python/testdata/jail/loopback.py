import socket


def handler(input, ctx):
    try:
        s = socket.create_connection(("127.0.0.1", input["port"]), timeout=2)
        data = s.recv(16)
        s.close()
        return "connected " + data.decode(errors="replace").strip()
    except OSError as e:
        return "refused " + type(e).__name__
