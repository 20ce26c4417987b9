package harness

// MemoryMode says how a runtime's memory limit is enforced.
type MemoryMode int

const (
	// MemoryAddressSpace sets RLIMIT_AS on the harness process: allocations past the
	// limit fail inside the runtime (Python raises MemoryError).
	MemoryAddressSpace MemoryMode = iota
	// MemoryRSS polls the process's resident set size during a run and kills the
	// process group when it passes the limit. For runtimes that reserve a large
	// address space up front (Bun/JavaScriptCore), where RLIMIT_AS cannot work.
	MemoryRSS
)

// Runtime describes one language runtime: everything a plugin supplies.
type Runtime struct {
	// Name is the runtime and driver name (bun, python); FunctionSpec.runtime must match.
	Name string
	// ConfigKey is the config key holding the interpreter path (bun, python).
	ConfigKey string
	// RunnerFile is the runner's file name in the cache dir (runner.ts, runner.py).
	RunnerFile string
	// Runner is the runner's source, written to the cache dir at Configure.
	Runner []byte
	// Find resolves the interpreter: configured is the config value ("" when unset).
	// It must fail with a message that says how to fix it.
	Find func(configured string) (string, error)
	// Args returns the harness command line (argv[0] is the interpreter).
	Args func(interp, runner, codeDir, entry string) []string
	// Mounts (optional) returns the host paths the runtime needs besides the
	// interpreter binary (a Python prefix with its standard library); the sandbox binds
	// them read-only at the same path. interp is the resolved interpreter.
	Mounts func(interp string) ([]string, error)
	// Memory is how the memory limit is enforced when cgroups are not available.
	Memory MemoryMode
	// Version is the plugin version reported by Info.
	Version string
}
