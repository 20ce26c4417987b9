package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sous-run/sous/host/auth"
	"github.com/sous-run/sous/host/client"
)

func init() {
	register(&command{name: "token", section: "client",
		usage: "create --tenant T --scopes \"deploy invoke read\" --ttl 24h  print a new API token",
		run:   runToken})
}

func runToken(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: sous token create --tenant T --scopes S --ttl D", errUsage)
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	tenant := fs.String("tenant", auth.DefaultTenant, "tenant the token acts for")
	scopes := fs.String("scopes", "deploy invoke read", "space- or comma-separated: deploy invoke read admin worker")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	subject := fs.String("subject", "cli", "sub claim (who the token is for)")
	var o auth.Options
	fs.StringVar(&o.DataDir, "data-dir", client.DefaultDataDir, "data directory holding auth/hs256.key")
	fs.StringVar(&o.Algorithm, "algorithm", "HS256", "HS256, RS256 or ES256 (auth.algorithm)")
	fs.StringVar(&o.KeyFile, "key-file", "", "HS256 key file, or RS256/ES256 PEM private key (auth.key_file)")
	fs.StringVar(&o.PublicKeyFile, "public-key-file", "", "RS256/ES256 PEM public key (auth.public_key_file)")
	o.HS256Key = os.Getenv("SOUS_AUTH__HS256_KEY")
	if _, err := parseArgs(fs, args[1:], 0, 0); err != nil {
		return err
	}
	sc, err := auth.ParseScopes(*scopes)
	if err != nil {
		return fmt.Errorf("%w: --scopes: %v", errUsage, err)
	}
	a, err := auth.New(o)
	if err != nil {
		return err
	}
	tok, err := a.Issue(*subject, *tenant, sc, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
