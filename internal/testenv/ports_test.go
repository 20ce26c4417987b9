package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestFreePortNeverRepeatsWithinAProcess: ports held by one test are not handed out again.
func TestFreePortNeverRepeatsWithinAProcess(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 200; i++ {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		if p < portLow || p > portHigh {
			t.Fatalf("port %d outside %d-%d", p, portLow, portHigh)
		}
		seen[p] = true
	}
}

// TestFreePortIsHeldAgainstOtherProcesses: another test process (a parallel package)
// cannot reserve a port this one holds, and can once the holder's test ended.
func TestFreePortIsHeldAgainstOtherProcesses(t *testing.T) {
	var port int
	t.Run("hold", func(t *testing.T) {
		port = FreePort(t)
		if got := tryInChild(t, port); got != "refused" {
			t.Fatalf("a second process reserving held port %d: %s, want refused", port, got)
		}
	})
	if got := tryInChild(t, port); got != "reserved" {
		t.Fatalf("a second process reserving port %d after the holder's test ended: %s, want reserved", port, got)
	}
}

// tryInChild runs this test binary as a separate process that tries to lock port.
func tryInChild(t *testing.T, port int) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildTriesPort$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTENV_TRY_PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, w := range []string{"refused", "reserved"} {
		if strings.Contains(string(out), "port-result:"+w) {
			return w
		}
	}
	return fmt.Sprintf("no answer in %q", out)
}

// TestChildTriesPort is the child of TestFreePortIsHeldAgainstOtherProcesses.
func TestChildTriesPort(t *testing.T) {
	p, err := strconv.Atoi(os.Getenv("TESTENV_TRY_PORT"))
	if err != nil {
		t.Skip("only run as a child process")
	}
	if f, ok := lockPort(p); ok {
		f.Close()
		fmt.Println("port-result:reserved")
		return
	}
	fmt.Println("port-result:refused")
}
