package main

import (
	"fmt"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/server"
)

// consoleSession is how long the console's sign-in from `sous dev` lasts.
const consoleSession = 12 * time.Hour

// printSignInLink prints a one-time link that signs a browser in to the console
// with a fresh admin token of the dev tenant (the link works once, for 10 minutes).
func printSignInLink(h *server.Host) {
	tok, err := h.Auth.Issue("console", auth.DefaultTenant, []string{auth.ScopeAdmin}, consoleSession)
	if err != nil {
		say("no console sign-in link: %v", err)
		return
	}
	fmt.Printf("Console: http://%s%s\n  (a one-time sign-in link; it works once, for 10 minutes)\n\n", h.Addr, h.Console.SignInLink(tok))
}
