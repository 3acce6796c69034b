package templates

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// DefaultMatchTimeout bounds one regular-expression match. invoice2data's patterns are
// Python's and backtrack; a pathological pattern on a long document must fail, not hang.
const DefaultMatchTimeout = 2 * time.Second

// pyRegexp is a Python `re` pattern compiled with regexp2 in Python-compatible form:
// Python's syntax is translated (see translatePython), groups are numbered in pattern
// order as Python numbers them, and every match is bounded by a timeout.
type pyRegexp struct {
	src    string // the pattern as written in the template
	re     *regexp2.Regexp
	groups int // number of capturing groups, as Python's re.groups
	named  []string
}

// compilePython compiles a Python regular expression. flags are extra regexp2 options
// (none for invoice2data's default behaviour, which uses re.search/re.findall without flags).
func compilePython(pattern string, timeout time.Duration) (*pyRegexp, error) {
	tr, err := translatePython(pattern)
	if err != nil {
		return nil, fmt.Errorf("translate regex %q: %w", pattern, err)
	}
	re, err := regexp2.Compile(tr, regexp2.None, regexp2.OptionMaintainCaptureOrder())
	if err != nil {
		return nil, fmt.Errorf("compile regex %q: %w", pattern, err)
	}
	if timeout <= 0 {
		timeout = DefaultMatchTimeout
	}
	re.MatchTimeout = timeout
	p := &pyRegexp{src: pattern, re: re}
	for _, n := range re.GetGroupNumbers() {
		if n == 0 {
			continue
		}
		p.groups++
		name := re.GroupNameFromNumber(n)
		if !isDigits(name) {
			p.named = append(p.named, name)
		}
	}
	return p, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ErrMatchTimeout is wrapped by the error of a match that exceeded its timeout.
var ErrMatchTimeout = errors.New("regex match timeout")

// ErrBacktrackLimit is wrapped by the error of a match that exceeded the engine's
// backtracking stack limit.
var ErrBacktrackLimit = errors.New("regex backtracking limit")

// matchError makes a regexp2 failure an error that names the pattern. regexp2's own message
// quotes the whole input, which may be a whole document, so it is not kept.
func (p *pyRegexp) matchError(err error) error {
	if strings.Contains(err.Error(), "timeout") {
		return fmt.Errorf("regex %q exceeded its match timeout of %s: %w", p.src, p.re.MatchTimeout, ErrMatchTimeout)
	}
	if errors.Is(err, regexp2.ErrBacktrackingStackLimit) {
		return fmt.Errorf("regex %q: %w", p.src, ErrBacktrackLimit)
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return fmt.Errorf("regex %q failed to match: %s", p.src, msg)
}

// search is Python's re.search: the first match anywhere, or nil.
func (p *pyRegexp) search(s string) (*regexp2.Match, error) {
	m, err := p.re.FindStringMatch(s)
	if err != nil {
		return nil, p.matchError(err)
	}
	return m, nil
}

// matches reports whether the pattern is found anywhere in s.
func (p *pyRegexp) matches(s string) (bool, error) {
	m, err := p.search(s)
	return m != nil, err
}

// findAll is Python's re.findall reduced to one string per match: the whole match when the
// pattern has no group, group 1 when it has one. With several groups Python returns tuples
// (which invoice2data rejects); here the first group that took part in the match is used.
func (p *pyRegexp) findAll(s string) ([]string, error) {
	var out []string
	m, err := p.re.FindStringMatch(s)
	for m != nil && err == nil {
		out = append(out, p.value(m))
		m, err = p.re.FindNextMatch(m)
	}
	if err != nil {
		return out, p.matchError(err)
	}
	return out, nil
}

func (p *pyRegexp) value(m *regexp2.Match) string {
	switch {
	case p.groups == 0:
		return m.String()
	case p.groups == 1:
		return groupString(m.GroupByNumber(1))
	}
	for i := 1; i <= p.groups; i++ {
		if g := m.GroupByNumber(i); g != nil && len(g.Captures) > 0 {
			return g.String()
		}
	}
	return ""
}

func groupString(g *regexp2.Group) string {
	if g == nil || len(g.Captures) == 0 {
		return ""
	}
	return g.String()
}

// groupDict is Python's match.groupdict(): every named group, "" when it did not take part.
func (p *pyRegexp) groupDict(m *regexp2.Match) map[string]string {
	d := make(map[string]string, len(p.named))
	for _, n := range p.named {
		d[n] = groupString(m.GroupByName(n))
	}
	return d
}

// split is Python's re.split without groups in the separator.
func (p *pyRegexp) split(s string) ([]string, error) {
	var out []string
	last := 0
	m, err := p.re.FindStringMatch(s)
	for m != nil && err == nil {
		i, n := m.ByteRange()
		if n == 0 && i == last && i != 0 {
			// An empty separator match at the previous cut splits nothing.
		} else {
			out = append(out, s[last:i])
			last = i + n
		}
		m, err = p.re.FindNextMatch(m)
	}
	if err != nil {
		return nil, p.matchError(err)
	}
	return append(out, s[last:]), nil
}

// sub is Python's re.sub(pattern, repl, s) with Python's replacement syntax
// (\1, \g<1>, \g<name>, \n, \\).
func (p *pyRegexp) sub(s, repl string) (string, error) {
	r := translateReplacement(repl)
	out, err := p.re.Replace(s, r, -1, -1)
	if err != nil {
		return s, p.matchError(err)
	}
	return out, nil
}

// translateReplacement turns a Python re.sub replacement into regexp2's (.NET) syntax.
func translateReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(repl):
			n := repl[i+1]
			switch {
			case n >= '0' && n <= '9':
				j := i + 1
				for j < len(repl) && j < i+3 && repl[j] >= '0' && repl[j] <= '9' {
					j++
				}
				b.WriteString("${" + repl[i+1:j] + "}")
				i = j - 1
			case n == 'g' && i+2 < len(repl) && repl[i+2] == '<':
				end := strings.IndexByte(repl[i+3:], '>')
				if end < 0 {
					b.WriteByte(c)
					continue
				}
				b.WriteString("${" + repl[i+3:i+3+end] + "}")
				i = i + 3 + end
			case n == 'n':
				b.WriteByte('\n')
				i++
			case n == 't':
				b.WriteByte('\t')
				i++
			case n == 'r':
				b.WriteByte('\r')
				i++
			case n == '\\':
				b.WriteByte('\\')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// translatePython rewrites the parts of Python's `re` syntax that regexp2 (a port of .NET's
// engine) reads differently or rejects:
//
//	(?P<name>...)      -> (?<name>...)
//	(?P=name)          -> \k<name>
//	{,n}               -> {0,n}        (.NET reads "{,n}" as literal text)
//	\Z                 -> \z           (Python's \Z is the very end of the string)
//	[ inside a class   -> \[           (.NET would read "-[" as class subtraction)
//	] first in a class -> \]
//	flags a, L, u      -> dropped      (ASCII/locale/unicode: .NET is always Unicode)
//
// Everything else (lookarounds, backreferences, inline flags i m s x, atomic groups) has the
// same meaning in both engines.
func translatePython(p string) (string, error) {
	var b strings.Builder
	rs := []rune(p)
	inClass := false
	classStart := 0 // index in rs of the first char after "[" or "[^"
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if c == '\\' {
			if i+1 >= len(rs) {
				return "", errors.New("pattern ends with a lone backslash")
			}
			n := rs[i+1]
			if n == 'Z' && !inClass {
				b.WriteString(`\z`)
			} else {
				b.WriteRune(c)
				b.WriteRune(n)
			}
			i++
			continue
		}
		if inClass {
			switch c {
			case ']':
				if i == classStart {
					b.WriteString(`\]`)
					continue
				}
				inClass = false
				b.WriteRune(c)
			case '[':
				if i+1 < len(rs) && rs[i+1] == ':' {
					// POSIX classes are not Python syntax either; keep the bracket literal.
					b.WriteString(`\[`)
					continue
				}
				b.WriteString(`\[`)
			default:
				b.WriteRune(c)
			}
			continue
		}
		switch c {
		case '[':
			inClass = true
			b.WriteRune(c)
			if i+1 < len(rs) && rs[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
			classStart = i + 1
		case '{':
			// {,n} -> {0,n}
			j := i + 1
			if j < len(rs) && rs[j] == ',' {
				k := j + 1
				for k < len(rs) && rs[k] >= '0' && rs[k] <= '9' {
					k++
				}
				if k > j+1 && k < len(rs) && rs[k] == '}' {
					b.WriteString("{0")
					continue
				}
			}
			b.WriteRune(c)
		case '(':
			rest := string(rs[i:min(len(rs), i+4)])
			switch {
			case strings.HasPrefix(rest, "(?P<"):
				b.WriteString("(?<")
				i += 3
			case strings.HasPrefix(rest, "(?P="):
				end := indexRune(rs[i:], ')')
				if end < 0 {
					return "", errors.New("unterminated (?P= backreference")
				}
				b.WriteString(`\k<` + string(rs[i+4:i+end]) + `>`)
				i += end
			case strings.HasPrefix(rest, "(?") && len(rest) > 2 && isFlagRune(rs[i+2]):
				// Inline flags: (?imsx) or (?imsx-imsx:...). Drop Python-only a, L, u.
				j := i + 2
				for j < len(rs) && (isFlagRune(rs[j]) || rs[j] == '-') {
					j++
				}
				flags := strings.Map(func(r rune) rune {
					if r == 'a' || r == 'L' || r == 'u' {
						return -1
					}
					return r
				}, string(rs[i+2:j]))
				flags = strings.TrimSuffix(flags, "-")
				if j < len(rs) && rs[j] == ')' && flags == "" {
					i = j // (?u) alone: nothing left to say
					continue
				}
				b.WriteString("(?" + flags)
				i = j - 1
			default:
				b.WriteRune(c)
			}
		default:
			b.WriteRune(c)
		}
	}
	if inClass {
		return "", errors.New("unterminated character set")
	}
	return b.String(), nil
}

func isFlagRune(r rune) bool {
	switch r {
	case 'a', 'i', 'L', 'm', 's', 'u', 'x':
		return true
	}
	return false
}

func indexRune(rs []rune, r rune) int {
	for i, c := range rs {
		if c == r {
			return i
		}
	}
	return -1
}
