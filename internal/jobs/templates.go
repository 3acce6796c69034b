package jobs

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// BuiltinTemplateName is the name of the template that always exists: generic
// extraction rules, English, 300 DPI.
const BuiltinTemplateName = "generic"

// Template defaults.
const (
	DefaultLanguages = "eng"
	DefaultDPI       = 300
	DefaultPSM       = 3
	DefaultCurrency  = "USD"
)

// TemplateInput is the client-writable state of a template (PUT semantics on update).
// Nil numbers and empty strings take the defaults: languages "eng", dpi 300, page
// segmentation mode 3, currency USD, pricePerPage 0 (= the service's price).
type TemplateInput struct {
	Name                 string
	Description          string
	Languages            string
	DPI                  *int
	PageSegmentationMode *int
	Spec                 invoice.TemplateSpec
	DefaultCurrency      string
	PricePerPage         *float64
	// CreatedBy is the owner whose jobs may use the template; Shared makes it usable by
	// every owner. Templates are written by admins only; a template that is neither
	// shared nor built in is visible to its owner's keys alone (see
	// internal/ownerscope). On update, nil keeps the stored value.
	CreatedBy *string
	Shared    *bool
}

func (in *TemplateInput) normalize() error {
	var fe fieldErrors
	in.Name = Canonical(in.Name)
	fe.name("name", in.Name, true, MaxNameLen)
	fe.text("description", in.Description, false, MaxDescriptionLen)
	if in.Languages == "" {
		in.Languages = DefaultLanguages
	} else if !languagesRe.MatchString(in.Languages) {
		fe.add("languages", "must be Tesseract language codes joined by '+', e.g. eng+deu")
	}
	if in.DPI == nil {
		in.DPI = ptr(DefaultDPI)
	} else if *in.DPI < 50 || *in.DPI > 1200 {
		fe.add("dpi", "must be between 50 and 1200")
	}
	if in.PageSegmentationMode == nil {
		in.PageSegmentationMode = ptr(DefaultPSM)
	} else if *in.PageSegmentationMode < 0 || *in.PageSegmentationMode > 13 {
		fe.add("pageSegmentationMode", "must be between 0 and 13")
	}
	if in.DefaultCurrency == "" {
		in.DefaultCurrency = DefaultCurrency
	} else if !currencyRe.MatchString(in.DefaultCurrency) {
		fe.add("defaultCurrency", "must be an ISO 4217 code such as USD or EUR")
	}
	if in.PricePerPage == nil {
		in.PricePerPage = ptr(0.0)
	} else if *in.PricePerPage < 0 || *in.PricePerPage > 1e6 {
		fe.add("pricePerPage", "must be between 0 and 1000000")
	}
	if in.CreatedBy != nil {
		in.CreatedBy = ptr(nfc(*in.CreatedBy))
		fe.name("createdBy", *in.CreatedBy, false, MaxCreatedByLen)
	}
	if in.Spec.Options.Currency != "" && !currencyRe.MatchString(in.Spec.Options.Currency) {
		fe.add("spec.options.currency", "must be an ISO 4217 code such as USD or EUR")
	}
	if d := in.Spec.Options.DecimalSeparator; d != "" && d != "." && d != "," {
		fe.add("spec.options.decimalSeparator", "must be \".\" or \",\"")
	}
	return fe.err("template")
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// CreateTemplate validates and stores a template. Errors: Invalid, Conflict (name).
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*ent.OcrTemplate, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	db := s.db(ctx)
	if exists, err := db.OcrTemplate.Query().Where(ocrtemplate.Name(in.Name)).Exist(ctx); err != nil {
		return nil, internal("check template name", err)
	} else if exists {
		return nil, duplicateName("template", in.Name)
	}
	now := s.clock()
	t, err := db.OcrTemplate.Create().
		SetName(in.Name).
		SetDescription(in.Description).
		SetLanguages(in.Languages).
		SetDpi(*in.DPI).
		SetPageSegmentationMode(*in.PageSegmentationMode).
		SetSpec(in.Spec).
		SetDefaultCurrency(in.DefaultCurrency).
		SetPricePerPage(*in.PricePerPage).
		SetCreatedBy(deref(in.CreatedBy)).
		SetNillableShared(in.Shared).
		SetCreatedAt(now).
		SetUpdatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, mapDBError("create template", err)
	}
	return t, nil
}

func duplicateName(what, name string) error {
	return apperr.Conflict(fmt.Sprintf("a %s named %q already exists", what, name),
		apperr.Detail{Field: "name", Message: "already exists"})
}

// UpdateTemplate replaces the client-writable fields of a template (PUT semantics).
// Built-in templates cannot be renamed. Errors: Invalid, NotFound, Conflict,
// FailedPrecondition.
func (s *Service) UpdateTemplate(ctx context.Context, idOrName string, in TemplateInput) (*ent.OcrTemplate, error) {
	cur, err := s.GetTemplate(ctx, idOrName)
	if err != nil {
		return nil, err
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	db := s.db(ctx)
	if in.Name != cur.Name {
		if cur.Builtin {
			return nil, apperr.FailedPrecondition(fmt.Sprintf("the built-in template %q cannot be renamed", cur.Name),
				apperr.Detail{Field: "name", Message: "built-in templates keep their name"})
		}
		if exists, err := db.OcrTemplate.Query().Where(ocrtemplate.Name(in.Name)).Exist(ctx); err != nil {
			return nil, internal("check template name", err)
		} else if exists {
			return nil, duplicateName("template", in.Name)
		}
	}
	t, err := db.OcrTemplate.UpdateOneID(cur.ID).
		SetName(in.Name).
		SetDescription(in.Description).
		SetLanguages(in.Languages).
		SetDpi(*in.DPI).
		SetPageSegmentationMode(*in.PageSegmentationMode).
		SetSpec(in.Spec).
		SetDefaultCurrency(in.DefaultCurrency).
		SetPricePerPage(*in.PricePerPage).
		SetNillableCreatedBy(in.CreatedBy).
		SetNillableShared(in.Shared).
		SetUpdatedAt(s.clock()).
		Save(ctx)
	if err != nil {
		return nil, mapDBError("update template", err)
	}
	return t, nil
}

// GetTemplate returns the template with the given id or, failing that, name.
// Errors: Invalid (empty), NotFound.
func (s *Service) GetTemplate(ctx context.Context, idOrName string) (*ent.OcrTemplate, error) {
	if strings.TrimSpace(idOrName) == "" {
		return nil, apperr.InvalidField("template", "must be a template id or name")
	}
	return s.findTemplate(ctx, s.db(ctx), idOrName)
}

func (s *Service) findTemplate(ctx context.Context, db *ent.Client, idOrName string) (*ent.OcrTemplate, error) {
	if !searchable(idOrName) {
		// No stored name holds such bytes (PostgreSQL would refuse them as a parameter).
		return nil, apperr.NotFound(fmt.Sprintf("template %q not found", strings.ToValidUTF8(strings.ReplaceAll(idOrName, "\x00", ""), "\uFFFD")))
	}
	// Names are stored canonical (see Canonical); ids are hexadecimal, which it keeps.
	idOrName = Canonical(idOrName)
	var p predicate.OcrTemplate = ocrtemplate.Name(idOrName)
	if ids.Valid(idOrName) {
		p = ocrtemplate.Or(ocrtemplate.ID(idOrName), ocrtemplate.Name(idOrName))
	}
	// An id match wins over a template that happens to be named like an id.
	list, err := db.OcrTemplate.Query().Where(p).Limit(2).All(ctx)
	if err != nil {
		return nil, internal("get template", err)
	}
	for _, t := range list {
		if t.ID == idOrName {
			return t, nil
		}
	}
	if len(list) > 0 {
		return list[0], nil
	}
	return nil, apperr.NotFound(fmt.Sprintf("template %q not found", idOrName))
}

// templateFor finds the template idOrName for a job or group of owner: NotFound when it
// does not exist or is not visible to the caller (ctx's scope, through the interceptor);
// Invalid (naming template) when the caller sees it but owner may not use it (an admin
// creating for an owner; see TemplateVisibleTo).
func (s *Service) templateFor(ctx context.Context, db *ent.Client, idOrName, owner string) (*ent.OcrTemplate, error) {
	t, err := s.findTemplate(ctx, db, idOrName)
	if err != nil {
		return nil, err
	}
	if !TemplateVisibleTo(t, owner) {
		// Only an unscoped caller (an admin of every owner) gets here: a scoped one sees
		// no such template at all. It may know why.
		return nil, apperr.Invalid(fmt.Sprintf("template %q is neither shared nor created for owner %q (its owner is %q); share it or create the job for its owner", t.Name, owner, t.CreatedBy))
	}
	return t, nil
}

// TemplateVisibleTo reports whether owner's keys may see and use t: t is shared, built
// in, or created for owner (the rule of internal/ownerscope, for a template already
// read). An admin creating a job for an owner may only choose such a template, so that
// one owner's template (and its price) never applies to another owner's jobs.
func TemplateVisibleTo(t *ent.OcrTemplate, owner string) bool {
	return t.Shared || t.Builtin || t.CreatedBy == owner
}

// EnsureBuiltins creates the built-in template "generic" when it does not exist. It is
// idempotent and safe to run from several processes at once.
//
// It also shares the templates stored before templates had owners (created_by NULL:
// CreateTemplate always sets it): every owner could use them then, and still can; an
// admin may unshare them.
func (s *Service) EnsureBuiltins(ctx context.Context) error {
	if err := s.client.OcrTemplate.Update().
		Where(ocrtemplate.CreatedByIsNil()).
		SetShared(true).
		SetCreatedBy("").
		Exec(ctx); err != nil {
		return fmt.Errorf("share the templates stored before owners: %w", err)
	}
	exists, err := s.client.OcrTemplate.Query().Where(ocrtemplate.Name(BuiltinTemplateName)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("look up built-in template: %w", err)
	}
	if exists {
		return nil
	}
	now := s.clock()
	err = s.client.OcrTemplate.Create().
		SetName(BuiltinTemplateName).
		SetDescription("Generic rules for any invoice layout (English).").
		SetLanguages(DefaultLanguages).
		SetDpi(DefaultDPI).
		SetPageSegmentationMode(DefaultPSM).
		SetSpec(invoice.TemplateSpec{}).
		SetDefaultCurrency(DefaultCurrency).
		SetBuiltin(true).
		SetShared(true). // every owner's, and says so
		SetCreatedBy("").
		SetCreatedAt(now).
		SetUpdatedAt(now).
		Exec(ctx)
	if err != nil && !ent.IsConstraintError(err) { // another process won the race
		return fmt.Errorf("create built-in template: %w", err)
	}
	return nil
}

// ListTemplatesParams select a page of templates (same rules as ListJobsParams;
// default order: name ascending).
type ListTemplatesParams struct {
	Limit, Offset int
	Where         []predicate.OcrTemplate
	Order         []ocrtemplate.OrderOption
}

// ListTemplates returns one page of templates and how many match in all.
func (s *Service) ListTemplates(ctx context.Context, p ListTemplatesParams) ([]*ent.OcrTemplate, int, error) {
	limit, err := pageBounds(p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	q := s.db(ctx).OcrTemplate.Query().Where(p.Where...)
	// COUNT(*) rather than ent's COUNT(id): SQLite answers it from any index.
	total, err := q.Clone().Aggregate(ent.Count()).Int(ctx)
	if err != nil {
		return nil, 0, internal("count templates", err)
	}
	order := p.Order
	if len(order) == 0 {
		order = []ocrtemplate.OrderOption{ocrtemplate.ByName()}
	}
	order = append(order[:len(order):len(order)], ocrtemplate.ByID(sql.OrderDesc()))
	list, err := q.Order(order...).Limit(limit).Offset(p.Offset).All(ctx)
	if err != nil {
		return nil, 0, internal("list templates", err)
	}
	return list, total, nil
}
