package extract

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// party is a supplier or customer block found on the document.
type party struct {
	name    cand
	address cand
	rows    map[int]bool // rows that belong to the block
}

var (
	rePostcode  = regexp.MustCompile(`(?:^|[\s,(])(?:[A-Z]{1,2}[- ])?(\d{4,6}|\d{4}\s?[A-Z]{2})[\s,]*\p{L}{2,}|\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b|\p{L}{3,}\s*[-–]\s*\d{6}\b|\p{L}{3,},?\s+[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\p{L}{3,},?\s+(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s[0-9AC-FHKNPRTV-Y]{4}\b`)
	reSenderSep = regexp.MustCompile(`\s+[●•·|–—-]\s+|\s*[●•·|]\s*`)
	reLabelish  = regexp.MustCompile(`^[\p{L} .\-/()]{2,40}:`)
	reNoName    = regexp.MustCompile(`(?i)^(?:compan(?:y|ie)\s*(?:reg|no)|co\.?\s*(?:reg|no)|reg\.?\s*no|tel|fax|phone|telefon|tél|e-?mail|www\.|http|iban|bic|swift|ust|vat|tva|btw|steuer|gst|page|seite|date|datum|invoice|rechnung|facture|factuur|factura|fattura|(?:payment\s+|cash\s+|official\s+|sales\s+)?receipt|tax\s*invoice|cash\s*bill|simplified|official|no\.?\s*\d|\d|afleveradres|lieferadresse|lieferanschrift|delivery\s*address|shipping\s*address|adresse\s*de\s*livraison|ship\s*to|deliver\s*to)`)
)

// isNameLike reports whether s can be a party name.
func isNameLike(s string) bool {
	s = strings.TrimSpace(s)
	if len([]rune(s)) < 2 || len(s) > 80 {
		return false
	}
	letters, digits := 0, 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
		} else if unicode.IsDigit(r) {
			digits++
		}
	}
	if letters < 2 || digits > letters {
		return false
	}
	if reNoName.MatchString(s) || strings.Contains(s, "@") || strings.HasPrefix(s, "(") || len(strings.Fields(s)) > 8 {
		return false
	}
	if reLabelish.MatchString(s) && !nameLabel.MatchString(s) {
		return false
	}
	return true
}

func cleanName(s string) string {
	s = nameLabel.ReplaceAllString(strings.TrimSpace(s), "")
	// A company registration number in brackets is not part of the name.
	s = reRegSuffix.ReplaceAllString(s, "")
	s = strings.Trim(s, " ,;:-")
	return s
}

// hasLabel reports whether s starts with a label ("Tel.:", "USt-IdNr.:").
func hasLabel(s string) bool {
	s = strings.TrimSpace(s)
	return isLabelOnly(s) || reLabelish.MatchString(s)
}

// partyName is cleanName that also ends the name at its legal form (see cutAtLegalForm).
func partyName(s string) string {
	s = reTrailingID.ReplaceAllString(cleanName(s), "")
	s = strings.Trim(cutAtLegalForm(strings.Trim(s, " ,;:-")), " ,;:-")
	if t := reDepartmentSuffix.ReplaceAllString(s, ""); t != s && isNameLike(t) {
		s = t
	}
	return s
}

// reDepartmentSuffix is a department after the company's name on a letterhead line
// ("Free Service Abonné", "Acme Customer Service", "Müller Kundenservice"): the party
// is the company.
var reDepartmentSuffix = regexp.MustCompile(`(?i)\s*[-–—,|]?\s+(?:service\s+(?:abonn[ée]s?|clients?|client[eè]le|facturation|comptabilit[ée])|customer\s+(?:service|care|support)|billing\s+(?:department|dept\.?|office)|accounts\s+(?:receivable|department)|kundenservice|kundendienst|kundenbetreuung|buchhaltung|klantenservice)$`)

// reTrailingID is an id printed after a name on its line ("Müller Handel GLN 4012345000009").
var reTrailingID = regexp.MustCompile(`(?i)[\s,;(]+(?:gln|iln|kd\.?\s*-?\s*nr\.?|kunden\s*-?\s*(?:nr|nummer)\.?|customer\s*(?:no\.?|#|id)|client\s*(?:no\.?|#|id)|vat\s*(?:no\.?|id)|ust\.?\s*-?\s*id\.?\s*-?\s*nr\.?)\s*[:.]?\s*[\w./-]*\d[\w./-]*\)?\s*$`)

var reRegSuffix = regexp.MustCompile(`\s*[(\[{]\s*\d[\d\s-]{3,}[A-Z]?\s*[)\]}]?\s*$`)

// blockBelow collects the name and address of a party whose block starts at row ri,
// in the column [x0,x1]: the first name-like segment, then address rows up to and
// including one with a postcode.
func (d *doc) blockBelow(ri int, x0, x1 float64, maxRows int, score float64) (party, bool) {
	p := party{rows: map[int]bool{}}
	page := d.rows[ri].page
	lastY := d.rows[ri].box.Y1
	var addr []string
	addrConf := 1.0
	valX0, valX1 := -1.0, -1.0 // the value column of "Label: value" rows, once seen
	inRange := func(b layout.Box) bool {
		if b.X1 >= x0-d.unit && b.X0 <= x1+6*d.unit {
			return true
		}
		return valX0 >= 0 && b.X1 >= valX0-d.unit && b.X0 <= valX1+d.unit
	}
	skipped := 0 // rows with nothing in the column (another column's lines) do not count
	for k := ri; k < len(d.rows) && k < ri+maxRows+skipped; k++ {
		r := d.rows[k]
		first := -1
		for si, s := range r.segs {
			if inRange(s.box) {
				first = si
				break
			}
		}
		// "Anschrift:" continues a labelled block even after a wider gap.
		gap := 3 * d.unit
		if first >= 0 && reAddrLabel.MatchString(strings.TrimSpace(r.segs[first].text)) {
			gap = 4 * d.unit
		}
		if r.page != page || r.box.Y0-lastY > gap {
			break
		}
		if first < 0 {
			skipped++
			continue
		}
		for si := 0; si < len(r.segs); si++ {
			s := r.segs[si]
			if !inRange(s.box) {
				continue
			}
			t := strings.TrimSpace(s.text)
			isName, isAddr := false, false
			// "Label:" in one segment and its value in the next.
			if isLabelOnly(t) || (si+1 < len(r.segs) && strings.HasPrefix(strings.TrimSpace(r.segs[si+1].text), ":")) {
				if si+1 >= len(r.segs) {
					continue
				}
				switch {
				case nameLabel.MatchString(t):
					isName = true
				case reAddrLabel.MatchString(t):
					isAddr = true
				default:
					// Some other labelled value ("Ansprechpartner:"): skip the row, which
					// still belongs to the block.
					si = len(r.segs)
					if p.name.str != "" {
						lastY = r.box.Y1
					}
					continue
				}
				si++
				s = r.segs[si]
				t = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s.text), ":"))
				valX0, valX1 = s.box.X0, s.box.X1
			}
			if p.name.str == "" {
				switch {
				case isName && isNameLike(t):
					p.name = cand{str: partyName(t), score: score, conf: s.conf(0, len(s.text)), row: k, how: "block"}
				case nameLabel.MatchString(t) && isNameLike(partyName(t)):
					p.name = cand{str: partyName(t), score: score, conf: s.conf(0, len(s.text)), row: k, how: "block"}
				case isAddr || reLabelish.MatchString(t) || !isNameLike(t) || isAttentionLine(t) || isIDLine(t):
					continue
				default:
					p.name = cand{str: partyName(t), score: score * 0.9, conf: s.conf(0, len(s.text)), row: k, how: "block"}
				}
				// The value of "Name:" may start on an unlabelled line just above the label
				// ("MVM Musterhafter" / "Name: Versicherungsverein a.G.").
				if isName && k > ri {
					if above, ok := d.lineAbove(k, s); ok {
						p.name.str = partyName(above) + "\n" + p.name.str
						p.rows[k-1] = true
					}
				}
				// "Herrn" / "Max Mustermann": a salutation line belongs to the name below.
				if reSalutation.MatchString(p.name.str) && k+1 < len(d.rows) {
					for _, ns := range d.rows[k+1].segs {
						if abs(ns.box.X0-s.box.X0) < 2*d.unit && isNameLike(ns.text) {
							p.name.str += "\n" + strings.TrimSpace(ns.text)
							p.rows[k+1] = true
							k++
							break
						}
					}
				}
				// A salutation with no name beside or below it is not the name: look further.
				if reSalutation.MatchString(p.name.str) {
					p.name = cand{}
					continue
				}
				// A name wrapped over two lines goes on in the same column just below.
				lines := strings.Split(p.name.str, "\n")
				for k+1 < len(d.rows) && k+1 < ri+maxRows {
					ns, ok := d.lineBelow(k, s)
					if !ok || !continuesName(lines, ns) {
						break
					}
					lines = append(lines, ns)
					k++
					p.rows[k] = true
				}
				p.name.str = strings.Join(lines, "\n")
				p.rows[k] = true
				lastY = d.rows[k].box.Y1
				break
			}
			if !isAddr && reLabelish.MatchString(t) && !reAddrLabel.MatchString(t) {
				continue
			}
			t = reAddrLabelColon.ReplaceAllString(t, "")
			// A close segment to the right is the rest of the line ("3012 CN", "Rotterdam").
			for si+1 < len(r.segs) && r.segs[si+1].box.X0-r.segs[si].box.X1 < 1.5*d.unit && !hasLabel(r.segs[si+1].text) {
				si++
				t += " " + strings.TrimSpace(r.segs[si].text)
			}
			addr = append(addr, t)
			addrConf = min(addrConf, s.conf(0, len(s.text)))
			p.rows[k] = true
			lastY = r.box.Y1
			if rePostcode.MatchString(t) {
				p.address = cand{str: strings.Join(addr, ", "), score: score, conf: addrConf, row: k, how: "block"}
				return p, true
			}
			break
		}
		if len(addr) >= 4 {
			break
		}
	}
	if p.name.str == "" {
		return p, false
	}
	return p, true
}

var reSalutation = regexp.MustCompile(`(?i)^(herrn?|frau|firma|mr\.?|mrs\.?|ms\.?|m\.|mme\.?|monsieur|madame|sr\.?|sra\.?|sig\.?|sig\.ra|dhr\.?|mevr\.?|de\s+heer|mevrouw)$`)

var (
	reAddrLabel      = regexp.MustCompile(`(?i)^(anschrift|adresse|address|dirección|direccion|indirizzo|adres|straße|strasse|street)\s*:?`)
	reAddrLabelColon = regexp.MustCompile(`(?i)^(anschrift|adresse|address|dirección|direccion|indirizzo|adres)\s*:\s*`)
)

// findParties finds the supplier and the customer.
func (d *doc) findParties(receipt bool) (sup, cus party) {
	// Customer: a labelled block.
	for _, h := range d.findLabels(append(customerSectionLabels, moreCustomerLabels...)) {
		r := d.rows[h.row]
		s := r.segs[h.seg]
		rest, isSection := partySection(s.text[h.b:])
		if !isSection || h.a > 1 && !reHeadingPrefix.MatchString(s.text[:h.a]) {
			continue
		}
		if reCustomerNotSection.MatchString(s.text[h.b:]) {
			continue
		}
		// "Customer: 2", "Kunde: K-4471": a customer number, not the customer's block.
		if rest != "" && (!isNameLike(rest) || isIDLine(rest)) {
			continue
		}
		// "to" alone is too common: only at the start of a segment, followed by a colon.
		lt := strings.ToLower(strings.TrimSpace(s.text[h.a:h.b]))
		if lt == "attn" || lt == "attn." {
			continue // "Attn: Accounts Payable" names a contact, not the customer
		}
		if (lt == "to" || lt == "attn" || lt == "attn.") && !(h.a == 0 && strings.HasPrefix(strings.TrimSpace(s.text[h.b:]), ":")) {
			continue
		}
		x0, x1 := s.span(h.a, h.b)
		if isAttentionLine(rest) {
			rest = "" // "Bill to: Attn. Jane Doe": the party's name is below
		}
		if rest != "" && isNameLike(rest) {
			p, _ := d.blockBelow(h.row, x0, x1+20*d.unit, 5, 0.9)
			p.name = cand{str: wrappedRest(rest, p.name, h.row), score: 0.9, conf: s.conf(h.b, len(s.text)), row: h.row, how: "right"}
			cus = p
		} else if h.row+1 < len(d.rows) {
			if p, ok := d.blockBelow(h.row+1, x0, max(x1, s.box.X1), 6, 0.9); ok {
				cus = p
			}
		}
		if cus.name.str != "" {
			break
		}
	}
	// Supplier: a labelled block.
	for _, h := range d.findLabels(supplierSectionLabels) {
		r := d.rows[h.row]
		s := r.segs[h.seg]
		lt := strings.ToLower(strings.TrimSpace(s.text[h.a:h.b]))
		after := s.text[h.b:]
		if (lt == "from" || lt == "von") && !(h.a == 0 && strings.HasPrefix(strings.TrimSpace(after), ":")) {
			continue
		}
		if reSupplierNotSection.MatchString(after) {
			continue
		}
		rest, isSection := partySection(after)
		if !isSection || h.a > 1 && !reHeadingPrefix.MatchString(s.text[:h.a]) {
			continue
		}
		if rest != "" && (!isNameLike(rest) || isIDLine(rest)) {
			continue
		}
		x0, x1 := s.span(h.a, h.b)
		if isAttentionLine(rest) {
			rest = "" // "Bill to: Attn. Jane Doe": the party's name is below
		}
		if rest != "" && isNameLike(rest) {
			p, _ := d.blockBelow(h.row, x0, x1+20*d.unit, 5, 0.9)
			p.name = cand{str: wrappedRest(rest, p.name, h.row), score: 0.9, conf: s.conf(h.b, len(s.text)), row: h.row, how: "right"}
			sup = p
		} else if h.row+1 < len(d.rows) {
			if p, ok := d.blockBelow(h.row+1, x0, max(x1, s.box.X1), 7, 0.9); ok {
				sup = p
			}
		}
		if sup.name.str != "" {
			break
		}
	}
	sender, senderOK := d.senderLine(cus)
	senderOK = senderOK && d.rules.on(RuleSenderLine)
	if sup.name.str == "" && senderOK {
		sup = sender.party
	}
	if sup.name.str == "" {
		sup = d.companyRow(cus, receipt)
	}
	if sup.name.score < 0.5 {
		if p, ok := d.seatLine(cus); ok {
			sup = p
		}
	}
	if cus.name.str == "" && !receipt && senderOK {
		// The recipient's window lies just below the sender line.
		cus = d.senderWindow(sender, sup)
	}
	if cus.name.str == "" && !receipt {
		weak := sup.name.score < 0.5
		known := sup
		if weak {
			known = party{} // a guess from the top rows must not hide the letterhead block
		}
		blocks, delivery := d.windowBlocks(known)
		switch {
		case len(blocks) >= 2 && weak:
			// Two address blocks and no better sign of the supplier: the upper one is the
			// letterhead, the other the recipient.
			sup, cus = blocks[0], blocks[1]
			sup.name.score, sup.name.how = 0.5, "letterhead"
			sup.address.score = 0.5
		case len(blocks) >= 1 && (!weak || !strings.EqualFold(blocks[0].name.str, sup.name.str)):
			cus = blocks[0]
		case len(delivery) >= 1:
			cus = delivery[0]
		}
	}
	if sup.address.str == "" && sup.name.str != "" {
		// The supplier's address is often repeated in the footer after its name.
		for ri, r := range d.rows {
			if sup.rows[ri] || cus.rows[ri] {
				continue
			}
			for _, s := range r.segs {
				if strings.EqualFold(strings.TrimSpace(s.text), sup.name.str) {
					x0, x1 := s.box.X0, s.box.X1
					if p, ok := d.blockBelow(ri, x0, x1, 5, 0.6); ok && p.address.str != "" {
						sup.address = p.address
					}
				}
			}
			if sup.address.str != "" {
				break
			}
		}
	}
	if sup.address.str == "" && sup.name.str != "" && !receipt {
		if c, ok := d.namelessBlock(sup, cus); ok {
			sup.address = c
		}
	}
	if sup.name.str != "" && sameName(sup.name.str, cus.name.str) {
		// An invoice is not addressed to its sender: the block read as the customer's
		// is the supplier's own name repeated (a sender line or footer the layout rules
		// did not recognise). No customer is better than the wrong one.
		cus = party{}
	}
	return sup, cus
}

// sameName reports whether two party names are the same after case, spacing and
// punctuation are ignored.
func sameName(a, b string) bool {
	norm := func(s string) string {
		return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}), " ")
	}
	na := norm(a)
	return na != "" && na == norm(b)
}

// namelessBlock finds an address block without a name line in the top part of page 1,
// outside the parties' blocks: the supplier's letterhead address printed beside or
// under a logo ("Flugzeugallee 17", "12345 Papierfeld", "Deutschland").
func (d *doc) namelessBlock(sup, cus party) (cand, bool) {
	for ri, r := range d.rows {
		if r.page != 1 || r.box.Y0 > 0.4*d.pageHeight(1) {
			break
		}
		if sup.rows[ri] || cus.rows[ri] {
			continue
		}
		for _, s := range r.segs {
			if !rePostcode.MatchString(s.text) || reSenderSep.MatchString(s.text) || isIDLine(s.text) {
				continue
			}
			lines, rows, conf, heading := d.columnAbove(ri, s, sup)
			if heading != "" || !isAddressLine(lines[0]) || cus.rows[rows[0]] {
				continue
			}
			lines, rows = d.addressBelow(lines, rows, s)
			return cand{str: strings.Join(lines, ", "), score: 0.5, conf: conf, row: rows[len(rows)-1], how: "letterhead"}, true
		}
	}
	return cand{}, false
}

// reNameHeading follows a party label in a heading that announces the name below
// ("Seller trade name", "Customer name:").
var reNameHeading = regexp.MustCompile(`(?i)^\s*(?:trade\s+|legal\s+|company\s+|business\s+|registered\s+)?name\s*:?\s*(.*)$`)

// reLabelWordColon is one or two words between a party label and its colon ("Bill to
// agency:").
var reLabelWordColon = regexp.MustCompile(`^\s*\p{L}+(?:\s+\p{L}+)?\s*:(.*)$`)

// moreCustomerLabels head the customer's block of a credit note.
var moreCustomerLabels = []label{lbl(`credit(?:ed)?\s*to|gutschrift\s*an|avoir\s*(?:à|pour)`, 1, "")}

// partySection is sectionRest that also takes "<party> name" headings and a word or two
// before the colon ("Bill to agency:").
func partySection(after string) (string, bool) {
	if rest, ok := sectionRest(after); ok {
		return rest, true
	}
	if m := reNameHeading.FindStringSubmatch(after); m != nil {
		return sectionRest(":" + m[1])
	}
	if m := reLabelWordColon.FindStringSubmatch(after); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	return "", false
}

// wrappedRest is the name that follows a section label on its row, joined with the
// first name-like line of the block below when that line continues it.
func wrappedRest(rest string, below cand, row int) string {
	name := partyName(rest)
	if below.str != "" && below.row == row+1 && !strings.Contains(below.str, "\n") && continuesName([]string{name}, below.str) {
		return name + "\n" + below.str
	}
	return name
}

// sender is a one-line sender address and where it stands.
type sender struct {
	party
	row    int
	x0, x1 float64
}

// senderLine reads the one-line sender address printed above the recipient in
// European letters: "Name GmbH - Street 1 - 12345 City", in one segment or in several
// joined by separator-only segments ("Name GmbH", "●", "Street 1", "●", ...).
func (d *doc) senderLine(cus party) (sender, bool) {
	for ri, r := range d.rows {
		if r.page != 1 || cus.rows[ri] {
			continue
		}
		for i := 0; i < len(r.segs); i++ {
			s := r.segs[i]
			text, x1, conf := strings.TrimSpace(s.text), s.box.X1, s.conf(0, len(s.text))
			for j := i; j+2 < len(r.segs) && reSenderSepOnly.MatchString(r.segs[j+1].text); j += 2 {
				text += " · " + strings.TrimSpace(r.segs[j+2].text)
				x1 = r.segs[j+2].box.X1
				conf = min(conf, r.segs[j+2].conf(0, len(r.segs[j+2].text)))
			}
			parts := reSenderSep.Split(text, -1)
			lost := false
			if len(parts) < 3 && i == 0 && len(r.segs) >= 2 && len(r.segs) <= 5 {
				// OCR may lose the separators: "Name SARL 12 rue X", "84340 Ville", "France".
				var all []string
				for _, rs := range r.segs {
					if !reSenderSepOnly.MatchString(rs.text) {
						all = append(all, strings.TrimSpace(rs.text))
					}
				}
				parts, x1, lost = reSenderSep.Split(strings.Join(all, " · "), -1), r.segs[len(r.segs)-1].box.X1, true
			}
			if len(parts) < 3 && !lost {
				continue
			}
			first := strings.TrimSpace(parts[0])
			name := cutAtLegalForm(first)
			rest := strings.Join(parts[1:], ", ")
			// "Name SARL 1242 chemin ...": the street after the legal form is the address's.
			if tail := strings.TrimSpace(first[len(name):]); tail != "" && isAddressLine(tail) {
				rest = tail + ", " + rest
			} else if lost {
				continue
			}
			if !isNameLike(name) || !rePostcode.MatchString(rest) {
				continue
			}
			return sender{
				party: party{
					name:    cand{str: name, score: 0.8, conf: s.conf(0, len(name)), row: ri, how: "sender"},
					address: cand{str: rest, score: 0.8, conf: conf, row: ri, how: "sender"},
					rows:    map[int]bool{ri: true},
				},
				row: ri, x0: s.box.X0, x1: x1,
			}, true
		}
	}
	return sender{}, false
}

// reSenderSepOnly is a separator standing alone between the parts of a sender line;
// OCR often reads a small bullet as "e", "o" or "°".
var reSenderSepOnly = regexp.MustCompile(`^\s*[●•·|–—\-eo°*]\s*$`)

// senderWindow reads the recipient's address window below the sender line: the lines
// that start near the sender line's left edge, down to the first postcode line.
func (d *doc) senderWindow(snd sender, sup party) party {
	top := d.rows[snd.row]
	var lines []string
	var rows []int
	conf := 1.0
	found := false
	for k := snd.row + 1; k < len(d.rows) && len(lines) < 7 && !found; k++ {
		r := d.rows[k]
		if r.page != top.page || r.box.Y0-top.box.Y1 > 16*d.unit {
			break
		}
		for _, s := range r.segs {
			if s.box.X0 < snd.x0-4*d.unit || s.box.X0 > snd.x0+6*d.unit || s.box.X0 >= snd.x1 {
				continue
			}
			t := strings.TrimSpace(s.text)
			if isHeading(t) || isLabelOnly(t) {
				return party{}
			}
			if !(isNameLike(t) || isAddressLine(t) || isSalutationLine(t) || isAttentionLine(t)) {
				if len(lines) == 0 {
					break
				}
				return party{}
			}
			lines = append(lines, t)
			rows = append(rows, k)
			conf = min(conf, s.conf(0, len(s.text)))
			found = rePostcode.MatchString(t)
			break
		}
	}
	if !found {
		return party{}
	}
	return d.partyFromLines(lines, rows, conf, 0.75, "window", sup)
}

// partyFromLines makes a party of an unlabelled address block: its name (see blockName)
// and its address from the first address line on.
func (d *doc) partyFromLines(lines []string, rows []int, conf, score float64, how string, sup party) party {
	name, next, ok := blockName(lines)
	if !ok || sup.name.str != "" && strings.EqualFold(name, sup.name.str) {
		return party{}
	}
	p := party{rows: map[int]bool{}}
	for _, k := range rows {
		p.rows[k] = true
	}
	nameRow := rows[max(0, next-1)]
	p.name = cand{str: name, score: score, conf: conf, row: nameRow, how: how}
	for i := next; i < len(lines); i++ {
		if isAddressLine(lines[i]) {
			p.address = cand{str: strings.Join(lines[i:], ", "), score: score, conf: conf, row: rows[len(rows)-1], how: how}
			break
		}
	}
	return p
}

var (
	// reHeadingPrefix lets a party label stand after "Adresse du" ("Adresse du client").
	reHeadingPrefix = regexp.MustCompile(`(?i)^\s*(?:adresse|address|anschrift|coordonn[ée]es|datos|dati|gegevens)\s*(?:du|de\s+la|de\s+l['’]|de|d['’]|des|of\s+the|of|del|della|dello|van\s+de|van)?\s*$`)
	// reDeliveryHeading heads a delivery address block.
	reDeliveryHeading = regexp.MustCompile(`(?i)^(?:lieferadresse|lieferanschrift|liefer(?:ung)?\s*an|warenempfänger|delivery\s*address|deliver\s*to|shipping\s*address|ship\s*to|shipped\s*to|adresse\s*de\s*livraison|livraison|livr[ée]\s*à|afleveradres|leveradres|afleveren\s*aan|dirección\s*de\s*entrega|indirizzo\s*di\s*consegna)\b`)
)

// isHeading reports whether t is a party block heading: a party section label standing
// alone ("Rechnungsempfänger:", "Adresse du client", "Ship to").
func isHeading(t string) bool {
	t = strings.TrimSpace(t)
	if isAttentionLine(t) {
		return false
	}
	if reDeliveryHeading.MatchString(t) {
		return true
	}
	for _, ls := range [][]label{customerSectionLabels, supplierSectionLabels} {
		for _, l := range ls {
			m := l.re.FindStringSubmatchIndex(t)
			if m == nil || m[2] > 1 && !reHeadingPrefix.MatchString(t[:m[2]]) {
				continue
			}
			if _, ok := sectionRest(t[m[3]:]); ok {
				return true
			}
		}
	}
	return false
}

// companyRow picks the first row that names a company (legal form suffix) outside the
// customer's block, or on receipts the first name-like row at the top.
func (d *doc) companyRow(cus party, receipt bool) party {
	top := len(d.rows)
	if receipt {
		top = min(top, 8)
	}
	for ri := 0; ri < top; ri++ {
		r := d.rows[ri]
		if cus.rows[ri] {
			continue
		}
		for si, s := range r.segs {
			t := strings.TrimSpace(s.text)
			x0 := s.box.X0
			if si > 0 && reLegalStart.MatchString(t) && len(strings.Fields(t)) <= 3 {
				// OCR set the legal form apart from the name it ends ("Haustechnik
				// Brandl" "GmbH" in a wide letterhead font): the name is both.
				t = strings.TrimSpace(r.segs[si-1].text) + " " + t
				x0 = r.segs[si-1].box.X0
			}
			if !companySuffix.MatchString(t) || !isNameLike(t) || len(t) > 60 {
				continue
			}
			if cus.name.str != "" && strings.EqualFold(t, cus.name.str) {
				continue
			}
			p, _ := d.blockBelow(ri, x0, s.box.X1, 6, 0.7)
			p.name = cand{str: partyName(t), score: 0.7, conf: s.conf(0, len(s.text)), row: ri, how: "company"}
			return p
		}
	}
	// No legal form: the first name-like line at the top.
	for ri := 0; ri < min(len(d.rows), 6); ri++ {
		if cus.rows[ri] {
			continue
		}
		for _, s := range d.rows[ri].segs {
			t := strings.TrimSpace(s.text)
			if !isNameLike(t) || len([]rune(t)) < 4 || !hasWords(t) || isClearAddressLine(t) || isIDLine(t) || isHeading(t) {
				continue
			}
			p, _ := d.blockBelow(ri, s.box.X0, s.box.X1, 6, 0.45)
			p.name = cand{str: partyName(t), score: 0.45, conf: s.conf(0, len(s.text)), row: ri, how: "top"}
			return p
		}
	}
	return party{}
}

// windowBlocks finds the unlabelled address blocks (name, street, postcode row) in the
// top half of page 1 that are not the supplier's, top down. Blocks under a delivery
// heading are returned apart.
func (d *doc) windowBlocks(sup party) (blocks []party, delivery []party) {
	used := map[int]bool{}
	for ri, r := range d.rows {
		if r.page != 1 {
			break
		}
		if sup.rows[ri] || used[ri] {
			continue
		}
		for _, s := range r.segs {
			if !rePostcode.MatchString(s.text) || reSenderSep.MatchString(s.text) || isIDLine(s.text) {
				continue
			}
			lines, rows, conf, heading := d.columnAbove(ri, s, sup)
			if len(lines) < 2 || used[rows[0]] {
				continue
			}
			lines, rows = d.addressBelow(lines, rows, s)
			p := d.partyFromLines(lines, rows, conf, 0.6, "window", sup)
			if p.name.str == "" {
				continue
			}
			for _, k := range rows {
				used[k] = true
			}
			if reDeliveryHeading.MatchString(heading) {
				delivery = append(delivery, p)
				continue
			}
			blocks = append(blocks, p)
		}
		if r.box.Y0 > 0.5*d.pageHeight(r.page) {
			break
		}
	}
	return blocks, delivery
}

// addressBelow adds to a block the address lines just below its last line in the same
// column ("Fremont CA 94538", "United States" below a street line read as a postcode).
func (d *doc) addressBelow(lines []string, rows []int, s segment) ([]string, []int) {
	for n := 0; n < 2; n++ {
		k := rows[len(rows)-1]
		if k+1 >= len(d.rows) || d.rows[k+1].page != d.rows[k].page || d.rows[k+1].box.Y0-d.rows[k].box.Y1 > 0.8*d.unit {
			break
		}
		t, ok := d.alignedLine(k+1, s)
		if !ok || !isAddressLine(t) || isIDLine(t) {
			break
		}
		lines = append(lines, t)
		rows = append(rows, k+1)
	}
	return lines, rows
}

// columnAbove collects the address block that ends with segment s of row ri: the lines
// above it in the same column, skipping rows that hold nothing in that column, up to a
// gap wider than one and a half lines, a heading (returned), or a line that cannot be
// part of an address block.
func (d *doc) columnAbove(ri int, s segment, sup party) (lines []string, rows []int, conf float64, heading string) {
	lines, rows, conf = []string{strings.TrimSpace(s.text)}, []int{ri}, s.conf(0, len(s.text))
	top := s.box.Y0
	for k := ri - 1; k >= 0 && len(lines) < 7; k-- {
		pr := d.rows[k]
		if pr.page != d.rows[ri].page || sup.rows[k] {
			break
		}
		var ps *segment
		for i := range pr.segs {
			if abs(pr.segs[i].box.X0-s.box.X0) < 2*d.unit {
				ps = &pr.segs[i]
				break
			}
		}
		if ps == nil {
			if top-pr.box.Y1 > 1.5*d.unit {
				break
			}
			continue
		}
		if top-ps.box.Y1 > 1.5*d.unit {
			break
		}
		t := strings.TrimSpace(ps.text)
		if isHeading(t) || isLabelOnly(t) {
			heading = t
			break
		}
		// The supplier's name above a window starts the sender line, not the block.
		if sup.name.str != "" && strings.HasPrefix(strings.ToLower(t), strings.ToLower(sup.name.str)) {
			break
		}
		if reSenderSep.MatchString(t) || !(isNameLike(t) || isAddressLine(t) || isSalutationLine(t) || isAttentionLine(t) || isIDLine(t)) {
			break
		}
		lines = append([]string{t}, lines...)
		rows = append([]int{k}, rows...)
		conf = min(conf, ps.conf(0, len(ps.text)))
		top = ps.box.Y0
	}
	return lines, rows, conf, heading
}

func (d *doc) pageHeight(page int) float64 {
	h := 0.0
	for _, r := range d.rows {
		if r.page == page {
			h = max(h, r.box.Y1)
		}
	}
	return h
}

var reTaxIDToken = regexp.MustCompile(`\b(?:[A-Z]{2}[ .-]?(?:[0-9A-Z][ .-]?){7,13}[0-9A-Z]|\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]|\d{2}-\d{7})\b`)

// findTaxID returns the supplier's tax id: the first recognised VAT id, GSTIN or EIN
// not announced as the customer's and not inside the customer's block; a valid check
// digit and a label raise the score.
func (d *doc) findTaxID(cus party) (cand, bool) {
	var cs []cand
	for ri, r := range d.rows {
		for _, s := range r.segs {
			for _, loc := range reTaxIDToken.FindAllStringIndex(s.text, -1) {
				tok := s.text[loc[0]:loc[1]]
				res, ok := checkTrimmed(tok)
				if !ok {
					continue
				}
				before := s.text[max(0, loc[0]-30):loc[0]]
				if ri > 0 && loc[0] < 3 {
					before = d.rows[ri-1].text + " " + before
				}
				if customerContext.MatchString(before) || cus.rows[ri] {
					continue
				}
				sc := 0.6
				labelled := false
				for _, l := range taxIDLabels {
					if l.re.MatchString(before) {
						labelled = true
					}
				}
				if labelled {
					sc += 0.25
				}
				if res.Kind == validate.KindEIN && !labelled {
					continue
				}
				if res.HasChecksum && res.ChecksumOK {
					sc += 0.1
				}
				// IBAN-looking context is not a tax id.
				if reBankBefore.MatchString(before) {
					continue
				}
				out := tok
				if res.Kind != validate.KindEIN {
					out = res.Normalized
				}
				cs = append(cs, cand{str: out, score: sc, conf: s.conf(loc[0], loc[1]), row: ri, how: "scan"})
			}
		}
	}
	return best(append(cs, d.nationalTaxIDs(cus)...))
}

// checkTrimmed tries tok and shorter space-separated prefixes of it as a tax id.
func checkTrimmed(tok string) (validate.TaxIDResult, bool) {
	parts := strings.Fields(tok)
	for n := len(parts); n >= 1; n-- {
		t := strings.Join(parts[:n], " ")
		res, ok := validate.CheckTaxID(t, "")
		if ok && res.FormatOK {
			return res, true
		}
	}
	return validate.TaxIDResult{}, false
}

var reSlashLabel = regexp.MustCompile(`^\s*/\s*[\p{L}\- ]{2,30}`)

// sectionRest decides whether a section label (what follows it is after) stands alone:
// nothing after it, a colon and a value, or "/alternative:" ("Käufer/Leistungsempfänger:").
// It returns the value after the colon, if any.
func sectionRest(after string) (string, bool) {
	t := strings.TrimSpace(after)
	if loc := reSlashLabel.FindStringIndex(t); loc != nil {
		t = strings.TrimSpace(t[loc[1]:])
	}
	switch {
	case t == "":
		return "", true
	case strings.HasPrefix(t, ":"):
		return strings.TrimSpace(t[1:]), true
	}
	return "", false
}

var reSeat = regexp.MustCompile(`(?i)(siège\s*social|registered\s*office|sitz\s*der\s*gesellschaft|gesellschaftssitz|geschäftssitz|sede\s*(?:legale|sociale)|domicilio\s*social|statutaire\s*zetel)`)

// seatLine reads the supplier from the legal footer: "NAME" on the line before
// "Siège social : ..." / "Registered office: ...", or "NAME - Registered office" on one line.
func (d *doc) seatLine(cus party) (party, bool) {
	for ri, r := range d.rows {
		t := rowPlain(r)
		loc := reSeat.FindStringIndex(t)
		if loc == nil {
			continue
		}
		before := strings.Trim(strings.TrimSpace(t[:loc[0]]), "-–—,;:| ")
		name := ""
		if before != "" && isNameLike(before) && len(strings.Fields(before)) <= 6 {
			name = before
		} else if ri > 0 && !cus.rows[ri-1] {
			prev := rowPlain(d.rows[ri-1])
			if isNameLike(prev) && len(strings.Fields(prev)) <= 5 && !strings.ContainsAny(prev, "0123456789") {
				name = prev
			}
		}
		if name == "" {
			continue
		}
		addr := strings.Trim(strings.TrimSpace(t[loc[1]:]), ":-–— ")
		p := party{name: cand{str: name, score: 0.6, conf: rowConf(r), row: ri, how: "seat"}, rows: map[int]bool{ri: true}}
		if rePostcode.MatchString(addr) {
			p.address = cand{str: addr, score: 0.6, conf: rowConf(r), row: ri, how: "seat"}
		}
		return p, true
	}
	return party{}, false
}
