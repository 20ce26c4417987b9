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
	fs := flag.NewFlagSet("versions", flag.ContinueOnError)
	var cf clientFlags
	cf.add(fs)
	pos, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	cx, cancel := ctx()
	defer cancel()
	vs, err := c.ListVersions(cx, pos[0])
	if err != nil {
		return fmt.Errorf("versions of %s: %w", pos[0], err)
	}
	if cf.json() {
		return printJSON(vs)
	}
	fn, err := c.GetFunction(cx, pos[0])
	if err != nil {
		return fmt.Errorf("function %s: %w", pos[0], err)
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
