package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// otherBuild is how an init refusing a starter of another build begins its reason.
const otherBuild = "carries sandbox build"

// initTag is what the init's marker carries: the starter's Build, which the init
// checks against its own.
func initTag() string {
	if Build == "" {
		return "unstamped"
	}
	return Build
}

var helper struct {
	once sync.Once
	path string
	// f is the helper, held open from its check on: a start executes that file (its
	// descriptor), so a helper replaced on disk later is not run.
	f   *os.File
	off atomic.Bool // a start met an init of another build: this executable from then on
}

// selfExe is this executable, the init when there is no helper.
const selfExe = "/proc/self/exe"

// InitBinary names what runs as a jail's init: the helper's path, or /proc/self/exe.
func InitBinary() string {
	if helperFile() != nil {
		return helper.path
	}
	return selfExe
}

// initExec is what Start executes as a jail's init.
func initExec() string {
	if f := helperFile(); f != nil {
		return fdPath(f)
	}
	return selfExe
}

// fdPath names f through this process's descriptor table: a child resolves it before
// its exec, and os/exec's fork may have moved other descriptors over f's number in the
// child's table by then (/proc/self/fd/N would name what it put there).
func fdPath(f *os.File) string {
	return "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(int(f.Fd()))
}

func helperFile() *os.File {
	helper.once.Do(func() {
		if exe, err := os.Executable(); err == nil {
			helper.path, helper.f = openHelper(filepath.Dir(exe), Build)
		}
	})
	if helper.off.Load() {
		return nil
	}
	return helper.f
}

// openHelper opens dir's helper and returns it when it reports build (`--build`).
func openHelper(dir, build string) (string, *os.File) {
	if build == "" {
		return "", nil
	}
	p := filepath.Join(dir, HelperName)
	f, err := os.Open(p)
	if err != nil {
		return "", nil
	}
	out, err := exec.Command(fdPath(f), "--build").Output()
	if err != nil || strings.TrimSpace(string(out)) != build {
		f.Close()
		return "", nil
	}
	return p, f
}
