package plugins

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/sous-run/sous/internal/host/config"
)

// hostEnv makes the test binary act as a plugin host (see TestMain): it loads the
// --set pairs in the variable, starts the manager, prints the pids of every plugin
// and plugin child as one JSON line, and closes the manager on SIGTERM/SIGINT.
const hostEnv = "SOUS_PLUGINS_TEST_HOST"

func TestMain(m *testing.M) {
	if spec := os.Getenv(hostEnv); spec != "" {
		os.Exit(runHost(spec))
	}
	os.Exit(m.Run())
}

func runHost(spec string) int {
	set := map[string]string{}
	for _, kv := range strings.Split(spec, ";") {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}
	cfg, err := config.Load(config.Sources{Overrides: set})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	m := New(cfg, testLogger())
	defer m.Close()
	if err := m.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var pids []int
	for _, s := range m.Status(ctx) {
		pids = append(pids, s.Pid)
		if c := s.Details["child"]; c != "" {
			var n int
			fmt.Sscan(c, &n)
			pids = append(pids, n)
		}
	}
	b, _ := json.Marshal(pids)
	fmt.Println(string(b))
	<-ctx.Done()
	return 0
}

// After SIGTERM/SIGINT the host closes the manager, which kills each plugin's process
// group: the plugins' children go too although nothing else would end them. After
// SIGKILL nothing runs in the host: Pdeathsig kills the plugins, and a plugin's child
// dies only if it has Pdeathsig too (as executor harnesses must).
func TestNoPluginSurvivesTheHost(t *testing.T) {
	dir := pluginDir(t, "messaging-with-child", "executor-with-child", "messaging-with-safe-child", "executor-with-safe-child")
	for _, tc := range []struct {
		sig    syscall.Signal
		driver string
	}{{syscall.SIGTERM, "with-child"}, {syscall.SIGINT, "with-child"}, {syscall.SIGKILL, "with-safe-child"}} {
		sig := tc.sig
		spec := strings.Join([]string{"plugins.dir=" + dir, "plugins.messaging.driver=" + tc.driver, "plugins.executor.drivers=" + tc.driver,
			"plugins.events.driver=memory", "plugins.events.memory.path=" + exampleEvents(t), "data_dir=" + t.TempDir()}, ";")
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), hostEnv+"="+spec)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("host printed no pids: %v", err)
			}
			var pids []int
			if err := json.Unmarshal([]byte(line), &pids); err != nil || len(pids) != 5 {
				t.Fatalf("pids line %q: %v", line, err)
			}
			for _, p := range pids {
				if !alive(p) {
					t.Fatalf("pid %d not running before the signal", p)
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			waitFor(t, fmt.Sprintf("pids %v to be gone after %v", pids, sig), func() bool {
				for _, p := range pids {
					if alive(p) {
						return false
					}
				}
				return true
			})
		})
	}
}
