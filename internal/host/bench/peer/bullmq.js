// The BullMQ peer of `sous bench`: the same trivial round trip (a client adds a job and
// waits for its result; a worker returns the job's data) on the same Redis.
//   node bullmq.js worker <redis-url> <queue> <concurrency>
//   node bullmq.js sandboxed <redis-url> <queue> <concurrency>   (the function in child processes)
//   node bullmq.js client <redis-url> <queue> <clients> <total> <warmup> <input-bytes>
// The client prints one JSON line: {"n","errors","p50_us","p99_us","per_sec","stat0","stat1"},
// the last two the machine's /proc/stat before and after the timed phase.
'use strict';
const { readFileSync } = require('fs');
const path = require('path');
const { Queue, Worker, QueueEvents } = require('bullmq');

const procStat = () => { try { return readFileSync('/proc/stat', 'utf8'); } catch { return ''; } };

const [mode, url, name, ...rest] = process.argv.slice(2);
const u = new URL(url);
const connection = {
  host: u.hostname, port: Number(u.port || 6379),
  db: Number((u.pathname || '/0').slice(1) || 0), maxRetriesPerRequest: null,
};

// worker runs the function inside the worker process; sandboxed, BullMQ's own
// isolation: a processor file run in child processes (one per concurrent job).
async function worker(concurrency, sandboxed) {
  const fn = sandboxed ? path.join(__dirname, 'bullmq-processor.js') : async (job) => job.data;
  const w = new Worker(name, fn, { connection, concurrency: Number(concurrency) });
  await w.waitUntilReady();
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => { await w.close(); process.exit(0); });
}

async function client(clients, total, warmup, bytes) {
  const q = new Queue(name, { connection });
  const ev = new QueueEvents(name, { connection });
  q.setMaxListeners(0);
  ev.setMaxListeners(0);
  await ev.waitUntilReady();
  const data = Number(bytes) > 0 ? { s: 'x'.repeat(Math.max(0, Number(bytes) - 8)) } : { ping: 1 };
  const once = async () => {
    const job = await q.add('echo', data, { removeOnComplete: 1000, removeOnFail: 1000 });
    return job.waitUntilFinished(ev, 30000);
  };
  // drive runs count jobs from as many concurrent callers as the timed phase has, so
  // the warm-up reaches every part that phase uses (a sandboxed worker's child
  // processes start one per concurrent job); each job's outcome goes to seen.
  const drive = async (count, seen) => {
    let next = 0;
    const one = async () => {
      while (next++ < count) {
        const t0 = process.hrtime.bigint();
        try { await once(); seen(Number(process.hrtime.bigint() - t0) / 1000); } catch { seen(-1); }
      }
    };
    await Promise.all(Array.from({ length: Number(clients) }, one));
  };
  // A warm-up job whose finish notification BullMQ's QueueEvents missed is not
  // measured: it must not end the peer's run.
  await drive(Number(warmup), () => {});
  const lat = [];
  let errors = 0;
  const stat0 = procStat();
  const start = process.hrtime.bigint();
  await drive(Number(total), (us) => { if (us < 0) errors++; else lat.push(us); });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const stat1 = procStat();
  lat.sort((a, b) => a - b);
  const at = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : 0;
  process.stdout.write(JSON.stringify({ n: lat.length, errors, p50_us: at(0.5), p99_us: at(0.99), per_sec: lat.length / secs, stat0, stat1 }) + '\n');
  await ev.close();
  await q.close();
}

const run = { worker: () => worker(rest[0], false), sandboxed: () => worker(rest[0], true) }[mode];
(run ? run() : client(...rest)).catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
