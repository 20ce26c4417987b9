package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/mcp"
)

func init() {
	register(&command{name: "mcp", section: "client",
		usage: "[--api addr] [--token t]  serve MCP over stdio for an agent (tools act through the host's API)",
		run:   runMCP})
}

// runMCP serves the MCP tools on stdin/stdout. It finds the host and token like
// every other client command; stdout carries only the protocol.
func runMCP(args []string) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	var cf clientFlags
	cf.add(fs)
	if _, err := parseArgs(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := mcp.New(func(context.Context, *sdkmcp.CallToolRequest) (*client.Client, error) { return c, nil })
	return srv.Run(ctx, &sdkmcp.StdioTransport{})
}
