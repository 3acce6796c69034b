package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
)

const apikeyUsage = `Usage:
  ocrinvoice apikey create --name NAME --role admin|submitter|viewer [--owner ID]
                           [--rate-limit N] [--upload-concurrency N] [--json]
  ocrinvoice apikey list [--all] [--json]
  ocrinvoice apikey revoke ID

Manage the API keys of the database named by DATABASE_URL (or DATABASE_URL_FILE, or
--database-url; default: the SQLite file in OCRINVOICE_DATA_DIR or --data-dir).

create prints the new key on standard output, once: only its SHA-256 is stored, so it
cannot be shown again. Roles: viewer reads; submitter also creates and manages jobs and
groups, and sees only its owner's; admin does everything, including templates and keys.
A submitter's owner defaults to its name; it becomes the createdBy of what it creates.
--rate-limit (requests per second) and --upload-concurrency override the server's
OCRINVOICE_RATE_LIMIT and OCRINVOICE_UPLOAD_CONCURRENCY for this key.

list shows the keys (never their secrets); --all includes revoked ones.
revoke stops a key at once in this database; API servers notice within 5 seconds.
`

// runAPIKey manages API keys directly in the database (no server needed), so that the
// first admin key of a deployment can be created with kubectl exec or a Job.
func runAPIKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, apikeyUsage)
		if len(args) == 0 {
			return errors.New("apikey: no action given (create, list or revoke)")
		}
		return nil
	}
	action, args := args[0], args[1:]
	fs := flag.NewFlagSet("apikey "+action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		name, role, owner, dbURL, dataDir string
		rate                              float64
		uploads                           int
		all, asJSON                       bool
	)
	fs.StringVar(&dbURL, "database-url", "", "database URL")
	fs.StringVar(&dataDir, "data-dir", "", "data directory")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	switch action {
	case "create":
		fs.StringVar(&name, "name", "", "name of the key")
		fs.StringVar(&role, "role", "", "admin, submitter or viewer")
		fs.StringVar(&owner, "owner", "", "owner id")
		fs.Float64Var(&rate, "rate-limit", 0, "requests per second")
		fs.IntVar(&uploads, "upload-concurrency", 0, "uploads at once")
	case "list":
		fs.BoolVar(&all, "all", false, "include revoked keys")
	case "revoke":
	default:
		fmt.Fprint(stderr, apikeyUsage)
		return fmt.Errorf("apikey: unknown action %q (want create, list or revoke)", action)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, apikeyUsage)
			return nil
		}
		return fmt.Errorf("apikey %s: %w (see ocrinvoice apikey --help)", action, err)
	}
	var cfgArgs []string
	if dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", dbURL)
	}
	if dataDir != "" {
		cfgArgs = append(cfgArgs, "--data-dir", dataDir)
	}
	cfg, err := config.LoadCommand(config.CmdMigrate, cfgArgs, getenv)
	if err != nil {
		return fmt.Errorf("apikey: %w", err)
	}
	if action == "revoke" && fs.NArg() != 1 || action != "revoke" && fs.NArg() != 0 {
		return fmt.Errorf("apikey %s: unexpected arguments %q (see ocrinvoice apikey --help)", action, fs.Args())
	}
	// Only warnings: standard output carries the key and stays clean.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	store := apikeys.New(db, logger)

	switch action {
	case "create":
		r, err := auth.ParseRole(role)
		if err != nil {
			return fmt.Errorf("apikey create: --role: %w", err)
		}
		c, err := store.Create(ctx, apikeys.CreateInput{Name: name, Role: r, Owner: owner,
			Limits: apikeys.Limits{RatePerSecond: rate, UploadConcurrency: uploads}})
		if err != nil {
			return fmt.Errorf("apikey create: %s", describe(err))
		}
		if asJSON {
			return writeJSONLine(stdout, map[string]any{"key": c.Key, "apiKey": keyJSON(c.APIKey)})
		}
		fmt.Fprintln(stdout, c.Key)
		fmt.Fprintf(stderr, "Created API key %s (name %q, role %s, owner %q). Store the key now: it is not shown again.\n",
			c.APIKey.ID, c.APIKey.Name, c.APIKey.Role, c.APIKey.Owner)
		return nil
	case "list":
		keys, err := store.List(ctx, !all)
		if err != nil {
			return fmt.Errorf("apikey list: %s", describe(err))
		}
		if asJSON {
			out := make([]map[string]any, len(keys))
			for i, k := range keys {
				out[i] = keyJSON(k)
			}
			return writeJSONLine(stdout, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tOWNER\tCREATED\tLAST USED\tSTATUS")
		for _, k := range keys {
			status := "active"
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, dash(k.Owner),
				k.CreatedAt.UTC().Format(time.RFC3339), timeOrDash(k.LastUsedAt), status)
		}
		return tw.Flush()
	default: // revoke
		k, err := store.Revoke(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("apikey revoke: %s", describe(err))
		}
		fmt.Fprintf(stdout, "Revoked API key %s (%s).\n", k.ID, k.Name)
		return nil
	}
}

// describe is an error for the terminal: an apperr's message and details.
func describe(err error) string {
	ae := apperr.As(err)
	if ae == nil {
		return err.Error()
	}
	parts := []string{ae.Error()}
	for _, d := range ae.Details {
		parts = append(parts, d.Field+": "+d.Message)
	}
	return strings.Join(parts, "; ")
}

func keyJSON(k *ent.APIKey) map[string]any {
	m := map[string]any{"id": k.ID, "name": k.Name, "role": k.Role, "owner": k.Owner,
		"createdAt": k.CreatedAt.UTC().Format(time.RFC3339), "lastUsedAt": nil, "revokedAt": nil}
	if k.LastUsedAt != nil {
		m["lastUsedAt"] = k.LastUsedAt.UTC().Format(time.RFC3339)
	}
	if k.RevokedAt != nil {
		m["revokedAt"] = k.RevokedAt.UTC().Format(time.RFC3339)
	}
	return m
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
