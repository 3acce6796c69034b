package invoice

// TemplateSpec is how to read a family of invoices, in the vocabulary of invoice2data's
// YAML/JSON templates. It is stored as the `spec` JSON field of an OcrTemplate and is
// interpreted by worker/extract. A zero TemplateSpec means "generic rules only".
type TemplateSpec struct {
	// Issuer is the supplier the template was written for (informational).
	Issuer string `json:"issuer,omitempty"`
	// Keywords must all appear in the document text for the template to apply
	// (each is a regular expression, Python syntax).
	Keywords []string `json:"keywords,omitempty"`
	// ExcludeKeywords: the template does not apply when any of them appears.
	ExcludeKeywords []string `json:"excludeKeywords,omitempty"`
	// Priority orders matching templates; higher wins. Default 5 as in invoice2data.
	Priority int `json:"priority,omitempty"`
	// Fields maps a field name (invoice2data names such as "invoice_number", "date",
	// "amount", or contract paths such as "invoice.number") to its rule.
	Fields map[string]FieldRule `json:"fields,omitempty"`
	// Lines describes how to read line items.
	Lines *LinesRule `json:"lines,omitempty"`
	// Options are invoice2data's template options.
	Options TemplateOptions `json:"options,omitempty"`
	// Tables are invoice2data's `tables` plugin: between Start and End, each line that
	// matches Body gives its named groups as fields (a field already found is kept).
	Tables []TableRule `json:"tables,omitempty"`
}

// TableRule is one entry of invoice2data's `tables` plugin.
type TableRule struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Body  string `json:"body,omitempty"`
	// LineSeparator splits the block into lines (a regex; default "\n").
	LineSeparator string `json:"lineSeparator,omitempty"`
	// Types coerce named groups ("int", "float", "date") beyond the name conventions.
	Types map[string]string `json:"types,omitempty"`
}

// FieldRule reads one field with a regular expression (Python syntax).
type FieldRule struct {
	// Parser is "regex" (default), "static" or "lines".
	Parser string `json:"parser,omitempty"`
	// Regex is one or more patterns; the first group (or Group) of the first match is the value.
	Regex []string `json:"regex,omitempty"`
	// Value is the constant of a static field.
	Value string `json:"value,omitempty"`
	// Type is "string" (default), "float", "int" or "date".
	Type string `json:"type,omitempty"`
	// Group is how several matches combine: "first" (default), "last", "sum", "join".
	Group string `json:"group,omitempty"`
	// Lines is set when Parser is "lines" (line items given as a field).
	Lines *LinesRule `json:"lines,omitempty"`
}

// LinesRule reads repeated rows between a start and an end pattern.
type LinesRule struct {
	Start     string            `json:"start,omitempty"`
	End       string            `json:"end,omitempty"`
	Line      string            `json:"line,omitempty"`
	FirstLine string            `json:"firstLine,omitempty"`
	LastLine  string            `json:"lastLine,omitempty"`
	SkipLine  []string          `json:"skipLine,omitempty"`
	Types     map[string]string `json:"types,omitempty"`
	// LineMore, FirstLineMore and LastLineMore are further patterns tried in order after
	// Line, FirstLine and LastLine (invoice2data accepts a list for each).
	LineMore      []string `json:"lineMore,omitempty"`
	FirstLineMore []string `json:"firstLineMore,omitempty"`
	LastLineMore  []string `json:"lastLineMore,omitempty"`
	// LineSeparator splits a block into lines (a regex; default "\n").
	LineSeparator string `json:"lineSeparator,omitempty"`
	// Rules are several independent blocks (invoice2data's `rules:` list); each rule
	// inherits Types and LineSeparator from this rule when it has none of its own.
	Rules []LinesRule `json:"rules,omitempty"`
}

// TemplateOptions are invoice2data's template options.
type TemplateOptions struct {
	Currency         string      `json:"currency,omitempty"`
	DecimalSeparator string      `json:"decimalSeparator,omitempty"`
	DateFormats      []string    `json:"dateFormats,omitempty"` // strftime patterns
	Languages        []string    `json:"languages,omitempty"`
	Replace          [][2]string `json:"replace,omitempty"`
	RequiredFields   []string    `json:"requiredFields,omitempty"`
	RemoveWhitespace bool        `json:"removeWhitespace,omitempty"`
	RemoveAccents    bool        `json:"removeAccents,omitempty"`
	Lowercase        bool        `json:"lowercase,omitempty"`
}
