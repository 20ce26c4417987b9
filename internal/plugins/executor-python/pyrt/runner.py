"""Sous Python harness (standard library only).

Started by the executor as `python3 -S -u runner.py <codeDir> <entry>` with cwd = codeDir.
Reads one JSON request a line on fd 4 and writes envelopes (NDJSON) to fd 3, each line
prefixed with the request's nonce and a space. stdin is /dev/null. The function is
imported once per process and reused for every request.
"""
import builtins
import importlib
import io
import json
import os
import sys
import time
import types



def site_paths():
    """What `site` would put on sys.path, without running .pth import lines.

    The executor starts Python with -S: at every start `site` runs the `import` lines of
    the .pth files in site-packages, which on some hosts import large modules (certifi,
    importlib.resources: ~70 ms of a ~100 ms start). The interpreter's (or its venv's)
    site-packages and user site, and the directories their .pth files list, are added
    here as `site` adds them, so installed packages import as before; sitecustomize runs.
    """
    import site
    site.setquit()
    prefixes, user = [sys.prefix, sys.exec_prefix], site.check_enableusersite()
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    for d in (exe_dir, os.path.dirname(exe_dir)):
        cfg = os.path.join(d, "pyvenv.cfg")
        if os.path.isfile(cfg):
            system = False
            with open(cfg, encoding="utf-8") as f:
                for line in f:
                    key, sep, value = line.partition("=")
                    if sep and key.strip().lower() == "include-system-site-packages":
                        system = value.strip().lower() == "true"
            sys.prefix = sys.exec_prefix = d
            prefixes = [d] + (prefixes if system else [])
            user = user and system
            break
    dirs = ([site.getusersitepackages()] if user else []) + site.getsitepackages(prefixes)
    for d in dirs:
        if not os.path.isdir(d) or d in sys.path:
            continue
        sys.path.append(d)
        for name in sorted(n for n in os.listdir(d) if n.endswith(".pth") and not n.startswith(".")):
            try:
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                if not line.strip() or line.startswith(("#", "import ", "import\t")):
                    continue
                p = os.path.abspath(os.path.join(d, line.rstrip()))
                if p not in sys.path and os.path.exists(p):
                    sys.path.append(p)
    site.execsitecustomize()


if sys.flags.no_site:
    site_paths()

CODE_DIR, ENTRY = sys.argv[1], sys.argv[2]
FD = 3
REQ_FD = 4
# Children the function starts (os.system, subprocess) never inherit the channels.
os.set_inheritable(FD, False)
os.set_inheritable(REQ_FD, False)
_nonce = b""
_running = False
_print = builtins.print
# Made once: json.dumps with options builds an encoder at every call, and json.loads
# decodes its bytes and matches whitespace around the document with regexes.
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_scan = json.scanner.make_scanner(json.JSONDecoder())


def emit_line(text):
    """Writes one envelope line (JSON text) to fd 3 behind this run's nonce."""
    data = _nonce + text.encode() + b"\n"
    while data:
        data = data[os.write(FD, data):]


def out(obj):
    emit_line(_encode(obj))


def sous_print(*args, sep=" ", end="\n", file=None, flush=False):
    """print() as an ordered log envelope during a run."""
    if not _running or file not in (None, sys.stdout, sys.stderr):
        return _print(*args, sep=sep, end=end, file=file, flush=flush)
    buf = io.StringIO()
    _print(*args, sep=sep, end=end, file=buf)
    text = buf.getvalue()
    if text.endswith("\n"):
        text = text[:-1]
    stream = "stderr" if file is sys.stderr else "stdout"
    out({"type": "log", "stream": stream, "text": text, "ts": int(time.time() * 1000)})


builtins.print = sous_print


class Context:
    """What a handler learns about its invocation."""

    def __init__(self, d):
        self.invocation_id = d.get("invocation_id", "")
        self.function = d.get("function", "")
        self.version = d.get("version", "")
        self.env = d.get("env", "")
        self.deadline = d.get("deadline", 0)
        self.attempt = d.get("attempt", 0)
        self.tenant = d.get("tenant", "")
        self.traceparent = d.get("traceparent", "")  # W3C trace context, when the host exports traces

    def remaining_ms(self):
        """Milliseconds left before the deadline."""
        return self.deadline - int(time.time() * 1000)

    def __getitem__(self, key):
        return getattr(self, key)


class UserError(Exception):
    pass


class LimitError(Exception):
    pass


def error(kind, message, stack=None):
    env = {"type": "error", "kind": kind, "message": message or "error"}
    if stack:
        env["stack"] = stack
    return env


def stack_of(exc):
    """The traceback without the runner's and importlib's frames, paths relative to the bundle."""
    import traceback
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != __file__ and not f.filename.startswith("<frozen")]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return text.replace(CODE_DIR + "/", "")


def load():
    entry_dir = os.path.dirname(os.path.join(CODE_DIR, ENTRY))
    for d in (CODE_DIR, entry_dir):
        if d not in sys.path:
            sys.path.insert(0, d)
    name = ENTRY[:-3] if ENTRY.endswith(".py") else ENTRY
    mod = importlib.import_module(name.replace("/", "."))
    h = getattr(mod, "handler", None)
    if not callable(h):
        raise UserError(f"{ENTRY} defines no function named handler")
    return h


handler = None
load_error = None
try:
    handler = load()
except UserError as e:
    load_error = error("user", str(e))
except SyntaxError as e:
    where = f" ({os.path.relpath(e.filename or ENTRY, CODE_DIR)}:{e.lineno})" if e.filename else ""
    load_error = error("user", f"cannot load {ENTRY}: SyntaxError: {e.msg}{where}", stack_of(e))
except BaseException as e:  # noqa: BLE001 - any import failure is the function's error
    tb = e.__traceback__
    while tb and tb.tb_next:
        tb = tb.tb_next
    where = f" ({os.path.relpath(tb.tb_frame.f_code.co_filename, CODE_DIR)}:{tb.tb_lineno})" if tb else ""
    load_error = error("user", f"cannot load {ENTRY}: {type(e).__name__}: {e}{where}", stack_of(e))

_loop = None


def run_async(coro):
    global _loop
    if _loop is None:
        import asyncio
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coro)


def serialize(value, what, limit):
    try:
        s = _encode(value)
    except (TypeError, ValueError) as e:
        raise UserError(f"{what} is not JSON-serializable: {e}") from None
    n = len(s.encode()) if len(s) * 4 > limit else len(s)
    if n > limit:
        raise LimitError(f"{what} is {n} bytes, over max_result_bytes ({limit})")
    return s


def drive_async_gen(agen, emit):
    async def go():
        async for item in agen:
            emit(item)
    run_async(go())


def handle(req):
    if load_error:
        return out(load_error)
    tmp = req["tmpdir"]
    if os.environ.get("TMPDIR") != tmp:
        os.environ["TMPDIR"] = tmp
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile.tempdir = None  # read TMPDIR again at its next use
    limit = req["max_result_bytes"]
    seq = [0]

    def emit(item):
        data = serialize(item, f"chunk {seq[0] + 1}", limit)
        seq[0] += 1
        emit_line(f'{{"type":"chunk","seq":{seq[0]},"data":{data}}}')

    start = time.perf_counter()
    try:
        r = handler(req["input"], Context(req["ctx"]))
        if isinstance(r, types.GeneratorType):
            try:
                while True:
                    emit(next(r))
            except StopIteration as stop:
                r = stop.value
        elif isinstance(r, types.AsyncGeneratorType):
            drive_async_gen(r, emit)
            r = None
        elif isinstance(r, types.CoroutineType) or hasattr(r, "__await__"):
            async def wait(a=r):
                return await a
            r = run_async(wait())
        output = serialize(r, "result", limit)
        ms = int((time.perf_counter() - start) * 1000)
        emit_line(f'{{"type":"result","output":{output},"duration_ms":{ms}}}')
    except UserError as e:
        out(error("user", str(e)))
    except LimitError as e:
        out(error("limit", str(e)))
    except MemoryError as e:
        out(error("limit", "memory limit exceeded (MemoryError): memory_mb is the address-space limit", stack_of(e)))
    except SystemExit as e:
        out(error("user", f"function called sys.exit({e.code!r}); return a value or raise instead"))
    except BaseException as e:  # noqa: BLE001 - the function's failure becomes an envelope
        out(error("user", f"{type(e).__name__}: {e}", stack_of(e)))


def main():
    global _running, _nonce
    requests = os.fdopen(REQ_FD, "rb")
    while True:
        line = requests.readline()
        if not line:
            return
        if not line.strip():
            continue
        req = _scan(line.decode("utf-8", "surrogatepass"), 0)[0]  # the host's JSON, one line
        _nonce = req.get("nonce", "").encode() + b" "
        _running = True
        try:
            handle(req)
        finally:
            _running = False


main()
