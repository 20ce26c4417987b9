package main

import (
	"flag"
	"fmt"

	"github.com/sous-run/sous/internal/host/client"
)

func init() {
	register(&command{name: "deploy", section: "client",
		usage: "<dir>  upload the function in dir (sous.yaml) as a new version",
		run:   runDeploy})
}

func runDeploy(args []string) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	env := fs.String("env", "", "alias to point at the new version (default: the manifest's env, else dev)")
	cl, err := startCall(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	m, req, err := client.PackDir(cl.args[0])
	if err != nil {
		return err
	}
	if *env != "" {
		req.Env = *env
	}
	v, err := cl.c.Deploy(cl.ctx, m.Name, req)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", m.Name, err)
	}
	if cl.json() {
		return printJSON(v)
	}
	if v.Unchanged {
		fmt.Printf("%s unchanged, still version %d (-> %s)\ndigest %s\n", v.Function, v.Number, v.Alias, v.Digest)
		return nil
	}
	fmt.Printf("deployed %s version %d (%d files, %d bytes) -> %s\ndigest %s\n", v.Function, v.Number, v.Files, v.Size, v.Alias, v.Digest)
	return nil
}
