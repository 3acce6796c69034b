package jobs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
)

// Keyset pages of the REST job list: a cursor names the last job of a page together
// with the sort it was read in and the owner it was read for; the next page is the rows
// after that job in the same order (its sort key, then its id, compared in SQL), read
// from the index of the sort rather than by skipping offset rows.

// cursorKey authenticates cursors against accidental or casual tampering. A cursor
// grants nothing by itself: the rows of the next page are still those the caller's
// scope may read.
var cursorKey = []byte("ocrinvoice job list cursor v1")

// jobCursor is the content of a cursor: the anchor job, the sort field and direction
// (as normalised by normSort) and the owner scope of the caller.
type jobCursor struct {
	ID    string `json:"i"`
	Sort  string `json:"s"`
	Desc  bool   `json:"d"`
	Owner string `json:"o,omitempty"`
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

// JobCursor returns the opaque cursor of the page after the job id in the sort of
// sortField and order, for the caller of ctx.
func JobCursor(ctx context.Context, sortField, order, id string) (string, error) {
	name, desc, err := normSort(sortField, order)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(jobCursor{ID: id, Sort: name, Desc: desc, Owner: cursorOwner(ctx)})
	if err != nil {
		return "", internal("encode cursor", err)
	}
	mac := hmac.New(sha256.New, cursorKey)
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(append(mac.Sum(nil)[:16], body...)), nil
}

// MaxCursorLen bounds the length of a cursor accepted by JobsAfter.
const MaxCursorLen = 512

// badCursor is the 400 of a cursor that cannot be used, naming the parameter "after".
func badCursor(msg string) error {
	return apperr.Invalid("invalid after: "+msg, apperr.Detail{Field: "after", Message: msg})
}

// JobsAfter returns the predicate of the jobs after the cursor's job in the sort of
// sortField and order. A cursor that is malformed or altered, that was made for another
// sort field or direction, or for another owner, is an apperr.Invalid naming "after";
// no row is read to find that out. A cursor whose job was deleted since is an
// apperr.Invalid too (one read by primary key), rather than an empty page that would
// end the walk early.
func (s *Service) JobsAfter(ctx context.Context, cursor, sortField, order string) (predicate.OcrInvoiceJob, error) {
	name, desc, err := normSort(sortField, order)
	if err != nil {
		return nil, err
	}
	if len(cursor) > MaxCursorLen {
		return nil, badCursor(fmt.Sprintf("is %d bytes long, a cursor is at most %d", len(cursor), MaxCursorLen))
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < 17 {
		return nil, badCursor("is not a cursor of this list (use nextCursor as returned)")
	}
	mac := hmac.New(sha256.New, cursorKey)
	mac.Write(raw[16:])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[:16]) {
		return nil, badCursor("is not a cursor of this list (use nextCursor as returned)")
	}
	var c jobCursor
	if err := json.Unmarshal(raw[16:], &c); err != nil || !ids.Valid(c.ID) {
		return nil, badCursor("is not a cursor of this list (use nextCursor as returned)")
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
	ok, err := s.db(ctx).OcrInvoiceJob.Query().Where(ocrinvoicejob.ID(c.ID)).Exist(ctx)
	if err != nil {
		return nil, internal("read cursor job", err)
	}
	if !ok {
		return nil, badCursor("continues from a job that was deleted since: start again from the first page")
	}
	return afterPredicate(jobQuery.fields[name], desc, c.ID), nil
}

// keyExpr writes one expression of a sort key, over the column col.
type keyExpr func(b *sql.Builder, col string)

// sortKey returns the expressions a list sorted by f orders by, before the id (see
// parseOrder, which it mirrors).
func sortKey(f queryField) []keyExpr {
	var out []keyExpr
	if f.nullable {
		out = append(out, func(b *sql.Builder, col string) {
			b.WriteString("CASE WHEN ").Ident(col).WriteString(" IS NULL")
			if f.emptyIsNull {
				b.WriteString(" OR ").Ident(col).WriteString(" = ''")
			}
			b.WriteString(" THEN 0 ELSE 1 END")
		})
	}
	switch {
	case f.emptyIsNull:
		out = append(out, func(b *sql.Builder, col string) {
			b.WriteString("COALESCE(").Ident(col).WriteString(", '')")
		})
	case len(f.rank) > 0:
		out = append(out, func(b *sql.Builder, col string) { writeRankCase(b, col, f.rank) })
	default:
		out = append(out, func(b *sql.Builder, col string) { b.Ident(col) })
	}
	return out
}

// afterPredicate is "the row comes after the job anchor" in the order of f (desc or
// not), then id descending (Service.ListJobs' tie-breaker): a lexicographic comparison
// of the key with the anchor's key, read by its primary key in a subquery. Two NULL
// values of a nullable column are equal here, as they are adjacent in the order.
func afterPredicate(f queryField, desc bool, anchor string) predicate.OcrInvoiceJob {
	key := sortKey(f)
	plain := !f.nullable && !f.emptyIsNull && len(f.rank) == 0
	return func(s *sql.Selector) {
		col := s.C(f.column)
		idCol := s.C(ocrinvoicejob.FieldID)
		anchorExpr := func(b *sql.Builder, e keyExpr) {
			b.WriteString("(SELECT ")
			e(b, b.Quote("_ka")+"."+b.Quote(f.column))
			b.WriteString(" FROM ").Ident(ocrinvoicejob.Table).WriteString(" AS ").Ident("_ka").
				WriteString(" WHERE ").WriteString(b.Quote("_ka") + "." + b.Quote(ocrinvoicejob.FieldID)).WriteString(" = ").Arg(anchor).WriteString(")")
		}
		s.Where(sql.P(func(b *sql.Builder) {
			// (k1 > a1) OR (k1 = a1 AND ((k2 > a2) OR (k2 = a2 AND id < anchor)))
			b.WriteString("(")
			for _, e := range key {
				b.WriteString("(")
				e(b, col)
				if desc {
					b.WriteString(" < ")
				} else {
					b.WriteString(" > ")
				}
				anchorExpr(b, e)
				b.WriteString(") OR ((")
				e(b, col)
				b.WriteString(" = ")
				anchorExpr(b, e)
				b.WriteString(" OR (")
				e(b, col)
				b.WriteString(" IS NULL AND ")
				anchorExpr(b, e)
				b.WriteString(" IS NULL)) AND (")
			}
			b.Ident(idCol).WriteString(" < ").Arg(anchor)
			for range key {
				b.WriteString("))")
			}
			b.WriteString(")")
			if plain {
				// The same bound, alone: a range the sort column's index can seek to,
				// rather than reading the index from its start and dropping the rows
				// before the cursor.
				b.WriteString(" AND ")
				b.Ident(col)
				if desc {
					b.WriteString(" <= ")
				} else {
					b.WriteString(" >= ")
				}
				anchorExpr(b, key[0])
			}
		}))
	}
}
