package templates

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// compiledLines is a compiled invoice2data `lines` block (or a list of rules).
type compiledLines struct {
	start, end, sep     *pyRegexp
	line, first, last   []*pyRegexp
	skip                []*pyRegexp
	types               map[string]string
	rules               []*compiledLines
	hasFirst, hasLast   bool
	lineSeparatorIsNewl bool
}

func (t *Template) compileLines(r invoice.LinesRule, parent *invoice.LinesRule) (*compiledLines, error) {
	cl := &compiledLines{types: r.Types}
	if parent != nil {
		if cl.types == nil {
			cl.types = parent.Types
		}
		if r.LineSeparator == "" {
			r.LineSeparator = parent.LineSeparator
		}
	}
	if len(r.Rules) > 0 {
		for i, sub := range r.Rules {
			c, err := t.compileLines(sub, &r)
			if err != nil {
				t.warnf("lines rules[%d] disabled: %v", i, err)
				continue
			}
			cl.rules = append(cl.rules, c)
		}
		if len(cl.rules) == 0 {
			return nil, fmt.Errorf("no usable rule")
		}
		return cl, nil
	}
	if r.Start == "" || r.End == "" {
		return nil, fmt.Errorf("lines need start and end")
	}
	var err error
	if cl.start, err = compilePython(r.Start, t.cfg.timeout); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if cl.end, err = compilePython(r.End, t.cfg.timeout); err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	sep := orDefault(r.LineSeparator, `\n`)
	cl.lineSeparatorIsNewl = sep == `\n`
	if cl.sep, err = compilePython(sep, t.cfg.timeout); err != nil {
		return nil, fmt.Errorf("line_separator: %w", err)
	}
	list := func(first string, more []string) []string {
		if first == "" {
			return more
		}
		return append([]string{first}, more...)
	}
	if cl.line, err = t.compileAll(list(r.Line, r.LineMore)); err != nil {
		return nil, fmt.Errorf("line: %w", err)
	}
	if cl.first, err = t.compileAll(list(r.FirstLine, r.FirstLineMore)); err != nil {
		return nil, fmt.Errorf("first_line: %w", err)
	}
	if cl.last, err = t.compileAll(list(r.LastLine, r.LastLineMore)); err != nil {
		return nil, fmt.Errorf("last_line: %w", err)
	}
	if cl.skip, err = t.compileAll(r.SkipLine); err != nil {
		return nil, fmt.Errorf("skip_line: %w", err)
	}
	cl.hasFirst, cl.hasLast = len(cl.first) > 0, len(cl.last) > 0
	if !cl.hasFirst && !cl.hasLast {
		// invoice2data: without first_line and last_line, line itself starts each row.
		cl.first = cl.line
		cl.hasFirst = true
	}
	if len(cl.line) == 0 && len(cl.first) == 0 {
		return nil, fmt.Errorf("lines need a line regex")
	}
	for k, v := range cl.types {
		switch v {
		case "int", "float", "date", "str", "string", "":
		default:
			return nil, fmt.Errorf("types.%s: unknown type %q", k, v)
		}
	}
	return cl, nil
}

// parseLines is invoice2data's lines parser: every block between a match of start and the
// next match of end (searching again after each end), split into lines, read with
// first_line / line / last_line / skip_line, then each row's named fields are coerced with
// types. Rules are read one after another and their rows concatenated.
func (t *Template) parseLines(cl *compiledLines, text string, res *Result) ([]map[string]atom, error) {
	if len(cl.rules) > 0 {
		var out []map[string]atom
		for _, r := range cl.rules {
			rows, err := t.parseLines(r, text, res)
			if err != nil {
				return out, err
			}
			out = append(out, rows...)
		}
		return out, nil
	}
	var rows []map[string]string
	content := text
	for {
		sm, err := cl.start.search(content)
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		if sm == nil {
			break
		}
		i, n := sm.ByteRange()
		content = content[i+n:]
		em, err := cl.end.search(content)
		if err != nil {
			return nil, fmt.Errorf("end: %w", err)
		}
		if em == nil {
			res.Warnings = append(res.Warnings, "lines: a block starts but its end is not found")
			break
		}
		ei, en := em.ByteRange()
		block, err := t.parseBlock(cl, content[:ei])
		if err != nil {
			return nil, err
		}
		rows = append(rows, block...)
		if ei+en == 0 {
			break // an empty end match would loop forever
		}
		content = content[ei+en:]
	}
	out := make([]map[string]atom, 0, len(rows))
	for _, row := range rows {
		r := make(map[string]atom, len(row))
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a, err := t.coerce(row[k], cl.types[k])
			if err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("lines: %s: %v", k, err))
				a = atom{s: row[k]}
			}
			r[k] = a
		}
		out = append(out, r)
	}
	return out, nil
}

func firstMatch(res []*pyRegexp, line string) (*pyRegexp, map[string]string, error) {
	for _, re := range res {
		m, err := re.search(line)
		if err != nil {
			return nil, nil, err
		}
		if m != nil {
			return re, re.groupDict(m), nil
		}
	}
	return nil, nil, nil
}

func (t *Template) parseBlock(cl *compiledLines, content string) ([]map[string]string, error) {
	var lines []string
	if cl.lineSeparatorIsNewl {
		lines = strings.Split(content, "\n")
	} else {
		var err error
		if lines, err = cl.sep.split(content); err != nil {
			return nil, fmt.Errorf("line_separator: %w", err)
		}
	}
	var rows []map[string]string
	var cur map[string]string
	// Without a first_line, every line may continue the current row (invoice2data's
	// lines plugin); with one, lines before it are ignored.
	firstFound := !cl.hasFirst
	appendTo := func(d map[string]string) {
		if cur == nil {
			cur = map[string]string{}
		}
		for k, v := range d {
			v = strings.TrimSpace(v)
			if prev := cur[k]; prev != "" {
				cur[k] = prev + "\n" + v
			} else {
				cur[k] = v
			}
		}
	}
	for _, line := range lines {
		if strings.Trim(line, "\r\n") == "" {
			continue
		}
		if cl.hasFirst {
			_, d, err := firstMatch(cl.first, line)
			if err != nil {
				return nil, fmt.Errorf("first_line: %w", err)
			}
			if d != nil {
				if len(cur) > 0 {
					rows = append(rows, cur)
				}
				cur = map[string]string{}
				for k, v := range d {
					cur[k] = strings.TrimSpace(v)
				}
				firstFound = true
				continue
			}
		}
		if !firstFound {
			continue
		}
		if cl.hasLast {
			_, d, err := firstMatch(cl.last, line)
			if err != nil {
				return nil, fmt.Errorf("last_line: %w", err)
			}
			if d != nil {
				appendTo(d)
				if len(cur) > 0 {
					rows = append(rows, cur)
				}
				cur = nil
				firstFound = !cl.hasFirst
				continue
			}
		}
		if len(cl.skip) > 0 {
			re, _, err := firstMatch(cl.skip, line)
			if err != nil {
				return nil, fmt.Errorf("skip_line: %w", err)
			}
			if re != nil {
				continue
			}
		}
		_, d, err := firstMatch(cl.line, line)
		if err != nil {
			return nil, fmt.Errorf("line: %w", err)
		}
		if d != nil {
			appendTo(d)
		}
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows, nil
}
