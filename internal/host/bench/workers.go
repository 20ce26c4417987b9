package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/sous-run/sous/internal/host/client"
)

// workerScaling measures the rate at the largest client count with k separate worker
// processes (`sous serve --role worker`) behind a control-role host in this process,
// on Redis, for each k in o.WorkerProcs, each next to BullMQ with as many worker
// processes measured just before it (with the peer p). It needs the sous binary
// (o.SousBin).
func workerScaling(ctx context.Context, o *Options, rt, dir string, rep *Report, p *peer) error {
	clients := o.Clients[len(o.Clients)-1]
	for _, k := range o.WorkerProcs {
		beside := besideWorkers(ctx, o, p, k, clients)
		o.say("· redis/%s: %d requests from %d clients, %d worker processes", rt, o.Requests, clients, k)
		row, err := withWorkers(ctx, o, rt, filepath.Join(dir, "w"+strconv.Itoa(k)), k, clients)
		if err != nil {
			return fmt.Errorf("%d worker processes: %w", k, err)
		}
		row.Stack, row.Runtime, row.Beside = "redis", rt, beside
		rep.Workers[workersKey(rt, k)] = row
	}
	return nil
}

func workersKey(rt string, k int) string { return rt + "/" + strconv.Itoa(k) }

// withWorkers runs one control host and k worker processes sharing a fresh prefix.
func withWorkers(ctx context.Context, o *Options, rt, dir string, k, clients int) (Row, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sets, err := stackSets(o, "redis", filepath.Join(dir, "control"), o.RedisURL)
	if err != nil {
		return Row{}, err
	}
	prefix := "benchw" + strconv.Itoa(k)
	sets["role"], sets["auth.hs256_key"] = "control", hex.EncodeToString(key)
	sets["plugins.messaging.redis.prefix"], sets["plugins.events.redisstream.prefix"] = prefix, prefix
	h, stop, err := startHost(ctx, sets)
	if err != nil {
		return Row{}, err
	}
	defer stop()
	admin, err := h.Auth.Issue("bench", "default", []string{"admin"}, time.Hour)
	if err != nil {
		return Row{}, err
	}
	wtok, err := h.Auth.Issue("bench-worker", "default", []string{"worker"}, time.Hour)
	if err != nil {
		return Row{}, err
	}
	c := client.New(h.Addr, admin)
	c.HTTP = &http.Client{Transport: benchTransport(), Timeout: o.Timeout}
	name := "bench-" + rt
	if err := deployTrivial(ctx, c, name, rt, ""); err != nil {
		return Row{}, err
	}
	// A worker process that exits (a config it refuses, a crash) ends the row at once
	// with its error, instead of leaving the clients to time out one by one.
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	var procs []*exec.Cmd
	var exited []chan struct{}
	defer func() {
		for i, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
			<-exited[i]
		}
	}()
	for i := range k {
		ws := map[string]string{}
		for kk, v := range sets {
			ws[kk] = v
		}
		ws["role"], ws["data_dir"] = "worker", filepath.Join(dir, "worker"+strconv.Itoa(i))
		ws["worker.control_url"], ws["worker.token"] = "http://"+h.Addr, wtok
		args := []string{"serve"}
		for kk, v := range ws {
			args = append(args, "--set", kk+"="+v)
		}
		cmd := exec.CommandContext(ctx, o.SousBin, args...)
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return Row{}, fmt.Errorf("start worker: %w", err)
		}
		done := make(chan struct{})
		procs, exited = append(procs, cmd), append(exited, done)
		go func() {
			err := cmd.Wait()
			fail(fmt.Errorf("worker process %d exited: %v", i, err))
			close(done)
		}()
	}
	// Every worker's processes warmed, to a steady state (at least 8 runs a worker).
	if _, err := measure(ctx, c, name, "json", clients, max(o.steadyWarmup(), 8*k)); err != nil {
		return Row{}, orCause(ctx, err)
	}
	row, err := measure(ctx, c, name, "json", clients, o.Requests)
	return row, orCause(ctx, err)
}

// orCause is the reason ctx was cancelled when it was (a worker process exited), else err.
func orCause(ctx context.Context, err error) error {
	if context.Cause(ctx) != nil {
		return context.Cause(ctx)
	}
	return err
}
