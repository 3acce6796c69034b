package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// OcrInvoiceJob is one document to read. Fields mirror the REST contract; the server
// owns status, progress, results, timing, cost and error fields (they are skipped in
// the GraphQL mutation inputs and changed only by internal/jobs).
type OcrInvoiceJob struct {
	ent.Schema
}

// serverOwned hides a field from the generated GraphQL mutation inputs.
var serverOwned = entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)

// Mixin of the OcrInvoiceJob.
func (OcrInvoiceJob) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the OcrInvoiceJob.
func (OcrInvoiceJob) Fields() []ent.Field {
	return []ent.Field{
		chars(field.String("job_number").
			Unique().
			NotEmpty().
			Annotations(entgql.OrderField("JOB_NUMBER")), 128),
		chars(field.String("document_name").
			NotEmpty().
			Annotations(entgql.OrderField("DOCUMENT_NAME")), 1024),
		field.String("document_url").
			NotEmpty().
			MaxLen(4096),
		// Optional in the schema so that the API may infer it from the name or URL;
		// internal/jobs always stores a value.
		field.Enum("document_type").
			Values("pdf", "png", "jpg", "jpeg", "tiff", "bmp", "xml").
			Optional().
			Annotations(entgql.OrderField("DOCUMENT_TYPE")),
		field.String("template_id").
			MaxLen(24),
		field.String("group_id").
			Optional().
			Nillable().
			MaxLen(24),
		field.Enum("status").
			Values("created", "queued", "processing", "completed", "failed", "cancelled").
			Default("created").
			Annotations(entgql.OrderField("STATUS"), serverOwned),
		field.Enum("priority").
			Values("low", "medium", "high", "urgent").
			Default("medium").
			Annotations(entgql.OrderField("PRIORITY")),
		field.JSON("progress", invoice.Progress{}).
			Default(invoice.Progress{}).
			Annotations(entgql.Type("JobProgress"), serverOwned),
		field.Time("started_at").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("STARTED_AT"), serverOwned),
		field.Time("completed_at").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("COMPLETED_AT"), serverOwned),
		// Seconds from start to completion.
		field.Float("processing_time").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("PROCESSING_TIME"), serverOwned),
		field.JSON("document_info", &invoice.DocumentInfo{}).
			Optional().
			Annotations(entgql.Type("DocumentInfo"), serverOwned),
		field.JSON("extracted_data", &invoice.ExtractedData{}).
			Optional().
			Annotations(entgql.Type("ExtractedData"), serverOwned),
		field.JSON("confidence", &invoice.Confidence{}).
			Optional().
			Annotations(entgql.Type("Confidence"), serverOwned),
		field.JSON("validation_results", &invoice.ValidationResults{}).
			Optional().
			Annotations(entgql.Type("ValidationResults"), serverOwned),
		// The extracted data as the machine produced it, set at completion; extracted_data
		// is this plus the people's corrections. Null for rows completed before it existed
		// (their first correction copies extracted_data here).
		// Not a GraphQL field: a second extractedData would double the cost of a full page
		// of jobs; GraphQL gives each field's machineValue instead (ExtractedField).
		field.JSON("machine_data", &invoice.ExtractedData{}).
			Optional().
			Annotations(entgql.Skip()),
		// The corrections made to extracted_data by people, oldest first (at most
		// jobs.MaxCorrections). Optional so that older rows need no default; the APIs
		// answer [] for them.
		field.JSON("corrections", []invoice.Correction{}).
			Optional().
			Annotations(entgql.Type("[Correction!]!"), serverOwned),
		// Where a person is in checking the results (invoice.ReviewStatuses); a re-run
		// starts over at unreviewed.
		field.Enum("review_status").
			Values(invoice.ReviewStatuses...).
			Default(invoice.ReviewUnreviewed).
			Annotations(entgql.OrderField("REVIEW_STATUS"), serverOwned),
		// Where each extracted value came from, keyed by field path (see invoice.Fields);
		// set at completion, a corrected path's evidence says so. GraphQL offers it through
		// the job's fields.
		field.JSON("evidence", map[string]invoice.Evidence{}).
			Optional().
			Annotations(entgql.Skip()),
		// Grows by one on every change of the results (completion, correction, approval,
		// a re-run starting): the version a correction names (If-Match, ifVersion) so that
		// it never silently overwrites a change it did not see.
		field.Int("data_version").
			Default(0).
			NonNegative().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		// Copies of extracted values that free-text search reads (kept in step with
		// extracted_data by internal/jobs; not part of the API).
		field.String("invoice_number").
			Optional().
			Annotations(entgql.Skip()),
		field.String("supplier_name").
			Optional().
			Annotations(entgql.Skip()),
		field.String("customer_name").
			Optional().
			Annotations(entgql.Skip()),
		// Hex SHA-256 of the document that was read.
		field.String("document_sha256").
			Optional().
			Annotations(serverOwned),
		field.Float("cost").
			Default(0).
			Annotations(entgql.OrderField("COST"), serverOwned),
		field.String("currency").
			Default("USD").
			MaxLen(3).
			Annotations(serverOwned),
		// When the document's stored copy (an upload) was deleted after the document
		// retention period (OCRINVOICE_RETENTION_DOCUMENTS); the extracted data stays, but
		// the job cannot be run again on this document.
		field.Time("document_deleted_at").
			Optional().
			Nillable().
			Annotations(serverOwned),
		field.Text("error_log").
			Optional().
			Annotations(serverOwned),
		field.Int("retry_count").
			Default(0).
			NonNegative().
			Annotations(entgql.OrderField("RETRY_COUNT"), serverOwned),
		// The job's runs, oldest first (at most jobs.MaxAttempts kept): each start by a
		// worker appends one, its end sets the outcome. Optional so that rows written before
		// the field existed need no default; GraphQL answers [] for them.
		field.JSON("attempts", []invoice.JobAttempt{}).
			Optional().
			Annotations(entgql.Type("[JobAttempt!]!"), serverOwned),
		// Which task may run the job: 0 for the task whose id is the job id, n for the
		// task the requeue sweep enqueued after it declared the worker of run n-1 lost.
		// A worker's writes are conditional on the run it started, so that a stale task or
		// a worker that was presumed dead cannot touch a newer run (not part of the API).
		field.Int("task_run").
			Default(0).
			NonNegative().
			Annotations(entgql.Skip()),
		chars(field.String("created_by").
			Optional(), 256),
		// Where a webhook is POSTed when the job reaches a terminal state; when empty,
		// the group's callback_url (if any) is used. Validated by internal/jobs
		// (absolute http/https URL).
		field.String("callback_url").
			Optional().
			MaxLen(2048).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.JSON("metadata", map[string]any{}).
			Optional().
			Annotations(entgql.Type("Map")),
		// Set, in the UPDATE that makes the job terminal, when a webhook is owed for that
		// transition; cleared once its task is in the queue (or no callback URL applies).
		// A value older than a sweep interval means the enqueue failed (Redis down): the
		// webhook sweep (internal/runner) queues it then. Server-owned, not in the APIs.
		field.Time("webhook_pending_at").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		// Supplier profiles. document_layout is the read document (worker/layout's
		// EncodeLayout: pages, lines, words with boxes), kept so that a later correction or
		// approval can teach the supplier's profile; not part of the APIs. supplier_profile
		// is the profile the extraction used (id, version, the fields it supplied).
		field.Bytes("document_layout").
			Optional().
			Annotations(entgql.Skip()),
		field.JSON("supplier_profile", &invoice.ProfileUse{}).
			Optional().
			Annotations(entgql.Type("SupplierProfileUse"), serverOwned),
	}
}

// Edges of the OcrInvoiceJob.
func (OcrInvoiceJob) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("template", OcrTemplate.Type).
			Ref("jobs").
			Field("template_id").
			Unique().
			Required(),
		edge.From("group", OcrJobGroup.Type).
			Ref("jobs").
			Field("group_id").
			Unique(),
	}
}

// Indexes of the OcrInvoiceJob: the list, sort and filter paths of both APIs.
func (OcrInvoiceJob) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status"),
		index.Fields("priority"),
		index.Fields("created_at"),
		index.Fields("updated_at"),
		index.Fields("template_id"),
		index.Fields("group_id", "status"),
		// Finding an earlier job that read the same document with the same template.
		index.Fields("document_sha256", "template_id"),
		// Ends with id so that filtered counts (entgql's totalCount is COUNT(id)) are
		// answered from the index alone.
		index.Fields("status", "priority", "created_at", "id"),
		// The webhook sweep's scan of owed webhooks.
		index.Fields("webhook_pending_at"),
		// An owner's list (the owner scope is created_by = owner) in the default order,
		// and filtered by status: read in order from the index, stopped at the page's
		// end. The unscoped list by status likewise.
		index.Fields("created_by", "created_at", "id"),
		index.Fields("created_by", "status", "created_at", "id"),
		index.Fields("status", "created_at", "id"),
	}
}

// Annotations of the OcrInvoiceJob.
func (OcrInvoiceJob) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("ocrInvoiceJobs"),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
