package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sous-run/sous/sdk/harness/sandbox"
)

// sandboxNeeds says what the sandbox needs, for the error that refuses to start.
const sandboxNeeds = "the sandbox needs Linux with user namespaces (user.max_user_namespaces > 0) and an " +
	"executor plugin running as root (it creates mount, PID, IPC, UTS and network namespaces and maps functions " +
	"to an unprivileged uid); `network: outbound` also needs slirp4netns (apt-get install slirp4netns). " +
	"Set plugins.executor.<driver>.sandbox: auto to run without it (development only)"

// setupSandbox decides at Configure whether harness processes run in the sandbox,
// by starting the runtime once in a jail. required: no jail is an error; auto: one
// loud log line and processes run without it; none: no jail.
func (p *Plugin) setupSandbox(cfg *Config, interp, runner string) (*jailer, error) {
	if cfg.Sandbox == SandboxNone {
		p.log.Warn("sandbox: none — functions run WITHOUT isolation as the plugin's user (sandbox: none); for trusted code only")
		return nil, nil
	}
	j, err := newJailer(p.rt, interp, runner, cfg.CacheDir, cfg)
	if err == nil {
		err = j.probe(cfg.CacheDir)
	}
	if err == nil {
		var cgErr error
		if j.cgroups, cgErr = sandbox.DetectCgroups(); cgErr != nil {
			p.log.Warn("sandbox: cgroups unusable, limits fall back to per-process rlimits (memory and process count are no longer counted over the whole tree)", "reason", cgErr.Error())
		}
		return j, nil
	}
	if cfg.Sandbox == SandboxRequired {
		return nil, fmt.Errorf("sandbox is required (sandbox: required) but does not work here: %v; %s", err, sandboxNeeds)
	}
	p.log.Error("!!! SANDBOX OFF: functions run WITHOUT isolation (sandbox: auto fell back) — any function can read the data dir and reach the host; " + err.Error())
	return nil, nil
}

// probe starts the runtime once in a jail (`<interp> --version`) and checks it exits 0.
func (j *jailer) probe(cacheDir string) error {
	dir := filepath.Join(cacheDir, "jail-probe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fn := &Function{Entry: "probe", CodeDir: dir}
	s := j.spec(fn, Limits{MemoryMB: 256}, nil)
	s.Argv = []string{j.interp, "--version"}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	jl, err := sandbox.Start(s, sandbox.Stdio{Stdin: devnull, Stdout: devnull, Stderr: w, Events: devnull, Requests: devnull})
	w.Close()
	if err != nil {
		return err
	}
	defer jl.Close()
	var out bytes.Buffer
	_ = r.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, _ = io.Copy(&out, io.LimitReader(r, 4096))
	jl.Kill()
	_ = jl.Cmd.Wait()
	if sig, code := sandbox.Describe(jl.Cmd.ProcessState); code != 0 || sig != 0 {
		return fmt.Errorf("%s --version in the sandbox failed (code %d, signal %d): %s", j.interp, code, sig, strings.TrimSpace(out.String()))
	}
	return nil
}

// describe says how processes are isolated, for Health.
func (j *jailer) describe() string {
	switch {
	case j == nil:
		return "off"
	case j.cgroups == nil:
		return "namespaces, rlimits"
	case j.cgroups.V2:
		return "namespaces, cgroup v2"
	default:
		return "namespaces, cgroup v1"
	}
}
