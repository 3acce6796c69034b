package extract

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// The lines of a party block (the lines between a heading, or the top of an address
// window, and the postcode line) are of a few kinds: the name, which may be wrapped over
// two lines; salutation and attention lines ("Herrn", "Attn: Jane Doe", "z. Hd."); id
// and contact lines (GLN, customer number, VAT id, phone, e-mail); and address lines
// (street, PO box, postcode and city, country). The helpers here tell them apart, so
// that a name is neither cut after its first line nor padded with the lines around it.

var (
	// reAttention starts a line that names a contact person, not the party.
	reAttention = regexp.MustCompile(`(?i)^(?:attn\b\.?|attention\b|z\.\s*h(?:d|än)?\.?\s|z\.\s*hd\.?$|zu\s+h(?:ä|ae|a)nden|c/o\b|à\s+l['’]\s*attention|a\s+l['’]\s*attention|t\.\s*a\.\s*v\.?|ter\s+attentie|care\s+of\b|contact\s*:|ansprechpartner|interlocuteur)`)
	// reIDLine is a line that carries an id or a contact, never a name.
	reIDLine = regexp.MustCompile(`(?i)(?:^|\s)(?:gln|iln|ean|duns|siren|siret|kunden\s*-?\s*(?:nr|nummer|no)|kd\.?\s*-?\s*nr|customer\s*(?:no|nr|number|id|#)|client\s*(?:no|id|#)|n°\s*(?:de\s+)?client|account\s*(?:no|number|#)|debitor|tel\.?|phone|fax|e-?mail)\b|@|\b\d{13}\b`)
	// reStreet is a street or PO box line: a street word and a number, a number before the
	// street ("42 rue du stade"), or a word followed by a house number ("Bahnstr. 42").
	reStreetWord  = regexp.MustCompile(`(?i)(?:str\.|stra(?:ß|ss)e|weg\b|allee\b|platz\b|gasse\b|ring\b|damm\b|ufer\b|chaussee\b|\brue\b|\bavenue\b|\bav\.|\bboulevard\b|\bbd\b|\bchemin\b|\broute\b|\ballée\b|\bimpasse\b|\bplace\b|\bquai\b|\bstreet\b|\bst\.?$|\broad\b|\brd\.?$|\blane\b|\bdrive\b|\bway\b|\bblvd\b|straat\b|laan\b|plein\b|gracht\b|\bvia\b|\bcalle\b|postfach|p\.?\s*o\.?\s*box|\bbp\s*\d|cedex|\bsuite\b|\bfloor\b|\bbuilding\b)`)
	reHouseNumber = regexp.MustCompile(`^\d+\s*[a-zA-Z]?\s*[,]?\s+\p{L}|\p{L}\.?\s+\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?$`)
	// reConnector ends a line whose name goes on below ("Müller &", "Société des").
	reConnector = regexp.MustCompile(`(?i)(?:[&+\-–,]|\b(?:und|and|et|en|e|y|of|de|des|du|der|für|for|van|von))$`)
	// reLegalEnd is a legal form at the end of a line: the name ends there.
	reLegalEnd = regexp.MustCompile(`(?i)(?:^|[\s,])(?:` + vocab.LegalFormsWhere(func(f vocab.LegalForm) bool { return f.AtEnd }) + `)\.?$`)
	// reLeadingConnector starts a line that goes on from the one above ("und Kultur e.V.",
	// "genossenschaft Nord eG").
	reLeadingConnector = regexp.MustCompile(`^(?:&|\+|(?:und|and|et|en|y|of|de|des|du|der|für|for)\s|\p{Ll})`)
	// reLegalStart is a line that is only the legal form of the line above ("GmbH & Co. KG").
	reLegalStart  = regexp.MustCompile(`(?i)^(?:` + vocab.LegalFormsWhere(func(f vocab.LegalForm) bool { return f.AtStart }) + `)\b`)
	reCountryLine = regexp.MustCompile(`(?i)^(?:deutschland|germany|allemagne|france|frankreich|nederland|netherlands|the\s+netherlands|holland|niederlande|belgi(?:um|que|ë)|belgien|luxemb(?:o)?urg|österreich|oesterreich|austria|schweiz|suisse|switzerland|svizzera|italia|italy|italien|espa(?:ñ|n)a|spain|spanien|portugal|polska|poland|polen|danmark|denmark|sverige|sweden|norge|norway|suomi|finland|united\s+kingdom|uk|great\s+britain|england|ireland|united\s+states(?:\s+of\s+america)?|usa|u\.s\.a\.|canada|india|malaysia|singapore|australia|ile\s+de\s+la\s+r[ée]union|la\s+r[ée]union)\.?$`)
)

// isSalutationLine reports whether s is only a salutation ("Herrn", "Mme").
func isSalutationLine(s string) bool {
	return reSalutation.MatchString(strings.TrimSpace(s))
}

// isAttentionLine reports whether s names a contact person ("Attn: ...", "z. Hd. ...").
func isAttentionLine(s string) bool {
	return reAttention.MatchString(strings.TrimSpace(s))
}

// isIDLine reports whether s carries an id, a phone number or an e-mail address.
func isIDLine(s string) bool {
	s = strings.TrimSpace(s)
	if reIDLine.MatchString(s) {
		return true
	}
	// A VAT id has digits; capitals alone ("RELAIS TOTAL") are a name.
	for _, tok := range reTaxIDToken.FindAllString(s, -1) {
		if strings.Count(tok, " ") <= 2 && countDigits(tok) >= 6 {
			return true
		}
	}
	digits := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	// Mostly digits: a number, not a name or a street.
	return digits >= 6 && digits*2 > len([]rune(s))
}

// isAddressLine reports whether s is part of a postal address: a street or PO box, a
// postcode and city, or a country.
func isAddressLine(s string) bool {
	s = strings.TrimSpace(s)
	if rePostcode.MatchString(s) || reCountryLine.MatchString(s) {
		return true
	}
	hasDigit := strings.ContainsAny(s, "0123456789")
	if !hasDigit {
		return false
	}
	return reStreetWord.MatchString(s) || reHouseNumber.MatchString(s)
}

// isClearAddressLine is isAddressLine without the word-and-number rule, which also
// fits names such as "Channel 12": a postcode, a country, a street word with a number,
// or a number before the street.
func isClearAddressLine(s string) bool {
	s = strings.TrimSpace(s)
	if rePostcode.MatchString(s) || reCountryLine.MatchString(s) {
		return true
	}
	return strings.ContainsAny(s, "0123456789") && (reStreetWord.MatchString(s) || reLeadingHouseNumber.MatchString(s))
}

var reLeadingHouseNumber = regexp.MustCompile(`^\d+\s*[a-zA-Z]?\s*[,]?\s+\p{L}`)

// hasLegalEnd reports whether the name s ends with a legal form.
func hasLegalEnd(s string) bool {
	return reLegalEnd.MatchString(strings.TrimRight(strings.TrimSpace(s), ",;"))
}

// continuesName reports whether next, the line below the name lines so far, is the rest
// of a name wrapped over two lines: the first line ends with a connector, or next is the
// legal form alone, or next ends with a legal form that the first line lacks. Address,
// id, contact and salutation lines never continue a name.
func continuesName(name []string, next string) bool {
	next = strings.TrimSpace(next)
	if len(name) == 0 || len(name) >= 3 || next == "" {
		return false
	}
	if isAddressLine(next) || isIDLine(next) || isAttentionLine(next) || isSalutationLine(next) ||
		reLabelish.MatchString(next) || !isNameLike(next) {
		return false
	}
	last := strings.TrimSpace(name[len(name)-1])
	if hasLegalEnd(last) {
		return false
	}
	if reConnector.MatchString(last) || reLegalStart.MatchString(next) || reLeadingConnector.MatchString(next) {
		return true
	}
	// The second line carries the legal form the first lacks.
	return hasLegalEnd(next) && !companySuffix.MatchString(strings.Join(name, " "))
}

// blockName picks the name out of the lines of an unlabelled address block, top down:
// salutation, attention and id lines are skipped, and a name wrapped over two lines is
// joined. It returns the name, the index of the first line after it, and false when the
// block has no name line before its address.
func blockName(lines []string) (string, int, bool) {
	for i := 0; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if isSalutationLine(t) || isAttentionLine(t) || isIDLine(t) {
			continue
		}
		if isAddressLine(t) || !isNameLike(t) {
			return "", 0, false
		}
		name := []string{partyName(stripSalutation(t))}
		j := i + 1
		for ; j < len(lines) && continuesName(name, lines[j]); j++ {
			name = append(name, strings.TrimSpace(lines[j]))
		}
		return strings.Join(name, "\n"), j, name[0] != ""
	}
	return "", 0, false
}

var reSalutationPrefix = regexp.MustCompile(`(?i)^(?:herrn?|frau|firma|mr\.?|mrs\.?|ms\.?|mme\.?|monsieur|madame|messrs\.?)\s+(\p{Lu})`)

// stripSalutation drops a salutation in front of a name on the same line
// ("Herrn Max Mustermann", "Mr John Smith").
func stripSalutation(s string) string {
	if loc := reSalutationPrefix.FindStringSubmatchIndex(s); loc != nil {
		return s[loc[2]:]
	}
	return s
}

// alignedLine returns the text of the segment of row k that starts where s starts (the
// same column), unless a label stands to its left in that row.
func (d *doc) alignedLine(k int, s segment) (string, bool) {
	r := d.rows[k]
	for i, ns := range r.segs {
		if abs(ns.box.X0-s.box.X0) >= 2*d.unit {
			continue
		}
		for _, ls := range r.segs[:i] {
			lt := strings.TrimSpace(ls.text)
			if isLabelOnly(lt) || reLabelish.MatchString(lt) {
				return "", false
			}
		}
		return strings.TrimSpace(ns.text), true
	}
	return "", false
}

// lineBelow returns the line just below row k in the column of s, when no wider gap
// than usual between lines separates them.
func (d *doc) lineBelow(k int, s segment) (string, bool) {
	if k+1 >= len(d.rows) || d.rows[k+1].page != d.rows[k].page || d.rows[k+1].box.Y0-d.rows[k].box.Y1 > 0.8*d.unit {
		return "", false
	}
	return d.alignedLine(k+1, s)
}

// lineAbove returns the unlabelled name-like line just above row k in the column of s.
func (d *doc) lineAbove(k int, s segment) (string, bool) {
	if k == 0 || d.rows[k-1].page != d.rows[k].page || d.rows[k].box.Y0-d.rows[k-1].box.Y1 > 0.8*d.unit {
		return "", false
	}
	t, ok := d.alignedLine(k-1, s)
	if !ok || !isNameLike(t) || reLabelish.MatchString(t) || isAddressLine(t) || isIDLine(t) || isAttentionLine(t) {
		return "", false
	}
	return t, true
}

var reAfterLegal = regexp.MustCompile(`^\s*(?:[-–—|·•,;/]|\p{Ll}|\d)`)

// cutAtLegalForm ends a name at its legal form when what follows is no part of a name:
// an address, a lowercase remark or a separator ("Acme SARL 12 rue ...",
// "Acme B.V. iov Shop.com"). "Kunden AG Mitte" keeps its last word.
func cutAtLegalForm(s string) string {
	// Only the last legal form counts: "ABC Co., Ltd." is one name.
	ms := companySuffix.FindAllStringSubmatchIndex(s, -1)
	if len(ms) == 0 {
		return s
	}
	end := ms[len(ms)-1][3]
	if end < len(s) && s[end] == '.' {
		end++
	}
	if rest := s[end:]; strings.TrimSpace(rest) != "" && reAfterLegal.MatchString(rest) {
		return strings.TrimSpace(s[:end])
	}
	return s
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}
