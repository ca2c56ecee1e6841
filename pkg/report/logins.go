package report

import (
	"context"
	"fmt"
	"math"

	"github.com/mailtrail/mailtrail/pkg/journal"
	"github.com/mailtrail/mailtrail/pkg/query"
)

// LoginRow is a row of the login history (query.Logins, the same rows
// as the API's /api/v1/logins) with what enrichment adds.
type LoginRow struct {
	query.Login
	ASN    uint   `json:"asn,omitempty"`
	ASOrg  string `json:"as_org,omitempty"`
	Listed bool   `json:"listed,omitempty"`
}

// BuildLogins is the login history of the range: every row, most recently
// seen first. Domain keeps the users of that domain.
func BuildLogins(ctx context.Context, j *journal.Journal, o Options) ([]LoginRow, error) {
	req := query.LoginRequest{Since: o.Since, Until: o.Until, User: o.User, Limit: math.MaxInt}
	if o.Enricher.HasGeoIP() {
		req.Enricher = o.Enricher
	}
	if o.Domain != "" {
		req.Access.Tenants = []string{o.Domain}
	}
	ls, err := query.Logins(ctx, j, req)
	if err != nil {
		return nil, err
	}
	out := make([]LoginRow, len(ls))
	for i, l := range ls {
		out[i].Login = l
		out[i].ASN, out[i].ASOrg = o.Enricher.ASN(l.ClientIP)
		out[i].Listed = o.Enricher.Listed(l.ClientIP)
	}
	return out, nil
}

// LoginsDoc renders the login history.
func LoginsDoc(ls []LoginRow, params []Param) *Doc {
	t := Table{
		Title:   "Login history",
		Columns: cols("user", "client", "country", "as", "service", "outcome", "#count", "first seen", "last seen", "tls"),
		Empty:   "No logins or authentication failures in this range.",
	}
	var ok, failed int
	for _, l := range ls {
		as := ""
		if l.ASN != 0 {
			as = fmt.Sprintf("AS%d %s", l.ASN, l.ASOrg)
		}
		tls := "no"
		if l.TLS {
			tls = "yes"
		}
		t.add(l.Listed, l.User, l.ClientIP, l.Country, as, l.Service, l.Outcome, itoa(l.Count), fmtTime(l.FirstSeen), fmtTime(l.LastSeen), tls)
		if l.Outcome == query.OutcomeSuccess {
			ok += l.Count
		} else {
			failed += l.Count
		}
	}
	params = append(params, Param{"Logins", fmt.Sprintf("%d successful, %d failed, in %d rows", ok, failed, len(ls))})
	return &Doc{Kind: "logins", Title: "Login history", Params: params, Tables: []Table{t}, Data: ls}
}
