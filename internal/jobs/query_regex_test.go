package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// regexTexts are the texts the $regex tests match, as documentName (non-empty) and as
// metadata.t: case, line breaks, word boundaries, non-ASCII letters and folding oddities
// (the Kelvin sign folds to k), astral characters.
var regexTexts = []string{
	"abc", "ABC", "xabcx", "a\nb", "a\nbar", "foo bar", "foobar", "Ünïcödé", "straße", "STRASSE",
	"\u212A", "k", "x_y", "123-456", "a.b", "a+b", "[x]", "😀 smile", "αβγ", "ok\n", "aaab", "aa",
}

// regexPatterns are matched against every regexTexts entry, on SQLite and PostgreSQL,
// and must give Go's answer.
var regexPatterns = []struct{ pattern, options string }{
	{"abc", ""}, {"^abc$", ""}, {"abc", "i"}, {"(?i)abc", ""}, {"a.b", ""}, {"a.b", "s"}, {"(?s)a.b", ""},
	{"^bar$", ""}, {"^bar$", "m"}, {"(?m)^b", ""}, {"ok$", ""}, {"ok$", "m"}, {`\bbar\b`, ""}, {`\Bbar`, ""},
	{`[[:alpha:]]+$`, ""}, {`^\d{3}-\d{3}$`, ""}, {`[^a-z]`, ""}, {"ß", "i"}, {"k", "i"}, {"K", ""},
	{`^\pL+$`, ""}, {`\p{Greek}`, ""}, {`^(a|b|)$`, ""}, {"x*", ""}, {"(a+)+$", ""}, {"^a{2,3}$", ""},
	{`^a{2}`, ""}, {`[\x{1F600}-\x{1F64F}]`, ""}, {".", ""}, {"^$", ""}, {`\.`, ""}, {`[\]\-^\[]`, ""},
	{`\Qa+b\E`, ""}, {`(?U)a+?b`, ""}, {`ü`, "i"}, {`ÜNÏ`, "i"}, {`(?:foo|bar)(?:bar)?$`, ""},
	{`^[^\n]*$`, ""}, {`\s`, ""}, {`\S+\s\S+`, ""}, {`\W`, ""}, {`\A[a-c]+\z`, ""}, {`[a-c]{2,}`, "i"},
	{`^.{3}$`, ""}, {`^.{3}$`, "s"},
}

func TestRegexFilterMatchesGo(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		tpl, err := c.OcrTemplate.Create().SetName("regex-test").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range regexTexts {
			_, err := c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("R-%02d", i)).SetDocumentName(text).
				SetDocumentURL("https://example.com/x.pdf").SetTemplateID(tpl.ID).
				SetMetadata(map[string]any{"t": text, "n": i}).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range regexPatterns {
			flags := ""
			for _, o := range p.options {
				flags += string(o)
			}
			goRe := p.pattern
			if flags != "" {
				goRe = "(?" + flags + ")" + goRe
			}
			re := regexp.MustCompile(goRe)
			want := []string{}
			for i, text := range regexTexts {
				if re.MatchString(text) {
					want = append(want, fmt.Sprintf("R-%02d", i))
				}
			}
			for _, field := range []string{"documentName", "metadata.t"} {
				cond := map[string]any{"$regex": p.pattern}
				if p.options != "" {
					cond["$options"] = p.options
				}
				f, _ := json.Marshal(map[string]any{field: cond})
				got, err := jobNumbers(t, c, string(f))
				if err != nil {
					t.Errorf("%s: %v", f, err)
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: matched %v, Go matches %v", f, got, want)
				}
			}
		}
		// Numbers never match, nor does $regex apply to non-text columns.
		if got, err := jobNumbers(t, c, `{"metadata.n":{"$regex":"1"}}`); err != nil || len(got) != 0 {
			t.Errorf("$regex on a number: %v, %v; want no match", got, err)
		}
		// $not and $nor negate it, as any other operator.
		got, err := jobNumbers(t, c, `{"documentName":{"$not":{"$regex":"^a","$options":"i"}}}`)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range got {
			if i := slices.Index(regexTexts, regexTexts[atoi(n[2:])]); strings.HasPrefix(strings.ToLower(regexTexts[i]), "a") {
				t.Errorf("$not $regex ^a matched %q", regexTexts[i])
			}
		}
		if len(got) == 0 {
			t.Error("$not $regex ^a matched nothing")
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestRegexFilterCatastrophic: a pattern that makes a backtracking engine take
// exponential time answers quickly on a 10,000 character text, on both databases.
func TestRegexFilterCatastrophic(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		tpl, err := c.OcrTemplate.Create().SetName("regex-evil").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("a", 10_000) + "!"
		if _, err := c.OcrInvoiceJob.Create().SetJobNumber("EVIL").SetDocumentName(long[len(long)-1000:]).
			SetDocumentURL("https://example.com/x.pdf").SetTemplateID(tpl.ID).
			SetMetadata(map[string]any{"t": long}).Save(ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{
			`{"metadata.t":{"$regex":"(a+)+$"}}`,
			`{"metadata.t":{"$regex":"(a|aa)+$"}}`,
			`{"metadata.t":{"$regex":"(a*)*b"}}`,
			`{"metadata.t":{"$regex":"^(a+)+$","$options":"i"}}`,
			`{"documentName":{"$regex":"(a+)+$"}}`,
		} {
			// Warm up (connection, statement), then measure.
			if _, err := jobNumbers(t, c, f); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := jobNumbers(t, c, f)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("%s matched %v", f, got)
			}
			// A backtracking engine would take longer than the universe's age here; a linear one
			// answers in milliseconds (about 0.3–3 ms here). The bound leaves room for a loaded CI
			// machine under -race: timing figures are for benchmarks, this checks the kind of engine.
			if took > 2*time.Second {
				t.Errorf("%s took %v: the pattern ran in a backtracking engine", f, took)
			}
			t.Logf("%s: %v", f, took)
		}
	})
}

func TestRegexFilterErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{"documentName":{"$regex":"("}}`, "invalid $regex pattern"},
		{`{"documentName":{"$regex":"a\\1"}}`, "invalid $regex pattern"},
		{`{"documentName":{"$regex":"(?=a)"}}`, "invalid $regex pattern"},
		{`{"documentName":{"$regex":"` + strings.Repeat("a", MaxRegexLen+1) + `"}}`, "the limit is 256"},
		{`{"documentName":{"$regex":"a{101}"}}`, "repetition count over 100"},
		{`{"documentName":{"$regex":"a{1001}"}}`, "invalid $regex pattern"},
		{`{"documentName":{"$regex":5}}`, "needs a string pattern"},
		{`{"documentName":{"$regex":"a","$options":"x"}}`, "unknown option"},
		{`{"documentName":{"$regex":"a","$options":1}}`, "$options needs a string"},
		{`{"documentName":{"$options":"i"}}`, "$regex, which is missing"},
		{`{"retryCount":{"$regex":"1"}}`, "is not text"},
		{`{"createdAt":{"$regex":"2023"}}`, "is not text"},
		{`{"metadata":{"$regex":"a"}}`, "is an object"},
		{`{"documentName":{"$regex":"\\pL\\pL"}}`, "too large"},
	} {
		_, err := ParseJobFilter(tc.filter)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80s: %v, want an error containing %q", tc.filter, err, tc.want)
		}
	}
}

func BenchmarkRegexFilter(b *testing.B) {
	c := databasetest.Open(b)
	ctx := context.Background()
	tpl, err := c.OcrTemplate.Create().SetName("regex-bench").Save(ctx)
	if err != nil {
		b.Fatal(err)
	}
	builders := make([]*ent.OcrInvoiceJobCreate, 1000)
	for i := range builders {
		builders[i] = c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("B-%04d", i)).SetDocumentName(fmt.Sprintf("invoice-%d.pdf", i)).
			SetDocumentURL("https://example.com/x.pdf").SetTemplateID(tpl.ID)
	}
	if _, err := c.OcrInvoiceJob.CreateBulk(builders...).Save(ctx); err != nil {
		b.Fatal(err)
	}
	preds, err := ParseJobFilter(`{"documentName":{"$regex":"^INVOICE-9\\d+\\.pdf$","$options":"i"}}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if n, err := c.OcrInvoiceJob.Query().Where(preds...).Count(ctx); err != nil || n != 110 {
			b.Fatalf("count %d, %v", n, err)
		}
	}
}

// FuzzCompileRegex: no pattern or option string panics the compiler, and an accepted
// pattern's two forms respect their bounds and the Go form compiles.
func FuzzCompileRegex(f *testing.F) {
	for _, p := range regexPatterns {
		f.Add(p.pattern, p.options)
	}
	f.Add(`(?i)[^\x00-\x{10FFFF}]`, "")
	f.Add(`[\x{D7FF}-\x{E000}]`, "ims")
	f.Add(`(?m)^$|\b\B`, "s")
	f.Fuzz(func(t *testing.T, pattern, options string) {
		rx, err := compileRegex("f", pattern, options)
		if err != nil {
			return
		}
		if len(pattern) > MaxRegexLen || len(rx.pgPattern) > maxPGRegexLen {
			t.Fatalf("accepted %q (%d bytes) with a PostgreSQL form of %d bytes", pattern, len(pattern), len(rx.pgPattern))
		}
		if _, err := regexp.Compile(rx.goPattern); err != nil {
			t.Fatalf("Go form %q of %q does not compile: %v", rx.goPattern, pattern, err)
		}
	})
}
