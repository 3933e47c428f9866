package webhook

// List returns one page of a webhook's deliveries, newest first, filtered by
// f. An unknown webhook has an empty log. A StartAfter cursor that names no
// delivery in the log (never issued, or dropped since) yields an empty page,
// so that a client paging through the log ends instead of starting over.
func (d *Dispatcher) List(webhookID string, f Filter) Page {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	log, ok := d.logs[webhookID]
	if !ok {
		return Page{Deliveries: []Delivery{}}
	}

	start := len(log.records) - 1
	if f.StartAfter != "" {
		start = cursorIndex(log.records, f.StartAfter) - 1
	}

	page := Page{Deliveries: []Delivery{}}
	for i := start; i >= 0; i-- {
		rec := log.records[i]
		if !f.matches(&rec.d) {
			continue
		}
		if len(page.Deliveries) == limit {
			page.HasMore = true
			page.NextCursor = page.Deliveries[limit-1].ID
			break
		}
		page.Deliveries = append(page.Deliveries, rec.d.clone())
	}
	return page
}

// cursorIndex returns the index of the record with the given ID, or -1.
func cursorIndex(records []*record, id string) int {
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].d.ID == id {
			return i
		}
	}
	return -1
}

// matches reports whether del passes every filter that is set.
func (f Filter) matches(del *Delivery) bool {
	if f.Status != "" && del.Status != f.Status {
		return false
	}
	if f.EventType != "" && del.EventType != f.EventType {
		return false
	}
	if !f.CreatedAfter.IsZero() && del.CreatedAt.Before(f.CreatedAfter) {
		return false
	}
	if !f.CreatedBefore.IsZero() && del.CreatedAt.After(f.CreatedBefore) {
		return false
	}
	return true
}
