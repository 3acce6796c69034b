package jobs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
)

// Keyset pages of the REST job list: a cursor carries the sort values of the last job
// of a page (its sort key and its id) together with the sort it was read in and the
// owner it was read for; the next page is the rows after those values in the same order,
// compared in SQL against the values themselves, so that the index of the sort seeks to
// them without reading the cursor's job again (which may have been deleted or changed
// since: the walk goes on from where the page ended).

// jobCursor is the content of a cursor: the anchor job's id and sort value, the sort
// field and direction (as normalised by normSort) and the owner scope of the caller.
type jobCursor struct {
	ID    string          `json:"i"`
	Sort  string          `json:"s"`
	Desc  bool            `json:"d"`
	Owner string          `json:"o,omitempty"`
	Value json.RawMessage `json:"v"`
}

// normSort returns the sort field and direction a list with sortField and order reads
// ("" = the default field, descending; "-field" = descending). It accepts what JobOrder
// accepts.
func normSort(sortField, order string) (string, bool, error) {
	if _, err := jobQuery.parseOrder(sortField, order); err != nil {
		return "", false, err
	}
	if sortField == "" {
		sortField = jobQuery.defaultSort
	}
	if name, ok := cutDash(sortField); ok {
		return name, true, nil
	}
	return sortField, order != "asc", nil
}

func cutDash(s string) (string, bool) {
	if len(s) > 0 && s[0] == '-' {
		return s[1:], true
	}
	return s, false
}

// cursorOwner is the owner the caller of ctx is scoped to, "" for a caller that sees
// every owner's jobs (who may use any such caller's cursors: they list the same rows).
func cursorOwner(ctx context.Context) string {
	if owner, scoped := auth.ScopeOf(ctx); scoped {
		return "scope:" + owner
	}
	return ""
}

// sortValue is the value of the sortable field name of j as the database holds it:
// nil for SQL NULL.
func sortValue(j *ent.OcrInvoiceJob, name string) (any, error) {
	switch name {
	case "_id":
		return j.ID, nil
	case "jobNumber":
		return j.JobNumber, nil
	case "documentName":
		return j.DocumentName, nil
	case "documentUrl":
		return j.DocumentURL, nil
	case "documentType":
		return string(j.DocumentType), nil
	case "template":
		return j.TemplateID, nil
	case "group":
		if j.GroupID == nil {
			return nil, nil
		}
		return *j.GroupID, nil
	case "status":
		return string(j.Status), nil
	case "priority":
		return string(j.Priority), nil
	case "startedAt":
		return timeValue(j.StartedAt), nil
	case "completedAt":
		return timeValue(j.CompletedAt), nil
	case "processingTime":
		if j.ProcessingTime == nil {
			return nil, nil
		}
		return *j.ProcessingTime, nil
	case "cost":
		return j.Cost, nil
	case "currency":
		return j.Currency, nil
	case "retryCount":
		return j.RetryCount, nil
	case "createdBy":
		return j.CreatedBy, nil
	case "createdAt":
		return j.CreatedAt, nil
	case "updatedAt":
		return j.UpdatedAt, nil
	}
	return nil, internal("cursor", fmt.Errorf("no cursor value for sort field %q", name))
}

func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// decodeSortValue is the Go value of a cursor's raw sort value for field f, typed as
// the column's arguments are (nil for SQL NULL).
func decodeSortValue(f queryField, raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, errors.New("no sort value")
	}
	if string(raw) == "null" {
		if !f.nullable {
			return nil, errors.New("null sort value of a column that holds no null")
		}
		return nil, nil
	}
	switch f.kind {
	case kindTime:
		var t time.Time
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, err
		}
		return t.UTC(), nil
	case kindFloat:
		var n float64
		err := json.Unmarshal(raw, &n)
		return n, err
	case kindInt:
		var n int64
		err := json.Unmarshal(raw, &n)
		return n, err
	case kindString, kindEnum, kindID:
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	return nil, fmt.Errorf("field %s cannot be a cursor", f.name)
}

// JobCursor returns the opaque cursor of the page after the job last in the sort of
// sortField and order, for the caller of ctx, signed with the service's cursor key.
func (s *Service) JobCursor(ctx context.Context, sortField, order string, last *ent.OcrInvoiceJob) (string, error) {
	name, desc, err := normSort(sortField, order)
	if err != nil {
		return "", err
	}
	v, err := sortValue(last, name)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", internal("encode cursor", err)
	}
	body, err := json.Marshal(jobCursor{ID: last.ID, Sort: name, Desc: desc, Owner: cursorOwner(ctx), Value: raw})
	if err != nil {
		return "", internal("encode cursor", err)
	}
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(mac.Sum(nil)[:16], body...)), nil
}

// MaxCursorLen bounds the length of a cursor accepted by JobsAfter.
const MaxCursorLen = 1024

// badCursor is the 400 of a cursor that cannot be used, naming the parameter "after".
func badCursor(msg string) error {
	return apperr.Invalid("invalid after: "+msg, apperr.Detail{Field: "after", Message: msg})
}

// JobsAfter returns the predicate of the jobs after the cursor's sort values in the
// sort of sortField and order. A cursor that is malformed, altered or signed with
// another key, that was made for another sort field or direction, or for another owner,
// is an apperr.Invalid naming "after". No row is read: the predicate compares the sort
// key with the cursor's values, so a cursor whose job was deleted since still continues
// the walk.
func (s *Service) JobsAfter(ctx context.Context, cursor, sortField, order string) (predicate.OcrInvoiceJob, error) {
	name, desc, err := normSort(sortField, order)
	if err != nil {
		return nil, err
	}
	if len(cursor) > MaxCursorLen {
		return nil, badCursor(fmt.Sprintf("is %d bytes long, a cursor is at most %d", len(cursor), MaxCursorLen))
	}
	const notOurs = "is not a cursor of this list (use nextCursor as returned)"
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < 17 {
		return nil, badCursor(notOurs)
	}
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write(raw[16:])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[:16]) {
		return nil, badCursor(notOurs)
	}
	var c jobCursor
	if err := json.Unmarshal(raw[16:], &c); err != nil || !ids.Valid(c.ID) {
		return nil, badCursor(notOurs)
	}
	if c.Owner != cursorOwner(ctx) {
		return nil, badCursor("was made for another caller")
	}
	if c.Sort != name || c.Desc != desc {
		dir := func(d bool) string {
			if d {
				return "desc"
			}
			return "asc"
		}
		msg := fmt.Sprintf("was made for sort=%s order=%s, this request asks for sort=%s order=%s: keep the sort of the first page",
			c.Sort, dir(c.Desc), name, dir(desc))
		return nil, badCursor(msg)
	}
	f := jobQuery.fields[name]
	v, err := decodeSortValue(f, c.Value)
	if err != nil {
		return nil, badCursor(notOurs)
	}
	return afterPredicate(f, desc, c.ID, v), nil
}

// keyPart is one expression of a sort key: written over a column, and computed in Go
// from the column's value (nil: SQL NULL) for the cursor's anchor.
type keyPart struct {
	expr  func(b *sql.Builder, col string)
	value func(v any) any
}

// sortKey returns the expressions a list sorted by f orders by, before the id (see
// parseOrder, which it mirrors).
func sortKey(f queryField) []keyPart {
	var out []keyPart
	isNull := func(v any) bool {
		if v == nil {
			return true
		}
		str, ok := v.(string)
		return f.emptyIsNull && ok && str == ""
	}
	if f.nullable {
		out = append(out, keyPart{
			expr: func(b *sql.Builder, col string) {
				b.WriteString("CASE WHEN ").Ident(col).WriteString(" IS NULL")
				if f.emptyIsNull {
					b.WriteString(" OR ").Ident(col).WriteString(" = ''")
				}
				b.WriteString(" THEN 0 ELSE 1 END")
			},
			value: func(v any) any {
				if isNull(v) {
					return 0
				}
				return 1
			},
		})
	}
	switch {
	case f.emptyIsNull:
		out = append(out, keyPart{
			expr: func(b *sql.Builder, col string) { b.WriteString("COALESCE(").Ident(col).WriteString(", '')") },
			value: func(v any) any {
				if str, ok := v.(string); ok {
					return str
				}
				return ""
			},
		})
	case len(f.rank) > 0:
		out = append(out, keyPart{
			expr: func(b *sql.Builder, col string) { writeRankCase(b, col, f.rank) },
			value: func(v any) any {
				str, _ := v.(string)
				if i := slices.Index(f.rank, str); i >= 0 {
					return i
				}
				return len(f.rank) // writeRankCase's ELSE
			},
		})
	default:
		out = append(out, keyPart{
			expr:  func(b *sql.Builder, col string) { b.Ident(col) },
			value: func(v any) any { return v },
		})
	}
	return out
}

// afterPredicate is "the row comes after the anchor" in the order of f (desc or not),
// then id descending (Service.ListJobs' tie-breaker): a lexicographic comparison of the
// row's key with the key of the anchor's sort value v and id, given as arguments. Two
// NULL values of a nullable column are equal here, as they are adjacent in the order.
func afterPredicate(f queryField, desc bool, anchorID string, v any) predicate.OcrInvoiceJob {
	key := sortKey(f)
	plain := !f.nullable && !f.emptyIsNull && len(f.rank) == 0
	return func(s *sql.Selector) {
		col := s.C(f.column)
		idCol := s.C(ocrinvoicejob.FieldID)
		s.Where(sql.P(func(b *sql.Builder) {
			// (k1 > a1) OR (k1 = a1 AND ((k2 > a2) OR (k2 = a2 AND id < anchor)));
			// a NULL anchor value has no row before it among the NULLs (k IS NULL).
			b.WriteString("(")
			for _, k := range key {
				a := k.value(v)
				b.WriteString("(")
				if a != nil {
					k.expr(b, col)
					if desc {
						b.WriteString(" < ")
					} else {
						b.WriteString(" > ")
					}
					b.Arg(a)
					b.WriteString(") OR (")
					k.expr(b, col)
					b.WriteString(" = ").Arg(a)
				} else {
					b.WriteString("1 = 0) OR (")
					k.expr(b, col)
					b.WriteString(" IS NULL")
				}
				b.WriteString(" AND (")
			}
			b.Ident(idCol).WriteString(" < ").Arg(anchorID)
			for range key {
				b.WriteString("))")
			}
			b.WriteString(")")
			if plain {
				// The same bound, alone: a range the sort column's index can seek to,
				// rather than reading the index from its start and dropping the rows
				// before the cursor.
				b.WriteString(" AND ").Ident(col)
				if desc {
					b.WriteString(" <= ")
				} else {
					b.WriteString(" >= ")
				}
				b.Arg(key[0].value(v))
			}
		}))
	}
}
