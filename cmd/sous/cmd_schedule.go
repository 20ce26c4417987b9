package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
)

func init() {
	register(&command{name: "schedule", section: "client", run: runSchedule,
		usage: "add <fn> <id> --cron EXPR [--data JSON] | ls [fn] | rm <fn> <id> | pause|resume <fn> <id>  cron schedules"})
}

func runSchedule(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: sous schedule add|ls|rm|pause|resume …", errUsage)
	}
	switch args[0] {
	case "add":
		return scheduleAdd(args[1:])
	case "ls":
		return scheduleLs(args[1:])
	case "rm":
		return scheduleRm(args[1:])
	case "pause", "resume":
		return schedulePause(args[0], args[1:])
	}
	return fmt.Errorf("%w: unknown schedule command %q; use add, ls, rm, pause or resume", errUsage, args[0])
}

func scheduleAdd(args []string) error {
	fs := flag.NewFlagSet("schedule add", flag.ContinueOnError)
	expr := fs.String("cron", "", "5 cron fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @every 5m …")
	data := fs.String("data", "", "input of every run as JSON, or @file (default null)")
	env := fs.String("env", "", "alias to run (default dev)")
	tz := fs.String("timezone", "", "IANA timezone of the cron fields (default UTC)")
	catchup := fs.String("catchup", "", "ticks missed while no host ran: none, or one (the latest fires once; default)")
	paused := fs.Bool("paused", false, "create it paused")
	cl, err := startCall(fs, args, 2, 2)
	if err != nil {
		return err
	}
	defer cl.cancel()
	req := &wire.ScheduleRequest{Cron: *expr, Env: *env, Timezone: *tz, Catchup: *catchup}
	if *data != "" {
		in, err := readData(*data)
		if err != nil {
			return err
		}
		req.Input = json.RawMessage(in)
	}
	if *paused {
		off := false
		req.Enabled = &off
	}
	sc, err := cl.c.PutSchedule(cl.ctx, cl.args[0], cl.args[1], req)
	if err != nil {
		return err
	}
	return printSchedules(cl, []*wire.Schedule{sc})
}

func scheduleLs(args []string) error {
	cl, err := startCall(flag.NewFlagSet("schedule ls", flag.ContinueOnError), args, 0, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	fn := ""
	if len(cl.args) == 1 {
		fn = cl.args[0]
	}
	list, err := cl.c.ListSchedules(cl.ctx, fn)
	if err != nil {
		return err
	}
	return printSchedules(cl, list)
}

func scheduleRm(args []string) error {
	cl, err := startCall(flag.NewFlagSet("schedule rm", flag.ContinueOnError), args, 2, 2)
	if err != nil {
		return err
	}
	defer cl.cancel()
	return cl.c.DeleteSchedule(cl.ctx, cl.args[0], cl.args[1])
}

// schedulePause pauses (or resumes) a schedule, keeping the rest of it.
func schedulePause(verb string, args []string) error {
	cl, err := startCall(flag.NewFlagSet("schedule "+verb, flag.ContinueOnError), args, 2, 2)
	if err != nil {
		return err
	}
	defer cl.cancel()
	sc, err := cl.c.GetSchedule(cl.ctx, cl.args[0], cl.args[1])
	if err != nil {
		return err
	}
	on := verb == "resume"
	sc, err = cl.c.PutSchedule(cl.ctx, cl.args[0], cl.args[1], &wire.ScheduleRequest{Cron: sc.Cron, Input: sc.Input,
		Env: sc.Env, Timezone: sc.Timezone, Catchup: sc.Catchup, Enabled: &on})
	if err != nil {
		return err
	}
	return printSchedules(cl, []*wire.Schedule{sc})
}

func printSchedules(cl *call, list []*wire.Schedule) error {
	if cl.json() {
		return printJSON(list)
	}
	rows := [][]string{{"FUNCTION", "ID", "CRON", "TZ", "ENV", "STATE", "NEXT RUN", "LAST RUN"}}
	for _, s := range list {
		state, next, last := "active", "-", "-"
		if !s.Enabled {
			state = "paused"
		}
		if s.NextRun != nil {
			next = s.NextRun.Local().Format(time.DateTime)
		}
		if s.LastTick != nil {
			last = s.LastTick.Local().Format(time.DateTime) + " " + s.LastInvocation
		}
		if s.LastError != "" {
			last += " (error: " + s.LastError + ")"
		}
		rows = append(rows, []string{s.Function, s.ID, s.Cron, s.Timezone, s.Env, state, next, last})
	}
	return table(os.Stdout, rows)
}
