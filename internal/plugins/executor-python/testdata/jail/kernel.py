"""Tries the kernel's least-hardened interfaces: a nested user namespace and a mount in
it, io_uring, the keyring; reports what each call returned."""
import ctypes
import json
import os
import subprocess
import threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000  # the system call numbers below are x86_64's


def call(fn, *args):
    ctypes.set_errno(0)
    r = fn(*args)
    return "ok" if r >= 0 else os.strerror(ctypes.get_errno())


def handler(input, ctx):
    out = {}
    params = ctypes.create_string_buffer(120)
    out["io_uring_setup"] = call(libc.syscall, 425, 1, params)
    out["userfaultfd"] = call(libc.syscall, 323, 0)
    out["keyctl"] = call(libc.syscall, 250, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        r = {"forked": "yes"}
        r["unshare(CLONE_NEWUSER)"] = call(libc.unshare, CLONE_NEWUSER)
        r["unshare(CLONE_NEWNS)"] = call(libc.unshare, CLONE_NEWNS)
        r["mount"] = call(libc.mount, b"none", b"/tmp", b"tmpfs", 0, None)
        os.write(wr, json.dumps(r).encode())
        os._exit(0)
    os.close(wr)
    os.waitpid(pid, 0)
    out.update(json.loads(os.read(rd, 4096).decode()))
    t = threading.Thread(target=lambda: out.__setitem__("thread", "ok"))
    t.start()
    t.join()
    tool = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True, text=True)
    out["unshare tool"] = "ok" if tool.returncode == 0 else tool.stderr.rsplit(": ", 1)[-1].strip()
    return out
