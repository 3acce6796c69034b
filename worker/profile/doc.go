// Package profile learns supplier profiles: from one document whose true data is known
// (a corrected or approved job, or an e-invoice, whose XML is exact), how to find each
// header field on the same supplier's later documents, and applies what it learned to
// them (Learn, Apply); Keys reads what a profile is looked up by.
//
// A profile is a set of Rules, one per field path. A party field (the supplier's name,
// address and ids, the customer, the bank account, the currency, the payment terms) is
// learned as its value, and used on a later document that prints it. A document field
// (the invoice number, dates, amounts, the order reference, the service period) is
// learned per layout of the supplier's documents (a Fingerprint of the first page; at
// most MaxLayouts of them) as where it was printed: the label before it on its row or
// above it, the words between, its page-relative box, the shape of a code's value
// (letters and punctuation kept, digit runs generalised), whether an amount had a
// decimal part and a numeric date's printed form. A later document of another layout
// gets the party fields only.
//
// Rules decay: a field a profile supplied that a later truth contradicts loses
// confidence, and is dropped below Floor until a truth relearns it; the same truth
// relearns the field, so a profile poisoned by a wrong correction is fixed by the next
// correction. Rules confirmed by later truths gain confidence.
//
// Line items and the tax breakdown are not learned: the generic rules keep them.
package profile
