package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/sdk/envelope"
)

func init() {
	register(&command{name: "invoke", section: "client", usage: "<fn> [--data JSON|@file] [--env E|--version N] [--stream|--async [--callback URL]]  run a function", run: runInvoke})
}

func runInvoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	data := fs.String("data", "", "input as JSON, or @file to read it from a file (default null)")
	env := fs.String("env", "", "alias (environment) to run, e.g. dev or prod (default dev)")
	version := fs.Int("version", 0, "run this version number instead of an alias")
	stream := fs.Bool("stream", false, "print chunks as they arrive (dev logs go to stderr)")
	async := fs.Bool("async", false, "queue the invocation and print its id")
	idem := fs.String("idempotency-key", "", "send Idempotency-Key: the same key returns the same invocation for 24 h")
	callback := fs.String("callback", "", "with --async: POST the signed final record to this URL (Sous-Callback-Url)")
	cl, err := startCall(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer cl.cancel()
	if *stream && *async {
		return fmt.Errorf("%w: --stream and --async exclude each other", errUsage)
	}
	if *callback != "" && !*async {
		return fmt.Errorf("%w: --callback needs --async (a caller who waits has the result)", errUsage)
	}
	input, err := readData(*data)
	if err != nil {
		return err
	}
	name, opts := cl.args[0], client.InvokeOptions{Env: *env, Version: *version, IdempotencyKey: *idem, CallbackURL: *callback}
	switch {
	case *async:
		id, err := cl.c.InvokeAsync(cl.ctx, name, input, opts)
		if err != nil {
			return err
		}
		if cl.json() {
			return printJSON(map[string]string{"invocation_id": id})
		}
		fmt.Println(id)
		return nil
	case *stream:
		return streamEvents(cl, func(fn func(client.Event) error) error {
			return cl.c.InvokeStream(cl.ctx, name, input, opts, fn)
		})
	}
	res, err := cl.c.Invoke(cl.ctx, name, input, opts)
	if err != nil {
		return err
	}
	if cl.json() {
		return printJSON(res)
	}
	for _, l := range res.Logs {
		fmt.Fprintf(os.Stderr, "[%s] %s\n", l.Stream, strings.TrimRight(l.Text, "\n"))
	}
	if res.Error != nil {
		return fmt.Errorf("invocation %s %s (%s): %s", res.InvocationID, res.Status, res.Error.Kind, res.Error.Message)
	}
	for _, c := range res.Chunks {
		fmt.Println(chunkText(c))
	}
	fmt.Println(string(res.Output))
	return nil
}

// readData returns the --data value as JSON bytes (nil for none).
func readData(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	b := []byte(v)
	if strings.HasPrefix(v, "@") {
		var err error
		if b, err = os.ReadFile(v[1:]); err != nil {
			return nil, fmt.Errorf("read --data file: %w", err)
		}
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%w: --data must be JSON (quote strings: --data '\"hi\"')", errUsage)
	}
	return b, nil
}

// streamEvents prints events as they arrive: chunks to stdout, dev logs to stderr,
// the result last; --output json prints one envelope per line instead.
func streamEvents(cl *call, follow func(func(client.Event) error) error) error {
	var failed *envelope.Envelope
	err := follow(func(ev client.Event) error {
		e := ev.Envelope
		if cl.json() {
			b, _ := json.Marshal(e)
			fmt.Println(string(b))
			if e.Type == envelope.TypeError {
				failed = e
			}
			return nil
		}
		switch e.Type {
		case envelope.TypeLog:
			fmt.Fprintf(os.Stderr, "[%s] %s\n", e.Stream, strings.TrimRight(e.Text, "\n"))
		case envelope.TypeChunk:
			fmt.Print(chunkText(e.Data))
		case envelope.TypeStatus:
			if e.Attempt > 1 {
				fmt.Fprintf(os.Stderr, "\n[retry] attempt %d on %s\n", e.Attempt, e.Worker)
			}
		case envelope.TypeResult:
			fmt.Println()
			fmt.Println(string(e.Output))
		case envelope.TypeError:
			failed = e
		}
		return nil
	})
	if err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("invocation failed (%s): %s", failed.Kind, failed.Message)
	}
	return nil
}

// chunkText renders a chunk: strings as they are, other JSON as JSON.
func chunkText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
