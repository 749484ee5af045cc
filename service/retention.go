package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/inventorybeacon/beacon/storage"
	"github.com/inventorybeacon/beacon/storage/inventory"
)

// The licence history's retention (issue 18): how many months of history
// every connection keeps, 0 for ever (the default). The setting lives in
// the configuration (storage.Config.HistoryMonths); each import applies it
// to its connection, and setting it applies it at once to every history,
// removed connections' kept ones included. Shortening it deletes days, so
// the window and the CLI say what it would delete before they set it.

// MaxHistoryMonths bounds the retention one can set: a hundred years.
const MaxHistoryMonths = 1200

// RetentionForever is how the window and the CLI name a retention of 0.
const RetentionForever = "forever"

// ParseHistoryMonths reads a retention as typed: "forever" (or 0), or a
// whole number of months ("24", "24 months").
func ParseHistoryMonths(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == RetentionForever || t == "0" {
		return 0, nil
	}
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(t, "months"), "month"))
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > MaxHistoryMonths {
		return 0, fmt.Errorf("keep the licence history for %q? Type a whole number of months from 1 to %d, or %s", s, MaxHistoryMonths,
			RetentionForever)
	}
	return n, nil
}

// RetentionText says a retention in words: "forever", "1 month", "24
// months".
func RetentionText(months int) string {
	switch months {
	case 0:
		return RetentionForever
	case 1:
		return "1 month"
	}
	return strconv.Itoa(months) + " months"
}

// KeepFor says how long a retention keeps the history, to follow "keep
// the licence history": "forever", "for 24 months".
func KeepFor(months int) string {
	if months == 0 {
		return RetentionForever
	}
	return "for " + RetentionText(months)
}

// HistoryCutoff is the first day a retention of months keeps on the day of
// now, as an import applies it: the days before it are deleted. Zero for
// a retention of 0 (nothing is deleted).
func HistoryCutoff(now time.Time, months int) time.Time {
	if months <= 0 {
		return time.Time{}
	}
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, -months, 0)
}

// RetentionCut is what a retention deletes of one connection's history.
type RetentionCut struct {
	ConnectionID string
	// Name is the connection's, or "" for a removed connection whose
	// history was kept.
	Name string
	// Days are the days of history deleted, from First to Last.
	Days        int
	First, Last time.Time
}

// RetentionPlan is what setting a retention deletes, as of a day.
type RetentionPlan struct {
	Months int
	// Before is the first day kept (zero: everything is kept).
	Before time.Time
	// Cuts are the histories it shortens, the configuration's
	// connections first.
	Cuts []RetentionCut
}

// Days counts the days of history the plan deletes, over all
// connections.
func (p RetentionPlan) Days() int {
	n := 0
	for _, c := range p.Cuts {
		n += c.Days
	}
	return n
}

// Describe says what the plan deletes, for the confirmation.
func (p RetentionPlan) Describe() string {
	if p.Days() == 0 {
		return "No licence history is older than " + RetentionText(p.Months) + ": nothing is deleted."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "This deletes %s of licence history older than %s", plural(p.Days(), "day"), p.Before.Format(time.DateOnly))
	if len(p.Cuts) > 1 {
		b.WriteString(" (")
		for i, c := range p.Cuts {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", c.label(), plural(c.Days, "day"))
		}
		b.WriteString(")")
	} else {
		fmt.Fprintf(&b, " from %s", p.Cuts[0].label())
	}
	b.WriteString(". Deleted days cannot be brought back; the trends and `beacon history` will start on " + p.Before.Format(time.DateOnly) + ".")
	return b.String()
}

func (c RetentionCut) label() string {
	if c.Name == "" {
		return "a removed connection"
	}
	return c.Name
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// PlanRetention works out what a retention of months deletes on the day
// of now from the histories of store (nil: there is no database yet, so
// no history): every connection's of cfg, and the kept histories of
// removed ones.
func PlanRetention(ctx context.Context, store *inventory.Store, cfg *storage.Config, months int, now time.Time) (RetentionPlan, error) {
	p := RetentionPlan{Months: months, Before: HistoryCutoff(now, months)}
	if months == 0 || store == nil {
		return p, nil
	}
	ids, err := store.HistoryConnections(ctx)
	if err != nil {
		return p, err
	}
	names := map[string]string{}
	var order []string
	for _, c := range cfg.Connections {
		names[c.ID] = c.Name
		order = append(order, c.ID)
	}
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			order = append(order, id)
		}
	}
	for _, id := range order {
		old, err := store.HistoryTenants(ctx, id, inventory.HistoryQuery{Until: p.Before.AddDate(0, 0, -1)})
		if err != nil {
			return p, err
		}
		if len(old) > 0 {
			p.Cuts = append(p.Cuts, RetentionCut{ConnectionID: id, Name: names[id], Days: len(old), First: old[0].Day, Last: old[len(old)-1].Day})
		}
	}
	return p, nil
}

// SetRetention saves a retention of months in the configuration of cs,
// then deletes at once what plan (from PlanRetention, for the same
// months) said it would: the administrator confirmed those days. An
// import applies the retention again, so a deletion that fails here is
// made by the next import of that connection.
func SetRetention(ctx context.Context, cs *storage.ConfigStore, store *inventory.Store, plan RetentionPlan) error {
	if plan.Months < 0 || plan.Months > MaxHistoryMonths {
		return fmt.Errorf("a retention of %d months is out of range (0 to %d)", plan.Months, MaxHistoryMonths)
	}
	if store == nil && len(plan.Cuts) > 0 {
		return errors.New("the database of imported data is not open")
	}
	if err := cs.Update(func(cfg *storage.Config) error {
		cfg.HistoryMonths = plan.Months
		return nil
	}); err != nil {
		return err
	}
	for _, c := range plan.Cuts {
		if err := store.PruneHistory(ctx, c.ConnectionID, plan.Before); err != nil {
			return fmt.Errorf("the retention is saved, but the history of %s was not shortened (the next import does it): %w", c.label(), err)
		}
	}
	return nil
}
