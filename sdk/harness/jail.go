package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/sdk/harness/sandbox"
)

// jailer builds the sandbox spec of each harness process of one configured plugin.
type jailer struct {
	rt       *Runtime
	interp   string // the interpreter, symlinks resolved (bound at the same path)
	runner   string // the runner on the host, bound at runnerDir/<file>
	root     string // empty dir the init mounts the jail's root on
	uid      int
	maxPids  int64
	maxCPUs  float64
	binds    []sandbox.Bind
	symlinks map[string]string
	cgroups  *sandbox.Cgroups // nil: limits fall back to rlimits
}

// runnerDir is where the runner script is inside the jail.
const runnerDir = "/sous"

// systemDirs are bound read-only when they are directories (symlinks are copied).
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// systemEtc are the few host files of /etc a runtime needs (TLS roots, time zone).
var systemEtc = []string{"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/localtime"}

func newJailer(rt *Runtime, interp, runner, cacheDir string, cfg *Config) (*jailer, error) {
	real, err := filepath.EvalSymlinks(interp)
	if err != nil {
		return nil, fmt.Errorf("sandbox: resolve %s: %w", interp, err)
	}
	j := &jailer{rt: rt, interp: real, runner: runner, root: filepath.Join(cacheDir, "jail-root"), uid: cfg.SandboxUID,
		maxPids: cfg.MaxPids, maxCPUs: cfg.MaxCPUs, symlinks: map[string]string{}}
	if err := os.MkdirAll(j.root, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	for _, d := range systemDirs {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			t, _ := os.Readlink(d)
			j.symlinks[d] = t
		case fi.IsDir():
			j.binds = append(j.binds, sandbox.Bind{Src: d, Dst: d})
		}
	}
	for _, p := range systemEtc {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			j.binds = append(j.binds, sandbox.Bind{Src: r, Dst: p})
		}
	}
	paths := []string{real}
	if rt.Mounts != nil {
		extra, err := rt.Mounts(interp)
		if err != nil {
			return nil, fmt.Errorf("sandbox: runtime paths: %w", err)
		}
		paths = append(extra, real)
	}
	for _, p := range paths {
		if !j.covered(inJail(p)) {
			j.binds = append(j.binds, sandbox.Bind{Src: p, Dst: inJail(p)})
		}
	}
	j.interp = inJail(real)
	j.binds = append(j.binds, sandbox.Bind{Src: runner, Dst: runnerDir + "/" + filepath.Base(runner)})
	return j, nil
}

// hostDir is where runtime paths that would fall inside the jail's private /tmp or
// HOME (a checkout under /tmp) are bound instead, so those tmpfs dirs stay empty.
const hostDir = "/sous/host"

// inJail is where host path p of the runtime appears in the jail.
func inJail(p string) string {
	for _, d := range []string{sandbox.TmpDir, sandbox.HomeDir} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return hostDir + p
		}
	}
	return p
}

// covered reports whether p is already inside a bound directory.
func (j *jailer) covered(p string) bool {
	for _, b := range j.binds {
		if p == b.Dst || strings.HasPrefix(p, b.Dst+"/") {
			return true
		}
	}
	return false
}

// spec is the jail of one harness process of fn.
func (j *jailer) spec(fn *Function, limits Limits, cg *sandbox.Cgroup) *sandbox.Spec {
	s := &sandbox.Spec{
		Root: j.root, Symlinks: j.symlinks, TmpMB: limits.MemoryMB, Dir: sandbox.CodeDir,
		Argv: j.rt.Args(j.interp, runnerDir+"/"+j.rt.RunnerFile, sandbox.CodeDir, fn.Entry),
		Env:  functionEnv(fn.Vars, sandbox.HomeDir, sandbox.TmpDir),
		UID:  j.uid, GID: j.uid, Network: fn.network(),
		Binds: append(append([]sandbox.Bind{}, j.binds...), sandbox.Bind{Src: fn.CodeDir, Dst: sandbox.CodeDir}),
		Files: etcFiles(fn.network()),
	}
	if s.Network == sandbox.NetworkHost {
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			s.Files = append(s.Files, sandbox.File{Path: "/etc/resolv.conf", Data: string(b)})
		}
	}
	if cg != nil {
		s.Cgroups, s.Track = cg.Dirs(), cg.Track()
		return s
	}
	// No cgroups: per-process rlimits (the RSS watcher covers runtimes that cannot take RLIMIT_AS).
	s.Rlimits = append(s.Rlimits, sandbox.Rlimit{Resource: unix.RLIMIT_NPROC, Max: uint64(j.maxPids)})
	if j.rt.Memory == MemoryAddressSpace && limits.MemoryMB > 0 {
		s.Rlimits = append(s.Rlimits, sandbox.Rlimit{Resource: unix.RLIMIT_AS, Max: uint64(limits.MemoryMB) << 20})
	}
	return s
}

// etcFiles is the jail's /etc: a user for the inside uid, localhost, and the resolver
// slirp4netns serves when the network is outbound.
func etcFiles(network string) []sandbox.File {
	f := []sandbox.File{
		{Path: "/etc/passwd", Data: fmt.Sprintf("root:x:0:0::/:/usr/sbin/nologin\nfn:x:%d:%d::%s:/bin/sh\n", sandbox.InsideUID, sandbox.InsideGID, sandbox.HomeDir)},
		{Path: "/etc/group", Data: fmt.Sprintf("root:x:0:\nfn:x:%d:\n", sandbox.InsideGID)},
		{Path: "/etc/hosts", Data: "127.0.0.1 localhost\n::1 localhost\n"},
		{Path: "/etc/nsswitch.conf", Data: "passwd: files\ngroup: files\nhosts: files dns\n"},
	}
	if network == sandbox.NetworkOutbound {
		f = append(f, sandbox.File{Path: "/etc/resolv.conf", Data: "nameserver " + sandbox.SlirpDNS + "\n"})
	}
	return f
}
