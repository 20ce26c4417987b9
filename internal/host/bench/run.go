package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/redis/go-redis/v9"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/server"
	"github.com/sous-run/sous/sdk"
)

// trivial functions: echo the input.
var trivial = map[string][2]string{
	"bun":    {"index.js", "export default (input) => input;\n"},
	"python": {"main.py", "def handler(input, ctx):\n    return input\n"},
}

// runStack measures one driver set on a host of its own; it points host at that host,
// which is closed when runStack returns. With the peer p, BullMQ is measured just
// before each row (besidePeer), then with g the BullMQ with Sous's guarantees.
func runStack(ctx context.Context, o *Options, stack string, rep *Report, host *weak.Pointer[server.Host], p, g *peer) error {
	dir, err := os.MkdirTemp("", "sous-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	redisURL := o.RedisURL
	sets, err := stackSets(o, stack, dir+"/data", redisURL)
	if err != nil {
		return err
	}
	o.say("· starting a host with the %s drivers", stack)
	h, stop, err := startHost(ctx, sets)
	if err != nil {
		return err
	}
	defer stop()
	*host = weak.Make(h)
	tok, err := h.Auth.Issue("bench", "default", []string{"admin"}, time.Hour)
	if err != nil {
		return err
	}
	c := client.New(h.Addr, tok)
	c.HTTP = &http.Client{Transport: benchTransport(), Timeout: o.Timeout}
	if stack == "redis" {
		if rep.Floors["redis LPUSH/BRPOP"], err = redisFloor(ctx, redisURL, 2000); err != nil {
			return err
		}
	}
	for _, rt := range o.Runtimes {
		name := "bench-" + rt
		if err := deployTrivial(ctx, c, name, rt, ""); err != nil {
			return err
		}
		o.say("· %s/%s: warming up", stack, rt)
		if _, err := measure(ctx, c, name, "json", 1, o.Warmup); err != nil {
			return err
		}
		if top := o.Clients[len(o.Clients)-1]; o.Steady > 0 {
			o.say("· %s/%s: %d invocations from %d clients to a steady state", stack, rt, o.Steady, top)
			if _, err := measure(ctx, c, name, "json", top, o.Steady); err != nil {
				return err
			}
		}
		floor, pipe, err := harnessFloor(ctx, o, h, c, name, rt, 500)
		if err != nil {
			return err
		}
		rep.Floors[floorKey(stack, rt)] = floor
		rep.PipeBeside[floorKey(stack, rt)] = pipe
		for _, mode := range o.Modes {
			for _, n := range o.Clients {
				beside := besidePeer(ctx, o, p, n, o.Requests, o.steadyWarmup(), 0)
				guarded := besidePeer(ctx, o, g, n, o.Requests, o.steadyWarmup(), 0)
				o.say("· %s/%s/%s: %d requests from %d clients", stack, rt, mode, o.Requests, n)
				row, err := measure(ctx, c, name, mode, n, o.Requests)
				if err != nil {
					return err
				}
				row.Stack, row.Runtime, row.Beside, row.BesideGuarded = stack, rt, beside, guarded
				o.sayErrors(row)
				rep.Rows = append(rep.Rows, row)
				if mode == "json" && n == o.Clients[len(o.Clients)-1] {
					rep.Mem[stack+"/"+rt] = sampleMemory() // the warm processes of this run are still alive
				}
			}
		}
	}
	// The 1 MiB rows and cold starts come after every runtime's rows, so the memory
	// sampled at 32 clients does not hold what a 1 MiB row left in the plugins.
	for _, rt := range o.Runtimes {
		name := "bench-" + rt
		if o.BigBytes > 0 {
			beside := besidePeer(ctx, o, p, 1, o.BigRequests, bigWarmup, o.BigBytes)
			o.say("· %s/%s: %d requests with a %d-byte input and output", stack, rt, o.BigRequests, o.BigBytes)
			row, err := measureInput(ctx, c, name, "json", 1, o.BigRequests, bigInput(o.BigBytes))
			if err != nil {
				return fmt.Errorf("large input: %w", err)
			}
			row.Stack, row.Runtime, row.Beside = stack, rt, beside
			o.sayErrors(row)
			rep.Big[stack+"/"+rt] = row
		}
		cold, err := coldStart(ctx, c, name+"-cold", rt)
		if err != nil {
			return err
		}
		rep.Cold[stack+"/"+rt] = cold
	}
	if stack == "redis" && o.SousBin != "" {
		for _, rt := range o.Runtimes {
			if err := workerScaling(ctx, o, rt, dir, rep, p); err != nil {
				return err
			}
		}
	}
	if stack == "embedded" && o.SlowReaders > 0 {
		if rep.Memory, err = slowReaders(ctx, o, h.Addr, c, tok); err != nil {
			return err
		}
	}
	return nil
}

// deployTrivial deploys the echo function; tag makes a new digest (cold start).
func deployTrivial(ctx context.Context, c *client.Client, name, rt, tag string) error {
	f := trivial[rt]
	req := &wire.DeployRequest{Runtime: rt, Entry: f[0], Files: map[string]string{f[0]: base64.StdEncoding.EncodeToString([]byte(f[1]))}}
	if tag != "" {
		req.Vars = map[string]string{"BENCH_TAG": tag}
	}
	if _, err := c.Deploy(ctx, name, req); err != nil {
		return fmt.Errorf("deploy %s: %w", name, err)
	}
	return nil
}

// measure runs total invocations from n concurrent clients.
func measure(ctx context.Context, c *client.Client, name, mode string, n, total int) (Row, error) {
	return measureInput(ctx, c, name, mode, n, total, []byte(`{"ping":1}`))
}

// bigInput is a JSON object of size bytes: {"s":"xxx…"}, echoed back as the output.
func bigInput(size int) []byte {
	return []byte(`{"s":"` + strings.Repeat("x", max(0, size-8)) + `"}`)
}

// measureInput is measure with a given input.
func measureInput(ctx context.Context, c *client.Client, name, mode string, n, total int, input []byte) (Row, error) {
	lat := make([]time.Duration, 0, total)
	var mu sync.Mutex
	var next, errs atomic.Int64
	var firstErr error
	before := readMachineStat()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				t0 := time.Now()
				err := invokeOnce(ctx, c, name, mode, input)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs.Add(1)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	row := Row{Mode: mode, Clients: n, N: len(lat), Errors: int(errs.Load()), PerSec: float64(len(lat)) / el.Seconds()}
	perInvocation(&row, before, readMachineStat(), total)
	row.P50, row.P99 = percentiles(lat)
	if firstErr != nil {
		row.FirstError = firstErr.Error()
	}
	if len(lat) == 0 && firstErr != nil {
		return row, fmt.Errorf("every invocation failed: %w", firstErr)
	}
	return row, nil
}

func invokeOnce(ctx context.Context, c *client.Client, name, mode string, input []byte) error {
	if mode == "sse" {
		return c.InvokeStream(ctx, name, input, client.InvokeOptions{}, func(client.Event) error { return nil })
	}
	res, err := c.Invoke(ctx, name, input, client.InvokeOptions{})
	if err == nil && res.Status != "succeeded" {
		err = fmt.Errorf("invocation %s %s", res.InvocationID, res.Status)
	}
	return err
}

// harnessFloor is the executor-only warm round trip: host → executor plugin → harness
// → back, the same Run the worker makes, without queue, events or HTTP. Each run is
// followed by a raw pipe round trip to a warm plain process of the runtime (pipe), so
// the two see the same machine: here a process woken on an idle CPU of a virtual
// machine costs tens of µs more than one woken on a busy one, and a pipe loop alone
// settles on one CPU where a run through three processes cannot.
func harnessFloor(ctx context.Context, o *Options, h *server.Host, c *client.Client, name, rt string, n int) (floor, pipe time.Duration, err error) {
	fn, err := c.GetFunction(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	vs, err := c.ListVersions(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	digest := ""
	for _, v := range vs {
		if v.Number == fn.Latest {
			digest = v.Digest
		}
	}
	ex, err := h.Plugins.Executor(rt)
	if err != nil {
		return 0, 0, err
	}
	e, err := startEcho(o, rt)
	if err != nil {
		return 0, 0, err
	}
	defer e.stop()
	runs, pipes := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n + floorWarmup { // warmed up as the pipe floor is
		t0 := time.Now()
		req := sdk.RunRequest{InvocationID: "floor-" + strconv.Itoa(i), Digest: digest, Input: echoLine[:len(echoLine)-1], Env: "prod", Tenant: "default"}
		if err := ex.Run(ctx, req, func([]byte) error { return nil }); err != nil {
			return 0, 0, fmt.Errorf("executor floor: %w", err)
		}
		d := time.Since(t0)
		p, err := e.roundTrip()
		if err != nil {
			return 0, 0, err
		}
		if i >= floorWarmup {
			runs, pipes = append(runs, d), append(pipes, p)
		}
	}
	floor, _ = percentiles(runs)
	pipe, _ = percentiles(pipes)
	return floor, pipe, nil
}

// redisFloor is a raw go-redis LPUSH + BRPOP round trip.
func redisFloor(ctx context.Context, url string, n int) (time.Duration, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return 0, err
	}
	r := redis.NewClient(opt)
	defer r.Close()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := r.LPush(ctx, "bench:floor", "x").Err(); err != nil {
			return 0, fmt.Errorf("redis floor: %w", err)
		}
		if err := r.BRPop(ctx, time.Second, "bench:floor").Err(); err != nil {
			return 0, fmt.Errorf("redis floor: %w", err)
		}
		lat = append(lat, time.Since(t0))
	}
	p50, _ := percentiles(lat)
	return p50, nil
}

// coldStart deploys a new digest and times its first invocation.
func coldStart(ctx context.Context, c *client.Client, name, rt string) (time.Duration, error) {
	if err := deployTrivial(ctx, c, name, rt, strconv.FormatInt(time.Now().UnixNano(), 36)); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := invokeOnce(ctx, c, name, "json", []byte(`{}`)); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// sayErrors names a row's failed invocations and the first one's error.
func (o *Options) sayErrors(row Row) {
	if row.Errors > 0 {
		o.say("  %d failed; the first: %s", row.Errors, row.FirstError)
	}
}

// benchTransport is the client's transport with room for every client's connection.
func benchTransport() *http.Transport {
	t := client.NewTransport()
	t.MaxIdleConnsPerHost, t.MaxConnsPerHost = 256, 256
	return t
}
