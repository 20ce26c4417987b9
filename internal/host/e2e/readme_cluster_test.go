package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
)

// TestReadmeCluster pastes README "Topologies → Three control nodes (raft)" into bash as
// written, with Redis's port and the nodes' API and raft addresses swapped for free ones:
// three nodes form a cluster, a follower forwards the deploy, and after the leader is
// stopped another node leads and the function still runs.
func TestReadmeCluster(t *testing.T) {
	block := readmeBlock(t, "**Three control nodes (raft).**")
	addrs := []string{"127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083", "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}
	redisPort := strconv.Itoa(testenv.FreePort(t))
	pairs := []string{"6379", redisPort}
	for _, a := range addrs {
		if !strings.Contains(block, a) {
			t.Fatalf("the cluster block no longer contains %s:\n%s", a, block)
		}
		pairs = append(pairs, a, freeAddr(t))
	}
	script := strings.NewReplacer(pairs...).Replace(block)
	redisURL := "redis://127.0.0.1:" + redisPort + "/0"
	out, errb, work, report := runReadmeBlock(t, script, redisPort,
		"SOUS_PLUGINS__MESSAGING__REDIS__URL="+redisURL, "SOUS_PLUGINS__EVENTS__REDISSTREAM__URL="+redisURL)
	for _, want := range []string{"node n2: follower", "deployed hello-python version 1",
		`{"hello":"raft","runtime":"python","env":"dev"}` + "\n", `{"hello":"failover","runtime":"python","env":"dev"}` + "\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q\n%s", want, report)
		}
	}
	if !regexp.MustCompile(`(?m)^n1 .*leader$`).MatchString(out) {
		t.Errorf("the first status does not show n1 leading\n%s", report)
	}
	if m := regexp.MustCompile(`(?m)^sous (deploy|invoke|cluster): .*`).FindString(errb); m != "" {
		t.Errorf("a command failed: %s\n%s", m, report)
	}
	if left := processesIn(work); len(left) > 0 {
		t.Errorf("processes left running after the block: %v\n%s", left, report)
	}
}
