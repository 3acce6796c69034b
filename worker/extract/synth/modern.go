package synth

import (
	"fmt"
	"strings"
)

// modernLayout is an English-style invoice: the supplier top left, a large title and a
// label/value block top right, "Bill To" and "Ship To"/service columns, a table with a
// shaded header bar and the totals under it on the right.
func modernLayout(d *doc) *PDF {
	pdf, p := d.firstPage()
	W := p.W
	L, R := 50.0, W-50
	s := d.supplier

	y := 60.0
	for _, n := range s.name {
		p.Text(L, y, d.bold, 13, n)
		y += 15
	}
	for _, l := range []string{s.street, s.cityLine(), s.foreign} {
		if l != "" {
			p.Text(L, y, d.font, 9, l)
			y += 11
		}
	}
	if s.phone != "" {
		p.Text(L, y, d.font, 9, d.w("phone")+": "+s.phone)
		y += 11
	}
	if s.email != "" {
		p.Text(L, y, d.font, 9, s.email)
		y += 11
	}
	if s.taxID != "" {
		p.Text(L, y, d.font, 9, d.w("vatID")+": "+s.taxID)
		y += 11
	}
	leftEnd := y

	p.TextRight(R, 66, d.bold, 24, strings.ToUpper(d.title))
	type kv struct{ k, v string }
	numLabel := d.numberLabel
	if numLabel == "" {
		numLabel = d.w("number")
		if d.credit {
			numLabel = d.w("creditNumber")
		}
	}
	info := []kv{{numLabel, d.number}, {d.w("date"), d.dt(d.date)}}
	if !d.due.IsZero() {
		info = append(info, kv{d.w("due"), d.dt(d.due)})
	}
	if d.po != "" {
		info = append(info, kv{d.w("po"), d.po})
	}
	for _, r := range d.refs {
		info = append(info, kv{r.label, r.value})
	}
	if d.terms != "" {
		info = append(info, kv{"Terms", d.terms})
	}
	y = 90
	for _, e := range info {
		p.TextRight(R-110, y, d.bold, 9, e.k+":")
		p.TextRight(R, y, d.font, 9, e.v)
		y += 12
	}
	y = max(y, leftEnd) + 22

	// Bill To and, beside it, the period or a ship-to copy of the address.
	billTo := "BILL TO"
	if d.credit {
		billTo = "CREDIT TO"
	}
	p.Rect(L, y-10, 230, 14, 0.88, 0)
	p.Text(L+4, y, d.bold, 9, billTo)
	mid := L + 270
	if !d.period[0].IsZero() {
		p.Rect(mid, y-10, R-mid, 14, 0.88, 0)
		lbl := d.periodLabel
		if lbl == "" {
			lbl = strings.ToUpper(d.w("period"))
		}
		p.Text(mid+4, y, d.bold, 9, lbl)
		p.Text(mid+4, y+15, d.font, 9.5, d.dt(d.period[0])+" - "+d.dt(d.period[1]))
	}
	y += 15
	c := d.customer
	var addr []string
	addr = append(addr, c.pre...)
	addr = append(addr, c.name...)
	addr = append(addr, c.post...)
	addr = append(addr, c.street, c.cityLine())
	if c.foreign != "" {
		addr = append(addr, c.foreign)
	}
	if d.custNo != "" {
		addr = append(addr, d.w("custNo")+" "+d.custNo)
	}
	if d.custVAT != "" {
		addr = append(addr, d.w("custVAT")+": "+d.custVAT)
	}
	for _, l := range addr {
		p.Text(L+4, y, d.font, 9.5, l)
		y += 12
	}
	y += 20
	y = d.writePreface(p, L, y, 9.5, 12)

	pages := d.pageCount()
	footer := func(pg *Page, n int) {
		pg.Line(L, pg.H-50, R, pg.H-50, 0.4)
		if d.iban != "" {
			pg.Text(L, pg.H-38, d.font, 7.5, s.fullName()+" · IBAN "+spaced(d.iban)+" · BIC "+d.bic)
		} else {
			pg.Text(L, pg.H-38, d.font, 7.5, s.fullName()+" · "+s.street+" · "+s.cityLine())
		}
		if pages > 1 {
			pg.TextRight(R, pg.H-38, d.font, 7.5, fmt.Sprintf(d.w("page"), n, pages))
		}
	}
	cont := func(pg *Page) float64 {
		pg.Text(L, 50, d.font, 9, s.fullName()+" — "+d.title+" "+d.number+" (continued)")
		return 80
	}
	vat := !d.noTax && len(d.breakdown()) > 1
	t := &table{cols: []col{{d.w("desc"), L + 4, false}, {d.w("qty"), R - 200, true}, {d.w("price"), R - 100, true}, {d.w("amount"), R - 4, true}}}
	t.cells = func(i int, it item) []string {
		return []string{it.desc, d.ms.qty(it.qty), d.m(it.price), d.m(it.amount())}
	}
	if vat {
		t.cols = []col{{d.w("desc"), L + 4, false}, {d.w("qty"), R - 230, true}, {d.w("price"), R - 145, true}, {d.w("vat"), R - 95, true}, {d.w("amount"), R - 4, true}}
		t.cells = func(i int, it item) []string {
			return []string{it.desc, d.ms.qty(it.qty), d.m(it.price), d.ms.rate(it.rate) + "%", d.m(it.amount())}
		}
	}
	t.header = func(t *table) {
		t.page.Rect(L, t.y-11, R-L, 16, 0.25, 0)
		// White text on the dark bar: drawn as text with a white fill.
		fmt.Fprintf(&t.page.ops, "1 g\n")
		for _, c := range t.cols {
			if c.right {
				t.page.TextRight(c.x, t.y, d.bold, t.size, strings.ToUpper(c.title))
			} else {
				t.page.Text(c.x, t.y, d.bold, t.size, strings.ToUpper(c.title))
			}
		}
		fmt.Fprintf(&t.page.ops, "0 g\n")
		t.y += t.lead + 6
	}
	t.d, t.pdf, t.page, t.size, t.lead, t.y = d, pdf, p, 9, 14, y
	t.x0, t.x1, t.pages, t.footer, t.cont = L, R, pages, footer, cont
	t.run()
	p, y = t.page, t.y+6

	lx := R - 210
	line := func(label, value string, f Font) {
		p.Text(lx, y, f, 10, label)
		p.TextRight(R-4, y, f, 10, value)
		y += 15
	}
	if !d.noTax {
		line(d.w("subtotal"), d.mc(d.subtotal()), d.font)
		for _, b := range d.breakdown() {
			lbl := fmt.Sprintf(d.w("taxOn"), d.ms.rate(b.rate), d.m(b.base))
			if d.lang == "en" && d.sym == "$" {
				lbl = fmt.Sprintf("Sales Tax (%s%%)", d.ms.rate(b.rate))
			}
			line(lbl, d.mc(b.amount), d.font)
		}
	}
	totalLabel := d.w("total")
	if d.credit {
		totalLabel = d.w("creditTotal")
	}
	p.Line(lx, y-11, R, y-11, 0.6)
	line(totalLabel, d.mc(d.total()), d.bold)
	if d.prepaid != 0 {
		line(d.w("prepaid"), "("+d.mc(d.prepaid)+")", d.font)
		p.Rect(lx-4, y-12, R-lx+4, 17, 0.9, 0)
		line(strings.ToUpper(d.w("due2")), d.mc(d.amountDue()), d.bold)
	}
	y += 14
	for _, l := range d.extra {
		p.Text(L, y, d.font, 9, l)
		y += 12
	}
	if d.credit {
		p.Text(L, y, d.font, 9, d.w("creditPay"))
		y += 12
	}
	p.Text(L, y, d.font, 9, d.w("thanks"))
	footer(p, pages)
	return pdf
}
