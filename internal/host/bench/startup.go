package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Plain runtime costs measured outside Sous in the same run: how long `bun file.js` /
// `python3 file.py` takes to start and exit, and a raw pipe round trip to a warm
// process (a line written to its stdin and echoed back on its stdout).
type Plain struct {
	Start time.Duration // p50 of a plain start of a one-line file
	Pipe  time.Duration // p50 of a line echoed through a warm process
}

// plain scripts per runtime: [file, a trivial program, a line echo loop].
var plainScripts = map[string][3]string{
	"bun": {"file.js", "const x = 1;\n",
		"process.stdin.on('data', (d) => process.stdout.write(d));\n"},
	"python": {"file.py", "x = 1\n",
		"import sys\nr, w = sys.stdin.buffer, sys.stdout.buffer\nwhile True:\n    l = r.readline()\n    if not l:\n        break\n    w.write(l)\n    w.flush()\n"},
}

// runtimeBin is the interpreter the bench compares with: the configured one, else
// what PATH (bun: then ./node_modules/.bin) has, python3 resolved to the real binary.
func runtimeBin(o *Options, rt string) (string, error) {
	switch rt {
	case "bun":
		if o.Bun != "" {
			return o.Bun, nil
		}
		if p, err := exec.LookPath("bun"); err == nil {
			return p, nil
		}
		if _, err := os.Stat("node_modules/.bin/bun"); err == nil {
			return filepath.Abs("node_modules/.bin/bun")
		}
		return "", fmt.Errorf("bun not found (pass --bun)")
	case "python":
		if o.Python != "" {
			return o.Python, nil
		}
		out, err := exec.Command("python3", "-c", "import sys;print(sys.executable)").Output()
		if err != nil {
			return "", fmt.Errorf("python3 not found: %w", err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	return "", fmt.Errorf("unknown runtime %q", rt)
}

// measurePlain times n plain starts and n pipe round trips of rt.
func measurePlain(o *Options, rt string, n int) (Plain, error) {
	bin, err := runtimeBin(o, rt)
	if err != nil {
		return Plain{}, err
	}
	dir, err := os.MkdirTemp("", "sous-bench-plain-")
	if err != nil {
		return Plain{}, err
	}
	defer os.RemoveAll(dir)
	s := plainScripts[rt]
	file := filepath.Join(dir, s[0])
	if err := os.WriteFile(file, []byte(s[1]), 0o644); err != nil {
		return Plain{}, err
	}
	starts := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if out, err := exec.Command(bin, file).CombinedOutput(); err != nil {
			return Plain{}, fmt.Errorf("%s %s: %v: %s", bin, s[0], err, out)
		}
		starts = append(starts, time.Since(t0))
	}
	pipe, err := pipeFloor(o, rt, 50*n)
	if err != nil {
		return Plain{}, err
	}
	p, _ := percentiles(starts)
	return Plain{Start: p, Pipe: pipe}, nil
}

// floorWarmup is how many round trips each floor makes before it measures: the first
// ones wake the processes up.
const floorWarmup = 50

// pipeFloor is the p50 of n line round trips through a warm echo process of rt, one
// after another.
func pipeFloor(o *Options, rt string, n int) (time.Duration, error) {
	e, err := startEcho(o, rt)
	if err != nil {
		return 0, err
	}
	defer e.stop()
	lat := make([]time.Duration, 0, n)
	for i := range n + floorWarmup {
		d, err := e.roundTrip()
		if err != nil {
			return 0, err
		}
		if i >= floorWarmup {
			lat = append(lat, d)
		}
	}
	p, _ := percentiles(lat)
	return p, nil
}

// echo is a warm plain process of a runtime that echoes each line it reads.
type echo struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	dir string
}

// startEcho starts rt's line echo loop (plainScripts) as a plain process.
func startEcho(o *Options, rt string) (e *echo, err error) {
	bin, err := runtimeBin(o, rt)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sous-bench-echo-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	s := plainScripts[rt]
	script := filepath.Join(dir, "echo"+filepath.Ext(s[0]))
	if err := os.WriteFile(script, []byte(s[2]), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, script)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pipe floor: %w", err)
	}
	return &echo{cmd: cmd, in: in, out: bufio.NewReader(outp), dir: dir}, nil
}

// echoLine is what a pipe round trip sends: the executor floor's input.
var echoLine = []byte(`{"ping":1}` + "\n")

// roundTrip writes one line and reads it back.
func (e *echo) roundTrip() (time.Duration, error) {
	t0 := time.Now()
	if _, err := e.in.Write(echoLine); err != nil {
		return 0, fmt.Errorf("pipe floor: %w", err)
	}
	if _, err := e.out.ReadBytes('\n'); err != nil {
		return 0, fmt.Errorf("pipe floor: %w", err)
	}
	return time.Since(t0), nil
}

// stop ends the process and removes its script.
func (e *echo) stop() {
	e.in.Close()
	_ = e.cmd.Wait()
	os.RemoveAll(e.dir)
}
