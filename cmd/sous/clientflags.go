package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sous-run/sous/internal/host/client"
)

// clientFlags are the flags every API-calling command shares.
type clientFlags struct {
	api, token, dataDir, output string
}

// add registers --api, --token, --data-dir and --output on fs.
func (c *clientFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&c.api, "api", "", "API address (default $SOUS_API, else <data-dir>/api.addr)")
	fs.StringVar(&c.token, "token", "", "bearer token (default $SOUS_TOKEN, else <data-dir>/auth/admin.token)")
	fs.StringVar(&c.dataDir, "data-dir", "", "a dev host's data directory (default: the nearest .sous with a running host in this or a parent directory, else the one `sous dev` last recorded)")
	fs.StringVar(&c.output, "output", "table", "output format: table or json")
}

// client builds the API client after checking --output.
func (c *clientFlags) client() (*client.Client, error) {
	if c.output != "table" && c.output != "json" {
		return nil, fmt.Errorf("%w: --output must be table or json, not %q", errUsage, c.output)
	}
	addr, token, err := client.Resolve(client.Settings{API: c.api, Token: c.token, DataDir: c.dataDir})
	if err != nil {
		return nil, err
	}
	return client.New(addr, token), nil
}

// json reports whether the user asked for --output json.
func (c *clientFlags) json() bool { return c.output == "json" }

// parseArgs parses flags that may come before, between or after positional
// arguments and checks the positional count is within [min, max].
func parseArgs(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	fs.SetOutput(os.Stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < min || len(pos) > max {
		return nil, fmt.Errorf("%w: %s", errUsage, argProblem(fs.Name(), pos, min, max))
	}
	return pos, nil
}

// argProblem says which positional argument is missing or extra, with the
// command's usage line (its <names> come from the registered usage).
func argProblem(name string, pos []string, min, max int) string {
	usage := ""
	if c, ok := commands[strings.Fields(name)[0]]; ok {
		usage, _, _ = strings.Cut(c.usage, "  ")
	}
	names := argNameRe.FindAllString(usage, -1)
	var what string
	switch {
	case len(pos) > max:
		what = fmt.Sprintf("unexpected argument %q", pos[max])
	case len(pos) < len(names):
		what = "missing " + names[len(pos)]
	default:
		what = fmt.Sprintf("expected at least %d arguments, got %d", min, len(pos))
	}
	return fmt.Sprintf("%s (sous %s %s; see `sous %s -h`)", what, name, usage, name)
}

var argNameRe = regexp.MustCompile(`<[^>]+>`)

// call is one API-calling command invocation: its parsed positional
// arguments, the client and a context bounding the whole call.
type call struct {
	clientFlags
	args   []string
	c      *client.Client
	ctx    context.Context
	cancel context.CancelFunc
}

// startCall adds the shared client flags to fs (after the command's own),
// parses args (between min and max positional arguments) and builds the
// client. The caller defers cl.cancel().
func startCall(fs *flag.FlagSet, args []string, min, max int) (*call, error) {
	cl := &call{}
	cl.add(fs)
	pos, err := parseArgs(fs, args, min, max)
	if err != nil {
		return nil, err
	}
	if cl.c, err = cl.client(); err != nil {
		return nil, err
	}
	cl.args = pos
	cl.ctx, cl.cancel = context.WithTimeout(context.Background(), 5*time.Minute)
	return cl, nil
}

// printJSON writes v indented to stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned rows (the first is the header) to w.
func table(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		for i, cell := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// short abbreviates a digest for tables.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
