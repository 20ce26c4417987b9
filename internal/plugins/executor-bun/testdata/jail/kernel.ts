// Tries a nested user namespace with a mount in it through the unshare tool, and
// reports how it ended; a plain child process and a worker thread must still start
// (threads come from clone3, which the filter answers ENOSYS so libc uses clone).
export default async function () {
  const tool = Bun.spawnSync(["unshare", "--user", "--map-root-user", "--mount", "true"]);
  const plain = Bun.spawnSync(["true"]);
  const worker = new Worker(URL.createObjectURL(new Blob(["postMessage('thread ok')"])));
  const thread = await new Promise<string>((ok) => { worker.onmessage = (e) => ok(e.data); });
  worker.terminate();
  return {
    unshare: tool.exitCode === 0 ? "ok" : tool.stderr.toString().trim(),
    child: plain.exitCode === 0 ? "ok" : `exit ${plain.exitCode}`,
    thread,
  };
}
