package codecheck

import "context"

// bunScript parses each file with Bun's transpiler (the loader chosen by the
// extension) and prints the first parse error as JSON, then checks each file's
// static imports (see bunImports). Bun's columns count from 1.
const bunScript = `
const req = JSON.parse(await Bun.stdin.text());
const loaders = {ts: "ts", mts: "ts", cts: "ts", tsx: "tsx", jsx: "jsx", js: "js", mjs: "js", cjs: "js"};
const loaderOf = (p) => loaders[(p.split(".").pop() || "").toLowerCase()] || "ts";
const report = (file, line, column, message, kind = "") => {
  console.log(JSON.stringify({file, line, column, message, kind}));
  process.exit(0);
};
for (const f of req.files) {
  try {
    new Bun.Transpiler({loader: loaderOf(f.path)}).transformSync(f.source);
  } catch (e) {
    const first = (e.errors && e.errors[0]) || e;
    const p = first.position || {};
    report(f.path, p.line || 0, p.column || 0, String(first.message || e));
  }
}
` + bunImports

func checkBun(ctx context.Context, bin string, req request) (*Error, error) {
	return runParser(ctx, bin, []string{"-e", bunScript}, req)
}
