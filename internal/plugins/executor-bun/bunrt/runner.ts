// Sous Bun harness. Started by the executor as `bun runner.ts <codeDir> <entry>` with
// cwd = codeDir. Reads one JSON request a line on fd 4, writes envelopes (NDJSON) to
// fd 3, each line prefixed with the request's nonce and a space. stdin is /dev/null.
// The function is imported once per process and reused for every request.
// Startup cost matters (cold start): no node:* module is imported eagerly; fd 3 is a
// Bun FileSink flushed after every envelope.
const codeDir = process.argv[2];
const entry = process.argv[3];
let running = false;
const sink = Bun.file(3).writer({ highWaterMark: 1 << 16 });
let pending: Promise<unknown> | undefined;
let nonce = "";

// write sends one envelope line (JSON text + "\n") behind this run's nonce.
function write(line: string) {
  sink.write(nonce + line);
  const r = sink.flush();
  if (r instanceof Promise) pending = r;
}

function out(obj: Record<string, unknown>) {
  write(JSON.stringify(obj) + "\n");
}

// format renders console arguments like node's util.format (loaded only for %-formats).
function format(...args: unknown[]): string {
  if (typeof args[0] === "string" && args[0].includes("%")) return require("node:util").format(...args);
  return args.map((a) => (typeof a === "string" ? a : Bun.inspect(a))).join(" ");
}

// console.* become ordered log envelopes during a run (plain fd 1/2 writes otherwise).
const streams: Record<string, "stdout" | "stderr"> = {
  log: "stdout", info: "stdout", debug: "stdout", trace: "stderr", warn: "stderr", error: "stderr",
};
for (const [name, stream] of Object.entries(streams)) {
  const orig = (console as any)[name].bind(console);
  (console as any)[name] = (...args: unknown[]) => {
    if (!running) return orig(...args);
    out({ type: "log", stream, text: format(...args), ts: Date.now() });
  };
}

// Raw fd 1/2 writes (process.stdout/stderr.write) go through FileSinks: a run's terminal
// envelope waits until their bytes are in the pipe, so the run's raw output is read before
// its end and never lands in the next run's logs. Bun's own stdout stream cannot be waited
// on: its "drain" event and write callbacks fire while part of the data is still buffered.
const rawSinks = [1, 2].map((fd) => Bun.file(fd).writer({ highWaterMark: 1 << 16 }));
const rawLast: unknown[] = [undefined, undefined];
let rawWritten = false;
[process.stdout, process.stderr].forEach((s: any, i) => {
  const k = rawSinks[i];
  s.write = (chunk: any, enc?: any, cb?: any) => {
    if (typeof enc === "function") [cb, enc] = [enc, undefined];
    k.write(typeof chunk === "string" && enc && enc !== "utf8" && enc !== "utf-8" ? Buffer.from(chunk, enc) : chunk);
    rawWritten = true;
    const r = k.flush();
    if (!(r instanceof Promise)) {
      if (cb) queueMicrotask(cb);
      return true;
    }
    rawLast[i] = r;
    r.then(() => {
      cb?.();
      if (rawLast[i] === r) s.emit("drain"); // the stream's last pending flush
    });
    return false;
  };
});

// rawFlushed resolves once every raw write of the run is in its pipe.
async function rawFlushed() {
  rawWritten = false;
  for (const k of rawSinks) {
    const r = k.flush();
    if (r instanceof Promise) await r;
  }
}

function where(e: any): string {
  const pos = e?.position;
  if (pos && pos.file) return ` (${pos.file.replace(codeDir + "/", "")}:${pos.line}:${pos.column})`;
  return "";
}

function errorEnvelope(kind: string, message: string, e?: any) {
  const env: Record<string, unknown> = { type: "error", kind, message: message || "error" };
  if (e && typeof e.stack === "string") env.stack = e.stack.replaceAll(codeDir + "/", "");
  return env;
}

function describe(e: any): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (e && typeof e.message === "string") return e.message;
  return String(e);
}

let handler: Function | undefined;
let loadError: Record<string, unknown> | undefined;
try {
  const mod = await import(codeDir + "/" + entry);
  const h = typeof mod.default === "function" ? mod.default : mod.handler;
  if (typeof h !== "function") {
    loadError = errorEnvelope("user", `${entry} exports no function: export default a function or a function named handler`);
  } else {
    handler = h;
  }
} catch (e: any) {
  loadError = errorEnvelope("user", `cannot load ${entry}: ${describe(e)}${where(e)}`, e);
}

// serialize returns the JSON text of v, or throws a user-facing error.
function serialize(v: unknown, what: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch (e: any) {
    throw new UserError(`${what} is not JSON-serializable: ${describe(e)}`);
  }
  if (s === undefined) {
    if (v === undefined) return "null";
    throw new UserError(`${what} is not JSON-serializable (a ${typeof v})`);
  }
  return s;
}

class UserError extends Error {}
class LimitError extends Error {}

function checkSize(s: string, max: number, what: string) {
  if (s.length > max || (s.length * 3 > max && Buffer.byteLength(s) > max)) {
    throw new LimitError(`${what} is ${Buffer.byteLength(s)} bytes, over max_result_bytes (${max})`);
  }
}

function isAsyncIter(r: any) {
  return r != null && typeof r[Symbol.asyncIterator] === "function" && typeof r.next === "function";
}
function isIter(r: any) {
  return r != null && typeof r !== "string" && typeof r[Symbol.iterator] === "function" && typeof r.next === "function";
}

async function handle(req: any) {
  if (loadError) return out(loadError);
  process.env.TMPDIR = req.tmpdir;
  const ctx = { ...req.ctx, remaining: () => req.ctx.deadline - Date.now() };
  const max = req.max_result_bytes;
  const start = performance.now();
  try {
    let r = handler!(req.input, ctx);
    let value: unknown;
    if (isAsyncIter(r) || isIter(r)) {
      let seq = 0;
      let step = await r.next();
      while (!step.done) {
        const data = serialize(step.value, `chunk ${seq + 1}`);
        checkSize(data, max, `chunk ${seq + 1}`);
        seq++;
        write(`{"type":"chunk","seq":${seq},"data":${data}}\n`);
        step = await r.next();
      }
      value = step.value;
    } else {
      value = await r;
    }
    const output = serialize(value, "result");
    checkSize(output, max, "result");
    const ms = Math.round(performance.now() - start);
    if (rawWritten) await rawFlushed();
    write(`{"type":"result","output":${output},"duration_ms":${ms}}\n`);
  } catch (e: any) {
    if (rawWritten) await rawFlushed();
    if (e instanceof LimitError) out(errorEnvelope("limit", e.message));
    else if (e instanceof UserError) out(errorEnvelope("user", e.message));
    else out(errorEnvelope("user", describe(e), e));
  }
}

process.on("unhandledRejection", (e: any) => {
  if (running) out({ type: "log", stream: "stderr", text: `unhandled rejection: ${describe(e)}`, ts: Date.now() });
});

async function serve(line: string) {
  if (!line) return;
  const req = JSON.parse(line);
  nonce = req.nonce + " ";
  running = true;
  await handle(req);
  if (pending) await pending; // a large envelope went out asynchronously
  pending = undefined;
  running = false;
}

const decoder = new TextDecoder();
let buf = "";
for await (const chunk of Bun.file(4).stream()) {
  buf += decoder.decode(chunk, { stream: true });
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    await serve(line);
  }
}
