// Tries a nested user namespace with a mount in it through the unshare tool, and
// reports how it ended; a plain child process must still start.
export default function () {
  const tool = Bun.spawnSync(["unshare", "--user", "--map-root-user", "--mount", "true"]);
  const plain = Bun.spawnSync(["true"]);
  return {
    unshare: tool.exitCode === 0 ? "ok" : tool.stderr.toString().trim(),
    child: plain.exitCode === 0 ? "ok" : `exit ${plain.exitCode}`,
  };
}
