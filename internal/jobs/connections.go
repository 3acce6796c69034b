package jobs

import (
	"context"
	"database/sql/driver"
	"errors"

	"entgo.io/contrib/entgql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// The reads of this file serve the GraphQL API (entgql's Relay connections, nodes and
// mutation transactions) without handing out the ent client: every read is owner-scoped
// by the client's interceptor (see ownerScope), like the service's own.

// OpenTx opens a transaction of the service's client and returns a context carrying it:
// entgql.Transactioner's TxOpener, for a GraphQL mutation whose service calls then use
// the transaction (see db).
func (s *Service) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	return s.client.OpenTx(ctx)
}

// Node returns the job, template or group with id as ctx's principal may see it.
// Errors: Invalid, NotFound (see NodeType).
func (s *Service) Node(ctx context.Context, id string) (ent.Noder, error) {
	typ, err := s.NodeType(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.client.Noder(ctx, id, ent.WithFixedNodeType(typ))
}

// Page is the Relay paging of a connection: a cursor and a size on either side.
type Page struct {
	After, Before *entgql.Cursor[string]
	First, Last   *int
}

// JobsOf selects the jobs of one template or one group for JobConnection; the zero
// value selects every job.
type JobsOf struct {
	TemplateID string
	GroupID    string
}

func (o JobsOf) predicates() []predicate.OcrInvoiceJob {
	var ps []predicate.OcrInvoiceJob
	if o.TemplateID != "" {
		ps = append(ps, ocrinvoicejob.TemplateID(o.TemplateID))
	}
	if o.GroupID != "" {
		ps = append(ps, ocrinvoicejob.GroupID(o.GroupID))
	}
	return ps
}

// JobConnection returns a page of the jobs of of that match where, in orderBy. PRIORITY
// and STATUS order by rank (see rankedJobConnection), as the REST sort does.
func (s *Service) JobConnection(ctx context.Context, of JobsOf, p Page, orderBy []*ent.OcrInvoiceJobOrder, where *ent.OcrInvoiceJobWhereInput) (*ent.OcrInvoiceJobConnection, error) {
	if hasRankedOrder(orderBy) {
		return s.rankedJobConnection(ctx, of, p, orderBy, where)
	}
	return s.client.OcrInvoiceJob.Query().Where(of.predicates()...).Paginate(ctx, p.After, p.First, p.Before, p.Last,
		ent.WithOcrInvoiceJobOrder(orderBy), ent.WithOcrInvoiceJobFilter(where.Filter))
}

// GroupConnection returns a page of the groups that match where, in orderBy.
func (s *Service) GroupConnection(ctx context.Context, p Page, orderBy []*ent.OcrJobGroupOrder, where *ent.OcrJobGroupWhereInput) (*ent.OcrJobGroupConnection, error) {
	return s.client.OcrJobGroup.Query().Paginate(ctx, p.After, p.First, p.Before, p.Last,
		ent.WithOcrJobGroupOrder(orderBy), ent.WithOcrJobGroupFilter(where.Filter))
}

// TemplateConnection returns a page of the templates that match where, in orderBy.
func (s *Service) TemplateConnection(ctx context.Context, p Page, orderBy []*ent.OcrTemplateOrder, where *ent.OcrTemplateWhereInput) (*ent.OcrTemplateConnection, error) {
	return s.client.OcrTemplate.Query().Paginate(ctx, p.After, p.First, p.Before, p.Last,
		ent.WithOcrTemplateOrder(orderBy), ent.WithOcrTemplateFilter(where.Filter))
}

// JobFilter is a where of a job stream (see MatchingJob), checked once when the stream
// opens. A nil *JobFilter matches every job.
type JobFilter struct {
	p predicate.OcrInvoiceJob
}

// NewJobFilter turns a GraphQL where into a JobFilter: nil for an absent or empty where.
// Errors: Invalid for a where ent cannot turn into a predicate.
func NewJobFilter(where *ent.OcrInvoiceJobWhereInput) (*JobFilter, error) {
	if where == nil {
		return nil, nil
	}
	p, err := where.P()
	switch {
	case errors.Is(err, ent.ErrEmptyOcrInvoiceJobWhereInput):
		return nil, nil
	case err != nil:
		return nil, apperr.Invalid("where: " + err.Error())
	}
	return &JobFilter{p: p}, nil
}

// MatchingJob returns job id when it matches f and ctx's principal may see it.
// Errors: Invalid, NotFound (also for a job that does not match).
func (s *Service) MatchingJob(ctx context.Context, id string, f *JobFilter) (*ent.OcrInvoiceJob, error) {
	if f == nil {
		return s.GetJob(ctx, id)
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	j, err := s.client.OcrInvoiceJob.Query().Where(ocrinvoicejob.ID(id), f.p).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound("job " + id + " not found")
	}
	if err != nil {
		return nil, internal("read job", err)
	}
	return j, nil
}
