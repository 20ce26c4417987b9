// Package harness is the supervisor kit shared by the Sous executor plugins.
//
// An executor plugin is thin: it describes its language runtime (a Runtime: how to find
// the interpreter, the command line, the embedded runner script) and hands it to
// NewPlugin, an sdk.Executor to pass to sdk.Serve. Everything else lives
// here:
//
//   - Prepare: function bundles cached on disk by digest (Store).
//   - A sandbox per harness process (package sandbox): namespaces, an unprivileged
//     uid in a user namespace, a read-only minimal root, cgroup limits over the
//     whole process tree, a network policy per function.
//   - A warm pool of harness processes per tenant, function version and digest, one
//     invocation at a time per process, an idle TTL and a max process count with LRU
//     eviction of idle processes (Pool).
//   - The harness protocol: one JSON request a line on the process's fd 4, envelopes
//     (sdk/envelope) as NDJSON on fd 3 behind a per-invocation nonce, stdin /dev/null,
//     the process's fd 1 and fd 2 turned into `log` envelopes.
//   - Limits: timeout (the whole process group is killed), memory (RLIMIT_AS or an
//     RSS watcher), result size, log volume (truncated with one marker, never
//     blocking the function).
//   - A scrubbed environment: the function's vars plus PATH, HOME and TMPDIR, nothing
//     of the host's, and a temp dir per invocation.
package harness
