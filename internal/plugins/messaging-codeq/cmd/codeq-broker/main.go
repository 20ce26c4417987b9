// Command codeq-broker runs the embedded codeQ-compatible broker on its own, e.g. for a
// host pair sharing one broker or for crash tests:
//
//	codeq-broker -data /var/lib/sous/codeq -jwt-key-file key \
//	    -producer 127.0.0.1:9092 -worker 127.0.0.1:9091 -http 127.0.0.1:9093
//
// It logs to stderr and stops on SIGINT/SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/broker"
	"github.com/sous-run/sous/internal/plugins/messaging-codeq/token"
)

func main() {
	var cfg broker.Config
	var keyFile, jwks string
	flag.StringVar(&cfg.DataDir, "data", "", "Pebble directory (required)")
	flag.StringVar(&cfg.ProducerAddr, "producer", "127.0.0.1:9092", "producer stream address")
	flag.StringVar(&cfg.WorkerAddr, "worker", "127.0.0.1:9091", "worker stream address")
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:9093", "REST address")
	flag.StringVar(&keyFile, "jwt-key-file", "", "file holding the HS256 shared key")
	flag.StringVar(&jwks, "jwks-url", "", "JWKS URL for RS256 tokens")
	flag.IntVar(&cfg.MaxAttempts, "max-attempts", 5, "attempts before a task is dead-lettered")
	flag.DurationVar(&cfg.BackoffBase, "backoff-base", time.Second, "Nack backoff base")
	flag.DurationVar(&cfg.ReadyHold, "ready-hold", 30*time.Second, "drop a Ready with no task after this")
	flag.Parse()
	if err := run(cfg, keyFile, jwks); err != nil {
		fmt.Fprintln(os.Stderr, "codeq-broker:", err)
		os.Exit(1)
	}
}

func run(cfg broker.Config, keyFile, jwks string) error {
	vc := token.VerifierConfig{JWKSURL: jwks}
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("jwt key: %w", err)
		}
		vc.HS256Key = []byte(strings.TrimSpace(string(b)))
	}
	v, err := token.NewVerifier(vc)
	if err != nil {
		return err
	}
	cfg.Verifier = v
	b, err := broker.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "codeq-broker: producer %s worker %s http %s\n", b.ProducerAddr, b.WorkerAddr, b.HTTPAddr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return b.Close()
}
