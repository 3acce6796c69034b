package config

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := LoadCommand(CmdAll, nil, env(nil))
	if err != nil {
		t.Fatalf("LoadCommand: %v", err)
	}
	want := Config{
		Command:                CmdAll,
		Addr:                   "127.0.0.1:8080",
		DatabaseURL:            "sqlite:" + filepath.Join("data", "ocrinvoice.db"),
		RedisURL:               "",
		DataDir:                "data",
		LogLevel:               slog.LevelInfo,
		LogFormat:              "text",
		Auth:                   "apikey",
		BootstrapAdminKey:      true,
		RateLimit:              50,
		RateBurst:              100,
		AuthFailureRate:        10,
		AuthFailureBurst:       20,
		AnonymousRate:          50,
		AnonymousBurst:         100,
		UploadConcurrency:      4,
		GraphQLIntrospection:   true,
		GraphQLComplexityLimit: 20000,
		GraphQLDepthLimit:      12,
		GraphQLMaxAliases:      30,
		GraphQLMaxFields:       500,
		GraphQLMaxQueryBytes:   32768,
		GraphQLMaxNodes:        10000,
		GraphQLMaxResponseSize: 8 << 20,
		PricePerPage:           0.01,
		EInvoicePrice:          0.002,
		EInvoiceCrossCheck:     true,
		PriorityPriceFactors:   map[string]float64{"low": 0.8, "medium": 1, "high": 1.5, "urgent": 2},
		QueueDashboard:         "read-only",
		WorkerConcurrency:      runtime.NumCPU(),
		StrictPriority:         false,
		OCRMemoryLimit:         1 << 30,
		UploadMaxBytes:         50 << 20,
		UploadQuotaBytes:       10 << 30,
		UploadQuotaCount:       100_000,
		PageCacheBytes:         256 << 20,
		UploadUnusedTTL:        24 * time.Hour,
		WebhookRetryDelay:      10 * time.Second,
		RequeueInterval:        30 * time.Second,
		WorkerHeartbeat:        2 * time.Second,
		DeadWorkerAfter:        6 * time.Second,
		Runner:                 true,
		RunnerResync:           30 * time.Second,
		RunnerLease:            15 * time.Second,
		ShutdownTimeout:        25 * time.Second,

		SubscriptionsPerConnection: 50,
		SubscriptionsPerKey:        200,

		DBStatementTimeout:       2 * time.Second,
		DBWorkerStatementTimeout: 5 * time.Minute,
		FilterCostLimit:          200,
		QueryBudget:              1,
		QueryBudgetBurst:         10 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadSources(t *testing.T) {
	tests := []struct {
		name  string
		cmd   string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "env sets value",
			cmd:  CmdServe,
			env:  map[string]string{"OCRINVOICE_ADDR": "0.0.0.0:9000", "OCRINVOICE_LOG_LEVEL": "debug"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "0.0.0.0:9000" || c.LogLevel != slog.LevelDebug {
					t.Errorf("got addr %q level %v", c.Addr, c.LogLevel)
				}
			},
		},
		{
			name: "flag wins over env",
			cmd:  CmdServe,
			args: []string{"--addr", "127.0.0.1:0"},
			env:  map[string]string{"OCRINVOICE_ADDR": "0.0.0.0:9000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:0" {
					t.Errorf("addr %q, want the flag's", c.Addr)
				}
			},
		},
		{
			name: "PORT used when addr unset",
			cmd:  CmdServe,
			env:  map[string]string{"PORT": "3000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != ":3000" {
					t.Errorf("addr %q, want :3000", c.Addr)
				}
			},
		},
		{
			name: "PORT ignored when addr set",
			cmd:  CmdAll,
			env:  map[string]string{"PORT": "3000", "OCRINVOICE_ADDR": "127.0.0.1:4000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:4000" {
					t.Errorf("addr %q", c.Addr)
				}
			},
		},
		{
			name: "PORT ignored when addr flag given",
			cmd:  CmdAll,
			args: []string{"-addr=127.0.0.1:5000"},
			env:  map[string]string{"PORT": "3000"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:5000" {
					t.Errorf("addr %q", c.Addr)
				}
			},
		},
		{
			name: "database default follows data dir",
			cmd:  CmdMigrate,
			env:  map[string]string{"OCRINVOICE_DATA_DIR": "/var/lib/ocr/"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseURL != "sqlite:/var/lib/ocr/ocrinvoice.db" {
					t.Errorf("database %q", c.DatabaseURL)
				}
				if p, ok := c.SQLitePath(); !ok || p != "/var/lib/ocr/ocrinvoice.db" {
					t.Errorf("SQLitePath = %q, %v", p, ok)
				}
			},
		},
		{
			name: "postgres url kept",
			cmd:  CmdMigrate,
			env:  map[string]string{"DATABASE_URL": "postgres://root@127.0.0.1:5432/test?sslmode=disable"},
			check: func(t *testing.T, c Config) {
				if c.DatabaseURL != "postgres://root@127.0.0.1:5432/test?sslmode=disable" {
					t.Errorf("database %q", c.DatabaseURL)
				}
				if _, ok := c.SQLitePath(); ok {
					t.Errorf("SQLitePath true for postgres")
				}
			},
		},
		{
			name: "bool flag without value",
			cmd:  CmdWorker,
			args: []string{"--strict-priority", "--concurrency", "3"},
			check: func(t *testing.T, c Config) {
				if !c.StrictPriority || c.WorkerConcurrency != 3 {
					t.Errorf("strict %v concurrency %d", c.StrictPriority, c.WorkerConcurrency)
				}
			},
		},
		{
			name: "fetch allow list",
			cmd:  CmdAll,
			env:  map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": " 127.0.0.1/8, ::1/128 ,"},
			check: func(t *testing.T, c Config) {
				want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
				if !reflect.DeepEqual(c.FetchAllow, want) || len(c.Warnings) != 0 {
					t.Errorf("FetchAllow %v, want %v; warnings %q", c.FetchAllow, want, c.Warnings)
				}
			},
		},
		{
			name: "failed authentication limit behind proxies",
			cmd:  CmdServe,
			args: []string{"--auth-failure-rate", "2.5", "--auth-failure-burst", "7"},
			env:  map[string]string{"OCRINVOICE_TRUSTED_PROXIES": " 10.1.2.3/8, fd00::/8 ,", "OCRINVOICE_AUTH_FAILURE_RATE": "99"},
			check: func(t *testing.T, c Config) {
				want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
				if !reflect.DeepEqual(c.TrustedProxies, want) || c.AuthFailureRate != 2.5 || c.AuthFailureBurst != 7 {
					t.Errorf("TrustedProxies %v (want %v), rate %v, burst %d", c.TrustedProxies, want, c.AuthFailureRate, c.AuthFailureBurst)
				}
			},
		},
		{
			name: "failed authentication limit off",
			cmd:  CmdAll,
			env:  map[string]string{"OCRINVOICE_AUTH_FAILURE_RATE": "0"},
			check: func(t *testing.T, c Config) {
				if c.AuthFailureRate != 0 || c.TrustedProxies != nil {
					t.Errorf("rate %v, proxies %v", c.AuthFailureRate, c.TrustedProxies)
				}
			},
		},
		{
			name: "websocket origins",
			cmd:  CmdServe,
			env:  map[string]string{"OCRINVOICE_WS_ALLOWED_ORIGINS": " https://App.example.com, *.example.org ,localhost:3000,"},
			check: func(t *testing.T, c Config) {
				if want := []string{"app.example.com", "*.example.org", "localhost:3000"}; !reflect.DeepEqual(c.WebSocketOrigins, want) {
					t.Errorf("WebSocketOrigins %q, want %q", c.WebSocketOrigins, want)
				}
			},
		},
		{
			name: "fetch allow list flag",
			cmd:  CmdWorker,
			args: []string{"--fetch-allow-cidrs", "10.0.0.0/8"},
			check: func(t *testing.T, c Config) {
				if want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}; !reflect.DeepEqual(c.FetchAllow, want) {
					t.Errorf("FetchAllow %v, want %v", c.FetchAllow, want)
				}
			},
		},
		{
			name: "fetch allow list under its deprecated name",
			cmd:  CmdWorker,
			env:  map[string]string{"OCRINVOICE_FETCH_ALLOW_NETS": "127.0.0.0/8"},
			check: func(t *testing.T, c Config) {
				if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}; !reflect.DeepEqual(c.FetchAllow, want) {
					t.Errorf("FetchAllow %v, want %v", c.FetchAllow, want)
				}
				if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "OCRINVOICE_FETCH_ALLOW_NETS is deprecated") ||
					!strings.Contains(c.Warnings[0], "OCRINVOICE_FETCH_ALLOW_CIDRS") {
					t.Errorf("warnings %q", c.Warnings)
				}
			},
		},
		{
			name: "new fetch allow name wins over the deprecated one",
			cmd:  CmdAll,
			env:  map[string]string{"OCRINVOICE_FETCH_ALLOW_NETS": "127.0.0.0/8", "OCRINVOICE_FETCH_ALLOW_CIDRS": "192.168.0.0/16"},
			check: func(t *testing.T, c Config) {
				if want := []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}; !reflect.DeepEqual(c.FetchAllow, want) {
					t.Errorf("FetchAllow %v, want %v", c.FetchAllow, want)
				}
				if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "ignored") {
					t.Errorf("warnings %q", c.Warnings)
				}
			},
		},
		{
			name: "priority price factors, partial",
			cmd:  CmdWorker,
			env:  map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": " Urgent = 3 , low=0,"},
			check: func(t *testing.T, c Config) {
				if want := map[string]float64{"urgent": 3, "low": 0}; !reflect.DeepEqual(c.PriorityPriceFactors, want) {
					t.Errorf("factors %v, want %v", c.PriorityPriceFactors, want)
				}
			},
		},
		{
			name: "priority price factors flag",
			cmd:  CmdServe,
			args: []string{"--priority-price-factors", "low=0.5,medium=1,high=2,urgent=4"},
			env:  map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": "high=9"},
			check: func(t *testing.T, c Config) {
				if want := map[string]float64{"low": 0.5, "medium": 1, "high": 2, "urgent": 4}; !reflect.DeepEqual(c.PriorityPriceFactors, want) {
					t.Errorf("factors %v, want %v", c.PriorityPriceFactors, want)
				}
			},
		},
		{
			name: "upload limit from flag and env",
			cmd:  CmdServe,
			args: []string{"--upload-max-bytes", "1048576"},
			env:  map[string]string{"OCRINVOICE_UPLOAD_MAX_BYTES": "99", "OCRINVOICE_DATA_DIR": "/srv/ocr"},
			check: func(t *testing.T, c Config) {
				if c.UploadMaxBytes != 1<<20 || c.UploadDir() != filepath.Join("/srv/ocr", "uploads") {
					t.Errorf("UploadMaxBytes %d, UploadDir %q", c.UploadMaxBytes, c.UploadDir())
				}
			},
		},
		{
			name: "page cache from env, OCR memory limit read by serve",
			cmd:  CmdServe,
			env:  map[string]string{"OCRINVOICE_PAGE_CACHE_BYTES": "2097152", "OCRINVOICE_OCR_MEMORY_LIMIT": "33554432", "OCRINVOICE_DATA_DIR": "/srv/ocr"},
			check: func(t *testing.T, c Config) {
				if c.PageCacheBytes != 2<<20 || c.OCRMemoryLimit != 32<<20 || c.PageCacheDir() != filepath.Join("/srv/ocr", "pages") {
					t.Errorf("PageCacheBytes %d, OCRMemoryLimit %d, PageCacheDir %q", c.PageCacheBytes, c.OCRMemoryLimit, c.PageCacheDir())
				}
			},
		},
		{
			name: "subscription caps from flag and env",
			cmd:  CmdAll,
			args: []string{"--subscriptions-per-connection", "0"},
			env:  map[string]string{"OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION": "7", "OCRINVOICE_SUBSCRIPTIONS_PER_KEY": "30"},
			check: func(t *testing.T, c Config) {
				if c.SubscriptionsPerConnection != 0 || c.SubscriptionsPerKey != 30 {
					t.Errorf("per connection %d, per key %d; want 0 (flag), 30 (env)", c.SubscriptionsPerConnection, c.SubscriptionsPerKey)
				}
			},
		},
		{
			name: "bool env false",
			cmd:  CmdServe,
			env:  map[string]string{"OCRINVOICE_GRAPHQL_INTROSPECTION": "false"},
			check: func(t *testing.T, c Config) {
				if c.GraphQLIntrospection {
					t.Errorf("introspection still on")
				}
			},
		},
		{
			name: "settings of other commands ignored",
			cmd:  CmdMigrate,
			env:  map[string]string{"OCRINVOICE_WORKER_CONCURRENCY": "not-a-number", "OCRINVOICE_ADDR": "bad"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:8080" {
					t.Errorf("addr %q, want the default", c.Addr)
				}
			},
		},
		{
			name: "redis url and json logs",
			cmd:  CmdWorker,
			env:  map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/3", "OCRINVOICE_LOG_FORMAT": "JSON", "OCRINVOICE_SHUTDOWN_TIMEOUT": "1m"},
			check: func(t *testing.T, c Config) {
				if c.RedisURL != "redis://127.0.0.1:6379/3" || c.LogFormat != "json" || c.ShutdownTimeout != time.Minute {
					t.Errorf("got %+v", c)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadCommand(tc.cmd, tc.args, env(tc.env))
			if err != nil {
				t.Fatalf("LoadCommand: %v", err)
			}
			tc.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		cmd  string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"bad addr", CmdServe, nil, map[string]string{"OCRINVOICE_ADDR": "8080"}, []string{"OCRINVOICE_ADDR", "host:port"}},
		{"bad health addr", CmdWorker, nil, map[string]string{"OCRINVOICE_HEALTH_ADDR": "9090"}, []string{"OCRINVOICE_HEALTH_ADDR", "host:port"}},
		{"bad addr flag", CmdServe, []string{"--addr", "nope"}, nil, []string{"--addr", "host:port"}},
		{"bad database", CmdMigrate, nil, map[string]string{"DATABASE_URL": "mysql://x"}, []string{"DATABASE_URL", "sqlite:PATH"}},
		{"empty sqlite path", CmdMigrate, nil, map[string]string{"DATABASE_URL": "sqlite:"}, []string{"DATABASE_URL", "needs a path"}},
		{"bad redis scheme", CmdWorker, nil, map[string]string{"REDIS_URL": "http://x"}, []string{"REDIS_URL", "unsupported scheme"}},
		{"bad level", CmdServe, nil, map[string]string{"OCRINVOICE_LOG_LEVEL": "loud"}, []string{"OCRINVOICE_LOG_LEVEL", "debug, info"}},
		{"bad format", CmdServe, nil, map[string]string{"OCRINVOICE_LOG_FORMAT": "xml"}, []string{"OCRINVOICE_LOG_FORMAT"}},
		{"zero concurrency", CmdWorker, nil, map[string]string{"OCRINVOICE_WORKER_CONCURRENCY": "0"}, []string{"OCRINVOICE_WORKER_CONCURRENCY", "1..1024"}},
		{"heartbeat too short", CmdWorker, nil, map[string]string{"OCRINVOICE_WORKER_HEARTBEAT": "10ms"}, []string{"OCRINVOICE_WORKER_HEARTBEAT", "100ms"}},
		{"dead worker not after heartbeat", CmdWorker, nil, map[string]string{"OCRINVOICE_WORKER_HEARTBEAT": "5s", "OCRINVOICE_DEAD_WORKER_AFTER": "5s"},
			[]string{"OCRINVOICE_DEAD_WORKER_AFTER", "more than OCRINVOICE_WORKER_HEARTBEAT"}},
		{"negative price", CmdServe, nil, map[string]string{"OCRINVOICE_PRICE_PER_PAGE": "-1"}, []string{"OCRINVOICE_PRICE_PER_PAGE"}},
		{"NaN price", CmdServe, nil, map[string]string{"OCRINVOICE_PRICE_PER_PAGE": "NaN"}, []string{"OCRINVOICE_PRICE_PER_PAGE"}},
		{"negative subscription cap", CmdServe, nil, map[string]string{"OCRINVOICE_SUBSCRIPTIONS_PER_KEY": "-1"}, []string{"OCRINVOICE_SUBSCRIPTIONS_PER_KEY", "0..1000000"}},
		{"bad duration", CmdServe, nil, map[string]string{"OCRINVOICE_SHUTDOWN_TIMEOUT": "soon"}, []string{"OCRINVOICE_SHUTDOWN_TIMEOUT"}},
		{"requeue interval too short", CmdWorker, nil, map[string]string{"OCRINVOICE_REQUEUE_INTERVAL": "5ms"}, []string{"OCRINVOICE_REQUEUE_INTERVAL"}},
		{"negative requeue interval", CmdWorker, nil, map[string]string{"OCRINVOICE_REQUEUE_INTERVAL": "-1s"}, []string{"OCRINVOICE_REQUEUE_INTERVAL"}},
		{"bad dashboard", CmdServe, nil, map[string]string{"OCRINVOICE_QUEUE_DASHBOARD": "yes"}, []string{"OCRINVOICE_QUEUE_DASHBOARD", "read-only"}},
		{"bad fetch net", CmdWorker, nil, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.1"}, []string{"OCRINVOICE_FETCH_ALLOW_CIDRS", "CIDR"}},
		{"bad fetch net, deprecated name", CmdWorker, nil, map[string]string{"OCRINVOICE_FETCH_ALLOW_NETS": "nope"}, []string{"OCRINVOICE_FETCH_ALLOW_NETS", "CIDR"}},
		{"bad trusted proxy", CmdServe, nil, map[string]string{"OCRINVOICE_TRUSTED_PROXIES": "10.0.0.1"}, []string{"OCRINVOICE_TRUSTED_PROXIES", "CIDR"}},
		{"negative auth failure rate", CmdServe, []string{"--auth-failure-rate", "-1"}, nil, []string{"--auth-failure-rate", "0..1000000"}},
		{"NaN auth failure rate", CmdAll, nil, map[string]string{"OCRINVOICE_AUTH_FAILURE_RATE": "NaN"}, []string{"OCRINVOICE_AUTH_FAILURE_RATE"}},
		{"zero auth failure burst", CmdServe, nil, map[string]string{"OCRINVOICE_AUTH_FAILURE_BURST": "0"}, []string{"OCRINVOICE_AUTH_FAILURE_BURST", "1..1000000"}},
		{"unknown priority factor", CmdWorker, nil, map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": "critical=3"}, []string{"OCRINVOICE_PRIORITY_PRICE_FACTORS", "unknown priority", "low, medium, high, urgent"}},
		{"negative priority factor", CmdServe, nil, map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": "low=-0.5"}, []string{"OCRINVOICE_PRIORITY_PRICE_FACTORS", "factor of low"}},
		{"NaN priority factor", CmdAll, []string{"--priority-price-factors", "high=NaN"}, nil, []string{"--priority-price-factors", "factor of high"}},
		{"priority factor without value", CmdServe, nil, map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": "low"}, []string{"OCRINVOICE_PRIORITY_PRICE_FACTORS", "priority=factor"}},
		{"priority factor twice", CmdServe, nil, map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": "low=1,LOW=2"}, []string{"given twice"}},
		{"only commas", CmdServe, nil, map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": ",,"}, []string{"priority=factor"}},
		{"zero upload limit", CmdServe, nil, map[string]string{"OCRINVOICE_UPLOAD_MAX_BYTES": "0"}, []string{"OCRINVOICE_UPLOAD_MAX_BYTES", "number of bytes"}},
		{"page cache below 1 MiB", CmdServe, nil, map[string]string{"OCRINVOICE_PAGE_CACHE_BYTES": "1000"}, []string{"OCRINVOICE_PAGE_CACHE_BYTES", "1048576"}},
		{"upload limit with unit", CmdWorker, []string{"--upload-max-bytes", "50MiB"}, nil, []string{"--upload-max-bytes", "number of bytes"}},
		{"bad websocket origin", CmdServe, []string{"--ws-allowed-origins", "app.example.com/path"}, nil, []string{"--ws-allowed-origins", "host patterns"}},
		{"bad websocket origin pattern", CmdAll, nil, map[string]string{"OCRINVOICE_WS_ALLOWED_ORIGINS": "[x"}, []string{"OCRINVOICE_WS_ALLOWED_ORIGINS"}},
		{"bad bool", CmdServe, nil, map[string]string{"OCRINVOICE_GRAPHQL_INTROSPECTION": "maybe"}, []string{"OCRINVOICE_GRAPHQL_INTROSPECTION"}},
		{"bad port", CmdServe, nil, map[string]string{"PORT": "http"}, []string{"PORT"}},
		{"two errors at once", CmdServe, nil, map[string]string{"OCRINVOICE_LOG_LEVEL": "x", "OCRINVOICE_LOG_FORMAT": "y"}, []string{"OCRINVOICE_LOG_LEVEL", "OCRINVOICE_LOG_FORMAT"}},
		{"unknown flag", CmdServe, []string{"--nope"}, nil, []string{"nope"}},
		{"flag of another command", CmdMigrate, []string{"--concurrency", "2"}, nil, []string{"concurrency"}},
		{"positional argument", CmdServe, []string{"extra"}, nil, []string{"unexpected argument", "extra"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCommand(tc.cmd, tc.args, env(tc.env))
			if err == nil {
				t.Fatal("LoadCommand succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			_, err := LoadCommand(CmdServe, []string{arg}, env(nil))
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err = %v, want flag.ErrHelp", err)
			}
		})
	}
}

func TestUsageListsEverySettingOfTheCommand(t *testing.T) {
	for _, cmd := range []string{CmdServe, CmdWorker, CmdAll, CmdMigrate} {
		t.Run(cmd, func(t *testing.T) {
			var b bytes.Buffer
			Usage(&b, cmd, "summary")
			out := b.String()
			for _, s := range Settings() {
				has := strings.Contains(out, "$"+s.Env+" ")
				if has != s.Applies(cmd) {
					t.Errorf("%s: listed=%v, applies=%v", s.Env, has, s.Applies(cmd))
				}
				if s.Applies(cmd) && s.Flag != "" && !strings.Contains(out, "--"+s.Flag) {
					t.Errorf("flag --%s missing", s.Flag)
				}
				for _, old := range s.DeprecatedEnv {
					if s.Applies(cmd) && !strings.Contains(out, old) {
						t.Errorf("deprecated name %s of %s not mentioned", old, s.Env)
					}
				}
			}
		})
	}
}

func TestSettingsTable(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if envs[s.Env] {
			t.Errorf("env %s declared twice", s.Env)
		}
		envs[s.Env] = true
		if s.Flag != "" {
			if flags[s.Flag] {
				t.Errorf("flag %s declared twice", s.Flag)
			}
			flags[s.Flag] = true
		}
		if s.Usage == "" || len(s.Commands) == 0 || s.set == nil {
			t.Errorf("%s: incomplete declaration", s.Env)
		}
		// Every declared default must pass its own validation.
		if s.Default != "" {
			var c Config
			if err := s.set(&c, s.Default); err != nil {
				t.Errorf("%s: default %q invalid: %v", s.Env, s.Default, err)
			}
		}
	}
	var b bytes.Buffer
	Markdown(&b)
	if got, want := strings.Count(b.String(), "\n"), len(Settings())+2; got != want {
		t.Errorf("markdown has %d lines, want %d", got, want)
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		format, level string
		wantLine      string
		quiet         bool
	}{
		{"json", "info", `"msg":"Hello"`, false},
		{"text", "info", `msg=Hello`, false},
		{"text", "error", ``, true},
	}
	for _, tc := range tests {
		t.Run(tc.format+"/"+tc.level, func(t *testing.T) {
			c, err := LoadCommand(CmdServe, []string{"--log-format", tc.format, "--log-level", tc.level}, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			c.Logger(&b).Info("Hello", slog.String("job_id", "x"))
			if tc.quiet != (b.Len() == 0) {
				t.Fatalf("output %q, quiet=%v", b.String(), tc.quiet)
			}
			if !strings.Contains(b.String(), tc.wantLine) {
				t.Errorf("output %q lacks %q", b.String(), tc.wantLine)
			}
		})
	}
}

// TestREADMEConfigTable keeps the README's configuration table equal to the declarations
// (regenerate it with make config-table).
func TestREADMEConfigTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("no README next to the module: %v", err)
	}
	const begin, end = "<!-- BEGIN CONFIG TABLE (make config-table) -->\n", "<!-- END CONFIG TABLE -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README lacks the markers %q ... %q around the configuration table", begin, end)
	}
	var b bytes.Buffer
	Markdown(&b)
	if got := s[i+len(begin) : j]; got != b.String() {
		t.Errorf("README configuration table is stale; replace it with the output of make config-table:\n%s", b.String())
	}
}

func TestIntrospectionDefaultsByCommand(t *testing.T) {
	for cmd, want := range map[string]bool{CmdAll: true, CmdServe: false} {
		c, err := LoadCommand(cmd, nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.GraphQLIntrospection != want {
			t.Errorf("%s: introspection %v, want %v", cmd, c.GraphQLIntrospection, want)
		}
	}
	c, err := LoadCommand(CmdServe, nil, env(map[string]string{"OCRINVOICE_GRAPHQL_INTROSPECTION": "true"}))
	if err != nil || !c.GraphQLIntrospection {
		t.Fatalf("serve with OCRINVOICE_GRAPHQL_INTROSPECTION=true: %v %v", c.GraphQLIntrospection, err)
	}
	c, err = LoadCommand(CmdAll, []string{"--graphql-introspection=false"}, env(nil))
	if err != nil || c.GraphQLIntrospection {
		t.Fatalf("all --graphql-introspection=false: %v %v", c.GraphQLIntrospection, err)
	}
}

// Secrets come from VAR or VAR_FILE, never both, and are never echoed in errors.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "db-url")
	const secretURL = "postgres://app:s3cr3t-pw@db:5432/ocr?sslmode=disable"
	if err := os.WriteFile(file, []byte(secretURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCommand(CmdServe, nil, env(map[string]string{"DATABASE_URL_FILE": file}))
	if err != nil || c.DatabaseURL != secretURL {
		t.Fatalf("DATABASE_URL_FILE: %q %v", c.DatabaseURL, err)
	}
	_, err = LoadCommand(CmdServe, nil, env(map[string]string{"DATABASE_URL_FILE": file, "DATABASE_URL": secretURL}))
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("both set: %v", err)
	}
	_, err = LoadCommand(CmdServe, nil, env(map[string]string{"DATABASE_URL_FILE": filepath.Join(dir, "missing")}))
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL_FILE") {
		t.Fatalf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("mysql://root:hunter2@db/x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range []map[string]string{{"DATABASE_URL_FILE": bad}, {"DATABASE_URL": "mysql://root:hunter2@db/x"}} {
		_, err = LoadCommand(CmdServe, nil, env(e))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("a bad secret must fail without being echoed: %v", err)
		}
	}
	wh := filepath.Join(dir, "wh")
	if err := os.WriteFile(wh, []byte("whsec\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = LoadCommand(CmdWorker, nil, env(map[string]string{"OCRINVOICE_WEBHOOK_SECRET_FILE": wh}))
	if err != nil || c.WebhookSecret != "whsec" {
		t.Fatalf("OCRINVOICE_WEBHOOK_SECRET_FILE: %q %v", c.WebhookSecret, err)
	}
	var help strings.Builder
	Usage(&help, CmdWorker, "")
	if !strings.Contains(help.String(), "$REDIS_URL or $REDIS_URL_FILE") {
		t.Errorf("help does not name REDIS_URL_FILE:\n%s", help.String())
	}
}

func TestAuthAndLimits(t *testing.T) {
	c, err := LoadCommand(CmdServe, []string{"--auth", "none", "--rate-limit", "2.5", "--cors-origins", "https://App.example.com, http://localhost:3000"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth != "none" || c.RateLimit != 2.5 || !reflect.DeepEqual(c.CORSOrigins, []string{"https://app.example.com", "http://localhost:3000"}) {
		t.Fatalf("got auth %q rate %v cors %v", c.Auth, c.RateLimit, c.CORSOrigins)
	}
	for _, args := range [][]string{{"--auth", "basic"}, {"--cors-origins", "app.example.com"}, {"--cors-origins", "https://x.example/path"}, {"--rate-limit", "-1"}} {
		if _, err := LoadCommand(CmdServe, args, env(nil)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestDatabaseBoundsSettings: the pool, deadline, filter cost and query budget settings
// parse and refuse what they cannot use.
func TestDatabaseBoundsSettings(t *testing.T) {
	c, err := LoadCommand(CmdServe, nil, env(map[string]string{
		"OCRINVOICE_DB_MAX_CONNS": "16", "OCRINVOICE_DB_MAX_IDLE_CONNS": "4",
		"OCRINVOICE_DB_STATEMENT_TIMEOUT": "500ms", "OCRINVOICE_DB_WORKER_STATEMENT_TIMEOUT": "1m",
		"OCRINVOICE_FILTER_COST_LIMIT": "0", "OCRINVOICE_QUERY_BUDGET": "0.5", "OCRINVOICE_QUERY_BUDGET_BURST": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBMaxConns != 16 || c.DBMaxIdleConns != 4 || c.DBStatementTimeout != 500*time.Millisecond ||
		c.DBWorkerStatementTimeout != time.Minute || c.FilterCostLimit != 0 || c.QueryBudget != 0.5 || c.QueryBudgetBurst != 3*time.Second {
		t.Fatalf("settings not applied: %+v", c)
	}
	for k, v := range map[string]string{
		"OCRINVOICE_DB_MAX_CONNS":                "-1",
		"OCRINVOICE_DB_STATEMENT_TIMEOUT":        "soon",
		"OCRINVOICE_DB_WORKER_STATEMENT_TIMEOUT": "10ms",
		"OCRINVOICE_FILTER_COST_LIMIT":           "-5",
		"OCRINVOICE_QUERY_BUDGET":                "NaN",
		"OCRINVOICE_QUERY_BUDGET_BURST":          "0",
	} {
		if _, err := LoadCommand(CmdServe, nil, env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming it", k, v, err)
		}
	}
}

// Replicas with the same DATABASE_URL, or the same OCRINVOICE_CURSOR_SECRET, sign cursors
// with the same key; the key is not the secret itself.
func TestCursorKey(t *testing.T) {
	load := func(vars map[string]string) []byte {
		t.Helper()
		c, err := LoadCommand(CmdServe, nil, env(vars))
		if err != nil {
			t.Fatal(err)
		}
		return c.CursorKey()
	}
	pgA := map[string]string{"DATABASE_URL": "postgres://app:pw@db-a:5432/ocr"}
	pgB := map[string]string{"DATABASE_URL": "postgres://app:pw@db-b:5432/ocr"}
	if k1, k2 := load(pgA), load(pgA); !bytes.Equal(k1, k2) || len(k1) != 32 {
		t.Errorf("two replicas with one DATABASE_URL: %x, %x", k1, k2)
	}
	if bytes.Equal(load(pgA), load(pgB)) {
		t.Error("two DATABASE_URLs give one key")
	}
	withSecret := func(m map[string]string) map[string]string {
		out := map[string]string{"OCRINVOICE_CURSOR_SECRET": "shared cursor secret"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	ka, kb := load(withSecret(pgA)), load(withSecret(pgB))
	if !bytes.Equal(ka, kb) || bytes.Equal(ka, load(pgA)) || bytes.Contains(ka, []byte("shared")) {
		t.Errorf("OCRINVOICE_CURSOR_SECRET: %x, %x", ka, kb)
	}
}
