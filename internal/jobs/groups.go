package jobs

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// GroupInput is the client-writable state of a job group (PUT semantics on update).
// Spec.Template may be a template id or name; it is stored as the id. CallbackURL ""
// means none; otherwise it receives the webhooks of the group's jobs that set none.
type GroupInput struct {
	Name        string
	Description string
	Spec        invoice.GroupSpec
	CreatedBy   string
	CallbackURL string
	// Documents, for CreateGroup only: one created job each, in this order (at most
	// MaxGroupDocuments). The runner releases them under spec.parallelism.
	Documents []GroupDocument
}

func (s *Service) validateGroup(ctx context.Context, in *GroupInput) error {
	var fe fieldErrors
	in.Name = Canonical(in.Name)
	fe.name("name", in.Name, true, MaxGroupNameLen)
	fe.text("description", in.Description, false, MaxDescriptionLen)
	fe.name("createdBy", in.CreatedBy, false, MaxCreatedByLen)
	if err := ValidateCallbackURL(in.CallbackURL); err != nil {
		fe.add("callbackUrl", "%v", err)
	} else if err := s.checkTarget(in.CallbackURL); err != nil {
		fe.add("callbackUrl", "%v", err)
	}
	sp := &in.Spec
	if sp.Parallelism < 0 {
		fe.add("spec.parallelism", "must be 0 (no limit) or more")
	}
	if sp.BackoffLimit < 0 {
		fe.add("spec.backoffLimit", "must be 0 or more")
	}
	if sp.ActiveDeadlineSeconds != nil && *sp.ActiveDeadlineSeconds <= 0 {
		fe.add("spec.activeDeadlineSeconds", "must be more than 0 when set")
	}
	if sp.TTLSecondsAfterFinished != nil && *sp.TTLSecondsAfterFinished < 0 {
		fe.add("spec.ttlSecondsAfterFinished", "must be 0 or more when set")
	}
	if sp.Priority != "" {
		fe.enum("spec.priority", sp.Priority, Priorities)
	}
	if sp.Template != "" {
		t, err := s.templateFor(ctx, s.db(ctx), sp.Template, in.CreatedBy)
		switch {
		case err == nil:
			sp.Template = t.ID
		case apperr.KindOf(err) == apperr.KindInvalid:
			fe.add("spec.template", "%s", apperr.As(err).Message)
		case apperr.KindOf(err) == apperr.KindNotFound:
			fe.add("spec.template", "no template with id or name %q", sp.Template)
		default:
			return err
		}
	}
	return fe.err("group")
}

// CreateGroup validates and stores a group with status phase Pending and, in the same
// transaction, one job per document of in.Documents: status created, the group's
// template (the built-in one when spec.template is empty) and priority (medium when
// empty), jobNumber generated as "<group id>-<index+1>" when absent. The jobs are not
// enqueued here: the runner releases them under spec.parallelism.
// Errors: Invalid (naming fields, documents[i].field for a document), Conflict
// (documents[i].jobNumber repeated or taken), NotFound (documents[i].documentUrl: an
// upload createdBy does not hold), TooLarge (over MaxGroupDocuments). On error nothing
// is stored.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*ent.OcrJobGroup, error) {
	if len(in.Documents) > MaxGroupDocuments {
		return nil, apperr.TooLarge(fmt.Sprintf("a group may be created with at most %d documents (got %d)", MaxGroupDocuments, len(in.Documents)))
	}
	var err error
	if in.CreatedBy, err = ownerFor(ctx, in.CreatedBy, true); err != nil {
		return nil, err
	}
	if err := s.validateGroup(ctx, &in); err != nil {
		return nil, err
	}
	id := ids.New()
	urls := make([]string, len(in.Documents))
	for i, d := range in.Documents {
		urls[i] = d.DocumentURL
	}
	types, err := s.uploadTypes(ctx, urls)
	if err != nil {
		return nil, err
	}
	docs, err := validateDocuments(id, in.Documents, s.checkTarget, types)
	if err != nil {
		return nil, err
	}
	var g *ent.OcrJobGroup
	err = s.inTx(ctx, func(db *ent.Client) error {
		now := s.clock()
		var err error
		g, err = db.OcrJobGroup.Create().
			SetID(id).
			SetName(in.Name).
			SetDescription(in.Description).
			SetSpec(in.Spec).
			SetStatus(initialGroupStatus(len(docs))).
			SetCreatedBy(in.CreatedBy).
			SetCallbackURL(in.CallbackURL).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			Save(ctx)
		if err != nil {
			return mapDBError("create group", err)
		}
		return s.createGroupJobs(ctx, db, g, docs, in.CreatedBy)
	})
	if err != nil {
		return nil, err
	}
	s.notifyGroup(ctx, id)
	// Read back outside the committed transaction, so that edges (jobs) can be loaded.
	return s.GetGroup(ctx, id)
}

// UpdateGroup replaces the client-writable fields of a group (PUT semantics); its
// status is left to the reconciler. Errors: Invalid, NotFound.
func (s *Service) UpdateGroup(ctx context.Context, id string, in GroupInput) (*ent.OcrJobGroup, error) {
	cur, err := s.GetGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.CreatedBy == "" {
		// An absent createdBy keeps the owner: only an admin naming one changes it.
		in.CreatedBy = cur.CreatedBy
	}
	if in.CreatedBy, err = ownerFor(ctx, in.CreatedBy, false); err != nil {
		return nil, err
	}
	if err := s.validateGroup(ctx, &in); err != nil {
		return nil, err
	}
	g, err := s.db(ctx).OcrJobGroup.UpdateOneID(id).
		SetName(in.Name).
		SetDescription(in.Description).
		SetSpec(in.Spec).
		SetCreatedBy(in.CreatedBy).
		SetCallbackURL(in.CallbackURL).
		SetUpdatedAt(s.clock()).
		Save(ctx)
	if err != nil {
		return nil, mapDBError("update group", err)
	}
	return g, nil
}

// GetGroup returns the group with the given id. Errors: Invalid, NotFound.
func (s *Service) GetGroup(ctx context.Context, id string) (*ent.OcrJobGroup, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	g, err := s.db(ctx).OcrJobGroup.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("group %s not found", id))
	}
	if err != nil {
		return nil, internal("get group", err)
	}
	return g, nil
}

// SetGroupStatus stores a group's observed status (for the reconciler).
// Errors: NotFound.
func (s *Service) SetGroupStatus(ctx context.Context, id string, st invoice.GroupStatus) (*ent.OcrJobGroup, error) {
	g, err := s.client.OcrJobGroup.UpdateOneID(id).SetStatus(st).SetUpdatedAt(s.clock()).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("group %s not found", id))
	}
	if err != nil {
		return nil, internal("set group status", err)
	}
	return g, nil
}

// ListGroupsParams select a page of groups (same rules as ListJobsParams; default
// order: newest first).
type ListGroupsParams struct {
	Limit, Offset int
	Where         []predicate.OcrJobGroup
	Order         []ocrjobgroup.OrderOption
}

// ListGroups returns one page of groups and how many match in all.
func (s *Service) ListGroups(ctx context.Context, p ListGroupsParams) ([]*ent.OcrJobGroup, int, error) {
	limit, err := pageBounds(p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	q := s.db(ctx).OcrJobGroup.Query().Where(p.Where...)
	// COUNT(*) rather than ent's COUNT(id): SQLite answers it from any index.
	total, err := q.Clone().Aggregate(ent.Count()).Int(ctx)
	if err != nil {
		return nil, 0, internal("count groups", err)
	}
	order := p.Order
	if len(order) == 0 {
		order = []ocrjobgroup.OrderOption{ocrjobgroup.ByCreatedAt(sql.OrderDesc())}
	}
	order = append(order[:len(order):len(order)], ocrjobgroup.ByID(sql.OrderDesc()))
	list, err := q.Order(order...).Limit(limit).Offset(p.Offset).All(ctx)
	if err != nil {
		return nil, 0, internal("list groups", err)
	}
	return list, total, nil
}
