package bench

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/stat's CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// machineStat is what /proc/stat says the whole machine has spent since boot: busy
// CPU time (user, nice, system, irq and softirq; not idle, iowait or steal) and
// context switches. Two of them bracket a timed phase; every process on the machine
// is in the difference, the load generator and the other peers' processes too.
type machineStat struct {
	busy     time.Duration
	switches int64
	ok       bool
}

// readMachineStat reads /proc/stat; ok is false where there is none.
func readMachineStat() machineStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineStat{}
	}
	return parseMachineStat(string(b))
}

// parseMachineStat reads the "cpu" and "ctxt" lines of a /proc/stat text.
func parseMachineStat(text string) machineStat {
	var m machineStat
	var cpu, ctxt bool
	for line := range strings.Lines(text) { // not a Scanner: "intr" can outgrow its line limit
		f := strings.Fields(line)
		switch {
		case len(f) >= 8 && f[0] == "cpu":
			var ticks int64
			for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err != nil {
					return machineStat{}
				}
				ticks += n
			}
			m.busy, cpu = time.Duration(ticks)*time.Second/userHZ, true
		case len(f) == 2 && f[0] == "ctxt":
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return machineStat{}
			}
			m.switches, ctxt = n, true
		}
	}
	m.ok = cpu && ctxt
	return m
}

// perInvocation sets row's machine cost per invocation from the stats taken before
// and after its timed phase of n invocations (left zero when either is missing).
func perInvocation(row *Row, before, after machineStat, n int) {
	if !before.ok || !after.ok || n <= 0 {
		return
	}
	row.CPU = (after.busy - before.busy) / time.Duration(n)
	row.Switches = float64(after.switches-before.switches) / float64(n)
}

// printMachine shows what the whole machine spent per invocation of each row (CPU
// time and context switches, every process counted) next to BullMQ's with as many
// clients: on a machine where a wake-up costs more than the work it carries, these
// two explain the rates better than any one process's profile.
func (r *Report) printMachine(w io.Writer) {
	if len(r.Rows) == 0 || r.Rows[0].Switches == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| machine cost per invocation (all processes, timed phase) | clients | CPU | context switches | CPU / BullMQ | switches / BullMQ |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, n := range sortedClients(r.Peer) {
		p := r.Peer[peerKey(n)]
		fmt.Fprintf(w, "| BullMQ 5 | %d | %s | %.1f | 1× | 1× |\n", n, ms(p.CPU), p.Switches)
	}
	for _, row := range r.Rows {
		p := r.peerOf(row)
		fmt.Fprintf(w, "| %s/%s/%s | %d | %s | %.1f | %s | %s |\n", row.Stack, row.Runtime, row.Mode, row.Clients,
			ms(row.CPU), row.Switches, times(float64(row.CPU), float64(p.CPU)), times(row.Switches, p.Switches))
	}
}
