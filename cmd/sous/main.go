// Command sous is the Sous host: the server roles (serve, dev) and the CLI.
// Each subcommand lives in its own cmd_<name>.go file and registers itself in init.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/sous-run/sous/sdk"
)

// command is one `sous <name>` subcommand.
type command struct {
	name    string
	usage   string // one line: arguments and what it does
	run     func(args []string) error
	section string // "server" or "client", for help grouping
}

var commands = map[string]*command{}

// register adds a subcommand; called from init in cmd_*.go files.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("sous: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error caused by bad arguments (exit status 2).
var errUsage = errors.New("usage")

func main() {
	sdk.NotDumpable()
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		printHelp()
		return
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "sous: unknown command %q\n\n", os.Args[1])
		printHelp()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "sous %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func printHelp() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("sous — run Bun and Python functions over HTTP\n\nUsage: sous <command> [flags]\n")
	for _, sec := range []struct{ key, title string }{{"server", "Run a host"}, {"client", "Use a host"}} {
		fmt.Fprintf(&b, "\n%s:\n", sec.title)
		for _, n := range names {
			if c := commands[n]; c.section == sec.key || (sec.key == "client" && c.section != "server") {
				fmt.Fprintf(&b, "  %-10s %s\n", n, c.usage)
			}
		}
	}
	b.WriteString("\nRun `sous <command> -h` for a command's flags.\n")
	fmt.Print(b.String())
}
