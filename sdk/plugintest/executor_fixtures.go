package plugintest

import (
	"os"
	"path/filepath"
	"testing"
)

// ExecutorFixtures gives, for one runtime, the source of the entry file of each
// behaviour the Executor suite checks. Each field documents what the function must do.
type ExecutorFixtures struct {
	Runtime string // FunctionSpec.runtime: bun | python
	Entry   string // entry file name for single-file fixtures (main.ts, main.py)

	// Echo returns its input unchanged after logging "hello <input.name>" through the
	// runtime's console/print and writing "raw <input.name>\n" straight to stdout.
	Echo string
	// Async awaits something and returns {"async": input}.
	Async string
	// Generator yields 1, 2, 3 and returns "done".
	Generator string
	// AsyncGenerator is an async generator yielding "a" then "b"; its return value is
	// AsyncGeneratorResult (JSON), e.g. "end" for Bun, null for Python (which cannot
	// return a value from an async generator).
	AsyncGenerator       string
	AsyncGeneratorResult string
	// SubdirFiles is a bundle whose entry SubdirEntry lives in a sub-directory and
	// imports a sibling file relatively; the function returns {"helper": "ok"}.
	SubdirFiles map[string]string
	SubdirEntry string
	// SyntaxError does not parse; the error is on line SyntaxErrorLine of Entry.
	SyntaxError     string
	SyntaxErrorLine int
	// Throws throws/raises an error whose message contains "boom-42".
	Throws string
	// NonSerializable returns a value that cannot be encoded as JSON.
	NonSerializable string
	// ExitMidRun prints "before exit" and exits the process with code 3 when
	// input.exit is true (process.exit / sys.exit), else returns "alive". ExitKind is
	// the error kind the runtime reports for it.
	ExitMidRun string
	ExitKind   string
	// HardExit (optional) is like ExitMidRun but exits without unwinding (os._exit);
	// it is always a crash.
	HardExit string
	// SelfKill sends SIGKILL to its own process when input.kill is true, else
	// returns "alive".
	SelfKill string
	// Hang starts a child process `sleep <input.sleep>` (a number of seconds the suite
	// makes unique, so it can find the child on the host even inside a PID
	// namespace), logs "child <pid>" and never returns.
	Hang string
	// MemoryHog allocates memory without bound.
	MemoryHog string
	// BigResult returns a string of input.n characters "x".
	BigResult string
	// LogFlood logs input.lines lines of 100 characters through console/print and
	// writes as many straight to stdout, then returns "flooded".
	LogFlood string
	// EnvProbe lists the temp dir ($TMPDIR), writes a file in it and returns
	// {"secret": $SOUS_SECRET or null, "path": $PATH, "home": $HOME, "tmpdir": the temp
	// dir, "myvar": $MY_VAR, "proc": a random token made once per process (the
	// process's identity: pids mean nothing inside a sandbox), "fresh": the temp dir
	// was empty, "wrote": the file landed in the temp dir}.
	EnvProbe string
	// CtxEcho returns {"invocation_id","function","version","env","deadline","attempt"}
	// read from ctx.
	CtxEcho string
}

// LoadFixtures reads fixtures from dir by naming convention, ext being the source
// extension ("ts", "py"): echo, async, generator, asyncgen, syntax, throws,
// nonserializable, exit, hardexit (optional), selfkill, hang, memhog, bigresult,
// logflood, envprobe and ctx, plus subdir/lib/{main,helper}.<ext>. The caller fills
// in Runtime, AsyncGeneratorResult, SyntaxErrorLine and ExitKind.
func LoadFixtures(t testing.TB, dir, ext string) ExecutorFixtures {
	t.Helper()
	f := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name+"."+ext))
		if err != nil {
			t.Fatalf("executor fixture: %v", err)
		}
		return string(b)
	}
	fx := ExecutorFixtures{
		Entry: "main." + ext,
		Echo:  f("echo"), Async: f("async"), Generator: f("generator"), AsyncGenerator: f("asyncgen"),
		SubdirFiles: map[string]string{"lib/main." + ext: f("subdir/lib/main"), "lib/helper." + ext: f("subdir/lib/helper")},
		SubdirEntry: "lib/main." + ext,
		SyntaxError: f("syntax"), Throws: f("throws"), NonSerializable: f("nonserializable"),
		ExitMidRun: f("exit"), SelfKill: f("selfkill"), Hang: f("hang"), MemoryHog: f("memhog"),
		BigResult: f("bigresult"), LogFlood: f("logflood"), EnvProbe: f("envprobe"), CtxEcho: f("ctx"),
	}
	if _, err := os.Stat(filepath.Join(dir, "hardexit."+ext)); err == nil {
		fx.HardExit = f("hardexit")
	}
	return fx
}
