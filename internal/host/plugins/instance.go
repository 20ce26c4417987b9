package plugins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/sdk"
)

// Restart policy: the first restart waits minBackoff, each failed or quick (within
// stableAfter) restart doubles the wait up to maxBackoff.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
	stableAfter  = 10 * time.Second
	pollExit     = 50 * time.Millisecond
	launchBudget = time.Minute
)

// Health probing: every healthEvery the watcher calls Health; a plugin that does not
// answer within healthTimeout healthFailures times in a row is hung and is killed
// (then restarted). A plugin that answers "unhealthy" is left alone: it is up, and
// its dependency is what is down. Variables so tests can shorten them.
var (
	healthEvery    = 10 * time.Second
	healthTimeout  = 5 * time.Second
	healthFailures = 3
)

// instance is one configured driver: its binary, its current process (if up) and the
// goroutine that restarts it.
type instance struct {
	name, kind, driver, path string
	configJSON               []byte
	dataDir                  string
	env                      []string // extra environment for the plugin process
	autoMTLS                 bool     // go-plugin mutual TLS on the connection (plugins.auto_mtls)
	log                      hclog.Logger
	stop                     <-chan struct{}
	wg                       *sync.WaitGroup

	mu       sync.Mutex
	conn     *sdk.Conn     // nil while down
	exited   chan struct{} // closed when conn's process has exited
	info     *sdk.Info
	down     string // why conn is nil
	restarts int
	everUp   bool // launched at least once (so a missing conn is a restart)
	backoff  time.Duration
	upSince  time.Time
	closed   bool
}

// launch starts the binary, checks Info against the configured kind and driver,
// configures it and starts watching it.
func (i *instance) launch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, launchBudget)
	defer cancel()
	c, err := sdk.Open(ctx, sdk.OpenOptions{Path: i.path, Kind: i.kind, Logger: i.log, Env: i.env, AutoMTLS: i.autoMTLS})
	if err != nil {
		return fmt.Errorf("%s driver %q: %w", i.kind, i.driver, err)
	}
	if c.Info.Driver != i.driver {
		c.Kill()
		return fmt.Errorf("plugin %s reports driver %q, expected %q (plugins.%s.driver)", i.path, c.Info.Driver, i.driver, i.kind)
	}
	if err := c.Configure(ctx, i.configJSON, i.dataDir); err != nil {
		c.Kill()
		return fmt.Errorf("plugin %s: plugins.%s.%s rejected: %s", i.path, i.kind, i.driver, grpcMessage(err))
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		c.Kill()
		return fmt.Errorf("plugin %s: manager closed", i.name)
	}
	info := sdk.InfoFromWire(c.Info)
	i.conn, i.info, i.down, i.upSince, i.everUp = c, &info, "", time.Now(), true
	i.exited = make(chan struct{})
	i.wg.Add(1)
	go i.watch(c, i.exited)
	return nil
}

// current returns the live connection, or Unavailable while the plugin is down.
func (i *instance) current() (*sdk.Conn, chan struct{}, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil, nil, status.Errorf(codes.Unavailable, "plugin %s is closed", i.name)
	}
	if i.conn == nil && !i.everUp {
		return nil, nil, status.Errorf(codes.Unavailable, "plugin %s is not running: %s", i.name, i.down)
	}
	if i.conn == nil {
		return nil, nil, status.Errorf(codes.Unavailable, "plugin %s is restarting: %s", i.name, i.down)
	}
	return i.conn, i.exited, nil
}

// watch waits for the process to exit, then restarts it with backoff until it is up
// again or the manager closes.
func (i *instance) watch(c *sdk.Conn, exited chan struct{}) {
	defer i.wg.Done()
	t := time.NewTicker(pollExit)
	defer t.Stop()
	h := time.NewTicker(healthEvery)
	defer h.Stop()
	why, fails := "exited", 0
	for !c.Exited() {
		select {
		case <-i.stop:
			return
		case <-t.C:
		case <-h.C:
			if fails = i.probe(c, fails); fails >= healthFailures {
				why = fmt.Sprintf("killed after %d health checks without an answer", fails)
				i.log.Error("plugin hung; killing it", "pid", c.Pid(), "failed_checks", fails)
				c.Kill()
			}
		}
	}
	close(exited)
	c.Kill() // reap the rest of its process group
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		return
	}
	i.down = fmt.Sprintf("%s (pid %d)", why, c.Pid())
	i.conn = nil
	if time.Since(i.upSince) > stableAfter || i.backoff == 0 {
		i.backoff = minBackoff
	}
	i.mu.Unlock()
	i.log.Error("plugin exited; restarting", "pid", c.Pid(), "backoff", i.backoff)
	i.restart()
}

func (i *instance) restart() {
	for {
		i.mu.Lock()
		wait := i.backoff
		i.backoff = min(i.backoff*2, maxBackoff)
		i.mu.Unlock()
		select {
		case <-i.stop:
			return
		case <-time.After(wait):
		}
		err := i.launch(context.Background())
		i.mu.Lock()
		if err == nil {
			i.restarts++
			n := i.restarts
			i.mu.Unlock()
			i.log.Info("plugin restarted", "restarts", n, "pid", i.pid())
			return
		}
		i.down = "restart failed: " + err.Error()
		closed := i.closed
		i.mu.Unlock()
		if closed {
			return
		}
		i.log.Error("plugin restart failed", "error", err)
	}
}

// probe calls Health and returns the count of consecutive unanswered checks.
func (i *instance) probe(c *sdk.Conn, fails int) int {
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	_, err := sdk.HealthCheck(ctx, c.Conn)
	if errors.Is(err, sdk.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return fails + 1
	}
	return 0
}

func (i *instance) pid() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.conn == nil {
		return 0
	}
	return i.conn.Pid()
}

// close ends the process (gracefully, then its whole process group) and stops restarts.
func (i *instance) close() {
	i.mu.Lock()
	i.closed = true
	c := i.conn
	i.conn = nil
	i.down = "closed"
	i.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// grpcMessage is the message of the gRPC status inside err (what the plugin said),
// or err's text.
func grpcMessage(err error) string {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Message()
	}
	return err.Error()
}
