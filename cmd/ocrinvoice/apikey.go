package main

import (
	"context"
	"encoding/json"
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

Manage the API keys of the server's database, named by DATABASE_URL (or DATABASE_URL_FILE,
or --database-url; default: the SQLite file in OCRINVOICE_DATA_DIR or --data-dir, ./data).
The database must exist: apikey never creates one (run it where the server runs, or point
it at the server's data directory or database).

Roles: viewer reads; submitter also creates and manages jobs and groups, and sees only its
owner's; admin does everything, including templates and keys.
`

const apikeyCreateUsage = `Usage: ocrinvoice apikey create --name NAME --role admin|submitter|viewer [flags]

Create an API key in the server's database and print it on standard output, once: only its
SHA-256 is stored, so it cannot be shown again. Roles: viewer reads; submitter also creates
and manages jobs and groups, and sees only its owner's; admin does everything, including
templates and keys. A submitter's owner defaults to its name; it becomes the createdBy of
what it creates. --rate-limit (requests per second) and --upload-concurrency override the
server's OCRINVOICE_RATE_LIMIT and OCRINVOICE_UPLOAD_CONCURRENCY for this key.
`

const apikeyListUsage = `Usage: ocrinvoice apikey list [--all] [--json]

List the API keys of the server's database (never their secrets); --all includes revoked ones.
`

const apikeyRevokeUsage = `Usage: ocrinvoice apikey revoke [flags] ID

Revoke the API key ID in the server's database: it stops at once in this database; API
servers notice within 5 seconds.
`

// apikeyCommand manages API keys directly in the database (no server needed), so that
// the first admin key of a deployment can be created with kubectl exec or a Job.
func apikeyCommand() *command {
	return &command{
		name: "apikey", summary: "create, list and revoke API keys in the server's database",
		usage: apikeyUsage,
		actions: []*command{
			{name: "create", summary: "create a key and print it, once", usage: apikeyCreateUsage, setup: apikeyCreate},
			{name: "list", summary: "list the keys (never their secrets)", usage: apikeyListUsage, setup: apikeyList},
			{name: "revoke", summary: "revoke a key", usage: apikeyRevokeUsage, setup: apikeyRevoke},
		},
	}
}

// databaseFlags are the --database-url and --data-dir of the commands that work on the
// server's database without its other settings.
type databaseFlags struct{ dbURL, dataDir string }

func (d *databaseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dbURL, "database-url", "", "the server's database `URL` (default: env DATABASE_URL, else the SQLite file in the data directory)")
	fs.StringVar(&d.dataDir, "data-dir", "", "the server's data `directory` (default: env OCRINVOICE_DATA_DIR, else ./data)")
}

// load reads the database configuration as migrate does, from the flags and getenv.
func (d *databaseFlags) load(getenv func(string) string) (config.Config, error) {
	return config.LoadCommand(config.CmdMigrate, cfgArgs(d.dbURL, d.dataDir), getenv)
}

// openExisting loads the configuration and opens the server's database, refusing to
// create one. Only warnings are logged: standard output carries the command's answer.
func (d *databaseFlags) openExisting(ctx context.Context, path string, e *cmdEnv) (*ent.Client, *slog.Logger, error) {
	cfg, err := d.load(e.getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := requireDatabase(path, cfg, e.getenv, d.dbURL != ""); err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	return db, logger, nil
}

func apikeyCreate(fs *flag.FlagSet, e *cmdEnv) runFunc {
	var (
		d                 databaseFlags
		name, role, owner string
		rate              float64
		uploads           int
		asJSON            bool
		roles             = []string{string(auth.RoleAdmin), string(auth.RoleSubmitter), string(auth.RoleViewer)}
	)
	fs.StringVar(&name, "name", "", "`name` of the key")
	choiceVar(fs, &role, "role", "", roles, "what the key may do")
	fs.StringVar(&owner, "owner", "", "owner `id` (a submitter's defaults to its name)")
	fs.Float64Var(&rate, "rate-limit", 0, "requests per second for this key (0: the server's)")
	fs.IntVar(&uploads, "upload-concurrency", 0, "uploads at once for this key (0: the server's)")
	fs.BoolVar(&asJSON, "json", false, "print the key and its record as JSON")
	d.register(fs)
	return func(ctx context.Context, args []string) error {
		const path = "apikey create"
		if len(args) > 0 {
			return usageErrorf(path, "unexpected argument %q", args[0])
		}
		r, err := auth.ParseRole(role)
		if err != nil {
			return usageErrorf(path, "--role: %v", err)
		}
		db, logger, err := d.openExisting(ctx, path, e)
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := apikeys.New(db, logger).Create(ctx, apikeys.CreateInput{Name: name, Role: r, Owner: owner,
			Limits: apikeys.Limits{RatePerSecond: rate, UploadConcurrency: uploads}})
		if err != nil {
			return fmt.Errorf("apikey create: %s", describe(err))
		}
		if asJSON {
			return writeJSONLine(e.stdout, map[string]any{"key": c.Key, "apiKey": keyJSON(c.APIKey)})
		}
		fmt.Fprintln(e.stdout, c.Key)
		fmt.Fprintf(e.stderr, "Created API key %s (name %q, role %s, owner %q). Store the key now: it is not shown again.\n",
			c.APIKey.ID, c.APIKey.Name, c.APIKey.Role, c.APIKey.Owner)
		return nil
	}
}

func apikeyList(fs *flag.FlagSet, e *cmdEnv) runFunc {
	var (
		d           databaseFlags
		all, asJSON bool
	)
	fs.BoolVar(&all, "all", false, "include revoked keys")
	fs.BoolVar(&asJSON, "json", false, "print the keys as one JSON array")
	d.register(fs)
	return func(ctx context.Context, args []string) error {
		const path = "apikey list"
		if len(args) > 0 {
			return usageErrorf(path, "unexpected argument %q", args[0])
		}
		db, logger, err := d.openExisting(ctx, path, e)
		if err != nil {
			return err
		}
		defer db.Close()
		keys, err := apikeys.New(db, logger).List(ctx, !all)
		if err != nil {
			return fmt.Errorf("apikey list: %s", describe(err))
		}
		if asJSON {
			out := make([]map[string]any, len(keys))
			for i, k := range keys {
				out[i] = keyJSON(k)
			}
			return writeJSONLine(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
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
	}
}

func apikeyRevoke(fs *flag.FlagSet, e *cmdEnv) runFunc {
	var d databaseFlags
	d.register(fs)
	return func(ctx context.Context, args []string) error {
		const path = "apikey revoke"
		if len(args) != 1 {
			return usageErrorf(path, "want one key ID, got %d arguments", len(args))
		}
		db, logger, err := d.openExisting(ctx, path, e)
		if err != nil {
			return err
		}
		defer db.Close()
		k, err := apikeys.New(db, logger).Revoke(ctx, args[0])
		if err != nil {
			return fmt.Errorf("apikey revoke: %s", describe(err))
		}
		fmt.Fprintf(e.stdout, "Revoked API key %s (%s).\n", k.ID, k.Name)
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
