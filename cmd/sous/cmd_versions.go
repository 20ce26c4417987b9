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
	register(&command{name: "versions", section: "client", usage: "<fn>  list a function's versions", run: runVersions})
}

func runVersions(args []string) error {
	cl, err := startCall(flag.NewFlagSet("versions", flag.ContinueOnError), args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	name := cl.args[0]
	vs, err := cl.c.ListVersions(cl.ctx, name)
	if err != nil {
		return fmt.Errorf("versions of %s: %w", name, err)
	}
	if cl.json() {
		return printJSON(vs)
	}
	fn, err := cl.c.GetFunction(cl.ctx, name)
	if err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	byVersion := map[int][]string{}
	for a, n := range fn.Aliases {
		byVersion[n] = append(byVersion[n], a)
	}
	rows := [][]string{{"VERSION", "ALIASES", "RUNTIME", "ENTRY", "FILES", "BYTES", "DIGEST", "CREATED"}}
	for _, v := range vs {
		al := byVersion[v.Number]
		sort.Strings(al)
		rows = append(rows, []string{fmt.Sprint(v.Number), strings.Join(al, ","), v.Runtime, v.Entry,
			fmt.Sprint(v.Files), fmt.Sprint(v.Size), short(v.Digest), v.CreatedAt.Local().Format(time.DateTime)})
	}
	return table(os.Stdout, rows)
}
