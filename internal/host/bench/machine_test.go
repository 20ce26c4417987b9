package bench

import (
	"testing"
	"time"
)

const statBefore = `cpu  1000 20 300 90000 50 7 3 400 0 0
cpu0 500 10 150 45000 25 4 2 200 0 0
intr 123 0 0
ctxt 500000
btime 1700000000
`

const statAfter = `cpu  1100 20 330 90100 60 9 11 900 0 0
cpu0 550 10 165 45050 30 5 6 450 0 0
ctxt 503000
`

// TestMachineCostPerInvocation: busy time is user, nice, system, irq and softirq
// (idle, iowait and steal are not), in USER_HZ ticks; switches are ctxt; both are
// divided by the invocations of the phase.
func TestMachineCostPerInvocation(t *testing.T) {
	var row Row
	perInvocation(&row, parseMachineStat(statBefore), parseMachineStat(statAfter), 100)
	// busy ticks: (1100+20+330+9+11) - (1000+20+300+7+3) = 140 → 1.4 s over 100
	if row.CPU != 14*time.Millisecond || row.Switches != 30 {
		t.Fatalf("CPU %v, switches %v; want 14ms and 30", row.CPU, row.Switches)
	}
	var none Row
	perInvocation(&none, parseMachineStat("cpu 1 2\n"), parseMachineStat(statAfter), 100)
	if none.CPU != 0 || none.Switches != 0 {
		t.Fatalf("a stat without its lines gave a cost: %+v", none)
	}
	if m := readMachineStat(); !m.ok || m.switches <= 0 || m.busy <= 0 {
		t.Fatalf("this machine's /proc/stat: %+v", m)
	}
}
