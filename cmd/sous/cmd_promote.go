package main

import (
	"flag"
	"fmt"
)

func init() {
	register(&command{name: "promote", section: "client",
		usage: "<fn> [--from dev] [--to prod] [--version N]  point an alias at a version",
		run:   runPromote})
}

func runPromote(args []string) error {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	from := fs.String("from", "dev", "alias whose version is promoted (ignored with --version)")
	to := fs.String("to", "prod", "alias to set")
	version := fs.Int("version", 0, "promote this version number instead of --from's")
	cl, err := startCall(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	name, n := cl.args[0], *version
	if n == 0 {
		fn, err := cl.c.GetFunction(cl.ctx, name)
		if err != nil {
			return fmt.Errorf("promote %s: %w", name, err)
		}
		var ok bool
		if n, ok = fn.Aliases[*from]; !ok {
			return fmt.Errorf("promote %s: it has no %q alias (aliases: %s); use --from or --version", name, *from, aliases(fn.Aliases))
		}
	}
	fn, err := cl.c.SetAlias(cl.ctx, name, *to, n)
	if err != nil {
		return fmt.Errorf("promote %s: %w", name, err)
	}
	if cl.json() {
		return printJSON(fn)
	}
	fmt.Printf("%s %s -> version %d\n", name, *to, n)
	return nil
}
