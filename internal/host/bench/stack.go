package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/host/server"
)

// stackSets returns the config overrides of a driver set.
func stackSets(o *Options, stack, dataDir, redisURL string) (map[string]string, error) {
	sets := map[string]string{
		"role": "all", "data_dir": dataDir, "http.addr": "127.0.0.1:0", "log_level": "warn",
		"plugins.dir": o.PluginDir, "worker.concurrency": "32", "invoke.events_ttl": "1m",
		// Measured as served: functions in the sandbox (`sous serve` requires it).
		"plugins.executor.bun.sandbox": "required", "plugins.executor.python.sandbox": "required",
	}
	if o.Bun != "" {
		sets["plugins.executor.bun.bun"] = o.Bun
	}
	if o.Python != "" {
		sets["plugins.executor.python.python"] = o.Python
	}
	switch stack {
	case "embedded":
		ports, err := freePorts(3)
		if err != nil {
			return nil, err
		}
		sets["plugins.messaging.driver"] = "codeq"
		sets["plugins.messaging.codeq.embedded"] = "true"
		sets["plugins.messaging.codeq.producer_addr"] = "127.0.0.1:" + strconv.Itoa(ports[0])
		sets["plugins.messaging.codeq.worker_addr"] = "127.0.0.1:" + strconv.Itoa(ports[1])
		sets["plugins.messaging.codeq.http_addr"] = "127.0.0.1:" + strconv.Itoa(ports[2])
		sets["plugins.events.driver"] = "embedded"
	case "redis":
		sets["plugins.messaging.driver"] = "redis"
		sets["plugins.messaging.redis.url"] = redisURL
		sets["plugins.messaging.redis.prefix"] = "bench"
		sets["plugins.events.driver"] = "redisstream"
		sets["plugins.events.redisstream.url"] = redisURL
		sets["plugins.events.redisstream.prefix"] = "bench"
	default:
		return nil, fmt.Errorf("unknown stack %q (use embedded or redis)", stack)
	}
	for k, v := range o.Sets { // after the stack's own keys: the caller's word wins
		sets[k] = v
	}
	return sets, nil
}

// startHost runs a role-all host in this process.
func startHost(ctx context.Context, sets map[string]string) (*server.Host, func(), error) {
	cfg, err := config.Load(config.Sources{Overrides: sets})
	if err != nil {
		return nil, nil, err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "bench-host", Level: hclog.Warn, Output: os.Stderr})
	h, err := server.New(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = h.Run(rctx); close(done) }()
	return h, func() { cancel(); <-done; h.Close() }, nil
}

// startRedis starts a private redis-server on a free loopback port, nothing kept on
// disk unless args (more redis-server options) say so.
func startRedis(dir string, args ...string) (string, func(), error) {
	ports, err := freePorts(1)
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(ports[0]), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	cmd.Args = append(cmd.Args, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server (install it, or pass --redis-url): %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() }
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "redis://" + addr + "/0", stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("redis-server on %s did not start", addr)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
