// Spawns a child runtime that allocates (and touches) input.mb megabytes.
export default function (input: any) {
  const code = `const a = []; for (let i = 0; i < ${input.mb / 50}; i++) a.push(Buffer.alloc(50 << 20, 1)); console.log("allocated")`;
  const r = Bun.spawnSync([process.execPath, "-e", code]);
  return { stdout: r.stdout.toString().trim(), exit: r.exitCode, signal: r.signalCode ?? null };
}
