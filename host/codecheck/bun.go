package codecheck

import "context"

// bunScript parses each file with Bun's transpiler (the loader chosen by the
// extension) and prints the first parse error as JSON. Bun's columns count from 1.
const bunScript = `
const files = JSON.parse(await Bun.stdin.text());
const loaders = {ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", jsx: "jsx", js: "js", mjs: "js", cjs: "js"};
for (const f of files) {
  const ext = (f.path.split(".").pop() || "").toLowerCase();
  try {
    new Bun.Transpiler({loader: loaders[ext] || "ts"}).transformSync(f.source);
  } catch (e) {
    const first = (e.errors && e.errors[0]) || e;
    const p = first.position || {};
    console.log(JSON.stringify({file: f.path, line: p.line || 0, column: p.column || 0, message: String(first.message || e)}));
    process.exit(0);
  }
}
`

func checkBun(ctx context.Context, bin string, files []file) (*Error, error) {
	return runParser(ctx, bin, []string{"-e", bunScript}, files)
}
