package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Build stamps the sandbox code a binary carries: `make build` sets it (-ldflags -X)
// in the executors and in the helper from a hash of this package's sources. Empty:
// not stamped (go build, go test), and the helper is never used.
var Build string

// HelperName is the small binary beside an executor that runs the jail's init and
// exec stage for it when it carries the same Build: it starts in ~2.6 ms where an
// executor's own binary, which initialises gRPC, protobuf and telemetry first, takes
// ~6, and a cold start runs it twice (the init, then the exec stage).
const HelperName = "sous-sandbox"

// initTag is what the init's marker carries: the starter's Build, which the init
// checks against its own (a helper from another build refuses to run).
func initTag() string {
	if Build == "" {
		return "unstamped"
	}
	return Build
}

var helper struct {
	once sync.Once
	path string
}

// InitBinary is what Start runs as the jail's init: the helper beside this executable
// when it answers with this Build, else this executable.
func InitBinary() string {
	helper.once.Do(func() {
		if exe, err := os.Executable(); err == nil {
			helper.path = helperIn(filepath.Dir(exe), Build)
		}
	})
	if helper.path != "" {
		return helper.path
	}
	return "/proc/self/exe"
}

// helperIn is dir's helper when it reports build (`--build`), else "".
func helperIn(dir, build string) string {
	if build == "" {
		return ""
	}
	p := filepath.Join(dir, HelperName)
	out, err := exec.Command(p, "--build").Output()
	if err != nil || strings.TrimSpace(string(out)) != build {
		return ""
	}
	return p
}
