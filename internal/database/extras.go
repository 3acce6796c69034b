package database

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
)

// The schema objects that ent's migration does not know, created by Migrate after it
// (see migrateExtras). All are kept in step with ocr_invoice_jobs by the database itself
// (triggers, or indexes on expressions), so that every writer, including one that does
// not go through internal/jobs, keeps them right.
const (
	// JobSearchDocs (SQLite) holds one row per job: its id and its search text
	// (JobSearchText), with an INTEGER PRIMARY KEY that the full-text index refers to
	// (a rowid of ocr_invoice_jobs itself is not stable across VACUUM).
	JobSearchDocs = "ocr_job_search_docs"
	// JobSearchFTS (SQLite) is the FTS5 index with the trigram tokenizer over
	// JobSearchDocs.body: a substring of 3 or more characters is found from the index.
	JobSearchFTS = "ocr_job_search"
	// JobSearchTrigramIndex (PostgreSQL) is the pg_trgm GIN index over the search text
	// expression (JobSearchExpr) of ocr_invoice_jobs.
	JobSearchTrigramIndex = "ocrinvoicejob_search_trgm"
	// JobCounts holds the number of jobs per owner (created_by, '' for none) and status,
	// maintained by triggers (on PostgreSQL in a few shards per owner and status, so that
	// concurrent writers do not queue on one row): a list's exact total without a scan.
	JobCounts = "ocr_job_counts"
	// JobExtractedDataIndex (PostgreSQL) is the GIN (jsonb_path_ops) index over
	// extracted_data that filters on extractedData paths use (containment, @>).
	JobExtractedDataIndex = "ocrinvoicejob_extracted_data_gin"
	// jobCountShards is the number of counter rows per owner and status on PostgreSQL.
	jobCountShards = 8
)

// JobSearchColumns are the columns free-text search covers, in the order they are
// joined into the search text.
var JobSearchColumns = []string{"job_number", "document_name", "invoice_number", "supplier_name", "customer_name"}

// JobSearchSeparator joins the columns in the search text. A search term never holds it
// (control characters are refused), so a term found in the text is found in one column.
const JobSearchSeparator = "\n"

// JobSearchExpr returns the SQL expression of a job's search text: JobSearchColumns,
// NULL as empty, joined by JobSearchSeparator. col renders a column (quoted, and
// qualified if need be). On PostgreSQL the trigram index is built on this expression,
// so a query must write it the same way to use the index.
func JobSearchExpr(col func(string) string) string {
	parts := make([]string, len(JobSearchColumns))
	for i, c := range JobSearchColumns {
		parts[i] = "COALESCE(" + col(c) + ", '')"
	}
	return "(" + strings.Join(parts, " || E'\\n' || ") + ")"
}

// sqliteSearchExpr is JobSearchExpr for SQLite, over the row `row` of a trigger.
func sqliteSearchExpr(row string) string {
	parts := make([]string, len(JobSearchColumns))
	for i, c := range JobSearchColumns {
		parts[i] = "COALESCE(" + row + "." + c + ", '')"
	}
	return strings.Join(parts, " || char(10) || ")
}

func quoteIdent(s string) string { return `"` + s + `"` }

// migrateExtras creates (idempotently) the search index, the job counters and, on
// PostgreSQL, the JSON index; a counter table or search table made now is filled from
// the jobs already there, in the same transaction (which holds the jobs' write lock).
//
// On PostgreSQL, the trigram index needs the pg_trgm extension: Migrate creates it (in
// schema public, or the current schema if there is no public) unless it exists. It is a
// trusted extension since PostgreSQL 13: a role with CREATE on the database may create
// it. If it cannot be had, search still works, by a scan (a warning-free fallback: the
// error is returned only when the extension exists but the index cannot be made).
// Creating the indexes on a large table blocks writes to it while they build.
func migrateExtras(ctx context.Context, db *sql.DB, dia string) error {
	switch dia {
	case dialect.Postgres:
		return migratePostgresExtras(ctx, db)
	case dialect.SQLite:
		return migrateSQLiteExtras(ctx, db)
	}
	return nil
}

func migratePostgresExtras(ctx context.Context, db *sql.DB) error {
	trgmSchema, err := ensureTrigram(ctx, db)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// One migration at a time per database (several replicas start together). Building
	// an index over many jobs takes longer than a request's statement_timeout.
	for _, q := range []string{`SET LOCAL statement_timeout = 0`, `SELECT pg_advisory_xact_lock(7306418200)`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("migrate extras: %s: %w", q, err)
		}
	}
	var existed bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, JobCounts).Scan(&existed); err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	stmts := []string{}
	if trgmSchema != "" {
		stmts = append(stmts, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON ocr_invoice_jobs USING gin (%s %s.gin_trgm_ops)`,
			JobSearchTrigramIndex, JobSearchExpr(quoteIdent), quoteIdent(trgmSchema)))
	}
	stmts = append(stmts,
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON ocr_invoice_jobs USING gin (extracted_data jsonb_path_ops)`, JobExtractedDataIndex),
		`CREATE TABLE IF NOT EXISTS `+JobCounts+` (owner text NOT NULL, status text NOT NULL, shard integer NOT NULL,
			n bigint NOT NULL, PRIMARY KEY (owner, status, shard))`,
		// The shard is the backend's: concurrent writers (each on its own connection)
		// update different rows instead of waiting on one another's row lock. Inserts
		// and deletes are counted once per statement (a bulk insert of 1,000 jobs is one
		// upsert per owner and status); an update only when it moves a job to another
		// status or owner.
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION ocr_job_counts_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO %[1]s AS c (owner, status, shard, n)
		SELECT COALESCE(created_by, ''), status, pg_backend_pid() %% %[2]d, count(*) FROM counted_rows GROUP BY 1, 2, 3
		ON CONFLICT (owner, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
	ELSE
		INSERT INTO %[1]s AS c (owner, status, shard, n)
		SELECT COALESCE(created_by, ''), status, pg_backend_pid() %% %[2]d, -count(*) FROM counted_rows GROUP BY 1, 2, 3
		ON CONFLICT (owner, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
	END IF;
	RETURN NULL;
END $$`, JobCounts, jobCountShards),
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION ocr_job_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO %[1]s AS c (owner, status, shard, n) VALUES (COALESCE(OLD.created_by, ''), OLD.status, pg_backend_pid() %% %[2]d, -1)
	ON CONFLICT (owner, status, shard) DO UPDATE SET n = c.n - 1;
	INSERT INTO %[1]s AS c (owner, status, shard, n) VALUES (COALESCE(NEW.created_by, ''), NEW.status, pg_backend_pid() %% %[2]d, 1)
	ON CONFLICT (owner, status, shard) DO UPDATE SET n = c.n + 1;
	RETURN NULL;
END $$`, JobCounts, jobCountShards),
		`DROP TRIGGER IF EXISTS ocr_job_counts_insert ON ocr_invoice_jobs`,
		`CREATE TRIGGER ocr_job_counts_insert AFTER INSERT ON ocr_invoice_jobs
			REFERENCING NEW TABLE AS counted_rows FOR EACH STATEMENT EXECUTE FUNCTION ocr_job_counts_rows()`,
		`DROP TRIGGER IF EXISTS ocr_job_counts_delete ON ocr_invoice_jobs`,
		`CREATE TRIGGER ocr_job_counts_delete AFTER DELETE ON ocr_invoice_jobs
			REFERENCING OLD TABLE AS counted_rows FOR EACH STATEMENT EXECUTE FUNCTION ocr_job_counts_rows()`,
		`DROP TRIGGER IF EXISTS ocr_job_counts_update ON ocr_invoice_jobs`,
		`CREATE TRIGGER ocr_job_counts_update AFTER UPDATE OF status, created_by ON ocr_invoice_jobs
			FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.created_by IS DISTINCT FROM NEW.created_by)
			EXECUTE FUNCTION ocr_job_counts_move()`,
	)
	if !existed {
		// No write may slip between the count and the trigger taking over.
		stmts = append(stmts, `LOCK TABLE ocr_invoice_jobs IN SHARE MODE`,
			`INSERT INTO `+JobCounts+` (owner, status, shard, n)
				SELECT COALESCE(created_by, ''), status, 0, count(*) FROM ocr_invoice_jobs GROUP BY 1, 2`)
	}
	return execCommit(ctx, tx, stmts)
}

// ensureTrigram returns the schema of the pg_trgm extension, creating the extension if
// it is missing, or "" if it is not available.
func ensureTrigram(ctx context.Context, db *sql.DB) (string, error) {
	find := func() (string, error) {
		var schema string
		err := db.QueryRowContext(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
			WHERE e.extname = 'pg_trgm'`).Scan(&schema)
		if err == sql.ErrNoRows {
			return "", nil
		}
		return schema, err
	}
	schema, err := find()
	if err != nil || schema != "" {
		return schema, err
	}
	// Never in a private (test) schema: dropping it would drop the extension, and with
	// it the indexes of every other schema that use it.
	var target string
	if err := db.QueryRowContext(ctx, `SELECT COALESCE((SELECT nspname FROM pg_namespace WHERE nspname = 'public'), current_schema())`).Scan(&target); err != nil {
		return "", fmt.Errorf("migrate extras: %w", err)
	}
	_, createErr := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA `+quoteIdent(target))
	// A concurrent migration may have created it meanwhile (a unique violation here).
	if schema, err = find(); err != nil || schema != "" {
		return schema, err
	}
	_ = createErr // not available: search falls back to a scan
	return "", nil
}

func migrateSQLiteExtras(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see OpenWith): the write lock
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	exists := func(name string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n)
		return n > 0, err
	}
	searchExisted, err := exists(JobSearchDocs)
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	ftsExisted, err := exists(JobSearchFTS)
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	countsExisted, err := exists(JobCounts)
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	ftsTriggers, err := exists("ocr_job_search_docs_ai")
	if err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	var fts []string
	if !FTS5() && ftsTriggers {
		// A database indexed by a build with FTS5, opened by one without: its triggers
		// would fail every insert ("no such module: fts5"). The index goes stale until
		// a build with FTS5 opens the database again and rebuilds it.
		fts = []string{`DROP TRIGGER IF EXISTS ocr_job_search_docs_ai`, `DROP TRIGGER IF EXISTS ocr_job_search_docs_ad`}
	}
	if FTS5() {
		fts = []string{`CREATE VIRTUAL TABLE IF NOT EXISTS ` + JobSearchFTS + ` USING fts5(body, content='` + JobSearchDocs + `', content_rowid='id', tokenize='trigram')`,
			`CREATE TRIGGER IF NOT EXISTS ocr_job_search_docs_ai AFTER INSERT ON ` + JobSearchDocs + ` BEGIN
			INSERT INTO ` + JobSearchFTS + `(rowid, body) VALUES (new.id, new.body); END`,
			`CREATE TRIGGER IF NOT EXISTS ocr_job_search_docs_ad AFTER DELETE ON ` + JobSearchDocs + ` BEGIN
			INSERT INTO ` + JobSearchFTS + `(` + JobSearchFTS + `, rowid, body) VALUES ('delete', old.id, old.body); END`,
		}
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + JobSearchDocs + ` (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_search_ai AFTER INSERT ON ocr_invoice_jobs BEGIN
			INSERT INTO ` + JobSearchDocs + `(job_id, body) VALUES (new.id, ` + sqliteSearchExpr("new") + `); END`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_search_au AFTER UPDATE OF ` + strings.Join(JobSearchColumns, ", ") + ` ON ocr_invoice_jobs
			WHEN ` + sqliteSearchExpr("old") + ` IS NOT ` + sqliteSearchExpr("new") + ` BEGIN
			DELETE FROM ` + JobSearchDocs + ` WHERE job_id = old.id;
			INSERT INTO ` + JobSearchDocs + `(job_id, body) VALUES (new.id, ` + sqliteSearchExpr("new") + `); END`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_search_ad AFTER DELETE ON ocr_invoice_jobs BEGIN
			DELETE FROM ` + JobSearchDocs + ` WHERE job_id = old.id; END`,
		`CREATE TABLE IF NOT EXISTS ` + JobCounts + ` (owner TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (owner, status))`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_counts_ai AFTER INSERT ON ocr_invoice_jobs BEGIN
			INSERT INTO ` + JobCounts + `(owner, status, n) VALUES (COALESCE(new.created_by, ''), new.status, 1)
			ON CONFLICT (owner, status) DO UPDATE SET n = n + 1; END`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_counts_ad AFTER DELETE ON ocr_invoice_jobs BEGIN
			INSERT INTO ` + JobCounts + `(owner, status, n) VALUES (COALESCE(old.created_by, ''), old.status, -1)
			ON CONFLICT (owner, status) DO UPDATE SET n = n - 1; END`,
		`CREATE TRIGGER IF NOT EXISTS ocr_job_counts_au AFTER UPDATE OF status, created_by ON ocr_invoice_jobs
			WHEN old.status IS NOT new.status OR old.created_by IS NOT new.created_by BEGIN
			INSERT INTO ` + JobCounts + `(owner, status, n) VALUES (COALESCE(old.created_by, ''), old.status, -1)
			ON CONFLICT (owner, status) DO UPDATE SET n = n - 1;
			INSERT INTO ` + JobCounts + `(owner, status, n) VALUES (COALESCE(new.created_by, ''), new.status, 1)
			ON CONFLICT (owner, status) DO UPDATE SET n = n + 1; END`,
	}
	// The full-text index and its triggers come before the documents are copied, so
	// that the copy fills the index too.
	stmts = append(stmts[:1], append(fts, stmts[1:]...)...)
	if !searchExisted {
		stmts = append(stmts, `INSERT INTO `+JobSearchDocs+`(job_id, body) SELECT id, `+sqliteSearchExpr("ocr_invoice_jobs")+` FROM ocr_invoice_jobs`)
	}
	if FTS5() && searchExisted && (!ftsExisted || !ftsTriggers) {
		// A database made by a build without FTS5, or written by one since: index the
		// documents it has.
		stmts = append(stmts, `INSERT INTO `+JobSearchFTS+`(`+JobSearchFTS+`) VALUES ('rebuild')`)
	}
	if !countsExisted {
		stmts = append(stmts, `INSERT INTO `+JobCounts+`(owner, status, n)
			SELECT COALESCE(created_by, ''), status, count(*) FROM ocr_invoice_jobs GROUP BY 1, 2`)
	}
	return execCommit(ctx, tx, stmts)
}

// execCommit runs stmts in tx, in order, and commits it; the first failure names its
// statement and leaves tx to its caller's rollback.
func execCommit(ctx context.Context, tx *sql.Tx, stmts []string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("migrate extras: %s: %w", firstLine(q), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate extras: %w", err)
	}
	return nil
}

// FTS5 reports whether this binary's SQLite has the FTS5 module (the build tag
// sqlite_fts5, which the Makefile and the Dockerfile set). Without it, SQLite search
// reads the narrow ocr_job_search_docs table instead of a trigram index: the same
// results, by a scan of that table.
func FTS5() bool {
	fts5Once.Do(func() {
		db, err := sql.Open(sqliteDriver, "file:fts5probe?mode=memory")
		if err != nil {
			return
		}
		defer db.Close()
		_, err = db.Exec(`CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')`)
		fts5 = err == nil
	})
	return fts5
}

var (
	fts5Once sync.Once
	fts5     bool
)

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
