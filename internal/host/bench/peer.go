package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bullmqJS is the peer's worker and client (node bullmq.js worker|client …).
//
//go:embed peer/bullmq.js
var bullmqJS []byte

// bullmqProcessorJS is the function as a BullMQ sandboxed processor (a file BullMQ runs
// in child processes), for the peer with Sous's guarantees (guarded.go).
//
//go:embed peer/bullmq-processor.js
var bullmqProcessorJS []byte

// bullmqVersion is what the bench installs: the peer users compare Sous with.
const bullmqVersion = "bullmq@5"

// peer is BullMQ installed in a scratch folder outside the checkout.
type peer struct {
	node, dir string
	redisURL  string
	// kind is how its workers run the function: "worker" (inside the worker process,
	// concurrency 32 as the Sous worker) or "sandboxed" (in child processes).
	kind        string
	concurrency int
	label       string // in the progress lines
	workers     []*exec.Cmd
}

// installBullMQ puts bullmq@5 (npm) and the peer script in <user cache>/sous/bench-bullmq
// (or $TMPDIR when there is no cache dir); an existing install is reused.
func installBullMQ(o *Options) (*peer, error) {
	node, err := exec.LookPath(o.nodeBin())
	if err != nil {
		return nil, fmt.Errorf("node not found (the BullMQ peer needs Node.js; --node or skip with --peer=false): %w", err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "sous", "bench-bullmq")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "bullmq", "package.json")); err != nil {
		o.say("· installing %s with npm into %s", bullmqVersion, dir)
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private":true}`+"\n"), 0o644); err != nil {
			return nil, err
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", bullmqVersion)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm install %s in %s: %v: %s", bullmqVersion, dir, err, bytes.TrimSpace(out))
		}
	}
	for name, b := range map[string][]byte{"bullmq.js": bullmqJS, "bullmq-processor.js": bullmqProcessorJS} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	return &peer{node: node, dir: dir, kind: "worker", concurrency: 32, label: "BullMQ"}, nil
}

func (o *Options) nodeBin() string {
	if o.Node != "" {
		return o.Node
	}
	return "node"
}

// startWorkers starts n BullMQ worker processes (of p's kind and concurrency) on
// queue and waits until each is ready.
func (p *peer) startWorkers(ctx context.Context, queue string, n int) error {
	for range n {
		cmd := exec.CommandContext(ctx, p.node, "bullmq.js", p.kind, p.redisURL, queue, strconv.Itoa(p.concurrency))
		cmd.Dir, cmd.Stderr = p.dir, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start BullMQ worker: %w", err)
		}
		p.workers = append(p.workers, cmd)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			return fmt.Errorf("BullMQ worker did not start (%q): %v", line, err)
		}
	}
	return nil
}

// stopWorkers ends the worker processes this peer started.
func (p *peer) stopWorkers() {
	for _, c := range p.workers {
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	p.workers = nil
}

// workerPIDs are the running worker processes, for their RSS.
func (p *peer) workerPIDs() []int {
	var pids []int
	for _, c := range p.workers {
		pids = append(pids, c.Process.Pid)
	}
	return pids
}

// measure runs the peer client: total round trips from clients concurrent callers
// with an input of inputBytes ("" ping when 0).
func (p *peer) measure(ctx context.Context, queue string, clients, total, warmup, inputBytes int) (Row, error) {
	cmd := exec.CommandContext(ctx, p.node, "bullmq.js", "client", p.redisURL, queue,
		strconv.Itoa(clients), strconv.Itoa(total), strconv.Itoa(warmup), strconv.Itoa(inputBytes))
	cmd.Dir, cmd.Stderr = p.dir, os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return Row{}, fmt.Errorf("BullMQ client: %w", err)
	}
	var r struct {
		N      int     `json:"n"`
		Errors int     `json:"errors"`
		P50    float64 `json:"p50_us"`
		P99    float64 `json:"p99_us"`
		PerSec float64 `json:"per_sec"`
		Stat0  string  `json:"stat0"` // /proc/stat before and after the timed phase
		Stat1  string  `json:"stat1"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return Row{}, fmt.Errorf("BullMQ client answered %q: %w", out, err)
	}
	row := Row{Stack: "redis", Runtime: "node", Mode: "bullmq", Clients: clients, N: r.N, Errors: r.Errors,
		P50: time.Duration(r.P50 * float64(time.Microsecond)), P99: time.Duration(r.P99 * float64(time.Microsecond)), PerSec: r.PerSec}
	perInvocation(&row, parseMachineStat(r.Stat0), parseMachineStat(r.Stat1), total)
	return row, nil
}
