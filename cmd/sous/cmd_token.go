package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
)

func init() {
	register(&command{name: "token", section: "client",
		usage: "create [--config f] --tenant T --scopes \"deploy invoke read\" --ttl 24h  print a new API token",
		run:   runToken})
}

// runToken signs a token with the key a host configured the same way would
// verify with: --config, SOUS_* variables (SOUS_AUTH__HS256_KEY) and --set are
// read like `sous serve` reads them, so the token works in any terminal that
// passes the host's config. It never makes up a key.
func runToken(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: sous token create [--config file] --tenant T --scopes S --ttl D", errUsage)
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	tenant := fs.String("tenant", auth.DefaultTenant, "tenant the token acts for")
	scopes := fs.String("scopes", "deploy invoke read", "space- or comma-separated: deploy invoke read admin worker")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	subject := fs.String("subject", "cli", "sub claim (who the token is for)")
	fs.String("data-dir", "", "data directory holding auth/hs256.key (overrides data_dir)")
	fs.String("algorithm", "", "HS256, RS256 or ES256 (overrides auth.algorithm)")
	fs.String("key-file", "", "HS256 key file, or RS256/ES256 PEM private key (overrides auth.key_file)")
	fs.String("public-key-file", "", "RS256/ES256 PEM public key (overrides auth.public_key_file)")
	cfg, err := loadConfig(fs, args[1:])
	if err != nil {
		return err
	}
	sc, err := auth.ParseScopes(*scopes)
	if err != nil {
		return fmt.Errorf("%w: --scopes: %v", errUsage, err)
	}
	a, err := auth.New(auth.Options{Algorithm: cfg.Auth.Algorithm, HS256Key: cfg.Auth.HS256Key, KeyFile: cfg.Auth.KeyFile,
		PublicKeyFile: cfg.Auth.PublicKeyFile, DataDir: cfg.DataDir, NoGenerate: true,
		KeySource: "auth.hs256_key (" + cfg.Source("auth.hs256_key") + ")"})
	if err != nil {
		return err
	}
	tok, err := a.Issue(*subject, *tenant, sc, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sous token create: signed with %s\n", a.KeySource())
	fmt.Println(tok)
	return nil
}
