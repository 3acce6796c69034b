package jobs

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// The $regex operator of the filter language matches a text field with a regular expression in
// Go's syntax (RE2: https://github.com/google/re2/wiki/Syntax), with MongoDB's $options
// "i" (ignore case), "m" (^ and $ match at line breaks) and "s" (. matches a line break).
//
// Where it runs, and why it is safe: the pattern is parsed by Go's regexp/syntax, which
// has no back-references or look-arounds, so no pattern can make an engine backtrack
// exponentially. On SQLite the REGEXP operator calls Go's regexp itself
// (internal/database registers it), whose time is linear in the text. On PostgreSQL the
// parsed pattern is written out again in PostgreSQL's ARE syntax, construct by
// construct, with the same meaning (see pgRegex): capture groups become non-capturing,
// case folding becomes explicit character sets, \b becomes look-arounds over Go's ASCII
// word characters, so the text matches on PostgreSQL exactly when it matches in Go.
// PostgreSQL runs a pattern without back-references on its DFA, also linear in the text.
// Patterns are capped at MaxRegexLen bytes and counted repetitions at MaxRegexRepeat,
// and the PostgreSQL form at maxPGRegexLen bytes.
const (
	// MaxRegexLen is the longest $regex pattern, in bytes.
	MaxRegexLen = 256
	// MaxRegexRepeat is the largest count of a repetition ({n}, {n,m}) in a $regex pattern
	// (PostgreSQL's own limit is 255).
	MaxRegexRepeat = 100
	// FilterCostRegex is the cost of one $regex comparison of a column: a Go call per row
	// on SQLite, like a case-insensitive substring match but dearer; on a JSON path it is
	// added to the cost of reading the path.
	FilterCostRegex = 100
	// maxPGRegexLen bounds the PostgreSQL form of a pattern (large Unicode classes such
	// as \pL expand to hundreds of ranges).
	maxPGRegexLen = 16 << 10
)

// regexOptions are the $options letters $regex accepts.
const regexOptions = "ims"

// textRegex is a compiled $regex: the pattern for Go (SQLite) and for PostgreSQL.
type textRegex struct {
	goPattern string
	pgPattern string
}

// compileRegex checks a $regex pattern and its $options for field name and returns both
// forms, or a filter error naming the field and the problem.
func compileRegex(name string, pattern, options any) (*textRegex, error) {
	p, ok := pattern.(string)
	if !ok {
		return nil, filterError("field %q: $regex needs a string pattern, got %s", name, jsonTypeName(pattern))
	}
	if len(p) > MaxRegexLen {
		return nil, filterError("field %q: the $regex pattern is %d bytes, the limit is %d", name, len(p), MaxRegexLen)
	}
	if !utf8.ValidString(p) {
		return nil, filterError("field %q: the $regex pattern is not valid UTF-8", name)
	}
	flags := syntax.Perl
	if options != nil {
		o, ok := options.(string)
		if !ok {
			return nil, filterError("field %q: $options needs a string of the letters %q, got %s", name, regexOptions, jsonTypeName(options))
		}
		for _, c := range o {
			switch c {
			case 'i':
				flags |= syntax.FoldCase
			case 'm':
				flags &^= syntax.OneLine
			case 's':
				flags |= syntax.DotNL
			default:
				return nil, filterError("field %q: $options %q: unknown option %q (known: i, m, s)", name, o, c)
			}
		}
	}
	re, err := syntax.Parse(p, flags)
	if err != nil {
		return nil, filterError("field %q: invalid $regex pattern (Go/RE2 syntax): %v", name, regexErr(err))
	}
	goPattern := re.String()
	if _, err := regexp.Compile(goPattern); err != nil {
		return nil, filterError("field %q: invalid $regex pattern (Go/RE2 syntax): %v", name, regexErr(err))
	}
	var w pgWriter
	if err := w.write(re); err != nil {
		return nil, filterError("field %q: $regex pattern: %v", name, err)
	}
	if w.Len() > maxPGRegexLen {
		return nil, filterError("field %q: the $regex pattern's character classes are too large (use smaller classes than \\pL and the like)", name)
	}
	return &textRegex{goPattern: goPattern, pgPattern: w.String()}, nil
}

// regexErr is the parser's error without the Go package prefix.
func regexErr(err error) string {
	if e, ok := err.(*syntax.Error); ok {
		return fmt.Sprintf("%s: %s", e.Code, jsonText(e.Expr))
	}
	return err.Error()
}

// predicate returns the SQL condition "expr matches", where expr writes the text.
func (r *textRegex) predicate(expr func(b *sql.Builder)) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.WriteString("(")
		expr(b)
		if b.Dialect() == dialect.Postgres {
			b.WriteString(" ~ ").Arg(r.pgPattern)
		} else {
			b.WriteString(" REGEXP ").Arg(r.goPattern)
		}
		b.WriteString(")")
	})
}

// pgWriter writes a parsed Go pattern in PostgreSQL's ARE syntax, with the same meaning.
type pgWriter struct {
	strings.Builder
}

// asciiWord is Go's \w, the word characters of \b.
const asciiWord = `[0-9A-Za-z_]`

func (w *pgWriter) write(re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		w.WriteString(`(?=a)b`) // never matches
	case syntax.OpEmptyMatch:
		w.WriteString(`(?:)`)
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && hasFold(r) {
				w.WriteString("[")
				for f := r; ; {
					w.rune(f)
					if f = unicode.SimpleFold(f); f == r {
						break
					}
				}
				w.WriteString("]")
				continue
			}
			w.rune(r)
		}
	case syntax.OpCharClass:
		w.class(re.Rune)
	case syntax.OpAnyCharNotNL:
		w.WriteString(`[^\n]`)
	case syntax.OpAnyChar:
		// Outside newline-sensitive mode (never used here) "." matches a line break too.
		w.WriteString(`.`)
	case syntax.OpBeginLine:
		w.WriteString(`(?:^|(?<=\n))`)
	case syntax.OpEndLine:
		w.WriteString(`(?:$|(?=\n))`)
	case syntax.OpBeginText:
		w.WriteString(`^`)
	case syntax.OpEndText:
		w.WriteString(`$`)
	case syntax.OpWordBoundary:
		w.WriteString(`(?:(?<=` + asciiWord + `)(?!` + asciiWord + `)|(?<!` + asciiWord + `)(?=` + asciiWord + `))`)
	case syntax.OpNoWordBoundary:
		w.WriteString(`(?:(?<=` + asciiWord + `)(?=` + asciiWord + `)|(?<!` + asciiWord + `)(?!` + asciiWord + `))`)
	case syntax.OpCapture:
		return w.group(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		// Greediness does not change whether a text matches: every repetition is written
		// greedy (PostgreSQL's non-greedy rules differ from Go's).
		if err := w.group(re.Sub[0]); err != nil {
			return err
		}
		switch re.Op {
		case syntax.OpStar:
			w.WriteString("*")
		case syntax.OpPlus:
			w.WriteString("+")
		case syntax.OpQuest:
			w.WriteString("?")
		default:
			if re.Min > MaxRegexRepeat || re.Max > MaxRegexRepeat {
				return fmt.Errorf("a repetition count over %d", MaxRegexRepeat)
			}
			switch {
			case re.Max == -1:
				fmt.Fprintf(w, "{%d,}", re.Min)
			case re.Max == re.Min:
				fmt.Fprintf(w, "{%d}", re.Min)
			default:
				fmt.Fprintf(w, "{%d,%d}", re.Min, re.Max)
			}
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpAlternate {
				if err := w.group(sub); err != nil {
					return err
				}
				continue
			}
			if err := w.write(sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		for i, sub := range re.Sub {
			if i > 0 {
				w.WriteString("|")
			}
			if err := w.write(sub); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unsupported construct %s", re)
	}
	return nil
}

// group writes re as one atom: in a non-capturing group unless it is one already.
func (w *pgWriter) group(re *syntax.Regexp) error {
	switch {
	case re.Op == syntax.OpCharClass, re.Op == syntax.OpAnyChar, re.Op == syntax.OpAnyCharNotNL,
		re.Op == syntax.OpLiteral && len(re.Rune) == 1:
		return w.write(re)
	}
	w.WriteString("(?:")
	if err := w.write(re); err != nil {
		return err
	}
	w.WriteString(")")
	return nil
}

// hasFold reports whether r has other case forms.
func hasFold(r rune) bool { return unicode.SimpleFold(r) != r }

// rune writes r as a literal: letters and digits as they are, anything else as an escape.
func (w *pgWriter) rune(r rune) {
	switch {
	case r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'):
		w.WriteRune(r)
	case r <= 0xFFFF:
		fmt.Fprintf(w, `\u%04X`, r)
	default:
		fmt.Fprintf(w, `\U%08X`, r)
	}
}

// class writes a character class of Go's (sorted rune pairs lo-hi) as a bracket
// expression. Surrogate halves, which no stored text holds and PostgreSQL cannot name,
// are left out.
func (w *pgWriter) class(ranges []rune) {
	var c pgWriter
	c.WriteString("[")
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		for _, r := range splitSurrogates(ranges[i], ranges[i+1]) {
			c.rune(r[0])
			if r[1] != r[0] {
				c.WriteString("-")
				c.rune(r[1])
			}
			n++
		}
	}
	if n == 0 {
		w.WriteString(`(?=a)b`) // only surrogates (or nothing): never matches
		return
	}
	c.WriteString("]")
	w.WriteString(c.String())
}

// splitSurrogates returns lo-hi without U+D800-U+DFFF, as 0 to 2 ranges.
func splitSurrogates(lo, hi rune) [][2]rune {
	const sLo, sHi = 0xD800, 0xDFFF
	if hi < sLo || lo > sHi {
		return [][2]rune{{lo, hi}}
	}
	var out [][2]rune
	if lo < sLo {
		out = append(out, [2]rune{lo, sLo - 1})
	}
	if hi > sHi {
		out = append(out, [2]rune{sHi + 1, hi})
	}
	return out
}
