// Package config turns environment variables and command-line flags into one Config
// value. Every setting is declared once, in the table returned by Settings: its
// environment variable, its flag, its default, its description and its validation. The
// same table parses, prints --help (Usage) and renders the README table (Markdown).
//
// Precedence, highest first: a flag given on the command line, a non-empty environment
// variable, the default. The package keeps no global state; Load is a pure function of its
// arguments.
package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of one ocrinvoice process. The zero value is not
// useful; build it with Load.
type Config struct {
	// Command is the subcommand the configuration was loaded for ("serve", "worker", ...).
	Command string

	Addr string // HTTP listen address, host:port
	// HealthAddr is where a worker serves /healthz, /readyz and /metrics; empty: nowhere.
	HealthAddr  string
	DatabaseURL string // "sqlite:PATH" or "postgres://..."
	// DBMaxConns caps the database connections of the process (0: 4 x GOMAXPROCS, at
	// least 4); DBMaxIdleConns is how many stay open when idle (0: DBMaxConns).
	DBMaxConns     int
	DBMaxIdleConns int
	// DBStatementTimeout is the deadline of each database statement of an API request;
	// DBWorkerStatementTimeout that of every other statement (workers, the batch
	// runner), also PostgreSQL's statement_timeout of each connection.
	DBStatementTimeout       time.Duration
	DBWorkerStatementTimeout time.Duration
	// FilterCostLimit is the largest cost of a list filter (REST filter and search,
	// GraphQL where); 0: no limit.
	FilterCostLimit int
	// QueryBudget is the database time in seconds per second one API client (key, or
	// address without one) may use, in bursts of QueryBudgetBurst; 0: no limit.
	QueryBudget      float64
	QueryBudgetBurst time.Duration
	// RedisURL is empty when the process should start a private redis-server.
	RedisURL string
	DataDir  string // directory for the SQLite file, uploads and other local state

	LogLevel  slog.Level
	LogFormat string // "text" or "json"

	// Auth is "apikey" (every API request needs an API key) or "none" (every request
	// runs as a local admin).
	Auth string
	// BootstrapAdminKey makes `all` create and print an admin key when the database has
	// none (make run); off where standard output is collected as logs.
	BootstrapAdminKey bool
	// RateLimit is the requests per second allowed to one API key (0: no limit), with
	// bursts of RateBurst; UploadConcurrency the uploads one key may send at once (0: no
	// limit). A key may carry its own rate and upload limits.
	RateLimit         float64
	RateBurst         int
	UploadConcurrency int
	// AuthFailureRate is the failed authentications per second allowed to one client
	// address (0: no limit), with bursts of AuthFailureBurst; beyond, 429 before any key
	// lookup. TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client address; empty: the connection's peer is the client.
	AuthFailureRate  float64
	AuthFailureBurst int
	TrustedProxies   []netip.Prefix
	// AnonymousRate is the requests per second allowed to one client address that carry
	// no API key (every request with OCRINVOICE_AUTH=none), with bursts of
	// AnonymousBurst; 0: no limit.
	AnonymousRate  float64
	AnonymousBurst int
	// SubscriptionsPerConnection and SubscriptionsPerKey cap the live streams open at
	// once on one GraphQL WebSocket and with one API key (GraphQL subscriptions and REST
	// event streams together, across every API replica); 0: no limit.
	SubscriptionsPerConnection int
	SubscriptionsPerKey        int
	// CORSOrigins are the web origins (scheme://host[:port], or "*") whose pages may call
	// the API from a browser; empty: none (no CORS headers are sent).
	CORSOrigins []string

	GraphQLIntrospection   bool
	GraphQLComplexityLimit int
	GraphQLDepthLimit      int
	GraphQLMaxAliases      int // aliases in one operation
	GraphQLMaxFields       int // field selections in one operation, fragments expanded
	GraphQLMaxQueryBytes   int // length of the query text
	GraphQLMaxNodes        int // estimated objects one operation returns
	GraphQLMaxResponseSize int // bytes of the data of one answer
	// WebSocketOrigins are host patterns (path.Match syntax) of the cross-site web
	// origins allowed to open GraphQL WebSockets; same-origin pages and non-browser
	// clients always may. Empty: no cross-site origin.
	WebSocketOrigins []string

	PricePerPage float64 // cost charged per processed page, in the job's currency
	// EInvoicePrice is charged per job read from an e-invoice's XML instead of per page.
	EInvoicePrice float64
	// EInvoiceCrossCheck compares a hybrid e-invoice PDF's page with its XML.
	EInvoiceCrossCheck bool
	// PriorityPriceFactors multiply the page price by job priority; priorities it does
	// not name keep their defaults (low 0.8, medium 1, high 1.5, urgent 2).
	PriorityPriceFactors map[string]float64

	// QueueDashboard is "off", "read-only" or "on": the asynqmon queue dashboard at /monitor.
	QueueDashboard string

	// FetchAllow lists networks the document fetcher may reach despite its guard against
	// private, loopback and link-local addresses. Empty (the default) keeps the guard whole.
	FetchAllow []netip.Prefix

	// CursorSecret signs the keyset cursors of the job list (see CursorKey); empty: the
	// key is derived from DatabaseURL. Never logged.
	CursorSecret string

	// WebhookSecret signs webhook deliveries (HMAC-SHA256, X-Ocrinvoice-Signature);
	// empty: webhooks are sent unsigned. Never logged.
	WebhookSecret string
	// WebhookRetryDelay is the wait before the first retry of a failed webhook delivery;
	// each further retry waits twice as long (capped at an hour).
	WebhookRetryDelay time.Duration

	// UploadMaxBytes is the largest document accepted by POST /api/v1/uploads and the
	// uploadDocument mutation, and read back by the worker from the upload store.
	UploadMaxBytes int64
	// UploadQuotaBytes and UploadQuotaCount bound what one owner keeps in the upload
	// store (its bytes in all, its documents); 0: no limit. Re-uploading bytes the owner
	// holds already costs nothing.
	UploadQuotaBytes int64
	UploadQuotaCount int
	// PageCacheBytes bounds the page images cached for viewers under PageCacheDir; past
	// it the least recently used are removed.
	PageCacheBytes int64
	// UploadUnusedTTL is how long an upload that no job names is kept before the batch
	// runner deletes it; 0 keeps them.
	UploadUnusedTTL time.Duration
	// RetentionDocuments is how long after a job finished its stored document (upload)
	// is kept; then the batch runner deletes it, keeping the extracted data. 0 keeps
	// documents forever.
	RetentionDocuments time.Duration

	WorkerConcurrency int  // tasks processed at once by one worker process
	StrictPriority    bool // drain higher-priority queues before looking at lower ones
	// OCRMemoryLimit bounds the address space of each pdfinfo, pdftotext and pdftoppm run,
	// in bytes; 0: no limit. A document that needs more fails for good.
	OCRMemoryLimit int64

	// RequeueInterval is how often a worker looks for jobs whose queue task was lost
	// (Redis restarted empty) and enqueues them again, and for webhooks whose enqueue
	// failed; 0 turns both sweeps off.
	RequeueInterval time.Duration

	// WorkerHeartbeat is how often a worker refreshes the Redis heartbeat of each job it
	// runs, and how often the requeue sweep looks for jobs whose heartbeat stopped (their
	// worker died: they are queued again at once); 0 turns heartbeats and that check off.
	WorkerHeartbeat time.Duration
	// DeadWorkerAfter is a heartbeat's expiry: a worker that has not refreshed a job's
	// heartbeat for this long counts as dead. More than WorkerHeartbeat.
	DeadWorkerAfter time.Duration

	// Runner runs the batch runner (the group reconcilers) in this worker, while it holds
	// the runner lease in Redis: one replica at a time reconciles.
	Runner bool
	// RunnerResync is how often the runner reconciles every unfinished group even without
	// events.
	RunnerResync time.Duration
	// RunnerLease is the expiry of the runner lease: how long the replicas may go without
	// an active runner when its holder dies without releasing it.
	RunnerLease time.Duration

	// ShutdownTimeout bounds the graceful shutdown: draining HTTP requests and letting
	// running tasks finish before they are handed back to the queue.
	ShutdownTimeout time.Duration

	// Warnings are notes about the configuration for the process to log, e.g. a
	// deprecated environment variable that was read.
	Warnings []string
}

// Command names a subcommand; settings are scoped to the commands that use them.
const (
	CmdServe   = "serve"
	CmdWorker  = "worker"
	CmdAll     = "all"
	CmdMigrate = "migrate"
)

// Setting declares one configuration setting. Env and Flag name the same setting; the
// value is parsed, validated and stored by set.
type Setting struct {
	Env      string   // environment variable, e.g. "OCRINVOICE_ADDR"
	Flag     string   // flag name without dashes, e.g. "addr"
	Default  string   // default as text, as shown in --help; may be computed (see DefaultText)
	Usage    string   // one-line description
	Commands []string // subcommands that read the setting
	// DefaultText, when set, replaces Default in help output (for computed defaults).
	DefaultText string
	// Bool marks a boolean flag (given as --flag or --flag=false).
	Bool bool
	// DeprecatedEnv lists former names of Env, still read (with a warning in
	// Config.Warnings) when Env is unset.
	DeprecatedEnv []string
	// Secret marks a value that is never echoed (not in errors, help or logs) and may
	// also be read from the file named by Env+"_FILE" (a mounted Kubernetes Secret, for
	// instance; one trailing newline is dropped).
	Secret bool
	set    func(c *Config, v string) error
}

var (
	apiCmds    = []string{CmdServe, CmdAll}
	workerCmds = []string{CmdWorker, CmdAll}
	dbCmds     = []string{CmdServe, CmdWorker, CmdAll, CmdMigrate}
	redisCmds  = []string{CmdServe, CmdWorker, CmdAll}
	allCmds    = []string{CmdServe, CmdWorker, CmdAll, CmdMigrate}
)

// Settings returns the table of every setting, in the order help prints them. The table is
// built on every call; callers may not change the process configuration through it.
func Settings() []Setting {
	return slices.Concat(
		listenSettings(),
		databaseSettings(),
		processSettings(),
		accessSettings(),
		clientLimitSettings(),
		streamSettings(),
		graphQLSettings(),
		billingSettings(),
		workerSettings(),
		uploadSettings(),
		sweepSettings(),
		runnerSettings(),
	)
}

// listenSettings are where the process listens.
func listenSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_ADDR", Flag: "addr", Default: "127.0.0.1:8080", Commands: apiCmds,
			Usage: "HTTP listen address (host:port; port 0 picks a free port). When unset and PORT is set, \":$PORT\"",
			set:   hostPortSetter(func(c *Config, v string) { c.Addr = v }),
		},
		{
			Env: "OCRINVOICE_HEALTH_ADDR", Flag: "health-addr", Commands: []string{CmdWorker},
			Usage: "address (host:port) where the worker serves /healthz, /readyz and /metrics; empty: not served",
			set:   hostPortSetter(func(c *Config, v string) { c.HealthAddr = v }),
		},
		{
			Env: "PORT", Flag: "", Commands: apiCmds,
			Usage: "port to listen on all interfaces, used only when OCRINVOICE_ADDR is unset (platform convention)",
			set:   checkPort, // applied in Load, after OCRINVOICE_ADDR is known
		},
	}
}

// databaseSettings are the database, its connections and the bounds of database work.
func databaseSettings() []Setting {
	return []Setting{
		{
			Env: "DATABASE_URL", Flag: "database-url", Commands: dbCmds, Secret: true,
			DefaultText: "sqlite:$OCRINVOICE_DATA_DIR/ocrinvoice.db",
			Usage:       "database: \"sqlite:PATH\" (embedded, directory created) or \"postgres://user@host:5432/db?sslmode=disable\"",
			set:         setDatabaseURL,
		},
		{
			Env: "OCRINVOICE_DB_MAX_CONNS", Flag: "db-max-conns", Default: "0", DefaultText: "0: 4 x GOMAXPROCS, at least 4", Commands: dbCmds,
			Usage: "database connections this process may open at once; beyond, statements wait for a free one (within their deadline) instead of opening more PostgreSQL backends",
			set:   intSetter(0, 10_000, func(c *Config, n int) { c.DBMaxConns = n }),
		},
		{
			Env: "OCRINVOICE_DB_MAX_IDLE_CONNS", Flag: "db-max-idle-conns", Default: "0", DefaultText: "0: OCRINVOICE_DB_MAX_CONNS", Commands: dbCmds,
			Usage: "database connections kept open while idle (at most OCRINVOICE_DB_MAX_CONNS)",
			set:   intSetter(0, 10_000, func(c *Config, n int) { c.DBMaxIdleConns = n }),
		},
		{
			Env: "OCRINVOICE_DB_STATEMENT_TIMEOUT", Flag: "db-statement-timeout", Default: "2s", Commands: apiCmds,
			Usage: "deadline of each database statement of an API request (Go duration); a statement past it is cancelled and the request answered 503 UNAVAILABLE with Retry-After; 0: OCRINVOICE_DB_WORKER_STATEMENT_TIMEOUT",
			set:   durationSetter(0, time.Hour, func(c *Config, d time.Duration) { c.DBStatementTimeout = d }),
		},
		{
			Env: "OCRINVOICE_DB_WORKER_STATEMENT_TIMEOUT", Flag: "db-worker-statement-timeout", Default: "5m", Commands: dbCmds,
			Usage: "deadline of each database statement outside API requests (workers, batch runner); on PostgreSQL also the statement_timeout of every connection unless DATABASE_URL sets one",
			set:   durationSetter(time.Second, 24*time.Hour, func(c *Config, d time.Duration) { c.DBWorkerStatementTimeout = d }),
		},
		{
			Env: "OCRINVOICE_FILTER_COST_LIMIT", Flag: "filter-cost-limit", Default: "200", Commands: apiCmds,
			Usage: "largest cost of a list filter (REST filter and search, GraphQL where), costed before it runs: a column condition 3, a JSON-path condition 15 (150 on extractedData), a text comparison 60, a search 100, an edge 5; beyond, 400 naming the cost and this limit; 0: no limit",
			set:   intSetter(0, 1_000_000, func(c *Config, n int) { c.FilterCostLimit = n }),
		},
		{
			Env: "OCRINVOICE_QUERY_BUDGET", Flag: "query-budget", Default: "1", Commands: apiCmds,
			Usage: "seconds of database time per second one API key (or client address, without authentication) may use, counted per API process; beyond, 429 RATE_LIMITED with Retry-After until it has refilled; 0: no limit",
			set:   floatSetter(1e4, "want a number of seconds per second 0..10000", func(c *Config, f float64) { c.QueryBudget = f }),
		},
		{
			Env: "OCRINVOICE_QUERY_BUDGET_BURST", Flag: "query-budget-burst", Default: "10s", Commands: apiCmds,
			Usage: "database time one API client may use at once above OCRINVOICE_QUERY_BUDGET before it is limited (Go duration)",
			set:   durationSetter(time.Millisecond, 24*time.Hour, func(c *Config, d time.Duration) { c.QueryBudgetBurst = d }),
		},
	}
}

// processSettings are Redis, the local data directory and logging.
func processSettings() []Setting {
	return []Setting{
		{
			Env: "REDIS_URL", Flag: "redis-url", Commands: redisCmds, Secret: true,
			DefaultText: "unset: start a private redis-server on a free loopback port",
			Usage:       "Redis for the job queue: redis://[:password@]host:port/db, rediss://..., redis-socket://path",
			set:         setRedisURL,
		},
		{
			Env: "OCRINVOICE_DATA_DIR", Flag: "data-dir", Default: "./data", Commands: allCmds,
			Usage: "directory for the default SQLite database and other local files (created when missing)",
			set: func(c *Config, v string) error {
				c.DataDir = filepath.Clean(v)
				return nil
			},
		},
		{
			Env: "OCRINVOICE_LOG_LEVEL", Flag: "log-level", Default: "info", Commands: allCmds,
			Usage: "log level: debug, info, warn or error",
			set:   setLogLevel,
		},
		{
			Env: "OCRINVOICE_LOG_FORMAT", Flag: "log-format", Default: "text", Commands: allCmds,
			Usage: "log format: text or json",
			set:   choiceSetter("want text or json", func(c *Config, v string) { c.LogFormat = v }, "text", "json"),
		},
	}
}

// accessSettings are authentication and the limits of one API key.
func accessSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_CURSOR_SECRET", Flag: "cursor-secret", Commands: apiCmds, Secret: true,
			DefaultText: "derived from DATABASE_URL",
			Usage: "secret that signs the job list's keyset cursors (after=, nextCursor; HMAC-SHA256). Every API replica must sign with the same key: " +
				"empty, the key is derived from DATABASE_URL, which serves replicas given the same DATABASE_URL; set it (the same on every replica) " +
				"when replicas reach the database by different URLs, or when DATABASE_URL holds no password. Changing it ends the cursors handed out (400 naming after)",
			set: func(c *Config, v string) error {
				c.CursorSecret = v
				return nil
			},
		},
		{
			Env: "OCRINVOICE_AUTH", Flag: "auth", Default: "apikey", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "apikey: every GraphQL and REST request needs an API key (ocrinvoice apikey create; the probes /healthz, /readyz and /metrics stay open); none: no authentication, every request is a local admin (local use only)",
			set:   choiceSetter("want apikey or none", func(c *Config, v string) { c.Auth = v }, "apikey", "none"),
		},
		{
			Env: "OCRINVOICE_BOOTSTRAP_ADMIN_KEY", Flag: "bootstrap-admin-key", Default: "true", Bool: true, Commands: []string{CmdAll},
			Usage: "with OCRINVOICE_AUTH=apikey and no admin key in the database, create one and print it once on standard output (turn off where stdout goes to collected logs)",
			set:   boolSetter(func(c *Config, b bool) { c.BootstrapAdminKey = b }),
		},
		{
			Env: "OCRINVOICE_RATE_LIMIT", Flag: "rate-limit", Default: "50", Commands: apiCmds,
			Usage: "requests per second one API key may make (answered 429 with Retry-After beyond it); 0: no limit",
			set:   rateSetter(func(c *Config, f float64) { c.RateLimit = f }),
		},
		{
			Env: "OCRINVOICE_RATE_BURST", Flag: "rate-burst", Default: "100", Commands: apiCmds,
			Usage: "requests one API key may make at once above its rate before it is limited",
			set:   intSetter(1, 1_000_000, func(c *Config, n int) { c.RateBurst = n }),
		},
		{
			Env: "OCRINVOICE_UPLOAD_CONCURRENCY", Flag: "upload-concurrency", Default: "4", Commands: apiCmds,
			Usage: "document uploads one API key may send at once (429 beyond); 0: no limit",
			set:   intSetter(0, 10_000, func(c *Config, n int) { c.UploadConcurrency = n }),
		},
	}
}

// clientLimitSettings are the limits of one client address and how it is found.
func clientLimitSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_AUTH_FAILURE_RATE", Flag: "auth-failure-rate", Default: "10", Commands: apiCmds,
			Usage: "requests with an invalid API key allowed per second from one client address; beyond, its requests with a key are answered 429 with Retry-After before the key is looked up; 0: no limit",
			set:   rateSetter(func(c *Config, f float64) { c.AuthFailureRate = f }),
		},
		{
			Env: "OCRINVOICE_AUTH_FAILURE_BURST", Flag: "auth-failure-burst", Default: "20", Commands: apiCmds,
			Usage: "requests with an invalid API key one client address may make at once above OCRINVOICE_AUTH_FAILURE_RATE",
			set:   intSetter(1, 1_000_000, func(c *Config, n int) { c.AuthFailureBurst = n }),
		},
		{
			Env: "OCRINVOICE_ANONYMOUS_RATE", Flag: "anonymous-rate", Default: "50", Commands: apiCmds,
			Usage: "requests without an API key allowed per second from one client address (every request when OCRINVOICE_AUTH=none; the playground and /openapi.json); beyond, 429 with Retry-After; 0: no limit",
			set:   rateSetter(func(c *Config, f float64) { c.AnonymousRate = f }),
		},
		{
			Env: "OCRINVOICE_ANONYMOUS_BURST", Flag: "anonymous-burst", Default: "100", Commands: apiCmds,
			Usage: "requests without an API key one client address may make at once above OCRINVOICE_ANONYMOUS_RATE",
			set:   intSetter(1, 1_000_000, func(c *Config, n int) { c.AnonymousBurst = n }),
		},
		{
			Env: "OCRINVOICE_TRUSTED_PROXIES", Flag: "trusted-proxies", Commands: apiCmds,
			Usage: "comma-separated CIDRs of the reverse proxies in front of the API, whose X-Forwarded-For names the client address (for the limits of invalid keys and of requests without a key); empty: the header is ignored",
			set:   cidrSetter("10.0.0.0/8", func(c *Config, p []netip.Prefix) { c.TrustedProxies = p }),
		},
	}
}

// streamSettings are the live streams one connection and one key may hold, and which web
// origins may call the API.
func streamSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION", Flag: "subscriptions-per-connection", Default: "50", Commands: apiCmds,
			Usage: "GraphQL subscriptions one WebSocket connection may hold open at once (RATE_LIMITED beyond); 0: no limit",
			set:   intSetter(0, 1_000_000, func(c *Config, n int) { c.SubscriptionsPerConnection = n }),
		},
		{
			Env: "OCRINVOICE_SUBSCRIPTIONS_PER_KEY", Flag: "subscriptions-per-key", Default: "200", Commands: apiCmds,
			Usage: "GraphQL subscriptions and REST event streams one API key may hold open at once, counted across API replicas in Redis (RATE_LIMITED, 429, beyond); 0: no limit",
			set:   intSetter(0, 1_000_000, func(c *Config, n int) { c.SubscriptionsPerKey = n }),
		},
		{
			Env: "OCRINVOICE_CORS_ORIGINS", Flag: "cors-origins", Commands: apiCmds,
			Usage: "comma-separated web origins (https://app.example.com, or * for any) whose pages may call the API from a browser; empty: CORS closed",
			set:   setCORSOrigins,
		},
	}
}

// graphQLSettings are the GraphQL API's introspection and the bounds of one operation.
func graphQLSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_GRAPHQL_INTROSPECTION", Flag: "graphql-introspection", Bool: true, Commands: apiCmds,
			DefaultText: "true for all (make run), false for serve",
			Usage:       "allow GraphQL introspection (the playground's schema browser and completion need it)",
			set:         boolSetter(func(c *Config, b bool) { c.GraphQLIntrospection = b }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_COMPLEXITY_LIMIT", Flag: "graphql-complexity-limit", Default: "20000", Commands: apiCmds,
			Usage: "largest estimated cost of a GraphQL operation: the fields it resolves, each counted once per object, pages at their first/last (else 50) and nodes(ids:) at its ids; a page of 100 jobs with every field costs about 17000",
			set:   intSetter(1, 10_000_000, func(c *Config, n int) { c.GraphQLComplexityLimit = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_MAX_NODES", Flag: "graphql-max-nodes", Default: "10000", Commands: apiCmds,
			Usage: "most objects a GraphQL operation may return, estimated before it runs from its page sizes and lists (a page of 100 jobs is 201: the connection, edges and nodes)",
			set:   intSetter(1, 10_000_000, func(c *Config, n int) { c.GraphQLMaxNodes = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_MAX_RESPONSE_BYTES", Flag: "graphql-max-response-bytes", Default: "8388608", DefaultText: "8388608 (8 MiB)", Commands: apiCmds,
			Usage: "largest data of one GraphQL answer (or subscription event) in bytes; over it the data is dropped and the answer is RESPONSE_TOO_LARGE",
			set:   intSetter(1024, 1<<30, func(c *Config, n int) { c.GraphQLMaxResponseSize = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_DEPTH_LIMIT", Flag: "graphql-depth-limit", Default: "12", Commands: apiCmds,
			Usage: "deepest GraphQL field nesting accepted",
			set:   intSetter(1, 1000, func(c *Config, n int) { c.GraphQLDepthLimit = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_MAX_ALIASES", Flag: "graphql-max-aliases", Default: "30", Commands: apiCmds,
			Usage: "most field aliases in one GraphQL operation",
			set:   intSetter(0, 100_000, func(c *Config, n int) { c.GraphQLMaxAliases = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_MAX_FIELDS", Flag: "graphql-max-fields", Default: "500", Commands: apiCmds,
			Usage: "most field selections in one GraphQL operation, fragments counted where they are spread",
			set:   intSetter(1, 1_000_000, func(c *Config, n int) { c.GraphQLMaxFields = n }),
		},
		{
			Env: "OCRINVOICE_GRAPHQL_MAX_QUERY_BYTES", Flag: "graphql-max-query-bytes", Default: "32768", Commands: apiCmds,
			Usage: "longest GraphQL query text in bytes (variables not counted)",
			set:   intSetter(64, 1<<20, func(c *Config, n int) { c.GraphQLMaxQueryBytes = n }),
		},
		{
			Env: "OCRINVOICE_WS_ALLOWED_ORIGINS", Flag: "ws-allowed-origins", Commands: apiCmds,
			Usage: "comma-separated origins (host[:port] patterns such as app.example.com or *.example.com) whose web pages may open GraphQL WebSockets; same-origin pages and non-browser clients always may; empty: no other origin",
			set:   setWebSocketOrigins,
		},
	}
}

// billingSettings are the page price and the queue dashboard.
func billingSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_PRICE_PER_PAGE", Flag: "price-per-page", Default: "0.01", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "price charged per processed page, unless the job's template sets its own",
			set:   floatSetter(1e9, "want a number >= 0", func(c *Config, f float64) { c.PricePerPage = f }),
		},
		{
			Env: "OCRINVOICE_EINVOICE_PRICE", Flag: "einvoice-price", Default: "0.002", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "price charged per job whose data is read from an e-invoice's XML (ZUGFeRD, Factur-X, XRechnung, UBL) instead of per page: no OCR is done",
			set:   floatSetter(1e9, "want a number >= 0", func(c *Config, f float64) { c.EInvoicePrice = f }),
		},
		{
			Env: "OCRINVOICE_EINVOICE_CROSSCHECK", Flag: "einvoice-crosscheck", Default: "true", Commands: []string{CmdWorker, CmdAll},
			Usage: "compare the number, dates, totals, tax and IBAN a hybrid e-invoice PDF's page shows with its embedded XML (warnings on disagreement); it reads the text layer, most of such a job's cost",
			set:   boolSetter(func(c *Config, b bool) { c.EInvoiceCrossCheck = b }),
		},
		{
			Env: "OCRINVOICE_PRIORITY_PRICE_FACTORS", Flag: "priority-price-factors", Default: "low=0.8,medium=1,high=1.5,urgent=2",
			Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage:    "factor multiplying the page price per job priority, as priority=factor pairs; priorities left out keep their default",
			set: func(c *Config, v string) error {
				f, err := parsePriceFactors(v)
				if err != nil {
					return err
				}
				c.PriorityPriceFactors = f
				return nil
			},
		},
		{
			Env: "OCRINVOICE_QUEUE_DASHBOARD", Flag: "queue-dashboard", Default: "read-only", Commands: apiCmds,
			Usage: "queue dashboard (asynqmon) at /monitor: off, read-only, or on (may retry and delete tasks)",
			set:   choiceSetter("want off, read-only or on", func(c *Config, v string) { c.QueueDashboard = v }, "off", "read-only", "on"),
		},
	}
}

// workerSettings are how a worker runs its tasks, what it may fetch and how it signs and
// retries webhooks.
func workerSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_WORKER_CONCURRENCY", Flag: "concurrency", Commands: workerCmds,
			Default: strconv.Itoa(runtime.NumCPU()), DefaultText: "number of CPUs",
			Usage: "tasks processed at once by this worker (also the size of the OCR engine pool)",
			set:   intSetter(1, 1024, func(c *Config, n int) { c.WorkerConcurrency = n }),
		},
		{
			Env: "OCRINVOICE_OCR_MEMORY_LIMIT", Flag: "ocr-memory-limit", Default: strconv.FormatInt(DefaultOCRMemoryLimit, 10),
			DefaultText: "1073741824 (1 GiB)", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "bytes of address space each poppler run (pdfinfo, pdftotext, pdftoppm; the API's page images too) may use, set with prlimit; a document that needs more fails for good; 0: no limit (Tesseract runs in process, bounded by the page pixel limit)",
			set: int64Setter(func(n int64) bool { return n == 0 || n >= 16<<20 },
				"want 0 (no limit) or a number of bytes of at least 16777216 (16 MiB)", func(c *Config, n int64) { c.OCRMemoryLimit = n }),
		},
		{
			Env: "OCRINVOICE_STRICT_PRIORITY", Flag: "strict-priority", Default: "false", Bool: true, Commands: workerCmds,
			Usage: "empty higher-priority queues before taking lower ones (default: weighted urgent 8, high 4, medium 2, low 1)",
			set:   boolSetter(func(c *Config, b bool) { c.StrictPriority = b }),
		},
		{
			Env: "OCRINVOICE_FETCH_ALLOW_CIDRS", Flag: "fetch-allow-cidrs", Commands: []string{CmdServe, CmdWorker, CmdAll},
			DeprecatedEnv: []string{"OCRINVOICE_FETCH_ALLOW_NETS"},
			Usage:         "comma-separated CIDRs the document fetcher may reach although private or loopback (e.g. 127.0.0.0/8 to try local files); empty: none. The API refuses jobs whose documentUrl or callbackUrl names a literal address outside them",
			set:           cidrSetter("127.0.0.0/8", func(c *Config, p []netip.Prefix) { c.FetchAllow = p }),
		},
		{
			Env: "OCRINVOICE_WEBHOOK_SECRET", Flag: "webhook-secret", Commands: workerCmds, Secret: true,
			Usage: "secret that signs webhook deliveries (X-Ocrinvoice-Signature: t=UNIX,v1=hex HMAC-SHA256 of \"t.body\"); empty: webhooks are unsigned (warned at start-up)",
			set: func(c *Config, v string) error {
				c.WebhookSecret = v
				return nil
			},
		},
		{
			Env: "OCRINVOICE_WEBHOOK_RETRY_DELAY", Flag: "webhook-retry-delay", Default: "10s", Commands: workerCmds,
			Usage: "wait before the first retry of a failed webhook delivery; doubles on every retry (8 retries, at most 1h apart)",
			set: checkedDurationSetter(func(d time.Duration) bool { return d >= 10*time.Millisecond && d <= time.Hour },
				"want a duration from 10ms to 1h such as 10s", func(c *Config, d time.Duration) { c.WebhookRetryDelay = d }),
		},
	}
}

// uploadSettings are the bounds of uploads and how long stored documents are kept.
func uploadSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_UPLOAD_MAX_BYTES", Flag: "upload-max-bytes", Default: strconv.Itoa(DefaultUploadMaxBytes),
			DefaultText: "52428800 (50 MiB)", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "largest uploaded document in bytes (POST /api/v1/uploads, GraphQL uploadDocument); uploads are stored in $OCRINVOICE_DATA_DIR/uploads",
			set: int64Setter(func(n int64) bool { return n >= 1 && n <= MaxUploadMaxBytes },
				fmt.Sprintf("want a number of bytes 1..%d", int64(MaxUploadMaxBytes)), func(c *Config, n int64) { c.UploadMaxBytes = n }),
		},
		{
			Env: "OCRINVOICE_UPLOAD_QUOTA_BYTES", Flag: "upload-quota-bytes", Default: strconv.FormatInt(DefaultUploadQuotaBytes, 10),
			DefaultText: "10737418240 (10 GiB)", Commands: apiCmds,
			Usage: "bytes of uploads one owner may keep (413 QUOTA_EXCEEDED beyond); re-uploading a document the owner has costs nothing; 0: no limit",
			set: int64Setter(func(n int64) bool { return n >= 0 },
				"want a number of bytes >= 0 (0: no limit)", func(c *Config, n int64) { c.UploadQuotaBytes = n }),
		},
		{
			Env: "OCRINVOICE_UPLOAD_QUOTA_COUNT", Flag: "upload-quota-count", Default: strconv.Itoa(DefaultUploadQuotaCount), Commands: apiCmds,
			Usage: "uploaded documents one owner may keep (413 QUOTA_EXCEEDED beyond); 0: no limit",
			set:   intSetter(0, 1<<31-1, func(c *Config, n int) { c.UploadQuotaCount = n }),
		},
		{
			Env: "OCRINVOICE_PAGE_CACHE_BYTES", Flag: "page-cache-bytes", Default: strconv.FormatInt(DefaultPageCacheBytes, 10),
			DefaultText: "268435456 (256 MiB)", Commands: apiCmds,
			Usage: "bytes of page images (GET /api/v1/ocr-invoice-jobs/{id}/pages/{n}) kept in $OCRINVOICE_DATA_DIR/pages; past it the least recently used are removed",
			set: int64Setter(func(n int64) bool { return n >= 1<<20 },
				"want a number of bytes of at least 1048576 (1 MiB)", func(c *Config, n int64) { c.PageCacheBytes = n }),
		},
		{
			Env: "OCRINVOICE_UPLOAD_UNUSED_TTL", Flag: "upload-unused-ttl", Default: "24h", Commands: workerCmds,
			Usage: "how long an upload that no job names is kept before the batch runner deletes it (the file once no owner has it and no job names it); 0: kept",
			set: checkedDurationSetter(offOrAtLeast(time.Second),
				"want 0 or a duration of at least 1s such as 24h", func(c *Config, d time.Duration) { c.UploadUnusedTTL = d }),
		},
		{
			Env: "OCRINVOICE_RETENTION_DOCUMENTS", Flag: "retention-documents", Default: "0", DefaultText: "0 (kept forever)", Commands: workerCmds,
			Usage: "how long the stored document (upload) of a finished job is kept, e.g. 90d; then the batch runner deletes it, keeping the extracted data (a document another job still needs stays); 0 or empty: kept forever",
			set:   setRetentionDocuments,
		},
	}
}

// sweepSettings are the worker's requeue sweep and heartbeats.
func sweepSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_REQUEUE_INTERVAL", Flag: "requeue-interval", Default: "30s", Commands: []string{CmdWorker, CmdAll},
			Usage: "how often the worker re-enqueues jobs whose queue task is missing (e.g. Redis restarted empty), and webhooks whose enqueue failed; also how long a job must be unchanged first; 0 = off",
			set: checkedDurationSetter(offOrAtLeast(100*time.Millisecond),
				"want 0 or a duration of at least 100ms such as 30s", func(c *Config, d time.Duration) { c.RequeueInterval = d }),
		},
		{
			Env: "OCRINVOICE_WORKER_HEARTBEAT", Flag: "worker-heartbeat", Default: "2s", Commands: []string{CmdWorker, CmdAll},
			Usage: "how often a worker refreshes the Redis heartbeat of each job it runs, and how often the requeue sweep (off with OCRINVOICE_REQUEUE_INTERVAL=0) looks for jobs whose heartbeat stopped (queued again at once); 0 = off (a dead worker's jobs wait for the queue's lease expiry, about a minute)",
			set: checkedDurationSetter(offOrAtLeast(100*time.Millisecond),
				"want 0 or a duration of at least 100ms such as 2s", func(c *Config, d time.Duration) { c.WorkerHeartbeat = d }),
		},
		{
			Env: "OCRINVOICE_DEAD_WORKER_AFTER", Flag: "dead-worker-after", Default: "6s", Commands: []string{CmdWorker, CmdAll},
			Usage: "how long a job's heartbeat may go unrefreshed before its worker counts as dead; more than OCRINVOICE_WORKER_HEARTBEAT (every worker must use the same values)",
			set: checkedDurationSetter(atLeast(200*time.Millisecond),
				"want a duration of at least 200ms such as 6s", func(c *Config, d time.Duration) { c.DeadWorkerAfter = d }),
		},
	}
}

// runnerSettings are the batch runner and the graceful shutdown.
func runnerSettings() []Setting {
	return []Setting{
		{
			Env: "OCRINVOICE_RUNNER", Flag: "runner", Default: "true", Bool: true, Commands: []string{CmdWorker, CmdAll},
			Usage: "run the batch runner (group parallelism, backoff limits, deadlines, TTLs) while this process holds the runner lease in Redis; one replica runs it at a time",
			set:   boolSetter(func(c *Config, b bool) { c.Runner = b }),
		},
		{
			Env: "OCRINVOICE_RUNNER_RESYNC", Flag: "runner-resync", Default: "30s", Commands: []string{CmdWorker, CmdAll},
			Usage: "how often the batch runner reconciles every unfinished group even without events",
			set: checkedDurationSetter(atLeast(100*time.Millisecond),
				"want a duration of at least 100ms such as 30s", func(c *Config, d time.Duration) { c.RunnerResync = d }),
		},
		{
			Env: "OCRINVOICE_RUNNER_LEASE", Flag: "runner-lease", Default: "15s", Commands: []string{CmdWorker, CmdAll},
			Usage: "expiry of the batch runner's lease in Redis (renewed every third of it): how long replicas may go without a runner when its holder dies",
			set: checkedDurationSetter(atLeast(300*time.Millisecond),
				"want a duration of at least 300ms such as 15s", func(c *Config, d time.Duration) { c.RunnerLease = d }),
		},
		{
			Env: "OCRINVOICE_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "25s", Commands: []string{CmdServe, CmdWorker, CmdAll},
			Usage: "graceful shutdown limit for draining requests and running tasks (Go duration)",
			set: checkedDurationSetter(atLeast(0),
				"want a duration >= 0 such as 25s or 1m", func(c *Config, d time.Duration) { c.ShutdownTimeout = d }),
		},
	}
}

// hostPortSetter checks a host:port address.
func hostPortSetter(store func(c *Config, v string)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port: %w", err)
		}
		store(c, v)
		return nil
	}
}

// checkPort checks PORT; Load applies it.
func checkPort(_ *Config, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("want a port number 0..65535")
	}
	return nil
}

// setDatabaseURL accepts sqlite:PATH and postgres:// (or postgresql://) URLs.
func setDatabaseURL(c *Config, v string) error {
	switch {
	case strings.HasPrefix(v, "sqlite:"):
		if strings.TrimPrefix(v, "sqlite:") == "" {
			return errors.New("sqlite URL needs a path, e.g. sqlite:./data/ocrinvoice.db")
		}
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			return fmt.Errorf("parse PostgreSQL URL: %w", err)
		}
	default:
		//lint:ignore ST1005 the message ends with the URL form "postgres://...", not a sentence
		return errors.New("want sqlite:PATH or postgres://...")
	}
	c.DatabaseURL = v
	return nil
}

// setRedisURL accepts the URL schemes go-redis and asynq understand.
func setRedisURL(c *Config, v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("parse Redis URL: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "redis-socket", "redis-sentinel":
	default:
		return fmt.Errorf("unsupported scheme %q (want redis, rediss, redis-socket or redis-sentinel)", u.Scheme)
	}
	c.RedisURL = v
	return nil
}

func setLogLevel(c *Config, v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	c.LogLevel = l
	return nil
}

// setCORSOrigins reads a comma-separated list of web origins (scheme://host[:port]) or
// "*", stored lower-case.
func setCORSOrigins(c *Config, v string) error {
	c.CORSOrigins = nil
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return fmt.Errorf("want origins such as https://app.example.com, got %q", o)
			}
			o = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	return nil
}

// setWebSocketOrigins reads a comma-separated list of host patterns (an origin given as a
// URL counts by its host), stored lower-case.
func setWebSocketOrigins(c *Config, v string) error {
	c.WebSocketOrigins = nil
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" {
			o = u.Host // an origin given as a URL
		}
		if _, err := path.Match(o, ""); err != nil || strings.Contains(o, "/") {
			return fmt.Errorf("want host patterns such as app.example.com or *.example.com, got %q", o)
		}
		c.WebSocketOrigins = append(c.WebSocketOrigins, strings.ToLower(o))
	}
	return nil
}

func setRetentionDocuments(c *Config, v string) error {
	d, err := ParseDays(v)
	if err != nil || d < 0 || (d > 0 && d < time.Second) {
		return errors.New("want 0 or a duration of at least 1s in days or Go units, such as 90d or 36h")
	}
	c.RetentionDocuments = d
	return nil
}

// Bounds of OCRINVOICE_UPLOAD_MAX_BYTES.
const (
	DefaultUploadMaxBytes = 50 << 20
	MaxUploadMaxBytes     = 4 << 30
)

// DefaultOCRMemoryLimit is OCRINVOICE_OCR_MEMORY_LIMIT's default: 1 GiB.
const DefaultOCRMemoryLimit int64 = 1 << 30

// Defaults of the upload quotas of one owner (OCRINVOICE_UPLOAD_QUOTA_BYTES, _COUNT).
const (
	DefaultUploadQuotaBytes int64 = 10 << 30
	DefaultUploadQuotaCount       = 100_000
)

// DefaultPageCacheBytes is OCRINVOICE_PAGE_CACHE_BYTES's default: 256 MiB.
const DefaultPageCacheBytes int64 = 256 << 20

// PageCacheDir is the directory of the page image cache: "pages" under DataDir.
func (c Config) PageCacheDir() string { return filepath.Join(c.DataDir, "pages") }

// UploadDir is the directory of the upload store: "uploads" under DataDir.
func (c Config) UploadDir() string { return filepath.Join(c.DataDir, "uploads") }

// priorities are the job priorities, as internal/jobs.Priorities names them (config
// imports nothing of ours; a test in cmd/ocrinvoice checks that both agree).
var priorities = []string{"low", "medium", "high", "urgent"}

// parsePriceFactors reads "low=0.8,high=1.5": known priorities only, each once, with a
// factor 0..1e6.
func parsePriceFactors(v string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, pair := range strings.Split(v, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, num, ok := strings.Cut(pair, "=")
		name, num = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(num)
		if !ok || name == "" || num == "" {
			return nil, fmt.Errorf("want priority=factor pairs such as low=0.8,urgent=2, not %q", pair)
		}
		if !slices.Contains(priorities, name) {
			return nil, fmt.Errorf("unknown priority %q (want %s)", name, strings.Join(priorities, ", "))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("priority %q given twice", name)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > 1e6 {
			return nil, fmt.Errorf("factor of %s: want a number 0..1000000, not %q", name, num)
		}
		out[name] = f
	}
	if len(out) == 0 {
		return nil, errors.New("want priority=factor pairs such as low=0.8,urgent=2")
	}
	return out, nil
}

// parseCIDRs parses a comma-separated list of CIDRs (empty elements ignored), masked;
// example is shown in the error.
func parseCIDRs(v, example string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("want CIDRs such as %s: %w", example, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func boolSetter(store func(c *Config, b bool)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		store(c, b)
		return nil
	}
}

// choiceSetter accepts one of choices, case-insensitively, stored lower-case; msg is the
// error otherwise.
func choiceSetter(msg string, store func(c *Config, v string), choices ...string) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		v = strings.ToLower(v)
		if !slices.Contains(choices, v) {
			return errors.New(msg)
		}
		store(c, v)
		return nil
	}
}

// cidrSetter parses a comma-separated list of CIDRs (parseCIDRs; example is shown in the
// error).
func cidrSetter(example string, store func(c *Config, p []netip.Prefix)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		p, err := parseCIDRs(v, example)
		store(c, p)
		return err
	}
}

// rateSetter parses a number of requests per second, 0..1000000 (0: no limit).
func rateSetter(store func(c *Config, f float64)) func(c *Config, v string) error {
	return floatSetter(1e6, "want a number of requests per second 0..1000000", store)
}

// floatSetter parses a number 0..hi; msg is the error otherwise.
func floatSetter(hi float64, msg string, store func(c *Config, f float64)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > hi {
			return errors.New(msg)
		}
		store(c, f)
		return nil
	}
}

// durationSetter parses a Go duration within lo..hi (0 is accepted when lo is 0).
func durationSetter(lo, hi time.Duration, store func(c *Config, d time.Duration)) func(c *Config, v string) error {
	return checkedDurationSetter(func(d time.Duration) bool { return d >= lo && d <= hi },
		fmt.Sprintf("want a duration from %v to %v such as 2s", lo, hi), store)
}

// checkedDurationSetter parses a Go duration that ok accepts; msg is the error otherwise.
func checkedDurationSetter(ok func(time.Duration) bool, msg string, store func(c *Config, d time.Duration)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || !ok(d) {
			return errors.New(msg)
		}
		store(c, d)
		return nil
	}
}

// atLeast accepts durations of at least lo.
func atLeast(lo time.Duration) func(time.Duration) bool {
	return func(d time.Duration) bool { return d >= lo }
}

// offOrAtLeast accepts 0 (off) and durations of at least lo.
func offOrAtLeast(lo time.Duration) func(time.Duration) bool {
	return func(d time.Duration) bool { return d == 0 || d >= lo }
}

func intSetter(lo, hi int, store func(c *Config, n int)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want an integer %d..%d", lo, hi)
		}
		store(c, n)
		return nil
	}
}

// int64Setter parses an integer that ok accepts; msg is the error otherwise.
func int64Setter(ok func(int64) bool, msg string, store func(c *Config, n int64)) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !ok(n) {
			return errors.New(msg)
		}
		store(c, n)
		return nil
	}
}

// Applies reports whether the setting is read by the command; an empty command means all.
func (s Setting) Applies(cmd string) bool {
	return cmd == "" || slices.Contains(s.Commands, cmd)
}

// textValue is a flag.Value that remembers whether the flag was given.
type textValue struct {
	v      string
	isBool bool
	given  bool
}

func (t *textValue) String() string     { return t.v }
func (t *textValue) Set(v string) error { t.v, t.given = v, true; return nil }
func (t *textValue) IsBoolFlag() bool   { return t.isBool }

// Load parses args and the environment read through getenv into a Config holding every
// setting; it is LoadCommand for no particular command.
func Load(args []string, getenv func(string) string) (Config, error) {
	return LoadCommand("", args, getenv)
}

// LoadCommand parses args (the command's arguments, without the command name) and the
// environment read through getenv into a Config for cmd (CmdServe, CmdWorker, CmdAll,
// CmdMigrate; "" loads every setting). Settings the command does not use keep their
// defaults and their environment variables are not read.
//
// Errors name the environment variable or flag and say what is wanted. When args ask
// for help (-h, --help) the error wraps flag.ErrHelp and the caller prints Usage.
func LoadCommand(cmd string, args []string, getenv func(string) string) (Config, error) {
	settings := Settings()
	flags, err := parseFlags(cmd, args, settings)
	if err != nil {
		return Config{}, err
	}
	c := Config{Command: cmd}
	given, errs := c.apply(cmd, settings, flags, getenv)
	if len(errs) == 0 && c.WorkerHeartbeat > 0 && c.DeadWorkerAfter <= c.WorkerHeartbeat {
		errs = append(errs, fmt.Errorf("OCRINVOICE_DEAD_WORKER_AFTER (%s) must be more than OCRINVOICE_WORKER_HEARTBEAT (%s)", c.DeadWorkerAfter, c.WorkerHeartbeat))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	c.finish(cmd, getenv, given)
	return c, nil
}

// parseFlags parses the flags of the settings cmd reads; the value of settings[i]'s flag
// is the i-th of the result (nil for a setting without a flag or not read by cmd).
func parseFlags(cmd string, args []string, settings []Setting) ([]*textValue, error) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Usage is ours; errors are returned, not printed
	values := make([]*textValue, len(settings))
	for i, s := range settings {
		if !s.Applies(cmd) || s.Flag == "" {
			continue
		}
		values[i] = &textValue{isBool: s.Bool}
		fs.Var(values[i], s.Flag, s.Usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("parse flags: %w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return values, nil
}

// apply sets every setting in c: those cmd reads from their flag, environment variable
// or default, the others from their default. It returns the environment variables of the
// settings given (not defaulted) and every error.
func (c *Config) apply(cmd string, settings []Setting, flags []*textValue, getenv func(string) string) (map[string]bool, []error) {
	given := map[string]bool{}
	var errs []error
	for i, s := range settings {
		if !s.Applies(cmd) {
			// Still apply the default so the zero value never leaks into a command.
			if s.Default != "" {
				_ = s.set(c, s.Default)
			}
			continue
		}
		v, source, err := c.lookup(s, flags[i], getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if source != "default" {
			given[s.Env] = true
		}
		if v == "" {
			continue // no default: the setting stays unset (REDIS_URL, DATABASE_URL)
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, setError(s, source, v, err))
		}
	}
	return given, errs
}

// lookup returns the value of s and where it came from, highest first: its flag, its
// environment variable (for a secret, or the file that Env+"_FILE" names; or a deprecated
// name, with a warning in c.Warnings), its default ("default").
func (c *Config) lookup(s Setting, fv *textValue, getenv func(string) string) (v, source string, err error) {
	v, source = s.Default, "default"
	if s.Env != "" {
		if e := strings.TrimSpace(getenv(s.Env)); e != "" {
			v, source = e, s.Env
		}
	}
	if s.Secret {
		if v, source, err = secretFile(s, v, source, getenv); err != nil {
			return "", "", err
		}
	}
	v, source = c.deprecatedEnv(s, v, source, getenv)
	if fv != nil && fv.given {
		v, source = fv.v, "--"+s.Flag
	}
	return v, source, nil
}

// secretFile reads the secret s from the file that Env+"_FILE" names, when it is set (one
// trailing newline dropped); v and source are the value found so far.
func secretFile(s Setting, v, source string, getenv func(string) string) (string, string, error) {
	file := strings.TrimSpace(getenv(s.Env + "_FILE"))
	if file == "" {
		return v, source, nil
	}
	if source != "default" {
		return "", "", fmt.Errorf("%s and %s_FILE are both set; set one", s.Env, s.Env)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("%s_FILE: read the secret: %w", s.Env, err)
	}
	v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if strings.TrimSpace(v) == "" {
		return "", "", fmt.Errorf("%s_FILE: %s is empty", s.Env, file)
	}
	return v, s.Env + "_FILE", nil
}

// deprecatedEnv reads the former names of s when nothing newer set it, and warns in
// c.Warnings of every former name that is set.
func (c *Config) deprecatedEnv(s Setting, v, source string, getenv func(string) string) (string, string) {
	for _, old := range s.DeprecatedEnv {
		e := strings.TrimSpace(getenv(old))
		switch {
		case e == "":
		case source == "default":
			v, source = e, old
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s is deprecated; rename it %s", old, s.Env))
		default:
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s is deprecated and ignored because %s is set", old, source))
		}
	}
	return v, source
}

// setError is the error of the value v of s from source; a secret is never echoed.
func setError(s Setting, source, v string, err error) error {
	if s.Secret {
		// Never echo a secret: name where it came from only.
		return fmt.Errorf("%s: %w", source, err)
	}
	return fmt.Errorf("%s=%q: %w", source, v, err)
}

// finish applies what depends on more than one setting: PORT when OCRINVOICE_ADDR was not
// given, the SQLite database in the data directory when no database was given, and
// GraphQL introspection for `all` only, unless it was given.
func (c *Config) finish(cmd string, getenv func(string) string, given map[string]bool) {
	if port := strings.TrimSpace(getenv("PORT")); port != "" && !given["OCRINVOICE_ADDR"] && (cmd == "" || slices.Contains(apiCmds, cmd)) {
		c.Addr = ":" + port
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "ocrinvoice.db")
	}
	if !given["OCRINVOICE_GRAPHQL_INTROSPECTION"] {
		// The playground of `make run` needs introspection; a deployed server does not.
		c.GraphQLIntrospection = cmd == CmdAll
	}
}

// CursorKey is the key that signs the job list's keyset cursors (jobs.Options.CursorKey):
// derived from CursorSecret when set, else from DatabaseURL, so that API replicas with the
// same configuration accept each other's cursors without a further setting.
func (c Config) CursorKey() []byte {
	h := hmac.New(sha256.New, []byte("ocrinvoice job list cursor v2"))
	if c.CursorSecret != "" {
		h.Write([]byte("secret\x00" + c.CursorSecret))
	} else {
		h.Write([]byte("database\x00" + c.DatabaseURL))
	}
	return h.Sum(nil)
}

// SQLitePath returns the file path of a "sqlite:" DatabaseURL (without query
// parameters) and true, or "" and false for other databases.
func (c Config) SQLitePath() (string, bool) {
	rest, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	if !ok {
		return "", false
	}
	rest = strings.TrimPrefix(rest, "file:")
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	return rest, true
}

// Logger builds the process logger writing to w in the configured format and level.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Usage writes the help of a command: synopsis, then every setting it reads with its flag,
// environment variable, default and description.
func Usage(w io.Writer, cmd, summary string) {
	fmt.Fprintf(w, "Usage: ocrinvoice %s [flags]\n\n%s\n\nFlags and environment variables (a flag wins over its variable):\n", cmd, summary)
	for _, s := range Settings() {
		if !s.Applies(cmd) {
			continue
		}
		name := "  (env only)"
		if s.Flag != "" {
			name = "  --" + s.Flag
			if !s.Bool {
				name += " value"
			}
		}
		fmt.Fprintf(w, "%s\n", name)
		env := "$" + s.Env
		if s.Secret {
			env += " or $" + s.Env + "_FILE"
		}
		fmt.Fprintf(w, "      %s  %s\n", env, s.usageText())
		if d := s.defaultText(); d != "" {
			fmt.Fprintf(w, "      default: %s\n", d)
		}
	}
}

// usageText is Usage plus the deprecated names still read.
func (s Setting) usageText() string {
	if len(s.DeprecatedEnv) == 0 {
		return s.Usage
	}
	return fmt.Sprintf("%s (deprecated name, still read: %s)", s.Usage, strings.Join(s.DeprecatedEnv, ", "))
}

func (s Setting) defaultText() string {
	if s.DefaultText != "" {
		return s.DefaultText
	}
	return s.Default
}

// Markdown writes the settings table for the README: one row per setting with its
// variable, flag, default, the commands that read it, and its description.
func Markdown(w io.Writer) {
	fmt.Fprintln(w, "| Environment variable | Flag | Default | Commands | Description |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range Settings() {
		flagName := ""
		if s.Flag != "" {
			flagName = "`--" + s.Flag + "`"
		}
		def := s.defaultText()
		if def != "" && s.DefaultText == "" {
			def = "`" + def + "`"
		}
		env := "`" + s.Env + "`"
		if s.Secret {
			env += " (or `" + s.Env + "_FILE`)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", env, flagName, mdEscape(def),
			strings.Join(s.Commands, ", "), mdEscape(s.usageText()))
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ParseDays parses a duration that may be given in days ("90d", "1.5d") as well as in
// Go's units ("36h"); "" is 0.
func ParseDays(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsNaN(days) || math.IsInf(days, 0) || days > 100*365 {
			return 0, fmt.Errorf("invalid number of days %q", v)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(v)
}
