package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

func init() {
	register(&command{name: "ls", section: "client", usage: "list your functions", run: runLs})
}

func runLs(args []string) error {
	cl, err := startCall(flag.NewFlagSet("ls", flag.ContinueOnError), args, 0, 0)
	if err != nil {
		return err
	}
	defer cl.cancel()
	fns, err := cl.c.ListFunctions(cl.ctx)
	if err != nil {
		return fmt.Errorf("list functions: %w", err)
	}
	if cl.json() {
		return printJSON(fns)
	}
	rows := [][]string{{"NAME", "LATEST", "ALIASES", "UPDATED"}}
	for _, f := range fns {
		rows = append(rows, []string{f.Name, fmt.Sprint(f.Latest), aliases(f.Aliases), f.UpdatedAt.Local().Format(time.DateTime)})
	}
	return table(os.Stdout, rows)
}

// aliases renders {"dev":3,"prod":2} as "dev=3 prod=2".
func aliases(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for a, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", a, n))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
